//! When the queue refuses a job for a moment: the work is not lost, and the partner still
//! hears of each change once.

use super::{deliveries_of, delivery, make_due, register};
use crate::support::{
    as_partner, partner_with_key, scenario, Backend, Env, Receiver, SEED, SEED_REFUND,
};
use async_trait::async_trait;
use partnerhook::domain::postback::{Delivery, DeliveryStatus};
use partnerhook::domain::reward::RewardStatus;
use partnerhook::queue::{Job, Queue, QueueError};
use partnerhook::runtime::workers::process_job;
use partnerhook::usecases::postbacks::deliver;
use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// A queue that refuses delivery jobs while told to, as SQS might for a moment.
struct Flaky {
    inner: Arc<dyn Queue>,
    refusing: AtomicBool,
    /// Every delivery job handed on: (attempt, delay).
    sent: Mutex<Vec<(usize, Duration)>>,
}

#[async_trait]
impl Queue for Flaky {
    async fn send_after(&self, job: &Job, delay: Duration) -> Result<(), QueueError> {
        if let Job::Deliver { attempt, .. } = job {
            if self.refusing.load(Ordering::SeqCst) {
                return Err(QueueError::Send("refused for the test".into()));
            }
            self.sent.lock().expect("lock").push((*attempt, delay));
        }
        self.inner.send_after(job, delay).await
    }
}

impl Flaky {
    fn refuse(&self, refusing: bool) {
        self.refusing.store(refusing, Ordering::SeqCst);
    }
}

/// An environment whose queue can be told to refuse delivery jobs.
async fn flaky_env(backend: Backend) -> (Env, Arc<Flaky>) {
    let slot = Arc::new(OnceLock::<Arc<Flaky>>::new());
    let hold = slot.clone();
    let env = Env::with_queue(backend, move |inner| {
        let queue = Arc::new(Flaky {
            inner,
            refusing: AtomicBool::new(false),
            sent: Mutex::default(),
        });
        let _ = hold.set(queue.clone());
        queue
    })
    .await;
    let flaky = slot.get().expect("the queue").clone();
    (env, flaky)
}

scenario!(a_retry_whose_queueing_failed_is_queued_when_its_job_comes_back);
async fn a_retry_whose_queueing_failed_is_queued_when_its_job_comes_back(backend: Backend) {
    let (env, flaky) = flaky_env(backend).await;
    let key = partner_with_key(&env, "pat", Some("P-001")).await;
    let receiver = Receiver::start(&[500, 500]).await;
    let postback = register(&env, &key, &receiver.url, &["reward.created"]).await;
    let postback_id = postback["id"].as_str().unwrap_or_default().to_string();
    env.post_signed(SEED).await;
    env.run_worker().await;
    let id = deliveries_of(&env, &key, &postback_id).await["data"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    // Attempt 1 fails at the endpoint, and queueing attempt 2 fails too: the job reports failure.
    flaky.sent.lock().expect("lock").clear();
    flaky.refuse(true);
    assert!(deliver::process(&env.app, "acme", &id, 0, None)
        .await
        .is_err());
    flaky.refuse(false);
    assert_eq!(delivery(&env, &id).await.attempts.len(), 1);
    assert!(flaky.sent.lock().expect("lock").is_empty());

    // SQS hands the job back: the attempt is not made again, but attempt 2 is queued.
    deliver::process(&env.app, "acme", &id, 0, None)
        .await
        .expect("job again");
    assert_eq!(receiver.bodies().len(), 1);
    let sent = flaky.sent.lock().expect("lock").clone();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].0, 1);
    assert!(sent[0].1 <= Duration::from_secs(6), "{sent:?}");

    // Attempt 2 fails too. Once the delivery has failed, a manual retry whose queueing failed
    // can be asked for again.
    make_due(&env, &id).await;
    deliver::process(&env.app, "acme", &id, 1, None)
        .await
        .expect("attempt 2");
    assert_eq!(delivery(&env, &id).await.attempts.len(), 2);
    let mut failed = env
        .app
        .repo
        .get::<Delivery>("acme", &id)
        .await
        .expect("read")
        .expect("the delivery");
    failed.value.status = DeliveryStatus::Failed;
    failed.value.next_attempt_at = None;
    env.app.repo.update("acme", &failed).await.expect("write");
    let retry = format!("/v1/postbacks/{postback_id}/deliveries/{id}/retry");
    flaky.refuse(true);
    let (status, _) = as_partner(&env, &key, "POST", &retry, None).await;
    assert_eq!(status, 503);
    flaky.refuse(false);
    let (status, body) = as_partner(&env, &key, "POST", &retry, None).await;
    assert_eq!(status, 200, "{body}");
    deliver::process(&env.app, "acme", &id, 2, None)
        .await
        .expect("manual attempt");
    let d = delivery(&env, &id).await;
    assert_eq!((d.status, d.attempts.len()), (DeliveryStatus::Succeeded, 3));
    assert_eq!(receiver.bodies().len(), 3);
}

