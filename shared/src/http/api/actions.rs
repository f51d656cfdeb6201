//! `/v1/actions`: record an action of a partner or a customer (a signup, a demo booked), and
//! list a partner's or a customer's actions.

use crate::app::App;
use crate::domain::action::{Action, ActionInput};
use crate::error::AppError;
use crate::http::api::common::Paging;
use crate::http::api::rewards::reward_view;
use crate::http::api::schemas::{ActionView, Page};
use crate::http::auth::Admin;
use crate::http::extract::{JsonBody, QueryParams};
use crate::http::idempotency::{header_key, RepeatStatus};
use crate::usecases::actions::{self, ActionsOf};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(create_action, list_actions))
}

pub fn action_view(action: &Action) -> Value {
    json!({
        "key": action.key,
        "type": action.kind,
        "value": action.value,
        "partner_key": action.partner_key,
        "customer_key": action.customer_key,
        "archived": action.archived,
        "idempotency_key": action.idempotency_key,
        "created_at": action.created_at,
        "updated_at": action.updated_at,
    })
}

#[utoipa::path(
    post,
    path = "/v1/actions",
    tag = "actions",
    summary = "Record an action (a signup, a demo booked)",
    params(("Idempotency-Key" = Option<String>, Header, description = "What makes a repeat the same action when the body has no idempotency_key")),
    request_body = ActionInput,
    responses(
        (status = 201, description = "Recorded, with its reward if the plan has one", body = ActionView),
        (status = 200, description = "The same action was recorded already", body = ActionView),
    )
)]
async fn create_action(
    State(app): State<App>,
    admin: Admin,
    headers: HeaderMap,
    JsonBody(input): JsonBody<ActionInput>,
) -> Result<Response, AppError> {
    let program = &admin.program;
    let (action, created) = actions::record(&app, program, input, header_key(&headers)).await?;
    let reward = actions::reward_of(&app, &program.slug, &action).await?;
    let mut view = action_view(&action);
    view["reward"] = reward.as_ref().map_or(Value::Null, reward_view);
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut response = (status, Json(view)).into_response();
    // A repeat under the same Idempotency-Key is a repeat of the same action: 200.
    response
        .extensions_mut()
        .insert(RepeatStatus(StatusCode::OK));
    Ok(response)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ActionFilter {
    partner_key: Option<String>,
    customer_key: Option<String>,
}

#[utoipa::path(
    get,
    path = "/v1/actions",
    tag = "actions",
    summary = "A partner's or a customer's actions",
    params(ActionFilter, Paging),
    responses(
        (status = 200, description = "One page", body = Page<ActionView>),
    )
)]
async fn list_actions(
    State(app): State<App>,
    admin: Admin,
    QueryParams(filter): QueryParams<ActionFilter>,
    QueryParams(paging): QueryParams<Paging>,
) -> Result<Json<Value>, AppError> {
    let of = match (filter.partner_key, filter.customer_key) {
        (Some(partner), None) => ActionsOf::Partner(partner),
        (None, Some(customer)) => ActionsOf::Customer(customer),
        _ => {
            return Err(AppError::BadRequest(
                "give exactly one of ?partner_key= or ?customer_key=".into(),
            ))
        }
    };
    let page = actions::list(
        &app,
        &admin.program.slug,
        &of,
        paging.limit(),
        paging.cursor(),
    )
    .await?;
    Ok(Json(json!({
        "data": page.items.iter().map(action_view).collect::<Vec<_>>(),
        "next_cursor": page.next_cursor,
    })))
}
