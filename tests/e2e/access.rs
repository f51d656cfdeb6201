//! Admin API keys and the audit log: keys created, listed without secrets, read-only keys
//! refused changes, revoked keys failing at once, the last full admin key kept; every change
//! audited with its key, route and digests, and no secret in the log.

use crate::support::{as_partner as with_key, scenario, Backend, Env};
use partnerhook::crypto::token::hash_api_key;
use partnerhook::domain::api_key::LAST_USED_EVERY_MS;
use partnerhook::domain::time::ManualClock;
use partnerhook::store::{Record, Store};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::sync::Arc;

fn sha256(answer: &Value) -> String {
    hex::encode(Sha256::digest(answer.to_string().as_bytes()))
}

async fn keys(env: &Env) -> Vec<Value> {
    let (status, listed) = env.api("GET", "/v1/program/api-keys", None).await;
    assert_eq!(status, 200, "{listed}");
    listed["data"].as_array().cloned().unwrap_or_default()
}

async fn create_key(env: &Env, name: &str, role: &str) -> (String, String) {
    let body = json!({"name": name, "role": role});
    let (status, created) = env.api("POST", "/v1/program/api-keys", Some(body)).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(
        (created["name"].as_str(), created["role"].as_str()),
        (Some(name), Some(role))
    );
    let secret = created["api_key"].as_str().unwrap_or_default().to_string();
    assert!(secret.starts_with("phk_"), "{created}");
    (
        created["id"].as_str().unwrap_or_default().to_string(),
        secret,
    )
}

