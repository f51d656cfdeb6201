//! The worker step of one delivery attempt: claim the attempt, send it, record it, decide what
//! comes next, queue it. Also the partner's test event and manual retries.

use crate::app::App;
use crate::crypto::token::random_token;
use crate::domain::postback::{
    Attempt, Delivery, DeliveryStatus, Disabled, Postback, DISABLE_AFTER_FAILING_MS,
};
use crate::domain::schedule::{decide, Decision};
use crate::error::AppError;
use crate::outbound::client::Purpose;
use crate::queue::{Job, Written};
use crate::repo::codec::Versioned;
use crate::store::StoreError;
use std::time::Duration;

/// SQS delays stop at 15 minutes: longer waits are taken in hops of at most this.
pub const MAX_QUEUE_DELAY: Duration = Duration::from_secs(900);
/// A claimed attempt whose worker vanished may be taken over after this long.
const CLAIM_TIMEOUT_MS: i64 = 2 * 60 * 1000;

/// The worker step of one queued delivery job. `attempt` is how many attempts the job's sender
/// had seen; a copy of an older job finds more and leaves, except that the job of the attempt
/// just made sees to it that the next one is queued. `carried` is the delivery as the job's
/// sender wrote it: it spares the read, and its claim, conditional on its version, proves it
/// current (a refused claim reads the delivery and decides again).
pub async fn process(
    app: &App,
    program: &str,
    delivery_id: &str,
    attempt: usize,
    carried: Option<Versioned<Delivery>>,
) -> Result<(), AppError> {
    let mut carried = carried;
    let delivery = loop {
        let copy = carried.take();
        let from_copy = copy.is_some();
        let delivery = match copy {
            Some(copy) => copy,
            None => match app.repo.get::<Delivery>(program, delivery_id).await? {
                Some(read) => read,
                None => return Ok(()),
            },
        };
        match claim(app, program, attempt, delivery).await? {
            Claim::Taken(claimed) => break *claimed,
            Claim::Refused if from_copy => continue,
            Claim::Refused | Claim::Left => return Ok(()),
        }
    };
    attempt_claimed(app, program, attempt, delivery).await
}

/// What a job found when it went to claim its attempt.
enum Claim {
    Taken(Box<Versioned<Delivery>>),
    /// Its version changed since it was read: another copy of this job claimed it first, or the
    /// job's own copy of the delivery is stale.
    Refused,
    /// Nothing (more) for this job to do.
    Left,
}

async fn claim(
    app: &App,
    program: &str,
    attempt: usize,
    mut delivery: Versioned<Delivery>,
) -> Result<Claim, AppError> {
    let d = &delivery.value;
    if d.status != DeliveryStatus::Pending {
        return Ok(Claim::Left);
    }
    if d.attempts_made() == attempt + 1 && d.claimed.is_none() {
        // This job's attempt was made and recorded, but the run that made it may have failed
        // before queueing the next one, which is why this job came back: queue it now. A second
        // copy of the next job is harmless, as every attempt is claimed before it is made.
        queue_attempt(app, program, &delivery, attempt + 1).await?;
        return Ok(Claim::Left);
    }
    if d.attempts_made() != attempt {
        return Ok(Claim::Left);
    }
    let now = app.now();
    if d.next_attempt_at.is_some_and(|due| due > now + 1000) {
        // Early: SQS delays stop at 15 minutes, so a long wait is taken in hops.
        queue_attempt(app, program, &delivery, attempt).await?;
        return Ok(Claim::Left);
    }
    if let Some((claimed, at)) = delivery.value.claimed {
        if claimed == attempt + 1 && now - at < CLAIM_TIMEOUT_MS {
            return Ok(Claim::Left);
        }
    }
    delivery.value.claimed = Some((attempt + 1, now));
    match app.repo.update(program, &delivery).await {
        Ok(()) => {
            delivery.version += 1;
            Ok(Claim::Taken(Box::new(delivery)))
        }
        Err(StoreError::VersionConflict { .. }) => Ok(Claim::Refused),
        Err(e) => Err(e.into()),
    }
}

