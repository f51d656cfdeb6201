//! What reaches the partner: each event once, with its data, however often a job comes back.

use super::{deliveries_of, register, subscribed_partner};
use crate::support::{partner_with_key, scenario, Backend, Env, Receiver, SEED, SEED_REFUND};
use aws_lambda_events::event::sqs::SqsEvent;
use partnerhook::runtime::workers::{handle_sqs_batch, process_job};
use serde_json::{json, Value};

// The same flow's signatures are checked by standardwebhooks in signing.rs.
scenario!(rewards_and_transactions_reach_the_partner_once_each);
async fn rewards_and_transactions_reach_the_partner_once_each(backend: Backend) {
    let (env, key, receiver, postback) = subscribed_partner(backend).await;

    env.post_signed(SEED).await;
    env.run_worker().await;
    // Two deliveries queued: the reward and the transaction.
    let messages = env.run_postback_worker().await;
    assert_eq!(messages.0, 2);
    let bodies = receiver.bodies();
    assert_eq!(bodies.len(), 2, "{bodies:?}");
    let reward = bodies
        .iter()
        .find(|b| b["event"] == "reward.created")
        .expect("reward.created");
    assert_eq!(reward["data"]["amount"], 3345);
    assert_eq!(
        reward["data"]["customer"],
        json!({"key": "cust-001", "sub_ids": []})
    );
    assert_eq!(reward["data"]["reward_status"], "pending");
    assert_eq!(reward["data"]["payment_status"], "pending");
    assert_eq!(reward["data"]["source"], "transaction");
    assert_eq!(reward["data"]["partnership_key"], "pat");
    assert_eq!(
        reward["data"]["company"],
        json!({"key": "acme", "name": "Acme"})
    );
    assert!(
        reward["data"]["created_at"]
            .as_i64()
            .is_some_and(|t| t > 1_700_000_000_000),
        "epoch ms"
    );
    let tx = bodies
        .iter()
        .find(|b| b["event"] == "transaction.created")
        .expect("transaction.created");
    assert_eq!(
        (
            tx["data"]["amount"].as_i64(),
            tx["data"]["currency"].as_str()
        ),
        (Some(19900), Some("EUR"))
    );
    assert_eq!(tx["data"]["customer"]["key"], "cust-001");
    assert_eq!(tx["data"]["archived"], false);

    // The refund declines the reward: reward.updated follows.
    env.post_signed(SEED_REFUND).await;
    env.run_postback_worker().await;
    let updated: Vec<Value> = receiver
        .bodies()
        .into_iter()
        .filter(|b| b["event"] == "reward.updated")
        .collect();
    assert_eq!(updated.len(), 1);
    assert_eq!(updated[0]["data"]["reward_status"], "declined");
    assert_eq!(updated[0]["data"]["payment_status"], Value::Null);

    let id = postback["id"].as_str().unwrap_or_default();
    let deliveries = deliveries_of(&env, &key, id).await;
    let rows = deliveries["data"].as_array().cloned().unwrap_or_default();
    assert_eq!(rows.len(), 3);
    assert!(rows
        .iter()
        .all(|d| d["status"] == "succeeded" && d["attempts"][0]["status_code"] == 200));
}

scenario!(redelivered_jobs_deliver_once);
async fn redelivered_jobs_deliver_once(backend: Backend) {
    let env = Env::new(backend).await;
    let key = partner_with_key(&env, "pat", Some("P-001")).await;
    let receiver = Receiver::start(&[]).await;
    register(&env, &key, &receiver.url, &["reward.created"]).await;
    env.post_signed(SEED).await;
    env.run_worker().await;
    // The commission job again: the reward event is not queued a second time.
    let job = json!({"type": "commission", "program": "acme", "transaction_key": "ext-tx-12345"});
    let job: partnerhook::queue::Job = serde_json::from_value(job).expect("job");
    process_job(&env.app, &job).await.expect("replay");
    let messages = env.receive_postbacks().await;
    assert_eq!(messages.len(), 1);
    // The delivery message twice in one batch, then again: one request reaches the endpoint.
    let mut event = SqsEvent::default();
    event.records = vec![messages[0].clone(), messages[0].clone()];
    let first = handle_sqs_batch(&env.app, event.clone()).await;
    assert!(first.batch_item_failures.is_empty());
    handle_sqs_batch(&env.app, event).await;
    assert_eq!(receiver.bodies().len(), 1);
}

