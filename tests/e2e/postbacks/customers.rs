//! Customer events: a customer joins a partnership, changes within it, moves to another
//! partner and is deleted; each partner hears what concerns it, once.

use super::register;
use crate::support::{partner_with_key, scenario, Backend, Env, Receiver, SEED};
use serde_json::{json, Value};

async fn patch_customer(env: &Env, key: &str, patch: Value) -> (u16, Value) {
    env.api("PATCH", &format!("/v1/customers/{key}"), Some(patch))
        .await
}

scenario!(customers_join_change_and_leave_partnerships);
async fn customers_join_change_and_leave_partnerships(backend: Backend) {
    let env = Env::new(backend).await;
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