scenario!(keys_are_created_listed_limited_and_revoked);
async fn keys_are_created_listed_limited_and_revoked(backend: Backend) {
    let env = Env::new(backend).await;
    let initial = keys(&env).await;
    assert_eq!(initial.len(), 1, "{initial:?}");
    assert_eq!(
        (initial[0]["name"].as_str(), initial[0]["role"].as_str()),
        (Some("initial"), Some("admin"))
    );
    let initial_id = initial[0]["id"].as_str().unwrap_or_default().to_string();
    assert!(
        initial[0]["last_used_at"].is_i64(),
        "the listing used the key: {initial:?}"
    );

    let (ci_id, ci) = create_key(&env, "ci", "read_only").await;
    let listed = keys(&env).await;
    let text = Value::from(listed.clone()).to_string();
    assert_eq!(listed.len(), 2, "{text}");
    assert!(
        !text.contains(&ci) && !text.contains("api_key"),
        "no secret is listed: {text}"
    );
    assert!(!text.contains(&env.program.admin_key));

    // Read-only: GETs pass, anything else is a 403 that changes nothing.
    let (status, program) = with_key(&env, &ci, "GET", "/v1/program", None).await;
    assert_eq!(status, 200, "{program}");
    let partner = json!({"email": "pat@example.com", "name": "Pat"});
    let (status, refused) = with_key(&env, &ci, "POST", "/v1/partners", Some(partner)).await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (403, Some("forbidden")),
        "{refused}"
    );
    assert!(refused["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("read-only"));
    let (status, refused) = with_key(
        &env,
        &ci,
        "DELETE",
        &format!("/v1/program/api-keys/{ci_id}"),
        None,
    )
    .await;
    assert_eq!(status, 403, "{refused}");
    let (_, partners) = env.api("GET", "/v1/partners", None).await;
    assert_eq!(
        partners["data"],
        json!([]),
        "the refused create wrote nothing"
    );

    // Bad input: a clear 422, nothing created.
    for bad in [
        json!({"name": " "}),
        json!({"name": "x", "role": "owner"}),
        json!({"name": "x", "extra": 1}),
    ] {
        let (status, answer) = env.api("POST", "/v1/program/api-keys", Some(bad)).await;
        assert!(status == 422 || status == 400, "{status} {answer}");
    }
    assert_eq!(keys(&env).await.len(), 2);

    // Revoked: the key fails at once; a repeat of the revocation is answered the same.
    let (status, _) = env
        .api("DELETE", &format!("/v1/program/api-keys/{ci_id}"), None)
        .await;
    assert_eq!(status, 204);
    let (status, refused) = with_key(&env, &ci, "GET", "/v1/program", None).await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (401, Some("unauthorized")),
        "{refused}"
    );
    let (status, _) = env
        .api("DELETE", &format!("/v1/program/api-keys/{ci_id}"), None)
        .await;
    assert_eq!(status, 204);
    let (status, _) = env
        .api("DELETE", "/v1/program/api-keys/key_nope", None)
        .await;
    assert_eq!(status, 404);
    assert_eq!(keys(&env).await.len(), 1, "revoked keys leave the listing");

    // The last full admin key stays; with another one, it may go.
    let (status, refused) = env
        .api(
            "DELETE",
            &format!("/v1/program/api-keys/{initial_id}"),
            None,
        )
        .await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (409, Some("conflict")),
        "{refused}"
    );
    let (ops_id, ops) = create_key(&env, "ops", "admin").await;
    let (status, _) = env
        .api(
            "DELETE",
            &format!("/v1/program/api-keys/{initial_id}"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = env.api("GET", "/v1/program", None).await;
    assert_eq!(status, 401, "the initial key is revoked");
    let (status, refused) = with_key(
        &env,
        &ops,
        "DELETE",
        &format!("/v1/program/api-keys/{ops_id}"),
        None,
    )
    .await;
    assert_eq!(status, 409, "{refused}");
    let (status, _) = with_key(&env, &ops, "GET", "/v1/program", None).await;
    assert_eq!(status, 200);
}

scenario!(last_use_is_noted_at_most_every_few_minutes);
async fn last_use_is_noted_at_most_every_few_minutes(backend: Backend) {
    let clock = Arc::new(ManualClock::at(1_700_000_000_000));
    let env = Env::with_clock(backend, clock.clone()).await;
    let last_used = || async { keys(&env).await[0]["last_used_at"].as_i64() };
    let first = last_used().await;
    assert_eq!(first, Some(1_700_000_000_000));
    clock.advance(LAST_USED_EVERY_MS - 1);
    assert_eq!(
        last_used().await,
        first,
        "not written again within the interval"
    );
    clock.advance(1);
    assert_eq!(
        last_used().await,
        Some(1_700_000_000_000 + LAST_USED_EVERY_MS)
    );
}

scenario!(a_key_from_before_names_still_works_and_becomes_the_initial_one);
async fn a_key_from_before_names_still_works_and_becomes_the_initial_one(backend: Backend) {
    let mut store: Option<Arc<dyn Store>> = None;
    let env = Env::custom(
        backend,
        |s| {
            store = Some(s.clone());
            s
        },
        |q| q,
        Arc::new(partnerhook::domain::time::SystemClock),
    )
    .await;
    let store = store.expect("the store");
    // A grant as written before keys had names: no id, no index entry.
    let old_key = "phk_from_an_earlier_release";
    let old = json!({"program": "acme", "role": "admin", "partner_key": null});
    let record = Record::new(format!("APIKEY#{}", hash_api_key(old_key)), "APIKEY", old);
    store.insert(record).await.expect("write the old grant");
    let (status, program) = with_key(&env, old_key, "GET", "/v1/program", None).await;
    assert_eq!(status, 200, "{program}");
    let listed = keys(&env).await;
    let names: Vec<_> = listed.iter().filter_map(|k| k["name"].as_str()).collect();
    assert_eq!(names, ["initial", "initial"], "{listed:?}");
    // It is revocable like any other (the program keeps its created key).
    let old_id = format!("key_{}", &hash_api_key(old_key)[..16]);
    assert!(
        listed.iter().any(|k| k["id"] == json!(old_id)),
        "{listed:?}"
    );
    let (status, _) = env
        .api("DELETE", &format!("/v1/program/api-keys/{old_id}"), None)
        .await;
    assert_eq!(status, 204);
    let (status, _) = with_key(&env, old_key, "GET", "/v1/program", None).await;
    assert_eq!(status, 401);
}

async fn audit(env: &Env, query: &str) -> Vec<Value> {
    let (status, listed) = env.api("GET", &format!("/v1/audit{query}"), None).await;
    assert_eq!(status, 200, "{listed}");
    listed["data"].as_array().cloned().unwrap_or_default()
}

scenario!(every_change_is_audited_with_who_what_and_digests);
async fn every_change_is_audited_with_who_what_and_digests(backend: Backend) {
    let env = Env::new(backend).await;
    let initial_id = keys(&env).await[0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(
        audit(&env, "").await,
        Vec::<Value>::new(),
        "reads are not changes"
    );

    let (_, before) = env.api("GET", "/v1/program", None).await;
    let secret = "a-brand-new-webhook-secret-0001";
    let patch = json!({"name": "Acme GmbH", "custom_webhook": {"secrets": [secret]}});
    let (status, after) = env.api("PATCH", "/v1/program", Some(patch)).await;
    assert_eq!(status, 200, "{after}");
    let (ops_id, ops) = create_key(&env, "ops", "admin").await;
    let partner = json!({"email": "pat@example.com", "name": "Pat", "key": "pat"});
    let (status, created) =
        with_key(&env, &ops, "POST", "/v1/partners", Some(partner.clone())).await;
    assert_eq!(status, 201, "{created}");
    // Refused, replayed and read-only requests change nothing and are not kept.
    let (ro_id, ro) = create_key(&env, "viewer", "read_only").await;
    let (status, _) = with_key(&env, &ro, "POST", "/v1/partners", Some(partner)).await;
    assert_eq!(status, 403);
    let (status, _) = env
        .api("PATCH", "/v1/program", Some(json!({"currency": "EURO"})))
        .await;
    assert_eq!(status, 422);
    let key = [("idempotency-key", "hook-1")];
    for _ in 0..2 {
        let (status, hook) = env
            .api_with(
                "POST",
                "/v1/incoming-webhooks",
                Some(json!({"name": "Zapier"})),
                &key,
            )
            .await;
        assert_eq!(status, 201, "{hook}");
    }
    let (status, _) = env
        .api("DELETE", &format!("/v1/program/api-keys/{ro_id}"), None)
        .await;
    assert_eq!(status, 204);

    let entries = audit(&env, "").await;
    let what: Vec<_> = entries
        .iter()
        .map(|e| {
            (
                e["method"].as_str().unwrap_or(""),
                e["route"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        what,
        [
            ("DELETE", "/v1/program/api-keys/{id}"),
            ("POST", "/v1/incoming-webhooks"),
            ("POST", "/v1/program/api-keys"),
            ("POST", "/v1/partners"),
            ("POST", "/v1/program/api-keys"),
            ("PATCH", "/v1/program"),
        ],
        "newest first, one entry per change: {entries:?}"
    );
    let patched = &entries[5];
    assert_eq!(patched["key"], json!({"id": initial_id, "name": "initial"}));
    assert_eq!(patched["path"], "/v1/program");
    assert_eq!(patched["status"], 200);
    assert_eq!(
        patched["before_digest"],
        json!(sha256(&before)),
        "the GET view before"
    );
    assert_eq!(patched["after_digest"], json!(sha256(&after)), "the answer");
    let by_ops = &entries[3];
    assert_eq!(by_ops["key"], json!({"id": ops_id, "name": "ops"}));
    assert_eq!(
        by_ops["before_digest"],
        Value::Null,
        "a create has no before"
    );
    assert_eq!(by_ops["after_digest"], json!(sha256(&created)));
    let revoked = &entries[0];
    assert_eq!(
        revoked["path"],
        json!(format!("/v1/program/api-keys/{ro_id}"))
    );
    assert_eq!(
        revoked["after_digest"],
        Value::Null,
        "a deletion answers no body"
    );

    let text = Value::from(entries).to_string();
    for leaked in [
        secret,
        ops.as_str(),
        ro.as_str(),
        env.program.admin_key.as_str(),
    ] {
        assert!(!text.contains(leaked), "{leaked} in the audit log: {text}");
    }

    let mine = audit(&env, &format!("?key_id={ops_id}")).await;
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(mine[0]["route"], "/v1/partners");
    let (status, page) = env.api("GET", "/v1/audit?limit=2", None).await;
    assert_eq!(status, 200);
    let cursor = page["next_cursor"].as_str().unwrap_or_default().to_string();
    let (status, next) = env
        .api("GET", &format!("/v1/audit?limit=2&cursor={cursor}"), None)
        .await;
    assert_eq!(status, 200, "{next}");
    assert_eq!(
        next["data"][0]["route"], "/v1/program/api-keys",
        "the third newest"
    );
}

scenario!(an_action_is_audited_against_the_resource_it_acts_on);
async fn an_action_is_audited_against_the_resource_it_acts_on(backend: Backend) {
    let env = Env::new(backend).await;
    let (status, hook) = env
        .api(
            "POST",
            "/v1/incoming-webhooks",
            Some(json!({"name": "Zapier"})),
        )
        .await;
    assert_eq!(status, 201, "{hook}");
    let id = hook["id"].as_str().unwrap_or_default();
    let (_, before) = env
        .api("GET", &format!("/v1/incoming-webhooks/{id}"), None)
        .await;
    let (status, rotated) = env
        .api(
            "POST",
            &format!("/v1/incoming-webhooks/{id}/rotate-token"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{rotated}");
    let entries = audit(&env, "").await;
    assert_eq!(
        entries[0]["route"],
        "/v1/incoming-webhooks/{id}/rotate-token"
    );
    assert_eq!(
        entries[0]["before_digest"],
        json!(sha256(&before)),
        "the webhook's view before"
    );
    assert_ne!(entries[0]["after_digest"], entries[0]["before_digest"]);
    // The rotated token is part of the URLs answered; the log keeps only their digest.
    let text = Value::from(entries).to_string();
    let url = rotated["production_url"].as_str().unwrap_or("none");
    assert!(!text.contains(url.rsplit('/').next().unwrap_or(url)));
}
