//! The API's own transactions: `POST`/`GET /v1/customers/{key}/transactions` and `POST
//! /v1/transactions/{key}/refunds`, amounts in minor units, through the commission worker.

use crate::support::{call, partner, rewards, scenario, transaction, Backend, Env};
use serde_json::{json, Value};

const PATH: &str = "/v1/customers/cus_1/transactions";

/// Partner `pat` and its customer `cus_1`.
async fn customer_of_pat(env: &Env) {
    partner(env, "pat", None, None).await;
    let body =
        json!({"email": "cus@example.com", "name": "Cus", "key": "cus_1", "partner_key": "pat"});
    let (status, created) = env.api("POST", "/v1/customers", Some(body)).await;
    assert_eq!(status, 201, "{created}");
}

fn full_body() -> Value {
    json!({"amount": 4900, "currency": "USD", "key": "inv_123", "category_key": "monthly",
        "product_key": "basic_plan", "created_at": "2026-05-21T10:00:00Z"})
}

async fn listed(env: &Env, path: &str) -> Vec<Value> {
    let (status, page) = env.api("GET", path, None).await;
    assert_eq!(status, 200, "{page}");
    page["data"].as_array().cloned().unwrap_or_default()
}

scenario!(a_transaction_is_recorded_for_a_customer_and_commissioned);
async fn a_transaction_is_recorded_for_a_customer_and_commissioned(backend: Backend) {
    let env = Env::new(backend).await;
    customer_of_pat(&env).await;
    let (status, tx) = env.api("POST", PATH, Some(full_body())).await;
    assert_eq!(status, 201, "{tx}");
    assert_eq!(tx["key"], "inv_123");
    assert_eq!(tx["customer_key"], "cus_1");
    assert_eq!(tx["amount"], 4900);
    assert_eq!(tx["currency"], "USD");
    assert_eq!(tx["category_key"], "monthly");
    assert_eq!(tx["product_key"], "basic_plan");
    assert_eq!(tx["status"], "recorded");
    assert_eq!(tx["source"], "api");
    assert_eq!(tx["created_at"], 1_779_357_600_000_i64, "the body's time");
    assert!(tx["partner_key"].is_null(), "attributed by the worker");

    let (processed, response) = env.run_worker().await;
    assert_eq!(processed, 1, "the commission is queued as for webhooks");
    assert!(response.batch_item_failures.is_empty());
    let stored = transaction(&env, "inv_123").await;
    assert_eq!(stored["status"], "commissioned");
    assert_eq!(
        stored["partner_key"], "pat",
        "through the customer's partner"
    );
    assert_eq!(stored["product_id"], "basic_plan");
    assert_eq!(stored["product_type"], "monthly");
    let rewards = rewards(&env, "inv_123").await;
    assert_eq!(rewards.len(), 1, "{rewards:?}");
    assert_eq!(rewards[0]["amount"], 980, "20 % of 49.00 USD");
    assert_eq!(rewards[0]["partner_key"], "pat");

    // Without currency or time: the program's currency (EUR), recorded now.
    let (status, plain) = env
        .api("POST", PATH, Some(json!({"amount": 1250, "key": "inv_2"})))
        .await;
    assert_eq!(status, 201, "{plain}");
    assert_eq!(
        (plain["currency"].as_str(), plain["amount"].as_i64()),
        (Some("EUR"), Some(1250))
    );
    assert_eq!(plain["created_at"], plain["recorded_at"]);
    assert!(plain["product_key"].is_null() && plain["category_key"].is_null());
}

scenario!(a_repeat_with_the_same_key_records_once);
async fn a_repeat_with_the_same_key_records_once(backend: Backend) {
    let env = Env::new(backend).await;
    customer_of_pat(&env).await;
    let (status, first) = env.api("POST", PATH, Some(full_body())).await;
    assert_eq!(status, 201, "{first}");
    // The body's key: the ledger finds the transaction.
    let (status, again) = env.api("POST", PATH, Some(full_body())).await;
    assert_eq!((status, &again["key"]), (200, &json!("inv_123")), "{again}");
    // The same body key under a new Idempotency-Key is the same repeat.
    let header = [("idempotency-key", "retry-9")];
    let (status, again) = env.api_with("POST", PATH, Some(full_body()), &header).await;
    assert_eq!((status, &again["key"]), (200, &json!("inv_123")), "{again}");
    // The same key with another body.
    let mut other = full_body();
    other["amount"] = json!(5000);
    let (status, refused) = env.api("POST", PATH, Some(other)).await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["error"]["code"], "conflict");

    // No body key: the Idempotency-Key header is the key; a repeat is 200 too.
    let body = json!({"amount": 700});
    let header = [("idempotency-key", "order-77")];
    let (status, made) = env
        .api_with("POST", PATH, Some(body.clone()), &header)
        .await;
    assert_eq!((status, &made["key"]), (201, &json!("order-77")), "{made}");
    let (status, again) = env
        .api_with("POST", PATH, Some(body.clone()), &header)
        .await;
    assert_eq!((status, again), (200, made));
    let (status, _) = env
        .api_with("POST", PATH, Some(json!({"amount": 701})), &header)
        .await;
    assert_eq!(status, 409);

    // Neither: a key is made up and returned.
    let (status, made) = env.api("POST", PATH, Some(body)).await;
    assert_eq!(status, 201, "{made}");
    let made_key = made["key"].as_str().unwrap_or_default().to_string();
    assert!(made_key.starts_with("tx_"), "{made_key}");
    transaction(&env, &made_key).await;

    let keys: Vec<Value> = listed(&env, PATH)
        .await
        .iter()
        .map(|t| t["key"].clone())
        .collect();
    assert_eq!(keys.len(), 3, "{keys:?}");
    let (processed, _) = env.run_worker().await;
    assert!(processed >= 3);
    assert_eq!(
        rewards(&env, "inv_123").await.len(),
        1,
        "one reward, however often sent"
    );
}

