//! A payment's dispute (chargeback): what its opening and its close ask of the ledger.
//!
//! Opened, it holds the payment's unpaid rewards under a reason naming it; won, it releases
//! those holds (and no other); lost, the disputed amount counts as a refund keyed by the
//! dispute, so a repeat takes it once, and then its holds are released too.
//!
//! A close is written as that refund (of nothing, when won) before its holds are released, so
//! it is on the transaction's record whatever came first (kept like any refund until the
//! payment arrives); an opening looks for it after it holds, so an opening delivered after its
//! close (a retry, a reordering) leaves nothing held.

use crate::domain::refund::{RefundAmount, RefundSpec};
use crate::domain::transaction::Transaction;
use rust_decimal::Decimal;

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

/// A dispute's close as a refund, applied once per dispute: the disputed amount when lost,
/// nothing when won.
pub fn closing_refund(dispute_id: &str, change: &DisputeChange) -> Option<RefundSpec> {
    let amount = match change {
        DisputeChange::Opened => return None,
        DisputeChange::Won => RefundAmount::Exact(Decimal::ZERO),
        DisputeChange::Lost { amount } => amount.clone(),
    };
    Some(RefundSpec::Part {
        id: refund_id(dispute_id),
        amount,
    })
}

fn refund_id(dispute_id: &str) -> String {
    format!("dispute#{dispute_id}")
}

/// The dispute closed on this transaction (its closing refund is applied).
pub fn closed(tx: &Transaction, dispute_id: &str) -> bool {
    tx.refund_ids.contains(&refund_id(dispute_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::refund::RefundSpec;

    #[test]
    fn a_close_is_a_refund_keyed_by_the_dispute() {
        assert_eq!(closing_refund("dp_1", &DisputeChange::Opened), None);
        let won = closing_refund("dp_1", &DisputeChange::Won);
        assert_eq!(
            won,
            Some(RefundSpec::Part {
                id: "dispute#dp_1".into(),
                amount: RefundAmount::Exact(Decimal::ZERO)
            })
        );
        let lost = DisputeChange::Lost {
            amount: RefundAmount::Exact(Decimal::new(1900, 2)),
        };
        let Some(RefundSpec::Part { id, amount }) = closing_refund("dp_1", &lost) else {
            panic!("a part")
        };
        assert_eq!(
            (id.as_str(), amount),
            ("dispute#dp_1", Decimal::new(1900, 2).into())
        );
    }
}
