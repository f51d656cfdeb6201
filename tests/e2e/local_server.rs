//! The local server over real HTTP: the embedded store on disk, the in-process queue and worker.

use crate::support::{seed_with, serve_shop, sign, SEED, SEED_REFUND};
use partnerhook::usecases::programs as program;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Duration;

async fn wait_for_status(client: &reqwest::Client, url: &str, key: &str, want: &str) -> Value {
    for _ in 0..100 {
        let tx: Value = client
            .get(url)
            .bearer_auth(key)
            .send()
            .await
            .expect("GET transaction")
            .json()
            .await
            .expect("JSON");
        if tx["status"] == want {
            return tx;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the transaction never became {want}");
}

/// A local server on a fresh data folder with program `shop` and partner `P-001` (key `pat`).
async fn start() -> (String, program::CreatedProgram, PathBuf) {
    let (base, created, data) = serve_shop("local").await;
    let status = reqwest::Client::new()
        .post(format!("{base}/v1/partners"))
        .bearer_auth(&created.admin_key)
        .json(&json!({"email": "p@example.com", "name": "P", "id": "P-001", "key": "pat"}))
        .send()
        .await
        .expect("create partner")
        .status();
    assert_eq!(status, 201);
    (base, created, data)
}

#[tokio::test]
async fn the_local_server_runs_the_whole_flow_over_http() {
    let (base, created, data) = start().await;
    let client = reqwest::Client::new();
    let key = created.admin_key.as_str();

    let webhook = format!("{base}/webhooks/shop/custom");
    let post = |body: &'static str, signature: String| {
        client
            .post(&webhook)
            .header("content-type", "application/json")
            .header("x-webhook-signature", signature)
            .body(body)
            .send()
    };
    let secret = created.custom_webhook_secret.as_str();
    let first: Value = post(SEED, sign(secret, SEED.as_bytes()))
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    assert_eq!(first["status"], "created");
    let second: Value = post(SEED, sign(secret, SEED.as_bytes()))
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    assert_eq!(second["status"], "skipped");
    let refused = post(SEED, sign("wrong", SEED.as_bytes()))
        .await
        .expect("post");
    assert_eq!(refused.status(), 401);

    let tx_url = format!("{base}/v1/transactions/ext-tx-12345");
    wait_for_status(&client, &tx_url, key, "commissioned").await;
    let rewards: Value = client
        .get(format!("{base}/v1/rewards?transaction_key=ext-tx-12345"))
        .bearer_auth(key)
        .send()
        .await
        .expect("rewards")
        .json()
        .await
        .expect("json");
    assert_eq!(rewards["data"][0]["amount"], 3345);
    assert_eq!(rewards["data"].as_array().map(Vec::len), Some(1));

    let refund: Value = post(SEED_REFUND, sign(secret, SEED_REFUND.as_bytes()))
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    assert_eq!(refund["status"], "refunded");
    wait_for_status(&client, &tx_url, key, "refunded").await;
    std::fs::remove_dir_all(&data).ok();
}

#[tokio::test]
async fn a_hanging_postback_endpoint_holds_up_no_other_work() {
    let (base, created, data) = start().await;
    let client = reqwest::Client::new();
    let key = created.admin_key.as_str();
    // An endpoint that answers after 10 s (the request timeout is 15 s).
    let hanging = axum::Router::new().route(
        "/hook",
        axum::routing::post(|| async {
            tokio::time::sleep(Duration::from_secs(10)).await;
            "late"
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let hook = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, hanging).await });
    let partner_key: Value = client
        .post(format!("{base}/v1/partners/pat/api-keys"))
        .bearer_auth(key)
        .send()
        .await
        .expect("issue a key")
        .json()
        .await
        .expect("json");
    let status = client
        .post(format!("{base}/v1/postbacks"))
        .bearer_auth(partner_key["api_key"].as_str().unwrap_or_default())
        .json(&json!({"url": hook, "name": "slow", "events": ["reward.created"]}))
        .send()
        .await
        .expect("register")
        .status();
    assert_eq!(status, 201);

    // Two sales, one after the other: the first one's postback hangs, the second is commissioned
    // all the same within the 5 s wait_for_status allows.
    let secret = created.custom_webhook_secret.as_str();
    let webhook = format!("{base}/webhooks/shop/custom");
    for (body, tx) in [
        (SEED.to_string(), "ext-tx-12345"),
        (seed_with(json!({"externalId": "ext-2"})), "ext-2"),
    ] {
        let status = client
            .post(&webhook)
            .header("content-type", "application/json")
            .header("x-webhook-signature", sign(secret, body.as_bytes()))
            .body(body)
            .send()
            .await
            .expect("post")
            .status();
        assert_eq!(status, 200);
        let url = format!("{base}/v1/transactions/{tx}");
        wait_for_status(&client, &url, key, "commissioned").await;
        // Let the first sale's delivery begin hanging before the second sale arrives.
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    std::fs::remove_dir_all(&data).ok();
}
