//! Refunds: how much one takes back, applied to a transaction so that a repeat counts once.
//!
//! A refund's amount is in the currency of the payment it refunds. When the refund names no
//! currency (Chargify's `refund_success`, Recurly XML without `<currency>`), its integer amount
//! is kept as the provider wrote it and read once the payment, and so its currency, is known.

use crate::domain::minor_units::MinorUnits;
use crate::domain::money::Currency;
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
    Part { id: String, amount: RefundAmount },
    /// A refund counted before that failed (Stripe's `refund.failed`): what it took is given
    /// back once, keyed by its id.
    Failed { id: String, amount: RefundAmount },
}

/// A refund's amount, in the currency of the payment it refunds. Stored records hold a bare
/// decimal (`"3.95"`), which still reads as `Exact`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RefundAmount {
    /// A decimal: the refund named its currency, or the sender wrote the amount out.
    Exact(Decimal),
    /// An integer as the provider wrote it, in a currency the refund does not name: read by
    /// the provider's table in the payment's currency. Checked by `minor_units::check_minor`
    /// before it is kept.
    Minor { minor: i64, units: MinorUnits },
}

impl RefundAmount {
    /// The amount in the payment's `currency`, held to its minor unit; `None` for an integer
    /// that fits no amount (refused before it is kept, so only a corrupt record has one).
    pub fn in_currency(&self, currency: Currency) -> Option<Decimal> {
        match self {
            Self::Exact(amount) => Some(currency.round(*amount)),
            Self::Minor { minor, units } => units.amount(*minor, currency).ok(),
        }
    }
}

impl From<Decimal> for RefundAmount {
    fn from(amount: Decimal) -> Self {
        Self::Exact(amount)
    }
}

impl RefundSpec {
    /// Distinguishes refunds kept before their transaction arrives.
    pub fn pending_id(&self) -> String {
        match self {
            Self::Full => "full".into(),
            Self::Total { amount } => format!("total#{amount}"),
            Self::Part { id, .. } => format!("part#{id}"),
            Self::Failed { id, .. } => format!("failed#{id}"),
        }
    }

    /// It gives back rather than takes: it applies to a refunded transaction too, and after
    /// the refunds kept with it.
    pub fn gives_back(&self) -> bool {
        matches!(self, Self::Failed { .. })
    }

