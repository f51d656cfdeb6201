//! Refunds: how much one takes back, applied to a transaction so that a repeat counts once.

use crate::domain::time::Millis;
use crate::domain::transaction::{Transaction, TransactionStatus};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// How much a refund takes back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RefundSpec {
    /// All of it.
    Full,
    /// The total refunded so far (Stripe's cumulative `amount_refunded`).
    Total { amount: Decimal },
    /// One refund of several, with its own id (Chargebee and Chargify refund transactions).
    Part { id: String, amount: Decimal },
}

impl RefundSpec {
    /// Distinguishes refunds kept before their transaction arrives.
    pub fn pending_id(&self) -> String {
        match self {
            Self::Full => "full".into(),
            Self::Total { amount } => format!("total#{amount}"),
            Self::Part { id, .. } => format!("part#{id}"),
        }
    }

    /// Applies the refund to a transaction at `now`; false when it was applied before.
    pub fn apply(&self, tx: &mut Transaction, now: Millis) -> bool {
        let gross = tx.amounts.gross;
        let refunded = match self {
            Self::Full => gross,
            Self::Total { amount } => (*amount).min(gross),
            Self::Part { id, amount } => {
                if tx.refund_ids.contains(id) {
                    return false;
                }
                tx.refund_ids.push(id.clone());
                // Past `Decimal`'s range the sum is more than the gross anyway.
                tx.amounts
                    .refunded
                    .checked_add(*amount)
                    .map_or(gross, |sum| sum.min(gross))
            }
        };
        if refunded <= tx.amounts.refunded && !matches!(self, Self::Part { .. }) {
            return false;
        }
        tx.amounts.refunded = tx.amounts.refunded.max(refunded);
        if tx.amounts.refunded >= gross {
            tx.status = TransactionStatus::Refunded;
            tx.refunded_at = Some(now);
        }
        true
    }
}

/// A refund that names only its customer and amount (Recurly), kept until a payment it fits
/// arrives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerRefund {
    pub source: String,
    pub refund_id: String,
    pub amount: Decimal,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::money::Currency;
    use crate::domain::transaction::{Amounts, Product};

    fn tx(gross: i64) -> Transaction {
        Transaction {
            key: "t".into(),
            source: "test".into(),
            customer_key: None,
            partner_ref: None,
            by_customer: false,
            partner_key: None,
            status: TransactionStatus::Commissioned,
            unassigned_reason: None,
            amounts: Amounts::new(Currency::parse("USD").unwrap(), Decimal::new(gross, 2)),
            product: Product::default(),
            campaign_slug: None,
            is_recurring: false,
            recurring_number: None,
            transaction_date: None,
            fingerprint: String::new(),
            created_at: 0,
            updated_at: 0,
            refunded_at: None,
            refund_ids: vec![],
        }
    }

    #[test]
    fn cumulative_totals_apply_once_and_only_grow() {
        let mut t = tx(4900);
        assert!(RefundSpec::Total {
            amount: Decimal::new(1900, 2)
        }
        .apply(&mut t, 1));
        assert!(!RefundSpec::Total {
            amount: Decimal::new(1900, 2)
        }
        .apply(&mut t, 1));
        assert!(
            !RefundSpec::Total {
                amount: Decimal::new(900, 2)
            }
            .apply(&mut t, 1),
            "an older total arriving late changes nothing"
        );
        assert_eq!(t.status, TransactionStatus::Commissioned);
        assert!(RefundSpec::Total {
            amount: Decimal::new(4900, 2)
        }
        .apply(&mut t, 1));
        assert_eq!(t.status, TransactionStatus::Refunded);
    }

    #[test]
    fn partial_refunds_count_once_each_and_add_up() {
        let mut t = tx(1395);
        let part = |id: &str, cents| RefundSpec::Part {
            id: id.into(),
            amount: Decimal::new(cents, 2),
        };
        assert!(part("r1", 395).apply(&mut t, 1));
        assert!(!part("r1", 395).apply(&mut t, 1));
        assert_eq!(t.amounts.refunded, Decimal::new(395, 2));
        assert!(part("r2", 1000).apply(&mut t, 1));
        assert_eq!(t.status, TransactionStatus::Refunded);
        let mut full = tx(100);
        assert!(RefundSpec::Full.apply(&mut full, 1));
        assert_eq!(full.amounts.refunded, Decimal::new(100, 2));
    }

    proptest::proptest! {
        #[test]
        fn no_refund_of_any_size_panics(gross_parts: (u32, u32, u32), refunded_parts: (u32, u32, u32), amount_parts: (u32, u32, u32), scale in 0u32..=28) {
            let dec = |(lo, mid, hi): (u32, u32, u32)| Decimal::from_parts(lo, mid, hi, false, scale);
            let mut t = tx(0);
            t.amounts.gross = dec(gross_parts);
            t.amounts.refunded = dec(refunded_parts);
            for spec in [
                RefundSpec::Full,
                RefundSpec::Total { amount: dec(amount_parts) },
                RefundSpec::Part { id: "a".into(), amount: dec(amount_parts) },
            ] {
                spec.apply(&mut t, 1);
                proptest::prop_assert!(t.amounts.refunded <= t.amounts.gross.max(dec(refunded_parts)));
            }
            let _ = t.amounts.commissionable();
        }
    }
}
