//! Sending one delivery attempt over HTTP, and the worker step around it: claim the attempt,
//! send, record it, decide what comes next, queue it.

use super::schedule::{decide, Decision, Response};
use super::signing::sign;
use super::ssrf::{allowed, EndpointPolicy, GuardedResolver};
use super::{Attempt, Delivery, DeliveryStatus, Disabled, DISABLE_AFTER_FAILING_MS};
use crate::app::App;
use crate::domain::now_millis;
use crate::error::AppError;
use crate::queue::Job;
use crate::store::StoreError;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// The endpoint's answer is kept up to this many bytes.
pub const MAX_RESPONSE_BYTES: usize = 20 * 1024;
/// SQS delays stop at 15 minutes: longer waits are taken in hops of at most this.
pub const MAX_QUEUE_DELAY: Duration = Duration::from_secs(900);
/// A claimed attempt whose worker vanished may be taken over after this long.
const CLAIM_TIMEOUT_MS: i64 = 2 * 60 * 1000;

/// The HTTP client of postbacks: no redirects, a timeout, and only allowed addresses.
pub struct Deliverer {
    client: reqwest::Client,
    policy: EndpointPolicy,
    timeout: Duration,
}

impl Deliverer {
    pub fn new(policy: EndpointPolicy) -> Result<Self, String> {
        Self::with_timeout(policy, REQUEST_TIMEOUT)
    }

    /// A deliverer that gives up on an endpoint after `timeout` (tests use a short one).
    pub fn with_timeout(policy: EndpointPolicy, timeout: Duration) -> Result<Self, String> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .dns_resolver(Arc::new(GuardedResolver { policy }))
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .user_agent(concat!("Partnerhook-Postbacks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            client,
            policy,
            timeout,
        })
    }

    /// One signed POST; never fails, but reports what happened.
    pub async fn send(
        &self,
        url: &str,
        secrets: &[String],
        message_id: &str,
        body: &str,
    ) -> (Response, Attempt) {
        let started = Instant::now();
        let mut attempt = Attempt {
            at: now_millis(),
            status_code: None,
            latency_ms: 0,
            error: None,
            response_body: None,
            manual: false,
        };
        if let Err(refusal) = self.check_url(url) {
            attempt.error = Some(refusal);
            return (Response::Error, attempt);
        }
        let timestamp = time::OffsetDateTime::now_utc().unix_timestamp();
        let request = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", message_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header(
                "webhook-signature",
                sign(secrets, message_id, timestamp, body.as_bytes()),
            )
            .body(body.to_string());
        let outcome = match request.send().await {
            Ok(mut response) => {
                let code = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| retry_after_seconds(v, std::time::SystemTime::now()));
                attempt.status_code = Some(code);
                let mut kept = Vec::new();
                while kept.len() < MAX_RESPONSE_BYTES {
                    match response.chunk().await {
                        Ok(Some(chunk)) => kept.extend_from_slice(&chunk),
                        _ => break,
                    }
                }
                kept.truncate(MAX_RESPONSE_BYTES);
                attempt.response_body = Some(String::from_utf8_lossy(&kept).into_owned());
                Response::Status { code, retry_after }
            }
            Err(e) if e.is_timeout() => {
                attempt.error = Some(format!("timed out after {:?}", self.timeout));
                Response::Timeout
            }
            Err(e) => {
                attempt.error = Some(error_chain(&e));
                Response::Error
            }
        };
        attempt.latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        (outcome, attempt)
    }

    /// Literal addresses bypass the resolver, so they are checked here.
    fn check_url(&self, url: &str) -> Result<(), String> {
        let parsed = url::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
        if self.policy.require_https && parsed.scheme() != "https" {
            return Err("only https endpoints are allowed".into());
        }
        let host = parsed.host_str().unwrap_or_default();
        if let Ok(ip) = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        {
            if !allowed(ip, self.policy) {
                return Err(format!("{ip} is not a public address"));
            }
        }
        Ok(())
    }
}

/// `Retry-After` is either seconds or an HTTP date (RFC 9110); a date in the past means now.
fn retry_after_seconds(value: &str, now: std::time::SystemTime) -> Option<u64> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(seconds);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).map_or(0, |wait| wait.as_secs()))
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

