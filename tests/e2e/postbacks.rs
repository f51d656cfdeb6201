//! Postbacks end to end: a partner's key and endpoint, events from the commission worker,
//! deliveries through the postback queue to a real HTTP receiver on loopback, signatures
//! checked with the independent `standardwebhooks` Python package.

use crate::support::{call, Env, SEED, SEED_REFUND};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::Router;
use partnerhook::domain::postback::DeliveryStatus;
use partnerhook::domain::postback::{Delivery, Postback};
use partnerhook::domain::schedule::{self, decide, Decision, Response};
use partnerhook::outbound::client::{Deliverer, MAX_RESPONSE_BYTES};
use partnerhook::outbound::signing;
use partnerhook::outbound::ssrf::EndpointPolicy;
use partnerhook::queue::{Job, Queue, QueueError};
use partnerhook::usecases::postbacks::deliver;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

/// What the receiver got: headers and body of each request.
type Received = Arc<Mutex<Vec<(HeaderMap, String)>>>;

struct Receiver {
    url: String,
    received: Received,
    /// Status codes to answer with, in order; 200 once they run out.
    script: Arc<Mutex<VecDeque<u16>>>,
}

impl Receiver {
    async fn start(script: &[u16]) -> Self {
        let received: Received = Arc::default();
        let script = Arc::new(Mutex::new(
            script.iter().copied().collect::<VecDeque<u16>>(),
        ));
        let state = (received.clone(), script.clone());
        let app = Router::new()
            .route(
                "/hook",
                post(
                    |State((received, script)): State<(Received, Arc<Mutex<VecDeque<u16>>>)>,
                     headers: HeaderMap,
                     body: Bytes| async move {
                        received
                            .lock()
                            .expect("lock")
                            .push((headers, String::from_utf8_lossy(&body).into_owned()));
                        let code = script.lock().expect("lock").pop_front().unwrap_or(200);
                        (StatusCode::from_u16(code).unwrap_or(StatusCode::OK), "ok").into_response()
                    },
                ),
            )
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            url,
            received,
            script,
        }
    }

    fn bodies(&self) -> Vec<Value> {
        self.received
            .lock()
            .expect("lock")
            .iter()
            .map(|(_, body)| serde_json::from_str(body).unwrap_or(Value::Null))
            .collect()
    }
}

