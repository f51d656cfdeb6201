//! `/v1/customers`: create, read, change (a partner link among them) and delete customers.

use crate::app::App;
use crate::domain::customer::{Customer, CustomerChange, CustomerInput};
use crate::error::AppError;
use crate::http::api::common::{created_or_found, list_page, to_value, Paging};
use crate::http::api::schemas::{CustomerView, Page};
use crate::http::auth::Admin;
use crate::http::extract::{JsonBody, PathParam, QueryParams};
use crate::repo::keys;
use crate::usecases::customers::manage;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(create_customer, list_customers))
        .routes(routes!(get_customer, patch_customer, delete_customer))
}

#[utoipa::path(
    post,
    path = "/v1/customers",
    tag = "customers",
    summary = "Create a customer",
    request_body = CustomerInput,
    responses(
        (status = 201, description = "Created", body = CustomerView),
        (status = 200, description = "The same customer was there already", body = CustomerView),
    )
)]
async fn create_customer(
    State(app): State<App>,
    admin: Admin,
    JsonBody(input): JsonBody<CustomerInput>,
) -> Result<Response, AppError> {
    Ok(created_or_found(
        manage::create(&app, &admin.program, input).await?,
    ))
}

#[utoipa::path(
    get,
    path = "/v1/customers",
    tag = "customers",
    summary = "List customers",
    params(Paging),
    responses(
        (status = 200, description = "One page", body = Page<CustomerView>),
    )
)]
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

#[utoipa::path(
    get,
    path = "/v1/customers/{key}",
    tag = "customers",
    summary = "A customer",
    params(("key" = String, Path, description = "The customer's key")),
    responses(
        (status = 200, description = "The customer", body = CustomerView),
    )
)]
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

#[utoipa::path(
    patch,
    path = "/v1/customers/{key}",
    tag = "customers",
    summary = "Change a customer",
    params(("key" = String, Path, description = "The customer's key")),
    request_body = CustomerChange,
    responses(
        (status = 200, description = "The customer after the change", body = CustomerView),
    )
)]
async fn patch_customer(
    State(app): State<App>,
    admin: Admin,
    PathParam(key): PathParam<String>,
    JsonBody(change): JsonBody<CustomerChange>,
) -> Result<Json<Value>, AppError> {
    let customer = manage::update(&app, &admin.program, &key, change).await?;
    Ok(Json(to_value(&customer.shown())))
}

#[utoipa::path(
    delete,
    path = "/v1/customers/{key}",
    tag = "customers",
    summary = "Delete a customer",
    params(("key" = String, Path, description = "The customer's key")),
    responses(
        (status = 204, description = "Deleted"),
    )
)]
async fn delete_customer(
    State(app): State<App>,
    admin: Admin,
    PathParam(key): PathParam<String>,
) -> Result<StatusCode, AppError> {
    manage::delete(&app, &admin.program, &key).await?;
    Ok(StatusCode::NO_CONTENT)
}
