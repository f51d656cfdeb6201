//! Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=...]`, the hex HMAC-SHA256 of
//! `"{t}.{body}"` keyed with the whole `whsec_...` string; JSON events. Customers are linked by
//! `metadata.customer_key` on `customer.created` / `customer.updated`; `charge.succeeded` is a
//! payment and `charge.refunded` a (cumulative) refund.

use crate::domain::customer::CustomerRef;
use crate::domain::minor_units::MinorUnits;
use crate::domain::program::{Program, ProviderSecrets};
use crate::domain::refund::RefundSpec;
use crate::domain::transaction::{Amounts, NewTransaction, Product};
use crate::error::AppError;
use crate::sources::authenticity::{check_timestamp, header_text, timestamped_hmac_matches};
use crate::sources::body::{parse_json, parse_json_value, require_json};
use crate::sources::providers::event::{currency, key, minor_amount, Provider, ProviderEvent};
use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::{Map, Value};

pub const SIGNATURE_HEADER: &str = "stripe-signature";

pub struct Stripe;

#[derive(Deserialize)]
struct Event {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    data: EventData,
}

#[derive(Deserialize)]
struct EventData {
    object: Value,
}

#[derive(Deserialize)]
struct Charge {
    id: String,
    amount: i64,
    #[serde(default)]
    amount_refunded: i64,
    currency: String,
    customer: Option<String>,
    description: Option<String>,
    created: Option<i64>,
    #[serde(default)]
    metadata: Map<String, Value>,
}

#[derive(Deserialize)]
struct Customer {
    id: String,
    #[serde(default)]
    metadata: Map<String, Value>,
}

fn customer_key(metadata: &Map<String, Value>) -> Option<String> {
    metadata
        .get("customer_key")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_string)
}

impl Provider for Stripe {
    const NAME: &'static str = "stripe";
    const UNITS: MinorUnits = MinorUnits::Stripe;

    fn authenticate(
        headers: &HeaderMap,
        body: &[u8],
        secrets: &ProviderSecrets,
        now: i64,
    ) -> Result<(), AppError> {
        if secrets.stripe_signing_secrets.is_empty() {
            return Err(AppError::Unauthorized(
                "no Stripe signing secret is configured; set providers.stripe.signing_secret with PATCH /v1/program".into(),
            ));
        }
        let header = header_text(headers, SIGNATURE_HEADER)?;
        let mut timestamp = None;
        let mut candidates = Vec::new();
        for item in header.split(',') {
            match item.trim().split_once('=') {
                Some(("t", value)) => timestamp = Some(value),
                Some(("v1", value)) => candidates.push(value),
                _ => {}
            }
        }
        let timestamp = timestamp.ok_or(AppError::InvalidSignature)?;
        if !timestamped_hmac_matches(
            &secrets.stripe_signing_secrets,
            timestamp,
            body,
            &candidates,
        ) {
            return Err(AppError::InvalidSignature);
        }
        let seconds = timestamp.parse().map_err(|_| AppError::InvalidSignature)?;
        check_timestamp(seconds, now, false)
    }

