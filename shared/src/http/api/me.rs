//! `/v1/me/...`: a partner reads its own rewards, payouts and balance with its partner API key.

use crate::app::App;
use crate::domain::payout::Payout;
use crate::domain::reward::Reward;
use crate::error::AppError;
use crate::http::api::balances::balance_of;
use crate::http::api::common::{list_page, Paging};
use crate::http::api::payouts::payout_view;
use crate::http::api::rewards::reward_view;
use crate::http::api::schemas::{Page, PartnerBalance, PayoutView, RewardView};
use crate::http::auth::PartnerAuth;
use crate::http::extract::QueryParams;
use crate::repo::keys;
use axum::extract::State;
use axum::Json;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(my_rewards))
        .routes(routes!(my_payouts))
        .routes(routes!(my_balance))
}

#[utoipa::path(
    get,
    path = "/v1/me/rewards",
    tag = "me",
    summary = "The partner's own rewards, oldest first (partner key)",
    params(Paging),
    responses(
        (status = 200, description = "One page", body = Page<RewardView>),
    )
)]
async fn my_rewards(
    State(app): State<App>,
    me: PartnerAuth,
    QueryParams(paging): QueryParams<Paging>,
) -> Result<Json<Value>, AppError> {
    let index = keys::rewards_of_partner(&me.program.slug, &me.partner_key);
    list_page::<Reward>(&app, index, &paging, false, reward_view).await
}

#[utoipa::path(
    get,
    path = "/v1/me/payouts",
    tag = "me",
    summary = "The partner's own payouts, newest first (partner key)",
    params(Paging),
    responses(
        (status = 200, description = "One page", body = Page<PayoutView>),
    )
)]
async fn my_payouts(
    State(app): State<App>,
    me: PartnerAuth,
    QueryParams(paging): QueryParams<Paging>,
) -> Result<Json<Value>, AppError> {
    let index = keys::payouts_of_partner(&me.program.slug, &me.partner_key);
    list_page::<Payout>(&app, index, &paging, true, payout_view).await
}

#[utoipa::path(
    get,
    path = "/v1/me/balance",
    tag = "me",
    summary = "The partner's own balance in each currency (partner key)",
    responses(
        (status = 200, description = "The balance per currency", body = PartnerBalance),
    )
)]
async fn my_balance(State(app): State<App>, me: PartnerAuth) -> Result<Json<Value>, AppError> {
    balance_of(&app, &me.program.slug, &me.partner_key).await
}
