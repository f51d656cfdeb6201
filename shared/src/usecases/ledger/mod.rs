//! The ledger: transactions recorded exactly once, refunds applied once each (before or after
//! their transaction), and the rewards they settle.

pub mod api_transactions;
pub mod customer_refunds;
pub mod disputes;
pub mod imports;
pub mod refunds;
pub mod transactions;