    fn parse(
        headers: &HeaderMap,
        body: &[u8],
        _program: &Program,
    ) -> Result<ProviderEvent, AppError> {
        require_json(headers)?;
        let event: Event = parse_json(body)?;
        let event_id = Some(key("id", &event.id)?);
        match event.kind.as_str() {
            "charge.succeeded" => {
                let charge: Charge = parse_json_value(event.data.object, "data.object")?;
                let customer = CustomerRef {
                    key: customer_key(&charge.metadata),
                    provider_id: charge.customer.clone(),
                };
                if customer.key.is_none() && customer.provider_id.is_none() {
                    return Ok(ProviderEvent::ignored(
                        "the charge has no customer and no metadata.customer_key, so no partner can be attributed",
                    ));
                }
                let currency = currency("data.object.currency", &charge.currency)?;
                let amount =
                    minor_amount("data.object.amount", charge.amount, currency, Self::UNITS)?;
                Ok(ProviderEvent::Payment {
                    event_id,
                    customer,
                    payment: Box::new(NewTransaction {
                        product: Product::named(None, charge.description),
                        transaction_date: charge.created.map(|s| s.saturating_mul(1000)),
                        ..NewTransaction::provider_payment(
                            Self::NAME,
                            key("data.object.id", &charge.id)?,
                            Amounts::new(currency, amount),
                        )
                    }),
                })
            }
            "charge.refunded" => {
                let charge: Charge = parse_json_value(event.data.object, "data.object")?;
                let currency = currency("data.object.currency", &charge.currency)?;
                let refunded = minor_amount(
                    "data.object.amount_refunded",
                    charge.amount_refunded,
                    currency,
                    Self::UNITS,
                )?;
                let refund = if charge.amount_refunded >= charge.amount {
                    RefundSpec::Full
                } else {
                    RefundSpec::Total { amount: refunded }
                };
                Ok(ProviderEvent::Refund {
                    event_id,
                    transaction_key: key("data.object.id", &charge.id)?,
                    refund,
                })
            }
            "customer.created" | "customer.updated" => {
                let customer: Customer = parse_json_value(event.data.object, "data.object")?;
                ProviderEvent::customer_link(
                    event_id,
                    ("data.object.id", &customer.id),
                    ("metadata.customer_key", customer_key(&customer.metadata)),
                )
            }
            other => Ok(ProviderEvent::not_acted_on(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::signature::hmac_sha256;
    use crate::sources::providers::event::testing::{headers, program};
    use proptest::prelude::*;

    const SUCCEEDED: &str = include_str!("../../../../tests/fixtures/stripe/charge.succeeded.json");
    const JPY: &str = include_str!("../../../../tests/fixtures/stripe/charge.succeeded.jpy.json");
    const PARTIAL: &str =
        include_str!("../../../../tests/fixtures/stripe/charge.refunded.partial.json");
    const FULL: &str = include_str!("../../../../tests/fixtures/stripe/charge.refunded.full.json");
    const CUSTOMER: &str = include_str!("../../../../tests/fixtures/stripe/customer.created.json");
    const INVOICE: &str = include_str!("../../../../tests/fixtures/stripe/invoice.created.json");

    fn signed(body: &str, secret: &str, t: i64) -> HeaderMap {
        let v1 = hex::encode(hmac_sha256(
            secret.as_bytes(),
            &[t.to_string().as_bytes(), b".", body.as_bytes()],
        ));
        headers(&[
            ("content-type", "application/json"),
            (SIGNATURE_HEADER, &format!("t={t},v1=deadbeef,v1={v1}")),
        ])
    }

    fn parse(body: &str) -> ProviderEvent {
        Stripe::parse(
            &headers(&[("content-type", "application/json")]),
            body.as_bytes(),
            &program(),
        )
        .unwrap()
    }

    #[test]
    fn signatures_follow_stripes_scheme_with_rotation_and_a_five_minute_window() {
        let secrets = program().providers;
        let now = 1_767_265_200;
        let ok = Stripe::authenticate(
            &signed(SUCCEEDED, "whsec_test", now - 10),
            SUCCEEDED.as_bytes(),
            &secrets,
            now,
        );
        assert!(ok.is_ok());
        let wrong = Stripe::authenticate(
            &signed(SUCCEEDED, "whsec_other", now),
            SUCCEEDED.as_bytes(),
            &secrets,
            now,
        );
        assert!(matches!(wrong, Err(AppError::InvalidSignature)));
        let stale = Stripe::authenticate(
            &signed(SUCCEEDED, "whsec_test", now - 301),
            SUCCEEDED.as_bytes(),
            &secrets,
            now,
        );
        assert!(matches!(stale, Err(AppError::StaleTimestamp)));
        let missing = Stripe::authenticate(&headers(&[]), SUCCEEDED.as_bytes(), &secrets, now);
        assert!(matches!(missing, Err(AppError::MissingCredentials(_))));
        let tampered = Stripe::authenticate(
            &signed(SUCCEEDED, "whsec_test", now),
            FULL.as_bytes(),
            &secrets,
            now,
        );
        assert!(matches!(tampered, Err(AppError::InvalidSignature)));
    }

    #[test]
    fn charges_become_payments_in_exact_minor_units() {
        let ProviderEvent::Payment {
            event_id,
            customer,
            payment,
        } = parse(SUCCEEDED)
        else {
            panic!("payment")
        };
        assert_eq!(event_id.as_deref(), Some("evt_3PartnerhookChgOk01"));
        assert_eq!(customer.provider_id.as_deref(), Some("cus_RpHookTest0001"));
        assert_eq!(payment.key, "ch_3PartnerhookTest01");
        assert_eq!(payment.amounts.gross.to_string(), "49.00");
        assert_eq!(payment.amounts.currency.code(), "USD");
        let ProviderEvent::Payment { payment, .. } = parse(JPY) else {
            panic!("payment")
        };
        assert_eq!(
            (
                payment.amounts.gross.to_string().as_str(),
                payment.amounts.currency.code()
            ),
            ("5000", "JPY")
        );
    }

    /// https://docs.stripe.com/currencies#special-cases: ISK and UGX amounts carry two
    /// decimals, MGA none; read with ISO 4217 they were 100 times off.
    #[test]
    fn isk_ugx_and_mga_charges_are_read_by_stripes_table() {
        let charge = |code: &str, amount: i64| {
            let body = SUCCEEDED
                .replace("\"amount\": 4900", &format!("\"amount\": {amount}"))
                .replace(
                    "\"currency\": \"usd\"",
                    &format!("\"currency\": \"{code}\""),
                );
            let ProviderEvent::Payment { payment, .. } = parse(&body) else {
                panic!("payment")
            };
            payment.amounts.gross.to_string()
        };
        assert_eq!(charge("isk", 50_000), "500");
        assert_eq!(charge("ugx", 500_000), "5000");
        assert_eq!(charge("mga", 5_000), "5000.00");
        assert_eq!(charge("kwd", 5_120), "5.120");
        let refund = PARTIAL.replace("\"currency\": \"usd\"", "\"currency\": \"isk\"");
        let ProviderEvent::Refund { refund, .. } = parse(&refund) else {
            panic!("refund")
        };
        assert_eq!(
            refund,
            RefundSpec::Total {
                amount: "19".parse().unwrap()
            }
        );
        let huge = SUCCEEDED.replace("\"amount\": 4900", "\"amount\": 1000000000001");
        let h = headers(&[("content-type", "application/json")]);
        match Stripe::parse(&h, huge.as_bytes(), &program()) {
            Err(AppError::InvalidField { field, .. }) => assert_eq!(field, "data.object.amount"),
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn refunds_are_cumulative_and_customers_link_by_metadata() {
        let ProviderEvent::Refund {
            transaction_key,
            refund,
            ..
        } = parse(PARTIAL)
        else {
            panic!("refund")
        };
        assert_eq!(transaction_key, "ch_3PartnerhookTest01");
        assert_eq!(
            refund,
            RefundSpec::Total {
                amount: "19.00".parse().unwrap()
            }
        );
        let ProviderEvent::Refund { refund, .. } = parse(FULL) else {
            panic!("refund")
        };
        assert_eq!(refund, RefundSpec::Full);
        let ProviderEvent::CustomerLink {
            provider_customer_id,
            customer_key,
            ..
        } = parse(CUSTOMER)
        else {
            panic!("link")
        };
        assert_eq!(
            (provider_customer_id.as_str(), customer_key.as_str()),
            ("cus_RpHookTest0001", "cust-001")
        );
        assert!(matches!(parse(INVOICE), ProviderEvent::Ignored { .. }));
    }

    #[test]
    fn bad_bodies_are_refused_with_the_field_named() {
        let h = headers(&[("content-type", "application/json")]);
        assert!(matches!(
            Stripe::parse(&h, b"{", &program()),
            Err(AppError::MalformedJson(_))
        ));
        let bad = SUCCEEDED.replace("\"amount\": 4900", "\"amount\": -5");
        match Stripe::parse(&h, bad.as_bytes(), &program()) {
            Err(AppError::InvalidField { field, .. }) => assert_eq!(field, "data.object.amount"),
            other => panic!("expected a field error, got {other:?}"),
        }
        let form = headers(&[("content-type", "text/plain")]);
        assert!(matches!(
            Stripe::parse(&form, SUCCEEDED.as_bytes(), &program()),
            Err(AppError::UnsupportedMediaType { .. })
        ));
    }

    proptest! {
        #[test]
        fn no_input_panics_the_parser(body in proptest::collection::vec(any::<u8>(), 0..512), kind in "(charge\\.succeeded|charge\\.refunded|customer\\.updated|x)") {
            let h = headers(&[("content-type", "application/json")]);
            let _ = Stripe::parse(&h, &body, &program());
            let wrapped = format!(r#"{{"id":"evt_1","type":"{kind}","data":{{"object":{}}}}}"#, String::from_utf8_lossy(&body));
            let _ = Stripe::parse(&h, wrapped.as_bytes(), &program());
            let _ = Stripe::authenticate(&headers(&[(SIGNATURE_HEADER, "t=1,v1=00")]), &body, &program().providers, 0);
        }
    }
}
