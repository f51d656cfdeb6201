//! The SQS adapter of the queue port: one JSON message per job; commission jobs and postback
//! deliveries go to their own queues, so a slow endpoint never holds up commissions.

use super::{Job, Queue, QueueError};
use async_trait::async_trait;
use aws_sdk_sqs::Client;
use std::time::Duration;

#[derive(Clone)]
pub struct SqsQueue {
    client: Client,
    commission_url: String,
    postback_url: String,
}

impl SqsQueue {
    pub fn new(
        client: Client,
        commission_url: impl Into<String>,
        postback_url: impl Into<String>,
    ) -> Self {
        Self {
            client,
            commission_url: commission_url.into(),
            postback_url: postback_url.into(),
        }
    }

    fn url_for(&self, job: &Job) -> &str {
        match job {
            Job::Commission { .. } => &self.commission_url,
            Job::Deliver { .. } => &self.postback_url,
        }
    }
}

#[async_trait]
impl Queue for SqsQueue {
    async fn send_after(&self, job: &Job, delay: Duration) -> Result<(), QueueError> {
        let body = serde_json::to_string(job).map_err(|e| QueueError::Send(e.to_string()))?;
        let seconds = i32::try_from(delay.as_secs().min(900)).unwrap_or(900);
        self.client
            .send_message()
            .queue_url(self.url_for(job))
            .message_body(body)
            .delay_seconds(seconds)
            .send()
            .await
            .map_err(|e| QueueError::Send(format!("{e:?}")))?;
        Ok(())
    }
}
