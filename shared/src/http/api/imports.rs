//! Imports of transactions from CSV: `POST /v1/imports/transactions` (`text/csv`, optionally
//! `?dry_run=true`) and `GET /v1/imports/{id}`. An import needs no `Idempotency-Key`: each
//! row's key (its own, or derived from its content and row number) makes it a repeat-safe
//! request by itself, so it is routed outside that middleware, whose limit is the JSON one.

use crate::app::App;
use crate::domain::csv_import::read_csv;
use crate::domain::import::{Import, RowError, RowResult, RowStatus};
use crate::error::AppError;
use crate::http::api::schemas::ImportView;
use crate::http::auth::Admin;
use crate::http::extract::{CsvBody, PathParam, QueryParams};
use crate::usecases::ledger::imports::{self, RowOutcome};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(import_transactions))
        .routes(routes!(show_import))
}

const MAX_FIRST_ROW: usize = 1_000_000_000;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ImportQuery {
    dry_run: Option<bool>,
    /// The file's row number of the body's first data row, when the body is a chunk of a
    /// larger file (the CLI's), so rows are named and keyed as in the whole file.
    first_row: Option<usize>,
}

fn view(head: &Import, results: &[RowResult]) -> Value {
    json!({
        "id": head.id,
        "rows": head.rows,
        "created": head.created,
        "skipped": head.skipped,
        "failed": head.failed,
        "dry_run": head.dry_run,
        "warnings": head.warnings,
        "created_at": head.created_at,
        "results": results,
    })
}

/// A row's outcome as the answer shows it; errors worded as the API words them.
fn result(outcome: RowOutcome) -> RowResult {
    let (status, error) = match outcome.result {
        Ok(status) => (status, None),
        Err(e) => {
            if e.status().is_server_error() {
                tracing::error!(error = %e, row = outcome.row, "an imported row failed");
            }
            let field = match &e {
                AppError::InvalidField { field, .. } => Some(field.clone()),
                _ => None,
            };
            let error = RowError {
                code: e.code().to_string(),
                message: e.public_message(),
                field,
            };
            (RowStatus::Failed, Some(error))
        }
    };
    RowResult {
        row: outcome.row,
        status,
        key: outcome.key,
        error,
    }
}

#[utoipa::path(
    post,
    path = "/v1/imports/transactions",
    tag = "imports",
    summary = "Import transactions from a CSV file",
    params(ImportQuery),
    request_body(content = String, content_type = "text/csv", description = "Header row required; columns customer_key, amount or amount_decimal, currency, key, category_key, product_key, created_at"),
    responses(
        (status = 201, description = "Imported", body = ImportView),
        (status = 200, description = "Dry run: validated, nothing written", body = ImportView),
    )
)]
async fn import_transactions(
    State(app): State<App>,
    admin: Admin,
    QueryParams(query): QueryParams<ImportQuery>,
    CsvBody(bytes): CsvBody,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let first_row = query.first_row.unwrap_or(2);
    // Bounded so that numbering the rows cannot overflow.
    if !(2..=MAX_FIRST_ROW).contains(&first_row) {
        return Err(AppError::invalid(
            "first_row",
            "must be from 2 (row 1 is the header) to 1000000000",
        ));
    }
    let dry_run = query.dry_run.unwrap_or(false);
    let file = read_csv(&bytes, first_row)?;
    let outcomes = imports::run(&app, &admin.program, file.rows, dry_run).await;
    let results: Vec<RowResult> = outcomes.into_iter().map(result).collect();
    let head = imports::save(&app, &admin.program, &results, file.warnings, dry_run).await?;
    let status = if dry_run {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(view(&head, &results))))
}

#[utoipa::path(
    get,
    path = "/v1/imports/{id}",
    tag = "imports",
    summary = "An import's results",
    params(("id" = String, Path, description = "The import's id")),
    responses(
        (status = 200, description = "The import", body = ImportView),
    )
)]
async fn show_import(
    State(app): State<App>,
    admin: Admin,
    PathParam(id): PathParam<String>,
) -> Result<Json<Value>, AppError> {
    let (head, results) = imports::find(&app, &admin.program, &id).await?;
    Ok(Json(view(&head, &results)))
}
