//! `Idempotency-Key` on the API's POSTs: a retried create without a key of its own makes one
//! record, not two; a key reused for another request is refused.

use crate::support::{as_partner, scenario, Backend, Env};
use partnerhook::http::idempotency::WITHHELD;
use serde_json::json;

async fn partner_count(env: &Env) -> usize {
    let (status, listed) = env.api("GET", "/v1/partners", None).await;
    assert_eq!(status, 200, "{listed}");
    listed["data"].as_array().map_or(0, Vec::len)
}

scenario!(a_retried_create_with_the_same_key_gets_the_first_answer);
async fn a_retried_create_with_the_same_key_gets_the_first_answer(backend: Backend) {
    let env = Env::new(backend).await;
    let body = json!({"email": "pat@example.com", "name": "Pat"});
    let key = [("idempotency-key", "create-pat-1")];
    let (first_status, first) = env
        .api_with("POST", "/v1/partners", Some(body.clone()), &key)
        .await;
    assert_eq!(first_status, 201, "{first}");
    let (again_status, again) = env
        .api_with("POST", "/v1/partners", Some(body.clone()), &key)
        .await;
    assert_eq!(again_status, 201, "the first answer, status included");
    assert_eq!(again, first, "the same partner, not a new one");
    assert_eq!(partner_count(&env).await, 1);

    let (other_status, other) = env
        .api_with(
            "POST",
            "/v1/partners",
            Some(json!({"email": "sam@example.com", "name": "Sam"})),
            &key,
        )
        .await;
    assert_eq!(other_status, 409, "{other}");
    assert_eq!(other["error"]["code"], "conflict");
    assert_eq!(
        partner_count(&env).await,
        1,
        "the refused request created nothing"
    );
}

scenario!(refused_answers_are_kept_and_keys_are_per_request);
async fn refused_answers_are_kept_and_keys_are_per_request(backend: Backend) {
    let env = Env::new(backend).await;
    let bad = json!({"email": "not an address", "name": "Pat"});
    let key = [("idempotency-key", "bad-1")];
    let (status, first) = env
        .api_with("POST", "/v1/partners", Some(bad.clone()), &key)
        .await;
    assert_eq!(status, 422, "{first}");
    let (again, second) = env.api_with("POST", "/v1/partners", Some(bad), &key).await;
    assert_eq!((again, second), (422, first));
    // Without a key, two requests are two creates: the key is what makes a retry a retry.
    let body = json!({"email": "pat@example.com", "name": "Pat"});
    env.api("POST", "/v1/partners", Some(body.clone())).await;
    env.api("POST", "/v1/partners", Some(body)).await;
    assert_eq!(partner_count(&env).await, 2);
    let (status, refused) = env
        .api_with(
            "POST",
            "/v1/partners",
            Some(json!({"email": "a@example.com", "name": "A"})),
            &[("idempotency-key", "")],
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"]["field"], "idempotency-key");
}

scenario!(a_replayed_answer_withholds_the_secret_it_showed_once);
async fn a_replayed_answer_withholds_the_secret_it_showed_once(backend: Backend) {
    let env = Env::new(backend).await;
    let body = json!({"name": "dashboard", "role": "read_only"});
    let key = [("idempotency-key", "dashboard-key-1")];
    let (first_status, first) = env
        .api_with("POST", "/v1/program/api-keys", Some(body.clone()), &key)
        .await;
    assert_eq!(first_status, 201, "{first}");
    let secret = first["api_key"].as_str().expect("the secret, shown once");
    assert!(secret.starts_with("phk_"), "{first}");

    let (again_status, again) = env
        .api_with("POST", "/v1/program/api-keys", Some(body), &key)
        .await;
    assert_eq!(again_status, 201, "{again}");
    assert_eq!(again["id"], first["id"], "the same key, not a second one");
    assert_eq!(again["api_key"], WITHHELD);
    assert!(
        !again.to_string().contains(secret),
        "the kept answer holds no secret: {again}"
    );
    // The secret itself still works: only the copy kept for replays lost it.
    let (status, _) = as_partner(&env, secret, "GET", "/v1/program/api-keys", None).await;
    assert_eq!(status, 200);
}
