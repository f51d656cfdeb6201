//! `/v1/incoming-webhooks`: create one, see its URLs and samples, save its mapping, rotate its
//! token, delete it.

use crate::app::App;
use crate::domain::hook::{new_token, IncomingWebhook, Mapping};
use crate::domain::validate;
use crate::error::AppError;
use crate::http::api::common::{list_page, Paging};
use crate::http::api::schemas::{HookView, MappingDoc, Page};
use crate::http::auth::Admin;
use crate::http::extract::{BaseUrl, JsonBody, PathParam, QueryParams};
use crate::repo::codec::Versioned;
use crate::repo::keys;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(create_hook, list_hooks))
        .routes(routes!(get_hook, delete_hook))
        .routes(routes!(put_hook_mapping))
        .routes(routes!(rotate_hook_token))
}

/// How the API shows a webhook: absolute URLs from `base`, samples and their paths.
fn view(hook: &IncomingWebhook, base: &str) -> Value {
    serde_json::json!({
        "id": hook.id,
        "name": hook.name,
        "test_url": format!("{base}/hooks/{}/{}/test", hook.id, hook.token),
        "production_url": format!("{base}/hooks/{}/{}", hook.id, hook.token),
        "mapping": hook.mapping,
        "field_paths": hook.field_paths(),
        "samples": hook.samples,
        "created_at": hook.created_at,
        "updated_at": hook.updated_at,
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewHook {
    name: String,
}

async fn own_hook(
    app: &App,
    admin: &Admin,
    id: &str,
) -> Result<Versioned<IncomingWebhook>, AppError> {
    app.repo
        .get_hook(id)
        .await?
        .filter(|hook| hook.value.program == admin.program.slug)
        .ok_or_else(|| AppError::NotFound(format!("no incoming webhook has the id {id:?}")))
}

/// Changes the program's own webhook, reading again after a concurrent write (a sample).
async fn change_hook(
    app: &App,
    admin: &Admin,
    id: &str,
    change: impl FnMut(&mut IncomingWebhook) -> Result<bool, AppError>,
) -> Result<IncomingWebhook, AppError> {
    own_hook(app, admin, id).await?;
    app.repo
        .modify(&admin.program.slug, id, change)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no incoming webhook has the id {id:?}")))
}

#[utoipa::path(
    post,
    path = "/v1/incoming-webhooks",
    tag = "incoming-webhooks",
    summary = "Create an incoming webhook",
    request_body = NewHook,
    responses(
        (status = 201, description = "Created, with its URLs", body = HookView),
    )
)]
async fn create_hook(
    State(app): State<App>,
    admin: Admin,
    BaseUrl(base): BaseUrl,
    JsonBody(body): JsonBody<NewHook>,
) -> Result<Response, AppError> {
    let name = validate::name("name", &body.name)?;
    let hook = IncomingWebhook::new(&admin.program.slug, &name, app.now());
    app.repo.insert(&admin.program.slug, &hook).await?;
    Ok((StatusCode::CREATED, Json(view(&hook, &base))).into_response())
}

#[utoipa::path(
    get,
    path = "/v1/incoming-webhooks",
    tag = "incoming-webhooks",
    summary = "List incoming webhooks",
    params(Paging),
    responses(
        (status = 200, description = "One page", body = Page<HookView>),
    )
)]
async fn list_hooks(
    State(app): State<App>,
    admin: Admin,
    BaseUrl(base): BaseUrl,
    QueryParams(paging): QueryParams<Paging>,
) -> Result<Json<Value>, AppError> {
    list_page::<IncomingWebhook>(
        &app,
        keys::hooks(&admin.program.slug),
        &paging,
        false,
        |hook| view(hook, &base),
    )
    .await
}

#[utoipa::path(
    get,
    path = "/v1/incoming-webhooks/{id}",
    tag = "incoming-webhooks",
    summary = "An incoming webhook, its URLs and samples",
    params(("id" = String, Path, description = "The incoming webhook's id")),
    responses(
        (status = 200, description = "The webhook", body = HookView),
    )
)]
async fn get_hook(
    State(app): State<App>,
    admin: Admin,
    BaseUrl(base): BaseUrl,
    PathParam(id): PathParam<String>,
) -> Result<Json<Value>, AppError> {
    let hook = own_hook(&app, &admin, &id).await?;
    Ok(Json(view(&hook.value, &base)))
}

/// Saves the mapping after checking it; warns about paths no sample contains.
#[utoipa::path(
    put,
    path = "/v1/incoming-webhooks/{id}/mapping",
    tag = "incoming-webhooks",
    summary = "Save the mapping of samples to an action",
    params(("id" = String, Path, description = "The incoming webhook's id")),
    request_body = MappingDoc,
    responses(
        (status = 200, description = "The webhook, with warnings for paths no sample contains", body = HookView),
    )
)]
async fn put_hook_mapping(
    State(app): State<App>,
    admin: Admin,
    BaseUrl(base): BaseUrl,
    PathParam(id): PathParam<String>,
    JsonBody(mapping): JsonBody<Mapping>,
) -> Result<Json<Value>, AppError> {
    let mut warnings = Vec::new();
    let hook = change_hook(&app, &admin, &id, |hook| {
        warnings = mapping.validate(&hook.samples)?;
        hook.mapping = Some(mapping.clone());
        Ok(true)
    })
    .await?;
    let mut view = view(&hook, &base);
    view["warnings"] = json!(warnings);
    Ok(Json(view))
}

/// A new token: the old test and production URLs stop working at once.
#[utoipa::path(
    post,
    path = "/v1/incoming-webhooks/{id}/rotate-token",
    tag = "incoming-webhooks",
    summary = "Give the webhook new URLs",
    params(("id" = String, Path, description = "The incoming webhook's id")),
    responses(
        (status = 200, description = "The webhook with its new URLs", body = HookView),
    )
)]
async fn rotate_hook_token(
    State(app): State<App>,
    admin: Admin,
    BaseUrl(base): BaseUrl,
    PathParam(id): PathParam<String>,
) -> Result<Json<Value>, AppError> {
    let token = new_token();
    let hook = change_hook(&app, &admin, &id, |hook| {
        hook.token = token.clone();
        Ok(true)
    })
    .await?;
    Ok(Json(view(&hook, &base)))
}

#[utoipa::path(
    delete,
    path = "/v1/incoming-webhooks/{id}",
    tag = "incoming-webhooks",
    summary = "Delete an incoming webhook",
    params(("id" = String, Path, description = "The incoming webhook's id")),
    responses(
        (status = 204, description = "Deleted"),
    )
)]
async fn delete_hook(
    State(app): State<App>,
    admin: Admin,
    PathParam(id): PathParam<String>,
) -> Result<StatusCode, AppError> {
    own_hook(&app, &admin, &id).await?;
    app.repo
        .delete::<IncomingWebhook>(&admin.program.slug, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
