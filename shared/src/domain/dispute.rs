//! A payment's dispute (chargeback): what its opening and its close ask of the ledger.
//!
//! Opened, it holds the payment's unpaid rewards under a reason naming it; won, it releases
//! those holds (and no other); lost, the disputed amount counts as a refund keyed by the
//! dispute, so a repeat takes it once, and then its holds are released too. A close is noted
//! on the transaction first, and an opening looks for it after its holds, so an opening
//! delivered after its close (a retry, a reordering) leaves nothing held.

use crate::domain::refund::{RefundAmount, RefundSpec};
use crate::domain::transaction::Transaction;

#[derive(Debug, Clone, PartialEq)]
pub enum DisputeChange {
    Opened,
    Won,
    Lost { amount: RefundAmount },
}

/// The reason on the rewards a dispute holds: it releases only holds carrying it.
pub fn hold_reason(dispute_id: &str) -> String {
    format!("dispute {dispute_id} is open")
}

/// A lost dispute as a refund of the disputed amount, applied once per dispute.
pub fn lost_refund(dispute_id: &str, amount: RefundAmount) -> RefundSpec {
    RefundSpec::Part {
        id: format!("dispute#{dispute_id}"),
        amount,
    }
}

/// Notes on the transaction that the dispute closed; false when it was noted before.
pub fn close(tx: &mut Transaction, dispute_id: &str) -> bool {
    if closed(tx, dispute_id) {
        return false;
    }
    tx.closed_disputes.push(dispute_id.to_string());
    true
}

pub fn closed(tx: &Transaction, dispute_id: &str) -> bool {
    tx.closed_disputes.iter().any(|id| id == dispute_id)
}
