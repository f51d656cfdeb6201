//! The queue port: work handed from the webhook and API functions to the workers. Adapters:
//! [`sqs::SqsQueue`] on AWS and [`local::LocalQueue`] in the local server.

pub mod local;
pub mod sqs;

use crate::domain::postback::Delivery;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// A unit of background work. Consumers are idempotent: any job may arrive more than once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Job {
    /// Attribute a recorded transaction and compute its rewards.
    Commission {
        program: String,
        transaction_key: String,
    },
    /// The next attempt of a postback delivery; `attempt` attempts were made before it.
    Deliver {
        program: String,
        delivery_id: String,
        attempt: usize,
        /// The delivery as the sender of the job last wrote it, so the worker need not read it
        /// (absent from older jobs, and from those whose delivery is large).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        delivery: Option<Box<Written<Delivery>>>,
    },
}

/// A record as a job's sender wrote it, with that write's version: a worker's write that is
/// conditional on the version proves the copy current, and a refused one reads the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Written<T> {
    pub value: T,
    pub version: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("queue send failed: {0}")]
    Send(String),
}

#[async_trait]
pub trait Queue: Send + Sync {
    /// Hands the job over after `delay` (at most 15 minutes, as SQS allows).
    async fn send_after(&self, job: &Job, delay: std::time::Duration) -> Result<(), QueueError>;

    async fn send(&self, job: &Job) -> Result<(), QueueError> {
        self.send_after(job, std::time::Duration::ZERO).await
    }
}
