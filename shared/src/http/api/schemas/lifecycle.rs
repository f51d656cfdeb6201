//! Answers about paying partners: payouts and balances.

use super::RewardView;
use serde::Serialize;
use utoipa::ToSchema;

/// A payout of a partner's approved rewards (less unpaid clawbacks) in one currency.
#[derive(Serialize, ToSchema)]
pub struct PayoutView {
    pub id: String,
    pub partner_key: String,
    pub currency: String,
    /// `open` while claiming its rewards (a retry or the sweeper completes it), then
    /// `completed`.
    pub status: String,
    /// The sum of the rewards it paid, once completed.
    pub total: Option<i64>,
    pub total_decimal: String,
    pub reward_count: u64,
    pub created_at: i64,
    pub completed_at: Option<i64>,
}

/// A payout with the rewards it paid.
#[derive(Serialize, ToSchema)]
pub struct PayoutDetail {
    #[serde(flatten)]
    pub payout: PayoutView,
    pub rewards: Vec<RewardView>,
}

/// A partner's balance in each currency it has rewards in.
#[derive(Serialize, ToSchema)]
pub struct PartnerBalance {
    pub partner_key: String,
    pub data: Vec<BalanceView>,
}

/// A partner's rewards in one currency, summed by where they stand. Amounts are integer minor
/// units; `*_decimal` the same as decimal strings. Declined rewards count nowhere.
#[derive(Serialize, ToSchema)]
pub struct BalanceView {
    pub currency: String,
    /// Waiting out their holding period.
    pub pending: Option<i64>,
    pub pending_decimal: String,
    /// Held by an admin's review.
    pub on_hold: Option<i64>,
    pub on_hold_decimal: String,
    /// What the next payout would pay: approved rewards less unpaid clawbacks.
    pub approved: Option<i64>,
    pub approved_decimal: String,
    /// Paid out: the sum of the partner's payouts.
    pub paid: Option<i64>,
    pub paid_decimal: String,
    /// Taken back from paid rewards after refunds (a positive amount).
    pub clawed_back: Option<i64>,
    pub clawed_back_decimal: String,
    /// The earliest end of a pending reward's holding period.
    pub next_payment_date: Option<i64>,
}
