//! `/v1/payouts`: pay a partner's approved rewards in a currency (idempotent by
//! `Idempotency-Key`, safe across crashes and concurrent payouts), list a partner's payouts,
//! show one, and `GET /v1/payouts/{id}.csv`: one line per reward, for accounting.

use crate::app::App;
use crate::domain::payout::Payout;
use crate::domain::reward::Reward;
use crate::error::AppError;
use crate::http::api::common::{list_page, minor, Paging};
use crate::http::api::rewards::reward_view;
use crate::http::api::schemas::{Page, PayoutDetail, PayoutView};
use crate::http::auth::Admin;
use crate::http::error::ErrorBody;
use crate::http::extract::{JsonBody, PathParam, QueryParams};
use crate::http::idempotency::{header_key, RepeatStatus};
use crate::repo::keys;
use crate::usecases::payouts::{self, PayoutRequest};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(create_payout, list_payouts))
        .routes(routes!(show_payout))
}

pub fn payout_view(payout: &Payout) -> Value {
    json!({
        "id": payout.id,
        "partner_key": payout.partner_key,
        "currency": payout.currency,
        "status": payout.status,
        "total": minor(payout.currency, payout.total),
        "total_decimal": payout.total,
        "reward_count": payout.reward_count,
        "created_at": payout.created_at,
        "completed_at": payout.completed_at,
    })
}

#[utoipa::path(
    post,
    path = "/v1/payouts",
    tag = "payouts",
    summary = "Pay a partner's approved rewards (less unpaid clawbacks) in one currency",
    request_body = PayoutRequest,
    responses(
        (status = 201, description = "Paid", body = PayoutView),
        (status = 200, description = "A repeat under the same `Idempotency-Key`: the same payout", body = PayoutView),
        (status = 422, description = "`nothing_to_pay`, `negative_total` (clawbacks exceed the approved rewards), `below_min_payout`, or a field refused", body = ErrorBody),
    )
)]
async fn create_payout(
    State(app): State<App>,
    admin: Admin,
    headers: HeaderMap,
    JsonBody(request): JsonBody<PayoutRequest>,
) -> Result<Response, AppError> {
    let (payout, created) =
        payouts::create_payout(&app, &admin.program, request, header_key(&headers)).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut response = (status, Json(payout_view(&payout))).into_response();
    response
        .extensions_mut()
        .insert(RepeatStatus(StatusCode::OK));
    Ok(response)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct PayoutFilter {
    /// Whose payouts (required).
    #[param(required = true)]
    partner_key: Option<String>,
}

#[utoipa::path(
    get,
    path = "/v1/payouts",
    tag = "payouts",
    summary = "A partner's payouts, newest first",
    params(PayoutFilter, Paging),
    responses(
        (status = 200, description = "One page", body = Page<PayoutView>),
    )
)]
async fn list_payouts(
    State(app): State<App>,
    admin: Admin,
    QueryParams(filter): QueryParams<PayoutFilter>,
    QueryParams(paging): QueryParams<Paging>,
) -> Result<Json<Value>, AppError> {
    let partner = filter
        .partner_key
        .ok_or_else(|| AppError::BadRequest("give ?partner_key=".into()))?;
    let index = keys::payouts_of_partner(&admin.program.slug, &partner);
    list_page::<Payout>(&app, index, &paging, true, payout_view).await
}

/// `{id}` shows the payout with its rewards; `{id}.csv` answers the rewards as CSV.
#[utoipa::path(
    get,
    path = "/v1/payouts/{id}",
    tag = "payouts",
    summary = "A payout with its rewards; as CSV for accounting when the id ends in `.csv`",
    params(("id" = String, Path, description = "The payout's id; `{id}.csv` answers its rewards as CSV")),
    responses(
        (status = 200, description = "The payout and its rewards (JSON for `{id}`); for `{id}.csv`, \
            one CSV line per reward under the header `payout_id,partner_key,reward_key,source,\
            transaction_key,action_key,reverses,level,currency,amount,amount_decimal,created_at`",
            content(
                (PayoutDetail = "application/json"),
                (String = "text/csv"),
            )
        ),
    )
)]
async fn show_payout(
    State(app): State<App>,
    admin: Admin,
    PathParam(id): PathParam<String>,
) -> Result<Response, AppError> {
    let slug = admin.program.slug.as_str();
    let (id, csv) = match id.strip_suffix(".csv") {
        Some(id) => (id.to_string(), true),
        None => (id, false),
    };
    let payout = app
        .repo
        .find::<Payout>(slug, &id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no payout has the id {id:?}")))?;
    let rewards = payouts::rewards_of_payout(&app, slug, &id).await?;
    if csv {
        let body = payout_csv(&payout, &rewards)?;
        return Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response());
    }
    let mut view = payout_view(&payout);
    view["rewards"] = rewards.iter().map(reward_view).collect();
    Ok(Json(view).into_response())
}

/// One line per reward: what accounting needs to book it.
pub fn payout_csv(payout: &Payout, rewards: &[Reward]) -> Result<String, AppError> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let failed = |e: csv::Error| AppError::Internal(format!("payout CSV: {e}"));
    out.write_record([
        "payout_id",
        "partner_key",
        "reward_key",
        "source",
        "transaction_key",
        "action_key",
        "reverses",
        "level",
        "currency",
        "amount",
        "amount_decimal",
        "created_at",
    ])
    .map_err(failed)?;
    for r in rewards {
        let source = serde_json::to_value(r.source).unwrap_or_default();
        out.write_record([
            payout.id.as_str(),
            r.partner_key.as_str(),
            r.key.as_str(),
            source.as_str().unwrap_or_default(),
            r.transaction_key.as_deref().unwrap_or_default(),
            r.action_key.as_deref().unwrap_or_default(),
            r.reverses.as_deref().unwrap_or_default(),
            &r.level.to_string(),
            r.currency.code(),
            &minor(r.currency, r.amount)
                .map(|m| m.to_string())
                .unwrap_or_default(),
            &r.amount.to_string(),
            &r.created_at.to_string(),
        ])
        .map_err(failed)?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| AppError::Internal(format!("payout CSV: {e}")))?;
    String::from_utf8(bytes).map_err(|e| AppError::Internal(format!("payout CSV: {e}")))
}
