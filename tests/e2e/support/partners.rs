//! Partners as the admin creates them, and requests made with a partner's own API key.

use super::{call, Env, Receiver};
use serde_json::{json, Value};

/// A partner `key` (email `{key}@example.com`), with the partner `id` and referrer given.
pub async fn partner(env: &Env, key: &str, id: Option<&str>, referrer: Option<&str>) {
    let (status, body) = env
        .api(
            "POST",
            "/v1/partners",
            Some(json!({
                "email": format!("{key}@example.com"),
                "name": key,
                "key": key,
                "id": id,
                "referring_partner_key": referrer,
            })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
}

/// A partner with its own API key, which is returned.
pub async fn partner_with_key(env: &Env, key: &str, id: Option<&str>) -> String {
    partner(env, key, id, None).await;
    let (status, body) = env
        .api("POST", &format!("/v1/partners/{key}/api-keys"), None)
        .await;
    assert_eq!(status, 201, "{body}");
    body["api_key"].as_str().unwrap_or_default().to_string()
}

/// Calls the api function with a partner's API key.
pub async fn as_partner(
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

/// Partner `pat` (its API key returned) with a postback on `events` to a fresh receiver, pat's
/// customer `cus_1`, and the program's plan changed by `commission`; answers the program.
pub async fn pat_listening(
    env: &Env,
    events: &[&str],
    commission: Value,
) -> (String, Receiver, Value) {
    let api_key = partner_with_key(env, "pat", None).await;
    let receiver = Receiver::start(&[]).await;
    let body = json!({"url": receiver.url, "name": "CRM", "events": events});
    let (status, created) = as_partner(env, &api_key, "POST", "/v1/postbacks", Some(body)).await;
    assert_eq!(status, 201, "{created}");
    let customer =
        json!({"email": "cus@example.com", "name": "Cus", "key": "cus_1", "partner_key": "pat"});
    let (status, created) = env.api("POST", "/v1/customers", Some(customer)).await;
    assert_eq!(status, 201, "{created}");
    let plan = json!({ "commission": commission });
    let (status, program) = env.api("PATCH", "/v1/program", Some(plan)).await;
    assert_eq!(status, 200, "{program}");
    (api_key, receiver, program)
}
