//! A request made with an `Idempotency-Key`: what it was (a digest), and the answer it got,
//! so the same request again gets the same answer and another request with the key a 409.

use crate::domain::time::Millis;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdempotentRequest {
    /// Digest of the caller's credential and its key: keys are the caller's own namespace.
    pub id: String,
    /// Digest of method, path, query and body.
    pub fingerprint: String,
    pub started_at: Millis,
    /// The answer, once there is one; `None` while the first request runs.
    pub answer: Option<StoredAnswer>,
    /// Epoch seconds; the store drops the record afterwards.
    pub expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredAnswer {
    pub status: u16,
    pub body: String,
}

/// Keys are kept this long, as payment APIs do (Stripe: 24 hours).
pub const RETENTION_SECONDS: i64 = 24 * 3600;
/// A first request still running after this long is taken to have died; a retry runs again.
pub const LEASE_MS: Millis = 60 * 1000;
