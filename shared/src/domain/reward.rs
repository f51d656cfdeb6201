//! Rewards: what a partner earns from one transaction at one level of the referral chain, or
//! the plan's flat amount for an action.

use crate::domain::money::Currency;
use crate::domain::time::Millis;
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

impl Reward {
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
