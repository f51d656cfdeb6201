//! Failed deliveries: recorded with the endpoint's answer, retried on the schedule (each wait
//! kept even when SQS hands the job back early), by hand, then given up and disabled.

use super::{deliveries_of, delivery, make_due, reward_postback, show_postback};
use crate::support::{as_partner, scenario, Backend};
use partnerhook::domain::postback::{DeliveryStatus, Postback, DISABLE_AFTER_FAILING_MS};
use partnerhook::domain::schedule;
use partnerhook::domain::time::{Clock, SystemClock};
use partnerhook::usecases::postbacks::deliver;
use serde_json::json;
use std::time::Duration;

scenario!(failures_are_recorded_retried_by_schedule_and_by_hand);
async fn failures_are_recorded_retried_by_schedule_and_by_hand(backend: Backend) {
    let (env, key, receiver, id) = reward_postback(backend, &[500, 410]).await;

    // First attempt: 500, kept pending with the next attempt about 5 s away (±20 %).
    env.run_postback_worker().await;
    let deliveries = deliveries_of(&env, &key, &id).await;
    let delivery = deliveries["data"][0].clone();
    assert_eq!(delivery["status"], "pending");
    assert_eq!(delivery["attempts"][0]["status_code"], 500);
    assert_eq!(delivery["attempts"][0]["response_body"], "ok");
    let last = delivery["attempts"][0]["at"].as_i64().unwrap_or_default();
    let wait = delivery["next_attempt_at"].as_i64().unwrap_or_default() - last;
    assert!(
        (3_900..=6_100).contains(&wait),
        "retry in about 5 s, got {wait} ms"
    );

    // The retry arrives (SQS delayed it); the endpoint now answers 410: disabled, failed.
    let delivery_id = delivery["id"].as_str().unwrap_or_default().to_string();
    tokio::time::sleep(Duration::from_millis(6_500)).await;
    let (count, _) = env.run_postback_worker().await;
    assert_eq!(count, 1);
    let shown = show_postback(&env, &key, &id).await;
    assert_eq!(shown["status"], "disabled");
    let deliveries = deliveries_of(&env, &key, &id).await;
    assert_eq!(deliveries["data"][0]["status"], "failed");

    // The partner turns it back on and retries by hand: delivered.
    let (status, _) = as_partner(
        &env,
        &key,
        "PATCH",
        &format!("/v1/postbacks/{id}"),
        Some(json!({"enabled": true})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = as_partner(
        &env,
        &key,
        "POST",
        &format!("/v1/postbacks/{id}/deliveries/{delivery_id}/retry"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    env.run_postback_worker().await;
    let deliveries = deliveries_of(&env, &key, &id).await;
    let delivery = &deliveries["data"][0];
    assert_eq!(delivery["status"], "succeeded");
    assert_eq!(delivery["attempts"].as_array().map(Vec::len), Some(3));
    assert_eq!(delivery["attempts"][2]["manual"], true);
    assert_eq!(receiver.bodies().len(), 3);
    assert!(receiver.script_used_up());
}

scenario!(a_failing_endpoint_is_retried_over_a_day_then_given_up_then_disabled);
async fn a_failing_endpoint_is_retried_over_a_day_then_given_up_then_disabled(backend: Backend) {
    let (env, key, receiver, postback_id) = reward_postback(backend, &[500; 20]).await;
    env.run_postback_worker().await;
    let listed = deliveries_of(&env, &key, &postback_id).await;
    let id = listed["data"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    // Each wait of the schedule: a job that arrives early (SQS delays stop at 15 minutes) makes
    // no attempt and waits again; once due, the attempt is made.
    for (n, wait) in schedule::RETRY_SCHEDULE.iter().enumerate() {
        let d = delivery(&env, &id).await;
        assert_eq!(
            (d.attempts.len(), d.status),
            (n + 1, DeliveryStatus::Pending)
        );
        let last = d.attempts[n].at;
        let planned = d.next_attempt_at.expect("a next attempt") - last;
        let expected = i64::try_from(wait * 1000).expect("ms");
        assert!(
            (expected * 8 / 10 - 50..=expected * 12 / 10 + 50).contains(&planned),
            "wait {n}: {planned} ms, schedule {expected} ms ±20 %"
        );
        deliver::process(&env.app, "acme", &id, n + 1, None)
            .await
            .expect("early job");
        assert_eq!(
            delivery(&env, &id).await.attempts.len(),
            n + 1,
            "an early job must wait"
        );
        make_due(&env, &id).await;
        deliver::process(&env.app, "acme", &id, n + 1, None)
            .await
            .expect("due job");
    }
    let d = delivery(&env, &id).await;
    assert_eq!(d.status, DeliveryStatus::Failed);
    assert_eq!((d.attempts.len(), d.next_attempt_at), (8, None));
    assert_eq!(receiver.bodies().len(), 8);
    // A stale copy of any earlier job changes nothing.
    deliver::process(&env.app, "acme", &id, 3, None)
        .await
        .expect("stale job");
    assert_eq!(receiver.bodies().len(), 8);
    let shown = show_postback(&env, &key, &postback_id).await;
    assert_eq!(shown["status"], "active");
    assert!(shown["failing_since"].as_i64().is_some(), "{shown}");

    // Failing for more than five days disables the postback, and it says why.
    let mut stored = env
        .app
        .repo
        .get::<Postback>("acme", &postback_id)
        .await
        .expect("read")
        .expect("the postback");
    stored.value.failing_since = Some(SystemClock.now() - DISABLE_AFTER_FAILING_MS - 1);
    env.app.repo.update("acme", &stored).await.expect("write");
    let (status, _) = as_partner(
        &env,
        &key,
        "POST",
        &format!("/v1/postbacks/{postback_id}/deliveries/{id}/retry"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    env.run_postback_worker().await;
    let shown = show_postback(&env, &key, &postback_id).await;
    assert_eq!(shown["status"], "disabled");
    assert!(
        shown["disabled"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("five days")),
        "{shown}"
    );
}
