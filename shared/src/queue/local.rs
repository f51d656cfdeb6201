//! The in-process adapter of the queue port, for the local server: jobs go through a channel
//! to a task in the same process.

use super::{Job, Queue, QueueError};
use async_trait::async_trait;
use std::time::Duration;
use tokio::sync::mpsc;

#[derive(Clone)]
pub struct LocalQueue {
    sender: mpsc::UnboundedSender<Job>,
}

impl LocalQueue {
    /// The queue and the receiving end that the local worker loop drains.
    pub fn new() -> (Self, mpsc::UnboundedReceiver<Job>) {
        let (sender, receiver) = mpsc::unbounded_channel();
        (Self { sender }, receiver)
    }
}

#[async_trait]
impl Queue for LocalQueue {
    async fn send_after(&self, job: &Job, delay: Duration) -> Result<(), QueueError> {
        if delay.is_zero() {
            return self
                .sender
                .send(job.clone())
                .map_err(|_| QueueError::Send("the local worker has stopped".into()));
        }
        let (sender, job) = (self.sender.clone(), job.clone());
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            // A stopped worker means the server is shutting down; the job goes with it.
            let _ = sender.send(job);
        });
        Ok(())
    }
}
