//! Answers about money: transactions, rewards, actions, parked payments, imports.

use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// A transaction. Amounts are integer minor units; `*_decimal` the same as decimal strings.
#[derive(Serialize, ToSchema)]
pub struct TransactionView {
    pub key: String,
    /// `custom`, a payment provider's name, `api` or `import`.
    pub source: String,
    /// `recorded`, `commissioned`, `unassigned` or `refunded`.
    pub status: String,
    pub unassigned_reason: Option<String>,
    pub customer_key: Option<String>,
    pub partner_id: Option<String>,
    pub partner_key: Option<String>,
    pub currency: String,
    pub amount: Option<i64>,
    pub net_amount: Option<i64>,
    pub tax_amount: Option<i64>,
    pub amount_decimal: String,
    pub net_amount_decimal: Option<String>,
    pub tax_amount_decimal: Option<String>,
    pub tax_rate: Option<String>,
    pub refunded_amount: Option<i64>,
    pub refunded_amount_decimal: String,
    pub product_id: Option<String>,
    pub product_name: Option<String>,
    pub product_type: Option<String>,
    pub campaign_slug: Option<String>,
    pub is_recurring: Option<bool>,
    pub recurring_number: Option<i64>,
    pub transaction_date: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub refunded_at: Option<i64>,
}

/// A transaction as `/v1/customers/{key}/transactions` and refunds show it: every field of
/// [`TransactionView`], with `created_at` the sale's time and `recorded_at` when it was
/// recorded.
#[derive(Serialize, ToSchema)]
pub struct ApiTransactionView {
    #[serde(flatten)]
    pub transaction: TransactionView,
    pub product_key: Option<String>,
    pub category_key: Option<String>,
    pub recorded_at: i64,
}

/// A reward of a partner for a transaction or an action, or a clawback taking part of a paid
/// one back. Amounts are integer minor units; `*_decimal` the same as decimal strings.
#[derive(Serialize, ToSchema)]
pub struct RewardView {
    pub key: String,
    /// `transaction`, `action` or `clawback`.
    pub source: String,
    pub transaction_key: Option<String>,
    pub action_key: Option<String>,
    pub customer_key: Option<String>,
    pub partner_key: String,
    /// 1 for the partner who referred the customer, 2 for that partner's referrer, ...
    pub level: u32,
    /// What decided it: a rule's name, `default` or `tier:N` (`action:{type}` for actions).
    pub rule: String,
    /// The percentage taken of the base, as a decimal string; null for a flat reward.
    pub percent: Option<String>,
    /// The plan's fixed amount, for a flat reward.
    pub flat: Option<i64>,
    pub flat_decimal: Option<String>,
    /// What `percent` was taken of: `net` or `gross`.
    pub base: String,
    /// That base after refunds when the reward was granted.
    pub base_amount: Option<i64>,
    pub base_amount_decimal: Option<String>,
    /// What decided it, in words.
    pub description: String,
    pub amount: Option<i64>,
    pub amount_decimal: String,
    pub currency: String,
    /// `pending` (its holding period), `hold`, `approved`, `declined` or `paid`.
    pub reward_status: String,
    /// `pending` until approved, `available` once approved, `withdrawn` once paid out.
    pub payment_status: String,
    /// When the partner can cash it out: the end of the holding period while `pending`, when
    /// it was approved once `approved` or `paid`.
    pub payment_date: Option<i64>,
    /// The payout that paid it.
    pub payout_id: Option<String>,
    /// For a clawback: the key of the paid reward it takes back from.
    pub reverses: Option<String>,
    /// Why an admin held or declined it.
    pub status_reason: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// An action of a partner or a customer.
#[derive(Serialize, ToSchema)]
pub struct ActionView {
    pub key: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub value: i64,
    pub partner_key: Option<String>,
    pub customer_key: Option<String>,
    pub archived: bool,
    pub idempotency_key: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// The action's reward (`POST` only), null when the plan has none for its key.
    pub reward: Option<RewardView>,
}

/// A provider payment kept until its customer is known.
#[derive(Serialize, ToSchema)]
pub struct ParkedPaymentView {
    pub transaction_key: String,
    pub provider: String,
    pub customer_key: Option<String>,
    pub provider_customer_id: Option<String>,
    pub waiting_for: String,
    pub currency: String,
    pub amount: Option<i64>,
    pub amount_decimal: String,
    pub received_at: i64,
}

/// A CSV import and its rows' results.
#[derive(Serialize, ToSchema)]
pub struct ImportView {
    pub id: String,
    pub rows: u64,
    pub created: u64,
    pub skipped: u64,
    pub failed: u64,
    pub dry_run: bool,
    /// Unknown columns, named.
    pub warnings: Vec<String>,
    pub created_at: i64,
    pub results: Vec<ImportRow>,
}

#[derive(Serialize, ToSchema)]
pub struct ImportRow {
    /// The file's row number (the header is row 1).
    pub row: u64,
    /// `created`, `skipped` or `failed`.
    pub status: String,
    pub key: Option<String>,
    pub error: Option<crate::http::error::ErrorDetail>,
}

/// A customer.
#[derive(Serialize, ToSchema)]
pub struct CustomerView {
    pub key: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub partner_key: Option<String>,
    pub referring_customer_key: Option<String>,
    /// The customer's ids at payment providers (`stripe` → `cus_...`).
    pub provider_ids: BTreeMap<String, String>,
    pub has_paid: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A partner.
#[derive(Serialize, ToSchema)]
pub struct PartnerView {
    pub key: String,
    pub id: Option<String>,
    pub email: String,
    pub name: String,
    pub referring_partner_key: Option<String>,
    /// The group whose plan the partner's sales follow; null follows the program's.
    pub group_key: Option<String>,
    pub created_at: i64,
}

/// A partner's API key, shown once.
#[derive(Serialize, ToSchema)]
pub struct PartnerApiKey {
    pub api_key: String,
    pub partner_key: String,
}
