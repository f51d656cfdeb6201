//! `partnerhook import transactions FILE.csv`: sends a CSV file to `POST
//! /v1/imports/transactions` in chunks of [`CHUNK_ROWS`] rows, each with the header and its
//! first row number, so the server names and keys each row as in the whole file. Re-running
//! is how to resume: what was imported before is skipped by those keys.

use partnerhook::domain::csv_import::delimiter;
use serde_json::Value;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::{Duration, Instant};

/// Rows per request: small enough for API Gateway's 30 s and the 5 MiB body.
const CHUNK_ROWS: usize = 500;
/// Tries of a chunk that failed in passing (a 5xx or no answer) before giving up.
const TRIES: u32 = 4;

pub struct ImportArgs<'a> {
    pub file: &'a Path,
    pub api: &'a str,
    pub key: &'a str,
    pub dry_run: bool,
}

/// What the chunks' answers add up to.
#[derive(Default)]
struct Totals {
    done: usize,
    created: usize,
    skipped: usize,
    failed: usize,
    warnings: Vec<String>,
    failures: Vec<String>,
}

/// Imports the file; `Ok(true)` when every row was created or skipped.
pub async fn import_transactions(args: ImportArgs<'_>) -> Result<bool, String> {
    let bytes = std::fs::read(args.file).map_err(|e| format!("{}: {e}", args.file.display()))?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let text = std::str::from_utf8(bytes).map_err(|_| "the file is not UTF-8 text")?;
    let separator = delimiter(text);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(separator)
        .flexible(true)
        .from_reader(text.as_bytes());
    let header = reader.headers().map_err(|e| e.to_string())?.clone();
    let records = reader
        .records()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("the file is not CSV: {e}"))?;
    let client = client()?;
    let url = format!("{}/v1/imports/transactions", args.api.trim_end_matches('/'));
    let progress = Progress::new(records.len());
    let mut totals = Totals::default();
    for (index, chunk) in records.chunks(CHUNK_ROWS).enumerate() {
        let first_row = 2 + index * CHUNK_ROWS;
        let body = chunk_body(separator, &header, chunk)?;
        let mut query = vec![("first_row", first_row.to_string())];
        if args.dry_run {
            query.push(("dry_run", "true".into()));
        }
        let last_row = first_row + chunk.len() - 1;
        send(&client, &url, &query, args.key, body)
            .await
            .and_then(|answer| totals.add(&answer, chunk.len()))
            .map_err(|e| {
                // A bar on a terminal ends its line before the message.
                progress.finish();
                stopped_at(first_row, last_row, args.dry_run, &e)
            })?;
        progress.show(&totals, first_row, last_row);
    }
    progress.finish();
    totals.print(args.dry_run);
    Ok(totals.failed == 0)
}

/// Why the import stopped at rows `first`-`last`, and how to go on.
fn stopped_at(first: usize, last: usize, dry_run: bool, error: &str) -> String {
    let mut message = format!("rows {first}-{last}: {error}");
    if first > 2 && !dry_run {
        message.push_str(&format!(
            "\nrows 2-{} were sent; run the same command again to resume (rows imported before are skipped)",
            first - 1
        ));
    }
    message
}

fn chunk_body(
    separator: u8,
    header: &csv::StringRecord,
    rows: &[csv::StringRecord],
) -> Result<Vec<u8>, String> {
    let mut writer = csv::WriterBuilder::new()
        .delimiter(separator)
        .flexible(true)
        .from_writer(Vec::new());
    for record in std::iter::once(header).chain(rows) {
        writer.write_record(record).map_err(|e| e.to_string())?;
    }
    writer.into_inner().map_err(|e| e.to_string())
}

fn client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .use_preconfigured_tls(partnerhook::outbound::client::tls_config()?)
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| e.to_string())
}

/// An error with its causes: reqwest's own text names only the request, its source says why
/// ("Connection refused", a DNS or TLS failure).
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        let said = e.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        cause = e.source();
    }
    text
}

