//! Load on the local server, as an operator would put it: the release `partnerhook serve` on a
//! data folder on disk, a program and its partners, then distinct pre-signed custom webhooks
//! fired over keep-alive connections. Prints req/s, p50/p90/p99/max and the failures (every
//! answer must be 2xx; the run fails on any), then how long the in-process workers took to
//! reward every sale, and the server's CPU time per sale. It asserts nothing about time.
//!
//! `cargo bench -p partnerhook-cli --bench serve`
//!
//! Settings (environment): `PH_BENCH_WEBHOOKS` (default 20000), `PH_BENCH_CONNECTIONS` (16),
//! `PH_BENCH_PARTNERS` (50; sales go round them, as a program's do), `PH_BENCH_DATA` (the data
//! folder's parent; default the target folder, which is on the project's disk, never tmpfs),
//! `PH_BENCH_STRACE` (a file: counts the server's fsync/fdatasync calls from the first webhook
//! until every sale is commissioned, with `strace -c -f`), `PH_BENCH_SYSCALLS` (what strace
//! counts instead, e.g. `all`).

use partnerhook::crypto::signature::hmac_sha256;
use serde_json::{json, Value};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SEED: &str = include_str!("../../../tests/fixtures/custom/seed-transaction-created.json");
const SERVER: &str = env!("CARGO_BIN_EXE_partnerhook");

type Failure = Box<dyn std::error::Error + Send + Sync>;

