//! The queues as the tests see them: what waits on each, and the workers run on what is due,
//! deleting what they processed as the Lambda event source mapping does. One consumer port, so
//! these helpers serve both back ends.

use super::Env;
use async_trait::async_trait;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use partnerhook::queue::Job;
use std::time::Duration;

/// How long a received message stays hidden from other receives unless deleted.
pub const VISIBILITY_TIMEOUT: Duration = Duration::from_secs(30);

/// The two queues of a deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    Commission,
    Postback,
}

impl Lane {
    /// The queue a job goes to, as the SQS adapter routes it.
    pub fn of(job: &Job) -> Self {
        match job {
            Job::Commission { .. } => Lane::Commission,
            Job::Deliver { .. } => Lane::Postback,
        }
    }
}

/// The consuming side of a back end's queues, as a Lambda event source mapping uses SQS.
#[async_trait]
pub trait Consumer: Send + Sync {
    /// Every message that is due, each hidden for [`VISIBILITY_TIMEOUT`], none deleted.
    async fn receive(&self, lane: Lane) -> Vec<SqsMessage>;

    /// Deletes a received message.
    async fn delete(&self, lane: Lane, receipt_handle: &str);
}

impl Env {
    /// Receives what is on the commission queue (without deleting it).
    pub async fn receive(&self) -> Vec<SqsMessage> {
        self.consumer.receive(Lane::Commission).await
    }

    /// Receives what is due on the postback queue (without deleting it).
    pub async fn receive_postbacks(&self) -> Vec<SqsMessage> {
        self.consumer.receive(Lane::Postback).await
    }

    /// Runs the commission worker on everything queued, deleting what it processed, as the
    /// Lambda event source mapping does. Returns the batch size and the worker's response.
    pub async fn run_worker(&self) -> (usize, SqsBatchResponse) {
        self.run_worker_on(Lane::Commission).await
    }

    /// The postback worker on what is due on the postback queue (delayed messages wait).
    pub async fn run_postback_worker(&self) -> (usize, SqsBatchResponse) {
        self.run_worker_on(Lane::Postback).await
    }

    async fn run_worker_on(&self, lane: Lane) -> (usize, SqsBatchResponse) {
        let messages = self.consumer.receive(lane).await;
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
                let handle = m.receipt_handle.unwrap_or_default();
                self.consumer.delete(lane, &handle).await;
            }
        }
        (count, response)
    }
}
