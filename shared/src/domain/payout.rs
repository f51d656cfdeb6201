//! Payouts: a partner's approved rewards (and unpaid clawbacks) in one currency, paid in one
//! go. A payout is written `open` under a deterministic id before any reward is claimed, and
//! completed with the total of the rewards that carry its id; `reward_items` are the claims it
//! meant to make, written before each claim, so the rewards it holds can always be found.

use crate::domain::money::Currency;
use crate::domain::reward::Reward;
use crate::domain::time::Millis;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayoutStatus {
    /// Claiming its rewards; a crash leaves it so, and a retry or the sweeper completes it.
    Open,
    Completed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Payout {
    pub id: String,
    pub partner_key: String,
    pub currency: Currency,
    pub status: PayoutStatus,
    /// The sum of the rewards that carry its id, once completed.
    pub total: Decimal,
    pub reward_count: usize,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub completed_at: Option<Millis>,
}

/// A reward a payout set out to claim, written before the claim: where to find the reward.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PayoutItem {
    pub payout_id: String,
    pub reward_key: String,
    /// The reward's record keys.
    pub pk: String,
    pub sk: String,
}

/// Why a payout is refused (422).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayoutRefusal {
    #[error("the partner has no approved reward in {0} to pay")]
    NothingToPay(Currency),
    #[error("the total would be {0} {1}: clawbacks exceed the approved rewards")]
    Negative(Decimal, Currency),
    #[error("the total of {0} {2} is below the program's min_payout of {1} {2}")]
    BelowMinimum(Decimal, Decimal, Currency),
}

impl PayoutRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            Self::NothingToPay(_) => "nothing_to_pay",
            Self::Negative(..) => "negative_total",
            Self::BelowMinimum(..) => "below_min_payout",
        }
    }
}

/// Whether a payout of these payable rewards (clawbacks included) may go ahead; its total.
/// Refused when there is nothing to pay (no reward, or a total of zero), when clawbacks make
/// the total negative, or when it is below the program's `min_payout` for the currency.
pub fn check_payout(
    payable: &[Reward],
    currency: Currency,
    min_payout: Decimal,
) -> Result<Decimal, PayoutRefusal> {
    let total: Decimal = payable.iter().map(|r| r.amount).sum();
    if total.is_sign_negative() && !total.is_zero() {
        return Err(PayoutRefusal::Negative(total, currency));
    }
    if total.is_zero() {
        return Err(PayoutRefusal::NothingToPay(currency));
    }
    if total < min_payout {
        return Err(PayoutRefusal::BelowMinimum(total, min_payout, currency));
    }
    Ok(total)
}

/// A payout's id, derived from the request's `Idempotency-Key` (a fresh random key without
/// one), so a retry after a crash resumes the same payout.
pub fn payout_id(partner_key: &str, currency: Currency, key: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for part in [partner_key, currency.code(), key] {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    format!("po_{}", &hex::encode(hasher.finalize())[..24])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::lifecycle::{clawback, start};
    use crate::domain::reward::sample;

    fn reward(cents: i64) -> Reward {
        let mut r = sample(&format!("tx{cents}"), Decimal::new(cents, 2), "USD");
        start(&mut r, 0);
        r
    }

    #[test]
    fn payouts_are_refused_when_empty_negative_or_below_the_minimum() {
        let usd = Currency::parse("USD").unwrap();
        let zero = Decimal::ZERO;
        assert_eq!(
            check_payout(&[], usd, zero),
            Err(PayoutRefusal::NothingToPay(usd))
        );
        let paid = reward(1000);
        let cb = clawback(&paid, 0, Decimal::new(1500, 2), 0);
        let err = check_payout(&[reward(1000), cb.clone()], usd, zero).unwrap_err();
        assert_eq!(err.code(), "negative_total");
        assert_eq!(
            check_payout(&[reward(2000), cb], usd, zero),
            Ok(Decimal::new(500, 2))
        );
        let err = check_payout(&[reward(2000)], usd, Decimal::from(50)).unwrap_err();
        assert_eq!(err.code(), "below_min_payout");
        assert!(err
            .to_string()
            .contains("below the program's min_payout of 50 USD"));
    }

    #[test]
    fn payout_ids_derive_from_the_idempotency_key() {
        let usd = Currency::parse("USD").unwrap();
        let a = payout_id("pat", usd, "k1");
        assert_eq!(a, payout_id("pat", usd, "k1"));
        assert_ne!(a, payout_id("pat", usd, "k2"));
        assert_ne!(a, payout_id("pam", usd, "k1"));
    }
}
