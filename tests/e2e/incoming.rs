//! Incoming webhooks through the api and webhook-incoming functions, on both back ends: the
//! seed's complete flow, each action, conversions, form bodies, rotation and program isolation.

use crate::support::{call, scenario, Backend, Env};
use partnerhook::http::incoming_router;
use partnerhook::usecases::programs as program;
use serde_json::{json, Value};

const SEED_ORDER: &str = r#"{"event":"order_completed","customer":{"email":"buyer@partnero.com","name":"Jane Smith"},"order":{"id":"ORD-789","amount":149.99,"product":"pro_plan"},"referral_code":"PARTNER123"}"#;

/// The path part of an absolute URL the API handed out.
fn path_of(url: &Value) -> String {
    let url = url.as_str().unwrap_or_default();
    let after_scheme = url.split_once("://").map(|(_, rest)| rest).unwrap_or(url);
    after_scheme
        .find('/')
        .map(|i| after_scheme[i..].to_string())
        .unwrap_or_default()
}

pub(crate) async fn post(env: &Env, url: &Value, content_type: &str, body: &str) -> (u16, Value) {
    let headers = [("content-type", content_type)];
    call(
        &incoming_router(env.app.clone()),
        "POST",
        &path_of(url),
        &headers,
        body.as_bytes(),
        false,
    )
    .await
}

pub(crate) async fn create_hook(env: &Env) -> Value {
    let (status, hook) = env
        .api(
            "POST",
            "/v1/incoming-webhooks",
            Some(json!({"name": "Shop orders"})),
        )
        .await;
    assert_eq!(status, 201, "{hook}");
    for url in ["test_url", "production_url"] {
        assert!(
            hook[url].as_str().is_some_and(|u| u.starts_with("http")),
            "{url} is absolute: {hook}"
        );
    }
    hook
}

pub(crate) async fn map(env: &Env, hook: &Value, action: &str, fields: Value) -> (u16, Value) {
    let id = hook["id"].as_str().unwrap_or_default();
    env.api(
        "PUT",
        &format!("/v1/incoming-webhooks/{id}/mapping"),
        Some(json!({"action": action, "fields": fields})),
    )
    .await
}

scenario!(the_seed_complete_flow_creates_customer_link_transaction_and_reward);
async fn the_seed_complete_flow_creates_customer_link_transaction_and_reward(backend: Backend) {
    let env = Env::new(backend).await;
    let (status, _) = env
        .api(
            "POST",
            "/v1/partners",
            Some(json!({"email": "p@example.com", "name": "P", "key": "PARTNER123"})),
        )
        .await;
    assert_eq!(status, 201);
    let hook = create_hook(&env).await;

    // The production URL before a mapping: refused, recorded, nothing created.
    let (status, answer) = post(
        &env,
        &hook["production_url"],
        "application/json",
        SEED_ORDER,
    )
    .await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (409, Some("conflict"))
    );

    // The test URL lists the paths and creates nothing.
    let (status, answer) = post(&env, &hook["test_url"], "application/json", SEED_ORDER).await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (200, Some("sample_captured"))
    );
    let paths: Vec<&str> = answer["paths"]
        .as_array()
        .map(|ps| ps.iter().filter_map(|p| p["path"].as_str()).collect())
        .unwrap_or_default();
    for path in [
        "customer.email",
        "customer.name",
        "order.id",
        "order.amount",
        "order.product",
        "referral_code",
    ] {
        assert!(paths.contains(&path), "{path} in {paths:?}");
    }
    let (_, customers) = env.api("GET", "/v1/customers", None).await;
    assert_eq!(customers["data"].as_array().map(Vec::len), Some(0));
    let id = hook["id"].as_str().unwrap_or_default();
    let (_, shown) = env
        .api("GET", &format!("/v1/incoming-webhooks/{id}"), None)
        .await;
    let amount_path = shown["field_paths"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["path"] == "order.amount"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(amount_path["example"], json!(149.99));
    assert_eq!(shown["samples"].as_array().map(Vec::len), Some(1));

    let fields = json!({
        "customer_email": "customer.email",
        "customer_name": "customer.name",
        "transaction_key": "order.id",
        "amount": "order.amount",
        "product_id": "order.product",
        "partner_key": "referral_code"
    });
    let (status, saved) = map(&env, &hook, "create_transaction", fields).await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["warnings"], json!([]));

    let (status, answer) = post(
        &env,
        &hook["production_url"],
        "application/json",
        SEED_ORDER,
    )
    .await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (200, Some("created")),
        "{answer}"
    );
    let (status, again) = post(
        &env,
        &hook["production_url"],
        "application/json",
        SEED_ORDER,
    )
    .await;
    assert_eq!((status, again["status"].as_str()), (200, Some("skipped")));

    env.run_worker().await;
    let (_, tx) = env.api("GET", "/v1/transactions/ORD-789", None).await;
    assert_eq!(tx["status"], "commissioned", "{tx}");
    assert_eq!(
        (
            tx["amount"].as_i64(),
            tx["partner_key"].as_str(),
            tx["product_id"].as_str()
        ),
        (Some(14999), Some("PARTNER123"), Some("pro_plan"))
    );
    let customer_key = tx["customer_key"].as_str().unwrap_or_default().to_string();
    let (_, customer) = env
        .api("GET", &format!("/v1/customers/{customer_key}"), None)
        .await;
    assert_eq!(
        (
            customer["email"].as_str(),
            customer["name"].as_str(),
            customer["partner_key"].as_str()
        ),
        (
            Some("buyer@partnero.com"),
            Some("Jane Smith"),
            Some("PARTNER123")
        )
    );
    let (_, rewards) = env
        .api("GET", "/v1/rewards?transaction_key=ORD-789", None)
        .await;
    assert_eq!(
        rewards["data"][0]["amount"], 3000,
        "20 % of 149.99, rounded"
    );

    // A second order of the same buyer finds the customer by email.
    let second = SEED_ORDER.replace("ORD-789", "ORD-790");
    post(&env, &hook["production_url"], "application/json", &second).await;
    let (_, tx) = env.api("GET", "/v1/transactions/ORD-790", None).await;
    assert_eq!(tx["customer_key"].as_str(), Some(customer_key.as_str()));
}

