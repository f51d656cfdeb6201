//! The in-process adapter of the queue port, for the local server: jobs go through a channel
//! to a task in the same process.

use super::{Job, Queue, QueueError};
use async_trait::async_trait;
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
    async fn send(&self, job: &Job) -> Result<(), QueueError> {
        self.sender
            .send(job.clone())
            .map_err(|_| QueueError::Send("the local worker has stopped".into()))
    }
}
