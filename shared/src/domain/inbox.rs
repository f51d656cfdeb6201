//! The inbox: every received webhook with its raw body, verdict and reason, kept for
//! [`RETENTION_DAYS`] so an admin can see why a webhook did or did not count. A request whose
//! sender was not verified costs less: a [`RequestSummary`] and the body's first
//! [`UNVERIFIED_BODY_BYTES`], kept [`UNVERIFIED_RETENTION_DAYS`].

use crate::domain::outcome::Outcome;
use crate::domain::time::Millis;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

pub const RETENTION_DAYS: i64 = 30;
/// Bodies are kept up to this size; larger ones are cut (and flagged) to bound item size.
pub const KEPT_BODY_BYTES: usize = 64 * 1024;
/// Anyone can send a request that fails authentication, so it is kept a week: time to notice a
/// wrong secret and see a provider's retries of it, not a month of a flood.
pub const UNVERIFIED_RETENTION_DAYS: i64 = 7;
/// Enough of an unverified body to recognise the event; the digest tells the rest apart.
pub const UNVERIFIED_BODY_BYTES: usize = 1024;
/// Headers an unverified request is recognised by (names as HTTP/2 and `http` give them).
const SUMMARY_HEADERS: [&str; 5] = [
    "content-type",
    "content-length",
    "content-encoding",
    "user-agent",
    "x-forwarded-for",
];
/// Of a header naming a signature, only this much is kept: the scheme and timestamp, never the
/// whole value.
const SIGNATURE_PREFIX_BYTES: usize = 24;
/// Any other kept header value is cut here, so a summary stays small.
const HEADER_VALUE_BYTES: usize = 128;
/// Headers kept at most: a sender may name any number of them "signature", at any length.
const SUMMARY_HEADER_COUNT: usize = 8;
const HEADER_NAME_BYTES: usize = 64;

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
    /// Present when the sender was not verified: what is kept in place of the whole body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<RequestSummary>,
    /// The incoming webhook whose URL received it, so a replay finds its mapping.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hook: Option<String>,
    /// Present on a replay: the id of the entry whose body it ran again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay_of: Option<String>,
}

/// What is kept of a request whose sender was not verified: selected headers (no credentials,
/// signatures cut to a prefix), the body's size and SHA-256 digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestSummary {
    pub headers: BTreeMap<String, String>,
    /// Absent when the body was over the cap and not read.
    pub body_bytes: Option<usize>,
    /// Lowercase hex.
    pub body_sha256: Option<String>,
}

impl RequestSummary {
    /// Selects the headers worth keeping (`headers` as name and raw value) and digests the body,
    /// `None` when it was not read.
    pub fn of<'h>(
        headers: impl IntoIterator<Item = (&'h str, &'h [u8])>,
        body: Option<&[u8]>,
    ) -> Self {
        let headers = headers
            .into_iter()
            .filter(|(name, _)| name.len() <= HEADER_NAME_BYTES)
            .filter_map(|(name, value)| {
                let limit = if name.contains("signature") {
                    SIGNATURE_PREFIX_BYTES
                } else if SUMMARY_HEADERS.contains(&name) {
                    HEADER_VALUE_BYTES
                } else {
                    return None;
                };
                Some((name.to_string(), cut(value, limit)))
            })
            .take(SUMMARY_HEADER_COUNT)
            .collect();
        Self {
            headers,
            body_bytes: body.map(<[u8]>::len),
            body_sha256: body.map(|b| hex::encode(Sha256::digest(b))),
        }
    }
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

/// A header's value as kept: its first `limit` bytes, as text.
fn cut(value: &[u8], limit: usize) -> String {
    String::from_utf8_lossy(&value[..value.len().min(limit)]).into_owned()
}

/// The `Content-Type` as an entry keeps it, cut like any kept header.
pub fn kept_content_type(value: &str) -> String {
    cut(value.as_bytes(), HEADER_VALUE_BYTES)
}

/// The raw body as the inbox keeps it, up to `cap` bytes: (text, encoding, truncated),
/// compressed when that stores fewer bytes.
pub fn keep_body(body: &[u8], cap: usize) -> (String, BodyEncoding, bool) {
    let cap = cap.min(KEPT_BODY_BYTES);
    let truncated = body.len() > cap;
    let kept = &body[..body.len().min(cap)];
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

/// Why an entry cannot be run again: only a whole body kept is the webhook as it was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotReplayable {
    /// Its sender was not verified: only a summary and the first KiB were kept.
    Unverified,
    /// The body was over [`KEPT_BODY_BYTES`] and was cut.
    Truncated,
    /// The stored body does not decode (damaged).
    Damaged,
}

