//! Lambda-shaped requests: API Gateway HTTP API (payload 2.0) events handed to a function's
//! router.

use axum::http::HeaderMap;
use axum::Router;
use base64::Engine;
use serde_json::{json, Value};
use tower::ServiceExt;

/// An API Gateway HTTP API (payload 2.0) event, turned into a request by lambda_http exactly
/// as the Lambda runtime does, then handed to the function's router.
pub async fn call(
    router: &Router,
    method: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    base64_body: bool,
) -> (u16, Value) {
    let (status, _, value) =
        call_answering_headers(router, method, path_and_query, headers, body, base64_body).await;
    (status, value)
}

/// [`call`], with the answer's headers.
pub async fn call_answering_headers(
    router: &Router,
    method: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    base64_body: bool,
) -> (u16, HeaderMap, Value) {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let header_map: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    let body_field = if base64_body {
        json!(base64::engine::general_purpose::STANDARD.encode(body))
    } else {
        json!(String::from_utf8_lossy(body))
    };
    let event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": header_map,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "domainName": "api.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "api",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "e2e"
            },
            "requestId": "e2e",
            "routeKey": "$default",
            "stage": "$default",
            "time": "23/Nov/2026:10:00:00 +0000",
            "timeEpoch": 1795428000000i64
        },
        "body": body_field,
        "isBase64Encoded": base64_body
    });
    let request = lambda_http::request::from_str(&event.to_string()).expect("an API Gateway event");
    let response = router
        .clone()
        .oneshot(request)
        .await
        .expect("routers are infallible");
    let status = response.status().as_u16();
    let answer_headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 16 << 20)
        .await
        .expect("response body");
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).expect("every answer is JSON")
    };
    (status, answer_headers, value)
}
