//! `partnerhook import transactions` against a live `partnerhook serve`, both the real binary
//! (here, in the CLI's own package, because only its tests are given the binary's path): the
//! plain progress lines and the summary, the transactions read back through the API, a dry run
//! that writes nothing, a re-run that creates nothing, and clear failures for bad rows, a bad
//! key and an unreachable URL.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_partnerhook");
const ROWS: usize = 1_100;
const CUSTOMERS: usize = 10;

/// A `partnerhook serve` on a fresh data folder with program `shop`; stopped when dropped.
struct Server {
    child: Child,
    base: String,
    key: String,
    data: PathBuf,
    client: reqwest::Client,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::fs::remove_dir_all(&self.data).ok();
    }
}

fn fresh_dir(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_nanos();
    std::env::temp_dir().join(format!("ph-cli-{name}-{}-{nanos}", std::process::id()))
}

fn start(name: &str) -> Server {
    let data = fresh_dir(name);
    let created = Command::new(BIN)
        .args([
            "program",
            "create",
            "--slug",
            "shop",
            "--currency",
            "USD",
            "--data",
        ])
        .arg(&data)
        .output()
        .expect("run partnerhook program create");
    assert!(created.status.success(), "{created:?}");
    let program: Value = serde_json::from_slice(&created.stdout).expect("the program as JSON");
    let mut child = Command::new(BIN)
        .args(["serve", "--addr", "127.0.0.1:0", "--data"])
        .arg(&data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start partnerhook serve");
    // The banner's first line names the port; the rest of its output is read and dropped so
    // that the server never writes into a closed pipe.
    let stdout = child.stdout.take().expect("the server's stdout");
    let (first_line, line) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        if let Some(Ok(line)) = lines.next() {
            let _ = first_line.send(line);
        }
        lines.for_each(drop);
    });
    let banner = line
        .recv_timeout(Duration::from_secs(60))
        .expect("the server's banner");
    let base = banner
        .split_whitespace()
        .find(|word| word.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {banner:?}"))
        .to_string();
    let tls = partnerhook::outbound::client::tls_config().expect("TLS config");
    let client = reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .build()
        .expect("an HTTP client");
    Server {
        child,
        base,
        key: program["admin_key"].as_str().expect("admin_key").into(),
        data,
        client,
    }
}

