//! `/v1/groups`: partner groups and their plans.

use crate::app::App;
use crate::domain::group::{Group, GroupInput, GroupPatch};
use crate::error::AppError;
use crate::http::api::common::{created_or_found, list_page, Paging};
use crate::http::auth::Admin;
use crate::http::extract::{JsonBody, PathParam, QueryParams};
use crate::repo::keys;
use crate::usecases::groups;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use serde_json::{json, Value};

pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .route("/v1/groups", post(create_group).get(list_groups))
        .route(
            "/v1/groups/{key}",
            get(get_group).patch(patch_group).delete(delete_group),
        )
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

async fn create_group(
    State(app): State<App>,
    admin: Admin,
    JsonBody(input): JsonBody<GroupInput>,
) -> Result<Response, AppError> {
    let (group, created) = groups::create(&app, &admin.program, input).await?;
    Ok(created_or_found((view(&group), created)))
}

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

async fn get_group(
    State(app): State<App>,
    admin: Admin,
    PathParam(key): PathParam<String>,
) -> Result<Json<Value>, AppError> {
    Ok(Json(view(
        &groups::get(&app, &admin.program.slug, &key).await?,
    )))
}

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

async fn delete_group(
    State(app): State<App>,
    admin: Admin,
    PathParam(key): PathParam<String>,
) -> Result<Response, AppError> {
    groups::delete(&app, &admin.program.slug, &key).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
