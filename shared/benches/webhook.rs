//! CPU per custom webhook (verify + parse + map) against the floor: HMAC-SHA256 of the body plus
//! a serde_json parse of the same body. `cargo bench -p partnerhook --bench webhook` prints
//! criterion's figures for both, then their ratio from interleaved rounds in the same run.

use axum::http::{HeaderMap, HeaderValue};
use criterion::{criterion_group, Criterion};
use partnerhook::commission::CommissionPlan;
use partnerhook::domain::Program;
use partnerhook::money::Currency;
use partnerhook::providers::custom;
use partnerhook::signature::hmac_sha256;
use std::hint::black_box;
use std::time::{Duration, Instant};

const BODY: &[u8] = include_bytes!("../../tests/fixtures/custom/seed-transaction-created.json");
const SECRET: &str = "phsec_0123456789abcdef0123456789abcdef";

fn program() -> Program {
    Program {
        slug: "bench".into(),
        name: "Bench".into(),
        currency: Currency::parse("EUR").unwrap_or_else(|e| panic!("{e}")),
        plan: CommissionPlan::default(),
        custom_webhook_secrets: vec![SECRET.into()],
        providers: Default::default(),
        created_at: 0,
        updated_at: 0,
    }
}

fn headers() -> HeaderMap {
    let signature = format!(
        "sha256={}",
        hex::encode(hmac_sha256(SECRET.as_bytes(), &[BODY]))
    );
    let mut headers = HeaderMap::new();
    headers.insert(
        custom::SIGNATURE_HEADER,
        HeaderValue::from_str(&signature).unwrap_or_else(|e| panic!("{e}")),
    );
    headers
}

fn floor(body: &[u8]) {
    black_box(hmac_sha256(SECRET.as_bytes(), &[body]));
    black_box(serde_json::from_slice::<serde_json::Value>(body).ok());
}

fn webhook(headers: &HeaderMap, body: &[u8], program: &Program) {
    custom::verify(headers, body, &program.custom_webhook_secrets)
        .unwrap_or_else(|e| panic!("{e}"));
    black_box(custom::parse(body, program).unwrap_or_else(|e| panic!("{e}")));
}

fn bench(c: &mut Criterion) {
    let (headers, program) = (headers(), program());
    let mut group = c.benchmark_group("custom_webhook");
    group.bench_function("floor_hmac_plus_json", |b| {
        b.iter(|| floor(black_box(BODY)))
    });
    group.bench_function("verify_parse_map", |b| {
        b.iter(|| webhook(&headers, black_box(BODY), &program))
    });
    group.finish();
}

/// Interleaves rounds of both so machine noise hits them alike; keeps each side's best round.
fn ratio() {
    let (headers, program) = (headers(), program());
    const PER_ROUND: u32 = 20_000;
    let time = |f: &dyn Fn()| {
        let start = Instant::now();
        for _ in 0..PER_ROUND {
            f();
        }
        start.elapsed() / PER_ROUND
    };
    let (mut best_floor, mut best_webhook) = (Duration::MAX, Duration::MAX);
    for _ in 0..15 {
        best_floor = best_floor.min(time(&|| floor(black_box(BODY))));
        best_webhook = best_webhook.min(time(&|| webhook(&headers, black_box(BODY), &program)));
    }
    println!(
        "custom webhook ({} bytes): floor {:?}, verify+parse+map {:?}, ratio {:.2}x",
        BODY.len(),
        best_floor,
        best_webhook,
        best_webhook.as_secs_f64() / best_floor.as_secs_f64()
    );
}

criterion_group!(benches, bench);

fn main() {
    benches();
    ratio();
    Criterion::default().configure_from_args().final_summary();
}
