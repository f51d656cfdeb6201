//! Rewards: what a partner earns from one transaction at one level of the referral chain.

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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reward {
    /// `{transaction_key}:{level}`: a redelivered commission job can never write a second one.
    pub key: String,
    pub transaction_key: String,
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
    pub created_at: Millis,
    pub updated_at: Millis,
}

impl Reward {
    pub fn key_for(transaction_key: &str, level: u8) -> String {
        format!("{transaction_key}:{level}")
    }
}
