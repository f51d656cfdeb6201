//! An import's answer, kept so `GET /v1/imports/{id}` gives it again: counts, warnings and one
//! result per row. Stored as a head and parts of [`PART_ROWS`] results, since one DynamoDB
//! item holds at most 400 KB and a file may have many thousand rows.

use crate::domain::time::Millis;
use serde::{Deserialize, Serialize};

/// Results per stored part: a result is well under 800 bytes, so a part stays under 400 KB.
pub const PART_ROWS: usize = 500;
/// Imports are kept this long.
pub const RETENTION_SECONDS: i64 = 30 * 24 * 3600;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RowStatus {
    Created,
    Skipped,
    Failed,
}

/// Why a row failed, as the API's errors say it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowError {
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowResult {
    pub row: usize,
    pub status: RowStatus,
    pub key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<RowError>,
}

/// The head of an import: what the answer says besides the rows' results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Import {
    pub id: String,
    pub rows: usize,
    pub created: usize,
    pub skipped: usize,
    pub failed: usize,
    pub warnings: Vec<String>,
    pub dry_run: bool,
    pub created_at: Millis,
    /// How many [`ImportPart`]s hold the results.
    pub parts: usize,
    /// Epoch seconds; the store drops the record afterwards.
    pub expires_at: i64,
}

/// Results `PART_ROWS * part ..` of import `import_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportPart {
    pub import_id: String,
    pub part: usize,
    pub results: Vec<RowResult>,
    pub expires_at: i64,
}

impl Import {
    /// The head of an import of `results`, made at `now`.
    pub fn of(
        id: String,
        results: &[RowResult],
        warnings: Vec<String>,
        dry_run: bool,
        now: Millis,
    ) -> Self {
        let count = |status| results.iter().filter(|r| r.status == status).count();
        Import {
            id,
            rows: results.len(),
            created: count(RowStatus::Created),
            skipped: count(RowStatus::Skipped),
            failed: count(RowStatus::Failed),
            warnings,
            dry_run,
            created_at: now,
            parts: results.len().div_ceil(PART_ROWS),
            expires_at: now / 1000 + RETENTION_SECONDS,
        }
    }

    /// The parts that keep `results`.
    pub fn parts_of(&self, results: &[RowResult]) -> Vec<ImportPart> {
        results
            .chunks(PART_ROWS)
            .enumerate()
            .map(|(part, chunk)| ImportPart {
                import_id: self.id.clone(),
                part,
                results: chunk.to_vec(),
                expires_at: self.expires_at,
            })
            .collect()
    }
}
