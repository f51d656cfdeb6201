//! `/v1/partners`: partners, and the API keys they manage their postbacks with.

use crate::app::App;
use crate::crypto::token::{hash_api_key, random_token};
use crate::domain::partner::{Partner, PartnerInput};
use crate::error::AppError;
use crate::http::api::common::{created_or_found, list_page, to_value, Paging};
use crate::http::auth::Admin;
use crate::http::extract::{JsonBody, PathParam, QueryParams};
use crate::repo::keys;
use crate::usecases::{groups, partners};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/v1/partners", post(create_partner).get(list_partners))
        .route("/v1/partners/{key}", get(get_partner).patch(patch_partner))
        .route("/v1/partners/{key}/api-keys", post(create_partner_api_key))
}

async fn create_partner(
    State(app): State<App>,
    admin: Admin,
    JsonBody(input): JsonBody<PartnerInput>,
) -> Result<Response, AppError> {
    Ok(created_or_found(
        partners::create(&app, &admin.program, input).await?,
    ))
}

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
        to_value,
    )
    .await
}

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
    Ok(Json(to_value(&partner)))
}

/// `PATCH /v1/partners/{key}`: the partner's group; `null` puts them back under the program's
/// plan.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PartnerPatch {
    #[serde(default, deserialize_with = "crate::domain::validate::present")]
    group_key: Option<Option<String>>,
}

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
    Ok(Json(to_value(&partner)))
}

/// Issues a partner its API key; shown once, stored as a digest.
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
    Ok((StatusCode::CREATED, Json(body)).into_response())
}
