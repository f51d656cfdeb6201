//! The DynamoDB back end: a fresh DynamoDB Local table and two moto SQS queues per test, at the
//! endpoints ./infra/test.sh exports.

use super::env::Backing;
use super::queue::{Consumer, Lane, VISIBILITY_TIMEOUT};
use async_trait::async_trait;
use aws_lambda_events::event::sqs::SqsMessage;
use partnerhook::queue::sqs::SqsQueue;
use partnerhook::store::dynamodb::DynamoStore;
use std::sync::Arc;

/// The endpoint in `var`; without it the test fails and says how to run it.
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

/// A fresh table on DynamoDB Local.
pub async fn dynamo_store() -> DynamoStore {
    dynamo_table().await.0
}

/// A fresh table on DynamoDB Local, its store, and a client and name to reach it directly.
pub async fn dynamo_table() -> (DynamoStore, aws_sdk_dynamodb::Client, String) {
    let config = sdk_config(endpoint("PARTNERHOOK_TEST_DYNAMODB")).await;
    let table = format!("ph-test-{}", uuid::Uuid::now_v7().simple());
    let client = aws_sdk_dynamodb::Client::new(&config);
    let store = DynamoStore::new(client.clone(), table.clone());
    store.create_table().await.expect("create the test table");
    (store, client, table)
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

/// The store on DynamoDB Local and the SQS adapter over two fresh moto queues.
pub(super) async fn backing() -> Backing {
    let store = dynamo_store().await;
    let config = sdk_config(endpoint("PARTNERHOOK_TEST_SQS")).await;
    let client = aws_sdk_sqs::Client::new(&config);
    let consumer = SqsConsumer {
        commission_url: create_queue(&client).await,
        postback_url: create_queue(&client).await,
        client,
    };
    let queue = SqsQueue::new(
        consumer.client.clone(),
        consumer.commission_url.clone(),
        consumer.postback_url.clone(),
    );
    Backing {
        store: Arc::new(store),
        queue: Arc::new(queue),
        consumer: Arc::new(consumer),
        data_dir: None,
    }
}

/// Reads and deletes on the moto queues, as the event source mapping does.
struct SqsConsumer {
    client: aws_sdk_sqs::Client,
    commission_url: String,
    postback_url: String,
}

impl SqsConsumer {
    fn url(&self, lane: Lane) -> &str {
        match lane {
            Lane::Commission => &self.commission_url,
            Lane::Postback => &self.postback_url,
        }
    }
}

#[async_trait]
impl Consumer for SqsConsumer {
    async fn receive(&self, lane: Lane) -> Vec<SqsMessage> {
        let seconds = i32::try_from(VISIBILITY_TIMEOUT.as_secs()).expect("a short timeout");
        let mut messages = Vec::new();
        loop {
            let out = self
                .client
                .receive_message()
                .queue_url(self.url(lane))
                .max_number_of_messages(10)
                .visibility_timeout(seconds)
                .send()
                .await
                .expect("receive from the queue");
            let batch = out.messages.unwrap_or_default();
            if batch.is_empty() {
                return messages;
            }
            for m in batch {
                let mut message = SqsMessage::default();
                message.message_id = m.message_id;
                message.receipt_handle = m.receipt_handle;
                message.body = m.body;
                messages.push(message);
            }
        }
    }

    async fn delete(&self, lane: Lane, receipt_handle: &str) {
        self.client
            .delete_message()
            .queue_url(self.url(lane))
            .receipt_handle(receipt_handle)
            .send()
            .await
            .expect("delete a processed message");
    }
}
