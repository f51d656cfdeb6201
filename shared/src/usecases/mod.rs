//! The use cases: what Partnerhook does with a request or a job, over the repository and the
//! queue. Lower groups first: postbacks are emitted by all, the ledger records money, customers
//! build on the ledger, commissions on both; sales and the sweeper sit on top.

pub mod actions;
pub mod admin_keys;
pub mod commission;
pub mod customers;
pub mod groups;
pub mod ledger;
pub mod partners;
pub mod payouts;
pub mod postbacks;
pub mod programs;
pub mod rewards;
pub mod sales;
pub mod sweeper;
