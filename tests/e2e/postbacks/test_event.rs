//! The partner's test event answers within the api function's time even when the endpoint
//! hangs: a result that says it timed out, never a 5xx.

use super::register;
use crate::support::{as_partner, partner_with_key, scenario, Backend, Env};
use partnerhook::outbound::client::{Timeouts, TEST_TIMEOUT};
use partnerhook::outbound::ssrf::EndpointPolicy;
use serde_json::Value;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const TEMPLATE: &str = include_str!("../../../template.yaml");

/// An endpoint that accepts connections, reads the request, writes `first` (maybe nothing) and
/// then never answers more; returns its URL.
async fn hanging_endpoint(first: &'static [u8]) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut request = [0u8; 8192];
            if !matches!(socket.read(&mut request).await, Ok(n) if n > 0) {
                continue;
            }
            socket.write_all(first).await.ok();
            held.push(socket);
        }
    });
    url
}

/// The api function's timeout in template.yaml, in seconds.
fn api_function_timeout() -> u64 {
    let function = TEMPLATE
        .split_once("\n  ApiFunction:")
        .map(|(_, rest)| rest)
        .expect("template.yaml declares ApiFunction");
    function
        .lines()
        .find_map(|line| line.trim().strip_prefix("Timeout:"))
        .and_then(|value| value.trim().parse().ok())
        .expect("ApiFunction has a Timeout")
}

#[test]
fn the_test_event_gives_up_well_inside_the_api_functions_timeout() {
    let api = Duration::from_secs(api_function_timeout());
    // Room for the reads before the send and the answer after it, with cold starts.
    assert!(
        TEST_TIMEOUT + Duration::from_secs(10) <= api,
        "test timeout {TEST_TIMEOUT:?}, api function {api:?}"
    );
}

scenario!(a_hanging_endpoint_gets_a_timed_out_test_result);
async fn a_hanging_endpoint_gets_a_timed_out_test_result(backend: Backend) {
    let quick = Duration::from_millis(400);
    let timeouts = Timeouts {
        delivery: Duration::from_secs(30),
        test: quick,
    };
    let env = Env::with_postbacks(backend, EndpointPolicy::LOCAL, timeouts).await;
    let key = partner_with_key(&env, "pat", None).await;
    let test = |url: String| {
        let (env, key) = (&env, key.clone());
        async move {
            let postback = register(env, &key, &url, &["reward.created"]).await;
            let path = format!(
                "/v1/postbacks/{}/test",
                postback["id"].as_str().unwrap_or_default()
            );
            let started = Instant::now();
            let (status, result) = as_partner(env, &key, "POST", &path, None).await;
            assert_eq!(status, 200, "{result}");
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "{:?}",
                started.elapsed()
            );
            result
        }
    };

    // Accepted, never answered: no status, "timed out".
    let silent = test(hanging_endpoint(b"").await).await;
    assert_eq!(silent["success"], false, "{silent}");
    assert_eq!(silent["status_code"], Value::Null);
    let error = silent["error"].as_str().unwrap_or_default();
    assert!(error.contains("timed out after 400ms"), "{silent}");
    let latency = silent["latency_ms"].as_u64().unwrap_or_default();
    assert!((400..3_000).contains(&latency), "{silent}");

    // The status and a first part sent, then nothing: what came is kept, and it timed out.
    let stalled =
        test(hanging_endpoint(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial").await)
            .await;
    assert_eq!(stalled["status_code"], 200, "{stalled}");
    assert_eq!(stalled["response_body"], "partial");
    assert_eq!(stalled["response_truncated"], true);
    assert_eq!(stalled["response_bytes"], 100);
    let error = stalled["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("timed out after 400ms reading the answer"),
        "{stalled}"
    );
}
