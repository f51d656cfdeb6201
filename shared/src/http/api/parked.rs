//! `/v1/parked-payments`: provider payments waiting for their customer to be created or linked,
//! oldest first, with what each waits for.

use crate::app::App;
use crate::domain::transaction::ParkedPayment;
use crate::error::AppError;
use crate::http::api::common::{list_page, minor, Paging};
use crate::http::api::schemas::{Page, ParkedPaymentView};
use crate::http::auth::Admin;
use crate::http::extract::QueryParams;
use crate::repo::keys;
use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(list_parked))
}

fn view(parked: &ParkedPayment) -> Value {
    let amounts = &parked.transaction.amounts;
    json!({
        "transaction_key": parked.transaction.key,
        "provider": parked.provider,
        "customer_key": parked.customer.key,
        "provider_customer_id": parked.customer.provider_id,
        "waiting_for": parked.waiting_for,
        "currency": amounts.currency,
        "amount": minor(amounts.currency, amounts.gross),
        "amount_decimal": amounts.gross,
        "received_at": parked.received_at,
    })
}

#[utoipa::path(
    get,
    path = "/v1/parked-payments",
    tag = "transactions",
    summary = "Provider payments waiting for their customer",
    params(Paging),
    responses(
        (status = 200, description = "One page", body = Page<ParkedPaymentView>),
    )
)]
async fn list_parked(
    State(app): State<App>,
    admin: Admin,
    QueryParams(paging): QueryParams<Paging>,
) -> Result<Json<Value>, AppError> {
    list_page::<ParkedPayment>(
        &app,
        keys::parked(&admin.program.slug),
        &paging,
        false,
        view,
    )
    .await
}
