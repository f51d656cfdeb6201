//! Postback delivery figures: what Standard Webhooks signing adds per message (criterion), and
//! how many deliveries per second the local server's path makes to a loopback receiver (the
//! embedded store, the in-process queue, real HTTP). `cargo bench -p partnerhook --bench
//! postbacks --features embedded` prints both.

use axum::routing::post;
use criterion::{criterion_group, Criterion};
use partnerhook::domain::event::Event;
use partnerhook::domain::money::Currency;
use partnerhook::domain::postback::Postback;
use partnerhook::domain::reward::{PaymentStatus, Reward, RewardSource, RewardStatus};
use partnerhook::outbound::signing::{new_secret, sign};
use partnerhook::outbound::ssrf::EndpointPolicy;
use partnerhook::runtime::local::{local_app, run_worker};
use partnerhook::usecases::postbacks::emit::emit;
use partnerhook::usecases::programs as program;
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const DELIVERIES: usize = 2_000;

fn body_of(len: usize) -> Vec<u8> {
    let mut body = br#"{"event":"reward.created","data":{"key":""#.to_vec();
    body.resize(len - 3, b'x');
    body.extend_from_slice(br#""}}"#);
    body
}

fn signing(c: &mut Criterion) {
    let secrets = vec![new_secret()];
    let rotating = vec![new_secret(), new_secret()];
    let body = body_of(1024);
    let mut group = c.benchmark_group("postback_signing_1kb");
    group.bench_function("one_secret", |b| {
        b.iter(|| {
            black_box(sign(
                &secrets,
                "msg_0123456789abcdef01234567",
                1_767_265_200,
                black_box(&body),
            ))
        })
    });
    group.bench_function("two_secrets_rotating", |b| {
        b.iter(|| {
            black_box(sign(
                &rotating,
                "msg_0123456789abcdef01234567",
                1_767_265_200,
                black_box(&body),
            ))
        })
    });
    group.finish();
}

/// Emits `DELIVERIES` reward events to one postback and waits until the receiver has them all.
async fn throughput() {
    let received = Arc::new(AtomicUsize::new(0));
    let counter = received.clone();
    let receiver = axum::Router::new().route(
        "/hook",
        post(move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::Relaxed);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let url = format!(
        "http://{}/hook",
        listener.local_addr().unwrap_or_else(|e| panic!("{e}"))
    );
    tokio::spawn(async move { axum::serve(listener, receiver).await });

    let data = std::env::temp_dir().join(format!("ph-bench-{}", uuid::Uuid::now_v7()));
    let (app, jobs) = local_app(&data, EndpointPolicy::LOCAL).unwrap_or_else(|e| panic!("{e}"));
    program::create(&app.repo, "bench", None, "USD")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let now = app.now();
    let program = app
        .repo
        .get_program("bench")
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("the program was just created"))
        .value;
    let postback = Postback {
        id: "pb_bench".into(),
        program: "bench".into(),
        partner_key: "pat".into(),
        url,
        name: "bench".into(),
        events: vec!["reward.created".into()],
        secrets: vec![new_secret()],
        disabled: None,
        failing_since: None,
        created_at: now,
        updated_at: now,
    };
    app.repo
        .insert("bench", &postback)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let usd = Currency::parse("USD").unwrap_or_else(|e| panic!("{e}"));
    let started = Instant::now();
    tokio::spawn(run_worker(app.clone(), jobs));
    for i in 0..DELIVERIES {
        let reward = Reward {
            key: format!("tx-{i}:1"),
            source: RewardSource::Transaction,
            transaction_key: Some(format!("tx-{i}")),
            action_key: None,
            customer_key: Some(format!("cust-{i}")),
            partner_key: "pat".into(),
            level: 1,
            percent: 20.into(),
            flat: None,
            rule: "default".into(),
            base: Default::default(),
            base_amount: Some(usd.from_minor(5000)),
            description: "20 % of 50.00 USD, default rule, level 1".into(),
            amount: usd.from_minor(1000),
            currency: usd,
            reward_status: RewardStatus::Pending,
            payment_status: PaymentStatus::Pending,
            payment_date: None,
            payout_id: None,
            reverses: None,
            status_reason: None,
            created_at: now,
            updated_at: now,
        };
        emit(&app, &program, "pat", Event::RewardCreated(&reward))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    while received.load(Ordering::Relaxed) < DELIVERIES {
        if started.elapsed() > Duration::from_secs(300) {
            panic!(
                "only {} of {DELIVERIES} deliveries arrived",
                received.load(Ordering::Relaxed)
            );
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed();
    println!(
        "\nlocal server: {DELIVERIES} signed deliveries to a loopback receiver in {elapsed:.2?}: {:.0} deliveries/s (emit, store, queue, sign, POST, record; the local worker, up to 32 jobs at once)",
        DELIVERIES as f64 / elapsed.as_secs_f64()
    );
    std::fs::remove_dir_all(&data).ok();
}

criterion_group!(benches, signing);

fn main() {
    benches();
    let runtime = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("{e}"));
    runtime.block_on(throughput());
    Criterion::default().configure_from_args().final_summary();
}