/// Verifies a received request with the standardwebhooks package; panics with its complaint.
fn verify_with_standardwebhooks(secret: &str, headers: &HeaderMap, body: &str) {
    let python = std::env::var("PARTNERHOOK_TEST_PYTHON").unwrap_or_else(|_| {
        panic!("PARTNERHOOK_TEST_PYTHON is not set: run the tests with ./infra/test.sh")
    });
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let script = "import json, sys\nfrom standardwebhooks import Webhook\nsecret, body, headers = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])\nWebhook(secret).verify(body, headers)\nprint('verified')";
    let headers_json = json!({
        "webhook-id": header("webhook-id"),
        "webhook-timestamp": header("webhook-timestamp"),
        "webhook-signature": header("webhook-signature"),
    })
    .to_string();
    let output = std::process::Command::new(python)
        .args(["-c", script, secret, body, &headers_json])
        .output()
        .expect("run python");
    assert!(
        output.status.success() && String::from_utf8_lossy(&output.stdout).contains("verified"),
        "standardwebhooks refused the signature: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A partner with its own API key.
async fn partner_with_key(env: &Env, key: &str, id: Option<&str>) -> String {
    let (status, _) = env
        .api(
            "POST",
            "/v1/partners",
            Some(json!({"email": format!("{key}@example.com"), "name": key, "key": key, "id": id})),
        )
        .await;
    assert_eq!(status, 201);
    let (status, body) = env
        .api("POST", &format!("/v1/partners/{key}/api-keys"), None)
        .await;
    assert_eq!(status, 201, "{body}");
    body["api_key"].as_str().unwrap_or_default().to_string()
}

async fn as_partner(
    env: &Env,
    api_key: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let auth = format!("Bearer {api_key}");
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    call(
        &env.api_router(),
        method,
        path,
        &headers,
        body.as_bytes(),
        false,
    )
    .await
}

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
/// sale commissioned: one delivery queued.
async fn reward_postback(script: &[u16]) -> (Env, String, Receiver, String) {
    let env = Env::new().await;
    let key = partner_with_key(&env, "pat", Some("P-001")).await;
    let receiver = Receiver::start(script).await;
    let postback = register(&env, &key, &receiver.url, &["reward.created"]).await;
    let id = postback["id"].as_str().unwrap_or_default().to_string();
    env.post_signed(SEED).await;
    env.run_worker().await;
    (env, key, receiver, id)
}

#[tokio::test]
async fn rewards_and_transactions_reach_the_partner_signed_once_each() {
    let env = Env::new().await;
    let key = partner_with_key(&env, "pat", Some("P-001")).await;
    let receiver = Receiver::start(&[]).await;
    let postback = register(
        &env,
        &key,
        &receiver.url,
        &["reward.created", "reward.updated", "transaction.created"],
    )
    .await;
    let secret = postback["secret"].as_str().unwrap_or_default().to_string();

    env.post_signed(SEED).await;
    env.run_worker().await;
    // Two deliveries queued: the reward and the transaction.
    let messages = env.run_postback_worker().await;
    assert_eq!(messages.0, 2);
    let bodies = receiver.bodies();
    assert_eq!(bodies.len(), 2, "{bodies:?}");
    let reward = bodies
        .iter()
        .find(|b| b["event"] == "reward.created")
        .expect("reward.created");
    assert_eq!(reward["data"]["amount"], 3345);
    assert_eq!(
        reward["data"]["customer"],
        json!({"key": "cust-001", "sub_ids": []})
    );
    assert_eq!(reward["data"]["reward_status"], "pending");
    assert_eq!(reward["data"]["payment_status"], "pending");
    assert_eq!(reward["data"]["source"], "transaction");
    assert_eq!(reward["data"]["partnership_key"], "pat");
    assert_eq!(
        reward["data"]["company"],
        json!({"key": "acme", "name": "Acme"})
    );
    assert!(
        reward["data"]["created_at"]
            .as_i64()
            .is_some_and(|t| t > 1_700_000_000_000),
        "epoch ms"
    );
    let tx = bodies
        .iter()
        .find(|b| b["event"] == "transaction.created")
        .expect("transaction.created");
    assert_eq!(
        (
            tx["data"]["amount"].as_i64(),
            tx["data"]["currency"].as_str()
        ),
        (Some(19900), Some("EUR"))
    );
    assert_eq!(tx["data"]["customer"]["key"], "cust-001");
    assert_eq!(tx["data"]["archived"], false);
    for (headers, body) in receiver.received.lock().expect("lock").iter() {
        verify_with_standardwebhooks(&secret, headers, body);
    }

    // The refund declines the reward: reward.updated follows.
    env.post_signed(SEED_REFUND).await;
    env.run_postback_worker().await;
    let updated: Vec<Value> = receiver
        .bodies()
        .into_iter()
        .filter(|b| b["event"] == "reward.updated")
        .collect();
    assert_eq!(updated.len(), 1);
    assert_eq!(updated[0]["data"]["reward_status"], "declined");
    assert_eq!(updated[0]["data"]["payment_status"], Value::Null);

    let id = postback["id"].as_str().unwrap_or_default();
    let deliveries = deliveries_of(&env, &key, id).await;
    let rows = deliveries["data"].as_array().cloned().unwrap_or_default();
    assert_eq!(rows.len(), 3);
    assert!(rows
        .iter()
        .all(|d| d["status"] == "succeeded" && d["attempts"][0]["status_code"] == 200));
}

#[tokio::test]
async fn redelivered_jobs_deliver_once() {
    let env = Env::new().await;
    let key = partner_with_key(&env, "pat", Some("P-001")).await;
    let receiver = Receiver::start(&[]).await;
    register(&env, &key, &receiver.url, &["reward.created"]).await;
    env.post_signed(SEED).await;
    env.run_worker().await;
    // The commission job again: the reward event is not queued a second time.
    let job = json!({"type": "commission", "program": "acme", "transaction_key": "ext-tx-12345"});
    let job: partnerhook::queue::Job = serde_json::from_value(job).expect("job");
    partnerhook::runtime::workers::process_job(&env.app, &job)
        .await
        .expect("replay");
    let messages = env.receive_postbacks().await;
    assert_eq!(messages.len(), 1);
    // The delivery message twice in one batch, then again: one request reaches the endpoint.
    let mut event = aws_lambda_events::event::sqs::SqsEvent::default();
    event.records = vec![messages[0].clone(), messages[0].clone()];
    let first = partnerhook::runtime::workers::handle_sqs_batch(&env.app, event.clone()).await;
    assert!(first.batch_item_failures.is_empty());
    partnerhook::runtime::workers::handle_sqs_batch(&env.app, event).await;
    assert_eq!(receiver.bodies().len(), 1);
}

#[tokio::test]
async fn failures_are_recorded_retried_by_schedule_and_by_hand() {
    let (env, key, receiver, id) = reward_postback(&[500, 410]).await;

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
    tokio::time::sleep(std::time::Duration::from_millis(6_500)).await;
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
    assert!(receiver.script.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn partners_see_only_their_own_postbacks_and_can_test_them() {
    let env = Env::new().await;
    let pat = partner_with_key(&env, "pat", None).await;
    let sam = partner_with_key(&env, "sam", None).await;
    let receiver = Receiver::start(&[]).await;
    let postback = register(&env, &pat, &receiver.url, &["reward.created"]).await;
    let id = postback["id"].as_str().unwrap_or_default();

    let (status, _) = as_partner(&env, &sam, "GET", &format!("/v1/postbacks/{id}"), None).await;
    assert_eq!(status, 404);
    let (status, _) = as_partner(&env, &sam, "DELETE", &format!("/v1/postbacks/{id}"), None).await;
    assert_eq!(status, 404);
    let (_, list) = as_partner(&env, &sam, "GET", "/v1/postbacks", None).await;
    assert_eq!(list["data"].as_array().map(Vec::len), Some(0));
    let (status, _) = env.api("GET", "/v1/postbacks", None).await;
    assert_eq!(status, 403, "the admin key is not a partner key");
    let (status, _) = as_partner(&env, &pat, "GET", "/v1/partners", None).await;
    assert_eq!(status, 403, "a partner key is not an admin key");
    let (_, list) = as_partner(&env, &pat, "GET", "/v1/postbacks", None).await;
    assert_eq!(list["data"].as_array().map(Vec::len), Some(1));
    assert!(
        !list.to_string().contains("whsec_"),
        "secrets are shown once"
    );

    let (status, result) = as_partner(
        &env,
        &pat,
        "POST",
        &format!("/v1/postbacks/{id}/test"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        (result["success"].as_bool(), result["status_code"].as_u64()),
        (Some(true), Some(200))
    );
    assert_eq!(
        receiver.bodies(),
        [json!({"event": "test", "data": {"message": "Test event sent!"}})]
    );

    let (status, body) = as_partner(
        &env,
        &pat,
        "POST",
        "/v1/postbacks",
        Some(json!({"url": receiver.url, "name": "x", "events": ["reward.paid"]})),
    )
    .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("events"))
    );
    let (status, body) = as_partner(
        &env,
        &pat,
        "POST",
        "/v1/postbacks",
        Some(json!({"url": "ftp://example.com", "name": "x", "events": ["reward.created"]})),
    )
    .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("url"))
    );

    // Rotation: both secrets sign until the old one is expired.
    let (status, rotated) = as_partner(
        &env,
        &pat,
        "POST",
        &format!("/v1/postbacks/{id}/rotate-secret"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(rotated["secrets_configured"], 2);
    let (_, expired) = as_partner(
        &env,
        &pat,
        "POST",
        &format!("/v1/postbacks/{id}/rotate-secret?expire_previous=true"),
        None,
    )
    .await;
    assert_eq!(expired["secrets_configured"], 1);

    let (status, _) = as_partner(&env, &pat, "DELETE", &format!("/v1/postbacks/{id}"), None).await;
    assert_eq!(status, 204);
}

async fn patch_customer(env: &Env, key: &str, patch: Value) -> (u16, Value) {
    env.api("PATCH", &format!("/v1/customers/{key}"), Some(patch))
        .await
}

#[tokio::test]
async fn customers_join_change_and_leave_partnerships() {
    let env = Env::new().await;
    let events = ["customer.created", "customer.updated", "customer.deleted"];
    let pat_key = partner_with_key(&env, "pat", Some("P-001")).await;
    let sam_key = partner_with_key(&env, "sam", None).await;
    let pat = Receiver::start(&[]).await;
    let sam = Receiver::start(&[]).await;
    register(&env, &pat_key, &pat.url, &events).await;
    register(&env, &sam_key, &sam.url, &events).await;
    let seen = |receiver: &Receiver| -> Vec<(String, String, bool)> {
        receiver
            .bodies()
            .iter()
            .map(|b| {
                (
                    b["event"].as_str().unwrap_or_default().to_string(),
                    b["data"]["key"].as_str().unwrap_or_default().to_string(),
                    b["data"]["has_paid"].as_bool().unwrap_or_default(),
                )
            })
            .collect()
    };
    let event = |name: &str, key: &str, paid: bool| (name.to_string(), key.to_string(), paid);

    // An admin creates a customer of pat's.
    let (status, _) = env
        .api(
            "POST",
            "/v1/customers",
            Some(json!({"email": "ann@example.com", "name": "Ann", "key": "cust-9", "partner_key": "pat"})),
        )
        .await;
    assert_eq!(status, 201);
    env.run_postback_worker().await;
    // A sale credited to pat makes its unlinked customer pat's, already paid.
    env.post_signed(SEED).await;
    env.run_worker().await;
    env.run_postback_worker().await;
    assert_eq!(
        seen(&pat),
        vec![
            event("customer.created", "cust-9", false),
            event("customer.created", "cust-001", true)
        ]
    );
    let created = &pat.bodies()[0]["data"];
    assert_eq!(created["partnership_key"], "pat");
    assert_eq!(created["company"], json!({"key": "acme", "name": "Acme"}));
    assert_eq!(created["created_at"], created["updated_at"]);
    let (_, customer) = env.api("GET", "/v1/customers/cust-001", None).await;
    assert_eq!(
        (
            customer["partner_key"].as_str(),
            customer["has_paid"].as_bool()
        ),
        (Some("pat"), Some(true))
    );
    // The same sale again changes nothing and tells no one.
    env.post_signed(SEED).await;
    env.run_worker().await;
    // Creating the customer again as it was first described is still the same customer.
    let (status, _) = env
        .api(
            "POST",
            "/v1/customers",
            Some(
                json!({"email": "kunde@example.com", "name": "Max Mustermann", "key": "cust-001"}),
            ),
        )
        .await;
    assert_eq!(status, 200);

    // A change within the partnership is an update; a change to nothing is no event.
    let (status, body) = patch_customer(&env, "cust-9", json!({"name": "Ann Lee"})).await;
    assert_eq!((status, body["name"].as_str()), (200, Some("Ann Lee")));
    env.run_postback_worker().await;
    let (status, _) = patch_customer(&env, "cust-9", json!({"name": "Ann Lee"})).await;
    assert_eq!(status, 200);
    // Moved to sam: pat sees it leave, sam sees it arrive.
    let (status, _) = patch_customer(&env, "cust-9", json!({"partner_key": "sam"})).await;
    assert_eq!(status, 200);
    env.run_postback_worker().await;
    let (status, _) = env.api("DELETE", "/v1/customers/cust-9", None).await;
    assert_eq!(status, 204);
    env.run_postback_worker().await;
    assert_eq!(
        seen(&pat)[2..],
        [
            event("customer.updated", "cust-9", false),
            event("customer.deleted", "cust-9", false)
        ]
    );
    assert_eq!(
        seen(&sam),
        vec![
            event("customer.created", "cust-9", false),
            event("customer.deleted", "cust-9", false)
        ]
    );
    let (status, _) = env.api("GET", "/v1/customers/cust-9", None).await;
    assert_eq!(status, 404);
    let (status, body) = env.api("DELETE", "/v1/customers/cust-9", None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );

    // Its email address is free again; a taken one is a conflict.
    let (status, _) = patch_customer(&env, "cust-001", json!({"email": "ann@example.com"})).await;
    assert_eq!(status, 200);
    let (status, _) = env
        .api(
            "POST",
            "/v1/customers",
            Some(json!({"email": "bo@example.com", "name": "Bo", "key": "cust-10"})),
        )
        .await;
    assert_eq!(status, 201);
    let (status, body) = patch_customer(&env, "cust-10", json!({"email": "ann@example.com"})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("conflict")),
        "{body}"
    );
    // Bad values and unknown fields: 422 naming the field, nothing changed.
    for (patch, field) in [
        (json!({"email": "not-an-email"}), "email"),
        (json!({"partner_key": "nobody"}), "partner_key"),
        (json!({"colour": "red"}), "colour"),
    ] {
        let (status, body) = patch_customer(&env, "cust-10", patch).await;
        assert_eq!(status, 422, "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains(field)),
            "{body}"
        );
    }
    let (status, _) = patch_customer(&env, "nobody", json!({"name": "X"})).await;
    assert_eq!(status, 404);
    let (_, customer) = env.api("GET", "/v1/customers/cust-10", None).await;
    assert_eq!(customer["email"], "bo@example.com");
    env.run_postback_worker().await;
    // cust-001's new address was an update for pat; nothing about unlinked cust-10.
    assert_eq!(seen(&pat).len(), 5);
    assert_eq!(seen(&sam).len(), 2);
}

/// Endpoints that fail in each way a partner's server can; counts requests that followed a
/// redirect (there must be none).
async fn misbehaving_endpoints() -> (String, Arc<AtomicUsize>) {
    let followed = Arc::new(AtomicUsize::new(0));
    let in_an_hour = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(3600));
    let app = Router::new()
        .route(
            "/slow",
            post(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        )
        .route(
            "/redirect",
            post(|| async { (StatusCode::FOUND, [("location", "/elsewhere")], "moved") }),
        )
        .route(
            "/elsewhere",
            post(|State(followed): State<Arc<AtomicUsize>>| async move {
                followed.fetch_add(1, Ordering::SeqCst);
                "followed"
            }),
        )
        .route(
            "/busy",
            post(|| async {
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [("retry-after", "7200")],
                    "busy",
                )
            }),
        )
        .route(
            "/busy-briefly",
            post(|| async {
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [("retry-after", "1")],
                    "busy",
                )
            }),
        )
        .route(
            "/down",
            post(move || async move {
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [("retry-after", in_an_hour)],
                    "down",
                )
            }),
        )
        .route("/gone", post(|| async { StatusCode::GONE }))
        .route("/chatty", post(|| async { "x".repeat(100_000) }))
        .with_state(followed.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, followed)
}

