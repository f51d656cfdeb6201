//! `/v1/customers`: create, read, change (a partner link among them) and delete customers.

use crate::app::App;
use crate::domain::customer::{Customer, CustomerChange, CustomerInput};
use crate::error::AppError;
use crate::http::api::common::{created_or_found, list_page, to_value, Paging};
use crate::http::auth::Admin;
use crate::http::extract::{JsonBody, PathParam, QueryParams};
use crate::repo::keys;
use crate::usecases::customers::manage;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::Value;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/v1/customers", post(create_customer).get(list_customers))
        .route(
            "/v1/customers/{key}",
            get(get_customer)
                .patch(patch_customer)
                .delete(delete_customer),
        )
}

async fn create_customer(
    State(app): State<App>,
    admin: Admin,
    JsonBody(input): JsonBody<CustomerInput>,
) -> Result<Response, AppError> {
    Ok(created_or_found(
        manage::create(&app, &admin.program, input).await?,
    ))
}

async fn list_customers(
    State(app): State<App>,
    admin: Admin,
    QueryParams(paging): QueryParams<Paging>,
) -> Result<Json<Value>, AppError> {
    list_page::<Customer>(
        &app,
        keys::customers(&admin.program.slug),
        &paging,
        false,
        |c: &Customer| to_value(&c.shown()),
    )
    .await
}

async fn get_customer(
    State(app): State<App>,
    admin: Admin,
    PathParam(key): PathParam<String>,
) -> Result<Json<Value>, AppError> {
    let customer = app
        .repo
        .find::<Customer>(&admin.program.slug, &key)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no customer has the key {key:?}")))?;
    Ok(Json(to_value(&customer.shown())))
}

async fn patch_customer(
    State(app): State<App>,
    admin: Admin,
    PathParam(key): PathParam<String>,
    JsonBody(change): JsonBody<CustomerChange>,
) -> Result<Json<Value>, AppError> {
    let customer = manage::update(&app, &admin.program, &key, change).await?;
    Ok(Json(to_value(&customer.shown())))
}

async fn delete_customer(
    State(app): State<App>,
    admin: Admin,
    PathParam(key): PathParam<String>,
) -> Result<StatusCode, AppError> {
    manage::delete(&app, &admin.program, &key).await?;
    Ok(StatusCode::NO_CONTENT)
}
