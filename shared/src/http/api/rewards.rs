//! `/v1/rewards`: a transaction's rewards, or a partner's; an admin's review of one (hold,
//! approve, decline).

use crate::app::App;
use crate::domain::lifecycle::Review;
use crate::domain::reward::Reward;
use crate::error::AppError;
use crate::http::api::common::{list_page, minor, Paging};
use crate::http::api::schemas::{Page, RewardView};
use crate::http::auth::Admin;
use crate::http::error::ErrorBody;
use crate::http::extract::{PathParam, QueryParams};
use crate::repo::keys;
use crate::sources::body::parse_json;
use crate::usecases::rewards;
use axum::body::Bytes;
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_rewards))
        .routes(routes!(hold))
        .routes(routes!(approve))
        .routes(routes!(decline))
}

/// The optional body of a review: `{"reason": "fraud review"}`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ReviewBody {
    /// Why (at most 500 characters): the reward's `status_reason` after `hold` or `decline`;
    /// `approve` ignores it and clears the reason.
    reason: Option<String>,
}

fn review_body(bytes: &Bytes) -> Result<ReviewBody, AppError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(ReviewBody::default());
    }
    let body: ReviewBody = parse_json(bytes)?;
    if body.reason.as_ref().is_some_and(|r| r.len() > 500) {
        return Err(AppError::invalid(
            "reason",
            "must be at most 500 characters",
        ));
    }
    Ok(body)
}

async fn reviewed(
    app: &App,
    admin: &Admin,
    key: &str,
    review: Review,
) -> Result<Json<Value>, AppError> {
    let reward = rewards::review(app, &admin.program, key, review).await?;
    Ok(Json(reward_view(&reward)))
}

/// `hold`: the holding clock stops (a fraud review) until an admin approves or declines.
#[utoipa::path(
    post,
    path = "/v1/rewards/{key}/hold",
    tag = "rewards",
    summary = "Hold a pending or approved reward: it waits for approval or decline",
    params(("key" = String, Path, description = "The reward's key")),
    request_body(
        content = Option<ReviewBody>,
        description = "Optional: no body at all, or `{\"reason\": \"...\"}`"
    ),
    responses(
        (status = 200, description = "The reward after the change (a repeat answers it unchanged)", body = RewardView),
        (status = 404, description = "No reward has the key", body = ErrorBody),
        (status = 409, description = "`invalid_transition`: the reward cannot be held from its status (paid rewards and clawbacks are never reviewed)", body = ErrorBody),
    )
)]
async fn hold(
    State(app): State<App>,
    admin: Admin,
    PathParam(key): PathParam<String>,
    bytes: Bytes,
) -> Result<Json<Value>, AppError> {
    let reason = review_body(&bytes)?.reason;
    reviewed(&app, &admin, &key, Review::Hold { reason }).await
}

#[utoipa::path(
    post,
    path = "/v1/rewards/{key}/approve",
    tag = "rewards",
    summary = "Approve a pending or held reward: the next payout pays it",
    params(("key" = String, Path, description = "The reward's key")),
    request_body(
        content = Option<ReviewBody>,
        description = "Optional: no body at all, or `{\"reason\": \"...\"}`"
    ),
    responses(
        (status = 200, description = "The reward after the change (a repeat answers it unchanged)", body = RewardView),
        (status = 404, description = "No reward has the key", body = ErrorBody),
        (status = 409, description = "`invalid_transition`: the reward cannot be approved from its status (paid rewards and clawbacks are never reviewed)", body = ErrorBody),
    )
)]
async fn approve(
    State(app): State<App>,
    admin: Admin,
    PathParam(key): PathParam<String>,
    bytes: Bytes,
) -> Result<Json<Value>, AppError> {
    review_body(&bytes)?;
    reviewed(&app, &admin, &key, Review::Approve).await
}

#[utoipa::path(
    post,
    path = "/v1/rewards/{key}/decline",
    tag = "rewards",
    summary = "Decline a pending, held or approved reward: it is never paid",
    params(("key" = String, Path, description = "The reward's key")),
    request_body(
        content = Option<ReviewBody>,
        description = "Optional: no body at all, or `{\"reason\": \"...\"}`"
    ),
    responses(
        (status = 200, description = "The reward after the change (a repeat answers it unchanged)", body = RewardView),
        (status = 404, description = "No reward has the key", body = ErrorBody),
        (status = 409, description = "`invalid_transition`: the reward cannot be declined from its status (paid rewards and clawbacks are never reviewed)", body = ErrorBody),
    )
)]
async fn decline(
    State(app): State<App>,
    admin: Admin,
    PathParam(key): PathParam<String>,
    bytes: Bytes,
) -> Result<Json<Value>, AppError> {
    let reason = review_body(&bytes)?.reason;
    reviewed(&app, &admin, &key, Review::Decline { reason }).await
}

pub fn reward_view(reward: &Reward) -> Value {
    json!({
        "key": reward.key,
        "source": reward.source,
        "transaction_key": reward.transaction_key,
        "action_key": reward.action_key,
        "customer_key": reward.customer_key,
        "partner_key": reward.partner_key,
        "level": reward.level,
        "rule": reward.rule,
        "percent": reward.flat.is_none().then_some(reward.percent),
        "flat": reward.flat.and_then(|f| minor(reward.currency, f)),
        "flat_decimal": reward.flat,
        "base": reward.base,
        "base_amount": reward.base_amount.and_then(|b| minor(reward.currency, b)),
        "base_amount_decimal": reward.base_amount,
        "description": reward.description,
        "amount": minor(reward.currency, reward.amount),
        "amount_decimal": reward.amount,
        "currency": reward.currency,
        "reward_status": reward.reward_status,
        "payment_status": reward.payment_status,
        "payment_date": reward.payment_date,
        "payout_id": reward.payout_id,
        "reverses": reward.reverses,
        "status_reason": reward.status_reason,
        "created_at": reward.created_at,
        "updated_at": reward.updated_at,
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct RewardFilter {
    transaction_key: Option<String>,
    partner_key: Option<String>,
}

#[utoipa::path(
    get,
    path = "/v1/rewards",
    tag = "rewards",
    summary = "A transaction's rewards, or a partner's",
    params(RewardFilter, Paging),
    responses(
        (status = 200, description = "One page", body = Page<RewardView>),
    )
)]
async fn list_rewards(
    State(app): State<App>,
    admin: Admin,
    QueryParams(filter): QueryParams<RewardFilter>,
    QueryParams(paging): QueryParams<Paging>,
) -> Result<Json<Value>, AppError> {
    let slug = admin.program.slug.as_str();
    match (filter.transaction_key, filter.partner_key) {
        (Some(tx), None) => {
            let rewards = app.repo.rewards_of_transaction(slug, &tx).await?;
            let clawbacks = app.repo.clawbacks_of_transaction(slug, &tx).await?;
            let data: Vec<Value> = (rewards.iter().map(|r| &r.value))
                .chain(&clawbacks)
                .map(reward_view)
                .collect();
            Ok(Json(json!({ "data": data, "next_cursor": null })))
        }
        (None, Some(partner)) => {
            list_page::<Reward>(
                &app,
                keys::rewards_of_partner(slug, &partner),
                &paging,
                false,
                reward_view,
            )
            .await
        }
        _ => Err(AppError::BadRequest(
            "give exactly one of ?transaction_key= or ?partner_key=".into(),
        )),
    }
}