#[tokio::test]
async fn each_failing_endpoint_gets_the_retry_it_asks_for() {
    let (base, followed) = misbehaving_endpoints().await;
    let deliverer = Deliverer::with_timeout(EndpointPolicy::LOCAL, Duration::from_millis(500))
        .expect("an HTTP client");
    let secrets = vec![signing::new_secret()];
    let send = |path: &str| {
        let url = format!("{base}{path}");
        let secrets = secrets.clone();
        let deliverer = &deliverer;
        async move { deliverer.send(0, &url, &secrets, "msg_1", "{}").await }
    };
    let secs = |s: u64| Decision::RetryIn(Duration::from_secs(s));

    // Slow: a timeout, retried no sooner than a minute (the first scheduled wait is 5 s).
    let (response, attempt) = send("/slow").await;
    assert_eq!(response, Response::Timeout);
    assert!(
        attempt
            .error
            .as_deref()
            .is_some_and(|e| e.contains("timed out")),
        "{attempt:?}"
    );
    assert!(
        attempt.latency_ms >= 500 && attempt.latency_ms < 5_000,
        "{attempt:?}"
    );
    assert_eq!(decide(1, &response, 0.0), secs(60));

    // A redirect is a failure and is not followed.
    let (response, attempt) = send("/redirect").await;
    assert_eq!(attempt.status_code, Some(302));
    assert_eq!(decide(1, &response, 0.0), secs(5));
    assert_eq!(followed.load(Ordering::SeqCst), 0);

    // 429 waits as long as Retry-After asks, and at least a minute.
    let (response, _) = send("/busy").await;
    assert_eq!(decide(1, &response, 0.0), secs(7200));
    let (response, _) = send("/busy-briefly").await;
    assert_eq!(decide(1, &response, 0.0), secs(60));
    // Retry-After as a date: about an hour.
    let (response, attempt) = send("/down").await;
    assert_eq!(attempt.status_code, Some(503));
    let Decision::RetryIn(wait) = decide(1, &response, 0.0) else {
        panic!("503 is retried: {response:?}");
    };
    assert!((3590..=3600).contains(&wait.as_secs()), "{wait:?}");

    // 410 disables the postback.
    let (response, _) = send("/gone").await;
    assert_eq!(decide(1, &response, 0.0), Decision::Disable);

    // A long answer is kept only up to the cap; it is still a success.
    let (response, attempt) = send("/chatty").await;
    assert_eq!(decide(1, &response, 0.0), Decision::Delivered);
    assert_eq!(
        attempt.response_body.map(|b| b.len()),
        Some(MAX_RESPONSE_BYTES)
    );
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
    delivery.value.next_attempt_at = Some(partnerhook::domain::time::Clock::now(
        &partnerhook::domain::time::SystemClock,
    ));
    env.app.repo.update("acme", &delivery).await.expect("write");
}