scenario!(bad_transactions_are_refused_naming_the_field);
async fn bad_transactions_are_refused_naming_the_field(backend: Backend) {
    let env = Env::new(backend).await;
    customer_of_pat(&env).await;
    for (body, field) in [
        (json!({"amount": "4900"}), "amount"),
        (json!({"amount": 49.5}), "amount"),
        (json!({"amount": 0}), "amount"),
        (json!({"amount": -100}), "amount"),
        (
            json!({"amount": 100_000_000_000_001_i64, "currency": "USD"}),
            "amount",
        ),
        (json!({"amount": 1e20}), "amount"),
        (json!({"currency": "USD"}), "body"),
        (json!({"amount": 100, "currency": "XYZ"}), "currency"),
        (
            json!({"amount": 100, "created_at": "21/05/2026"}),
            "created_at",
        ),
        (json!({"amount": 100, "key": "a\nb"}), "key"),
        (json!({"amount": 100, "partner_key": "pat"}), "partner_key"),
    ] {
        let (status, refused) = env.api("POST", PATH, Some(body.clone())).await;
        assert_eq!(status, 422, "{body}: {refused}");
        assert_eq!(refused["error"]["code"], "invalid_field", "{body}");
        assert_eq!(refused["error"]["field"], field, "{body}: {refused}");
    }
    // An Idempotency-Key too long for a transaction key is refused when it would be the key.
    let long = "k".repeat(250);
    let header = [("idempotency-key", long.as_str())];
    let (status, refused) = env
        .api_with("POST", PATH, Some(json!({"amount": 100})), &header)
        .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"]["field"], "idempotency-key");
    let (status, refused) = env
        .api(
            "POST",
            "/v1/customers/nobody/transactions",
            Some(json!({"amount": 100})),
        )
        .await;
    assert_eq!(status, 404, "{refused}");
    assert_eq!(refused["error"]["code"], "unknown_customer");
    let (status, refused) = env
        .api_with(
            "POST",
            PATH,
            Some(json!({"amount": 100})),
            &[("content-type", "text/plain")],
        )
        .await;
    assert_eq!(status, 415, "{refused}");
    let (status, _) = call(
        &env.api_router(),
        "POST",
        PATH,
        &[("content-type", "application/json")],
        br#"{"amount": 100}"#,
        false,
    )
    .await;
    assert_eq!(status, 401, "the admin key is required");
    assert!(listed(&env, PATH).await.is_empty(), "nothing was recorded");
    let (processed, _) = env.run_worker().await;
    assert_eq!(processed, 0, "nothing was queued");
    // With a key of its own, a long header only guards the request.
    let long = "j".repeat(250);
    let header = [("idempotency-key", long.as_str())];
    let (status, made) = env
        .api_with(
            "POST",
            PATH,
            Some(json!({"amount": 100, "key": "k1"})),
            &header,
        )
        .await;
    assert_eq!((status, &made["key"]), (201, &json!("k1")), "{made}");
}

