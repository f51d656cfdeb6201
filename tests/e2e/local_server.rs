//! The local server over real HTTP: the embedded store on disk, the in-process queue and worker.

use crate::support::{sign, SEED, SEED_REFUND};
use partnerhook::local;
use partnerhook::program;
use serde_json::{json, Value};
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

#[tokio::test]
async fn the_local_server_runs_the_whole_flow_over_http() {
    let data = std::env::temp_dir().join(format!("ph-local-{}", uuid::Uuid::now_v7()));
    // The operator CLI writes to the same folder the server reads (SQLite shares it).
    let (admin_app, _) = local::local_app(&data).expect("open the data folder");
    let created = program::create(&admin_app.repo, "shop", None, "EUR")
        .await
        .expect("create a program");
    let listener = local::bind("127.0.0.1:0".parse().expect("address"))
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let server_data = data.clone();
    tokio::spawn(async move { local::serve(listener, &server_data).await });

    let client = reqwest::Client::new();
    let key = created.admin_key.as_str();
    let status = client
        .post(format!("{base}/v1/partners"))
        .bearer_auth(key)
        .json(&json!({"email": "p@example.com", "name": "P", "id": "P-001"}))
        .send()
        .await
        .expect("create partner")
        .status();
    assert_eq!(status, 201);

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
