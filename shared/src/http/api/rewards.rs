//! `/v1/rewards`: a transaction's rewards, or a partner's.

use crate::app::App;
use crate::domain::reward::Reward;
use crate::error::AppError;
use crate::http::api::common::{list_page, minor, Paging};
use crate::http::auth::Admin;
use crate::http::extract::QueryParams;
use crate::repo::keys;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn routes() -> Router<App> {
    Router::new().route("/v1/rewards", get(list_rewards))
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
        "created_at": reward.created_at,
        "updated_at": reward.updated_at,
    })
}

#[derive(Debug, Deserialize)]
struct RewardFilter {
    transaction_key: Option<String>,
    partner_key: Option<String>,
}

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
            let data: Vec<Value> = rewards.iter().map(|r| reward_view(&r.value)).collect();
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
