//! Postbacks and their deliveries: partners subscribe endpoints to events; each (event,
//! postback) pair becomes one delivery, logged attempt by attempt.

use crate::domain::error::FieldError;
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
    /// The start of the endpoint's answer.
    pub response_body: Option<String>,
    pub manual: bool,
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
    pub attempts: Vec<Attempt>,
    pub next_attempt_at: Option<Millis>,
    /// A manual retry is tried once, not rescheduled.
    pub manual: bool,
    /// The attempt a worker has taken on, and when: a second copy of the job leaves it alone.
    pub claimed: Option<(usize, Millis)>,
    pub created_at: Millis,
    pub updated_at: Millis,
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
