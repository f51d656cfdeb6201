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
    /// Stored only: base64 of the DEFLATE-compressed body, kept when that is smaller (a write
    /// is billed per started KB); [`InboxEntry::shown`] gives it back as one of the others.
    Deflate,
}

/// How hard bodies are compressed: near the best ratio at little CPU for bodies of a few KB.
const DEFLATE_LEVEL: u8 = 6;

/// The raw body as the inbox keeps it: (text, encoding, truncated), compressed when that
/// stores fewer bytes.
pub fn keep_body(body: &[u8]) -> (String, BodyEncoding, bool) {
    let truncated = body.len() > KEPT_BODY_BYTES;
    let kept = &body[..body.len().min(KEPT_BODY_BYTES)];
    let (shown, encoding) = readable(kept);
    let compressed = base64::engine::general_purpose::STANDARD
        .encode(miniz_oxide::deflate::compress_to_vec(kept, DEFLATE_LEVEL));
    // Text is stored JSON-escaped inside the record's document; base64 needs no escapes.
    if compressed.len() < stored_len(&shown) {
        (compressed, BodyEncoding::Deflate, truncated)
    } else {
        (shown, encoding, truncated)
    }
}

/// Bytes as shown: UTF-8 text, or base64 when they are not text.
fn readable(bytes: &[u8]) -> (String, BodyEncoding) {
    match std::str::from_utf8(bytes) {
        Ok(text) => (text.to_string(), BodyEncoding::Utf8),
        Err(_) => (
            base64::engine::general_purpose::STANDARD.encode(bytes),
            BodyEncoding::Base64,
        ),
    }
}

fn stored_len(text: &str) -> usize {
    serde_json::to_string(text).map_or(usize::MAX, |quoted| quoted.len())
}

impl InboxEntry {
    /// The entry as the API shows it: a compressed body given back as it was received.
    pub fn shown(&self) -> Self {
        if self.body_encoding != BodyEncoding::Deflate {
            return self.clone();
        }
        let inflated = base64::engine::general_purpose::STANDARD
            .decode(&self.body)
            .ok()
            .and_then(|packed| {
                miniz_oxide::inflate::decompress_to_vec_with_limit(&packed, KEPT_BODY_BYTES).ok()
            });
        // Only this module writes the encoding, so a body that does not inflate is damaged.
        let (body, body_encoding) = inflated.map_or_else(
            || (String::new(), BodyEncoding::Utf8),
            |bytes| readable(&bytes),
        );
        Self {
            body,
            body_encoding,
            ..self.clone()
        }
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
        let (_, _, truncated) = keep_body(&vec![b'a'; KEPT_BODY_BYTES + 10]);
        assert!(truncated);
    }

    fn entry(body: &[u8]) -> InboxEntry {
        let (body, body_encoding, body_truncated) = keep_body(body);
        InboxEntry {
            id: "e".into(),
            source: "stripe".into(),
            received_at: 0,
            verdict: Verdict::Accepted,
            outcome: "created".into(),
            http_status: 200,
            reason: None,
            transaction_key: None,
            content_type: None,
            body,
            body_encoding,
            body_truncated,
            expires_at: 0,
        }
    }

    #[test]
    fn bodies_worth_compressing_are_kept_deflated_and_shown_as_received() {
        let event = format!(
            "{{\"object\": \"event\", \"data\": {{\"object\": {{{}}}}}}}",
            (0..40)
                .map(|i| format!("\"field_{i}\": \"value of field {i}\""))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let kept = entry(event.as_bytes());
        assert_eq!(kept.body_encoding, BodyEncoding::Deflate);
        assert!(kept.body.len() * 2 < event.len(), "{}", kept.body.len());
        let shown = kept.shown();
        assert_eq!(
            (shown.body.as_str(), shown.body_encoding),
            (event.as_str(), BodyEncoding::Utf8)
        );
        let mut binary = vec![0xff, 0xfe];
        binary.extend(std::iter::repeat_n(0u8, 2000));
        let shown = entry(&binary).shown();
        assert_eq!(shown.body_encoding, BodyEncoding::Base64);
        assert_eq!(
            base64::engine::general_purpose::STANDARD
                .decode(shown.body)
                .unwrap(),
            binary
        );
        let capped = entry(&vec![b'a'; KEPT_BODY_BYTES + 10]).shown();
        assert_eq!(capped.body.len(), KEPT_BODY_BYTES);
        assert!(capped.body_truncated);
        // A short body stays as it came: compressing it would store more.
        assert_eq!(entry(b"{}").body_encoding, BodyEncoding::Utf8);
        assert_eq!(entry(b"{}").shown(), entry(b"{}"));
    }
}