/// Makes the claimed attempt, records it, and queues the next one if there is to be one.
async fn attempt_claimed(
    app: &App,
    program: &str,
    attempt: usize,
    mut delivery: Versioned<Delivery>,
) -> Result<(), AppError> {
    let postback = app
        .repo
        .get::<Postback>(program, &delivery.value.postback_id)
        .await?;
    let (decision, record) = match postback.as_ref().map(|p| &p.value) {
        None => (
            Decision::GiveUp,
            Attempt::failed(app.now(), "the postback was deleted"),
        ),
        Some(p) if p.disabled.is_some() => (
            Decision::GiveUp,
            Attempt::failed(app.now(), "the postback is disabled"),
        ),
        Some(p) => {
            let (response, mut record) = app
                .deliverer()?
                .send(
                    Purpose::Delivery,
                    app.now(),
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
    d.record_attempt(record);
    d.claimed = None;
    d.updated_at = app.now();
    d.next_attempt_at = None;
    match &decision {
        Decision::Delivered => d.status = DeliveryStatus::Succeeded,
        Decision::GiveUp | Decision::Disable => d.status = DeliveryStatus::Failed,
        Decision::RetryIn(wait) => {
            let wait_ms = i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
            d.next_attempt_at = Some(app.now().saturating_add(wait_ms));
        }
    }
    app.repo.update(program, &delivery).await?;
    delivery.version += 1;
    if let Some(postback) = postback {
        note_outcome(app, program, postback, &decision).await?;
    }
    if let Decision::RetryIn(_) = decision {
        queue_attempt(app, program, &delivery, attempt + 1).await?;
    }
    Ok(())
}

/// A delivery larger than this (its body and the answers recorded so far) is not carried in its
/// job: SQS bills a message per 64 KiB.
const MAX_CARRIED_BYTES: usize = 48 * 1024;

/// The job of `delivery`'s attempt after `attempt` earlier ones, carrying the delivery as just
/// written (`delivery.version` is that write's) unless it is large.
pub fn deliver_job(program: &str, delivery: &Versioned<Delivery>, attempt: usize) -> Job {
    let written = Written {
        value: delivery.value.clone(),
        version: delivery.version,
    };
    let small = serde_json::to_vec(&written).is_ok_and(|json| json.len() <= MAX_CARRIED_BYTES);
    Job::Deliver {
        program: program.to_string(),
        delivery_id: delivery.value.id.clone(),
        attempt,
        delivery: small.then(|| Box::new(written)),
    }
}

/// Queues the job of a delivery's next attempt for when it is due, or for 15 minutes from now
/// if it is due later than that (the job then waits again).
async fn queue_attempt(
    app: &App,
    program: &str,
    delivery: &Versioned<Delivery>,
    attempt: usize,
) -> Result<(), AppError> {
    let job = deliver_job(program, delivery, attempt);
    let due = delivery.value.next_attempt_at;
    let wait_ms = due.map_or(0, |due| due - app.now()).max(0);
    let wait = Duration::from_millis(u64::try_from(wait_ms).unwrap_or(0));
    app.queue
        .send_after(&job, wait.min(MAX_QUEUE_DELAY))
        .await?;
    Ok(())
}

/// Tracks how long a postback has been failing; disables it on 410 or after days of failure.
async fn note_outcome(
    app: &App,
    program: &str,
    mut postback: Versioned<Postback>,
    decision: &Decision,
) -> Result<(), AppError> {
    let now = app.now();
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
pub async fn send_test(app: &App, postback: &Postback) -> Result<Attempt, AppError> {
    let body =
        serde_json::json!({"event": "test", "data": {"message": "Test event sent!"}}).to_string();
    let message_id = random_token("msg_test_", 12);
    let (_, attempt) = app
        .deliverer()?
        .send(
            Purpose::Test,
            app.now(),
            &postback.url,
            &postback.secrets,
            &message_id,
            &body,
        )
        .await;
    Ok(attempt)
}

/// A failed delivery is tried once more, now.
pub async fn retry_by_hand(
    app: &App,
    program: &str,
    delivery: &mut Versioned<Delivery>,
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
    d.next_attempt_at = Some(app.now());
    d.claimed = None;
    d.updated_at = app.now();
    app.repo.update(program, delivery).await?;
    delivery.version += 1;
    let job = deliver_job(program, delivery, delivery.value.attempts_made());
    app.queue.send(&job).await?;
    Ok(())
}
