//! The ingest path every webhook function shares: find the program (or the incoming webhook),
//! read the body under a cap, hand it to the source's verify-parse-apply step, keep an inbox
//! entry with the verdict, log one line, answer. Requests refused before their sender was
//! verified draw on the program's allowance ([`crate::domain::throttle`]): a small entry while
//! it lasts, then a 429 that writes nothing.

use crate::app::App;
use crate::domain::hook::token_matches;
use crate::domain::inbox::{
    expiry_for, keep_body, kept_content_type, InboxEntry, RequestSummary, Verdict, KEPT_BODY_BYTES,
    RETENTION_DAYS, UNVERIFIED_BODY_BYTES, UNVERIFIED_RETENTION_DAYS,
};
use crate::domain::program::Program;
use crate::error::AppError;
use crate::repo::throttle::Allowance;
use crate::sources::incoming::actions::apply;
use crate::sources::incoming::{capture_sample, SOURCE as INCOMING, TEST_SOURCE as INCOMING_TEST};
use crate::sources::step::{step, Accepted, Source};
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::future::Future;
use std::time::Instant;

/// Webhook bodies above this size are refused with 413 (API Gateway allows 10 MB; no
/// provider event comes near this).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

async fn program_named(app: &App, slug: &str) -> Result<Program, AppError> {
    app.repo
        .get_program(slug)
        .await?
        .map(|found| found.value)
        .ok_or_else(|| AppError::UnknownProgram(slug.to_string()))
}

/// `POST /webhooks/{program}/{S::NAME}`: the ingest path of a signed source.
pub async fn source_webhook<S: Source>(
    State(app): State<App>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    let source = S::NAME;
    let (app, headers, slug) = (&app, &headers, slug.as_str());
    let program = match program_named(app, slug).await {
        Ok(program) => program,
        Err(error) => {
            // No program owns an inbox for this: the log is the record.
            log_line(slug, source, "rejected", error.code(), started);
            return error.into_response();
        }
    };
    let program = &program;
    receive(
        app,
        Received {
            source,
            hook: None,
            started,
        },
        program,
        headers,
        body,
        move |bytes| async move { step::<S>(app, program, headers, &bytes).await },
    )
    .await
}

/// `POST /hooks/{id}/{token}[/test]`: finds the webhook by id and token, then runs the shared
/// ingest path with the test step (keep a sample) or the production step (apply the mapping).
async fn incoming_webhook(
    app: &App,
    id: &str,
    token: &str,
    test: bool,
    headers: &HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    let source = if test { INCOMING_TEST } else { INCOMING };
    let hook = match app.repo.get_hook(id).await {
        Ok(Some(hook)) if token_matches(&hook.value, token) => hook.value,
        // A wrong token answers like a missing webhook: the URL is the credential.
        Ok(_) => {
            tracing::info!(
                hook = id,
                source,
                verdict = "rejected",
                "incoming webhook not found"
            );
            return AppError::NotFound(
                "no incoming webhook has this URL (was its token rotated?)".into(),
            )
            .into_response();
        }
        Err(e) => return AppError::from(e).into_response(),
    };
    let program = match program_named(app, &hook.program).await {
        Ok(program) => program,
        Err(error) => return error.into_response(),
    };
    let (program, hook) = (&program, &hook);
    receive(
        app,
        Received {
            source,
            hook: Some(&hook.id),
            started,
        },
        program,
        headers,
        body,
        move |bytes| async move {
            if test {
                capture_sample(app, hook, headers, &bytes).await
            } else {
                apply(app, program, hook, headers, &bytes).await
            }
        },
    )
    .await
}

#[utoipa::path(
    post,
    path = "/hooks/{id}/{token}",
    tag = "ingest",
    summary = "Receive an incoming webhook (any JSON body)",
    security(()),
    params(("id" = String, Path, description = "The incoming webhook's id"), ("token" = String, Path, description = "The webhook's secret token (from its URL)")),
    request_body = Object,
    responses(
        (status = 200, description = "Accepted (or a repeat)"),
    )
)]
pub async fn incoming_production(
    State(app): State<App>,
    Path((id, token)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    incoming_webhook(&app, &id, &token, false, &headers, body).await
}

#[utoipa::path(
    post,
    path = "/hooks/{id}/{token}/test",
    tag = "ingest",
    summary = "Capture a sample for mapping (any JSON body)",
    security(()),
    params(("id" = String, Path, description = "The incoming webhook's id"), ("token" = String, Path, description = "The webhook's secret token (from its URL)")),
    request_body = Object,
    responses(
        (status = 200, description = "Sample kept"),
    )
)]
pub async fn incoming_test(
    State(app): State<App>,
    Path((id, token)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    incoming_webhook(&app, &id, &token, true, &headers, body).await
}

/// Where a request came in: its source, the incoming webhook whose URL it used, when.
pub struct Received<'a> {
    pub source: &'a str,
    pub hook: Option<&'a str>,
    pub started: Instant,
}

