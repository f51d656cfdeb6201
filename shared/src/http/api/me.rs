//! `/v1/me/...`: a partner reads its own rewards, payouts and balance with its partner API key.

use crate::app::App;
use crate::domain::payout::Payout;
use crate::domain::reward::Reward;
use crate::error::AppError;
use crate::http::api::balances::balance_of;
use crate::http::api::common::{list_page, Paging};
use crate::http::api::payouts::payout_view;
use crate::http::api::rewards::reward_view;
use crate::http::auth::PartnerAuth;
use crate::http::extract::QueryParams;
use crate::repo::keys;
use axum::extract::State;
use axum::routing::get;
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use serde_json::Value;

pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .route("/v1/me/rewards", get(my_rewards))
        .route("/v1/me/payouts", get(my_payouts))
        .route("/v1/me/balance", get(my_balance))
}

async fn my_rewards(
    State(app): State<App>,
    me: PartnerAuth,
    QueryParams(paging): QueryParams<Paging>,
) -> Result<Json<Value>, AppError> {
    let index = keys::rewards_of_partner(&me.program.slug, &me.partner_key);
    list_page::<Reward>(&app, index, &paging, false, reward_view).await
}

async fn my_payouts(
    State(app): State<App>,
    me: PartnerAuth,
    QueryParams(paging): QueryParams<Paging>,
) -> Result<Json<Value>, AppError> {
    let index = keys::payouts_of_partner(&me.program.slug, &me.partner_key);
    list_page::<Payout>(&app, index, &paging, true, payout_view).await
}

async fn my_balance(State(app): State<App>, me: PartnerAuth) -> Result<Json<Value>, AppError> {
    balance_of(&app, &me.program.slug, &me.partner_key).await
}
