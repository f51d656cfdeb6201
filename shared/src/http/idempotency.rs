//! `Idempotency-Key` on every `POST` of the API: the same key with the same request gets the
//! first answer again, without running anything; the same key with another request is a 409;
//! a request whose first try is still running is a 409 too (retry it). Transient failures
//! (5xx) are not kept, so a retry runs again. Keys live 24 hours, per API key.

use crate::app::App;
use crate::crypto::token::hash_api_key;
use crate::domain::idempotency::{IdempotentRequest, StoredAnswer, LEASE_MS, RETENTION_SECONDS};
use crate::error::AppError;
use crate::http::extract::MAX_API_BODY_BYTES;
use crate::repo::core::Inserted;
use crate::store::StoreError;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

pub const HEADER: &str = "idempotency-key";

/// A handler's word, in its answer's extensions, that a repeat of the request is answered
/// with this status rather than the first one (a create whose contract answers a repeat
/// with 200, not the first 201). The body replayed is the first one all the same.
#[derive(Debug, Clone, Copy)]
pub struct RepeatStatus(pub StatusCode);

/// A handler's word that its answer shows secrets once (an API key, a signing secret), by
/// their top-level fields: the answer kept for replays withholds them, so no secret sits in
/// the table in clear text for the day a key is kept. A replay shows the rest of the answer.
#[derive(Debug, Clone, Copy)]
pub struct ShowsSecrets(pub &'static [&'static str]);

/// What a replay shows in place of a secret.
pub const WITHHELD: &str = "withheld: a secret is shown only in the first answer";

/// Marks an answer as showing the secrets in `fields` (see [`ShowsSecrets`]).
pub fn showing_secrets(mut response: Response, fields: &'static [&'static str]) -> Response {
    response.extensions_mut().insert(ShowsSecrets(fields));
    response
}

/// The `Idempotency-Key` of a request, as given (the middleware has checked its length).
pub fn header_key(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .map(|k| k.trim().to_string())
        .filter(|k| !k.is_empty())
}

fn digest(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    hex::encode(hasher.finalize())
}

/// What to do with a request, given what its key has seen.
enum Claim {
    Run(IdempotentRequest),
    Replay(StoredAnswer),
}

pub async fn idempotent(State(app): State<App>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let key = match request.headers().get(HEADER) {
        None => return next.run(request).await,
        Some(value) => match value.to_str().map(str::trim) {
            Ok(key) if (1..=255).contains(&key.len()) => key.to_string(),
            _ => {
                return AppError::invalid(HEADER, "must be 1 to 255 visible characters")
                    .into_response()
            }
        },
    };
    // Without credentials the request is refused anyway; nothing to remember.
    let Some(credential) = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(hash_api_key)
    else {
        return next.run(request).await;
    };
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_API_BODY_BYTES).await else {
        return AppError::PayloadTooLarge {
            limit: MAX_API_BODY_BYTES,
        }
        .into_response();
    };
    let target = parts.uri.path_and_query().map_or("", |p| p.as_str());
    let fingerprint = digest(&[parts.method.as_str().as_bytes(), target.as_bytes(), &bytes]);
    let id = digest(&[credential.as_bytes(), key.as_bytes()]);
    let claimed = match claim(&app, &id, &fingerprint).await {
        Ok(claim) => claim,
        Err(e) => return e.into_response(),
    };
    let record = match claimed {
        Claim::Replay(answer) => return replay(answer),
        Claim::Run(record) => record,
    };
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let (head, body) = response.into_parts();
    let Ok(body) = axum::body::to_bytes(body, usize::MAX).await else {
        return AppError::Internal("the answer could not be read".into()).into_response();
    };
    let kept_status = match head.extensions.get::<RepeatStatus>() {
        Some(RepeatStatus(repeat)) if !head.status.is_server_error() => *repeat,
        _ => head.status,
    };
    let kept_body = match head.extensions.get::<ShowsSecrets>() {
        Some(ShowsSecrets(fields)) => withhold(&body, fields),
        None => body.clone(),
    };
    if let Err(e) = remember(&app, &record.id, kept_status, &kept_body).await {
        tracing::error!(error = %e, "could not keep the answer of an idempotent request");
    }
    Response::from_parts(head, Body::from(body))
}

/// The answer with the secrets in `fields` replaced by [`WITHHELD`]; an answer that is not a
/// JSON object is kept as an empty one rather than risk keeping a secret.
fn withhold(body: &Bytes, fields: &[&str]) -> Bytes {
    let mut answer = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(answer)) => answer,
        _ => serde_json::Map::new(),
    };
    for field in fields {
        if let Some(value) = answer.get_mut(*field) {
            *value = serde_json::Value::String(WITHHELD.into());
        }
    }
    Bytes::from(serde_json::Value::Object(answer).to_string())
}

/// Takes the key for this request, or finds the answer it had.
async fn claim(app: &App, id: &str, fingerprint: &str) -> Result<Claim, AppError> {
    let now = app.now();
    let fresh = IdempotentRequest {
        id: id.to_string(),
        fingerprint: fingerprint.to_string(),
        started_at: now,
        answer: None,
        expires_at: now / 1000 + RETENTION_SECONDS,
    };
    let existing = match app.repo.insert("", &fresh).await? {
        Inserted::Created => return Ok(Claim::Run(fresh)),
        Inserted::Exists(existing) => existing,
    };
    if existing.value.fingerprint != fingerprint {
        return Err(AppError::Conflict(
            "this Idempotency-Key was used with another request; use a new key".into(),
        ));
    }
    if let Some(answer) = existing.value.answer.clone() {
        return Ok(Claim::Replay(answer));
    }
    if now - existing.value.started_at < LEASE_MS {
        return Err(AppError::Conflict(
            "a request with this Idempotency-Key is still running; retry it shortly".into(),
        ));
    }
    // The first try died without an answer: this one takes over, if no one else did first.
    let mut takeover = existing;
    takeover.value.started_at = now;
    app.repo.update("", &takeover).await.map_err(|e| match e {
        StoreError::VersionConflict { .. } => AppError::Conflict(
            "a request with this Idempotency-Key is still running; retry it shortly".into(),
        ),
        other => other.into(),
    })?;
    Ok(Claim::Run(takeover.value))
}

async fn remember(app: &App, id: &str, status: StatusCode, body: &Bytes) -> Result<(), AppError> {
    if status.is_server_error() {
        // Transient: the key is free for the retry.
        app.repo.delete::<IdempotentRequest>("", id).await?;
        return Ok(());
    }
    let answer = StoredAnswer {
        status: status.as_u16(),
        body: String::from_utf8_lossy(body).into_owned(),
    };
    app.repo
        .modify::<IdempotentRequest, AppError>("", id, |r| {
            r.answer = Some(answer.clone());
            Ok(true)
        })
        .await?;
    Ok(())
}

fn replay(answer: StoredAnswer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let mut response = (status, answer.body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}