scenario!(mappings_are_checked_and_payloads_converted_with_the_path_named);
async fn mappings_are_checked_and_payloads_converted_with_the_path_named(backend: Backend) {
    let env = Env::new(backend).await;
    let hook = create_hook(&env).await;
    post(
        &env,
        &hook["test_url"],
        "application/json",
        r#"{"user_email":"a@b.co","total":"99.99","order_id":"o-1"}"#,
    )
    .await;

    let (status, body) = map(
        &env,
        &hook,
        "create_transaction",
        json!({"amount": "total", "coupon": "x", "customer_email": "user_email"}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("fields.coupon"))
    );
    let (status, body) = map(
        &env,
        &hook,
        "create_transaction",
        json!({"customer_email": "user_email"}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("fields.amount"))
    );
    let (status, body) = map(&env, &hook, "make_coffee", json!({})).await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = map(&env, &hook, "create_transaction", json!({"amount": "order.total", "customer_email": "user_email", "transaction_key": "order_id"})).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["warnings"],
        json!(["no sample contains order.total (mapped to amount)"])
    );

    map(
        &env,
        &hook,
        "create_transaction",
        json!({"amount": "total", "customer_email": "user_email", "transaction_key": "order_id"}),
    )
    .await;
    let url = &hook["production_url"];
    let cases = [
        (
            r#"{"user_email":"a@b.co","total":"abc","order_id":"o-2"}"#,
            "total",
        ),
        (
            r#"{"user_email":"a@b.co","total":{"v":1},"order_id":"o-3"}"#,
            "total",
        ),
        (r#"{"user_email":"a@b.co","order_id":"o-4"}"#, "total"),
        (
            r#"{"user_email":"not-an-email","total":"5","order_id":"o-5"}"#,
            "email",
        ),
    ];
    for (body, field) in cases {
        let (status, answer) = post(&env, url, "application/json", body).await;
        assert_eq!(
            (status, answer["error"]["field"].as_str()),
            (422, Some(field)),
            "{body}: {answer}"
        );
    }
    // Numbers and decimal strings are both amounts.
    let (status, _) = post(
        &env,
        url,
        "application/json",
        r#"{"user_email":"a@b.co","total":99.99,"order_id":"o-6"}"#,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = post(
        &env,
        url,
        "application/json",
        r#"{"user_email":"a@b.co","total":"12.50","order_id":"o-7"}"#,
    )
    .await;
    assert_eq!(status, 200);
    let (_, tx) = env.api("GET", "/v1/transactions/o-7", None).await;
    assert_eq!(tx["amount"], 1250);
    for key in ["o-2", "o-3", "o-4", "o-5"] {
        let (status, _) = env
            .api("GET", &format!("/v1/transactions/{key}"), None)
            .await;
        assert_eq!(status, 404, "{key} must not exist");
    }
    let (status, _) = post(&env, url, "text/plain", "total=1").await;
    assert_eq!(status, 415);
    let (_, events) = env.api("GET", "/v1/events?limit=50", None).await;
    let rejected = events["data"]
        .as_array()
        .map(|es| es.iter().filter(|e| e["verdict"] == "rejected").count())
        .unwrap_or_default();
    assert_eq!(rejected, 5, "every refusal is in the inbox");
}