scenario!(a_commission_retried_after_a_full_refund_still_announces_its_rewards);
/// Sim seed 1823: a commission try wrote its reward and could not queue reward.created; the
/// sale was then refunded in full, and the retry must still announce the reward it wrote.
async fn a_commission_retried_after_a_full_refund_still_announces_its_rewards(backend: Backend) {
    let (env, flaky) = flaky_env(backend).await;
    let key = partner_with_key(&env, "pat", Some("P-001")).await;
    register(&env, &key, "http://127.0.0.1:9/hook", &["reward.created"]).await;
    env.post_signed(SEED).await;
    let job = Job::Commission {
        program: "acme".into(),
        transaction_key: "ext-tx-12345".into(),
        program_record: None,
    };
    flaky.refuse(true);
    assert!(process_job(&env.app, &job).await.is_err());
    flaky.refuse(false);
    let (status, body) = env.post_signed(SEED_REFUND).await;
    assert_eq!(status, 200, "{body}");
    process_job(&env.app, &job).await.expect("the retry");
    let sent = flaky.sent.lock().expect("lock").clone();
    assert_eq!(sent.len(), 1, "reward.created queued once: {sent:?}");
    assert_eq!(sent[0].0, 0);
}

/// Sets a reward back to pending, as a try that failed before settling it would have left it.
async fn unsettle(env: &Env, transaction_key: &str) {
    let mut rewards = env
        .app
        .repo
        .rewards_of_transaction("acme", transaction_key)
        .await
        .expect("read");
    let reward = rewards.first_mut().expect("a reward");
    reward.value.reward_status = RewardStatus::Pending;
    env.app.repo.update("acme", reward).await.expect("write");
}

/// The status of the seed sale's reward.
async fn reward_status(env: &Env) -> Value {
    let (_, rewards) = env
        .api("GET", "/v1/rewards?transaction_key=ext-tx-12345", None)
        .await;
    rewards["data"][0]["reward_status"].clone()
}

scenario!(a_refund_retried_after_a_failure_settles_and_tells_the_partner_once);
async fn a_refund_retried_after_a_failure_settles_and_tells_the_partner_once(backend: Backend) {
    let (env, flaky) = flaky_env(backend).await;
    let key = partner_with_key(&env, "pat", Some("P-001")).await;
    let receiver = Receiver::start(&[]).await;
    let events = ["reward.updated", "transaction.updated"];
    register(&env, &key, &receiver.url, &events).await;
    env.post_signed(SEED).await;
    env.run_worker().await;

    // The refund is written, then telling the partner fails: the sender gets a 503.
    flaky.refuse(true);
    let (status, body) = env.post_signed(SEED_REFUND).await;
    assert_eq!(status, 503, "{body}");
    flaky.refuse(false);
    assert_eq!(reward_status(&env).await, "declined");

    // The sender retries, twice: the partner hears of each change once.
    for _ in 0..2 {
        let (status, body) = env.post_signed(SEED_REFUND).await;
        assert_eq!(status, 200, "{body}");
        env.run_postback_worker().await;
    }
    let mut heard: Vec<String> = receiver
        .bodies()
        .iter()
        .map(|b| format!("{} {}", b["event"], b["data"]["reward_status"]))
        .collect();
    heard.sort();
    assert_eq!(
        heard,
        [
            "\"reward.updated\" \"declined\"",
            "\"transaction.updated\" null"
        ]
    );

    // A try that failed before settling left the reward pending: the retry declines it.
    unsettle(&env, "ext-tx-12345").await;
    env.post_signed(SEED_REFUND).await;
    assert_eq!(reward_status(&env).await, "declined");
    // So does the commission job when it comes back.
    unsettle(&env, "ext-tx-12345").await;
    let job = Job::Commission {
        program: "acme".into(),
        transaction_key: "ext-tx-12345".into(),
        program_record: None,
    };
    process_job(&env.app, &job).await.expect("the job");
    assert_eq!(reward_status(&env).await, "declined");
}

scenario!(a_customer_change_retried_after_its_announcement_failed_is_announced_once);
async fn a_customer_change_retried_after_its_announcement_failed_is_announced_once(
    backend: Backend,
) {
    let (env, flaky) = flaky_env(backend).await;
    let key = partner_with_key(&env, "pat", Some("P-001")).await;
    let receiver = Receiver::start(&[]).await;
    let postback = register(&env, &key, &receiver.url, &["customer.updated"]).await;
    let postback_id = postback["id"].as_str().unwrap_or_default().to_string();
    let customer = serde_json::json!({"email": "c@example.com", "name": "C", "key": "c-1", "partner_key": "pat"});
    let (status, _) = env.api("POST", "/v1/customers", Some(customer)).await;
    assert_eq!(status, 201);

    // The change is written, but telling the partner fails: the admin sees a 503 and retries.
    flaky.refuse(true);
    let rename = serde_json::json!({"name": "Cee"});
    let (status, _) = env
        .api("PATCH", "/v1/customers/c-1", Some(rename.clone()))
        .await;
    assert_eq!(status, 503);
    flaky.sent.lock().expect("lock").clear();
    flaky.refuse(false);
    let (status, shown) = env.api("PATCH", "/v1/customers/c-1", Some(rename)).await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(shown["name"], "Cee");
    assert!(
        shown.get("unannounced").is_none(),
        "bookkeeping stays inside: {shown}"
    );
    assert_eq!(
        flaky.sent.lock().expect("lock").len(),
        1,
        "the retry queued the delivery the first try could not"
    );
    let listed = deliveries_of(&env, &key, &postback_id).await;
    let events: Vec<&str> = listed["data"]
        .as_array()
        .map(|all| all.iter().filter_map(|d| d["event"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(events, ["customer.updated"], "told once, on the retry");

    // Asked once more, nothing new is sent.
    let (status, _) = env
        .api(
            "PATCH",
            "/v1/customers/c-1",
            Some(serde_json::json!({"name": "Cee"})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(flaky.sent.lock().expect("lock").len(), 1);
    assert_eq!(
        deliveries_of(&env, &key, &postback_id).await["data"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}
