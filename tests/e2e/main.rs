//! End-to-end tests: the Lambda handlers on two back ends, DynamoDB Local + moto's SQS and the
//! embedded store + an in-memory queue, each scenario on both (`name::dynamodb`,
//! `name::embedded`); and the local server over real HTTP. Run them all with ./infra/test.sh,
//! which starts those services. The quick loop, without Java or Python:
//! `cargo test -p partnerhook-e2e -- embedded --skip standardwebhooks`.

mod access;
mod actions;
mod console;
mod custom_webhook;
mod economics;
mod groups;
mod hook_samples;
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
mod provider_edges;
mod providers;
mod refusals;
mod replay;
mod support;
mod transactions_api;

#[tokio::test]
async fn dynamodb_store_passes_the_conformance_suite() {
    let store = support::dynamo_store().await;
    partnerhook::store::conformance::run_all(&store, "conformance").await;
}

/// The adapters' size rule draws the line where DynamoDB does: an item of exactly 400 KB by
/// `record_size` is taken, one byte more is refused by DynamoDB itself (sent past the adapter).
#[tokio::test]
async fn dynamodb_refuses_items_where_the_size_rule_says() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use partnerhook::store::dynamodb::{record_size, MAX_ITEM_BYTES};
    use partnerhook::store::Record;
    let (_, client, table) = support::dynamo_table().await;
    let put = |sk: &str, size: usize| {
        let empty = Record::new("size", sk, serde_json::json!({"t": ""}));
        let filler = "x".repeat(size - record_size(&empty, 1));
        let record = Record::new("size", sk, serde_json::json!({"t": filler}));
        assert_eq!(record_size(&record, 1), size);
        client
            .put_item()
            .table_name(&table)
            .item("pk", AttributeValue::S(record.pk))
            .item("sk", AttributeValue::S(record.sk))
            .item("v", AttributeValue::N("1".into()))
            .item("data", AttributeValue::S(record.data.to_string()))
            .send()
    };
    assert!(put("fits", MAX_ITEM_BYTES).await.is_ok());
    let refused = put("over", MAX_ITEM_BYTES + 1).await;
    let message = refused
        .as_ref()
        .err()
        .and_then(|e| e.as_service_error())
        .and_then(|e| aws_sdk_dynamodb::error::ProvideErrorMetadata::message(e))
        .unwrap_or_default()
        .to_string();
    assert!(message.contains("size"), "{refused:?}");
}