/// The part of the ingest path after the program is known: read the body under the cap, run
/// the step, keep the inbox entry (a small one, within the program's allowance, when the
/// sender was not verified), log, answer.
async fn receive<F, Fut>(
    app: &App,
    received: Received<'_>,
    program: &Program,
    headers: &HeaderMap,
    body: Body,
    step: F,
) -> Response
where
    F: FnOnce(Bytes) -> Fut,
    Fut: Future<Output = Result<Accepted, AppError>>,
{
    let (bytes, result) = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => {
            let result = step(bytes.clone()).await;
            (Some(bytes), result)
        }
        Err(_) => (
            None,
            Err(AppError::PayloadTooLarge {
                limit: MAX_BODY_BYTES,
            }),
        ),
    };

    let unverified = matches!(&result, Err(error) if error.unverified_sender());
    if unverified {
        if let Err(throttled) = take_refusal(app, &program.slug).await {
            log_line(
                &program.slug,
                received.source,
                "throttled",
                throttled.code(),
                received.started,
            );
            return throttled.into_response();
        }
    }
    let entry = inbox_entry(app, &received, headers, bytes.as_deref(), unverified);
    answer(app, program, entry, result, received.started).await
}

/// Keeps the inbox entry with the step's verdict, logs one line and answers: what a webhook
/// and its replay share.
pub async fn answer(
    app: &App,
    program: &Program,
    mut entry: InboxEntry,
    result: Result<Accepted, AppError>,
    started: Instant,
) -> Response {
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
        &entry.source,
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

/// Takes a token of the program's allowance of unverified requests: `Throttled` (nothing
/// written) once it is empty. When the allowance cannot be read or written, the refusal is
/// recorded anyway: the request is refused either way, and a passing outage is no flood.
async fn take_refusal(app: &App, program: &str) -> Result<(), AppError> {
    match app.repo.take_refusal(program).await {
        Ok(Allowance::Taken) => Ok(()),
        Ok(Allowance::Empty { retry_after_ms }) => Err(AppError::Throttled {
            retry_after_seconds: u64::try_from(retry_after_ms)
                .map_or(1, |ms| ms.div_ceil(1000).max(1)),
        }),
        Err(e) => {
            tracing::error!(program, error = %e, "could not take from the allowance of refusals");
            Ok(())
        }
    }
}

/// A new inbox entry (verdict and outcome to be filled in) with the body as received, or,
/// for an unverified sender, its first kilobyte and a summary of the request, kept a week.
/// `body` is `None` when it was over the cap and not read.
pub fn inbox_entry(
    app: &App,
    received: &Received<'_>,
    headers: &HeaderMap,
    body: Option<&[u8]>,
    unverified: bool,
) -> InboxEntry {
    let (cap, days) = if unverified {
        (UNVERIFIED_BODY_BYTES, UNVERIFIED_RETENTION_DAYS)
    } else {
        (KEPT_BODY_BYTES, RETENTION_DAYS)
    };
    let received_at = app.now();
    let (kept, body_encoding, body_truncated) = keep_body(body.unwrap_or_default(), cap);
    let request = unverified.then(|| {
        let headers = headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_bytes()));
        RequestSummary::of(headers, body)
    });
    InboxEntry {
        id: uuid::Uuid::now_v7().to_string(),
        source: received.source.to_string(),
        received_at,
        verdict: Verdict::Rejected,
        outcome: String::new(),
        http_status: 200,
        reason: None,
        transaction_key: None,
        content_type: headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(kept_content_type),
        body: kept,
        body_encoding,
        body_truncated,
        expires_at: expiry_for(received_at, days),
        request,
        hook: received.hook.map(str::to_string),
        replay_of: None,
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
