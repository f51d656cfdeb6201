//! The shapes of the API's answers (and of the bodies kept in the domain), for the OpenAPI
//! document only: the views are built with `serde_json::json!` next to their handlers, and each
//! struct here names the same fields. `tests/e2e/openapi.rs` checks real answers against them,
//! so a field added to a view without its schema fails there.

mod access;
pub mod groups;
mod ledger;
mod lifecycle;
mod setup;

pub use access::*;
pub use ledger::*;
pub use lifecycle::*;
pub use setup::*;

use serde::Serialize;
use utoipa::ToSchema;

/// One page of a listing; `next_cursor` is null on the last.
#[derive(Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
}
