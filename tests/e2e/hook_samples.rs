//! Samples of an incoming webhook are bounded in bytes, not only in number: however large the
//! payloads sent to its test URL, its record stays far under DynamoDB's 400 KB item limit.

use crate::incoming::{create_hook, post};
use crate::support::{scenario, stored_item_size, Backend, Env};
use partnerhook::domain::hook::{IncomingWebhook, MAX_SAMPLES, MAX_SAMPLES_BYTES};
use partnerhook::http::webhooks::MAX_BODY_BYTES;
use partnerhook::repo::keys;
use partnerhook::sources::incoming::capture_sample;
use serde_json::{json, Map, Value};

/// A JSON payload of about `bytes`: one long text and many fields with long values.
fn payload(bytes: usize, fields: usize) -> String {
    let mut object = Map::new();
    object.insert("note".into(), Value::String("n".repeat(bytes / 2)));
    let each = bytes / 2 / fields;
    for i in 0..fields {
        object.insert(format!("field_{i:03}"), Value::String("v".repeat(each)));
    }
    object.insert("order".into(), json!({"total": 149.99}));
    Value::Object(object).to_string()
}

scenario!(large_samples_leave_a_small_hook_record);
async fn large_samples_leave_a_small_hook_record(backend: Backend) {
    let env = Env::new(backend).await;
    let hook = create_hook(&env).await;
    let id = hook["id"].as_str().unwrap_or_default().to_string();

    // Through the test URL, as large as the ingest takes.
    let near_limit = payload(MAX_BODY_BYTES - 12_000, 400);
    assert!(near_limit.len() < MAX_BODY_BYTES);
    for _ in 0..MAX_SAMPLES {
        let (status, answer) = post(&env, &hook["test_url"], "application/json", &near_limit).await;
        assert_eq!(status, 200, "{answer}");
    }
    // Past the ingest's cap, a 300 KB sample straight to the step that keeps it.
    let stored = env
        .app
        .repo
        .get::<IncomingWebhook>("acme", &id)
        .await
        .expect("read")
        .expect("the hook")
        .value;
    let large = payload(300_000, 500);
    let headers = axum::http::HeaderMap::from_iter([(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    )]);
    capture_sample(&env.app, &stored, &headers, large.as_bytes())
        .await
        .expect("kept");

    let size = stored_item_size(&env, keys::hook(&id)).await;
    assert!(size < MAX_SAMPLES_BYTES + 8_000, "{size} bytes");
    let (status, shown) = env
        .api("GET", &format!("/v1/incoming-webhooks/{id}"), None)
        .await;
    assert_eq!(status, 200, "{shown}");
    let paths = shown["field_paths"].as_array().map(Vec::len).unwrap_or(0);
    assert!(paths > 100, "the newest sample's paths are listed: {paths}");
    assert!(
        shown.to_string().contains("field_000"),
        "the newest sample's first fields are listed"
    );
}
