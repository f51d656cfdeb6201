//! Shared set-up of the end-to-end tests: a fresh DynamoDB Local table and moto SQS queue per
//! test, Lambda-shaped requests (API Gateway HTTP API events), and the commission worker fed
//! from the real queue.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use axum::Router;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use partnerhook::app::App;
use partnerhook::outbound::ssrf::EndpointPolicy;
use partnerhook::queue::sqs::SqsQueue;
use partnerhook::queue::Queue;
use partnerhook::store::dynamodb::DynamoStore;
use partnerhook::usecases::programs::{self as program, CreatedProgram};
use serde_json::{json, Value};
use sha2::Sha256;
use std::sync::Arc;
use tower::ServiceExt;

pub const SEED: &str = include_str!("../fixtures/custom/seed-transaction-created.json");
pub const SEED_REFUND: &str = include_str!("../fixtures/custom/seed-transaction-refunded.json");

fn endpoint(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!(
            "{var} is not set: the end-to-end tests need DynamoDB Local and moto. \
             Run them with ./infra/test.sh, which installs and starts both."
        )
    })
}

async fn sdk_config(endpoint_url: String) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .endpoint_url(endpoint_url)
        .load()
        .await
}

pub async fn dynamo_store() -> DynamoStore {
    let config = sdk_config(endpoint("PARTNERHOOK_TEST_DYNAMODB")).await;
    let table = format!("ph-test-{}", uuid::Uuid::now_v7().simple());
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&config), table);
    store.create_table().await.expect("create the test table");
    store
}

/// A program on DynamoDB Local with a commission queue on moto, as the Lambdas run it.
pub struct Env {
    pub app: App,
    pub program: CreatedProgram,
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    postback_queue_url: String,
}

async fn create_queue(sqs: &aws_sdk_sqs::Client) -> String {
    sqs.create_queue()
        .queue_name(format!("ph-test-{}", uuid::Uuid::now_v7().simple()))
        .send()
        .await
        .expect("create a test queue")
        .queue_url
        .expect("queue url")
}

impl Env {
    pub async fn new() -> Self {
        Self::with_queue(|queue| queue).await
    }

    /// An environment whose functions send through `wrap(the SQS queue)`.
    pub async fn with_queue(wrap: impl FnOnce(Arc<dyn Queue>) -> Arc<dyn Queue>) -> Self {
        let store = dynamo_store().await;
        let config = sdk_config(endpoint("PARTNERHOOK_TEST_SQS")).await;
        let sqs = aws_sdk_sqs::Client::new(&config);
        let queue_url = create_queue(&sqs).await;
        let postback_queue_url = create_queue(&sqs).await;
        let queue = SqsQueue::new(sqs.clone(), queue_url.clone(), postback_queue_url.clone());
        // Postbacks may go to loopback receivers in these tests, as in the local server.
        let app = App::new(
            Arc::new(store),
            wrap(Arc::new(queue)),
            EndpointPolicy::LOCAL,
        );
        let program = program::create(&app.repo, "acme", Some("Acme"), "EUR")
            .await
            .expect("create the program");
        Self {
            app,
            program,
            sqs,
            queue_url,
            postback_queue_url,
        }
    }

    pub fn webhook_router(&self) -> Router {
        partnerhook::http::custom_webhook_router(self.app.clone())
    }

    pub fn api_router(&self) -> Router {
        partnerhook::http::api_router(self.app.clone())
    }

    /// Sends a body to the custom webhook function, signed with the program's secret.
    pub async fn post_signed(&self, body: &str) -> (u16, Value) {
        let signature = sign(&self.program.custom_webhook_secret, body.as_bytes());
        let headers = [
            ("content-type", "application/json"),
            ("x-webhook-signature", signature.as_str()),
        ];
        call(
            &self.webhook_router(),
            "POST",
            "/webhooks/acme/custom",
            &headers,
            body.as_bytes(),
            false,
        )
        .await
    }

    /// Calls the api function with the admin key.
    pub async fn api(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let auth = format!("Bearer {}", self.program.admin_key);
        let headers = [
            ("content-type", "application/json"),
            ("authorization", auth.as_str()),
        ];
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        call(
            &self.api_router(),
            method,
            path,
            &headers,
            body.as_bytes(),
            false,
        )
        .await
    }

    /// Receives what is on the commission queue (without deleting it).
    pub async fn receive(&self) -> Vec<SqsMessage> {
        self.receive_from(&self.queue_url).await
    }

    /// Receives what is on the postback queue (without deleting it).
    pub async fn receive_postbacks(&self) -> Vec<SqsMessage> {
        self.receive_from(&self.postback_queue_url).await
    }

    async fn receive_from(&self, queue_url: &str) -> Vec<SqsMessage> {
        let mut messages = Vec::new();
        loop {
            let out = self
                .sqs
                .receive_message()
                .queue_url(queue_url)
                .max_number_of_messages(10)
                .visibility_timeout(30)
                .send()
                .await
                .expect("receive from the queue");
            let batch = out.messages.unwrap_or_default();
            if batch.is_empty() {
                return messages;
            }
            for m in batch {
                let mut message = SqsMessage::default();
                message.message_id = m.message_id.clone();
                message.receipt_handle = m.receipt_handle.clone();
                message.body = m.body.clone();
                messages.push(message);
            }
        }
    }

    /// Runs the commission worker on everything queued, deleting what it processed, as the
    /// Lambda event source mapping does. Returns the worker's batch response.
    pub async fn run_worker(&self) -> (usize, SqsBatchResponse) {
        self.run_worker_on(&self.queue_url).await
    }

    /// The postback worker on what is due on the postback queue (delayed messages wait).
    pub async fn run_postback_worker(&self) -> (usize, SqsBatchResponse) {
        self.run_worker_on(&self.postback_queue_url).await
    }

    async fn run_worker_on(&self, queue_url: &str) -> (usize, SqsBatchResponse) {
        let messages = self.receive_from(queue_url).await;
        let count = messages.len();
        let mut event = SqsEvent::default();
        event.records = messages.clone();
        let response = partnerhook::runtime::workers::handle_sqs_batch(&self.app, event).await;
        for m in messages {
            let failed = response
                .batch_item_failures
                .iter()
                .any(|f| Some(&f.item_identifier) == m.message_id.as_ref());
            if !failed {
                self.sqs
                    .delete_message()
                    .queue_url(queue_url)
                    .receipt_handle(m.receipt_handle.unwrap_or_default())
                    .send()
                    .await
                    .expect("delete a processed message");
            }
        }
        (count, response)
    }
}

pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("hmac key");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

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
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("response body");
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).expect("every answer is JSON")
    };
    (status, value)
}

pub fn seed_with(changes: Value) -> String {
    let mut body: Value = serde_json::from_str(SEED).expect("seed fixture");
    if let (Some(target), Some(changes)) = (body.as_object_mut(), changes.as_object()) {
        for (k, v) in changes {
            if v.is_null() {
                target.remove(k);
            } else {
                target.insert(k.clone(), v.clone());
            }
        }
    }
    body.to_string()
}
