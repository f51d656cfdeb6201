//! Incoming webhooks, for tools that cannot sign: the test URL keeps samples and creates
//! nothing ([`capture_sample`]); the production URL applies the mapping ([`actions::apply`]).
//! The record, its samples and mapping are in `domain::hook`.

pub mod actions;
pub mod body;
pub mod mapped;

use crate::app::App;
use crate::domain::hook::{field_paths, IncomingWebhook, Sample, MAX_SAMPLE_BODY_BYTES};
use crate::domain::outcome::Outcome;
use crate::error::AppError;
use crate::sources::incoming::body::read_body;
use crate::sources::step::Accepted;
use axum::http::HeaderMap;

/// The inbox's `source` of a production URL's webhooks, and of a test URL's samples.
pub const SOURCE: &str = "incoming";
pub const TEST_SOURCE: &str = "incoming-test";

/// Test URL: keeps the sample with its field paths, and creates nothing.
pub async fn capture_sample(
    app: &App,
    hook: &IncomingWebhook,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Accepted, AppError> {
    let value = read_body(headers, body)?;
    let sample = Sample {
        received_at: app.now(),
        paths: field_paths(&value),
        body: (body.len() <= MAX_SAMPLE_BODY_BYTES).then_some(value),
    };
    let paths = serde_json::to_value(&sample.paths).unwrap_or_default();
    app.repo
        .modify::<IncomingWebhook, AppError>(&hook.program, &hook.id, |h| {
            h.keep_sample(sample.clone());
            Ok(true)
        })
        .await?
        .ok_or_else(|| AppError::NotFound(format!("incoming webhook {} vanished", hook.id)))?;
    Ok(Accepted {
        outcome: Outcome::SampleCaptured,
        transaction_key: None,
        reason: Some("test URL: the sample is kept and nothing is created".into()),
        details: Some(serde_json::json!({ "paths": paths })),
    })
}
