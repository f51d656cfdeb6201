//! CSV import figures: rows per second of `POST /v1/imports/transactions` into DynamoDB Local and
//! into the embedded store, and the DynamoDB requests each imported row costs, for a first
//! import and for the same file again (every row skipped). `source infra/services.sh` first
//! (it exports PARTNERHOOK_TEST_DYNAMODB), then `cargo bench -p partnerhook --bench import
//! --features embedded`. Without DynamoDB Local it prints the embedded figures, says loudly
//! that the DynamoDB ones are missing and exits with a failure.
//!
//! The file goes through the api function's router in chunks of 500 rows with `first_row`, as
//! `partnerhook import transactions` sends it, so each chunk's key check, parsing and the kept
//! results are counted too. Requests are counted twice: every call on the `Store` port (one
//! DynamoDB request each: the adapter does not batch, and `insert_all` is one
//! TransactWriteItems), and every HTTP request the DynamoDB client sends (an interceptor:
//! retries, and a read after a failed conditional write, would show up there only). Jobs go
//! to a queue that counts and drops them, so SQS's latency is not in the rows per second.

use async_trait::async_trait;
use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use axum::body::Body;
use axum::http::Request;
use partnerhook::app::App;
use partnerhook::outbound::ssrf::EndpointPolicy;
use partnerhook::queue::{Job, Queue, QueueError};
use partnerhook::store::dynamodb::DynamoStore;
use partnerhook::store::embedded::EmbeddedStore;
use partnerhook::store::{Insert, Page, Query, QueryOptions, Record, Store, StoreError};
use partnerhook::usecases::programs as program;
use serde_json::{json, Value};
use std::fmt::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower::ServiceExt;

const SIZES: [usize; 2] = [1_000, 10_000];
/// The CLI's chunk size.
const CHUNK_ROWS: usize = 500;
/// Imported rows per customer.
const ROWS_PER_CUSTOMER: usize = 10;

/// Calls on the `Store` port by kind, and the DynamoDB client's HTTP requests.
#[derive(Default, Debug)]
struct Counts {
    get: AtomicU64,
    insert: AtomicU64,
    insert_all: AtomicU64,
    update: AtomicU64,
    query: AtomicU64,
    delete: AtomicU64,
    http: AtomicU64,
    jobs: AtomicU64,
}

/// The counters' values at one moment.
#[derive(Clone, Copy, Default)]
struct Snapshot([u64; 8]);

impl Counts {
    fn snapshot(&self) -> Snapshot {
        let all = [
            &self.get,
            &self.insert,
            &self.insert_all,
            &self.update,
            &self.query,
            &self.delete,
            &self.http,
            &self.jobs,
        ];
        Snapshot(all.map(|c| c.load(Ordering::Relaxed)))
    }
}

impl Snapshot {
    fn since(self, before: Snapshot) -> Snapshot {
        Snapshot(std::array::from_fn(|i| self.0[i] - before.0[i]))
    }

    fn store_calls(self) -> u64 {
        self.0[..6].iter().sum()
    }

    fn per_row(self, rows: usize) -> String {
        let rows = rows as f64;
        let names = ["get", "insert", "insert_all", "update", "query", "delete"];
        let mut text = format!("{:.2} Store calls/row (", self.store_calls() as f64 / rows);
        let kinds = names.iter().zip(self.0).filter(|(_, n)| *n > 0);
        for (i, (name, n)) in kinds.enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            let _ = write!(text, "{sep}{name} {:.2}", n as f64 / rows);
        }
        let _ = write!(text, "), {:.2} jobs/row", self.0[7] as f64 / rows);
        text
    }
}

/// The `Store` port, counting each call before passing it on.
struct Counted {
    inner: Arc<dyn Store>,
    counts: Arc<Counts>,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

#[async_trait]
impl Store for Counted {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Record>, StoreError> {
        bump(&self.counts.get);
        self.inner.get(pk, sk).await
    }
    async fn insert(&self, record: Record) -> Result<Insert, StoreError> {
        bump(&self.counts.insert);
        self.inner.insert(record).await
    }
    async fn insert_all(&self, records: Vec<Record>) -> Result<Option<usize>, StoreError> {
        bump(&self.counts.insert_all);
        self.inner.insert_all(records).await
    }
    async fn update(&self, record: Record) -> Result<(), StoreError> {
        bump(&self.counts.update);
        self.inner.update(record).await
    }
    async fn query(&self, query: &Query, options: &QueryOptions) -> Result<Page, StoreError> {
        bump(&self.counts.query);
        self.inner.query(query, options).await
    }
    async fn delete(&self, pk: &str, sk: &str) -> Result<(), StoreError> {
        bump(&self.counts.delete);
        self.inner.delete(pk, sk).await
    }
}

/// Counts every HTTP request the DynamoDB client sends, retries included.
#[derive(Debug)]
struct CountRequests(Arc<Counts>);

impl Intercept for CountRequests {
    fn name(&self) -> &'static str {
        "CountRequests"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        bump(&self.0.http);
        Ok(())
    }
}

/// A queue that counts the jobs and drops them: no worker runs in this bench.
struct CountingQueue(Arc<Counts>);

#[async_trait]
impl Queue for CountingQueue {
    async fn send_after(&self, _job: &Job, _delay: Duration) -> Result<(), QueueError> {
        bump(&self.0.jobs);
        Ok(())
    }
}

