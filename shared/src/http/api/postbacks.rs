//! `/v1/postbacks`: a partner's own endpoints (with the partner's key), their test events,
//! secrets, and deliveries.

use crate::app::App;
use crate::crypto::token::random_token;
use crate::domain::postback::{validate_events, Delivery, Postback};
use crate::domain::validate;
use crate::error::AppError;
use crate::http::api::common::{list_page, Paging};
use crate::http::api::schemas::{
    DeliveryView, Page, PostbackCreated, PostbackTestResult, PostbackView,
};
use crate::http::auth::PartnerAuth;
use crate::http::extract::{JsonBody, PathParam, QueryParams};
use crate::http::idempotency::showing_secrets;
use crate::outbound::signing::new_secret;
use crate::outbound::ssrf::check_endpoint;
use crate::repo::codec::Versioned;
use crate::repo::keys;
use crate::usecases::postbacks::deliver;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(create_postback, list_postbacks))
        .routes(routes!(get_postback, patch_postback, delete_postback))
        .routes(routes!(test_postback))
        .routes(routes!(rotate_postback_secret))
        .routes(routes!(list_deliveries))
        .routes(routes!(retry_delivery))
}

/// How the API shows a postback: everything but its secrets.
fn view(postback: &Postback) -> Value {
    json!({
        "id": postback.id,
        "name": postback.name,
        "url": postback.url,
        "events": postback.events,
        "status": if postback.disabled.is_some() { "disabled" } else { "active" },
        "disabled": postback.disabled,
        "failing_since": postback.failing_since,
        "secrets_configured": postback.secrets.len(),
        "created_at": postback.created_at,
        "updated_at": postback.updated_at,
    })
}

fn delivery_view(delivery: &Delivery) -> Value {
    json!({
        "id": delivery.id,
        "postback_id": delivery.postback_id,
        "message_id": delivery.message_id,
        "event": delivery.event,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "attempts_made": delivery.attempts_made(),
        "next_attempt_at": delivery.next_attempt_at,
        "created_at": delivery.created_at,
        "updated_at": delivery.updated_at,
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewPostback {
    url: String,
    name: String,
    events: Vec<String>,
}

async fn own_postback(
    app: &App,
    auth: &PartnerAuth,
    id: &str,
) -> Result<Versioned<Postback>, AppError> {
    app.repo
        .get::<Postback>(&auth.program.slug, id)
        .await?
        .filter(|p| p.value.partner_key == auth.partner_key)
        .ok_or_else(|| AppError::NotFound(format!("no postback has the id {id:?}")))
}

/// Changes the partner's own postback, reading again after a concurrent write (a delivery
/// noting its outcome).
async fn change_postback(
    app: &App,
    auth: &PartnerAuth,
    id: &str,
    mut change: impl FnMut(&mut Postback),
) -> Result<Postback, AppError> {
    own_postback(app, auth, id).await?;
    app.repo
        .modify::<Postback, AppError>(&auth.program.slug, id, |p| {
            change(p);
            Ok(true)
        })
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no postback has the id {id:?}")))
}

#[utoipa::path(
    post,
    path = "/v1/postbacks",
    tag = "postbacks",
    summary = "Subscribe a URL to events (partner key)",
    request_body = NewPostback,
    responses(
        (status = 201, description = "Created; its signing secret is shown once", body = PostbackCreated),
    )
)]
async fn create_postback(
    State(app): State<App>,
    auth: PartnerAuth,
    JsonBody(body): JsonBody<NewPostback>,
) -> Result<Response, AppError> {
    let url = check_endpoint(body.url.trim(), app.endpoints).await?;
    validate_events(&body.events)?;
    let now = app.now();
    let secret = new_secret();
    let created = Postback {
        id: random_token("pb_", 8),
        program: auth.program.slug.clone(),
        partner_key: auth.partner_key.clone(),
        url: url.to_string(),
        name: validate::name("name", &body.name)?,
        events: body.events,
        secrets: vec![secret.clone()],
        disabled: None,
        failing_since: None,
        created_at: now,
        updated_at: now,
    };
    // Noted on the partner first: a crash in between leaves an id that names nothing, which
    // costs a read, never a missed event.
    app.repo
        .note_postback(&auth.program.slug, &auth.partner_key, &created.id)
        .await?;
    app.repo.insert(&auth.program.slug, &created).await?;
    let mut view = view(&created);
    view["secret"] = json!(secret);
    let response = (StatusCode::CREATED, Json(view)).into_response();
    Ok(showing_secrets(response, &["secret"]))
}

#[utoipa::path(
    get,
    path = "/v1/postbacks",
    tag = "postbacks",
    summary = "The partner's postbacks (partner key)",
    responses(
        (status = 200, description = "All of them", body = Page<PostbackView>),
    )
)]
async fn list_postbacks(
    State(app): State<App>,
    auth: PartnerAuth,
) -> Result<Json<Value>, AppError> {
    let all = app
        .repo
        .postbacks_of_partner(&auth.program.slug, &auth.partner_key)
        .await?;
    let data: Vec<Value> = all.iter().map(view).collect();
    Ok(Json(json!({ "data": data, "next_cursor": null })))
}

