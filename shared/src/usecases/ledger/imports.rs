//! Imports of transactions from a CSV file: each row goes through the Transactions API's own
//! use case (checked the same, commission queued the same), a bad row failing alone; the
//! answer is kept a while so it can be read again.

use crate::app::App;
use crate::domain::csv_import::CsvRow;
use crate::domain::error::FieldError;
use crate::domain::import::{Import, ImportPart, RowResult, RowStatus, PART_ROWS};
use crate::domain::program::Program;
use crate::error::AppError;
use crate::repo::keys;
use crate::usecases::ledger::api_transactions;
use futures::StreamExt;

/// Rows handled at once: a few, so a large file goes faster against DynamoDB while the
/// results keep the file's order.
const CONCURRENCY: usize = 4;

/// What became of one row; the error is the caller's to word.
pub struct RowOutcome {
    pub row: usize,
    pub key: Option<String>,
    pub result: Result<RowStatus, AppError>,
}

/// Records (or, on a dry run, only checks) each row, in the file's order.
pub async fn run(
    app: &App,
    program: &Program,
    rows: Vec<Result<CsvRow, (usize, FieldError)>>,
    dry_run: bool,
) -> Vec<RowOutcome> {
    futures::stream::iter(rows)
        .map(|row| one(app, program, row, dry_run))
        .buffered(CONCURRENCY)
        .collect()
        .await
}

async fn one(
    app: &App,
    program: &Program,
    row: Result<CsvRow, (usize, FieldError)>,
    dry_run: bool,
) -> RowOutcome {
    let row = match row {
        Ok(row) => row,
        Err((row, error)) => {
            return RowOutcome {
                row,
                key: None,
                result: Err(error.into()),
            }
        }
    };
    let result = async {
        let (customer_key, input) = row.input()?;
        let new = if dry_run {
            api_transactions::check(app, program, &customer_key, input).await?
        } else {
            api_transactions::record(app, program, &customer_key, input, None)
                .await?
                .1
        };
        Ok(if new {
            RowStatus::Created
        } else {
            RowStatus::Skipped
        })
    };
    RowOutcome {
        row: row.row,
        key: Some(row.key()),
        result: result.await,
    }
}

/// The import of `results`, kept for later reads unless it is a dry run (which writes
/// nothing, so its id cannot be read again).
pub async fn save(
    app: &App,
    program: &Program,
    results: &[RowResult],
    warnings: Vec<String>,
    dry_run: bool,
) -> Result<Import, AppError> {
    let id = uuid::Uuid::now_v7().to_string();
    let head = Import::of(id, results, warnings, dry_run, app.repo.now());
    if dry_run {
        return Ok(head);
    }
    // The parts first: a head that is found has all of its results.
    for part in head.parts_of(results) {
        app.repo.insert(&program.slug, &part).await?;
    }
    app.repo.insert(&program.slug, &head).await?;
    Ok(head)
}

/// Import `id` and its results, in row order.
pub async fn find(
    app: &App,
    program: &Program,
    id: &str,
) -> Result<(Import, Vec<RowResult>), AppError> {
    let head = app
        .repo
        .find::<Import>(&program.slug, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no import has the id {id:?}")))?;
    let mut results = Vec::with_capacity(head.rows.min(PART_ROWS * head.parts));
    for part in 0..head.parts {
        let location = keys::import_part(&program.slug, &head.id, part);
        let stored = app.repo.get_at::<ImportPart>(location).await?;
        let stored = stored.ok_or_else(|| {
            AppError::Internal(format!(
                "import {id}: part {part} of its results is missing"
            ))
        })?;
        results.extend(stored.value.results);
    }
    Ok((head, results))
}
