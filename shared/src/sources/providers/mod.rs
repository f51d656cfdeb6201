//! The sources of webhooks. Each module holds only what is its own: its authenticity scheme and
//! its payload shapes. The ingest path, ledger, customer matching, dedupe and inbox are shared.
//!
//! A payment provider implements [`event::Provider`]: `authenticate` checks the request, and
//! `parse` turns the body into an [`event::ProviderEvent`]. [`Payments`] runs both and
//! [`apply::apply`]s the event; the router serves it at `/webhooks/{program}/{NAME}`.

pub mod apply;
pub mod chargebee;
pub mod chargify;
pub mod event;
pub mod recurly;
pub mod stripe;

use crate::app::App;
use crate::domain::program::Program;
use crate::error::AppError;
use crate::sources::providers::apply::apply;
use crate::sources::providers::event::Provider;
use crate::sources::step::{Accepted, Source};
use axum::http::HeaderMap;
use futures::future::BoxFuture;
use std::marker::PhantomData;

/// A payment provider as a source of the ingest path: authenticate, then parse and apply.
pub struct Payments<P>(PhantomData<P>);

impl<P: Provider + 'static> Source for Payments<P> {
    const NAME: &'static str = P::NAME;

    fn verify(
        app: &App,
        program: &Program,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(), AppError> {
        P::authenticate(headers, body, &program.providers, app.now() / 1000)
    }

    fn apply<'a>(
        app: &'a App,
        program: &'a Program,
        headers: &'a HeaderMap,
        body: &'a [u8],
    ) -> BoxFuture<'a, Result<Accepted, AppError>> {
        Box::pin(async move {
            let event = P::parse(headers, body, program)?;
            apply(app, program, P::NAME, event).await
        })
    }
}
