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
        let answer = send(&client, &url, &query, args.key, body).await?;
        totals.add(&answer);
        progress.show(&totals, first_row, chunk.len());
    }
    progress.finish();
    totals.print(args.dry_run);
    Ok(totals.failed == 0)
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
            tokio::time::sleep(Duration::from_secs(1 << attempt)).await;
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
                last = e.to_string();
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
        if !status.is_server_error() {
            return Err(last);
        }
    }
    Err(format!("gave up after {TRIES} tries: {last}"))
}

impl Totals {
    fn add(&mut self, answer: &Value) {
        let count = |name: &str| answer[name].as_u64().unwrap_or(0) as usize;
        self.done += count("rows");
        self.created += count("created");
        self.skipped += count("skipped");
        self.failed += count("failed");
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

    fn show(&self, totals: &Totals, first_row: usize, rows: usize) {
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
            let last = first_row + rows.saturating_sub(1);
            let _ = writeln!(
                err,
                "rows {first_row}-{last} sent: {}/{} rows done, {rate:.0} rows/s",
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
}
