//! `/v1/program/api-keys`: the program's admin keys, full or read-only. The secret is shown
//! once, when a key is created; revoking one makes it fail at once.

use crate::app::App;
use crate::domain::api_key::{ApiKeyGrant, ApiRole};
use crate::domain::validate;
use crate::error::AppError;
use crate::http::api::common::{list_page, Paging};
use crate::http::api::schemas::{ApiKeyView, CreatedApiKey, Page};
use crate::http::auth::Admin;
use crate::http::extract::{JsonBody, PathParam, QueryParams};
use crate::http::idempotency::showing_secrets;
use crate::repo::keys;
use crate::usecases::admin_keys;
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
        .routes(routes!(create_key, list_keys))
        .routes(routes!(revoke_key))
}

/// What a key may do.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum Role {
    /// Every admin route.
    #[default]
    Admin,
    /// `GET` alone.
    ReadOnly,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewKey {
    name: String,
    #[serde(default)]
    role: Role,
}

fn view(grant: &ApiKeyGrant) -> Value {
    json!({
        "id": grant.id,
        "name": grant.name,
        "role": grant.role.as_str(),
        "created_at": grant.created_at,
        "last_used_at": grant.last_used_at,
    })
}

#[utoipa::path(
    post,
    path = "/v1/program/api-keys",
    tag = "program",
    summary = "Create an admin key (its secret is shown this once)",
    request_body = NewKey,
    responses(
        (status = 201, description = "The new key and its secret", body = CreatedApiKey),
    )
)]
async fn create_key(
    State(app): State<App>,
    admin: Admin,
    JsonBody(body): JsonBody<NewKey>,
) -> Result<Response, AppError> {
    let name = validate::name("name", &body.name)?;
    let role = match body.role {
        Role::Admin => ApiRole::Admin,
        Role::ReadOnly => ApiRole::ReadOnly,
    };
    let created = admin_keys::create(&app.repo, &admin.program.slug, &name, role).await?;
    let mut answer = view(&created.grant);
    answer["api_key"] = json!(created.api_key);
    let response = (StatusCode::CREATED, Json(answer)).into_response();
    Ok(showing_secrets(response, &["api_key"]))
}

#[utoipa::path(
    get,
    path = "/v1/program/api-keys",
    tag = "program",
    summary = "List the admin keys (never their secrets)",
    params(Paging),
    responses(
        (status = 200, description = "One page, oldest first", body = Page<ApiKeyView>),
    )
)]
async fn list_keys(
    State(app): State<App>,
    admin: Admin,
    QueryParams(paging): QueryParams<Paging>,
) -> Result<Json<Value>, AppError> {
    list_page::<ApiKeyGrant>(
        &app,
        keys::admin_keys(&admin.program.slug),
        &paging,
        false,
        view,
    )
    .await
}

#[utoipa::path(
    delete,
    path = "/v1/program/api-keys/{id}",
    tag = "program",
    summary = "Revoke an admin key: it fails at once (never the last full admin key: 409)",
    params(("id" = String, Path, description = "The key's id")),
    responses(
        (status = 204, description = "Revoked"),
    )
)]
async fn revoke_key(
    State(app): State<App>,
    admin: Admin,
    PathParam(id): PathParam<String>,
) -> Result<StatusCode, AppError> {
    admin_keys::revoke(&app.repo, &admin.program.slug, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
