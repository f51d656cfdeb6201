//! `/v1/events`: the inbox, every received webhook with its verdict and reason.

use crate::app::App;
use crate::domain::inbox::InboxEntry;
use crate::error::AppError;
use crate::http::api::common::{list_page, to_value, Paging};
use crate::http::api::schemas::{EventView, Page};
use crate::http::auth::Admin;
use crate::http::extract::{PathParam, QueryParams};
use crate::repo::keys;
use axum::extract::State;
use axum::Json;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_events))
        .routes(routes!(get_event))
}

#[utoipa::path(
    get,
    path = "/v1/events",
    tag = "events",
    summary = "Received webhooks, newest first",
    params(Paging),
    responses(
        (status = 200, description = "One page", body = Page<EventView>),
    )
)]
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
        |entry: &InboxEntry| to_value(&entry.shown()),
    )
    .await
}

#[utoipa::path(
    get,
    path = "/v1/events/{id}",
    tag = "events",
    summary = "A received webhook",
    params(("id" = String, Path, description = "The event's id")),
    responses(
        (status = 200, description = "The event", body = EventView),
    )
)]
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
    Ok(Json(to_value(&entry.shown())))
}
