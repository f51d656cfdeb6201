//! The requests a history's events become, shaped and signed as each sender does it.

use crate::model::major;
use crate::scenario::{Channel, Event, Refund, Scenario};
use axum::body::Body;
use axum::http::Request;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

pub const PROGRAM: &str = "sim";
pub const STRIPE_SECRET: &str = "whsec_simulation";
pub const CHARGEBEE_USER: &str = "cb";
pub const CHARGEBEE_PASSWORD: &str = "cb-simulation";

/// Which function a request goes to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Function {
    Api,
    Custom,
    Stripe,
    Chargebee,
}

/// The idempotency key of a partner's signup.
pub fn action_key(partner: usize) -> String {
    format!("signup-{partner}")
}

/// What the plan pays for a signup, in minor units.
pub const SIGNUP_REWARD: i64 = 500;

pub struct Credentials {
    pub admin_key: String,
    pub custom_secret: String,
}

fn hmac_hex(secret: &str, parts: &[&[u8]]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    for part in parts {
        mac.update(part);
    }
    hex::encode(mac.finalize().into_bytes())
}

fn json_request(path: &str, body: &Value, headers: &[(&str, String)]) -> Request<Body> {
    let mut request = Request::post(path).header("content-type", "application/json");
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    request
        .body(Body::from(body.to_string()))
        .unwrap_or_else(|e| panic!("a well-formed request: {e}"))
}

fn stripe(body: Value, now_seconds: i64) -> (Function, Request<Body>) {
    let text = body.to_string();
    let t = now_seconds.to_string();
    let signature = hmac_hex(STRIPE_SECRET, &[t.as_bytes(), b".", text.as_bytes()]);
    let header = format!("t={t},v1={signature}");
    let path = format!("/webhooks/{PROGRAM}/stripe");
    let request = json_request(&path, &body, &[("stripe-signature", header)]);
    (Function::Stripe, request)
}

fn chargebee(body: Value) -> (Function, Request<Body>) {
    let credentials = base64::engine::general_purpose::STANDARD
        .encode(format!("{CHARGEBEE_USER}:{CHARGEBEE_PASSWORD}"));
    let path = format!("/webhooks/{PROGRAM}/chargebee");
    let request = json_request(
        &path,
        &body,
        &[("authorization", format!("Basic {credentials}"))],
    );
    (Function::Chargebee, request)
}

fn custom(body: Value, secret: &str) -> (Function, Request<Body>) {
    let signature = format!(
        "sha256={}",
        hmac_hex(secret, &[body.to_string().as_bytes()])
    );
    let path = format!("/webhooks/{PROGRAM}/custom");
    let request = json_request(&path, &body, &[("x-webhook-signature", signature)]);
    (Function::Custom, request)
}

fn chargebee_customer(scenario: &Scenario, c: usize) -> Value {
    json!({"id": format!("cb_{c}"), "meta_data": {"customer_key": scenario.customers[c].key}})
}

pub fn request(
    scenario: &Scenario,
    event: &Event,
    credentials: &Credentials,
    now_seconds: i64,
) -> (Function, Request<Body>) {
    match event {
        Event::CreateCustomer(c) => {
            let customer = &scenario.customers[*c];
            let body = json!({
                "key": customer.key,
                "email": format!("{}@example.com", customer.key),
                "name": customer.key,
                "partner_key": scenario.partners[customer.partner].key,
            });
            let auth = format!("Bearer {}", credentials.admin_key);
            let request = json_request("/v1/customers", &body, &[("authorization", auth)]);
            (Function::Api, request)
        }
        Event::Action(p) => {
            let body = json!({
                "partner_key": scenario.partners[*p].key,
                "key": "signup",
                "idempotency_key": action_key(*p),
            });
            let auth = format!("Bearer {}", credentials.admin_key);
            let request = json_request("/v1/actions", &body, &[("authorization", auth)]);
            (Function::Api, request)
        }
        Event::LinkStripeCustomer(c) => {
            let customer = &scenario.customers[*c];
            stripe(
                json!({"id": format!("evt_link_{c}"), "type": "customer.created", "data": {"object": {
                    "id": customer.stripe_id, "object": "customer",
                    "metadata": {"customer_key": customer.key}
                }}}),
                now_seconds,
            )
        }
        Event::Payment(s) => {
            let sale = &scenario.sales[*s];
            let amount = |minor: i64| major(minor, sale.currency).to_string();
            match &sale.channel {
                Channel::Custom { partner } => {
                    let mut body = json!({
                        "event": "transaction.created",
                        "externalId": sale.key,
                        "partnerId": scenario.partners[*partner].id,
                        "grossAmount": amount(sale.gross),
                        "currency": sale.currency,
                        "customer": {"externalId": format!("buyer-{s}"), "email": format!("buyer{s}@example.com")},
                    });
                    if let Some(net) = sale.net {
                        body["netAmount"] = json!(amount(net));
                    }
                    custom(body, &credentials.custom_secret)
                }
                Channel::Stripe { customer } => stripe(
                    json!({"id": format!("evt_pay_{s}"), "type": "charge.succeeded", "data": {"object": {
                        "id": sale.key, "object": "charge", "amount": sale.gross, "amount_refunded": 0,
                        "currency": sale.currency.to_lowercase(),
                        "customer": scenario.customers[*customer].stripe_id,
                    }}}),
                    now_seconds,
                ),
                Channel::Chargebee { customer } => chargebee(json!({
                    "id": format!("ev_pay_{s}"), "event_type": "payment_succeeded",
                    "content": {
                        "transaction": {"id": sale.key, "amount": sale.gross, "currency_code": sale.currency, "customer_id": format!("cb_{customer}")},
                        "customer": chargebee_customer(scenario, *customer),
                    }
                })),
            }
        }
        Event::Refund { sale: s, refund: r } => {
            let sale = &scenario.sales[*s];
            match (&sale.refunds[*r], &sale.channel) {
                (Refund::Full, _) => custom(
                    json!({"event": "transaction.refunded", "externalId": sale.key}),
                    &credentials.custom_secret,
                ),
                (Refund::Total(total), Channel::Stripe { customer }) => stripe(
                    json!({"id": format!("evt_rf_{s}_{r}"), "type": "charge.refunded", "data": {"object": {
                        "id": sale.key, "object": "charge", "amount": sale.gross, "amount_refunded": total,
                        "currency": sale.currency.to_lowercase(),
                        "customer": scenario.customers[*customer].stripe_id,
                    }}}),
                    now_seconds,
                ),
                (Refund::Part { id, minor }, _) => chargebee(json!({
                    "id": format!("ev_rf_{s}_{id}"), "event_type": "payment_refunded",
                    "content": {"transaction": {
                        "id": format!("{}-{id}", sale.key), "amount": minor,
                        "currency_code": sale.currency, "refunded_txn_id": sale.key,
                    }}
                })),
                (refund, channel) => {
                    unreachable!("the generator pairs {refund:?} with {channel:?}")
                }
            }
        }
    }
}
