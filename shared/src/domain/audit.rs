//! The audit log: one entry per change an admin key made through the API, naming the key,
//! the request and digests of the resource before and after (never its content, so no secret
//! of a request or an answer is kept).

use crate::domain::time::Millis;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// UUIDv7: entries sort by time.
    pub id: String,
    pub at: Millis,
    pub key_id: String,
    pub key_name: String,
    pub method: String,
    /// The route's template (`/v1/partners/{key}`) and the path asked for.
    pub route: String,
    pub path: String,
    pub status: u16,
    /// SHA-256 (hex) of the resource's view before the change, where it has one.
    #[serde(default)]
    pub before: Option<String>,
    /// SHA-256 (hex) of the answer, where it has a body.
    #[serde(default)]
    pub after: Option<String>,
}

/// The same entry, listed under the key that made the change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AuditByKey(pub AuditEntry);
