//! The payments and refunds of each channel, shaped, encoded and signed as its sender does it.

use crate::model::major;
use crate::requests::{
    hmac_hex, request_with, Credentials, Function, CHARGEBEE_PASSWORD, CHARGEBEE_USER,
    CHARGIFY_SITE_KEY, PROGRAM, RECURLY_PASSWORD, RECURLY_USER, STRIPE_SECRET,
};
use crate::scenario::{Channel, DisputeEnd, Refund, Scenario};
use axum::body::Body;
use axum::http::Request;
use base64::Engine;
use serde_json::{json, Value};

pub type Sent = (Function, Request<Body>);

const JSON: &str = "application/json";

fn basic(user: &str, password: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {encoded}")
}

fn provider_path(name: &str) -> String {
    format!("/webhooks/{PROGRAM}/{name}")
}

pub fn stripe(body: Value, now_seconds: i64) -> Sent {
    let text = body.to_string();
    let t = now_seconds.to_string();
    let signature = hmac_hex(STRIPE_SECRET, &[t.as_bytes(), b".", text.as_bytes()]);
    let header = format!("t={t},v1={signature}");
    let request = request_with(
        &provider_path("stripe"),
        JSON,
        text,
        &[("stripe-signature", header)],
    );
    (Function::Stripe, request)
}

fn chargebee(body: Value) -> Sent {
    let auth = basic(CHARGEBEE_USER, CHARGEBEE_PASSWORD);
    let request = request_with(
        &provider_path("chargebee"),
        JSON,
        body.to_string(),
        &[("authorization", auth)],
    );
    (Function::Chargebee, request)
}

fn custom(body: Value, secret: &str) -> Sent {
    let text = body.to_string();
    let signature = format!("sha256={}", hmac_hex(secret, &[text.as_bytes()]));
    let path = format!("/webhooks/{PROGRAM}/custom");
    let request = request_with(&path, JSON, text, &[("x-webhook-signature", signature)]);
    (Function::Custom, request)
}

/// Recurly's legacy XML, which Recurly does not sign: HTTP Basic authenticates it. A refund
/// leaves out `<currency>`, so it is read in its payment's.
fn recurly(root: &str, account: &str, id: &str, cents: i64, currency: Option<&str>) -> Sent {
    let currency = currency
        .map(|c| format!("<currency>{c}</currency>"))
        .unwrap_or_default();
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{root}><account><account_code>{account}</account_code></account>\
         <transaction><id>{id}</id><amount_in_cents type=\"integer\">{cents}</amount_in_cents>{currency}\
         <status>success</status></transaction></{root}>"
    );
    let auth = basic(RECURLY_USER, RECURLY_PASSWORD);
    let request = request_with(
        &provider_path("recurly"),
        "application/xml",
        xml,
        &[("authorization", auth)],
    );
    (Function::Recurly, request)
}

/// Chargify's form body, signed whole with the site shared key. Every value here is made of
/// characters a form needs not escape.
fn chargify(fields: &[(&str, String)]) -> Sent {
    let form = fields
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&");
    let signature = hmac_hex(CHARGIFY_SITE_KEY, &[form.as_bytes()]);
    let request = request_with(
        &provider_path("chargify"),
        "application/x-www-form-urlencoded",
        form,
        &[("x-chargify-webhook-signature-hmac-sha-256", signature)],
    );
    (Function::Chargify, request)
}

pub fn payment(scenario: &Scenario, s: usize, credentials: &Credentials, now_seconds: i64) -> Sent {
    let sale = &scenario.sales[s];
    let amount = |minor: i64| major(minor, sale.currency).to_string();
    let customer_key = |c: usize| scenario.customers[c].key.clone();
    match &sale.channel {
        Channel::Custom { partner } | Channel::Unassigned { partner } => {
            let partner_id = match sale.channel {
                Channel::Custom { .. } => scenario.partners[*partner].id.clone(),
                _ => format!("P-unknown-{s}"),
            };
            let mut body = json!({
                "event": "transaction.created",
                "externalId": sale.key,
                "partnerId": partner_id,
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
                "customer": {"id": format!("cb_{customer}"), "meta_data": {"customer_key": customer_key(*customer)}},
            }
        })),
        Channel::Recurly { customer } => recurly(
            "successful_payment_notification",
            &customer_key(*customer),
            &sale.key,
            sale.gross,
            Some(sale.currency),
        ),
        Channel::Chargify { customer } => chargify(&[
            ("id", format!("9100{s}")),
            ("event", "payment_success".into()),
            (
                "payload[subscription][customer][reference]",
                customer_key(*customer),
            ),
            (
                "payload[subscription][customer][id]",
                format!("7700{customer}"),
            ),
            ("payload[subscription][currency]", sale.currency.into()),
            ("payload[transaction][id]", sale.key.clone()),
            (
                "payload[transaction][amount_in_cents]",
                sale.gross.to_string(),
            ),
        ]),
        Channel::Incoming { partner } => {
            let body = json!({
                "order": sale.key, "total": amount(sale.gross), "currency": sale.currency,
                "buyer": format!("buyer-{s}"), "email": format!("buyer{s}@example.com"),
                "ref": scenario.partners[*partner].key,
            });
            let request = request_with(&credentials.incoming_path, JSON, body.to_string(), &[]);
            (Function::Incoming, request)
        }
    }
}

pub fn refund(
    scenario: &Scenario,
    s: usize,
    r: usize,
    credentials: &Credentials,
    now_seconds: i64,
) -> Sent {
    let sale = &scenario.sales[s];
    match (&sale.refunds[r], &sale.channel) {
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
        (Refund::Part { id, minor }, Channel::Recurly { customer }) => recurly(
            "successful_refund_notification",
            &scenario.customers[*customer].key,
            &format!("{}-{id}", sale.key),
            *minor,
            None,
        ),
        // Chargify documents no refund id: the webhook's own id, the same on every retry.
        (Refund::Part { minor, .. }, Channel::Chargify { .. }) => chargify(&[
            ("id", format!("9200{s}0{r}")),
            ("event", "refund_success".into()),
            ("payload[payment_id]", sale.key.clone()),
            ("payload[amount_in_cents]", minor.to_string()),
        ]),
        (Refund::Part { id, minor }, _) => chargebee(json!({
            "id": format!("ev_rf_{s}_{id}"), "event_type": "payment_refunded",
            "content": {"transaction": {
                "id": format!("{}-{id}", sale.key), "amount": minor,
                "currency_code": sale.currency, "refunded_txn_id": sale.key,
            }}
        })),
        (refund, channel) => unreachable!("the generator pairs {refund:?} with {channel:?}"),
    }
}

/// Stripe's `charge.dispute.created` (`opened`) or `charge.dispute.closed` of sale `s`.
pub fn dispute(scenario: &Scenario, s: usize, opened: bool, now_seconds: i64) -> Sent {
    let sale = &scenario.sales[s];
    let (kind, status, amount) = match (opened, sale.dispute) {
        (true, _) | (false, None) => ("charge.dispute.created", "needs_response", sale.gross),
        (false, Some(DisputeEnd::Won)) => ("charge.dispute.closed", "won", sale.gross),
        (false, Some(DisputeEnd::Lost(minor))) => ("charge.dispute.closed", "lost", minor),
    };
    stripe(
        json!({"id": format!("evt_{kind}_{s}"), "type": kind, "data": {"object": {
            "id": format!("dp_{s}"), "object": "dispute", "amount": amount, "charge": sale.key,
            "currency": sale.currency.to_lowercase(), "status": status,
        }}}),
        now_seconds,
    )
}
