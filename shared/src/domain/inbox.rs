//! The inbox: every received webhook with its raw body, verdict and reason, kept for
//! [`RETENTION_DAYS`] so an admin can see why a webhook did or did not count.

use crate::domain::outcome::Outcome;
use crate::domain::time::Millis;
use base64::Engine;
use serde::{Deserialize, Serialize};

pub const RETENTION_DAYS: i64 = 30;
/// Bodies are kept up to this size; larger ones are cut (and flagged) to bound item size.
pub const KEPT_BODY_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Understood and applied.
    Accepted,
    /// Understood, and already applied before (a retry or duplicate).
    Skipped,
    /// Understood, but nothing Partnerhook acts on; `reason` says why.
    Ignored,
    /// Kept, waiting for something else (its customer, its payment) before it counts.
    Pending,
    /// Refused; `reason` says why. Nothing else changed.
    Rejected,
}

impl Verdict {
    pub fn of(outcome: Outcome) -> Self {
        if outcome.is_repeat() {
            Self::Skipped
        } else if outcome.is_pending() {
            Self::Pending
        } else if outcome == Outcome::Ignored {
            Self::Ignored
        } else {
            Self::Accepted
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Skipped => "skipped",
            Self::Ignored => "ignored",
            Self::Pending => "pending",
            Self::Rejected => "rejected",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboxEntry {
    pub id: String,
    /// `custom`, or a payment provider's name.
    pub source: String,
    pub received_at: Millis,
    pub verdict: Verdict,
    /// What happened (`created`, `skipped`, `refunded`, ...) or the error code.
    pub outcome: String,
    pub http_status: u16,
    pub reason: Option<String>,
    pub transaction_key: Option<String>,
    pub content_type: Option<String>,
    /// The raw body as received: UTF-8 text, or base64 when it is not text.
    pub body: String,
    pub body_encoding: BodyEncoding,
    pub body_truncated: bool,
    /// Epoch seconds; the store drops the entry afterwards.
    pub expires_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyEncoding {
    Utf8,
    Base64,
}

/// The raw body as the inbox keeps it: (text, encoding, truncated).
pub fn keep_body(body: &[u8]) -> (String, BodyEncoding, bool) {
    let truncated = body.len() > KEPT_BODY_BYTES;
    let kept = &body[..body.len().min(KEPT_BODY_BYTES)];
    match std::str::from_utf8(kept) {
        Ok(text) => (text.to_string(), BodyEncoding::Utf8, truncated),
        Err(_) => (
            base64::engine::general_purpose::STANDARD.encode(kept),
            BodyEncoding::Base64,
            truncated,
        ),
    }
}

pub fn expiry_for(received_at: Millis) -> i64 {
    received_at / 1000 + RETENTION_DAYS * 24 * 3600
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_kept_as_text_or_base64_and_capped() {
        assert_eq!(
            keep_body(b"{\"a\":1}"),
            ("{\"a\":1}".to_string(), BodyEncoding::Utf8, false)
        );
        let (text, encoding, truncated) = keep_body(&[0xff, 0xfe]);
        assert_eq!(
            (text.as_str(), encoding, truncated),
            ("//4=", BodyEncoding::Base64, false)
        );
        let (text, _, truncated) = keep_body(&vec![b'a'; KEPT_BODY_BYTES + 10]);
        assert_eq!(text.len(), KEPT_BODY_BYTES);
        assert!(truncated);
    }
}
