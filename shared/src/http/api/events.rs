//! `/v1/events`: the inbox, every received webhook with its verdict and reason, and the
//! replay of one after a fix.

use crate::app::App;
use crate::domain::inbox::InboxEntry;
use crate::error::AppError;
use crate::http::api::common::{list_page, to_value, Paging};
use crate::http::api::schemas::{EventView, Page, WebhookAnswer};
use crate::http::auth::Admin;
use crate::http::extract::{PathParam, QueryParams};
use crate::http::webhooks::{answer, inbox_entry, Received};
use crate::repo::keys;
use crate::sources::replay::{prepare, run};
use axum::extract::State;
use axum::response::Response;
use axum::Json;
use serde_json::Value;
use std::time::Instant;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_events))
        .routes(routes!(get_event))
        .routes(routes!(replay_event))
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
    let entry = find_event(&app, &admin, &id).await?;
    Ok(Json(to_value(&entry.shown())))
}

async fn find_event(app: &App, admin: &Admin, id: &str) -> Result<InboxEntry, AppError> {
    app.repo
        .find::<InboxEntry>(&admin.program.slug, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no event has the id {id:?}")))
}

#[utoipa::path(
    post,
    path = "/v1/events/{id}/replay",
    tag = "events",
    summary = "Run a received webhook again after a fix",
    description = "Runs the event's whole body again through the code of the source that received it, without the sender's authentication (the admin key vouches for it), and keeps the run as a new event whose `replay_of` names this one. Answers like the webhook itself; what was applied before is skipped. 409 when the whole body was not kept (an unverified sender's, or one over 64 KiB) or for a test URL's sample.",
    params(("id" = String, Path, description = "The event's id")),
    responses(
        (status = 200, description = "What the webhook did this time", body = WebhookAnswer),
    )
)]
async fn replay_event(
    State(app): State<App>,
    admin: Admin,
    PathParam(id): PathParam<String>,
) -> Result<Response, AppError> {
    let started = Instant::now();
    let original = find_event(&app, &admin, &id).await?;
    let replay = prepare(&original)?;
    let result = run(&app, &admin.program, &original, &replay).await;
    let received = Received {
        source: &original.source,
        hook: original.hook.as_deref(),
        started,
    };
    let mut entry = inbox_entry(&app, &received, &replay.headers, Some(&replay.body), false);
    entry.replay_of = Some(original.id);
    Ok(answer(&app, &admin.program, entry, result, started).await)
}