#[utoipa::path(
    get,
    path = "/v1/postbacks/{id}",
    tag = "postbacks",
    summary = "A postback (partner key)",
    params(("id" = String, Path, description = "The postback's id")),
    responses(
        (status = 200, description = "The postback", body = PostbackView),
    )
)]
async fn get_postback(
    State(app): State<App>,
    auth: PartnerAuth,
    PathParam(id): PathParam<String>,
) -> Result<Json<Value>, AppError> {
    Ok(Json(view(&own_postback(&app, &auth, &id).await?.value)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PostbackPatch {
    url: Option<String>,
    name: Option<String>,
    events: Option<Vec<String>>,
    /// `true` turns a disabled postback back on.
    enabled: Option<bool>,
}

#[utoipa::path(
    patch,
    path = "/v1/postbacks/{id}",
    tag = "postbacks",
    summary = "Change a postback, or enable it again (partner key)",
    params(("id" = String, Path, description = "The postback's id")),
    request_body = PostbackPatch,
    responses(
        (status = 200, description = "The postback after the change", body = PostbackView),
    )
)]
async fn patch_postback(
    State(app): State<App>,
    auth: PartnerAuth,
    PathParam(id): PathParam<String>,
    JsonBody(patch): JsonBody<PostbackPatch>,
) -> Result<Json<Value>, AppError> {
    own_postback(&app, &auth, &id).await?;
    let url = match &patch.url {
        Some(url) => Some(check_endpoint(url.trim(), app.endpoints).await?.to_string()),
        None => None,
    };
    let name = patch
        .name
        .as_deref()
        .map(|n| validate::name("name", n))
        .transpose()?;
    if let Some(events) = &patch.events {
        validate_events(events)?;
    }
    let now = app.now();
    let changed = change_postback(&app, &auth, &id, |p| {
        if let Some(url) = &url {
            p.url = url.clone();
        }
        if let Some(name) = &name {
            p.name = name.clone();
        }
        if let Some(events) = &patch.events {
            p.events = events.clone();
        }
        if let Some(enabled) = patch.enabled {
            p.set_enabled(enabled, now);
        }
    })
    .await?;
    Ok(Json(view(&changed)))
}

#[utoipa::path(
    delete,
    path = "/v1/postbacks/{id}",
    tag = "postbacks",
    summary = "Delete a postback (partner key)",
    params(("id" = String, Path, description = "The postback's id")),
    responses(
        (status = 204, description = "Deleted"),
    )
)]
async fn delete_postback(
    State(app): State<App>,
    auth: PartnerAuth,
    PathParam(id): PathParam<String>,
) -> Result<StatusCode, AppError> {
    own_postback(&app, &auth, &id).await?;
    app.repo.delete::<Postback>(&auth.program.slug, &id).await?;
    app.repo
        .forget_postback(&auth.program.slug, &auth.partner_key, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sends the test event now and reports the endpoint's answer.
#[utoipa::path(
    post,
    path = "/v1/postbacks/{id}/test",
    tag = "postbacks",
    summary = "Send a test event now (partner key)",
    params(("id" = String, Path, description = "The postback's id")),
    responses(
        (status = 200, description = "How the endpoint answered", body = PostbackTestResult),
    )
)]
async fn test_postback(
    State(app): State<App>,
    auth: PartnerAuth,
    PathParam(id): PathParam<String>,
) -> Result<Json<Value>, AppError> {
    let current = own_postback(&app, &auth, &id).await?;
    let attempt = deliver::send_test(&app, &current.value).await?;
    let success = attempt.status_code.is_some_and(|c| (200..300).contains(&c));
    let mut body = json!(attempt);
    body["success"] = json!(success);
    Ok(Json(body))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct Rotation {
    /// Stop signing with the earlier secret at once instead of sending both.
    #[serde(default)]
    expire_previous: bool,
}

/// A new signing secret, shown once; the previous one keeps signing beside it unless expired.
#[utoipa::path(
    post,
    path = "/v1/postbacks/{id}/rotate-secret",
    tag = "postbacks",
    summary = "A new signing secret, shown once (partner key)",
    params(("id" = String, Path, description = "The postback's id"), Rotation),
    responses(
        (status = 200, description = "The postback with its new secret", body = PostbackCreated),
    )
)]
async fn rotate_postback_secret(
    State(app): State<App>,
    auth: PartnerAuth,
    PathParam(id): PathParam<String>,
    QueryParams(rotation): QueryParams<Rotation>,
) -> Result<Response, AppError> {
    let secret = new_secret();
    let rotated = change_postback(&app, &auth, &id, |p| {
        p.rotate_secret(secret.clone(), rotation.expire_previous)
    })
    .await?;
    let mut view = view(&rotated);
    view["secret"] = json!(secret);
    Ok(showing_secrets(Json(view).into_response(), &["secret"]))
}

