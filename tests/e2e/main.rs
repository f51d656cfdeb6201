//! End-to-end tests: the Lambda handlers against DynamoDB Local and moto's SQS, and the local
//! server over real HTTP. Run them with ./infra/test.sh, which starts those services.

mod custom_webhook;
mod incoming;
mod local_server;
mod money;
mod postbacks;
mod providers;
mod support;

#[tokio::test]
async fn dynamodb_store_passes_the_conformance_suite() {
    let store = support::dynamo_store().await;
    partnerhook::store::conformance::run_all(&store, "conformance").await;
}