/// Whether a refusal may pass: throttling (API Gateway's 429) or a server error (a 503 of a
/// conflict, a 502/504 of a Lambda that ran out of time).
fn passing(status: reqwest::StatusCode) -> bool {
    status == reqwest::StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

/// One chunk's answer; a passing failure is tried again (the chunk is repeat-safe), a refusal
/// stops the import with the server's words.
async fn send(
    client: &reqwest::Client,
    url: &str,
    query: &[(&str, String)],
    key: &str,
    body: Vec<u8>,
) -> Result<Value, String> {
    let mut last = String::new();
    for attempt in 0..TRIES {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_secs(1 << (attempt - 1))).await;
        }
        let response = client
            .post(url)
            .query(query)
            .bearer_auth(key)
            .header("content-type", "text/csv")
            .body(body.clone())
            .send()
            .await;
        let response = match response {
            Ok(response) => response,
            Err(e) => {
                last = with_causes(&e);
                continue;
            }
        };
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let answer: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        if status.is_success() {
            return Ok(answer);
        }
        let said = answer["error"]["message"].as_str().unwrap_or("no message");
        last = format!("{status}: {said}");
        if !passing(status) {
            return Err(last);
        }
    }
    Err(format!("gave up after {TRIES} tries: {last}"))
}

impl Totals {
    /// Adds the answer to a chunk of `rows` rows; an answer that is not an import of them (a
    /// wrong `--api` URL that answers 200) stops the import rather than count nothing.
    fn add(&mut self, answer: &Value, rows: usize) -> Result<(), String> {
        let count = |name: &str| answer[name].as_u64().map(|n| n as usize);
        let (Some(done), Some(created), Some(skipped), Some(failed)) = (
            count("rows"),
            count("created"),
            count("skipped"),
            count("failed"),
        ) else {
            let said: String = answer.to_string().chars().take(200).collect();
            return Err(format!(
                "the answer is not an import's; is --api the API's base URL? It said: {said}"
            ));
        };
        if done != rows || created + skipped + failed != rows {
            return Err(format!(
                "the server counted {done} rows ({created} created, {skipped} skipped, {failed} failed) of the {rows} sent"
            ));
        }
        self.done += done;
        self.created += created;
        self.skipped += skipped;
        self.failed += failed;
        for warning in answer["warnings"].as_array().into_iter().flatten() {
            let warning = warning.as_str().unwrap_or("").to_string();
            if !self.warnings.contains(&warning) {
                self.warnings.push(warning);
            }
        }
        let results = answer["results"].as_array().into_iter().flatten();
        for failed in results.filter(|r| r["status"] == "failed") {
            let error = &failed["error"];
            self.failures.push(format!(
                "row {} (key {}): {}: {}",
                failed["row"],
                failed["key"].as_str().unwrap_or("-"),
                error["code"].as_str().unwrap_or("error"),
                error["message"].as_str().unwrap_or(""),
            ));
        }
        Ok(())
    }

    fn print(&self, dry_run: bool) {
        for warning in &self.warnings {
            println!("warning: {warning}");
        }
        for failure in &self.failures {
            println!("failed: {failure}");
        }
        let verb = if dry_run {
            "would be created"
        } else {
            "created"
        };
        println!(
            "{} rows: {} {verb}, {} skipped (imported before), {} failed",
            self.done, self.created, self.skipped, self.failed
        );
    }
}

/// Progress on stderr: one updating line on a terminal, a plain line per chunk otherwise.
struct Progress {
    total: usize,
    started: Instant,
    terminal: bool,
}

impl Progress {
    fn new(total: usize) -> Self {
        Self {
            total,
            started: Instant::now(),
            terminal: std::io::stderr().is_terminal(),
        }
    }

    fn show(&self, totals: &Totals, first_row: usize, last_row: usize) {
        let seconds = self.started.elapsed().as_secs_f64().max(0.001);
        let rate = totals.done as f64 / seconds;
        let mut err = std::io::stderr();
        if self.terminal {
            let width = 30;
            let filled = (totals.done * width)
                .checked_div(self.total)
                .unwrap_or(width)
                .min(width);
            let bar = format!("{}{}", "#".repeat(filled), "-".repeat(width - filled));
            let _ = write!(
                err,
                "\r[{bar}] {}/{} rows, {rate:.0} rows/s",
                totals.done, self.total
            );
            let _ = err.flush();
        } else {
            let _ = writeln!(
                err,
                "rows {first_row}-{last_row} sent: {}/{} rows done, {rate:.0} rows/s",
                totals.done, self.total
            );
        }
    }

