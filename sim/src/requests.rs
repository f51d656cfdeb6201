//! The requests a history's events become: the API calls here, the providers' in `senders`.

use crate::scenario::{Event, Scenario};
use crate::senders::{dispute, payment, refund, stripe, Sent};
use axum::body::Body;
use axum::http::Request;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::json;
use sha2::Sha256;

pub const PROGRAM: &str = "sim";
pub const STRIPE_SECRET: &str = "whsec_simulation";
pub const CHARGEBEE_USER: &str = "cb";
pub const CHARGEBEE_PASSWORD: &str = "cb-simulation";
pub const RECURLY_USER: &str = "recurly";
pub const RECURLY_PASSWORD: &str = "recurly-simulation";
pub const CHARGIFY_SITE_KEY: &str = "chargify-simulation";

/// Which function a request goes to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Function {
    Api,
    Custom,
    Stripe,
    Chargebee,
    Recurly,
    Chargify,
    Incoming,
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
    /// The path of the incoming webhook's production URL.
    pub incoming_path: String,
}

pub fn hmac_hex(secret: &str, parts: &[&[u8]]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    for part in parts {
        mac.update(part);
    }
    hex::encode(mac.finalize().into_bytes())
}

pub fn request_with(
    path: &str,
    content_type: &str,
    body: String,
    headers: &[(&str, String)],
) -> Request<Body> {
    let mut request = Request::post(path).header("content-type", content_type);
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    request
        .body(Body::from(body))
        .unwrap_or_else(|e| panic!("a well-formed request: {e}"))
}

/// An admin's API call; retries of one intended call share its `Idempotency-Key`.
pub fn admin(path: &str, body: serde_json::Value, admin_key: &str, idempotency: &str) -> Sent {
    let headers = [
        ("authorization", format!("Bearer {admin_key}")),
        ("idempotency-key", idempotency.to_string()),
    ];
    let request = request_with(path, "application/json", body.to_string(), &headers);
    (Function::Api, request)
}

/// A partner as `POST /v1/partners` takes it, with its referrer.
pub fn partner_body(scenario: &Scenario, p: usize) -> serde_json::Value {
    let partner = &scenario.partners[p];
    let mut body = json!({"key": partner.key, "id": partner.id, "email": format!("{}@example.com", partner.key), "name": partner.key});
    if let Some(referrer) = partner.referrer {
        body["referring_partner_key"] = json!(scenario.partners[referrer].key);
    }
    body
}

pub fn request(
    scenario: &Scenario,
    event: &Event,
    credentials: &Credentials,
    now_seconds: i64,
) -> Sent {
    match event {
        Event::CreatePartner(p) => {
            let partner = &scenario.partners[*p];
            let idempotency = format!("create-{}", partner.key);
            admin(
                "/v1/partners",
                partner_body(scenario, *p),
                &credentials.admin_key,
                &idempotency,
            )
        }
        Event::CreateCustomer(c) => {
            let customer = &scenario.customers[*c];
            let body = json!({
                "key": customer.key,
                "email": format!("{}@example.com", customer.key),
                "name": customer.key,
                "partner_key": scenario.partners[customer.partner].key,
            });
            admin(
                "/v1/customers",
                body,
                &credentials.admin_key,
                &format!("create-{}", customer.key),
            )
        }
        Event::Action(p) => {
            let body = json!({
                "partner_key": scenario.partners[*p].key,
                "key": "signup",
                "idempotency_key": action_key(*p),
            });
            // Retried with one Idempotency-Key, as a careful client does.
            admin("/v1/actions", body, &credentials.admin_key, &action_key(*p))
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
        Event::Payment(s) => payment(scenario, *s, credentials, now_seconds),
        Event::Refund { sale, refund: r } => refund(scenario, *sale, *r, credentials, now_seconds),
        Event::DisputeOpened(s) => dispute(scenario, *s, true, now_seconds),
        Event::DisputeClosed(s) => dispute(scenario, *s, false, now_seconds),
        Event::Payout {
            partner,
            currency,
            round,
        } => {
            let key = &scenario.partners[*partner].key;
            admin(
                "/v1/payouts",
                json!({"partner_key": key, "currency": currency}),
                &credentials.admin_key,
                &format!("payout-{key}-{currency}-{round}"),
            )
        }
        Event::Sweep => unreachable!("the sweeper is no request"),
        Event::Assign(s) => {
            let sale = &scenario.sales[*s];
            let partner = match sale.channel {
                crate::scenario::Channel::Unassigned { partner } => partner,
                _ => unreachable!("only unassigned sales are assigned"),
            };
            admin(
                &format!("/v1/transactions/{}/assign", sale.key),
                json!({"partner_key": scenario.partners[partner].key}),
                &credentials.admin_key,
                &format!("assign-{}", sale.key),
            )
        }
    }
}