/// A client for plain HTTP on loopback keeping at most one idle connection to the server.
fn http_client() -> Result<reqwest::Client, Failure> {
    Ok(reqwest::Client::builder()
        .use_preconfigured_tls(partnerhook::outbound::client::tls_config()?)
        .pool_max_idle_per_host(1)
        .build()?)
}

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The server process (its log lines discarded); killed when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn create_program(data: &Path) -> Result<(String, String), Failure> {
    let out = Command::new(SERVER)
        .args(["program", "create", "--slug", "bench", "--currency", "EUR"])
        .arg("--data")
        .arg(data)
        .output()?;
    if !out.status.success() {
        return Err(format!("program create: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    let created: Value = serde_json::from_slice(&out.stdout)?;
    let field = |name: &str| created[name].as_str().map(str::to_string);
    match (field("admin_key"), field("custom_webhook_secret")) {
        (Some(key), Some(secret)) => Ok((key, secret)),
        _ => Err(format!("unexpected program create output: {created}").into()),
    }
}

async fn start_server(data: &Path) -> Result<Server, Failure> {
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let addr = format!("127.0.0.1:{port}");
    let child = Command::new(SERVER)
        .args(["serve", "--addr", &addr])
        .arg("--data")
        .arg(data)
        .stdout(Stdio::null())
        .spawn()?;
    let server = Server {
        child,
        base: format!("http://{addr}"),
    };
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(&addr).await.is_ok() {
            return Ok(server);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err("the server did not start listening".into())
}

/// Sale `i`'s partner: its id in webhooks, and its key in the API.
fn partner(i: usize, partners: usize) -> (String, String) {
    let n = i % partners.max(1);
    (format!("P-{n:03}"), format!("p{n:03}"))
}

async fn create_partners(server: &Server, key: &str, partners: usize) -> Result<(), Failure> {
    let client = http_client()?;
    for i in 0..partners.max(1) {
        let (id, partner_key) = partner(i, partners);
        let status = client
            .post(format!("{}/v1/partners", server.base))
            .bearer_auth(key)
            .json(&json!({"email": format!("{id}@example.com"), "name": id, "id": id, "key": partner_key}))
            .send()
            .await?
            .status();
        if !status.is_success() {
            return Err(format!("creating partner {id}: {status}").into());
        }
    }
    Ok(())
}

/// Webhook `i` of this run: its own transaction and customer, its signature header.
fn signed_webhooks(
    secret: &str,
    n: usize,
    partners: usize,
) -> Result<Vec<(String, String)>, Failure> {
    let seed: Value = serde_json::from_str(SEED)?;
    (0..n)
        .map(|i| {
            let mut body = seed.clone();
            body["externalId"] = json!(format!("bench-{i}"));
            body["partnerId"] = json!(partner(i, partners).0);
            body["customer"]["externalId"] = json!(format!("cust-{i}"));
            body["customer"]["email"] = json!(format!("cust-{i}@example.com"));
            let body = body.to_string();
            let tag = hex::encode(hmac_sha256(secret.as_bytes(), &[body.as_bytes()]));
            Ok((body, format!("sha256={tag}")))
        })
        .collect()
}

/// What one connection saw: each answer's latency, and the failures (non-2xx or no answer).
#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    failures: Vec<String>,
}

/// One keep-alive connection sending the next unsent webhook until none is left.
async fn connection(
    url: String,
    webhooks: Arc<Vec<(String, String)>>,
    next: Arc<AtomicUsize>,
) -> Result<Tally, Failure> {
    let client = http_client()?;
    let mut tally = Tally::default();
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some((body, signature)) = webhooks.get(i) else {
            return Ok(tally);
        };
        let started = Instant::now();
        let answer = client
            .post(&url)
            .header("content-type", "application/json")
            .header("x-webhook-signature", signature)
            .body(body.clone())
            .send()
            .await;
        let outcome = match answer {
            Ok(response) => {
                let status = response.status();
                let text = response.text().await.unwrap_or_default();
                (!status.is_success()).then(|| format!("webhook {i}: {status} {text}"))
            }
            Err(e) => Some(format!("webhook {i}: {e}")),
        };
        tally.latencies.push(started.elapsed());
        tally.failures.extend(outcome);
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((sorted.len() as f64) * p).ceil() as usize;
    sorted
        .get(rank.saturating_sub(1).min(sorted.len().saturating_sub(1)))
        .copied()
        .unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// Sum of the partners' commissions in minor units (pending, approved or paid).
async fn commissioned_minor(server: &Server, key: &str, partners: usize) -> Result<i64, Failure> {
    let client = http_client()?;
    let mut total = 0;
    for i in 0..partners.max(1) {
        let url = format!(
            "{}/v1/partners/{}/balance",
            server.base,
            partner(i, partners).1
        );
        let balance: Value = client
            .get(url)
            .bearer_auth(key)
            .send()
            .await?
            .json()
            .await?;
        for currency in balance["data"].as_array().into_iter().flatten() {
            for field in ["pending", "on_hold", "approved", "paid"] {
                total += currency[field].as_i64().unwrap_or(0);
            }
        }
    }
    Ok(total)
}

/// One sale's reward in minor units, read from the first webhook's transaction.
async fn one_reward(server: &Server, key: &str) -> Result<i64, Failure> {
    let url = format!("{}/v1/rewards?transaction_key=bench-0", server.base);
    let client = http_client()?;
    for _ in 0..600 {
        let rewards: Value = client
            .get(&url)
            .bearer_auth(key)
            .send()
            .await?
            .json()
            .await?;
        if let Some(amount) = rewards["data"][0]["amount"].as_i64() {
            return Ok(amount);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err("the first sale was never commissioned".into())
}

/// Waits until every sale has its reward, or until the total stops moving for 30 s.
async fn wait_for_commissions(
    server: &Server,
    key: &str,
    partners: usize,
    n: usize,
) -> Result<usize, Failure> {
    let each = one_reward(server, key).await?;
    let (mut last, mut still_since) = (0, Instant::now());
    loop {
        let done = usize::try_from(commissioned_minor(server, key, partners).await? / each.max(1))?;
        if done >= n || still_since.elapsed() > Duration::from_secs(30) {
            return Ok(done);
        }
        if done != last {
            (last, still_since) = (done, Instant::now());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `strace -c -f` attached to the server; its summary is written when it is interrupted.
fn attach_strace(pid: u32, out: &str) -> Result<Child, Failure> {
    let syscalls = std::env::var("PH_BENCH_SYSCALLS").unwrap_or_else(|_| "fsync,fdatasync".into());
    let child = Command::new("strace")
        .args([
            "-c",
            "-f",
            "-e",
            &format!("trace={syscalls}"),
            "-o",
            out,
            "-p",
        ])
        .arg(pid.to_string())
        .stderr(Stdio::null())
        .spawn()?;
    // strace attaches to each thread before it counts; give it a moment.
    std::thread::sleep(Duration::from_millis(500));
    Ok(child)
}

fn detach_strace(mut strace: Child, out: &str) -> Result<(), Failure> {
    Command::new("kill")
        .args(["-INT", &strace.id().to_string()])
        .status()?;
    strace.wait()?;
    println!("strace -c -f (webhooks and their commissions):");
    print!("{}", std::fs::read_to_string(out)?);
    Ok(())
}

/// The server's user and system CPU so far, in seconds (Linux; None elsewhere).
fn server_cpu(pid: u32) -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which ends at the last ')'; utime and stime are 14 and 15.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<f64>().ok();
    // The kernel's clock ticks are 100 a second on every common Linux configuration.
    Some((ticks(11)? / 100.0, ticks(12)? / 100.0))
}

fn data_folder() -> PathBuf {
    let parent = std::env::var("PH_BENCH_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_TARGET_TMPDIR")));
    parent.join(format!("serve-bench-{}", std::process::id()))
}

async fn run() -> Result<(), Failure> {
    let n = setting("PH_BENCH_WEBHOOKS", 20_000);
    let connections = setting("PH_BENCH_CONNECTIONS", 16);
    let partners = setting("PH_BENCH_PARTNERS", 50);
    let data = data_folder();
    let (key, secret) = create_program(&data)?;
    let server = start_server(&data).await?;
    create_partners(&server, &key, partners).await?;
    let webhooks = Arc::new(signed_webhooks(&secret, n, partners)?);
    println!(
        "serve bench: {n} custom webhooks, {connections} keep-alive connections, \
         {partners} partners, data in {}",
        data.display()
    );
    let strace_out = std::env::var("PH_BENCH_STRACE").ok();
    let strace = match &strace_out {
        Some(out) => Some(attach_strace(server.child.id(), out)?),
        None => None,
    };

    let cpu_before = server_cpu(server.child.id());
    let url = format!("{}/webhooks/bench/custom", server.base);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..connections)
        .map(|_| tokio::spawn(connection(url.clone(), webhooks.clone(), next.clone())))
        .collect();
    let mut tally = Tally::default();
    for task in tasks {
        let part = task.await??;
        tally.latencies.extend(part.latencies);
        tally.failures.extend(part.failures);
    }
    let elapsed = started.elapsed();
    tally.latencies.sort();
    let lat = &tally.latencies;
    println!(
        "webhooks: {:.0} req/s ({n} in {:.2} s), p50 {}, p90 {}, p99 {}, max {}, failures {}",
        n as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64(),
        ms(percentile(lat, 0.50)),
        ms(percentile(lat, 0.90)),
        ms(percentile(lat, 0.99)),
        ms(lat.last().copied().unwrap_or_default()),
        tally.failures.len()
    );
    for failure in tally.failures.iter().take(10) {
        println!("  {failure}");
    }

    let done = wait_for_commissions(&server, &key, partners, n).await?;
    let total = started.elapsed();
    println!(
        "commissions: {done}/{n} sales rewarded {:.2} s after the first webhook \
         ({:.0} sales/s end to end, {:.2} s after the last answer)",
        total.as_secs_f64(),
        done as f64 / total.as_secs_f64(),
        (total - elapsed).as_secs_f64()
    );
    if let (Some((user0, sys0)), Some((user1, sys1))) = (cpu_before, server_cpu(server.child.id()))
    {
        let per = |s: f64| format!("{:.3} ms", s * 1e3 / n as f64);
        println!(
            "server CPU per sale (webhook and commission): {} (user {}, system {})",
            per(user1 - user0 + sys1 - sys0),
            per(user1 - user0),
            per(sys1 - sys0)
        );
    }
    if let (Some(strace), Some(out)) = (strace, &strace_out) {
        detach_strace(strace, out)?;
    }
    drop(server);
    std::fs::remove_dir_all(&data).ok();
    if !tally.failures.is_empty() || done < n {
        return Err(format!(
            "{} webhooks failed, {} of {n} sales were not commissioned",
            tally.failures.len(),
            n - done.min(n)
        )
        .into());
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("serve bench: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("serve bench failed: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