/// A fresh table on DynamoDB Local whose client counts its requests.
async fn dynamo(endpoint: &str, counts: &Arc<Counts>) -> Arc<dyn Store> {
    let shared = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test", "test", None, None, "bench",
        ))
        .endpoint_url(endpoint)
        .load()
        .await;
    let config = aws_sdk_dynamodb::config::Builder::from(&shared)
        .interceptor(CountRequests(counts.clone()))
        .build();
    let table = format!("ph-bench-{}", uuid::Uuid::now_v7().simple());
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(config), table);
    store
        .create_table()
        .await
        .unwrap_or_else(|e| panic!("create the bench table on DynamoDB Local: {e}"));
    Arc::new(store)
}

async fn call(app: &App, method: &str, uri: &str, key: &str, ctype: &str, body: String) -> Value {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", ctype)
        .body(Body::from(body))
        .unwrap_or_else(|e| panic!("{e}"));
    let response = partnerhook::http::api_router(app.clone())
        .oneshot(request)
        .await
        .unwrap_or_else(|e| match e {});
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let answer: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    assert!(status.is_success(), "{method} {uri}: {status} {answer}");
    answer
}

/// `rows` rows for `rows / ROWS_PER_CUSTOMER` customers; every other row has a `key`, the
/// others get derived ones.
fn csv_rows(rows: usize) -> Vec<String> {
    (0..rows)
        .map(|i| {
            let customer = i / ROWS_PER_CUSTOMER;
            let amount = 1000 + i % 5000;
            let key = if i % 2 == 0 {
                format!("inv_{i}")
            } else {
                String::new()
            };
            format!("cus_{customer},{amount},USD,{key},monthly,basic_plan\n")
        })
        .collect()
}

/// Sends the file in chunks; the seconds it took and the answers' created and skipped rows.
async fn import(app: &App, key: &str, rows: &[String]) -> (f64, u64, u64) {
    let started = Instant::now();
    let (mut created, mut skipped) = (0, 0);
    for (index, chunk) in rows.chunks(CHUNK_ROWS).enumerate() {
        let mut body = String::from("customer_key,amount,currency,key,category_key,product_key\n");
        body.extend(chunk.iter().map(String::as_str));
        let uri = format!(
            "/v1/imports/transactions?first_row={}",
            2 + index * CHUNK_ROWS
        );
        let answer = call(app, "POST", &uri, key, "text/csv", body).await;
        assert_eq!(answer["failed"], 0, "no row may fail: {answer}");
        created += answer["created"].as_u64().unwrap_or(0);
        skipped += answer["skipped"].as_u64().unwrap_or(0);
    }
    (started.elapsed().as_secs_f64(), created, skipped)
}

/// Imports `rows` rows twice into `store` and prints both runs' figures.
async fn measure(name: &str, store: Arc<dyn Store>, counts: Arc<Counts>, rows: usize) {
    let counted = Arc::new(Counted {
        inner: store,
        counts: counts.clone(),
    });
    let queue = Arc::new(CountingQueue(counts.clone()));
    let app = App::new(counted, queue, EndpointPolicy::LOCAL);
    let created = program::create(&app.repo, "bench", None, "USD")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let key = created.admin_key.as_str();
    let partner = json!({"email": "pat@example.com", "name": "Pat", "key": "pat"});
    call(
        &app,
        "POST",
        "/v1/partners",
        key,
        "application/json",
        partner.to_string(),
    )
    .await;
    for customer in 0..rows.div_ceil(ROWS_PER_CUSTOMER) {
        let body = json!({
            "email": format!("cus_{customer}@example.com"),
            "name": format!("Customer {customer}"),
            "key": format!("cus_{customer}"),
            "partner_key": "pat",
        });
        call(
            &app,
            "POST",
            "/v1/customers",
            key,
            "application/json",
            body.to_string(),
        )
        .await;
    }
    let file = csv_rows(rows);
    for run in ["first import", "re-import"] {
        let before = counts.snapshot();
        let (seconds, created, skipped) = import(&app, key, &file).await;
        let used = counts.snapshot().since(before);
        let expected = if run == "first import" {
            (rows as u64, 0)
        } else {
            (0, rows as u64)
        };
        assert_eq!(
            (created, skipped),
            expected,
            "{name} {run}: created, skipped"
        );
        let http = if name == "DynamoDB Local" {
            format!(
                "; {:.2} DynamoDB HTTP requests/row",
                used.0[6] as f64 / rows as f64
            )
        } else {
            String::new()
        };
        println!(
            "{name}, {rows} rows, {run} ({created} created, {skipped} skipped): {seconds:.2} s, {:.0} rows/s; {}{http}",
            rows as f64 / seconds,
            used.per_row(rows),
        );
    }
}

async fn run() -> bool {
    for rows in SIZES {
        let dir = std::env::temp_dir().join(format!("ph-bench-{}", uuid::Uuid::now_v7()));
        let store = EmbeddedStore::open(&dir).unwrap_or_else(|e| panic!("{e}"));
        measure("embedded store", Arc::new(store), Arc::default(), rows).await;
        std::fs::remove_dir_all(&dir).ok();
    }
    let Ok(endpoint) = std::env::var("PARTNERHOOK_TEST_DYNAMODB") else {
        eprintln!(
            "\n*** DynamoDB Local figures NOT MEASURED: PARTNERHOOK_TEST_DYNAMODB is not set. ***\n\
             *** Run `source infra/services.sh` in this shell first, then the bench again.  ***\n"
        );
        return false;
    };
    for rows in SIZES {
        let counts = Arc::new(Counts::default());
        let store = dynamo(&endpoint, &counts).await;
        measure("DynamoDB Local", store, counts, rows).await;
    }
    true
}

fn main() -> ExitCode {
    let runtime = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("{e}"));
    match runtime.block_on(run()) {
        true => ExitCode::SUCCESS,
        false => ExitCode::FAILURE,
    }
}