impl Server {
    async fn api(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.key);
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("a body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Partner `pat` and its customers `cus_0` … `cus_9`, through the API.
    async fn customers(&self) {
        let partner = json!({"email": "pat@example.com", "name": "Pat", "key": "pat"});
        let (status, answer) = self.api("POST", "/v1/partners", Some(partner)).await;
        assert_eq!(status, 201, "{answer}");
        for n in 0..CUSTOMERS {
            let body = json!({
                "email": format!("cus_{n}@example.com"), "name": format!("Customer {n}"),
                "key": format!("cus_{n}"), "partner_key": "pat",
            });
            let (status, answer) = self.api("POST", "/v1/customers", Some(body)).await;
            assert_eq!(status, 201, "{answer}");
        }
    }

    /// Every transaction of the customers, through the API's pages.
    async fn transactions(&self) -> Vec<Value> {
        let mut all = Vec::new();
        for n in 0..CUSTOMERS {
            let mut cursor = String::new();
            loop {
                let path = format!("/v1/customers/cus_{n}/transactions?limit=200{cursor}");
                let (status, page) = self.api("GET", &path, None).await;
                assert_eq!(status, 200, "{page}");
                all.extend(page["data"].as_array().cloned().unwrap_or_default());
                match page["next_cursor"].as_str() {
                    Some(next) => cursor = format!("&cursor={next}"),
                    None => break,
                }
            }
        }
        all
    }

    fn import(&self, file: &Path, extra: &[&str]) -> Output {
        import(file, &self.base, &self.key, extra)
    }
}

fn import(file: &Path, api: &str, key: &str, extra: &[&str]) -> Output {
    Command::new(BIN)
        .args(["import", "transactions"])
        .arg(file)
        .args(["--api", api, "--key", key])
        .args(extra)
        .env_remove("PARTNERHOOK_API")
        .env_remove("PARTNERHOOK_ADMIN_KEY")
        .output()
        .expect("run partnerhook import transactions")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `ROWS` rows over the customers; even rows have a `key`, odd ones get derived keys; every
/// 100th row has a note with a separator and a line break in quotes (an ignored column).
fn write_file(dir: &Path) -> PathBuf {
    let mut csv = String::from("customer_key,amount,currency,key,note\n");
    for i in 0..ROWS {
        let key = if i % 2 == 0 {
            format!("inv_{i}")
        } else {
            String::new()
        };
        let note = if i % 100 == 0 { "\"a, b\nc\"" } else { "" };
        csv.push_str(&format!(
            "cus_{},{},USD,{key},{note}\n",
            i % CUSTOMERS,
            100 + i
        ));
    }
    std::fs::create_dir_all(dir).expect("a folder for the file");
    let path = dir.join("transactions.csv");
    std::fs::write(&path, csv).expect("write the file");
    path
}

/// The plain progress lines (stderr is not a terminal here): one per chunk of 500 rows.
fn assert_progress(stderr: &str) {
    let lines: Vec<&str> = stderr.lines().collect();
    let wanted = [
        "rows 2-501 sent: 500/1100 rows done, ",
        "rows 502-1001 sent: 1000/1100 rows done, ",
        "rows 1002-1101 sent: 1100/1100 rows done, ",
    ];
    assert_eq!(lines.len(), wanted.len(), "{stderr}");
    for (line, start) in lines.iter().zip(wanted) {
        assert!(line.starts_with(start), "{line:?} is not {start:?}…");
        assert!(line.ends_with(" rows/s"), "{line:?}");
    }
}

fn summary(stdout: &str) -> &str {
    stdout.lines().last().unwrap_or_default()
}

#[tokio::test]
async fn a_file_is_imported_in_chunks_checked_first_and_resumed_safely() {
    let server = start("file");
    server.customers().await;
    let file = write_file(&server.data.join("in"));

    let dry = server.import(&file, &["--dry-run"]);
    let (stdout, stderr) = (text(&dry.stdout), text(&dry.stderr));
    assert!(dry.status.success(), "{stdout}\n{stderr}");
    assert_eq!(
        summary(&stdout),
        "1100 rows: 1100 would be created, 0 skipped (imported before), 0 failed"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("warning: ") && l.contains("note")),
        "the ignored column is named once: {stdout}"
    );
    assert_progress(&stderr);
    assert!(
        server.transactions().await.is_empty(),
        "a dry run writes nothing"
    );
    assert_eq!(
        server.api("GET", "/v1/transactions/inv_0", None).await.0,
        404
    );

    let first = server.import(&file, &[]);
    let (stdout, stderr) = (text(&first.stdout), text(&first.stderr));
    assert!(first.status.success(), "{stdout}\n{stderr}");
    assert_eq!(
        summary(&stdout),
        "1100 rows: 1100 created, 0 skipped (imported before), 0 failed"
    );
    assert_progress(&stderr);
    let (status, tx) = server.api("GET", "/v1/transactions/inv_1098", None).await;
    assert_eq!(status, 200, "{tx}");
    assert_eq!(
        (tx["amount"].clone(), tx["customer_key"].clone()),
        (json!(1198), json!("cus_8"))
    );
    let stored = server.transactions().await;
    assert_eq!(stored.len(), ROWS, "one transaction per row");
    let derived = stored
        .iter()
        .filter(|tx| tx["key"].as_str().is_some_and(|k| k.starts_with("imp_")));
    assert_eq!(
        derived.count(),
        ROWS / 2,
        "rows without a key get derived keys"
    );

    let again = server.import(&file, &[]);
    let (stdout, stderr) = (text(&again.stdout), text(&again.stderr));
    assert!(again.status.success(), "{stdout}\n{stderr}");
    assert_eq!(
        summary(&stdout),
        "1100 rows: 0 created, 1100 skipped (imported before), 0 failed"
    );
    assert_progress(&stderr);
    assert_eq!(
        server.transactions().await.len(),
        ROWS,
        "the re-run created nothing"
    );
}

#[tokio::test]
async fn bad_rows_a_bad_key_and_an_unreachable_api_fail_clearly() {
    let server = start("fail");
    server.customers().await;
    let dir = server.data.join("in");
    std::fs::create_dir_all(&dir).expect("a folder");
    let file = dir.join("mixed.csv");
    std::fs::write(
        &file,
        "customer_key;amount;key\ncus_1;500;ok_1\ncus_x;700;bad_1\n",
    )
    .expect("write the file");

    let mixed = server.import(&file, &[]);
    let (stdout, stderr) = (text(&mixed.stdout), text(&mixed.stderr));
    assert_eq!(mixed.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("failed: row 3 (key bad_1): unknown_customer: "),
        "{stdout}"
    );
    assert_eq!(
        summary(&stdout),
        "2 rows: 1 created, 0 skipped (imported before), 1 failed"
    );
    assert!(
        stderr.ends_with("partnerhook: some rows failed (listed above)\n"),
        "{stderr}"
    );
    assert_eq!(
        server.api("GET", "/v1/transactions/ok_1", None).await.0,
        200,
        "a bad row stops no other"
    );

    let refused = import(&file, &server.base, "phk_not_a_key", &[]);
    let (stdout, stderr) = (text(&refused.stdout), text(&refused.stderr));
    assert_eq!(refused.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.starts_with("partnerhook: rows 2-3: 401 Unauthorized: "),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");

    // A port nothing listens on: tried again with backoff (a few seconds), then given up.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let unreachable = import(&file, &format!("http://127.0.0.1:{port}"), &server.key, &[]);
    let (stdout, stderr) = (text(&unreachable.stdout), text(&unreachable.stderr));
    assert_eq!(unreachable.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.starts_with("partnerhook: rows 2-3: gave up after 4 tries: "),
        "{stderr}"
    );
    assert!(
        stderr.to_lowercase().contains("connection refused"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}