impl InboxEntry {
    /// The body exactly as received, if the entry kept all of it.
    pub fn replayable_body(&self) -> Result<Vec<u8>, NotReplayable> {
        if self.request.is_some() {
            return Err(NotReplayable::Unverified);
        }
        if self.body_truncated {
            return Err(NotReplayable::Truncated);
        }
        let shown = self.shown();
        match shown.body_encoding {
            BodyEncoding::Base64 => base64::engine::general_purpose::STANDARD
                .decode(&shown.body)
                .map_err(|_| NotReplayable::Damaged),
            // `shown` gives a compressed body that does not inflate back as empty text.
            _ if self.body_encoding == BodyEncoding::Deflate && shown.body.is_empty() => {
                Err(NotReplayable::Damaged)
            }
            _ => Ok(shown.body.into_bytes()),
        }
    }
}

/// Epoch seconds when an entry received at `received_at` goes, kept `days`.
pub fn expiry_for(received_at: Millis, days: i64) -> i64 {
    received_at / 1000 + days * 24 * 3600
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_kept_as_text_or_base64_and_capped() {
        assert_eq!(
            keep_body(b"{\"a\":1}", KEPT_BODY_BYTES),
            ("{\"a\":1}".to_string(), BodyEncoding::Utf8, false)
        );
        let (text, encoding, truncated) = keep_body(&[0xff, 0xfe], KEPT_BODY_BYTES);
        assert_eq!(
            (text.as_str(), encoding, truncated),
            ("//4=", BodyEncoding::Base64, false)
        );
        let (_, _, truncated) = keep_body(&vec![b'a'; KEPT_BODY_BYTES + 10], KEPT_BODY_BYTES);
        assert!(truncated);
    }

    fn entry(body: &[u8]) -> InboxEntry {
        let (body, body_encoding, body_truncated) = keep_body(body, KEPT_BODY_BYTES);
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
            request: None,
            hook: None,
            replay_of: None,
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

    #[test]
    fn only_a_whole_verified_body_is_replayable() {
        let text = "{\"a\": 1}".repeat(300);
        assert_eq!(
            entry(text.as_bytes()).replayable_body(),
            Ok(text.into_bytes())
        );
        assert_eq!(entry(&[0xff, 0xfe]).replayable_body(), Ok(vec![0xff, 0xfe]));
        assert_eq!(entry(b"").replayable_body(), Ok(vec![]));
        assert_eq!(
            entry(&vec![b'a'; KEPT_BODY_BYTES + 1]).replayable_body(),
            Err(NotReplayable::Truncated)
        );
        let unverified = InboxEntry {
            request: Some(RequestSummary::of([], Some(b"{}"))),
            ..entry(b"{}")
        };
        assert_eq!(unverified.replayable_body(), Err(NotReplayable::Unverified));
        let damaged = InboxEntry {
            body: "not deflate".into(),
            body_encoding: BodyEncoding::Deflate,
            ..entry(b"{}")
        };
        assert_eq!(damaged.replayable_body(), Err(NotReplayable::Damaged));
    }

    #[test]
    fn a_summary_keeps_no_credentials_and_only_a_signature_prefix() {
        let signature =
            "t=1700000000,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd";
        let long_agent = "a".repeat(1000);
        let headers: [(&str, &[u8]); 6] = [
            ("authorization", b"Basic dXNlcjpwYXNzd29yZA=="),
            ("cookie", b"session=secret"),
            ("stripe-signature", signature.as_bytes()),
            ("content-type", b"application/json"),
            ("user-agent", long_agent.as_bytes()),
            ("x-forwarded-for", &[0xff, b'1']),
        ];
        let summary = RequestSummary::of(headers, Some(b"{}"));
        assert_eq!(
            summary.headers.keys().collect::<Vec<_>>(),
            [
                "content-type",
                "stripe-signature",
                "user-agent",
                "x-forwarded-for"
            ]
        );
        assert_eq!(
            summary.headers["stripe-signature"],
            "t=1700000000,v1=5257a869"
        );
        assert_eq!(summary.headers["user-agent"].len(), HEADER_VALUE_BYTES);
        assert_eq!(summary.headers["x-forwarded-for"], "\u{fffd}1");
        assert_eq!(summary.body_bytes, Some(2));
        assert_eq!(
            summary.body_sha256.as_deref(),
            Some("44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a")
        );
        let names: Vec<String> = (0..20).map(|n| format!("x-signature-{n:02}")).collect();
        let many = names
            .iter()
            .map(|name| (name.as_str(), b"v1=abc".as_slice()));
        assert_eq!(
            RequestSummary::of(many, None).headers.len(),
            SUMMARY_HEADER_COUNT
        );
        let unread = RequestSummary::of([], None);
        assert_eq!((unread.body_bytes, unread.body_sha256), (None, None));
    }

    #[test]
    fn an_unverified_body_is_cut_to_its_first_kilobyte() {
        let (kept, encoding, truncated) = keep_body(&vec![b'x'; 200 * 1024], UNVERIFIED_BODY_BYTES);
        assert!(truncated);
        let kept = InboxEntry {
            body: kept,
            body_encoding: encoding,
            ..entry(b"")
        }
        .shown();
        assert_eq!(kept.body, "x".repeat(UNVERIFIED_BODY_BYTES));
    }
}
