//! Requests refused before their sender was verified: a small record each, listed in the inbox
//! with its reason, and a per-program allowance of them that answers 429 and writes nothing
//! once it is used up, while valid webhooks of every program go through.

use crate::support::{call, call_answering_headers, scenario, seed_with, sign, Backend, Env, SEED};
use partnerhook::domain::inbox::{UNVERIFIED_BODY_BYTES, UNVERIFIED_RETENTION_DAYS};
use partnerhook::domain::throttle::{RefusalBucket, BURST, REFILL_MS};
use partnerhook::domain::time::ManualClock;
use partnerhook::repo::keys;
use partnerhook::store::dynamodb::record_size;
use partnerhook::store::Store;
use partnerhook::usecases::programs;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::sync::Arc;

const NOW: i64 = 1_795_428_000_000;
const CUSTOM: &str = "/webhooks/acme/custom";

/// An environment at a clock the test moves, with the back end's store at hand for raw reads.
async fn env_at_clock(backend: Backend) -> (Env, Arc<ManualClock>, Arc<dyn Store>) {
    let clock = Arc::new(ManualClock::at(NOW));
    let mut kept = None;
    let env = Env::custom(
        backend,
        |store| {
            kept = Some(store.clone());
            store
        },
        |queue| queue,
        clock.clone(),
    )
    .await;
    let store = kept.expect("Env::custom hands over its store");
    (env, clock, store)
}

async fn inbox(env: &Env) -> Vec<Value> {
    let (status, body) = env.api("GET", "/v1/events?limit=200", None).await;
    assert_eq!(status, 200, "{body}");
    body["data"].as_array().cloned().unwrap_or_default()
}

/// The stored size of an inbox entry by DynamoDB's rules.
async fn stored_size(store: &Arc<dyn Store>, id: &str) -> usize {
    let (pk, sk) = keys::event("acme", id);
    let record = store.get(&pk, &sk).await.expect("read").expect("kept");
    record_size(&record, record.version)
}

/// Hex digits that compress about as well as a real event's text.
fn noise(bytes: usize) -> String {
    let mut text = String::new();
    let mut block = Sha256::digest(b"noise");
    while text.len() < bytes {
        text.push_str(&hex::encode(block));
        block = Sha256::digest(block);
    }
    text.truncate(bytes);
    text
}

scenario!(a_refused_sender_leaves_a_small_record_listed_with_its_reason);
async fn a_refused_sender_leaves_a_small_record_listed_with_its_reason(backend: Backend) {
    let (env, _, store) = env_at_clock(backend).await;
    let router = env.webhook_router();
    // A real sale, 200 KB with its note, under the 256 KiB cap: a verified sender's refusal
    // keeps 64 KiB of it.
    let body = seed_with(json!({"note": noise(200 * 1024)}));
    let forged = sign("not-the-secret", body.as_bytes());
    let headers = [
        ("content-type", "application/json"),
        ("x-webhook-signature", forged.as_str()),
        ("authorization", "Basic YWRtaW46aHVudGVyMg=="),
        ("user-agent", "crm-sync/2.1"),
    ];
    let (status, answer) = call(&router, "POST", CUSTOM, &headers, body.as_bytes(), false).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (401, Some("invalid_signature"))
    );

    // The same body, signed, but refused for a field: the sender is verified, all is kept.
    let wrong_field = seed_with(json!({"note": noise(200 * 1024), "grossAmount": true}));
    let signed = sign(&env.program.custom_webhook_secret, wrong_field.as_bytes());
    let verified = [
        ("content-type", "application/json"),
        ("x-webhook-signature", signed.as_str()),
    ];
    let (status, _) = call(
        &router,
        "POST",
        CUSTOM,
        &verified,
        wrong_field.as_bytes(),
        false,
    )
    .await;
    assert_eq!(status, 422);

    let events = inbox(&env).await;
    assert_eq!(events.len(), 2, "{events:?}");
    let (small, full) = (&events[1], &events[0]);
    assert_eq!(
        (
            small["verdict"].as_str(),
            small["outcome"].as_str(),
            small["http_status"].as_u64()
        ),
        (Some("rejected"), Some("invalid_signature"), Some(401))
    );
    assert!(
        small["reason"]
            .as_str()
            .is_some_and(|r| r.contains("signature")),
        "{small}"
    );
    let request = &small["request"];
    assert_eq!(request["body_bytes"].as_u64(), Some(body.len() as u64));
    assert_eq!(
        request["body_sha256"].as_str(),
        Some(hex::encode(Sha256::digest(body.as_bytes())).as_str())
    );
    assert_eq!(
        request["headers"],
        json!({
            "content-type": "application/json",
            "user-agent": "crm-sync/2.1",
            "x-webhook-signature": &forged[..24],
        }),
        "no credentials, a signature's prefix only"
    );
    assert_eq!(
        (small["body"].as_str(), small["body_truncated"].as_bool()),
        (Some(&body[..UNVERIFIED_BODY_BYTES]), Some(true))
    );
    assert_eq!(
        small["expires_at"].as_i64(),
        Some(NOW / 1000 + UNVERIFIED_RETENTION_DAYS * 24 * 3600)
    );
    assert!(full["request"].is_null(), "{}", full["outcome"]);

    // By DynamoDB's rules: two write units at most, against some forty for the verified one.
    let small_size = stored_size(&store, small["id"].as_str().unwrap_or_default()).await;
    let full_size = stored_size(&store, full["id"].as_str().unwrap_or_default()).await;
    assert!(small_size <= 2048, "{small_size} bytes");
    assert!(full_size > 16 * 1024, "{full_size} bytes");

    // Nothing else: no transaction, no customer, no job.
    let (status, _) = env.api("GET", "/v1/transactions/ext-tx-12345", None).await;
    assert_eq!(status, 404);
    let (_, customers) = env.api("GET", "/v1/customers", None).await;
    assert_eq!(customers["data"], json!([]));
    assert!(env.receive().await.is_empty());
}

