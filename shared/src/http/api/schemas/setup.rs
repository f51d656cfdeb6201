//! Answers and bodies about setting up: the program, events, incoming webhooks, postbacks.

use super::groups::{CommissionPatchDoc, CommissionView};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// The program's settings; secrets are write-only, shown as how many are configured.
#[derive(Serialize, ToSchema)]
pub struct ProgramView {
    pub slug: String,
    pub name: String,
    pub currency: String,
    pub commission: CommissionView,
    pub custom_webhook: CustomWebhookView,
    /// Per payment provider: its webhook `path` and how many credentials are configured.
    #[schema(value_type = Object)]
    pub providers: Value,
    /// USD per unit of a currency, as decimal strings.
    pub usd_rates: BTreeMap<String, String>,
    /// The smallest payout per currency code, as decimal strings.
    pub min_payout: BTreeMap<String, String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Serialize, ToSchema)]
pub struct CustomWebhookView {
    pub path: String,
    pub secrets_configured: usize,
}

/// `PATCH /v1/program`: every field optional; absent fields stay as they are.
#[derive(Serialize, ToSchema)]
pub struct ProgramPatchDoc {
    pub name: Option<String>,
    /// ISO 4217.
    pub currency: Option<String>,
    pub commission: Option<CommissionPatchDoc>,
    /// `{"secrets": ["...", "..."]}`: one secret, or two while rotating (20+ characters).
    #[schema(value_type = Option<Object>)]
    pub custom_webhook: Option<Value>,
    /// `{"stripe": {"signing_secret": ...}, "chargebee": {"username", "password"},
    /// "recurly": {"signing_key" | "username", "password"}, "chargify": {"site_shared_key"}}`.
    #[schema(value_type = Option<Object>)]
    pub providers: Option<Value>,
    /// USD per unit of a currency: `{"EUR": "1.08"}`.
    pub usd_rates: Option<BTreeMap<String, String>>,
}

/// A received webhook, as kept in the inbox.
#[derive(Serialize, ToSchema)]
pub struct EventView {
    pub id: String,
    /// `custom`, or a payment provider's name.
    pub source: String,
    pub received_at: i64,
    /// `accepted`, `skipped`, `ignored`, `pending` or `rejected`.
    pub verdict: String,
    pub outcome: String,
    pub http_status: u16,
    pub reason: Option<String>,
    pub transaction_key: Option<String>,
    pub content_type: Option<String>,
    /// The raw body: UTF-8 text, or base64 (`body_encoding`).
    pub body: String,
    pub body_encoding: String,
    pub body_truncated: bool,
    /// Epoch seconds; the event is dropped afterwards (30 days, 7 for an unverified sender).
    pub expires_at: i64,
    /// Only when the sender was not verified (bad or missing credentials or signature, stale
    /// timestamp, body over the cap): `body` is then its first KiB.
    pub request: Option<RequestSummaryView>,
    /// The incoming webhook whose URL received it (`incoming` sources).
    pub hook: Option<String>,
    /// On a replay: the id of the event whose body it ran again.
    pub replay_of: Option<String>,
}

/// What a webhook (or its replay) did.
#[derive(Serialize, ToSchema)]
pub struct WebhookAnswer {
    /// The outcome: `created`, `skipped`, `refunded`, ...
    pub status: String,
    pub transaction_key: Option<String>,
    /// Why it was ignored, skipped or kept waiting.
    pub reason: Option<String>,
    /// The inbox entry that keeps it.
    pub event_id: String,
}

/// What is kept of a request whose sender was not verified.
#[derive(Serialize, ToSchema)]
pub struct RequestSummaryView {
    /// Selected headers: content type and length, user agent, forwarded-for; a signature
    /// header's first 24 characters; never credentials.
    pub headers: BTreeMap<String, String>,
    /// The body's size; absent when it was over the cap and not read.
    pub body_bytes: Option<u64>,
    /// The body's SHA-256, lowercase hex.
    pub body_sha256: Option<String>,
}

/// An incoming webhook: its URLs, samples and mapping.
#[derive(Serialize, ToSchema)]
pub struct HookView {
    pub id: String,
    pub name: String,
    pub test_url: String,
    pub production_url: String,
    pub mapping: Option<MappingDoc>,
    #[schema(value_type = Vec<Object>)]
    pub field_paths: Vec<Value>,
    #[schema(value_type = Vec<Object>)]
    pub samples: Vec<Value>,
    pub created_at: i64,
    pub updated_at: i64,
    /// `PUT .../mapping` only: mapped paths that no sample contains.
    pub warnings: Option<Vec<String>>,
}

/// Which sample path feeds which field of the action.
#[derive(Serialize, ToSchema)]
pub struct MappingDoc {
    /// `create_partner`, `create_customer`, `create_transaction` or `refund_transaction`.
    pub action: String,
    /// The action's field → a path in the samples, e.g. `{"email": "data.user.email"}`.
    pub fields: BTreeMap<String, String>,
}

/// A postback: a partner's URL subscribed to events; its secrets are never shown again.
#[derive(Serialize, ToSchema)]
pub struct PostbackView {
    pub id: String,
    pub name: String,
    pub url: String,
    pub events: Vec<String>,
    /// `active` or `disabled`.
    pub status: String,
    #[schema(value_type = Option<Object>)]
    pub disabled: Option<Value>,
    pub failing_since: Option<i64>,
    pub secrets_configured: usize,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A postback with its new signing secret, shown this once.
#[derive(Serialize, ToSchema)]
pub struct PostbackCreated {
    #[serde(flatten)]
    pub postback: PostbackView,
    pub secret: String,
}

/// How the endpoint answered a test event.
#[derive(Serialize, ToSchema)]
pub struct PostbackTestResult {
    pub at: i64,
    pub status_code: Option<u16>,
    pub latency_ms: u64,
    pub error: Option<String>,
    /// The start of the endpoint's answer (UTF-8, invalid bytes replaced), at most 4 KiB.
    pub response_body: Option<String>,
    /// Whether the answer was longer than what is shown.
    pub response_truncated: bool,
    /// The answer's full size in bytes, when known.
    pub response_bytes: Option<u64>,
    pub manual: bool,
    /// A 2xx answer.
    pub success: bool,
}

/// One event for one postback.
#[derive(Serialize, ToSchema)]
pub struct DeliveryView {
    pub id: String,
    pub postback_id: String,
    /// `webhook-id`: the same on every attempt.
    pub message_id: String,
    pub event: String,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    /// The latest attempts (at most 20), each keeping at most 4 KiB of the answer.
    #[schema(value_type = Vec<Object>)]
    pub attempts: Vec<Value>,
    /// Every attempt made, including those no longer kept.
    pub attempts_made: usize,
    pub next_attempt_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}