scenario!(partner_and_customer_actions_take_form_bodies_and_dedupe);
async fn partner_and_customer_actions_take_form_bodies_and_dedupe(backend: Backend) {
    let env = Env::new(backend).await;
    let partners = create_hook(&env).await;
    let (status, _) = map(&env, &partners, "create_partner", json!({"email": "partner.email", "name": "partner.name", "partner_key": "partner.key", "partner_id": "id"})).await;
    assert_eq!(status, 200);
    let form = "partner[email]=pat%40example.com&partner[name]=Pat&partner[key]=pat&id=P-7";
    let (status, answer) = post(
        &env,
        &partners["production_url"],
        "application/x-www-form-urlencoded",
        form,
    )
    .await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (200, Some("created")),
        "{answer}"
    );
    let (status, answer) = post(
        &env,
        &partners["production_url"],
        "application/x-www-form-urlencoded",
        form,
    )
    .await;
    assert_eq!((status, answer["status"].as_str()), (200, Some("skipped")));
    let (_, partner) = env.api("GET", "/v1/partners/pat", None).await;
    assert_eq!(
        (partner["email"].as_str(), partner["id"].as_str()),
        (Some("pat@example.com"), Some("P-7"))
    );
    let missing_name = "partner[email]=x%40example.com";
    let (status, answer) = post(
        &env,
        &partners["production_url"],
        "application/x-www-form-urlencoded",
        missing_name,
    )
    .await;
    assert_eq!(
        (status, answer["error"]["field"].as_str()),
        (422, Some("partner.name"))
    );

    let customers = create_hook(&env).await;
    map(
        &env,
        &customers,
        "create_customer",
        json!({"email": "email", "name": "name", "customer_key": "key", "partner_email": "ref"}),
    )
    .await;
    let (status, answer) = post(
        &env,
        &customers["production_url"],
        "application/json",
        r#"{"email":"c@example.com","name":"C","key":"c-1","ref":"pat@example.com"}"#,
    )
    .await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (200, Some("created")),
        "{answer}"
    );
    let (_, customer) = env.api("GET", "/v1/customers/c-1", None).await;
    assert_eq!(customer["partner_key"], "pat");
    let (status, answer) = post(
        &env,
        &customers["production_url"],
        "application/json",
        r#"{"email":"d@example.com","name":"D","ref":"nobody@example.com"}"#,
    )
    .await;
    assert_eq!(
        (status, answer["error"]["field"].as_str()),
        (422, Some("ref"))
    );

    // Without a key in the payload, the same payload sent again finds the customer it made.
    let keyless = r#"{"email":"e@example.com","name":"E","ref":"pat@example.com"}"#;
    let first = post(
        &env,
        &customers["production_url"],
        "application/json",
        keyless,
    )
    .await;
    assert_eq!(first.1["status"], "created", "{}", first.1);
    let again = post(
        &env,
        &customers["production_url"],
        "application/json",
        keyless,
    )
    .await;
    assert_eq!(again.1["status"], "skipped", "{}", again.1);
    assert_eq!(again.1["transaction_key"], first.1["transaction_key"]);
    let (_, listed) = env.api("GET", "/v1/customers", None).await;
    let named_e = listed["data"].as_array().map_or(0, |all| {
        all.iter().filter(|c| c["email"] == "e@example.com").count()
    });
    assert_eq!(named_e, 1);
}

