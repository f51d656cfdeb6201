//! HTTP routing: the routers each Lambda serves, and the local server's union of them. The
//! same axum routers run under `lambda_http::run` and under a plain TCP listener.

use crate::api;
use crate::app::App;
use crate::error::AppError;
use crate::incoming;
use crate::providers::chargebee::Chargebee;
use crate::providers::chargify::Chargify;
use crate::providers::recurly::Recurly;
use crate::providers::stripe::Stripe;
use crate::providers::{self, custom, Provider};
use crate::webhook::ingest;
use axum::body::Body;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post, put};
use axum::Router;
use serde::de::DeserializeOwned;

/// API request bodies above this size are refused with 413.
pub const MAX_API_BODY_BYTES: usize = 64 * 1024;

async fn custom_webhook(
    State(app): State<App>,
    Path(program): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    ingest(&app, custom::SOURCE, &program, &headers, body, custom::step).await
}

async fn provider_webhook<P: Provider>(
    State(app): State<App>,
    Path(program): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    ingest(
        &app,
        P::NAME,
        &program,
        &headers,
        body,
        providers::step::<P>,
    )
    .await
}

fn provider_routes<P: Provider + 'static>() -> Router<App> {
    let path = format!("/webhooks/{{program}}/{}", P::NAME);
    Router::new().route(&path, post(provider_webhook::<P>))
}

/// `POST /webhooks/{program}/{provider}`: one payment provider's function.
pub fn provider_router<P: Provider + 'static>(app: App) -> Router {
    finish(provider_routes::<P>(), app)
}

async fn incoming_production(
    State(app): State<App>,
    Path((id, token)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    incoming::receive(&app, &id, &token, false, &headers, body).await
}

async fn incoming_test(
    State(app): State<App>,
    Path((id, token)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    incoming::receive(&app, &id, &token, true, &headers, body).await
}

fn incoming_routes() -> Router<App> {
    Router::new()
        .route("/hooks/{id}/{token}", post(incoming_production))
        .route("/hooks/{id}/{token}/test", post(incoming_test))
}

/// `POST /hooks/{id}/{token}[/test]`: the webhook-incoming function.
pub fn incoming_router(app: App) -> Router {
    finish(incoming_routes(), app)
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

fn custom_webhook_routes() -> Router<App> {
    Router::new().route("/webhooks/{program}/custom", post(custom_webhook))
}

/// `POST /webhooks/{program}/custom`: the webhook-custom function.
pub fn custom_webhook_router(app: App) -> Router {
    finish(custom_webhook_routes(), app)
}

fn api_routes() -> Router<App> {
    Router::new()
        .route(
            "/v1/program",
            get(api::get_program).patch(api::patch_program),
        )
        .route(
            "/v1/partners",
            post(api::create_partner).get(api::list_partners),
        )
        .route("/v1/partners/{key}", get(api::get_partner))
        .route(
            "/v1/partners/{key}/api-keys",
            post(api::create_partner_api_key),
        )
        .route(
            "/v1/postbacks",
            post(api::create_postback).get(api::list_postbacks),
        )
        .route(
            "/v1/postbacks/{id}",
            get(api::get_postback)
                .patch(api::patch_postback)
                .delete(api::delete_postback),
        )
        .route("/v1/postbacks/{id}/test", post(api::test_postback))
        .route(
            "/v1/postbacks/{id}/rotate-secret",
            post(api::rotate_postback_secret),
        )
        .route("/v1/postbacks/{id}/deliveries", get(api::list_deliveries))
        .route(
            "/v1/postbacks/{id}/deliveries/{delivery_id}/retry",
            post(api::retry_delivery),
        )
        .route(
            "/v1/customers",
            post(api::create_customer).get(api::list_customers),
        )
        .route(
            "/v1/customers/{key}",
            get(api::get_customer)
                .patch(api::patch_customer)
                .delete(api::delete_customer),
        )
        .route("/v1/transactions", get(api::list_transactions))
        .route("/v1/transactions/{key}", get(api::get_transaction))
        .route(
            "/v1/transactions/{key}/assign",
            post(api::assign_transaction),
        )
        .route("/v1/rewards", get(api::list_rewards))
        .route("/v1/events", get(api::list_events))
        .route("/v1/events/{id}", get(api::get_event))
        .route(
            "/v1/incoming-webhooks",
            post(api::create_hook).get(api::list_hooks),
        )
        .route(
            "/v1/incoming-webhooks/{id}",
            get(api::get_hook).delete(api::delete_hook),
        )
        .route(
            "/v1/incoming-webhooks/{id}/mapping",
            put(api::put_hook_mapping),
        )
        .route(
            "/v1/incoming-webhooks/{id}/rotate-token",
            post(api::rotate_hook_token),
        )
}

/// `/v1/...`: the api function.
pub fn api_router(app: App) -> Router {
    finish(api_routes(), app)
}

/// Every route of every function, for the local server.
pub fn local_router(app: App) -> Router {
    let routes = custom_webhook_routes()
        .merge(provider_routes::<Stripe>())
        .merge(provider_routes::<Chargebee>())
        .merge(provider_routes::<Recurly>())
        .merge(provider_routes::<Chargify>())
        .merge(incoming_routes())
        .merge(api_routes());
    finish(routes, app)
}

/// A JSON request body, refused with a JSON error (415, 413, 400, 422) when it is not one.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        crate::webhook::require_json(req.headers())?;
        let bytes = axum::body::to_bytes(req.into_body(), MAX_API_BODY_BYTES)
            .await
            .map_err(|_| AppError::PayloadTooLarge {
                limit: MAX_API_BODY_BYTES,
            })?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// Parses JSON naming the failing field: syntax errors are 400, wrong values 422.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let starts_as_object = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if !starts_as_object {
        return Err(
            match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
                Ok(_) => AppError::invalid("body", "must be a JSON object"),
                Err(e) => AppError::MalformedJson(e.to_string()),
            },
        );
    }
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let field = if path == "." {
                    "body".to_string()
                } else {
                    path
                };
                AppError::invalid(field, inner.to_string())
            }
            _ => AppError::MalformedJson(inner.to_string()),
        }
    })
}

/// Reads a part of an already parsed body; errors name the field under `prefix`.
pub fn parse_json_value<T: DeserializeOwned>(
    value: serde_json::Value,
    prefix: &str,
) -> Result<T, AppError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            prefix.to_string()
        } else {
            format!("{prefix}.{path}")
        };
        AppError::invalid(field, e.into_inner().to_string())
    })
}

/// Query parameters, refused with a JSON 400 when they do not parse.
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| QueryParams(v))
            .map_err(|e: QueryRejection| AppError::BadRequest(e.body_text()))
    }
}

/// A path parameter, refused with a JSON 400 when it does not parse.
pub struct PathParam<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for PathParam<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| PathParam(v))
            .map_err(|e: PathRejection| AppError::BadRequest(e.body_text()))
    }
}
