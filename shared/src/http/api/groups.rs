//! `/v1/groups`: partner groups and their plans.

use crate::app::App;
use crate::domain::group::{Group, GroupInput, GroupPatch};
use crate::error::AppError;
use crate::http::api::common::{created_or_found, list_page, Paging};
use crate::http::api::schemas::groups::{GroupInputDoc, GroupPatchDoc, GroupView};
use crate::http::api::schemas::Page;
use crate::http::auth::Admin;
use crate::http::error::ErrorBody;
use crate::http::extract::{JsonBody, PathParam, QueryParams};
use crate::repo::keys;
use crate::usecases::groups;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(create_group, list_groups))
        .routes(routes!(get_group, patch_group, delete_group))
}

fn view(group: &Group) -> Value {
    json!({
        "key": group.key,
        "name": group.name,
        "commission": group.plan,
        "created_at": group.created_at,
        "updated_at": group.updated_at,
    })
}

#[utoipa::path(
    post,
    path = "/v1/groups",
    tag = "groups",
    summary = "Create a partner group",
    request_body = GroupInputDoc,
    responses(
        (status = 201, description = "Created", body = GroupView),
        (status = 200, description = "The same group was there already", body = GroupView),
        (status = 409, description = "A group with this key has another name or plan", body = ErrorBody),
        (status = 422, description = "A field is refused (`error.field`)", body = ErrorBody),
    )
)]
async fn create_group(
    State(app): State<App>,
    admin: Admin,
    JsonBody(input): JsonBody<GroupInput>,
) -> Result<Response, AppError> {
    let (group, created) = groups::create(&app, &admin.program, input).await?;
    Ok(created_or_found((view(&group), created)))
}

#[utoipa::path(
    get,
    path = "/v1/groups",
    tag = "groups",
    summary = "List partner groups",
    params(Paging),
    responses((status = 200, description = "One page", body = Page<GroupView>)),
)]
async fn list_groups(
    State(app): State<App>,
    admin: Admin,
    QueryParams(paging): QueryParams<Paging>,
) -> Result<Json<Value>, AppError> {
    list_page::<Group>(
        &app,
        keys::groups(&admin.program.slug),
        &paging,
        false,
        view,
    )
    .await
}

#[utoipa::path(
    get,
    path = "/v1/groups/{key}",
    tag = "groups",
    summary = "A partner group",
    params(("key" = String, Path, description = "The group's key")),
    responses((status = 200, description = "The group", body = GroupView)),
)]
async fn get_group(
    State(app): State<App>,
    admin: Admin,
    PathParam(key): PathParam<String>,
) -> Result<Json<Value>, AppError> {
    Ok(Json(view(
        &groups::get(&app, &admin.program.slug, &key).await?,
    )))
}

#[utoipa::path(
    patch,
    path = "/v1/groups/{key}",
    tag = "groups",
    summary = "Rename a partner group, or change its plan",
    params(("key" = String, Path, description = "The group's key")),
    request_body = GroupPatchDoc,
    responses(
        (status = 200, description = "The group after the change", body = GroupView),
        (status = 422, description = "A field is refused (`error.field`)", body = ErrorBody),
    )
)]
async fn patch_group(
    State(app): State<App>,
    admin: Admin,
    PathParam(key): PathParam<String>,
    JsonBody(patch): JsonBody<GroupPatch>,
) -> Result<Json<Value>, AppError> {
    Ok(Json(view(
        &groups::update(&app, &admin.program, &key, patch).await?,
    )))
}

#[utoipa::path(
    delete,
    path = "/v1/groups/{key}",
    tag = "groups",
    summary = "Delete a partner group no partner is in",
    params(("key" = String, Path, description = "The group's key")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, description = "Partners are in the group: move them out first", body = ErrorBody),
    )
)]
async fn delete_group(
    State(app): State<App>,
    admin: Admin,
    PathParam(key): PathParam<String>,
) -> Result<Response, AppError> {
    groups::delete(&app, &admin.program.slug, &key).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
