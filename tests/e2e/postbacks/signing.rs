//! Deliveries are signed as Standard Webhooks: checked by the independent `standardwebhooks`
//! Python package (PARTNERHOOK_TEST_PYTHON, set by ./infra/test.sh), with the secret read back
//! from the store.

use super::subscribed_partner;
use crate::support::{scenario, Backend, SEED};
use axum::http::HeaderMap;
use serde_json::json;

/// Verifies a received request with the standardwebhooks package; panics with its complaint.
fn verify_with_standardwebhooks(secret: &str, headers: &HeaderMap, body: &str) {
    let python = std::env::var("PARTNERHOOK_TEST_PYTHON").unwrap_or_else(|_| {
        panic!(
            "PARTNERHOOK_TEST_PYTHON is not set: run the tests with ./infra/test.sh \
             (or leave this check out with --skip standardwebhooks)"
        )
    });
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let script = "import json, sys\nfrom standardwebhooks import Webhook\nsecret, body, headers = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])\nWebhook(secret).verify(body, headers)\nprint('verified')";
    let headers_json = json!({
        "webhook-id": header("webhook-id"),
        "webhook-timestamp": header("webhook-timestamp"),
        "webhook-signature": header("webhook-signature"),
    })
    .to_string();
    let output = std::process::Command::new(python)
        .args(["-c", script, secret, body, &headers_json])
        .output()
        .expect("run python");
    assert!(
        output.status.success() && String::from_utf8_lossy(&output.stdout).contains("verified"),
        "standardwebhooks refused the signature: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

scenario!(standardwebhooks_verifies_every_delivery);
async fn standardwebhooks_verifies_every_delivery(backend: Backend) {
    let (env, _, receiver, postback) = subscribed_partner(backend).await;
    let secret = postback["secret"].as_str().unwrap_or_default().to_string();

    env.post_signed(SEED).await;
    env.run_worker().await;
    env.run_postback_worker().await;
    let requests = receiver.requests();
    assert_eq!(requests.len(), 2, "the reward and the transaction");
    for (headers, body) in &requests {
        verify_with_standardwebhooks(&secret, headers, body);
    }
}
