//! The reward lifecycle: the holding period and the sweeper's approval, admins' reviews,
//! payouts (under retries, crashes and concurrency), clawbacks after refunds, balances and the
//! partner's own reads.

mod clawbacks;
mod payouts;
mod reviews;

use crate::support::{pat_listening, Backend, Env, Receiver};
use partnerhook::domain::time::ManualClock;
use serde_json::{json, Value};
use std::sync::Arc;

/// 2026-05-01T00:00:00Z.
pub const START: i64 = 1_777_593_600_000;
pub const DAY: i64 = 24 * 60 * 60 * 1000;

pub const EVENTS: [&str; 2] = ["reward.created", "reward.updated"];

/// Partner `pat` (its API key returned) with customer `cus_1`, a postback on the reward
/// events, and the plan's `holding_days`.
pub async fn pat(env: &Env, holding_days: u32) -> (String, Receiver) {
    let plan = json!({"holding_days": holding_days});
    let (api_key, receiver, program) = pat_listening(env, &EVENTS, plan).await;
    assert_eq!(program["commission"]["holding_days"], holding_days);
    (api_key, receiver)
}

pub async fn clocked(backend: Backend) -> (Env, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::at(START));
    (Env::with_clock(backend, clock.clone()).await, clock)
}

/// A sale of `minor` cents (USD) by `cus_1`, commissioned: pat earns 20 % of it as `{key}:1`.
pub async fn sale(env: &Env, key: &str, minor: i64) -> Value {
    let body = json!({"amount": minor, "currency": "USD", "key": key});
    let path = "/v1/customers/cus_1/transactions";
    let (status, tx) = env.api("POST", path, Some(body)).await;
    assert_eq!(status, 201, "{tx}");
    env.run_worker().await;
    reward(env, &format!("{key}:1")).await
}

/// The reward `key`, as the admin lists it by transaction.
pub async fn reward(env: &Env, key: &str) -> Value {
    let (tx, _) = key.split_once(':').expect("a reward key");
    let (status, page) = env
        .api("GET", &format!("/v1/rewards?transaction_key={tx}"), None)
        .await;
    assert_eq!(status, 200, "{page}");
    let data = page["data"].as_array().cloned().unwrap_or_default();
    data.into_iter()
        .find(|r| r["key"] == key)
        .unwrap_or_else(|| panic!("no reward {key}"))
}

/// The reward events heard so far: (event, reward key, reward_status).
pub async fn heard(env: &Env, receiver: &Receiver) -> Vec<(String, String, String)> {
    while env.run_postback_worker().await.0 > 0 {}
    receiver
        .bodies()
        .iter()
        .map(|b| {
            let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
            (
                text(&b["event"]),
                text(&b["data"]["key"]),
                text(&b["data"]["reward_status"]),
            )
        })
        .collect()
}

/// The partner's balance in USD, from `path` (admin's or the partner's own).
pub fn usd(balance: &Value) -> Value {
    balance["data"]
        .as_array()
        .and_then(|all| all.iter().find(|b| b["currency"] == "USD").cloned())
        .unwrap_or(Value::Null)
}

/// A GET whose answer is not JSON: status, content type and body.
pub async fn get_text(env: &Env, path: &str) -> (u16, String, String) {
    use tower::ServiceExt;
    let request = axum::http::Request::builder()
        .uri(path)
        .header("authorization", format!("Bearer {}", env.program.admin_key))
        .body(axum::body::Body::empty())
        .expect("a request");
    let response = env.api_router().oneshot(request).await.expect("infallible");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    (
        status,
        content_type,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

/// `POST /v1/payouts` for pat in USD under an `Idempotency-Key`.
pub async fn pay(env: &Env, idempotency_key: &str, extra: Value) -> (u16, Value) {
    let mut body = json!({"partner_key": "pat", "currency": "USD"});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    env.api_with(
        "POST",
        "/v1/payouts",
        Some(body),
        &[("idempotency-key", idempotency_key)],
    )
    .await
}
