//! What every resource of the API shares: paging, listings, and how a created-or-found record
//! is answered.

use crate::app::App;
use crate::domain::money::Currency;
use crate::error::AppError;
use crate::repo::core::Listing;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::IntoParams;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

impl Paging {
    pub fn limit(&self) -> usize {
        self.limit.unwrap_or(50).clamp(1, 200)
    }

    pub fn cursor(&self) -> Option<&str> {
        self.cursor.as_deref()
    }
}

fn listing<T>(listing: Listing<T>, view: impl Fn(&T) -> Value) -> Json<Value> {
    Json(json!({
        "data": listing.items.iter().map(view).collect::<Vec<_>>(),
        "next_cursor": listing.next_cursor,
    }))
}

/// An amount in the currency's minor units (cents), as the API shows money.
pub fn minor(currency: Currency, amount: Decimal) -> Option<i64> {
    currency.to_minor(amount).ok()
}

pub fn to_value<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// 201 with the record when this request created it, 200 when it was there already.
pub fn created_or_found<T: serde::Serialize>((value, created): (T, bool)) -> Response {
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (status, Json(to_value(&value))).into_response()
}

/// One page of an index listing (`keys` names them), each item shown with `view`.
pub async fn list_page<T: DeserializeOwned>(
    app: &App,
    index_pk: String,
    paging: &Paging,
    newest_first: bool,
    view: impl Fn(&T) -> Value,
) -> Result<Json<Value>, AppError> {
    let page = app
        .repo
        .list::<T>(index_pk, paging.limit(), paging.cursor(), newest_first)
        .await?;
    Ok(listing(page, view))
}
