//! What each step of a payment costs on DynamoDB and SQS, measured through the metered store
//! with the index projection template.yaml declares, checked against README.md's table
//! ("Economics"). A step that costs more than the README states fails, and so does a README
//! that states less or more than was measured: the table is a measurement, not a wish.
//! `cargo test -p partnerhook-e2e economics -- --nocapture` prints the measured table.

use crate::providers::{configure, fixture, now, status_of, stripe, STRIPE_SECRET};
use crate::support::{as_partner, partner, partner_with_key, seed_with, Backend, Env, Receiver};
use async_trait::async_trait;
use partnerhook::domain::throttle::BURST;
use partnerhook::domain::time::{Clock, ManualClock, SystemClock};
use partnerhook::queue::{Job, Queue, QueueError};
use partnerhook::store::metered::{Bill, IndexProjection, MeteredStore};
use partnerhook::store::Store;
use rust_decimal::Decimal;
use serde_json::json;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

const README: &str = include_str!("../../README.md");
const TEMPLATE: &str = include_str!("../../template.yaml");
const BEGIN: &str = "<!-- economics:begin -->";
const END: &str = "<!-- economics:end -->";

/// Counts the messages sent, as SQS bills them.
struct CountingQueue {
    inner: Arc<dyn Queue>,
    sent: AtomicU32,
}

#[async_trait]
impl Queue for CountingQueue {
    async fn send_after(&self, job: &Job, delay: Duration) -> Result<(), QueueError> {
        self.sent.fetch_add(1, Ordering::SeqCst);
        self.inner.send_after(job, delay).await
    }
}

/// An environment whose store and queue count what they are asked.
struct Metered {
    env: Env,
    store: Arc<MeteredStore>,
    queue: Arc<CountingQueue>,
}

fn declared_projection() -> IndexProjection {
    if TEMPLATE.contains("ProjectionType: KEYS_ONLY") {
        IndexProjection::KeysOnly
    } else {
        assert!(
            TEMPLATE.contains("ProjectionType: ALL"),
            "template.yaml declares no projection"
        );
        IndexProjection::All
    }
}

impl Metered {
    async fn new() -> Self {
        Self::with_clock(Arc::new(SystemClock)).await
    }

    async fn with_clock(clock: Arc<dyn Clock>) -> Self {
        let mut store = None;
        let mut queue = None;
        let env = Env::custom(
            Backend::Embedded,
            |inner: Arc<dyn Store>| {
                let metered = Arc::new(MeteredStore::new(inner, declared_projection()));
                store = Some(metered.clone());
                metered
            },
            |inner| {
                let counting = Arc::new(CountingQueue {
                    inner,
                    sent: AtomicU32::new(0),
                });
                queue = Some(counting.clone());
                counting
            },
            clock,
        )
        .await;
        let (Some(store), Some(queue)) = (store, queue) else {
            unreachable!("Env::custom calls both wrappers")
        };
        Self { env, store, queue }
    }

    /// Starts counting afresh.
    fn reset(&self) {
        self.store.take();
        self.queue.sent.store(0, Ordering::SeqCst);
    }

    /// The README row of what was counted since the last reset.
    fn row(&self, step: &str) -> String {
        self.row_and_bill(step).0
    }

    fn row_and_bill(&self, step: &str) -> (String, Bill) {
        let bill: Bill = self.store.take();
        let sent = self.queue.sent.swap(0, Ordering::SeqCst);
        let row = format!(
            "| {step} | {} ({} get, {} put, {} query, {} delete, {} transact) | {sent} | {} + {} | {} |",
            bill.calls(),
            bill.gets,
            bill.puts,
            bill.queries,
            bill.deletes,
            bill.transactions,
            bill.table_write_units,
            bill.index_write_units,
            bill.read_units().normalize(),
        );
        (row, bill)
    }
}

fn sale(key: &str, customer: &str, email: &str, partner_id: Option<&str>) -> String {
    seed_with(json!({
        "externalId": key,
        "partnerId": partner_id,
        "customer": {"externalId": customer, "email": email},
    }))
}

