//! CPU per webhook (authenticate + parse + map) of every source against its floor: the
//! source's own authenticity check plus a generic parse of the same body (serde_json for JSON,
//! quick-xml events for XML, serde_urlencoded pairs for forms).
//! `cargo bench -p partnerhook --bench webhook` prints criterion's figures for each pair, then
//! their ratios from interleaved rounds in the same run.

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use base64::Engine;
use criterion::{criterion_group, Criterion};
use partnerhook::crypto::signature::hmac_sha256;
use partnerhook::domain::money::Currency;
use partnerhook::domain::plan::CommissionPlan;
use partnerhook::domain::program::{BasicCredential, Program, ProviderSecrets};
use partnerhook::sources::custom;
use partnerhook::sources::providers::chargebee::Chargebee;
use partnerhook::sources::providers::chargify::Chargify;
use partnerhook::sources::providers::event::Provider;
use partnerhook::sources::providers::recurly::Recurly;
use partnerhook::sources::providers::stripe::Stripe;
use std::hint::black_box;
use std::time::{Duration, Instant};

const SECRET: &str = "phsec_0123456789abcdef0123456789abcdef";
const NOW: i64 = 1_767_265_200;

macro_rules! fixture {
    ($path:literal) => {
        include_str!(concat!("../../tests/fixtures/", $path))
    };
}

fn program() -> Program {
    let basic = BasicCredential {
        username: "user".into(),
        password: "password".into(),
    };
    Program {
        slug: "bench".into(),
        name: "Bench".into(),
        currency: Currency::parse("USD").unwrap_or_else(|e| panic!("{e}")),
        plan: CommissionPlan::default(),
        custom_webhook_secrets: vec![SECRET.into()],
        providers: ProviderSecrets {
            stripe_signing_secrets: vec![SECRET.into()],
            chargebee_credentials: vec![basic.clone()],
            recurly_credentials: vec![basic],
            recurly_signing_keys: vec![SECRET.into()],
            chargify_site_shared_keys: vec![SECRET.into()],
        },
        usd_rates: Default::default(),
        min_payout: Default::default(),
        created_at: 0,
        updated_at: 0,
    }
}

fn headers(pairs: &[(&str, String)]) -> HeaderMap {
    pairs
        .iter()
        .map(|(k, v)| {
            let name = HeaderName::from_bytes(k.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
            let value = HeaderValue::from_str(v).unwrap_or_else(|e| panic!("{e}"));
            (name, value)
        })
        .collect()
}

fn hex_hmac(parts: &[&[u8]]) -> String {
    hex::encode(hmac_sha256(SECRET.as_bytes(), parts))
}

fn basic_auth() -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("user:password")
    )
}

/// One source: its body and headers, its floor, and Partnerhook's own path.
struct Case {
    name: &'static str,
    body: &'static [u8],
    headers: HeaderMap,
    floor: fn(&HeaderMap, &[u8]),
    ours: fn(&HeaderMap, &[u8], &Program),
}

fn json_floor(body: &[u8]) {
    black_box(serde_json::from_slice::<serde_json::Value>(body).ok());
}

fn basic_floor(headers: &HeaderMap) {
    let value = headers.get("authorization").and_then(|v| v.to_str().ok());
    let token = value.and_then(|v| v.strip_prefix("Basic ")).unwrap_or("");
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(token)
        .unwrap_or_default();
    black_box(decoded == b"user:password");
}

fn run<P: Provider>(headers: &HeaderMap, body: &[u8], program: &Program) {
    P::authenticate(headers, body, &program.providers, NOW).unwrap_or_else(|e| panic!("{e}"));
    black_box(P::parse(headers, body, program).unwrap_or_else(|e| panic!("{e}")));
}

