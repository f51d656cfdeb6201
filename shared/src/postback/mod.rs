//! Postbacks: partners subscribe endpoints to events; each (event, postback) pair becomes one
//! delivery, signed per Standard Webhooks, retried on a schedule, and logged attempt by attempt.
//!
//! Events and payloads follow PartnerStack's postbacks: `{"event": "reward.created", "data":
//! {...}}` with amounts in cents and times in epoch milliseconds. A partner only receives
//! events about their own partnership.

pub mod deliver;
pub mod schedule;
pub mod signing;
pub mod ssrf;

use crate::app::App;
use crate::domain::{
    now_millis, Customer, Millis, Program, Reward, RewardStatus, Transaction, TransactionStatus,
};
use crate::error::AppError;
use crate::money::Currency;
use crate::queue::Job;
use crate::repo::Inserted;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The event types a postback may subscribe to.
pub const EVENT_TYPES: [&str; 7] = [
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "transaction.created",
    "transaction.updated",
    "reward.created",
    "reward.updated",
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

fn digest(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hex::encode(hasher.finalize())[..24].to_string()
}

/// What happened, for whom: the payload is built only if someone subscribed.
pub enum Event<'a> {
    RewardCreated(&'a Reward),
    RewardUpdated(&'a Reward),
    TransactionCreated(&'a Transaction),
    TransactionUpdated(&'a Transaction),
    CustomerCreated(&'a Customer),
    CustomerUpdated(&'a Customer),
    CustomerDeleted(&'a Customer),
}

impl Event<'_> {
    fn kind(&self) -> &'static str {
        match self {
            Self::RewardCreated(_) => "reward.created",
            Self::RewardUpdated(_) => "reward.updated",
            Self::TransactionCreated(_) => "transaction.created",
            Self::TransactionUpdated(_) => "transaction.updated",
            Self::CustomerCreated(_) => "customer.created",
            Self::CustomerUpdated(_) => "customer.updated",
            Self::CustomerDeleted(_) => "customer.deleted",
        }
    }

    /// Same event, same id: a redelivered job cannot send it twice.
    fn identity(&self) -> String {
        match self {
            Self::RewardCreated(r) => r.key.clone(),
            Self::RewardUpdated(r) => format!("{}@{}", r.key, r.updated_at),
            Self::TransactionCreated(t) => t.key.clone(),
            Self::TransactionUpdated(t) => format!("{}@{}", t.key, t.updated_at),
            // A customer may join, change in and leave a partnership more than once.
            Self::CustomerCreated(c) | Self::CustomerUpdated(c) | Self::CustomerDeleted(c) => {
                format!("{}@{}", c.key, c.last_change())
            }
        }
    }

    fn data(&self, program: &Program, partner_key: &str) -> Value {
        let company = json!({ "key": program.slug, "name": program.name });
        match self {
            Self::RewardCreated(r) | Self::RewardUpdated(r) => {
                let (payment_status, payment_date) = match r.reward_status {
                    RewardStatus::Declined => (Value::Null, Value::Null),
                    RewardStatus::Paid => (json!("withdrawn"), json!(r.updated_at)),
                    _ => (json!("pending"), Value::Null),
                };
                json!({
                    "key": r.key,
                    "description": format!("{}% of transaction {} (level {})", r.percent, r.transaction_key, r.level),
                    "amount": cents(r.currency, r.amount),
                    "amount_usd": usd_cents(program, r.currency, r.amount),
                    "currency": r.currency,
                    "reward_status": r.reward_status,
                    "payment_status": payment_status,
                    "payment_date": payment_date,
                    "source": "transaction",
                    "partnership_key": partner_key,
                    "created_at": r.created_at,
                    "updated_at": r.updated_at,
                    "company": company,
                    "customer": { "key": r.customer_key, "sub_ids": [] },
                    "transaction_key": r.transaction_key,
                })
            }
            Self::TransactionCreated(t) | Self::TransactionUpdated(t) => json!({
                "key": t.key,
                "amount": cents(t.amounts.currency, t.amounts.gross),
                "amount_usd": usd_cents(program, t.amounts.currency, t.amounts.gross),
                "currency": t.amounts.currency,
                "product_key": t.product.id,
                "partnership_key": partner_key,
                "archived": t.status == TransactionStatus::Refunded,
                "created_at": t.created_at,
                "updated_at": t.updated_at,
                "company": company,
                "customer": { "key": t.customer_key, "sub_ids": [] },
            }),
            Self::CustomerCreated(c) | Self::CustomerUpdated(c) | Self::CustomerDeleted(c) => {
                json!({
                    "key": c.key,
                    "sub_ids": [],
                    "has_paid": c.has_paid,
                    "partnership_key": partner_key,
                    "created_at": c.created_at,
                    "updated_at": c.last_change(),
                    "company": company,
                })
            }
        }
    }
}

fn cents(currency: Currency, amount: Decimal) -> Option<i64> {
    currency.to_minor(amount).ok()
}

/// USD cents at the program's configured rate; null when no rate is set for the currency.
fn usd_cents(program: &Program, currency: Currency, amount: Decimal) -> Option<i64> {
    let usd = Currency::parse("USD").ok()?;
    if currency == usd {
        return cents(usd, amount);
    }
    let rate = program.usd_rates.get(currency.code())?;
    cents(usd, usd.round(amount * rate))
}

/// Creates one delivery per subscribed, active postback of the partner and queues it.
pub async fn emit(
    app: &App,
    program: &str,
    partner_key: &str,
    event: Event<'_>,
) -> Result<(), AppError> {
    let postbacks = app.repo.postbacks_of_partner(program, partner_key).await?;
    let kind = event.kind();
    let subscribed: Vec<&Postback> = postbacks
        .iter()
        .filter(|p| p.disabled.is_none() && p.events.iter().any(|e| e == kind))
        .collect();
    if subscribed.is_empty() {
        return Ok(());
    }
    let Some(program) = app.repo.get_program(program).await?.map(|v| v.value) else {
        return Ok(());
    };
    let body = json!({ "event": kind, "data": event.data(&program, partner_key) }).to_string();
    let message_id = format!("msg_{}", digest(&[&program.slug, kind, &event.identity()]));
    let now = now_millis();
    for postback in subscribed {
        let delivery = Delivery {
            id: format!("dlv_{}", digest(&[&message_id, &postback.id])),
            program: program.slug.clone(),
            postback_id: postback.id.clone(),
            message_id: message_id.clone(),
            event: kind.to_string(),
            body: body.clone(),
            status: DeliveryStatus::Pending,
            attempts: Vec::new(),
            next_attempt_at: Some(now),
            manual: false,
            claimed: None,
            created_at: now,
            updated_at: now,
        };
        let first_attempt_pending = match app.repo.insert(&program.slug, &delivery).await? {
            Inserted::Created => true,
            // Emitted before: queue it again only if it never got its first attempt.
            Inserted::Exists(existing) => {
                existing.value.status == DeliveryStatus::Pending
                    && existing.value.attempts.is_empty()
            }
        };
        if first_attempt_pending {
            let job = Job::Deliver {
                program: program.slug.clone(),
                delivery_id: delivery.id.clone(),
                attempt: 0,
            };
            app.queue.send(&job).await?;
        }
    }
    Ok(())
}

/// How the API shows a postback: everything but its secrets.
pub fn view(postback: &Postback) -> Value {
    json!({
        "id": postback.id,
        "name": postback.name,
        "url": postback.url,
        "events": postback.events,
        "status": if postback.disabled.is_some() { "disabled" } else { "active" },
        "disabled": postback.disabled,
        "failing_since": postback.failing_since,
        "secrets_configured": postback.secrets.len(),
        "created_at": postback.created_at,
        "updated_at": postback.updated_at,
    })
}

pub fn delivery_view(delivery: &Delivery) -> Value {
    json!({
        "id": delivery.id,
        "postback_id": delivery.postback_id,
        "message_id": delivery.message_id,
        "event": delivery.event,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "next_attempt_at": delivery.next_attempt_at,
        "created_at": delivery.created_at,
        "updated_at": delivery.updated_at,
    })
}

/// Checks the event types a postback subscribes to.
pub fn validate_events(events: &[String]) -> Result<(), AppError> {
    if events.is_empty() {
        return Err(AppError::invalid(
            "events",
            "subscribe to at least one event type",
        ));
    }
    if let Some(unknown) = events.iter().find(|e| !EVENT_TYPES.contains(&e.as_str())) {
        return Err(AppError::invalid(
            "events",
            format!(
                "{unknown:?} is not an event type; use {}",
                EVENT_TYPES.join(", ")
            ),
        ));
    }
    Ok(())
}