/// Measures every step in the README's order.
async fn measure() -> Vec<String> {
    let mut rows = Vec::new();

    // A simple payment: a partner with no postbacks, a new customer, the default plan.
    let m = Metered::new().await;
    partner(&m.env, "pat", Some("P-001"), None).await;
    let body = sale("tx-1", "cust-1", "cust-1@example.com", Some("P-001"));
    m.reset();
    let (status, answer) = m.env.post_signed(&body).await;
    assert_eq!(status, 200, "{answer}");
    let (row, webhook) = m.row_and_bill("new custom payment, webhook");
    rows.push(row);
    let (count, response) = m.env.run_worker().await;
    assert_eq!((count, response.batch_item_failures.len()), (1, 0));
    let (row, job) = m.row_and_bill("its commission job");
    rows.push(row);
    println!("{}", dynamodb_cost(&webhook, &job));
    let (status, answer) = m.env.post_signed(&body).await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (200, Some("skipped")),
        "{answer}"
    );
    rows.push(m.row("duplicate custom delivery"));
    let refund = json!({"event": "transaction.refunded", "externalId": "tx-1"}).to_string();
    let (status, answer) = m.env.post_signed(&refund).await;
    assert_eq!(status, 200, "{answer}");
    // The refund's reversals are written by the webhook itself: no job follows.
    assert_eq!(m.env.run_worker().await.0, 0);
    rows.push(m.row("custom refund, webhook"));

    // Stripe: the customer linked first, then a charge, then Stripe's retry of the event.
    let m = Metered::new().await;
    configure(&m.env, true).await;
    let t = now();
    let linked = stripe(
        &m.env,
        &fixture("stripe/customer.created.json"),
        STRIPE_SECRET,
        t,
    )
    .await;
    assert_eq!(linked.0, 200, "{}", linked.1);
    let charge = fixture("stripe/charge.succeeded.json");
    m.reset();
    let answer = stripe(&m.env, &charge, STRIPE_SECRET, t).await;
    assert_eq!(status_of(&answer), (200, "created"));
    rows.push(m.row("Stripe `charge.succeeded`, linked customer"));
    let answer = stripe(&m.env, &charge, STRIPE_SECRET, t).await;
    assert_eq!(status_of(&answer), (200, "skipped"));
    rows.push(m.row("Stripe's retry of the same event"));

    // A forged Stripe event, then one past the program's allowance of refusals (the clock
    // stands still, so none refills).
    let m = Metered::with_clock(Arc::new(ManualClock::at(SystemClock.now()))).await;
    configure(&m.env, true).await;
    m.reset();
    let answer = stripe(&m.env, &charge, "whsec_forged", t).await;
    assert_eq!(status_of(&answer), (401, "invalid_signature"));
    rows.push(m.row("Stripe event with a forged signature"));
    for _ in 1..BURST {
        stripe(&m.env, &charge, "whsec_forged", t).await;
    }
    m.reset();
    let answer = stripe(&m.env, &charge, "whsec_forged", t).await;
    assert_eq!(status_of(&answer), (429, "throttled"));
    rows.push(m.row("the same, past the program's allowance"));

    // A partner with one postback: the job emits the events, the worker delivers one.
    let m = Metered::new().await;
    let api_key = partner_with_key(&m.env, "pat", Some("P-001")).await;
    let receiver = Receiver::start(&[]).await;
    let postback = json!({"url": receiver.url, "name": "CRM", "events": ["reward.created"]});
    let (status, answer) =
        as_partner(&m.env, &api_key, "POST", "/v1/postbacks", Some(postback)).await;
    assert_eq!(status, 201, "{answer}");
    let body = sale("tx-2", "cust-2", "cust-2@example.com", Some("P-001"));
    let (status, answer) = m.env.post_signed(&body).await;
    assert_eq!(status, 200, "{answer}");
    m.reset();
    let (count, response) = m.env.run_worker().await;
    assert_eq!((count, response.batch_item_failures.len()), (1, 0));
    rows.push(m.row("commission job, partner with one postback"));
    let (count, response) = m.env.run_postback_worker().await;
    assert_eq!((count, response.batch_item_failures.len()), (1, 0));
    assert_eq!(receiver.bodies().len(), 1);
    rows.push(m.row("one postback attempt"));

    // A listing spread over index partitions: a query each, then one batch read of the page.
    let m = Metered::new().await;
    for n in 0..30 {
        partner(&m.env, &format!("p{n:02}"), None, None).await;
    }
    m.reset();
    let (status, page) = m.env.api("GET", "/v1/partners?limit=25", None).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["data"].as_array().map(Vec::len), Some(25));
    rows.push(m.row("a page of 25 partners, admin API"));
    rows
}

/// On-demand list prices (us-east-1, after November 2024), dollars per million units.
const WRU_PRICE: Decimal = Decimal::from_parts(625, 0, 0, false, 3);
const RRU_PRICE: Decimal = Decimal::from_parts(125, 0, 0, false, 3);

/// What a million simple payments (webhook and job) cost on DynamoDB.
fn dynamodb_cost(webhook: &Bill, job: &Bill) -> String {
    let wru = Decimal::from(webhook.write_units() + job.write_units());
    let rru = webhook.read_units() + job.read_units();
    let dollars = wru * WRU_PRICE + rru * RRU_PRICE;
    format!(
        "DynamoDB per million simple payments: {wru} WRU x $0.625 + {rru} RRU x $0.125 = ${}",
        dollars.round_dp(2)
    )
}

fn stated() -> Vec<String> {
    let start = README
        .find(BEGIN)
        .expect("README.md has the economics table markers");
    let end = README
        .find(END)
        .expect("README.md closes the economics table");
    README[start + BEGIN.len()..end]
        .lines()
        .map(str::trim)
        .filter(|line| {
            line.starts_with("| ") && !line.starts_with("| step") && !line.starts_with("|--")
        })
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn each_step_costs_what_the_readme_states() {
    let measured = measure().await;
    let table = measured.join("\n");
    println!("{table}");
    assert_eq!(
        stated(),
        measured,
        "README.md's economics table differs from the measurement; measured:\n{table}"
    );
}