fn cases() -> Vec<Case> {
    let custom_body = fixture!("custom/seed-transaction-created.json");
    let stripe_body = fixture!("stripe/charge.succeeded.json");
    let chargify_body = fixture!("chargify/payment_success.txt");
    let json = ("content-type", "application/json".to_string());
    vec![
        Case {
            name: "custom",
            body: custom_body.as_bytes(),
            headers: headers(&[
                json.clone(),
                (
                    custom::SIGNATURE_HEADER,
                    format!("sha256={}", hex_hmac(&[custom_body.as_bytes()])),
                ),
            ]),
            floor: |_, body| {
                black_box(hmac_sha256(SECRET.as_bytes(), &[body]));
                json_floor(body);
            },
            ours: |headers, body, program| {
                custom::verify(headers, body, &program.custom_webhook_secrets)
                    .unwrap_or_else(|e| panic!("{e}"));
                black_box(custom::parse(body, program).unwrap_or_else(|e| panic!("{e}")));
            },
        },
        Case {
            name: "stripe",
            body: stripe_body.as_bytes(),
            headers: headers(&[
                json.clone(),
                (
                    "stripe-signature",
                    format!(
                        "t={NOW},v1={}",
                        hex_hmac(&[NOW.to_string().as_bytes(), b".", stripe_body.as_bytes()])
                    ),
                ),
            ]),
            floor: |_, body| {
                black_box(hmac_sha256(
                    SECRET.as_bytes(),
                    &[NOW.to_string().as_bytes(), b".", body],
                ));
                json_floor(body);
            },
            ours: run::<Stripe>,
        },
        Case {
            name: "chargebee",
            body: fixture!("chargebee/payment_succeeded.json").as_bytes(),
            headers: headers(&[json, ("authorization", basic_auth())]),
            floor: |headers, body| {
                basic_floor(headers);
                json_floor(body);
            },
            ours: run::<Chargebee>,
        },
        Case {
            name: "recurly",
            body: fixture!("recurly/successful_payment_notification.xml").as_bytes(),
            headers: headers(&[
                ("content-type", "application/xml".to_string()),
                ("authorization", basic_auth()),
            ]),
            floor: |headers, body| {
                basic_floor(headers);
                let mut reader = quick_xml::Reader::from_reader(body);
                let mut buf = Vec::new();
                while !matches!(
                    reader.read_event_into(&mut buf),
                    Ok(quick_xml::events::Event::Eof) | Err(_)
                ) {
                    buf.clear();
                }
            },
            ours: run::<Recurly>,
        },
        Case {
            name: "chargify",
            body: chargify_body.as_bytes(),
            headers: headers(&[
                (
                    "content-type",
                    "application/x-www-form-urlencoded".to_string(),
                ),
                (
                    "x-chargify-webhook-signature-hmac-sha-256",
                    hex_hmac(&[chargify_body.as_bytes()]),
                ),
            ]),
            floor: |_, body| {
                black_box(hmac_sha256(SECRET.as_bytes(), &[body]));
                black_box(serde_urlencoded::from_bytes::<Vec<(String, String)>>(body).ok());
            },
            ours: run::<Chargify>,
        },
    ]
}

fn bench(c: &mut Criterion) {
    let program = program();
    for case in cases() {
        let mut group = c.benchmark_group(case.name);
        group.bench_function("floor", |b| {
            b.iter(|| (case.floor)(&case.headers, black_box(case.body)))
        });
        group.bench_function("authenticate_parse_map", |b| {
            b.iter(|| (case.ours)(&case.headers, black_box(case.body), &program))
        });
        group.finish();
    }
}

/// Interleaves rounds of both sides so machine noise hits them alike; keeps each one's best.
fn ratios() {
    let program = program();
    const PER_ROUND: u32 = 5_000;
    let time = |f: &dyn Fn()| {
        let start = Instant::now();
        for _ in 0..PER_ROUND {
            f();
        }
        start.elapsed() / PER_ROUND
    };
    println!("\nper-webhook CPU against the floor (best of 15 interleaved rounds):");
    for case in cases() {
        let (mut floor, mut ours) = (Duration::MAX, Duration::MAX);
        for _ in 0..15 {
            floor = floor.min(time(&|| (case.floor)(&case.headers, black_box(case.body))));
            ours = ours.min(time(&|| {
                (case.ours)(&case.headers, black_box(case.body), &program)
            }));
        }
        println!(
            "  {:<10} {:>6} bytes  floor {:>9.2?}  ours {:>9.2?}  ratio {:.2}x",
            case.name,
            case.body.len(),
            floor,
            ours,
            ours.as_secs_f64() / floor.as_secs_f64()
        );
    }
}

criterion_group!(benches, bench);

fn main() {
    benches();
    ratios();
    Criterion::default().configure_from_args().final_summary();
}
