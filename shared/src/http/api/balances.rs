//! Balances: `GET /v1/partners/{key}/balance` for admins, per currency.

use crate::app::App;
use crate::domain::balance::{balances, Balance};
use crate::domain::money::Currency;
use crate::domain::partner::Partner;
use crate::error::AppError;
use crate::http::api::common::minor;
use crate::http::api::schemas::PartnerBalance;
use crate::http::auth::Admin;
use crate::http::extract::PathParam;
use crate::usecases::payouts::rewards_of_partner;
use axum::extract::State;
use axum::Json;
use serde_json::{json, Map, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(partner_balance))
}

fn amounts(currency: Currency, amount: rust_decimal::Decimal) -> (Value, Value) {
    (json!(minor(currency, amount)), json!(amount))
}

fn balance_view(currency: Currency, b: &Balance) -> Value {
    let mut view = Map::new();
    view.insert("currency".into(), json!(currency));
    for (name, amount) in [
        ("pending", b.pending),
        ("on_hold", b.on_hold),
        ("approved", b.approved),
        ("paid", b.paid),
        ("clawed_back", b.clawed_back),
    ] {
        let (minor, decimal) = amounts(currency, amount);
        view.insert(name.into(), minor);
        view.insert(format!("{name}_decimal"), decimal);
    }
    view.insert("next_payment_date".into(), json!(b.next_payment_date));
    Value::Object(view)
}

/// A partner's balance in each currency it has rewards in: `{"partner_key", "data": [...]}`.
pub async fn balance_of(app: &App, slug: &str, partner: &str) -> Result<Json<Value>, AppError> {
    let rewards = rewards_of_partner(app, slug, partner).await?;
    let data: Vec<Value> = balances(&rewards)
        .iter()
        .filter_map(|(code, b)| Currency::parse(code).ok().map(|c| balance_view(c, b)))
        .collect();
    Ok(Json(json!({ "partner_key": partner, "data": data })))
}

#[utoipa::path(
    get,
    path = "/v1/partners/{key}/balance",
    tag = "partners",
    summary = "A partner's balance in each currency it has rewards in",
    params(("key" = String, Path, description = "The partner's key")),
    responses(
        (status = 200, description = "The balance per currency", body = PartnerBalance),
    )
)]
async fn partner_balance(
    State(app): State<App>,
    admin: Admin,
    PathParam(key): PathParam<String>,
) -> Result<Json<Value>, AppError> {
    let slug = admin.program.slug.as_str();
    if app.repo.find::<Partner>(slug, &key).await?.is_none() {
        return Err(AppError::NotFound(format!(
            "no partner has the key {key:?}"
        )));
    }
    balance_of(&app, slug, &key).await
}