/// Sends the seed sale to `path`, signed with `secret`: (status, Retry-After, error code).
async fn send(env: &Env, path: &str, secret: &str) -> (u16, Option<String>, Option<String>) {
    let signature = sign(secret, SEED.as_bytes());
    let headers = [
        ("content-type", "application/json"),
        ("x-webhook-signature", signature.as_str()),
    ];
    let (status, headers, answer) = call_answering_headers(
        &env.webhook_router(),
        "POST",
        path,
        &headers,
        SEED.as_bytes(),
        false,
    )
    .await;
    let retry_after = headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let code = answer["error"]["code"].as_str().map(str::to_string);
    (status, retry_after, code)
}

fn throttled() -> (u16, Option<String>, Option<String>) {
    (429, Some("1".into()), Some("throttled".into()))
}

fn refused() -> (u16, Option<String>, Option<String>) {
    (401, None, Some("invalid_signature".into()))
}

scenario!(a_flood_of_refused_requests_throttles_that_program_alone);
async fn a_flood_of_refused_requests_throttles_that_program_alone(backend: Backend) {
    let (env, clock, _) = env_at_clock(backend).await;
    let beta = programs::create(&env.app.repo, "beta", Some("Beta"), "EUR")
        .await
        .expect("create beta");
    for n in 0..BURST {
        assert_eq!(send(&env, CUSTOM, "forged").await, refused(), "refusal {n}");
    }
    assert_eq!(send(&env, CUSTOM, "forged").await, throttled());
    assert_eq!(
        inbox(&env).await.len(),
        BURST as usize,
        "a 429 writes nothing"
    );

    // Valid webhooks go through meanwhile: another program's, and the flooded program's own.
    let (status, _, code) = send(&env, "/webhooks/beta/custom", &beta.custom_webhook_secret).await;
    assert_eq!((status, code), (200, None));
    let (status, answer) = env.post_signed(SEED).await;
    assert_eq!((status, answer["status"].as_str()), (200, Some("created")));
    // And beta's own allowance is whole.
    assert_eq!(
        send(&env, "/webhooks/beta/custom", "forged").await,
        refused()
    );

    // The allowance refills one refusal per second, by the app's clock.
    clock.advance(REFILL_MS / 2);
    assert_eq!(send(&env, CUSTOM, "forged").await, throttled());
    clock.advance(REFILL_MS / 2);
    assert_eq!(send(&env, CUSTOM, "forged").await, refused());
    assert_eq!(send(&env, CUSTOM, "forged").await, throttled());
    clock.advance(BURST * REFILL_MS);
    for n in 0..BURST {
        assert_eq!(send(&env, CUSTOM, "forged").await, refused(), "refill {n}");
    }
    assert_eq!(send(&env, CUSTOM, "forged").await, throttled());
    let rejected = inbox(&env)
        .await
        .iter()
        .filter(|e| e["verdict"] == "rejected")
        .count();
    assert_eq!(rejected, 2 * BURST as usize + 1);
}