scenario!(a_job_carrying_a_stale_delivery_reads_it_again);
async fn a_job_carrying_a_stale_delivery_reads_it_again(backend: Backend) {
    let (env, _key, receiver, _id) = super::reward_postback(backend, &[500, 200]).await;
    // The first attempt's job carries the delivery as emitted, so the worker need not read it.
    let messages = env.receive_postbacks().await;
    assert_eq!(messages.len(), 1);
    let job: Value =
        serde_json::from_str(messages[0].body.as_deref().unwrap_or_default()).expect("a job body");
    assert_eq!(job["delivery"]["version"], 1, "{job}");
    let delivery_id = job["delivery_id"].as_str().unwrap_or_default().to_string();
    let mut event = SqsEvent::default();
    event.records = vec![messages[0].clone()];
    handle_sqs_batch(&env.app, event.clone()).await;
    assert_eq!(receiver.bodies().len(), 1);
    // The same job again, its copy now stale (the attempt was recorded since): its claim is
    // refused, the delivery read again, and the attempt is not made twice.
    let again = handle_sqs_batch(&env.app, event).await;
    assert!(again.batch_item_failures.is_empty());
    assert_eq!(receiver.bodies().len(), 1);
    let stored = super::delivery(&env, &delivery_id).await;
    assert_eq!(stored.attempts.len(), 1);
    assert_eq!(stored.claimed, None);
}

scenario!(a_partner_lists_its_postbacks_and_one_from_before_the_list_is_still_told);
async fn a_partner_lists_its_postbacks_and_one_from_before_the_list_is_still_told(
    backend: Backend,
) {
    use partnerhook::domain::partner::Partner;
    let env = Env::new(backend).await;
    let key = partner_with_key(&env, "pat", Some("P-001")).await;
    let receiver = Receiver::start(&[]).await;
    let first = register(&env, &key, &receiver.url, &["reward.created"]).await;
    let first = first["id"].as_str().unwrap_or_default().to_string();
    let stored = |env: &Env| {
        let repo = env.app.repo.clone();
        async move {
            repo.get::<Partner>("acme", "pat")
                .await
                .expect("read")
                .expect("the partner")
        }
    };
    assert_eq!(
        stored(&env).await.value.postback_ids,
        Some(vec![first.clone()])
    );
    // The API does not show the list.
    let (_, shown) = env.api("GET", "/v1/partners/pat", None).await;
    assert!(shown.get("postback_ids").is_none(), "{shown}");

    // A partner record from before the list: its postbacks are found in their listing, and
    // the next one created starts the list with them.
    let mut old = stored(&env).await;
    old.value.postback_ids = None;
    env.app.repo.update("acme", &old).await.expect("write");
    env.post_signed(SEED).await;
    env.run_worker().await;
    env.run_postback_worker().await;
    assert_eq!(receiver.bodies().len(), 1);
    let second = register(&env, &key, &receiver.url, &["transaction.created"]).await;
    let second = second["id"].as_str().unwrap_or_default().to_string();
    assert_eq!(
        stored(&env).await.value.postback_ids,
        Some(vec![first.clone(), second.clone()])
    );

    // A deleted postback leaves the list.
    let path = format!("/v1/postbacks/{first}");
    let (status, _) = crate::support::as_partner(&env, &key, "DELETE", &path, None).await;
    assert_eq!(status, 204);
    assert_eq!(stored(&env).await.value.postback_ids, Some(vec![second]));
}
