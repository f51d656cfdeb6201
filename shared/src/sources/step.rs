//! What every source of webhooks shares: the [`Source`] that verifies, then parses and applies
//! a body for a program ([`step`]), and what it answers when the body is authentic and well
//! formed.

use crate::app::App;
use crate::domain::outcome::Outcome;
use crate::domain::program::Program;
use crate::error::AppError;
use axum::http::HeaderMap;
use futures::future::BoxFuture;

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

impl Accepted {
    pub fn of(outcome: Outcome, transaction_key: Option<String>) -> Self {
        Self {
            outcome,
            transaction_key,
            reason: None,
            details: None,
        }
    }
}

/// A sender of webhooks at `POST /webhooks/{program}/{NAME}`: the custom webhook or a payment
/// provider.
pub trait Source: 'static {
    /// The path segment and the inbox's `source`.
    const NAME: &'static str;

    /// Checks that the request comes from the sender (signature, credentials, timestamp).
    fn verify(
        app: &App,
        program: &Program,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(), AppError>;

    /// Parses and applies an authentic body for the program: what a webhook and its replay
    /// share (a replay is vouched for by the admin key, its signature being stale).
    fn apply<'a>(
        app: &'a App,
        program: &'a Program,
        headers: &'a HeaderMap,
        body: &'a [u8],
    ) -> BoxFuture<'a, Result<Accepted, AppError>>;
}

/// Verifies, parses and applies the body for the program.
pub async fn step<S: Source>(
    app: &App,
    program: &Program,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Accepted, AppError> {
    S::verify(app, program, headers, body)?;
    S::apply(app, program, headers, body).await
}
