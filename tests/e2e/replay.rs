//! `POST /v1/events/{id}/replay`: a stored webhook run again after a fix, through the code of
//! the source that received it, kept as a new event naming the first; what was applied before
//! is skipped, and events whose whole body was not kept are refused.

use crate::incoming::{create_hook, map, post};
use crate::providers::{fixture, now, setup, status_of, stripe, STRIPE_SECRET};
use crate::support::{call, partner, rewards, scenario, Backend, Env, SEED};
use partnerhook::domain::inbox::{
    expiry_for, keep_body, InboxEntry, Verdict, KEPT_BODY_BYTES, RETENTION_DAYS,
};
use serde_json::{json, Value};

const ORDER: &str = r#"{"order":{"id":"ORD-1","amount":"80.00"},"customer":{"email":"buyer@example.com","name":"Jane"},"ref":"PARTNER123"}"#;

/// The inbox, newest first.
async fn events(env: &Env) -> Vec<Value> {
    let (status, body) = env.api("GET", "/v1/events?limit=200", None).await;
    assert_eq!(status, 200, "{body}");
    body["data"].as_array().cloned().unwrap_or_default()
}

async fn replay(env: &Env, id: &str) -> (u16, Value) {
    env.api("POST", &format!("/v1/events/{id}/replay"), None)
        .await
}

async fn event(env: &Env, id: &str) -> Value {
    let (status, body) = env.api("GET", &format!("/v1/events/{id}"), None).await;
    assert_eq!(status, 200, "{body}");
    body
}

scenario!(an_incoming_webhook_refused_before_its_mapping_is_created_by_its_replay);
async fn an_incoming_webhook_refused_before_its_mapping_is_created_by_its_replay(backend: Backend) {
    let env = Env::new(backend).await;
    partner(&env, "PARTNER123", None, None).await;
    let hook = create_hook(&env).await;
    let (status, _) = post(&env, &hook["production_url"], "application/json", ORDER).await;
    assert_eq!(status, 409, "no mapping yet");
    let refused = events(&env).await[0].clone();
    assert_eq!(
        (refused["verdict"].as_str(), refused["hook"].as_str()),
        (Some("rejected"), hook["id"].as_str())
    );
    let refused_id = refused["id"].as_str().unwrap_or_default();

    // The fix: the mapping saved. Then the stored body runs again.
    let fields = json!({
        "customer_email": "customer.email",
        "customer_name": "customer.name",
        "transaction_key": "order.id",
        "amount": "order.amount",
        "partner_key": "ref"
    });
    let (status, saved) = map(&env, &hook, "create_transaction", fields).await;
    assert_eq!(status, 200, "{saved}");
    let (status, answer) = replay(&env, refused_id).await;
    assert_eq!(
        (
            status,
            answer["status"].as_str(),
            answer["transaction_key"].as_str()
        ),
        (200, Some("created"), Some("ORD-1")),
        "{answer}"
    );
    let replayed = event(&env, answer["event_id"].as_str().unwrap_or_default()).await;
    assert_eq!(replayed["replay_of"], refused_id);
    assert_eq!(
        (replayed["source"].as_str(), replayed["verdict"].as_str()),
        (Some("incoming"), Some("accepted"))
    );
    assert_eq!(replayed["body"], ORDER, "the same body");
    assert_eq!(
        event(&env, refused_id).await["verdict"],
        "rejected",
        "kept as it was"
    );

    // Replayed twice, or sent again by the shop: nothing counts twice.
    let (status, again) = replay(&env, refused_id).await;
    assert_eq!(
        (status, again["status"].as_str()),
        (200, Some("skipped")),
        "{again}"
    );
    let (_, sent) = post(&env, &hook["production_url"], "application/json", ORDER).await;
    assert_eq!(sent["status"], "skipped", "{sent}");
    env.run_worker().await;
    assert_eq!(rewards(&env, "ORD-1").await.len(), 1);
}