    /// Applies the refund to a transaction at `now`; false when it was applied before.
    pub fn apply(&self, tx: &mut Transaction, now: Millis) -> bool {
        let gross = tx.amounts.gross;
        let refunded = match self {
            Self::Failed { id, amount } => return give_back(tx, id, amount),
            Self::Full => gross,
            Self::Total { amount } => (*amount).min(gross),
            Self::Part { id, amount } => {
                if tx.refund_ids.contains(id) {
                    return false;
                }
                let Some(amount) = amount.in_currency(tx.amounts.currency) else {
                    return false;
                };
                tx.refund_ids.push(id.clone());
                // Past `Decimal`'s range the sum is more than the gross anyway.
                tx.amounts
                    .refunded
                    .checked_add(amount)
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

/// Undoes a failed refund's effect once: the refunded amount drops by what it took, and a
/// transaction it had refunded in full counts again, in the status it had before.
fn give_back(tx: &mut Transaction, id: &str, amount: &RefundAmount) -> bool {
    let mark = format!("failed#{id}");
    if tx.refund_ids.contains(&mark) {
        return false;
    }
    let Some(amount) = amount.in_currency(tx.amounts.currency) else {
        return false;
    };
    tx.refund_ids.push(mark);
    tx.amounts.refunded = tx
        .amounts
        .refunded
        .checked_sub(amount)
        .map_or(Decimal::ZERO, |left| left.max(Decimal::ZERO));
    if tx.status == TransactionStatus::Refunded && tx.amounts.refunded < tx.amounts.gross {
        tx.status = tx.status_before_refund();
        tx.refunded_at = None;
    }
    true
}

/// A refund that names only its customer and amount (Recurly), kept until a payment it fits
/// arrives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerRefund {
    pub source: String,
    pub refund_id: String,
    pub amount: RefundAmount,
}

/// The sources whose refunds may name only their customer. A payment from any other source has
/// no refund kept under its customer (a kept refund fits payments of its own source alone), so
/// recording it need not read them.
const REFUNDING_BY_CUSTOMER: &[&str] = &["recurly"];

pub fn refunds_by_customer(source: &str) -> bool {
    REFUNDING_BY_CUSTOMER.contains(&source)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::money::Currency;
    use crate::domain::transaction::{Amounts, Product};

    fn tx(gross: i64) -> Transaction {
        tx_in("USD", Decimal::new(gross, 2))
    }

    fn tx_in(currency: &str, gross: Decimal) -> Transaction {
        Transaction {
            key: "t".into(),
            source: "test".into(),
            customer_key: None,
            partner_ref: None,
            by_customer: false,
            partner_key: None,
            status: TransactionStatus::Commissioned,
            unassigned_reason: None,
            amounts: Amounts::new(Currency::parse(currency).unwrap(), gross),
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
            write_id: String::new(),
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
            amount: Decimal::new(cents, 2).into(),
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

    #[test]
    fn a_failed_refund_gives_back_what_it_took_once() {
        let failed = |id: &str, cents| RefundSpec::Failed {
            id: id.into(),
            amount: Decimal::new(cents, 2).into(),
        };
        let mut t = Transaction {
            partner_key: Some("p".into()),
            ..tx(4900)
        };
        assert!(RefundSpec::Total {
            amount: Decimal::new(1900, 2)
        }
        .apply(&mut t, 1));
        assert!(failed("re_1", 1900).apply(&mut t, 2));
        assert!(
            !failed("re_1", 1900).apply(&mut t, 3),
            "a repeat gives nothing"
        );
        assert_eq!(t.amounts.refunded, Decimal::ZERO);
        assert_eq!(t.status, TransactionStatus::Commissioned);
        // A full refund that failed: the sale counts again, as it was before.
        assert!(RefundSpec::Full.apply(&mut t, 4));
        assert_eq!(t.status, TransactionStatus::Refunded);
        assert!(failed("re_2", 4900).apply(&mut t, 5));
        assert_eq!(
            (t.status, t.refunded_at, t.amounts.refunded),
            (TransactionStatus::Commissioned, None, Decimal::ZERO)
        );
        // Never below nothing; before its commission ran it returns to `recorded`.
        let mut fresh = tx(4900);
        fresh.status = TransactionStatus::Refunded;
        fresh.amounts.refunded = Decimal::new(4900, 2);
        assert!(failed("re_3", 9900).apply(&mut fresh, 6));
        assert_eq!(
            (fresh.status, fresh.amounts.refunded),
            (TransactionStatus::Recorded, Decimal::ZERO)
        );
        assert_eq!(failed("re_3", 1).pending_id(), "failed#re_3");
    }

    #[test]
    fn a_refund_without_a_currency_is_read_in_the_payments() {
        // Chargify's refund_success: 2000 in whatever the payment was made in.
        let part = RefundSpec::Part {
            id: "r1".into(),
            amount: RefundAmount::Minor {
                minor: 2_000,
                units: MinorUnits::Chargify,
            },
        };
        let mut jpy = tx_in("JPY", Decimal::from(5_000));
        assert!(part.apply(&mut jpy, 1));
        assert_eq!(jpy.amounts.refunded.to_string(), "2000");
        let mut usd = tx_in("USD", Decimal::new(5_000, 2));
        assert!(part.apply(&mut usd, 1));
        assert_eq!(usd.amounts.refunded.to_string(), "20.00");
        // A decimal the sender wrote is held to the payment's minor unit.
        let written = RefundSpec::Part {
            id: "r2".into(),
            amount: Decimal::new(1_234, 3).into(),
        };
        let mut kwd = tx_in("KWD", Decimal::from(10));
        assert!(written.apply(&mut kwd, 1));
        assert_eq!(kwd.amounts.refunded.to_string(), "1.234");
    }

    #[test]
    fn stored_refunds_keep_their_shape() {
        let old = r#"{"kind":"part","id":"txn_1","amount":"3.95"}"#;
        let spec: RefundSpec = serde_json::from_str(old).unwrap();
        assert_eq!(
            spec,
            RefundSpec::Part {
                id: "txn_1".into(),
                amount: Decimal::new(395, 2).into()
            }
        );
        assert_eq!(serde_json::to_string(&spec).unwrap(), old);
        let minor = RefundSpec::Part {
            id: "r".into(),
            amount: RefundAmount::Minor {
                minor: 2_000,
                units: MinorUnits::Chargify,
            },
        };
        let text = serde_json::to_string(&minor).unwrap();
        assert_eq!(
            text,
            r#"{"kind":"part","id":"r","amount":{"minor":2000,"units":"chargify"}}"#
        );
        assert_eq!(serde_json::from_str::<RefundSpec>(&text).unwrap(), minor);
        let kept = r#"{"source":"recurly","refund_id":"r","amount":"32.95"}"#;
        let refund: CustomerRefund = serde_json::from_str(kept).unwrap();
        assert_eq!(refund.amount, Decimal::new(3_295, 2).into());
    }

    proptest::proptest! {
        #[test]
        fn no_refund_of_any_size_panics(gross_parts: (u32, u32, u32), refunded_parts: (u32, u32, u32), amount_parts: (u32, u32, u32), scale in 0u32..=28, minor: i64) {
            let dec = |(lo, mid, hi): (u32, u32, u32)| Decimal::from_parts(lo, mid, hi, false, scale);
            for code in ["USD", "JPY", "KWD"] {
                let mut t = tx_in(code, dec(gross_parts));
                t.amounts.refunded = dec(refunded_parts);
                for spec in [
                    RefundSpec::Full,
                    RefundSpec::Total { amount: dec(amount_parts) },
                    RefundSpec::Part { id: "a".into(), amount: dec(amount_parts).into() },
                    RefundSpec::Part { id: "b".into(), amount: RefundAmount::Minor { minor, units: MinorUnits::Stripe } },
                    RefundSpec::Failed { id: "c".into(), amount: dec(amount_parts).into() },
                ] {
                    spec.apply(&mut t, 1);
                    proptest::prop_assert!(t.amounts.refunded <= t.amounts.gross.max(dec(refunded_parts)));
                }
                let _ = t.amounts.commissionable();
            }
        }
    }
}
