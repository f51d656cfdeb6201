//! `/v1/transactions`: listed by status, read, and assigned when no partner was found.

use crate::app::App;
use crate::domain::transaction::{Transaction, TransactionStatus};
use crate::error::AppError;
use crate::http::api::common::{list_page, minor, Paging};
use crate::http::auth::Admin;
use crate::http::extract::{JsonBody, PathParam, QueryParams};
use crate::repo::keys;
use crate::usecases::ledger::transactions::assign;
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/v1/transactions", get(list_transactions))
        .route("/v1/transactions/{key}", get(get_transaction))
        .route("/v1/transactions/{key}/assign", post(assign_transaction))
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

#[derive(Debug, Deserialize)]
struct TransactionFilter {
    status: Option<String>,
}

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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Assignment {
    partner_key: String,
}

async fn assign_transaction(
    State(app): State<App>,
    admin: Admin,
    PathParam(key): PathParam<String>,
    JsonBody(body): JsonBody<Assignment>,
) -> Result<Json<Value>, AppError> {
    let updated = assign(&app, &admin.program, &key, &body.partner_key).await?;
    Ok(Json(transaction_view(&updated)))
}
