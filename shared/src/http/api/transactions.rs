//! `/v1/transactions`: listed by status, read, and assigned when no partner was found.

use crate::app::App;
use crate::domain::transaction::{Transaction, TransactionStatus};
use crate::error::AppError;
use crate::http::api::common::{list_page, minor, Paging};
use crate::http::api::schemas::{Page, TransactionView};
use crate::http::auth::Admin;
use crate::http::extract::{JsonBody, PathParam, QueryParams};
use crate::repo::keys;
use crate::usecases::ledger::transactions::assign;
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_transactions))
        .routes(routes!(get_transaction))
        .routes(routes!(assign_transaction))
}

pub fn transaction_view(tx: &Transaction) -> Value {
    let c = tx.amounts.currency;
    json!({
        "key": tx.key,
        "source": tx.source,
        "status": tx.status,
        "unassigned_reason": tx.unassigned_reason,
        "customer_key": tx.customer_key,
        "partner_id": tx.partner_ref,
        "partner_key": tx.partner_key,
        "currency": c,
        "amount": minor(c, tx.amounts.gross),
        "net_amount": tx.amounts.net.and_then(|n| minor(c, n)),
        "tax_amount": tx.amounts.tax.and_then(|t| minor(c, t)),
        "amount_decimal": tx.amounts.gross,
        "net_amount_decimal": tx.amounts.net,
        "tax_amount_decimal": tx.amounts.tax,
        "tax_rate": tx.amounts.tax_rate,
        "refunded_amount": minor(c, tx.amounts.refunded),
        "refunded_amount_decimal": c.round(tx.amounts.refunded),
        "product_id": tx.product.id,
        "product_name": tx.product.name,
        "product_type": tx.product.category,
        "campaign_slug": tx.campaign_slug,
        "is_recurring": tx.is_recurring,
        "recurring_number": tx.recurring_number,
        "transaction_date": tx.transaction_date,
        "created_at": tx.created_at,
        "updated_at": tx.updated_at,
        "refunded_at": tx.refunded_at,
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct TransactionFilter {
    status: Option<String>,
}

#[utoipa::path(
    get,
    path = "/v1/transactions",
    tag = "transactions",
    summary = "Transactions of one status",
    params(TransactionFilter, Paging),
    responses(
        (status = 200, description = "One page", body = Page<TransactionView>),
    )
)]
async fn list_transactions(
    State(app): State<App>,
    admin: Admin,
    QueryParams(filter): QueryParams<TransactionFilter>,
    QueryParams(paging): QueryParams<Paging>,
) -> Result<Json<Value>, AppError> {
    let wanted = filter.status.as_deref().unwrap_or("");
    let status = TransactionStatus::parse(wanted).ok_or_else(|| {
        AppError::BadRequest(
            "give ?status= one of recorded, commissioned, unassigned, refunded".into(),
        )
    })?;
    list_page::<Transaction>(
        &app,
        keys::transactions_with_status(&admin.program.slug, status.as_str()),
        &paging,
        false,
        transaction_view,
    )
    .await
}

#[utoipa::path(
    get,
    path = "/v1/transactions/{key}",
    tag = "transactions",
    summary = "A transaction",
    params(("key" = String, Path, description = "The transaction's key")),
    responses(
        (status = 200, description = "The transaction", body = TransactionView),
    )
)]
async fn get_transaction(
    State(app): State<App>,
    admin: Admin,
    PathParam(key): PathParam<String>,
) -> Result<Json<Value>, AppError> {
    let tx = app
        .repo
        .find::<Transaction>(&admin.program.slug, &key)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no transaction has the key {key:?}")))?;
    Ok(Json(transaction_view(&tx)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Assignment {
    partner_key: String,
}

#[utoipa::path(
    post,
    path = "/v1/transactions/{key}/assign",
    tag = "transactions",
    summary = "Assign an unassigned transaction to a partner",
    params(("key" = String, Path, description = "The transaction's key")),
    request_body = Assignment,
    responses(
        (status = 200, description = "The transaction after the assignment", body = TransactionView),
    )
)]
async fn assign_transaction(
    State(app): State<App>,
    admin: Admin,
    PathParam(key): PathParam<String>,
    JsonBody(body): JsonBody<Assignment>,
) -> Result<Json<Value>, AppError> {
    let updated = assign(&app, &admin.program, &key, &body.partner_key).await?;
    Ok(Json(transaction_view(&updated)))
}
