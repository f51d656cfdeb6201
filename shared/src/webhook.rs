//! The ingest path every webhook function shares: find the program, read the body under a cap,
//! hand it to the source's verify-parse-apply step, keep an inbox entry with the verdict, log
//! one line, answer.

use crate::app::App;
use crate::domain::{now_millis, Program};
use crate::error::AppError;
use crate::inbox::{expiry_for, keep_body, InboxEntry, Verdict};
use crate::ledger::Outcome;
use axum::body::Body;
use axum::body::Bytes;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::future::BoxFuture;
use serde_json::json;
use std::future::Future;
use std::time::Instant;

/// Webhook bodies above this size are refused with 413 (API Gateway allows 10 MB; no
/// provider event comes near this).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// What a source did with an authentic, well-formed webhook.
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    pub outcome: Outcome,
    pub transaction_key: Option<String>,
    /// Why it was ignored, skipped or kept waiting, for the inbox and the sender.
    pub reason: Option<String>,
    /// More for the sender (a test URL's field paths), merged into the answer.
    pub details: Option<serde_json::Value>,
}

/// A source's own step: verify, parse and apply the body for the program.
pub type SourceStep = for<'a> fn(
    &'a App,
    &'a Program,
    &'a HeaderMap,
    &'a [u8],
) -> BoxFuture<'a, Result<Accepted, AppError>>;

/// The media type of the body, without parameters, lowercased.
pub fn media_type(headers: &HeaderMap) -> String {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Refuses bodies whose declared content type is not one of `accepted`.
pub fn require_media_type(headers: &HeaderMap, accepted: &[&str]) -> Result<String, AppError> {
    let media_type = media_type(headers);
    if accepted.contains(&media_type.as_str()) {
        Ok(media_type)
    } else {
        Err(AppError::UnsupportedMediaType {
            given: media_type,
            expected: accepted.join(" or "),
        })
    }
}

/// Refuses bodies that are not JSON, by their declared content type.
pub fn require_json(headers: &HeaderMap) -> Result<(), AppError> {
    require_media_type(headers, &["application/json"]).map(|_| ())
}

pub async fn ingest(
    app: &App,
    source: &'static str,
    slug: &str,
    headers: &HeaderMap,
    body: Body,
    step: SourceStep,
) -> Response {
    let started = Instant::now();
    let program = match app.repo.get_program(slug).await {
        Ok(Some(program)) => program.value,
        Ok(None) => {
            // No program owns an inbox for this: the log is the record.
            let error = AppError::UnknownProgram(slug.to_string());
            log_line(slug, source, "rejected", error.code(), started);
            return error.into_response();
        }
        Err(e) => return AppError::from(e).into_response(),
    };
    let program = &program;
    receive(
        app,
        source,
        program,
        headers,
        body,
        started,
        move |bytes| async move { step(app, program, headers, &bytes).await },
    )
    .await
}

/// The part of the ingest path after the program is known: read the body under the cap, run
/// the step, keep the inbox entry, log, answer.
pub async fn receive<F, Fut>(
    app: &App,
    source: &str,
    program: &Program,
    headers: &HeaderMap,
    body: Body,
    started: Instant,
    step: F,
) -> Response
where
    F: FnOnce(Bytes) -> Fut,
    Fut: Future<Output = Result<Accepted, AppError>>,
{
    let (bytes, result) = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => {
            let result = step(bytes.clone()).await;
            (bytes, result)
        }
        Err(_) => (
            Bytes::new(),
            Err(AppError::PayloadTooLarge {
                limit: MAX_BODY_BYTES,
            }),
        ),
    };

    let received_at = now_millis();
    let (kept, body_encoding, body_truncated) = keep_body(&bytes);
    let mut entry = InboxEntry {
        id: uuid::Uuid::now_v7().to_string(),
        source: source.to_string(),
        received_at,
        verdict: Verdict::Rejected,
        outcome: String::new(),
        http_status: 200,
        reason: None,
        transaction_key: None,
        content_type: headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        body: kept,
        body_encoding,
        body_truncated,
        expires_at: expiry_for(received_at),
    };
    match &result {
        Ok(accepted) => {
            entry.verdict = Verdict::of(accepted.outcome);
            entry.outcome = accepted.outcome.as_str().to_string();
            entry.transaction_key = accepted.transaction_key.clone();
            entry.reason = accepted.reason.clone();
        }
        Err(error) => {
            entry.outcome = error.code().to_string();
            entry.http_status = error.status().as_u16();
            entry.reason = Some(error.public_message());
        }
    }
    // The inbox is diagnostic: failing to keep it must not turn an applied webhook into an error.
    if let Err(e) = app.repo.insert(&program.slug, &entry).await {
        tracing::error!(program = %program.slug, error = %e, "could not keep the inbox entry");
    }
    log_line(
        &program.slug,
        source,
        entry.verdict.as_str(),
        &entry.outcome,
        started,
    );

    match result {
        Ok(accepted) => {
            let mut answer = json!({
                "status": accepted.outcome.as_str(),
                "transaction_key": accepted.transaction_key,
                "reason": accepted.reason,
                "event_id": entry.id,
            });
            if let (Some(answer), Some(serde_json::Value::Object(details))) =
                (answer.as_object_mut(), accepted.details)
            {
                answer.extend(details);
            }
            (StatusCode::OK, axum::Json(answer)).into_response()
        }
        Err(error) => {
            let mut response = error.into_response();
            if let Ok(value) = entry.id.parse() {
                response
                    .headers_mut()
                    .insert("x-partnerhook-event-id", value);
            }
            response
        }
    }
}

fn log_line(program: &str, source: &str, verdict: &str, outcome: &str, started: Instant) {
    tracing::info!(
        program,
        source,
        verdict,
        outcome,
        latency_ms = started.elapsed().as_secs_f64() * 1000.0,
        "webhook"
    );
}
