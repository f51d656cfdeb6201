//! The top layer: the routers each Lambda serves and the local server's union of them, the
//! extractors, authentication, the ingest path of webhooks, and the one mapping of errors to
//! answers. The same axum routers run under `lambda_http::run` and under a TCP listener.

pub mod api;
pub mod audit;
pub mod auth;
pub mod console;
pub mod error;
pub mod extract;
pub mod idempotency;
pub mod openapi;
pub mod webhooks;

use crate::app::App;
use crate::error::AppError;
use crate::sources::custom::Custom;
use crate::sources::providers::chargebee::Chargebee;
use crate::sources::providers::chargify::Chargify;
use crate::sources::providers::event::Provider;
use crate::sources::providers::recurly::Recurly;
use crate::sources::providers::stripe::Stripe;
use crate::sources::providers::Payments;
use crate::sources::step::Source;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use std::sync::OnceLock;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Provider-facing, generic over the source (so one path per source), and not part of the
/// API: the one place a route is registered outside the document (see `openapi`).
fn source_routes<S: Source>() -> Router<App> {
    let path = format!("/webhooks/{{program}}/{}", S::NAME);
    Router::new().route(&path, post(webhooks::source_webhook::<S>))
}

/// The admins' web page and its files: not part of the API (it calls the API like any client),
/// so outside the document, the second exception (see `openapi`).
fn console_routes() -> Router<App> {
    Router::new()
        .route("/console", get(console::page))
        .route("/console/{*file}", get(console::asset))
}

fn incoming_routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(webhooks::incoming_production))
        .routes(routes!(webhooks::incoming_test))
}

/// The API's routes whose `POST`s are idempotent under an `Idempotency-Key`.
fn idempotent_api_routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(serve_openapi_json))
        .merge(api::program::routes())
        .merge(api::partners::routes())
        .merge(api::groups::routes())
        .merge(api::parked::routes())
        .merge(api::customers::routes())
        .merge(api::customer_transactions::routes())
        .merge(api::transactions::routes())
        .merge(api::rewards::routes())
        .merge(api::payouts::routes())
        .merge(api::balances::routes())
        .merge(api::me::routes())
        .merge(api::actions::routes())
        .merge(api::events::routes())
        .merge(api::hooks::routes())
        .merge(api::postbacks::routes())
        .merge(api::admin_keys::routes())
        .merge(api::audit::routes())
}

/// Every route the OpenAPI document describes; nothing else registers one (see `openapi`).
pub(crate) fn documented_routes() -> OpenApiRouter<App> {
    idempotent_api_routes()
        .merge(api::imports::routes())
        .merge(incoming_routes())
}

/// The API's routes, each `POST` idempotent under an `Idempotency-Key` (imports by their rows'
/// keys), each change audited.
fn api_routes(app: &App) -> Router<App> {
    let audit = audit::Audit {
        app: app.clone(),
        reader: Router::from(idempotent_api_routes()).with_state(app.clone()),
    };
    Router::from(idempotent_api_routes())
        .route_layer(axum::middleware::from_fn_with_state(
            app.clone(),
            idempotency::idempotent,
        ))
        // Repeat-safe by their rows' keys, and larger than the middleware reads.
        .merge(Router::from(api::imports::routes()))
        .route_layer(axum::middleware::from_fn_with_state(audit, audit::audited))
}

/// `GET /v1/openapi.json`: this document (no key needed).
#[utoipa::path(
    get,
    path = "/v1/openapi.json",
    tag = "meta",
    summary = "This document (OpenAPI 3.1); no key needed",
    security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object))
)]
async fn serve_openapi_json() -> impl IntoResponse {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    let json = DOCUMENT.get_or_init(openapi_json).clone();
    ([(header::CONTENT_TYPE, "application/json")], json)
}

/// The OpenAPI document of every documented route, as served and as `docs/openapi.json`.
pub fn openapi_json() -> String {
    openapi::document_json(documented_routes())
}

async fn not_found() -> AppError {
    AppError::NotFound("no such route".into())
}

fn finish(router: Router<App>, app: App) -> Router {
    router
        .fallback(not_found)
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed })
        .with_state(app)
}

/// `POST /webhooks/{program}/custom`: the webhook-custom function.
pub fn custom_webhook_router(app: App) -> Router {
    finish(source_routes::<Custom>(), app)
}

/// `POST /webhooks/{program}/{provider}`: one payment provider's function.
pub fn provider_router<P: Provider + 'static>(app: App) -> Router {
    finish(source_routes::<Payments<P>>(), app)
}

/// `POST /hooks/{id}/{token}[/test]`: the webhook-incoming function.
pub fn incoming_router(app: App) -> Router {
    finish(incoming_routes().into(), app)
}

/// `/v1/...` and the console: the api function.
pub fn api_router(app: App) -> Router {
    finish(api_routes(&app).merge(console_routes()), app)
}

/// Every route of every function, for the local server.
pub fn local_router(app: App) -> Router {
    let routes = source_routes::<Custom>()
        .merge(source_routes::<Payments<Stripe>>())
        .merge(source_routes::<Payments<Chargebee>>())
        .merge(source_routes::<Payments<Recurly>>())
        .merge(source_routes::<Payments<Chargify>>())
        .merge(Router::from(incoming_routes()))
        .merge(api_routes(&app))
        .merge(console_routes());
    finish(routes, app)
}
