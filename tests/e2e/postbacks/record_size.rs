//! An endpoint answering 1 MB of binary, attempt after attempt: the delivery keeps the latest
//! attempts, each with a few KiB of the answer as valid UTF-8 and its real size, and its record
//! stays far under DynamoDB's 400 KB item limit.

use super::{deliveries_of, delivery, make_due, register};
use crate::support::{
    as_partner, partner_with_key, scenario, stored_item_size, Backend, Env, SEED,
};
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use partnerhook::domain::postback::{DeliveryStatus, MAX_KEPT_ATTEMPTS, MAX_KEPT_RESPONSE_BYTES};
use partnerhook::repo::keys;
use partnerhook::store::dynamodb::MAX_ITEM_BYTES;
use partnerhook::usecases::postbacks::deliver;

const ANSWER_BYTES: usize = 1_000_000;

/// An endpoint failing with 1 MB of every byte value (control characters and invalid UTF-8
/// among them); returns its URL.
async fn binary_endpoint() -> String {
    let answer: Vec<u8> = (0..=255u8).cycle().take(ANSWER_BYTES).collect();
    let app = Router::new().route(
        "/hook",
        post(move || {
            let answer = answer.clone();
            async move { (StatusCode::INTERNAL_SERVER_ERROR, answer) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

scenario!(megabyte_answers_over_many_attempts_leave_a_small_delivery_record);
async fn megabyte_answers_over_many_attempts_leave_a_small_delivery_record(backend: Backend) {
    let env = Env::new(backend).await;
    let key = partner_with_key(&env, "pat", Some("P-001")).await;
    let url = binary_endpoint().await;
    let postback = register(&env, &key, &url, &["reward.created"]).await;
    let postback_id = postback["id"].as_str().unwrap_or_default().to_string();
    env.post_signed(SEED).await;
    env.run_worker().await;
    env.run_postback_worker().await;
    let id = deliveries_of(&env, &key, &postback_id).await["data"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    // The schedule's attempts, each made due at once.
    for made in 1..8 {
        make_due(&env, &id).await;
        deliver::process(&env.app, "acme", &id, made, None)
            .await
            .expect("an attempt");
    }
    assert_eq!(delivery(&env, &id).await.status, DeliveryStatus::Failed);
    // Then retries by hand, past the number of attempts kept.
    let retry = format!("/v1/postbacks/{postback_id}/deliveries/{id}/retry");
    let manual = 17;
    for _ in 0..manual {
        let (status, body) = as_partner(&env, &key, "POST", &retry, None).await;
        assert_eq!(status, 200, "{body}");
        env.run_postback_worker().await;
    }

    let stored = delivery(&env, &id).await;
    assert_eq!(stored.status, DeliveryStatus::Failed);
    assert_eq!(stored.attempts_made(), 8 + manual);
    assert_eq!(stored.attempts.len(), MAX_KEPT_ATTEMPTS);
    assert!(stored.attempts.iter().rev().take(manual).all(|a| a.manual));
    for attempt in &stored.attempts {
        assert_eq!(attempt.status_code, Some(500));
        assert!(attempt.response_truncated);
        assert_eq!(attempt.response_bytes, Some(ANSWER_BYTES as u64));
        let kept = attempt.response_body.as_deref().unwrap_or_default();
        let as_stored = serde_json::to_string(kept).expect("json").len() - 2;
        assert!(
            (MAX_KEPT_RESPONSE_BYTES - 8..=MAX_KEPT_RESPONSE_BYTES).contains(&as_stored),
            "{as_stored} bytes kept"
        );
    }
    let size = stored_item_size(&env, keys::delivery("acme", &id)).await;
    assert!(size < 150_000, "{size} bytes, limit {MAX_ITEM_BYTES}");

    let listed = deliveries_of(&env, &key, &postback_id).await;
    assert_eq!(listed["data"][0]["attempts_made"], 8 + manual);
}
