//! Postbacks end to end: a partner's key and endpoint, events from the commission worker,
//! deliveries through the postback queue to a real HTTP receiver on loopback, signatures
//! checked with the independent `standardwebhooks` Python package.

mod access;
mod customers;
mod delivery;
mod endpoints;
mod queue_failures;
mod record_size;
mod retries;
mod signing;
mod ssrf;
mod test_event;

use crate::support::{as_partner, partner_with_key, Backend, Env, Receiver, SEED};
use partnerhook::domain::postback::Delivery;
use partnerhook::domain::time::{Clock, SystemClock};
use serde_json::{json, Value};

/// Registers a postback to `url` for `events` with a partner's key; returns it, secret shown.
async fn register(env: &Env, api_key: &str, url: &str, events: &[&str]) -> Value {
    let (status, body) = as_partner(
        env,
        api_key,
        "POST",
        "/v1/postbacks",
        Some(json!({"url": url, "name": "My CRM", "events": events})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert!(body["secret"]
        .as_str()
        .is_some_and(|s| s.starts_with("whsec_")));
    body
}

/// A partner's view of one of its postbacks.
async fn show_postback(env: &Env, key: &str, postback_id: &str) -> Value {
    let path = format!("/v1/postbacks/{postback_id}");
    let (status, body) = as_partner(env, key, "GET", &path, None).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// A partner's view of a postback's deliveries.
async fn deliveries_of(env: &Env, key: &str, postback_id: &str) -> Value {
    let path = format!("/v1/postbacks/{postback_id}/deliveries");
    let (status, body) = as_partner(env, key, "GET", &path, None).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Pat, with a postback on `reward.created` to a receiver answering `script`, and the seed's
/// sale commissioned: one delivery queued. Returns the env, pat's key, the receiver and the
/// postback's id.
async fn reward_postback(backend: Backend, script: &[u16]) -> (Env, String, Receiver, String) {
    let env = Env::new(backend).await;
    let key = partner_with_key(&env, "pat", Some("P-001")).await;
    let receiver = Receiver::start(script).await;
    let postback = register(&env, &key, &receiver.url, &["reward.created"]).await;
    let id = postback["id"].as_str().unwrap_or_default().to_string();
    env.post_signed(SEED).await;
    env.run_worker().await;
    (env, key, receiver, id)
}

/// A delivery as stored.
async fn delivery(env: &Env, id: &str) -> Delivery {
    env.app
        .repo
        .get::<Delivery>("acme", id)
        .await
        .expect("read")
        .expect("the delivery")
        .value
}

/// Moves a delivery's next attempt to now, as if its wait had passed.
async fn make_due(env: &Env, delivery_id: &str) {
    let mut delivery = env
        .app
        .repo
        .get::<Delivery>("acme", delivery_id)
        .await
        .expect("read")
        .expect("the delivery");
    delivery.value.next_attempt_at = Some(SystemClock.now());
    env.app.repo.update("acme", &delivery).await.expect("write");
}

/// Partner `pat` with a receiver subscribed to its rewards and transactions.
async fn subscribed_partner(backend: Backend) -> (Env, String, Receiver, Value) {
    let env = Env::new(backend).await;
    let key = partner_with_key(&env, "pat", Some("P-001")).await;
    let receiver = Receiver::start(&[]).await;
    let postback = register(
        &env,
        &key,
        &receiver.url,
        &["reward.created", "reward.updated", "transaction.created"],
    )
    .await;
    (env, key, receiver, postback)
}
