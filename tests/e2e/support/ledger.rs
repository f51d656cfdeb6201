//! Transactions and rewards as the admin reads them through the API.

use super::Env;
use serde_json::Value;

/// The transaction `key`; it must exist.
pub async fn transaction(env: &Env, key: &str) -> Value {
    let (status, body) = env
        .api("GET", &format!("/v1/transactions/{key}"), None)
        .await;
    assert_eq!(status, 200, "{key}: {body}");
    body
}

/// The rewards of transaction `key`.
pub async fn rewards(env: &Env, key: &str) -> Vec<Value> {
    let (status, body) = env
        .api("GET", &format!("/v1/rewards?transaction_key={key}"), None)
        .await;
    assert_eq!(status, 200, "{body}");
    body["data"].as_array().cloned().unwrap_or_default()
}
