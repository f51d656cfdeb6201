//! A queue like SQS at its worst: a send may fail before or after the message is kept, and the
//! driver hands messages out late, out of order, and again after they were processed.

use crate::world::World;
use async_trait::async_trait;
use partnerhook::domain::time::{Clock, ManualClock};
use partnerhook::queue::{Job, Queue, QueueError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Message {
    pub job: Job,
    pub due: i64,
}

pub struct SimQueue {
    world: World,
    clock: Arc<ManualClock>,
    messages: Mutex<Vec<Message>>,
}

impl SimQueue {
    pub fn new(world: World, clock: Arc<ManualClock>) -> Self {
        Self {
            world,
            clock,
            messages: Mutex::new(Vec::new()),
        }
    }

    fn messages(&self) -> std::sync::MutexGuard<'_, Vec<Message>> {
        self.messages
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Takes a random message that is due, if any.
    pub fn take_due(&self) -> Option<Message> {
        let now = self.clock.now();
        let mut messages = self.messages();
        let due: Vec<usize> = (0..messages.len())
            .filter(|&i| messages[i].due <= now)
            .collect();
        if due.is_empty() {
            return None;
        }
        let pick = due[self.world.below(due.len())];
        Some(messages.remove(pick))
    }

    /// Puts a message back: processing failed, or SQS hands it out again.
    pub fn put_back(&self, message: Message) {
        self.messages().push(message);
    }

    pub fn len(&self) -> usize {
        self.messages().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// When the next message falls due, if any waits.
    pub fn next_due(&self) -> Option<i64> {
        self.messages().iter().map(|m| m.due).min()
    }
}

#[async_trait]
impl Queue for SimQueue {
    async fn send_after(&self, job: &Job, delay: Duration) -> Result<(), QueueError> {
        tokio::task::yield_now().await;
        let faults = self.world.faults();
        if self.world.chance(faults.fail_before) {
            self.world.note_injected();
            return Err(QueueError::Send("simulated: send failed".into()));
        }
        let delay_ms = i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
        self.messages().push(Message {
            job: job.clone(),
            due: self.clock.now().saturating_add(delay_ms),
        });
        if self.world.chance(faults.fail_after) {
            self.world.note_injected();
            return Err(QueueError::Send("simulated: sent, response lost".into()));
        }
        Ok(())
    }
}
