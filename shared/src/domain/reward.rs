//! Rewards: what a partner earns from one transaction at one level of the referral chain, or
//! the plan's flat amount for an action.

use crate::domain::money::Currency;
use crate::domain::plan::rules::Base;
use crate::domain::plan::{exact_base, percent_of};
use crate::domain::time::Millis;
use crate::domain::transaction::Amounts;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RewardStatus {
    Hold,
    Pending,
    Approved,
    Declined,
    Paid,
}

/// What earned a reward, as PartnerStack's `source` names it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RewardSource {
    /// Records from before actions carry no source: they all came from transactions.
    #[default]
    Transaction,
    Action,
    /// A negative reward taking back part of a paid one after a refund.
    Clawback,
}

/// Whether the partner can cash a reward out: `pending` until approved, `available` once
/// approved, `withdrawn` once paid out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Records from before the lifecycle are all unpaid.
    #[default]
    Pending,
    Available,
    Withdrawn,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reward {
    /// `{transaction_key}:{level}` or `{action_key}:{level}`: a retry never writes a second one.
    pub key: String,
    #[serde(default)]
    pub source: RewardSource,
    /// The transaction that earned it; none for an action's reward.
    pub transaction_key: Option<String>,
    /// The action that earned it, for an action's reward.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_key: Option<String>,
    /// The transaction's customer, for the partner's postbacks.
    #[serde(default)]
    pub customer_key: Option<String>,
    pub partner_key: String,
    /// 1 for the referring partner, 2 for the partner who referred them, and so on.
    pub level: u8,
    /// The plan's percentage for this level, kept so refunds can rescale the reward.
    pub percent: Decimal,
    /// The plan's fixed amount for this level, for a flat reward; refunds rescale it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flat: Option<Decimal>,
    /// What decided it: a rule's name, `default` or `tier:N` (`action:{type}` for actions).
    /// Records from before rules were decided by the default levels.
    #[serde(default = "default_rule")]
    pub rule: String,
    /// What `percent` was taken of.
    #[serde(default)]
    pub base: Base,
    /// That base after refunds, when the reward was granted, rounded to the minor unit.
    #[serde(default)]
    pub base_amount: Option<Decimal>,
    /// What decided it, in words: `30 % of 49.00 USD, rule "annual plans", level 1`.
    #[serde(default)]
    pub description: String,
    pub amount: Decimal,
    pub currency: Currency,
    pub reward_status: RewardStatus,
    #[serde(default)]
    pub payment_status: PaymentStatus,
    /// When the partner can cash it out: the end of the holding period while `pending`, the
    /// moment it was approved once `approved` or `paid`.
    #[serde(default)]
    pub payment_date: Option<Millis>,
    /// The payout that paid it.
    #[serde(default)]
    pub payout_id: Option<String>,
    /// For a clawback: the key of the paid reward it takes back from.
    #[serde(default)]
    pub reverses: Option<String>,
    /// Why an admin declined or held it.
    #[serde(default)]
    pub status_reason: Option<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

fn default_rule() -> String {
    "default".into()
}

impl Reward {
    /// What this transaction's reward is worth once `amounts` (its transaction's) have been
    /// refunded in part: a percentage of what is left of the base, or the flat amount in
    /// proportion to what is left. `None` only for a record from before amounts were bounded.
    pub fn worth_after_refunds(&self, amounts: &Amounts) -> Option<Decimal> {
        match self.flat {
            Some(flat) => Some(self.currency.round(amounts.after_refunds(flat))),
            None => percent_of(exact_base(amounts, self.base), self.percent, self.currency),
        }
    }

    /// `origin` is the transaction's key, or the action's.
    pub fn key_for(origin: &str, level: u8) -> String {
        format!("{origin}:{level}")
    }

    /// The transaction's or the action's key.
    pub fn origin(&self) -> &str {
        self.transaction_key
            .as_deref()
            .or(self.action_key.as_deref())
            .unwrap_or_default()
    }
}

/// A level-1, 20 % reward of transaction `key` for partner `pat`, as the job writes it before
/// its lifecycle starts: the one sample the domain's tests build on.
#[cfg(test)]
pub(crate) fn sample(key: &str, amount: Decimal, currency: &str) -> Reward {
    Reward {
        key: Reward::key_for(key, 1),
        source: RewardSource::Transaction,
        transaction_key: Some(key.into()),
        action_key: None,
        customer_key: None,
        partner_key: "pat".into(),
        level: 1,
        percent: Decimal::from(20),
        flat: None,
        rule: "default".into(),
        base: Base::default(),
        base_amount: None,
        description: String::new(),
        amount,
        currency: Currency::parse(currency).expect("a test currency"),
        reward_status: RewardStatus::Pending,
        payment_status: PaymentStatus::Pending,
        payment_date: None,
        payout_id: None,
        reverses: None,
        status_reason: None,
        created_at: 0,
        updated_at: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reward(percent: i64, flat: Option<Decimal>, base: Base) -> Reward {
        Reward {
            key: "t:1".into(),
            percent: Decimal::from(percent),
            flat,
            base,
            ..sample("t", Decimal::ZERO, "USD")
        }
    }

    #[test]
    fn a_reward_is_worth_its_share_of_what_the_refunds_left() {
        let usd = Currency::parse("USD").unwrap();
        let amounts = Amounts {
            net: Some(Decimal::new(8000, 2)),
            refunded: Decimal::new(2500, 2),
            ..Amounts::new(usd, Decimal::new(10000, 2))
        };
        // 20 % of the net 80.00 less a quarter; of the gross 100.00 less a quarter.
        let net = reward(20, None, Base::Net).worth_after_refunds(&amounts);
        assert_eq!(net, Some(Decimal::new(1200, 2)));
        let gross = reward(20, None, Base::Gross).worth_after_refunds(&amounts);
        assert_eq!(gross, Some(Decimal::new(1500, 2)));
        // A flat 5.00 keeps three quarters: 3.75.
        let flat = reward(0, Some(Decimal::new(500, 2)), Base::Net).worth_after_refunds(&amounts);
        assert_eq!(flat, Some(Decimal::new(375, 2)));
    }

    #[test]
    fn records_from_before_rules_read_as_the_default_rule() {
        let old = serde_json::json!({
            "key": "t:1", "transaction_key": "t", "partner_key": "p", "level": 1,
            "percent": "20", "amount": "9.80", "currency": "USD", "reward_status": "pending",
            "created_at": 0, "updated_at": 0
        });
        let reward: Reward = serde_json::from_value(old).unwrap();
        assert_eq!(
            (reward.rule.as_str(), reward.flat, reward.base),
            ("default", None, Base::Net)
        );
        assert!(reward.description.is_empty() && reward.base_amount.is_none());
    }
}