#[utoipa::path(
    get,
    path = "/v1/postbacks/{id}/deliveries",
    tag = "postbacks",
    summary = "A postback's deliveries (partner key)",
    params(("id" = String, Path, description = "The postback's id"), Paging),
    responses(
        (status = 200, description = "One page", body = Page<DeliveryView>),
    )
)]
async fn list_deliveries(
    State(app): State<App>,
    auth: PartnerAuth,
    PathParam(id): PathParam<String>,
    QueryParams(paging): QueryParams<Paging>,
) -> Result<Json<Value>, AppError> {
    own_postback(&app, &auth, &id).await?;
    list_page::<Delivery>(
        &app,
        keys::deliveries_of_postback(&auth.program.slug, &id),
        &paging,
        true,
        delivery_view,
    )
    .await
}

#[utoipa::path(
    post,
    path = "/v1/postbacks/{id}/deliveries/{delivery_id}/retry",
    tag = "postbacks",
    summary = "Send a failed delivery again (partner key)",
    params(("id" = String, Path, description = "The postback's id"), ("delivery_id" = String, Path, description = "The delivery's id")),
    responses(
        (status = 200, description = "The delivery, queued again", body = DeliveryView),
    )
)]
async fn retry_delivery(
    State(app): State<App>,
    auth: PartnerAuth,
    PathParam((id, delivery_id)): PathParam<(String, String)>,
) -> Result<Json<Value>, AppError> {
    own_postback(&app, &auth, &id).await?;
    let mut delivery = app
        .repo
        .get::<Delivery>(&auth.program.slug, &delivery_id)
        .await?
        .filter(|d| d.value.postback_id == id)
        .ok_or_else(|| AppError::NotFound(format!("no delivery has the id {delivery_id:?}")))?;
    deliver::retry_by_hand(&app, &auth.program.slug, &mut delivery).await?;
    Ok(Json(delivery_view(&delivery.value)))
}