async fn delivery(env: &Env, id: &str) -> Delivery {
    env.app
        .repo
        .get::<Delivery>("acme", id)
        .await
        .expect("read")
        .expect("the delivery")
        .value
}

#[tokio::test]
async fn a_failing_endpoint_is_retried_over_a_day_then_given_up_then_disabled() {
    let (env, key, receiver, postback_id) = reward_postback(&[500; 20]).await;
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
        deliver::process(&env.app, "acme", &id, n + 1)
            .await
            .expect("early job");
        assert_eq!(
            delivery(&env, &id).await.attempts.len(),
            n + 1,
            "an early job must wait"
        );
        make_due(&env, &id).await;
        deliver::process(&env.app, "acme", &id, n + 1)
            .await
            .expect("due job");
    }
    let d = delivery(&env, &id).await;
    assert_eq!(d.status, DeliveryStatus::Failed);
    assert_eq!((d.attempts.len(), d.next_attempt_at), (8, None));
    assert_eq!(receiver.bodies().len(), 8);
    // A stale copy of any earlier job changes nothing.
    deliver::process(&env.app, "acme", &id, 3)
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
    stored.value.failing_since = Some(
        partnerhook::domain::time::Clock::now(&partnerhook::domain::time::SystemClock)
            - partnerhook::domain::postback::DISABLE_AFTER_FAILING_MS
            - 1,
    );
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

