//! The API's own transactions: `POST`/`GET /v1/customers/{key}/transactions` and `POST
//! /v1/transactions/{key}/refunds`. Amounts are integers in the currency's minor units.

use crate::app::App;
use crate::domain::api_transaction::{RefundInput, TransactionInput};
use crate::domain::transaction::Transaction;
use crate::error::AppError;
use crate::http::api::common::Paging;
use crate::http::api::schemas::{ApiTransactionView, Page};
use crate::http::api::transactions::transaction_view;
use crate::http::auth::Admin;
use crate::http::extract::{JsonBody, PathParam, QueryParams};
use crate::http::idempotency::{header_key, RepeatStatus};
use crate::usecases::ledger::api_transactions;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(create_transaction, list_transactions))
        .routes(routes!(refund_transaction))
}

/// A transaction as these routes show it: every field of the other transaction routes, with
/// `product_key` and `category_key`, and `created_at` the sale's time (the body's
/// `created_at`, else when it was recorded; `recorded_at` is the latter).
pub fn api_transaction_view(tx: &Transaction) -> Value {
    let mut view = transaction_view(tx);
    view["product_key"] = json!(tx.product.id);
    view["category_key"] = json!(tx.product.category);
    view["created_at"] = json!(tx.transaction_date.unwrap_or(tx.created_at));
    view["recorded_at"] = json!(tx.created_at);
    view
}

#[utoipa::path(
    post,
    path = "/v1/customers/{key}/transactions",
    tag = "transactions",
    summary = "Record a customer's transaction",
    params(("key" = String, Path, description = "The customer's key"), ("Idempotency-Key" = Option<String>, Header, description = "The transaction's key when the body has none")),
    request_body = TransactionInput,
    responses(
        (status = 201, description = "Recorded", body = ApiTransactionView),
        (status = 200, description = "The same transaction was recorded already", body = ApiTransactionView),
    )
)]
async fn create_transaction(
    State(app): State<App>,
    admin: Admin,
    PathParam(customer_key): PathParam<String>,
    headers: HeaderMap,
    JsonBody(input): JsonBody<TransactionInput>,
) -> Result<Response, AppError> {
    let fallback = header_key(&headers);
    let (tx, created) =
        api_transactions::record(&app, &admin.program, &customer_key, input, fallback).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut response = (status, Json(api_transaction_view(&tx))).into_response();
    // A repeat under the same Idempotency-Key is a repeat of the same transaction: 200.
    response
        .extensions_mut()
        .insert(RepeatStatus(StatusCode::OK));
    Ok(response)
}

#[utoipa::path(
    get,
    path = "/v1/customers/{key}/transactions",
    operation_id = "list_customer_transactions",
    tag = "transactions",
    summary = "A customer's transactions, newest first",
    params(("key" = String, Path, description = "The customer's key"), Paging),
    responses(
        (status = 200, description = "One page", body = Page<ApiTransactionView>),
    )
)]
async fn list_transactions(
    State(app): State<App>,
    admin: Admin,
    PathParam(customer_key): PathParam<String>,
    QueryParams(paging): QueryParams<Paging>,
) -> Result<Json<Value>, AppError> {
    let page = api_transactions::of_customer(
        &app,
        &admin.program,
        &customer_key,
        paging.limit(),
        paging.cursor(),
    )
    .await?;
    Ok(Json(json!({
        "data": page.items.iter().map(api_transaction_view).collect::<Vec<_>>(),
        "next_cursor": page.next_cursor,
    })))
}

#[utoipa::path(
    post,
    path = "/v1/transactions/{key}/refunds",
    tag = "transactions",
    summary = "Refund a transaction, fully or in part",
    params(("key" = String, Path, description = "The transaction's key"), ("Idempotency-Key" = Option<String>, Header, description = "The refund's key when the body has none")),
    request_body = RefundInput,
    responses(
        (status = 200, description = "The transaction after the refund", body = ApiTransactionView),
    )
)]
async fn refund_transaction(
    State(app): State<App>,
    admin: Admin,
    PathParam(key): PathParam<String>,
    headers: HeaderMap,
    JsonBody(input): JsonBody<RefundInput>,
) -> Result<Json<Value>, AppError> {
    let fallback = header_key(&headers);
    let tx = api_transactions::refund(&app, &admin.program, &key, &input, fallback).await?;
    Ok(Json(api_transaction_view(&tx)))
}