scenario!(refunds_by_transaction_key_and_token_rotation);
async fn refunds_by_transaction_key_and_token_rotation(backend: Backend) {
    let env = Env::new(backend).await;
    let (status, _) = env
        .api(
            "POST",
            "/v1/customers",
            Some(json!({"email": "c@example.com", "name": "C", "key": "c-1"})),
        )
        .await;
    assert_eq!(status, 201);
    let sales = create_hook(&env).await;
    map(
        &env,
        &sales,
        "create_transaction",
        json!({"amount": "amount", "customer_key": "customer", "transaction_key": "id"}),
    )
    .await;
    post(
        &env,
        &sales["production_url"],
        "application/json",
        r#"{"amount":"100.00","customer":"c-1","id":"s-1"}"#,
    )
    .await;

    let refunds = create_hook(&env).await;
    map(
        &env,
        &refunds,
        "refund_transaction",
        json!({"transaction_key": "id", "amount": "amount"}),
    )
    .await;
    let (status, answer) = post(
        &env,
        &refunds["production_url"],
        "application/json",
        r#"{"id":"s-1","amount":"40.00"}"#,
    )
    .await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (200, Some("partially_refunded"))
    );
    let (status, answer) = post(
        &env,
        &refunds["production_url"],
        "application/json",
        r#"{"id":"s-1","amount":"40.00"}"#,
    )
    .await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (200, Some("skipped")),
        "the same refund sent twice counts once"
    );
    let (_, tx) = env.api("GET", "/v1/transactions/s-1", None).await;
    assert_eq!(tx["refunded_amount"], 4000);

    let id = refunds["id"].as_str().unwrap_or_default();
    let (status, rotated) = env
        .api(
            "POST",
            &format!("/v1/incoming-webhooks/{id}/rotate-token"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_ne!(rotated["production_url"], refunds["production_url"]);
    let (status, _) = post(
        &env,
        &refunds["production_url"],
        "application/json",
        r#"{"id":"s-1"}"#,
    )
    .await;
    assert_eq!(status, 404, "the old URL stops working");
    let (status, _) = post(
        &env,
        &refunds["test_url"],
        "application/json",
        r#"{"id":"s-1"}"#,
    )
    .await;
    assert_eq!(status, 404);
    let (status, answer) = post(
        &env,
        &rotated["production_url"],
        "application/json",
        r#"{"id":"s-1"}"#,
    )
    .await;
    assert_eq!((status, answer["status"].as_str()), (200, Some("refunded")));
}

scenario!(one_programs_webhook_never_touches_another_program);
async fn one_programs_webhook_never_touches_another_program(backend: Backend) {
    let env = Env::new(backend).await;
    let hook = create_hook(&env).await;
    map(
        &env,
        &hook,
        "create_partner",
        json!({"email": "email", "name": "name", "partner_key": "key"}),
    )
    .await;
    let other = program::create(&env.app.repo, "other", None, "USD")
        .await
        .expect("second program");
    let other_api = partnerhook::http::api_router(env.app.clone());
    let auth = format!("Bearer {}", other.admin_key);
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    let id = hook["id"].as_str().unwrap_or_default();
    let (status, _) = call(
        &other_api,
        "GET",
        &format!("/v1/incoming-webhooks/{id}"),
        &headers,
        b"",
        false,
    )
    .await;
    assert_eq!(status, 404, "another program's admin cannot see it");
    let (status, _) = call(
        &other_api,
        "PUT",
        &format!("/v1/incoming-webhooks/{id}/mapping"),
        &headers,
        br#"{"action":"create_partner","fields":{}}"#,
        false,
    )
    .await;
    assert_eq!(status, 404);

    post(
        &env,
        &hook["production_url"],
        "application/json",
        r#"{"email":"x@example.com","name":"X","key":"x"}"#,
    )
    .await;
    let (status, _) = env.api("GET", "/v1/partners/x", None).await;
    assert_eq!(status, 200);
    let (status, _) = call(&other_api, "GET", "/v1/partners/x", &headers, b"", false).await;
    assert_eq!(
        status, 404,
        "the partner belongs to the hook's program only"
    );
}