/// A queue that refuses delivery jobs while told to, as SQS might for a moment.
struct Flaky {
    inner: Arc<dyn Queue>,
    refusing: AtomicBool,
    /// Every delivery job handed on: (attempt, delay).
    sent: Mutex<Vec<(usize, Duration)>>,
}

#[async_trait::async_trait]
impl Queue for Flaky {
    async fn send_after(&self, job: &Job, delay: Duration) -> Result<(), QueueError> {
        if let Job::Deliver { attempt, .. } = job {
            if self.refusing.load(Ordering::SeqCst) {
                return Err(QueueError::Send("refused for the test".into()));
            }
            self.sent.lock().expect("lock").push((*attempt, delay));
        }
        self.inner.send_after(job, delay).await
    }
}

impl Flaky {
    fn refuse(&self, refusing: bool) {
        self.refusing.store(refusing, Ordering::SeqCst);
    }
}

/// An environment whose queue can be told to refuse delivery jobs.
async fn flaky_env() -> (Env, Arc<Flaky>) {
    let slot = Arc::new(OnceLock::<Arc<Flaky>>::new());
    let hold = slot.clone();
    let env = Env::with_queue(move |inner| {
        let queue = Arc::new(Flaky {
            inner,
            refusing: AtomicBool::new(false),
            sent: Mutex::default(),
        });
        let _ = hold.set(queue.clone());
        queue
    })
    .await;
    let flaky = slot.get().expect("the queue").clone();
    (env, flaky)
}