scenario!(a_stored_custom_webhook_runs_again_once_without_its_signature);
async fn a_stored_custom_webhook_runs_again_once_without_its_signature(backend: Backend) {
    let env = Env::new(backend).await;
    partner(&env, "pat", Some("P-001"), None).await;
    // As the inbox keeps a signed webhook a version with a bug refused: the whole body, no
    // signature (a replay would find it stale anyway).
    let (body, body_encoding, body_truncated) = keep_body(SEED.as_bytes(), KEPT_BODY_BYTES);
    let received_at = env.app.now();
    let refused = InboxEntry {
        id: uuid::Uuid::now_v7().to_string(),
        source: "custom".into(),
        received_at,
        verdict: Verdict::Rejected,
        outcome: "internal".into(),
        http_status: 500,
        reason: Some("a bug, since fixed".into()),
        transaction_key: None,
        content_type: Some("application/json".into()),
        body,
        body_encoding,
        body_truncated,
        expires_at: expiry_for(received_at, RETENTION_DAYS),
        request: None,
        hook: None,
        replay_of: None,
    };
    env.app
        .repo
        .insert(&env.program.slug, &refused)
        .await
        .expect("the entry is kept");

    let (status, answer) = replay(&env, &refused.id).await;
    assert_eq!(
        (
            status,
            answer["status"].as_str(),
            answer["transaction_key"].as_str()
        ),
        (200, Some("created"), Some("ext-tx-12345")),
        "{answer}"
    );
    let replayed = event(&env, answer["event_id"].as_str().unwrap_or_default()).await;
    assert_eq!(
        (replayed["replay_of"].as_str(), replayed["source"].as_str()),
        (Some(refused.id.as_str()), Some("custom"))
    );
    let (status, again) = replay(&env, &refused.id).await;
    assert_eq!((status, again["status"].as_str()), (200, Some("skipped")));
    let (_, sent) = env.post_signed(SEED).await;
    assert_eq!(sent["status"], "skipped", "the sender's retry too");
    env.run_worker().await;
    let rewards = rewards(&env, "ext-tx-12345").await;
    assert_eq!(rewards.len(), 1, "{rewards:?}");
    assert_eq!(rewards[0]["partner_key"], "pat");
}

scenario!(events_without_their_whole_body_or_unknown_are_not_replayed);
async fn events_without_their_whole_body_or_unknown_are_not_replayed(backend: Backend) {
    let env = Env::new(backend).await;
    let headers = [
        ("content-type", "application/json"),
        ("x-webhook-signature", "sha256=00"),
    ];
    let (status, _) = call(
        &env.webhook_router(),
        "POST",
        "/webhooks/acme/custom",
        &headers,
        SEED.as_bytes(),
        false,
    )
    .await;
    assert_eq!(status, 401);
    let unverified = events(&env).await[0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (status, refused) = replay(&env, &unverified).await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (409, Some("conflict")),
        "{refused}"
    );
    let message = refused["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("not the whole body"), "{message}");

    let hook = create_hook(&env).await;
    let (status, _) = post(&env, &hook["test_url"], "application/json", ORDER).await;
    assert_eq!(status, 200);
    let sample = events(&env).await[0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (status, refused) = replay(&env, &sample).await;
    assert_eq!(status, 409, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("test URL")),
        "{refused}"
    );

    let (status, missing) = replay(&env, "0190c0de-0000-7000-8000-000000000000").await;
    assert_eq!(
        (status, missing["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    assert_eq!(events(&env).await.len(), 2, "refusals keep no event");
    assert!(
        events(&env).await.iter().all(|e| e["replay_of"].is_null()),
        "no replay was kept"
    );
}

scenario!(a_stripe_event_replays_without_its_stale_signature_and_counts_once);
async fn a_stripe_event_replays_without_its_stale_signature_and_counts_once(backend: Backend) {
    let env = setup(backend, true).await;
    let link = fixture("stripe/customer.created.json");
    assert_eq!(
        status_of(&stripe(&env, &link, STRIPE_SECRET, now()).await),
        (200, "customer_linked")
    );
    let charge = fixture("stripe/charge.succeeded.json");
    assert_eq!(
        status_of(&stripe(&env, &charge, STRIPE_SECRET, now()).await),
        (200, "created")
    );
    let first = events(&env).await[0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    // The signing secret rolled since: the replay needs none, the admin key vouches for it.
    let (status, body) = env
        .api(
            "PATCH",
            "/v1/program",
            Some(json!({"providers": {"stripe": {"signing_secret": "whsec_rolled"}}})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, answer) = replay(&env, &first).await;
    assert_eq!(
        (
            status,
            answer["status"].as_str(),
            answer["transaction_key"].as_str()
        ),
        (200, Some("skipped"), Some("ch_3PartnerhookTest01")),
        "{answer}"
    );
    assert!(
        answer["reason"]
            .as_str()
            .is_some_and(|r| r.contains("handled before")),
        "{answer}"
    );
    let replayed = event(&env, answer["event_id"].as_str().unwrap_or_default()).await;
    assert_eq!(
        (replayed["source"].as_str(), replayed["replay_of"].as_str()),
        (Some("stripe"), Some(first.as_str()))
    );
    env.run_worker().await;
    assert_eq!(rewards(&env, "ch_3PartnerhookTest01").await.len(), 1);
}
