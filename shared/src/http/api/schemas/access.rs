//! Admin API keys and the audit log.

use serde::Serialize;
use utoipa::ToSchema;

/// An admin key, never its secret.
#[derive(Serialize, ToSchema)]
pub struct ApiKeyView {
    pub id: String,
    pub name: String,
    /// `admin` (every route) or `read_only` (`GET` alone).
    pub role: String,
    pub created_at: i64,
    /// Noted at most every five minutes.
    pub last_used_at: Option<i64>,
}

/// A key just created: the one answer that shows its secret.
#[derive(Serialize, ToSchema)]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub key: ApiKeyView,
    /// The secret, shown this once: send it as `Authorization: Bearer <api_key>`.
    pub api_key: String,
}

/// The key that made a change.
#[derive(Serialize, ToSchema)]
pub struct AuditKey {
    pub id: String,
    pub name: String,
}

/// One change made through the API.
#[derive(Serialize, ToSchema)]
pub struct AuditEntryView {
    pub id: String,
    pub at: i64,
    pub key: AuditKey,
    pub method: String,
    /// The route's template, e.g. `/v1/partners/{key}`.
    pub route: String,
    pub path: String,
    pub status: u16,
    /// SHA-256 (hex) of the resource's `GET` view before the change; null where it has none.
    pub before_digest: Option<String>,
    /// SHA-256 (hex) of the answer; null when it had no body (a deletion).
    pub after_digest: Option<String>,
}
