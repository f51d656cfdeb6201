//! What a partner may do with its postbacks: see and change only its own, test one, rotate
//! its secret; and what the API refuses.

use super::register;
use crate::support::{as_partner, partner_with_key, scenario, Backend, Env, Receiver};
use serde_json::json;

scenario!(partners_see_only_their_own_postbacks_and_can_test_them);
async fn partners_see_only_their_own_postbacks_and_can_test_them(backend: Backend) {
    let env = Env::new(backend).await;
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
