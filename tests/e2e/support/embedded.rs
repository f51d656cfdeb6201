//! The embedded back end: the SQLite store in a fresh folder, and an in-memory queue that keeps
//! SQS's timing (delays, visibility timeout), so the same scenarios run without Java or Python.

use super::env::Backing;
use super::queue::{Consumer, Lane, VISIBILITY_TIMEOUT};
use async_trait::async_trait;
use aws_lambda_events::event::sqs::SqsMessage;
use partnerhook::queue::{Job, Queue, QueueError};
use partnerhook::store::embedded::EmbeddedStore;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// SQS's longest delay; the SQS adapter caps its delays there too.
const MAX_DELAY: Duration = Duration::from_secs(900);

/// The embedded store in a fresh folder and an empty in-memory queue.
pub(super) fn backing() -> Backing {
    let data_dir = DataDir::new();
    let store = EmbeddedStore::open(&data_dir.0).expect("open the embedded store");
    let queue = Arc::new(MemoryQueue::default());
    Backing {
        store: Arc::new(store),
        queue: queue.clone(),
        consumer: queue,
        data_dir: Some(data_dir),
    }
}

/// A folder of its own for a test's embedded store, removed when the test's Env goes.
pub struct DataDir(PathBuf);

impl DataDir {
    fn new() -> Self {
        let name = format!("ph-e2e-{}", uuid::Uuid::now_v7().simple());
        Self(std::env::temp_dir().join(name))
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        // A folder left in the temp dir harms nothing, so a failed removal is not an error.
        std::fs::remove_dir_all(&self.0).ok();
    }
}

/// The commission and postback queues in memory: each message is hidden until its delay has
/// passed, and for [`VISIBILITY_TIMEOUT`] after each receive, until it is deleted.
#[derive(Default)]
pub struct MemoryQueue {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    sent: u64,
    commission: Vec<Message>,
    postback: Vec<Message>,
}

struct Message {
    id: String,
    body: String,
    visible_at: Instant,
}

impl State {
    fn lane(&mut self, lane: Lane) -> &mut Vec<Message> {
        match lane {
            Lane::Commission => &mut self.commission,
            Lane::Postback => &mut self.postback,
        }
    }
}

impl MemoryQueue {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("the memory queue's lock")
    }
}

#[async_trait]
impl Queue for MemoryQueue {
    async fn send_after(&self, job: &Job, delay: Duration) -> Result<(), QueueError> {
        // The same JSON body the SQS adapter sends, so the worker reads it the same way.
        let body = serde_json::to_string(job).map_err(|e| QueueError::Send(e.to_string()))?;
        let mut state = self.state();
        state.sent += 1;
        let message = Message {
            id: format!("msg-{}", state.sent),
            body,
            visible_at: Instant::now() + delay.min(MAX_DELAY),
        };
        state.lane(Lane::of(job)).push(message);
        Ok(())
    }
}

#[async_trait]
impl Consumer for MemoryQueue {
    async fn receive(&self, lane: Lane) -> Vec<SqsMessage> {
        let now = Instant::now();
        let mut state = self.state();
        let due = state.lane(lane).iter_mut().filter(|m| m.visible_at <= now);
        due.map(|m| {
            m.visible_at = now + VISIBILITY_TIMEOUT;
            let mut message = SqsMessage::default();
            message.message_id = Some(m.id.clone());
            message.receipt_handle = Some(m.id.clone());
            message.body = Some(m.body.clone());
            message
        })
        .collect()
    }

    async fn delete(&self, lane: Lane, receipt_handle: &str) {
        self.state().lane(lane).retain(|m| m.id != receipt_handle);
    }
}

#[tokio::test]
async fn the_memory_queue_hides_delayed_and_received_messages_as_sqs_does() {
    let queue = MemoryQueue::default();
    let job = |key: &str| Job::Commission {
        program: "acme".into(),
        transaction_key: key.into(),
        program_record: None,
    };
    queue
        .send_after(&job("later"), Duration::from_secs(3600))
        .await
        .expect("send");
    queue.send(&job("now")).await.expect("send");
    let deliver = Job::Deliver {
        program: "acme".into(),
        delivery_id: "d1".into(),
        attempt: 0,
        delivery: None,
    };
    queue.send(&deliver).await.expect("send");

    let received = queue.receive(Lane::Commission).await;
    assert_eq!(received.len(), 1, "the delayed job is not due");
    let body: Job =
        serde_json::from_str(received[0].body.as_deref().unwrap_or_default()).expect("a job body");
    assert_eq!(body, job("now"));
    assert!(
        queue.receive(Lane::Commission).await.is_empty(),
        "a received message is hidden until deleted or timed out"
    );
    let postbacks = queue.receive(Lane::Postback).await;
    assert_eq!(postbacks.len(), 1, "deliveries go to the postback queue");
    assert_ne!(postbacks[0].message_id, received[0].message_id);

    let handle = received[0].receipt_handle.clone().unwrap_or_default();
    queue.delete(Lane::Commission, &handle).await;
    assert_eq!(
        queue.state().commission.len(),
        1,
        "only the delayed job is left"
    );
}