scenario!(concurrent_refusals_never_take_more_than_the_allowance);
async fn concurrent_refusals_never_take_more_than_the_allowance(backend: Backend) {
    let (env, _, _) = env_at_clock(backend).await;
    let sent = 2 * BURST as usize;
    let answers = futures::future::join_all((0..sent).map(|_| send(&env, CUSTOM, "forged"))).await;
    let recorded = answers.iter().filter(|a| **a == refused()).count();
    let held_back = answers.iter().filter(|a| **a == throttled()).count();
    assert_eq!(recorded + held_back, sent, "{answers:?}");
    assert!(
        (1..=BURST as usize).contains(&recorded),
        "{recorded} recorded"
    );
    assert_eq!(inbox(&env).await.len(), recorded, "one record per 401");
}

scenario!(a_refusal_whose_allowance_cannot_be_written_is_still_answered_and_recorded);
async fn a_refusal_whose_allowance_cannot_be_written_is_still_answered_and_recorded(
    backend: Backend,
) {
    let (env, flaky) = Env::flaky(backend, Arc::new(ManualClock::at(NOW))).await;
    assert_eq!(send(&env, CUSTOM, "forged").await, refused());
    // The store is unavailable for the allowance's write: the request is refused all the same
    // (never a 5xx for a forgery), and recorded, since a passing outage is no flood.
    flaky.fail_update(1, "REFUSALS");
    assert_eq!(send(&env, CUSTOM, "forged").await, refused());
    let events = inbox(&env).await;
    assert_eq!(events.len(), 2);
    assert!(events.iter().all(|e| e["outcome"] == "invalid_signature"));
    let bucket = env
        .app
        .repo
        .get_at::<RefusalBucket>(keys::refusals("acme"))
        .await
        .expect("read")
        .expect("the first refusal wrote it");
    assert_eq!(
        bucket.value.full_at,
        NOW + REFILL_MS,
        "the second token was not taken"
    );
}

scenario!(a_refusal_crafted_to_be_large_is_still_kept_small);
async fn a_refusal_crafted_to_be_large_is_still_kept_small(backend: Backend) {
    let (env, _, store) = env_at_clock(backend).await;
    // Quotes double when stored as JSON; bytes that are not text go base64 or deflated.
    let quotes = "\"".repeat(4000);
    let long_names: Vec<String> = (0..30)
        .map(|n| format!("x-signature-{n:02}-{}", "s".repeat(40)))
        .collect();
    let mut headers: Vec<(&str, &str)> = [
        "content-type",
        "content-length",
        "content-encoding",
        "user-agent",
        "x-forwarded-for",
    ]
    .into_iter()
    .map(|name| (name, quotes.as_str()))
    .collect();
    headers.extend(long_names.iter().map(|n| (n.as_str(), quotes.as_str())));
    let body: Vec<u8> = Sha256::digest(b"binary")
        .iter()
        .cycle()
        .enumerate()
        .map(|(i, b)| b.wrapping_mul(31).wrapping_add(i as u8))
        .take(100 * 1024)
        .collect();
    let (status, answer) = call(&env.webhook_router(), "POST", CUSTOM, &headers, &body, true).await;
    assert_eq!(status, 401, "{answer}");
    let events = inbox(&env).await;
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0]["request"]["headers"].as_object().map(|h| h.len()),
        Some(8)
    );
    let size = stored_size(&store, events[0]["id"].as_str().unwrap_or_default()).await;
    assert!(size <= 5 * 1024, "{size} bytes");
}
