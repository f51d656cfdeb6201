//! A seed's program before its history: the plan and providers' credentials, the partners in
//! their chains (but those the history creates), each partner's postback for the events it must hear once, and an incoming
//! webhook mapped to create sales. All made while the services behave.

use crate::driver::{Sim, START};
use crate::model::stripe_levels;
use crate::queue::SimQueue;
use crate::requests::{
    partner_body, request_with, Credentials, CHARGEBEE_PASSWORD, CHARGEBEE_USER, CHARGIFY_SITE_KEY,
    PROGRAM, RECURLY_PASSWORD, RECURLY_USER, SIGNUP_REWARD, STRIPE_SECRET,
};
use crate::scenario::Scenario;
use crate::store::SimStore;
use crate::world::World;
use axum::http::Method;
use axum::Router;
use partnerhook::app::App;
use partnerhook::domain::settings::{apply_patch, ProgramPatch};
use partnerhook::domain::time::{Clock, ManualClock};
use partnerhook::http::api_router;
use partnerhook::outbound::ssrf::EndpointPolicy;
use partnerhook::usecases::programs;
use serde_json::{json, Value};
use std::sync::Arc;
use tower::ServiceExt;

/// The events each partner's postback subscribes to.
pub const POSTBACK_EVENTS: [&str; 2] = ["reward.created", "transaction.created"];

/// One API call that must succeed; its JSON answer.
async fn call(
    router: &Router,
    method: Method,
    path: &str,
    key: &str,
    body: Value,
) -> Result<Value, String> {
    let mut request = request_with(
        path,
        "application/json",
        body.to_string(),
        &[
            ("authorization", format!("Bearer {key}")),
            ("host", "sim.example".into()),
        ],
    );
    *request.method_mut() = method;
    let response = router
        .clone()
        .oneshot(request)
        .await
        .map_err(|e| format!("set-up: {e}"))?;
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .map_err(|e| format!("set-up: {e}"))?;
    if !status.is_success() {
        return Err(format!(
            "set-up: {path} answered {status}: {}",
            String::from_utf8_lossy(&bytes)
        ));
    }
    serde_json::from_slice(&bytes).map_err(|e| format!("set-up: {path}: {e}"))
}

async fn program(
    app: &App,
    scenario: &Scenario,
    now: i64,
) -> Result<programs::CreatedProgram, String> {
    let created = programs::create(&app.repo, PROGRAM, None, scenario.currency)
        .await
        .map_err(|e| format!("set-up: {e}"))?;
    let mut program = app
        .repo
        .get_program(PROGRAM)
        .await
        .map_err(|e| format!("set-up: {e}"))?
        .ok_or("set-up: the program vanished")?;
    let patch: ProgramPatch = serde_json::from_value(json!({
        "commission": {
            "levels": scenario.levels.iter().map(|l| l.to_string()).collect::<Vec<_>>(),
            "rules": [{"name": "stripe sales", "when": {"source": "stripe"}, "levels":
                stripe_levels(scenario).iter().map(|l| l.to_string()).collect::<Vec<_>>()}],
            "actions": {"signup": SIGNUP_REWARD},
            "holding_days": scenario.holding_days,
        },
        "providers": {
            "stripe": {"signing_secret": STRIPE_SECRET},
            "chargebee": {"username": CHARGEBEE_USER, "password": CHARGEBEE_PASSWORD},
            "recurly": {"username": RECURLY_USER, "password": RECURLY_PASSWORD},
            "chargify": {"site_shared_key": CHARGIFY_SITE_KEY},
        }
    }))
    .map_err(|e| format!("set-up: {e}"))?;
    apply_patch(&mut program.value, patch, now).map_err(|e| format!("set-up: {e}"))?;
    app.repo
        .update(PROGRAM, &program)
        .await
        .map_err(|e| format!("set-up: {e}"))?;
    Ok(created)
}

pub async fn set_up(world: World, scenario: Scenario) -> Result<Sim, String> {
    let clock = Arc::new(ManualClock::at(START));
    let store = Arc::new(SimStore::new(world.clone()));
    let queue = Arc::new(SimQueue::new(world.clone(), clock.clone()));
    let app = App::with_clock(store, queue.clone(), EndpointPolicy::LOCAL, clock.clone());
    let created = program(&app, &scenario, clock.now()).await?;
    let api = api_router(app.clone());
    let admin = created.admin_key.as_str();
    for (p, partner) in scenario
        .partners
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.late)
    {
        let body = partner_body(&scenario, p);
        call(&api, Method::POST, "/v1/partners", admin, body).await?;
        let path = format!("/v1/partners/{}/api-keys", partner.key);
        let key = call(&api, Method::POST, &path, admin, json!({})).await?;
        let partner_key = key["api_key"]
            .as_str()
            .ok_or("set-up: no partner API key")?;
        // Nothing is delivered here (a delivery needs HTTP): the stored deliveries are checked.
        let postback =
            json!({"url": "http://127.0.0.1:9/hook", "name": "sim", "events": POSTBACK_EVENTS});
        call(&api, Method::POST, "/v1/postbacks", partner_key, postback).await?;
    }
    let hook = call(
        &api,
        Method::POST,
        "/v1/incoming-webhooks",
        admin,
        json!({"name": "sales"}),
    )
    .await?;
    let id = hook["id"].as_str().ok_or("set-up: the hook has no id")?;
    let fields = json!({
        "transaction_key": "order", "amount": "total", "currency": "currency",
        "customer_key": "buyer", "customer_email": "email", "partner_key": "ref",
    });
    let mapping = json!({"action": "create_transaction", "fields": fields});
    call(
        &api,
        Method::PUT,
        &format!("/v1/incoming-webhooks/{id}/mapping"),
        admin,
        mapping,
    )
    .await?;
    let url = hook["production_url"].as_str().unwrap_or_default();
    let incoming_path = url
        .find("/hooks/")
        .map(|at| url[at..].to_string())
        .ok_or("set-up: no production URL")?;
    let credentials = Credentials {
        admin_key: created.admin_key,
        custom_secret: created.custom_webhook_secret,
        incoming_path,
    };
    Ok(Sim {
        world,
        clock,
        queue,
        app,
        api,
        scenario,
        credentials,
        report: Default::default(),
    })
}
