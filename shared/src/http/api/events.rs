//! `/v1/events`: the inbox, every received webhook with its verdict and reason.

use crate::app::App;
use crate::domain::inbox::InboxEntry;
use crate::error::AppError;
use crate::http::api::common::{list_page, to_value, Paging};
use crate::http::auth::Admin;
use crate::http::extract::{PathParam, QueryParams};
use crate::repo::keys;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::Value;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/v1/events", get(list_events))
        .route("/v1/events/{id}", get(get_event))
}

async fn list_events(
    State(app): State<App>,
    admin: Admin,
    QueryParams(paging): QueryParams<Paging>,
) -> Result<Json<Value>, AppError> {
    list_page::<InboxEntry>(
        &app,
        keys::events(&admin.program.slug),
        &paging,
        true,
        to_value,
    )
    .await
}

async fn get_event(
    State(app): State<App>,
    admin: Admin,
    PathParam(id): PathParam<String>,
) -> Result<Json<Value>, AppError> {
    let entry = app
        .repo
        .find::<InboxEntry>(&admin.program.slug, &id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no event has the id {id:?}")))?;
    Ok(Json(to_value(&entry)))
}
