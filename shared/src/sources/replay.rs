//! A stored webhook run again after a fix: its whole body through the parse-and-apply code of
//! the source that received it, without the sender's authentication (the admin key vouches
//! for it; a signature or timestamp would be stale). The ledger's keys make a repeat a skip.

use crate::app::App;
use crate::domain::inbox::{InboxEntry, NotReplayable};
use crate::domain::program::Program;
use crate::error::AppError;
use crate::sources::custom::Custom;
use crate::sources::incoming::actions::apply as apply_mapping;
use crate::sources::incoming::{SOURCE as INCOMING, TEST_SOURCE as INCOMING_TEST};
use crate::sources::providers::chargebee::Chargebee;
use crate::sources::providers::chargify::Chargify;
use crate::sources::providers::event::Provider;
use crate::sources::providers::recurly::Recurly;
use crate::sources::providers::stripe::Stripe;
use crate::sources::providers::Payments;
use crate::sources::step::{Accepted, Source};
use axum::http::{header, HeaderMap, HeaderValue};

/// What a replay runs: the body as received and the headers its parsing reads.
pub struct Replay {
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// The entry's request as it can be run again, or why it cannot (a 409 saying so).
pub fn prepare(entry: &InboxEntry) -> Result<Replay, AppError> {
    if entry.source == INCOMING_TEST {
        return Err(AppError::Conflict(format!(
            "event {} is a test URL's sample, which creates nothing: send it to the production URL instead",
            entry.id
        )));
    }
    let body = entry.replayable_body().map_err(|why| {
        AppError::Conflict(format!(
            "event {} cannot be replayed: {}",
            entry.id,
            match why {
                NotReplayable::Unverified =>
                    "its sender was not verified, so only a summary and the body's first KiB were kept, not the whole body",
                NotReplayable::Truncated => "its body was over 64 KiB and only its start was kept, not the whole body",
                NotReplayable::Damaged => "its stored body does not decode",
            }
        ))
    })?;
    let mut headers = HeaderMap::new();
    if let Some(value) = entry
        .content_type
        .as_deref()
        .and_then(|t| HeaderValue::from_str(t).ok())
    {
        headers.insert(header::CONTENT_TYPE, value);
    }
    Ok(Replay { headers, body })
}

/// Parses and applies the replay with the code of the entry's source.
pub async fn run(
    app: &App,
    program: &Program,
    entry: &InboxEntry,
    replay: &Replay,
) -> Result<Accepted, AppError> {
    let (headers, body) = (&replay.headers, replay.body.as_slice());
    match entry.source.as_str() {
        Custom::NAME => Custom::apply(app, program, headers, body).await,
        Stripe::NAME => Payments::<Stripe>::apply(app, program, headers, body).await,
        Chargebee::NAME => Payments::<Chargebee>::apply(app, program, headers, body).await,
        Recurly::NAME => Payments::<Recurly>::apply(app, program, headers, body).await,
        Chargify::NAME => Payments::<Chargify>::apply(app, program, headers, body).await,
        INCOMING => {
            let hook = match &entry.hook {
                Some(id) => app.repo.get_hook(id).await?.map(|found| found.value),
                None => None,
            }
            .filter(|hook| hook.program == program.slug)
            .ok_or_else(|| {
                AppError::Conflict(format!(
                    "event {} names no incoming webhook that still exists, so there is no mapping to apply",
                    entry.id
                ))
            })?;
            apply_mapping(app, program, &hook, headers, body).await
        }
        other => Err(AppError::Conflict(format!(
            "event {} came from {other:?}, which no source of this version reads",
            entry.id
        ))),
    }
}