#[tokio::test]
async fn a_retry_whose_queueing_failed_is_queued_when_its_job_comes_back() {
    let (env, flaky) = flaky_env().await;
    let key = partner_with_key(&env, "pat", Some("P-001")).await;
    let receiver = Receiver::start(&[500, 500]).await;
    let postback = register(&env, &key, &receiver.url, &["reward.created"]).await;
    let postback_id = postback["id"].as_str().unwrap_or_default().to_string();
    env.post_signed(SEED).await;
    env.run_worker().await;
    let id = deliveries_of(&env, &key, &postback_id).await["data"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    // Attempt 1 fails at the endpoint, and queueing attempt 2 fails too: the job reports failure.
    flaky.sent.lock().expect("lock").clear();
    flaky.refuse(true);
    assert!(deliver::process(&env.app, "acme", &id, 0).await.is_err());
    flaky.refuse(false);
    assert_eq!(delivery(&env, &id).await.attempts.len(), 1);
    assert!(flaky.sent.lock().expect("lock").is_empty());

    // SQS hands the job back: the attempt is not made again, but attempt 2 is queued.
    deliver::process(&env.app, "acme", &id, 0)
        .await
        .expect("job again");
    assert_eq!(receiver.bodies().len(), 1);
    let sent = flaky.sent.lock().expect("lock").clone();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].0, 1);
    assert!(sent[0].1 <= Duration::from_secs(6), "{sent:?}");

    // Attempt 2 fails too. Once the delivery has failed, a manual retry whose queueing failed
    // can be asked for again.
    make_due(&env, &id).await;
    deliver::process(&env.app, "acme", &id, 1)
        .await
        .expect("attempt 2");
    assert_eq!(delivery(&env, &id).await.attempts.len(), 2);
    let mut failed = env
        .app
        .repo
        .get::<Delivery>("acme", &id)
        .await
        .expect("read")
        .expect("the delivery");
    failed.value.status = DeliveryStatus::Failed;
    failed.value.next_attempt_at = None;
    env.app.repo.update("acme", &failed).await.expect("write");
    let retry = format!("/v1/postbacks/{postback_id}/deliveries/{id}/retry");
    flaky.refuse(true);
    let (status, _) = as_partner(&env, &key, "POST", &retry, None).await;
    assert_eq!(status, 503);
    flaky.refuse(false);
    let (status, body) = as_partner(&env, &key, "POST", &retry, None).await;
    assert_eq!(status, 200, "{body}");
    deliver::process(&env.app, "acme", &id, 2)
        .await
        .expect("manual attempt");
    let d = delivery(&env, &id).await;
    assert_eq!((d.status, d.attempts.len()), (DeliveryStatus::Succeeded, 3));
    assert_eq!(receiver.bodies().len(), 3);
}