/// The worker step of one queued delivery job. `attempt` is how many attempts the job's sender
/// had seen; a copy of an older job finds more and leaves, except that the job of the attempt
/// just made sees to it that the next one is queued.
pub async fn process(
    app: &App,
    program: &str,
    delivery_id: &str,
    attempt: usize,
) -> Result<(), AppError> {
    let Some(mut delivery) = app.repo.get_delivery(program, delivery_id).await? else {
        return Ok(());
    };
    let d = &delivery.value;
    if d.status != DeliveryStatus::Pending {
        return Ok(());
    }
    if d.attempts.len() == attempt + 1 && d.claimed.is_none() {
        // This job's attempt was made and recorded, but the run that made it may have failed
        // before queueing the next one, which is why this job came back: queue it now. A second
        // copy of the next job is harmless, as every attempt is claimed before it is made.
        return queue_attempt(app, program, delivery_id, attempt + 1, d.next_attempt_at).await;
    }
    if d.attempts.len() != attempt {
        return Ok(());
    }
    let now = now_millis();
    if d.next_attempt_at.is_some_and(|due| due > now + 1000) {
        // Early: SQS delays stop at 15 minutes, so a long wait is taken in hops.
        return queue_attempt(app, program, delivery_id, attempt, d.next_attempt_at).await;
    }
    if let Some((claimed, at)) = delivery.value.claimed {
        if claimed == attempt + 1 && now - at < CLAIM_TIMEOUT_MS {
            return Ok(());
        }
    }
    delivery.value.claimed = Some((attempt + 1, now));
    match app.repo.update(program, &delivery).await {
        Ok(()) => delivery.version += 1,
        // Another copy of this job claimed it first.
        Err(StoreError::VersionConflict { .. }) => return Ok(()),
        Err(e) => return Err(e.into()),
    }

    let postback = app
        .repo
        .get_postback(program, &delivery.value.postback_id)
        .await?;
    let (decision, record) = match postback.as_ref().map(|p| &p.value) {
        None => (Decision::GiveUp, refusal("the postback was deleted")),
        Some(p) if p.disabled.is_some() => (Decision::GiveUp, refusal("the postback is disabled")),
        Some(p) => {
            let deliverer = app.deliverer().map_err(AppError::BadRequest)?;
            let (response, mut record) = deliverer
                .send(
                    &p.url,
                    &p.secrets,
                    &delivery.value.message_id,
                    &delivery.value.body,
                )
                .await;
            record.manual = delivery.value.manual;
            let decision = match decide(attempt + 1, &response, rand::random_range(-1.0..=1.0)) {
                // A manual retry is tried once.
                Decision::RetryIn(_) if delivery.value.manual => Decision::GiveUp,
                other => other,
            };
            (decision, record)
        }
    };

    let d = &mut delivery.value;
    d.attempts.push(record);
    d.claimed = None;
    d.updated_at = now_millis();
    d.next_attempt_at = None;
    match &decision {
        Decision::Delivered => d.status = DeliveryStatus::Succeeded,
        Decision::GiveUp | Decision::Disable => d.status = DeliveryStatus::Failed,
        Decision::RetryIn(wait) => {
            let wait_ms = i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
            d.next_attempt_at = Some(now_millis().saturating_add(wait_ms));
        }
    }
    app.repo.update(program, &delivery).await?;
    if let Some(postback) = postback {
        note_outcome(app, program, postback, &decision).await?;
    }
    if let Decision::RetryIn(_) = decision {
        let due = delivery.value.next_attempt_at;
        queue_attempt(app, program, delivery_id, attempt + 1, due).await?;
    }
    Ok(())
}

