//! A partner's balance per currency, folded from its rewards: pure.

use crate::domain::reward::{Reward, RewardSource, RewardStatus};
use crate::domain::time::Millis;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Balance {
    /// Waiting out their holding period.
    pub pending: Decimal,
    /// Held by an admin (a review): the clock stands still.
    pub on_hold: Decimal,
    /// What the next payout would pay: approved rewards less unpaid clawbacks.
    pub approved: Decimal,
    /// Paid out, clawbacks settled in payouts included: the sum of the partner's payouts.
    pub paid: Decimal,
    /// Taken back from paid rewards after refunds, paid or not yet (a positive amount).
    pub clawed_back: Decimal,
    /// The earliest end of a pending reward's holding period.
    pub next_payment_date: Option<Millis>,
}

/// Each currency's balance over the rewards (declined ones count nowhere).
pub fn balances(rewards: &[Reward]) -> BTreeMap<String, Balance> {
    let mut all: BTreeMap<String, Balance> = BTreeMap::new();
    for r in rewards {
        let b = all.entry(r.currency.code().to_string()).or_default();
        if r.source == RewardSource::Clawback {
            b.clawed_back -= r.amount;
        }
        match r.reward_status {
            RewardStatus::Pending => {
                b.pending += r.amount;
                if let Some(due) = r.payment_date {
                    b.next_payment_date = Some(b.next_payment_date.map_or(due, |d| d.min(due)));
                }
            }
            RewardStatus::Hold => b.on_hold += r.amount,
            RewardStatus::Approved => b.approved += r.amount,
            RewardStatus::Paid => b.paid += r.amount,
            RewardStatus::Declined => {}
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::lifecycle::{claim, clawback, review, start, Review};
    use crate::domain::reward::sample;

    fn reward(key: &str, cents: i64, currency: &str, holding: u32) -> Reward {
        let mut r = Reward {
            key: key.into(),
            created_at: 100,
            updated_at: 100,
            ..sample(key, Decimal::new(cents, 2), currency)
        };
        start(&mut r, holding);
        r
    }

    #[test]
    fn balances_split_by_currency_and_status() {
        let mut paid = reward("a", 1000, "USD", 0);
        claim(&mut paid, "po").unwrap();
        let cb = clawback(&paid, 0, Decimal::new(400, 2), 5);
        let mut held = reward("b", 300, "USD", 30);
        review(&mut held, &Review::Hold { reason: None }, 5).unwrap();
        let pending = reward("c", 200, "USD", 2);
        let later = reward("d", 100, "USD", 9);
        let mut declined = reward("e", 999, "USD", 0);
        review(&mut declined, &Review::Decline { reason: None }, 5).unwrap();
        let eur = reward("f", 700, "EUR", 0);
        let all = balances(&[paid, cb, held, pending.clone(), later, declined, eur]);
        let usd = &all["USD"];
        assert_eq!(usd.paid, Decimal::new(1000, 2));
        assert_eq!(usd.approved, Decimal::new(-400, 2));
        assert_eq!(usd.clawed_back, Decimal::new(400, 2));
        assert_eq!(usd.on_hold, Decimal::new(300, 2));
        assert_eq!(usd.pending, Decimal::new(300, 2));
        assert_eq!(usd.next_payment_date, pending.payment_date);
        assert_eq!(all["EUR"].approved, Decimal::new(700, 2));
    }
}
