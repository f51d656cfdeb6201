//! `/v1/audit`: the changes made with the program's admin keys, newest first.

use crate::app::App;
use crate::domain::audit::AuditEntry;
use crate::error::AppError;
use crate::http::api::common::{list_page, Paging};
use crate::http::api::schemas::{AuditEntryView, Page};
use crate::http::auth::Admin;
use crate::http::extract::QueryParams;
use crate::repo::keys;
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(list_audit))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct AuditFilter {
    /// Only the changes made with this key.
    key_id: Option<String>,
}

fn view(entry: &AuditEntry) -> Value {
    json!({
        "id": entry.id,
        "at": entry.at,
        "key": {"id": entry.key_id, "name": entry.key_name},
        "method": entry.method,
        "route": entry.route,
        "path": entry.path,
        "status": entry.status,
        "before_digest": entry.before,
        "after_digest": entry.after,
    })
}

#[utoipa::path(
    get,
    path = "/v1/audit",
    tag = "program",
    summary = "The audit log: every change made with an admin key, newest first",
    params(AuditFilter, Paging),
    responses(
        (status = 200, description = "One page", body = Page<AuditEntryView>),
    )
)]
async fn list_audit(
    State(app): State<App>,
    admin: Admin,
    QueryParams(filter): QueryParams<AuditFilter>,
    QueryParams(paging): QueryParams<Paging>,
) -> Result<Json<Value>, AppError> {
    let slug = &admin.program.slug;
    let index = match &filter.key_id {
        Some(key_id) => keys::audit_of_key(slug, key_id),
        None => keys::audit(slug),
    };
    list_page::<AuditEntry>(&app, index, &paging, true, view).await
}