    fn finish(&self) {
        if self.terminal {
            eprintln!();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunk_keeps_quoted_separators_and_line_breaks() {
        let text = "customer_key;amount;note\nc1;100;\"a; b\nc \"\"d\"\"\"\n";
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter(text))
            .from_reader(text.as_bytes());
        let header = reader.headers().unwrap().clone();
        let rows: Vec<_> = reader.records().map(Result::unwrap).collect();
        let body = chunk_body(b';', &header, &rows).unwrap();
        assert_eq!(String::from_utf8(body).unwrap(), text);
    }

    #[test]
    fn an_answer_that_is_not_an_import_of_the_chunk_stops_the_import() {
        let mut totals = Totals::default();
        let html = Value::String("<html>welcome</html>".into());
        let error = totals.add(&html, 3).unwrap_err();
        assert!(error.contains("is --api the API's base URL?"), "{error}");
        assert!(error.contains("welcome"), "{error}");
        let short = serde_json::json!({"rows": 2, "created": 2, "skipped": 0, "failed": 0});
        let error = totals.add(&short, 3).unwrap_err();
        assert!(error.contains("counted 2 rows"), "{error}");
        assert_eq!(totals.done, 0, "nothing of a refused answer is counted");
    }

    #[test]
    fn an_import_answer_adds_its_counts_and_names_its_failures() {
        let mut totals = Totals::default();
        let answer = serde_json::json!({
            "rows": 3, "created": 1, "skipped": 1, "failed": 1, "warnings": ["note is ignored"],
            "results": [
                {"row": 2, "status": "created", "key": "a"},
                {"row": 3, "status": "skipped", "key": "b"},
                {"row": 4, "status": "failed", "key": "c",
                 "error": {"code": "unknown_customer", "message": "no customer cus_9"}},
            ],
        });
        totals.add(&answer, 3).unwrap();
        totals.add(&answer, 3).unwrap();
        assert_eq!(
            (totals.done, totals.created, totals.skipped, totals.failed),
            (6, 2, 2, 2)
        );
        assert_eq!(
            totals.warnings,
            ["note is ignored"],
            "a warning is kept once"
        );
        assert_eq!(
            totals.failures[0],
            "row 4 (key c): unknown_customer: no customer cus_9"
        );
    }

    #[test]
    fn a_stop_after_the_first_chunk_says_how_to_resume() {
        let first = stopped_at(2, 501, false, "401 Unauthorized: bad key");
        assert_eq!(first, "rows 2-501: 401 Unauthorized: bad key");
        let later = stopped_at(502, 1001, false, "gave up");
        assert!(
            later.ends_with("rows 2-501 were sent; run the same command again to resume (rows imported before are skipped)"),
            "{later}"
        );
        assert!(!stopped_at(502, 1001, true, "gave up").contains("resume"));
    }

    #[test]
    fn throttling_and_server_errors_are_tried_again_refusals_are_not() {
        use reqwest::StatusCode;
        for status in [
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::SERVICE_UNAVAILABLE,
        ] {
            assert!(passing(status), "{status}");
        }
        for status in [StatusCode::UNAUTHORIZED, StatusCode::UNPROCESSABLE_ENTITY] {
            assert!(!passing(status), "{status}");
        }
    }

    #[test]
    fn an_error_is_told_with_its_causes() {
        #[derive(Debug)]
        struct Layer(&'static str, Option<Box<Layer>>);
        impl std::fmt::Display for Layer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.0)
            }
        }
        impl std::error::Error for Layer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                self.1.as_deref().map(|e| e as _)
            }
        }
        let refused = Layer("Connection refused (os error 111)", None);
        let connect = Layer("client error (Connect)", Some(Box::new(refused)));
        let top = Layer("error sending request", Some(Box::new(connect)));
        assert_eq!(
            with_causes(&top),
            "error sending request: client error (Connect): Connection refused (os error 111)"
        );
    }
}