/// Sets a reward back to pending, as a try that failed before settling it would have left it.
async fn unsettle(env: &Env, transaction_key: &str) {
    let mut rewards = env
        .app
        .repo
        .rewards_of_transaction("acme", transaction_key)
        .await
        .expect("read");
    let reward = rewards.first_mut().expect("a reward");
    reward.value.reward_status = partnerhook::domain::reward::RewardStatus::Pending;
    env.app.repo.update("acme", reward).await.expect("write");
}

async fn reward_status(env: &Env) -> Value {
    let (_, rewards) = env
        .api("GET", "/v1/rewards?transaction_key=ext-tx-12345", None)
        .await;
    rewards["data"][0]["reward_status"].clone()
}

#[tokio::test]
async fn a_refund_retried_after_a_failure_settles_and_tells_the_partner_once() {
    let (env, flaky) = flaky_env().await;
    let key = partner_with_key(&env, "pat", Some("P-001")).await;
    let receiver = Receiver::start(&[]).await;
    let events = ["reward.updated", "transaction.updated"];
    register(&env, &key, &receiver.url, &events).await;
    env.post_signed(SEED).await;
    env.run_worker().await;

    // The refund is written, then telling the partner fails: the sender gets a 503.
    flaky.refuse(true);
    let (status, body) = env.post_signed(SEED_REFUND).await;
    assert_eq!(status, 503, "{body}");
    flaky.refuse(false);
    assert_eq!(reward_status(&env).await, "declined");

    // The sender retries, twice: the partner hears of each change once.
    for _ in 0..2 {
        let (status, body) = env.post_signed(SEED_REFUND).await;
        assert_eq!(status, 200, "{body}");
        env.run_postback_worker().await;
    }
    let mut heard: Vec<String> = receiver
        .bodies()
        .iter()
        .map(|b| format!("{} {}", b["event"], b["data"]["reward_status"]))
        .collect();
    heard.sort();
    assert_eq!(
        heard,
        [
            "\"reward.updated\" \"declined\"",
            "\"transaction.updated\" null"
        ]
    );

    // A try that failed before settling left the reward pending: the retry declines it.
    unsettle(&env, "ext-tx-12345").await;
    env.post_signed(SEED_REFUND).await;
    assert_eq!(reward_status(&env).await, "declined");
    // So does the commission job when it comes back.
    unsettle(&env, "ext-tx-12345").await;
    let job = Job::Commission {
        program: "acme".into(),
        transaction_key: "ext-tx-12345".into(),
    };
    partnerhook::runtime::workers::process_job(&env.app, &job)
        .await
        .expect("the job");
    assert_eq!(reward_status(&env).await, "declined");
}