/// Queues the job of a delivery's next attempt for when it is due, or for 15 minutes from now
/// if it is due later than that (the job then waits again).
async fn queue_attempt(
    app: &App,
    program: &str,
    delivery_id: &str,
    attempt: usize,
    due: Option<i64>,
) -> Result<(), AppError> {
    let job = Job::Deliver {
        program: program.to_string(),
        delivery_id: delivery_id.to_string(),
        attempt,
    };
    let wait_ms = due.map_or(0, |due| due - now_millis()).max(0);
    let wait = Duration::from_millis(u64::try_from(wait_ms).unwrap_or(0));
    app.queue
        .send_after(&job, wait.min(MAX_QUEUE_DELAY))
        .await?;
    Ok(())
}

fn refusal(reason: &str) -> Attempt {
    Attempt {
        at: now_millis(),
        status_code: None,
        latency_ms: 0,
        error: Some(reason.to_string()),
        response_body: None,
        manual: false,
    }
}

/// Tracks how long a postback has been failing; disables it on 410 or after days of failure.
async fn note_outcome(
    app: &App,
    program: &str,
    mut postback: crate::repo::Versioned<super::Postback>,
    decision: &Decision,
) -> Result<(), AppError> {
    let now = now_millis();
    let p = &mut postback.value;
    if p.disabled.is_some() {
        return Ok(());
    }
    match decision {
        Decision::Delivered if p.failing_since.is_none() => return Ok(()),
        Decision::Delivered => p.failing_since = None,
        Decision::Disable => {
            p.disabled = Some(Disabled {
                at: now,
                reason: "the endpoint answered 410 Gone".into(),
            })
        }
        Decision::RetryIn(_) | Decision::GiveUp => {
            let since = *p.failing_since.get_or_insert(now);
            if now - since > DISABLE_AFTER_FAILING_MS {
                p.disabled = Some(Disabled {
                    at: now,
                    reason: "every delivery failed for five days".into(),
                });
            }
        }
    }
    p.updated_at = now;
    match app.repo.update(program, &postback).await {
        // A concurrent change (the partner editing it) wins; the next outcome is noted again.
        Ok(()) | Err(StoreError::VersionConflict { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Sends the seed's test event and reports the endpoint's answer; nothing is retried.
pub async fn send_test(app: &App, postback: &super::Postback) -> Result<Attempt, AppError> {
    let deliverer = app.deliverer().map_err(AppError::BadRequest)?;
    let body =
        serde_json::json!({"event": "test", "data": {"message": "Test event sent!"}}).to_string();
    let message_id = crate::token::random_token("msg_test_", 12);
    let (_, attempt) = deliverer
        .send(&postback.url, &postback.secrets, &message_id, &body)
        .await;
    Ok(attempt)
}

/// A failed delivery is tried once more, now.
pub async fn retry_by_hand(
    app: &App,
    program: &str,
    delivery: &mut crate::repo::Versioned<Delivery>,
) -> Result<(), AppError> {
    // A manual retry still pending is queued again: its first queueing may have failed.
    let pending_manual = delivery.value.status == DeliveryStatus::Pending
        && delivery.value.manual
        && delivery.value.claimed.is_none();
    if delivery.value.status != DeliveryStatus::Failed && !pending_manual {
        return Err(AppError::Conflict(format!(
            "only failed deliveries can be retried; this one is {:?}",
            delivery.value.status
        )));
    }
    let d = &mut delivery.value;
    d.status = DeliveryStatus::Pending;
    d.manual = true;
    d.next_attempt_at = Some(now_millis());
    d.claimed = None;
    d.updated_at = now_millis();
    app.repo.update(program, delivery).await?;
    let job = Job::Deliver {
        program: program.to_string(),
        delivery_id: delivery.value.id.clone(),
        attempt: delivery.value.attempts.len(),
    };
    app.queue.send(&job).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{SystemTime, UNIX_EPOCH};

    #[test]
    fn retry_after_takes_seconds_or_an_http_date() {
        let now = UNIX_EPOCH + Duration::from_secs(1_795_428_000);
        assert_eq!(retry_after_seconds(" 120 ", now), Some(120));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(90));
        assert_eq!(retry_after_seconds(&later, now), Some(90));
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(90));
        assert_eq!(retry_after_seconds(&earlier, now), Some(0));
        assert_eq!(retry_after_seconds("soon", SystemTime::now()), None);
        assert_eq!(retry_after_seconds("-5", now), None);
    }
}
