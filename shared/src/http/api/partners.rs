//! `/v1/partners`: partners, and the API keys they manage their postbacks with.

use crate::app::App;
use crate::crypto::token::{hash_api_key, random_token};
use crate::domain::partner::{Partner, PartnerInput};
use crate::error::AppError;
use crate::http::api::common::{created_or_found, list_page, to_value, Paging};
use crate::http::api::schemas::{Page, PartnerApiKey, PartnerView};
use crate::http::auth::Admin;
use crate::http::error::ErrorBody;
use crate::http::extract::{JsonBody, PathParam, QueryParams};
use crate::http::idempotency::showing_secrets;
use crate::repo::keys;
use crate::usecases::{groups, partners};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(create_partner, list_partners))
        .routes(routes!(get_partner, patch_partner))
        .routes(routes!(create_partner_api_key))
}

#[utoipa::path(
    post,
    path = "/v1/partners",
    tag = "partners",
    summary = "Create a partner",
    request_body = PartnerInput,
    responses(
        (status = 201, description = "Created", body = PartnerView),
        (status = 200, description = "The same partner was there already", body = PartnerView),
    )
)]
async fn create_partner(
    State(app): State<App>,
    admin: Admin,
    JsonBody(input): JsonBody<PartnerInput>,
) -> Result<Response, AppError> {
    let (partner, created) = partners::create(&app, &admin.program, input).await?;
    Ok(created_or_found((partner.shown(), created)))
}

#[utoipa::path(
    get,
    path = "/v1/partners",
    tag = "partners",
    summary = "List partners",
    params(Paging),
    responses(
        (status = 200, description = "One page", body = Page<PartnerView>),
    )
)]
async fn list_partners(
    State(app): State<App>,
    admin: Admin,
    QueryParams(paging): QueryParams<Paging>,
) -> Result<Json<Value>, AppError> {
    list_page::<Partner>(
        &app,
        keys::partners(&admin.program.slug),
        &paging,
        false,
        |partner: &Partner| to_value(&partner.shown()),
    )
    .await
}

#[utoipa::path(
    get,
    path = "/v1/partners/{key}",
    tag = "partners",
    summary = "A partner",
    params(("key" = String, Path, description = "The partner's key")),
    responses(
        (status = 200, description = "The partner", body = PartnerView),
    )
)]
async fn get_partner(
    State(app): State<App>,
    admin: Admin,
    PathParam(key): PathParam<String>,
) -> Result<Json<Value>, AppError> {
    let partner = app
        .repo
        .find::<Partner>(&admin.program.slug, &key)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no partner has the key {key:?}")))?;
    Ok(Json(to_value(&partner.shown())))
}

/// `PATCH /v1/partners/{key}`: the partner's group; `null` puts them back under the program's
/// plan.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct PartnerPatch {
    /// A group's key, or null for the program's plan.
    #[serde(default, deserialize_with = "crate::domain::validate::present")]
    #[schema(value_type = Option<String>, required = true)]
    group_key: Option<Option<String>>,
}

#[utoipa::path(
    patch,
    path = "/v1/partners/{key}",
    tag = "partners",
    summary = "Put a partner in a group, or back under the program's plan",
    params(("key" = String, Path, description = "The partner's key")),
    request_body = PartnerPatch,
    responses(
        (status = 200, description = "The partner after the change", body = PartnerView),
        (status = 422, description = "`group_key` is missing or names no group", body = ErrorBody),
    )
)]

async fn patch_partner(
    State(app): State<App>,
    admin: Admin,
    PathParam(key): PathParam<String>,
    JsonBody(patch): JsonBody<PartnerPatch>,
) -> Result<Json<Value>, AppError> {
    let Some(group_key) = patch.group_key else {
        return Err(AppError::invalid(
            "group_key",
            "give the partner's group key, or null for the program's plan",
        ));
    };
    let partner = groups::set_partner_group(&app, &admin.program.slug, &key, group_key).await?;
    Ok(Json(to_value(&partner.shown())))
}

/// Issues a partner its API key; shown once, stored as a digest.
#[utoipa::path(
    post,
    path = "/v1/partners/{key}/api-keys",
    tag = "partners",
    summary = "Issue a partner its API key (shown once)",
    params(("key" = String, Path, description = "The partner's key")),
    responses(
        (status = 201, description = "The new key", body = PartnerApiKey),
    )
)]
async fn create_partner_api_key(
    State(app): State<App>,
    admin: Admin,
    PathParam(partner_key): PathParam<String>,
) -> Result<Response, AppError> {
    let slug = admin.program.slug.as_str();
    app.repo
        .find::<Partner>(slug, &partner_key)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no partner has the key {partner_key:?}")))?;
    let api_key = random_token("phk_p_", 32);
    app.repo
        .create_partner_key(slug, &partner_key, &hash_api_key(&api_key))
        .await?;
    let body = json!({ "api_key": api_key, "partner_key": partner_key });
    let response = (StatusCode::CREATED, Json(body)).into_response();
    Ok(showing_secrets(response, &["api_key"]))
}
