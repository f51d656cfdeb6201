//! Postbacks and their deliveries: partners subscribe endpoints to events; each (event,
//! postback) pair becomes one delivery, logged attempt by attempt.

use crate::domain::error::FieldError;
use crate::domain::excerpt::{cut_json, excerpt};
use crate::domain::time::Millis;
use serde::{Deserialize, Serialize};

/// The event types a postback may subscribe to.
pub const EVENT_TYPES: [&str; 9] = [
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "transaction.created",
    "transaction.updated",
    "reward.created",
    "reward.updated",
    "action.created",
    "action.updated",
];

/// A postback failing this long without one success is disabled.
pub const DISABLE_AFTER_FAILING_MS: Millis = 5 * 24 * 3600 * 1000;

/// What an attempt keeps of the endpoint's answer, in bytes as stored (JSON text).
pub const MAX_KEPT_RESPONSE_BYTES: usize = 4 * 1024;
/// What an attempt keeps of its error's text, in bytes as stored.
pub const MAX_KEPT_ERROR_BYTES: usize = 1024;
/// Attempts a delivery keeps, the latest ones: the schedule makes 8, manual retries add one
/// each. With the caps above, the attempts take about 110 KB at most, far under DynamoDB's 400 KB
/// item limit.
pub const MAX_KEPT_ATTEMPTS: usize = 20;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Postback {
    pub id: String,
    pub program: String,
    pub partner_key: String,
    pub url: String,
    pub name: String,
    pub events: Vec<String>,
    /// `whsec_` secrets; two while rotating, both signing every message.
    pub secrets: Vec<String>,
    pub disabled: Option<Disabled>,
    /// When the current run of failures began; cleared by a success.
    pub failing_since: Option<Millis>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Disabled {
    pub at: Millis,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Succeeded,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    pub at: Millis,
    pub status_code: Option<u16>,
    pub latency_ms: u64,
    pub error: Option<String>,
    /// The start of the endpoint's answer, as UTF-8 (invalid bytes replaced), at most
    /// [`MAX_KEPT_RESPONSE_BYTES`] once stored.
    pub response_body: Option<String>,
    /// Whether the answer was longer than what is kept.
    #[serde(default)]
    pub response_truncated: bool,
    /// The answer's full size in bytes, when known: as its `Content-Length` declared, or as
    /// read to its end.
    #[serde(default)]
    pub response_bytes: Option<u64>,
    pub manual: bool,
}

impl Attempt {
    /// An attempt made at `at` that has no answer yet.
    pub fn at(at: Millis) -> Self {
        Self {
            at,
            status_code: None,
            latency_ms: 0,
            error: None,
            response_body: None,
            response_truncated: false,
            response_bytes: None,
            manual: false,
        }
    }

    /// An attempt that failed with `error`.
    pub fn failed(at: Millis, error: &str) -> Self {
        let mut attempt = Self::at(at);
        attempt.note_error(error);
        attempt
    }

    /// Notes what went wrong, its text cut to what is kept.
    pub fn note_error(&mut self, error: &str) {
        let (kept, _) = cut_json(error, MAX_KEPT_ERROR_BYTES);
        self.error = Some(kept.to_string());
    }

    /// Keeps the start of the answer (`start`, its first bytes; `longer` if more followed) and
    /// its size when known.
    pub fn keep_response(&mut self, start: &[u8], longer: bool, size: Option<u64>) {
        let (kept, cut) = excerpt(start, MAX_KEPT_RESPONSE_BYTES);
        self.response_truncated = cut || longer;
        self.response_body = Some(kept);
        self.response_bytes = size;
    }
}

/// One event for one postback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: String,
    pub program: String,
    pub postback_id: String,
    /// `webhook-id`: the same on every attempt, so receivers can dedupe.
    pub message_id: String,
    pub event: String,
    /// The exact body sent on every attempt.
    pub body: String,
    pub status: DeliveryStatus,
    /// The latest attempts, at most [`MAX_KEPT_ATTEMPTS`].
    pub attempts: Vec<Attempt>,
    /// Attempts made before those kept, no longer kept.
    #[serde(default)]
    pub earlier_attempts: usize,
    pub next_attempt_at: Option<Millis>,
    /// A manual retry is tried once, not rescheduled.
    pub manual: bool,
    /// The attempt a worker has taken on, and when: a second copy of the job leaves it alone.
    pub claimed: Option<(usize, Millis)>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

impl Delivery {
    /// How many attempts were made, kept or not.
    pub fn attempts_made(&self) -> usize {
        self.earlier_attempts + self.attempts.len()
    }

    /// Records an attempt, letting go of the oldest beyond the bound.
    pub fn record_attempt(&mut self, attempt: Attempt) {
        self.attempts.push(attempt);
        let excess = self.attempts.len().saturating_sub(MAX_KEPT_ATTEMPTS);
        self.attempts.drain(..excess);
        self.earlier_attempts += excess;
    }
}

impl Postback {
    /// Turns the postback back on (forgetting its failures), or off by the partner's wish.
    pub fn set_enabled(&mut self, enabled: bool, now: Millis) {
        if enabled {
            self.disabled = None;
            self.failing_since = None;
        } else {
            self.disabled = Some(Disabled {
                at: now,
                reason: "disabled by the partner".into(),
            });
        }
    }

    /// Signs with `secret` from now on; the latest earlier one keeps signing beside it unless
    /// it expires at once.
    pub fn rotate_secret(&mut self, secret: String, expire_previous: bool) {
        let previous = self.secrets.last().cloned().filter(|_| !expire_previous);
        self.secrets = previous.into_iter().chain([secret]).collect();
    }
}

/// Checks the event types a postback subscribes to.
pub fn validate_events(events: &[String]) -> Result<(), FieldError> {
    if events.is_empty() {
        return Err(FieldError::new(
            "events",
            "subscribe to at least one event type",
        ));
    }
    if let Some(unknown) = events.iter().find(|e| !EVENT_TYPES.contains(&e.as_str())) {
        return Err(FieldError::new(
            "events",
            format!(
                "{unknown:?} is not an event type; use {}",
                EVENT_TYPES.join(", ")
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery() -> Delivery {
        Delivery {
            id: "d".into(),
            program: "acme".into(),
            postback_id: "pb".into(),
            message_id: "msg".into(),
            event: "reward.created".into(),
            body: "{}".into(),
            status: DeliveryStatus::Pending,
            attempts: Vec::new(),
            earlier_attempts: 0,
            next_attempt_at: None,
            manual: false,
            claimed: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn a_delivery_keeps_its_latest_attempts_and_counts_them_all() {
        let mut d = delivery();
        for at in 0..50 {
            d.record_attempt(Attempt::at(at));
        }
        assert_eq!(d.attempts_made(), 50);
        assert_eq!(d.attempts.len(), MAX_KEPT_ATTEMPTS);
        assert_eq!(d.attempts.first().map(|a| a.at), Some(30));
        assert_eq!(d.attempts.last().map(|a| a.at), Some(49));
    }

    #[test]
    fn an_answer_is_kept_cut_with_its_size() {
        let mut attempt = Attempt::at(0);
        let binary = vec![0xffu8; MAX_KEPT_RESPONSE_BYTES];
        attempt.keep_response(&binary, true, Some(1_000_000));
        let kept = attempt.response_body.clone().unwrap_or_default();
        // Each invalid byte becomes U+FFFD, three bytes: a third of them fit.
        assert_eq!(kept.len(), MAX_KEPT_RESPONSE_BYTES / 3 * 3);
        assert!(attempt.response_truncated);
        assert_eq!(attempt.response_bytes, Some(1_000_000));

        attempt.keep_response(b"ok", false, Some(2));
        assert_eq!(attempt.response_body.as_deref(), Some("ok"));
        assert!(!attempt.response_truncated);

        let long_error = "e".repeat(10_000);
        let failed = Attempt::failed(0, &long_error);
        assert_eq!(failed.error.map(|e| e.len()), Some(MAX_KEPT_ERROR_BYTES));
    }

    #[test]
    fn records_written_before_the_bounds_still_read() {
        let old = r#"{"at":1,"status_code":200,"latency_ms":3,"error":null,"response_body":"ok","manual":false}"#;
        let attempt: Attempt = serde_json::from_str(old).unwrap();
        assert_eq!(
            (attempt.response_truncated, attempt.response_bytes),
            (false, None)
        );
    }
}
