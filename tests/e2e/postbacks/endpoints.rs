//! Endpoints that fail in every way a partner's server can, each answered with the retry it
//! asks for. About the HTTP client and the schedule, so it needs no back end.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use partnerhook::domain::postback::Attempt;
use partnerhook::domain::postback::MAX_KEPT_RESPONSE_BYTES;
use partnerhook::domain::schedule::{decide, Decision, Response};
use partnerhook::outbound::client::{Deliverer, Purpose, Timeouts, MAX_READ_BYTES};
use partnerhook::outbound::signing;
use partnerhook::outbound::ssrf::EndpointPolicy;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Endpoints that fail in each way a partner's server can; counts requests that followed a
/// redirect (there must be none).
async fn misbehaving_endpoints() -> (String, Arc<AtomicUsize>) {
    let followed = Arc::new(AtomicUsize::new(0));
    let in_an_hour = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(3600));
    let app = Router::new()
        .route(
            "/slow",
            post(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        )
        .route(
            "/redirect",
            post(|| async { (StatusCode::FOUND, [("location", "/elsewhere")], "moved") }),
        )
        .route(
            "/elsewhere",
            post(|State(followed): State<Arc<AtomicUsize>>| async move {
                followed.fetch_add(1, Ordering::SeqCst);
                "followed"
            }),
        )
        .route(
            "/busy",
            post(|| async {
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [("retry-after", "7200")],
                    "busy",
                )
            }),
        )
        .route(
            "/busy-briefly",
            post(|| async {
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [("retry-after", "1")],
                    "busy",
                )
            }),
        )
        .route(
            "/down",
            post(move || async move {
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [("retry-after", in_an_hour)],
                    "down",
                )
            }),
        )
        .route("/gone", post(|| async { StatusCode::GONE }))
        .route("/chatty", post(|| async { "x".repeat(100_000) }))
        .route("/streamed", post(|| async { streamed(30_000) }))
        .route(
            "/endless",
            post(|| async { streamed(MAX_READ_BYTES as usize * 2) }),
        )
        .with_state(followed.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, followed)
}

#[tokio::test]
async fn each_failing_endpoint_gets_the_retry_it_asks_for() {
    let (base, followed) = misbehaving_endpoints().await;
    let quick = Duration::from_millis(500);
    let timeouts = Timeouts {
        delivery: quick,
        test: quick,
    };
    let deliverer =
        Deliverer::with_timeouts(EndpointPolicy::LOCAL, timeouts).expect("an HTTP client");
    let secrets = vec![signing::new_secret()];
    let send = |path: &str| {
        let url = format!("{base}{path}");
        let secrets = secrets.clone();
        let deliverer = &deliverer;
        async move {
            deliverer
                .send(Purpose::Delivery, 0, &url, &secrets, "msg_1", "{}")
                .await
        }
    };
    let secs = |s: u64| Decision::RetryIn(Duration::from_secs(s));

    // Slow: a timeout, retried no sooner than a minute (the first scheduled wait is 5 s).
    let (response, attempt) = send("/slow").await;
    assert_eq!(response, Response::Timeout);
    assert!(
        attempt
            .error
            .as_deref()
            .is_some_and(|e| e.contains("timed out")),
        "{attempt:?}"
    );
    assert!(
        attempt.latency_ms >= 500 && attempt.latency_ms < 5_000,
        "{attempt:?}"
    );
    assert_eq!(decide(1, &response, 0.0), secs(60));

    // A redirect is a failure and is not followed.
    let (response, attempt) = send("/redirect").await;
    assert_eq!(attempt.status_code, Some(302));
    assert_eq!(decide(1, &response, 0.0), secs(5));
    assert_eq!(followed.load(Ordering::SeqCst), 0);

    // 429 waits as long as Retry-After asks, and at least a minute.
    let (response, _) = send("/busy").await;
    assert_eq!(decide(1, &response, 0.0), secs(7200));
    let (response, _) = send("/busy-briefly").await;
    assert_eq!(decide(1, &response, 0.0), secs(60));
    // Retry-After as a date: about an hour.
    let (response, attempt) = send("/down").await;
    assert_eq!(attempt.status_code, Some(503));
    let Decision::RetryIn(wait) = decide(1, &response, 0.0) else {
        panic!("503 is retried: {response:?}");
    };
    assert!((3590..=3600).contains(&wait.as_secs()), "{wait:?}");

    // 410 disables the postback.
    let (response, _) = send("/gone").await;
    assert_eq!(decide(1, &response, 0.0), Decision::Disable);

    // A long answer is kept only up to the cap, with its declared size; still a success.
    let (response, attempt) = send("/chatty").await;
    assert_eq!(decide(1, &response, 0.0), Decision::Delivered);
    let kept = |a: &Attempt| a.response_body.as_ref().map(String::len);
    assert_eq!(kept(&attempt), Some(MAX_KEPT_RESPONSE_BYTES));
    assert_eq!(
        (attempt.response_truncated, attempt.response_bytes),
        (true, Some(100_000))
    );
    // No Content-Length: read to its end to learn the size.
    let (_, attempt) = send("/streamed").await;
    assert_eq!(kept(&attempt), Some(MAX_KEPT_RESPONSE_BYTES));
    assert_eq!(
        (attempt.response_truncated, attempt.response_bytes),
        (true, Some(30_000))
    );
    // Past the read limit the size stays unknown.
    let (_, attempt) = send("/endless").await;
    assert_eq!(
        (attempt.response_truncated, attempt.response_bytes),
        (true, None)
    );
}

/// An answer of `bytes` in chunks, with no Content-Length.
fn streamed(bytes: usize) -> axum::body::Body {
    let chunks = (0..bytes.div_ceil(1000)).map(|_| Ok::<_, std::io::Error>(vec![b'y'; 1000]));
    axum::body::Body::from_stream(futures::stream::iter(chunks))
}
