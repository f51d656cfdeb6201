//! The queue port: work handed from the webhook and API functions to the workers. Adapters:
//! [`sqs::SqsQueue`] on AWS and [`local::LocalQueue`] in the local server.

pub mod local;
pub mod sqs;

use crate::domain::postback::Delivery;
use crate::domain::program::{Program, ProviderSecrets};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// A unit of background work. Consumers are idempotent: any job may arrive more than once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Job {
    /// Attribute a recorded transaction and compute its rewards.
    Commission {
        program: String,
        transaction_key: String,
        /// The program as the sender read it (consistently, before recording the transaction),
        /// without its credentials, so the worker need not read it again; absent from older
        /// jobs and from senders that did not read it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        program_record: Option<Box<Program>>,
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

impl Job {
    /// The commission job of a transaction recorded under `program`, which carries the program
    /// without its credentials (the job never needs them).
    pub fn commission(program: &Program, transaction_key: &str) -> Self {
        let record = Program {
            custom_webhook_secrets: Vec::new(),
            providers: ProviderSecrets::default(),
            ..program.clone()
        };
        Self::Commission {
            program: program.slug.clone(),
            transaction_key: transaction_key.to_string(),
            program_record: Some(Box::new(record)),
        }
    }
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