scenario!(a_customers_transactions_are_paged_newest_first);
async fn a_customers_transactions_are_paged_newest_first(backend: Backend) {
    let env = Env::new(backend).await;
    customer_of_pat(&env).await;
    for key in ["t1", "t2", "t3"] {
        let (status, _) = env
            .api("POST", PATH, Some(json!({"amount": 100, "key": key})))
            .await;
        assert_eq!(status, 201);
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    }
    let (status, page) = env.api("GET", &format!("{PATH}?limit=2"), None).await;
    assert_eq!(status, 200, "{page}");
    let keys = |page: &Value| -> Vec<String> {
        page["data"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t["key"].as_str().map(str::to_string))
            .collect()
    };
    assert_eq!(keys(&page), ["t3", "t2"]);
    assert_eq!(page["data"][0]["amount"], 100, "full transaction views");
    let cursor = page["next_cursor"].as_str().unwrap_or_default().to_string();
    let (status, rest) = env
        .api("GET", &format!("{PATH}?limit=2&cursor={cursor}"), None)
        .await;
    assert_eq!(status, 200, "{rest}");
    assert_eq!(keys(&rest), ["t1"]);

    // A cursor of another listing, or another customer's, is refused.
    let (_, customers) = env.api("GET", "/v1/customers?limit=1", None).await;
    let (_, partners) = env.api("GET", "/v1/partners?limit=1", None).await;
    for other in [
        &customers["next_cursor"],
        &partners["next_cursor"],
        &json!("garbled"),
    ] {
        let Some(other) = other.as_str() else {
            continue;
        };
        let (status, refused) = env
            .api("GET", &format!("{PATH}?cursor={other}"), None)
            .await;
        assert_eq!(status, 400, "{refused}");
        assert_eq!(refused["error"]["code"], "invalid_cursor");
    }
    let body = json!({"email": "two@example.com", "name": "Two", "key": "cus_2"});
    env.api("POST", "/v1/customers", Some(body)).await;
    let (status, _) = env
        .api(
            "GET",
            &format!("/v1/customers/cus_2/transactions?cursor={cursor}"),
            None,
        )
        .await;
    assert_eq!(status, 400);
    assert!(listed(&env, "/v1/customers/cus_2/transactions")
        .await
        .is_empty());
    let (status, refused) = env
        .api("GET", "/v1/customers/nobody/transactions", None)
        .await;
    assert_eq!(
        (status, &refused["error"]["code"]),
        (404, &json!("unknown_customer"))
    );
}

scenario!(refunds_partial_full_past_the_amount_and_repeated);
async fn refunds_partial_full_past_the_amount_and_repeated(backend: Backend) {
    let env = Env::new(backend).await;
    customer_of_pat(&env).await;
    env.api("POST", PATH, Some(full_body())).await;
    env.run_worker().await;
    let refunds = "/v1/transactions/inv_123/refunds";

    let part = json!({"amount": 1000, "key": "rf_1"});
    let (status, tx) = env.api("POST", refunds, Some(part.clone())).await;
    assert_eq!(status, 200, "{tx}");
    assert_eq!(
        (tx["refunded_amount"].as_i64(), tx["status"].as_str()),
        (Some(1000), Some("commissioned"))
    );
    assert_eq!(
        tx["product_key"], "basic_plan",
        "the transaction after the refund"
    );
    let (status, again) = env.api("POST", refunds, Some(part)).await;
    assert_eq!(
        (status, &again["refunded_amount"]),
        (200, &json!(1000)),
        "counted once"
    );
    assert_eq!(
        rewards(&env, "inv_123").await[0]["amount"],
        780,
        "20 % of 39.00"
    );

    // A partial refund needs a key: the body's or the Idempotency-Key header.
    let (status, refused) = env.api("POST", refunds, Some(json!({"amount": 500}))).await;
    assert_eq!(
        (status, &refused["error"]["field"]),
        (422, &json!("key")),
        "{refused}"
    );
    let header = [("idempotency-key", "rf-h")];
    let (status, tx) = env
        .api_with("POST", refunds, Some(json!({"amount": 500})), &header)
        .await;
    assert_eq!(
        (status, &tx["refunded_amount"]),
        (200, &json!(1500)),
        "{tx}"
    );

    for bad in [
        json!({"amount": 3401, "key": "rf_2"}),
        json!({"amount": 0, "key": "rf_3"}),
        json!({"amount": 10.5, "key": "rf_4"}),
    ] {
        let (status, refused) = env.api("POST", refunds, Some(bad.clone())).await;
        assert_eq!(status, 422, "{bad}: {refused}");
        assert_eq!(refused["error"]["field"], "amount", "{bad}");
    }
    assert_eq!(
        transaction(&env, "inv_123").await["refunded_amount"],
        1500,
        "nothing past it"
    );

    // No amount: all that is left, once.
    let (status, tx) = env.api("POST", refunds, Some(json!({}))).await;
    assert_eq!(status, 200, "{tx}");
    assert_eq!(
        (tx["refunded_amount"].as_i64(), tx["status"].as_str()),
        (Some(4900), Some("refunded"))
    );
    let (status, again) = env.api("POST", refunds, Some(json!({}))).await;
    assert_eq!((status, again["status"].as_str()), (200, Some("refunded")));
    assert_eq!(
        rewards(&env, "inv_123").await[0]["reward_status"],
        "declined"
    );
    let (status, refused) = env
        .api("POST", refunds, Some(json!({"amount": 1, "key": "rf_5"})))
        .await;
    assert_eq!(
        (status, &refused["error"]["field"]),
        (422, &json!("amount"))
    );

    let (status, refused) = env
        .api("POST", "/v1/transactions/nope/refunds", Some(json!({})))
        .await;
    assert_eq!(
        (status, &refused["error"]["code"]),
        (404, &json!("not_found"))
    );
}
