//! End-to-end tests: the Lambda handlers on two back ends, DynamoDB Local + moto's SQS and the
//! embedded store + an in-memory queue, each scenario on both (`name::dynamodb`,
//! `name::embedded`); and the local server over real HTTP. Run them all with ./infra/test.sh,
//! which starts those services. The quick loop, without Java or Python:
//! `cargo test -p partnerhook-e2e -- embedded --skip standardwebhooks`.

mod actions;
mod console;
mod custom_webhook;
mod economics;
mod groups;
mod idempotency;
mod imports;
mod incoming;
mod lifecycle;
mod listings;
mod local_server;
mod money;
mod openapi;
mod openapi_answers;
mod plan_model;
mod plans;
mod postbacks;
mod providers;
mod support;
mod transactions_api;

#[tokio::test]
async fn dynamodb_store_passes_the_conformance_suite() {
    let store = support::dynamo_store().await;
    partnerhook::store::conformance::run_all(&store, "conformance").await;
}
