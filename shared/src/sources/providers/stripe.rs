//! Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=...]`, the hex HMAC-SHA256 of
//! `"{t}.{body}"` keyed with the whole `whsec_...` string; JSON events. Customers are linked by
//! `metadata.customer_key` on `customer.created` / `customer.updated`.
//!
//! A charge counts once it is captured: `charge.succeeded` with `captured: true`, or
//! `charge.captured` after a manual capture, for `amount_captured` (a partial capture counts
//! what was captured). An uncaptured authorization counts nothing; `charge.expired` takes back
//! whatever was counted for one. `charge.refunded` is a (cumulative) refund; a refund whose
//! status turns `failed` (`charge.refund.updated`, `refund.updated`, `refund.failed`) gives
//! back what it took. Disputes: `charge.dispute.created` holds the charge's unpaid rewards,
//! `charge.dispute.closed` lost refunds the disputed amount, won (or `warning_closed`)
//! releases the holds.

use crate::domain::customer::CustomerRef;
use crate::domain::dispute::DisputeChange;
use crate::domain::minor_units::MinorUnits;
use crate::domain::program::{Program, ProviderSecrets};
use crate::domain::refund::{RefundAmount, RefundSpec};
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
    /// Since API version 2019-12-03; older events count `amount`.
    amount_captured: Option<i64>,
    #[serde(default)]
    amount_refunded: i64,
    /// False for an authorization not captured yet (manual capture).
    captured: Option<bool>,
    currency: String,
    customer: Option<String>,
    description: Option<String>,
    created: Option<i64>,
    #[serde(default)]
    metadata: Map<String, Value>,
}

impl Charge {
    /// What the charge counts for, with the field it was read from: the captured amount
    /// when the event gives it.
    fn counted(&self) -> (&'static str, i64) {
        match self.amount_captured {
            Some(captured) if self.captured != Some(false) => {
                ("data.object.amount_captured", captured)
            }
            _ => ("data.object.amount", self.amount),
        }
    }
}

#[derive(Deserialize)]
struct Dispute {
    id: String,
    amount: i64,
    /// The charge's id, or the charge itself when expanded.
    charge: Value,
    currency: String,
    status: String,
}

#[derive(Deserialize)]
struct Refund {
    id: String,
    amount: i64,
    charge: Value,
    currency: String,
    status: Option<String>,
}

/// An expandable reference: the id, or the object carrying it.
fn charge_id(field: &str, charge: &Value) -> Result<String, AppError> {
    let id = match charge {
        Value::String(id) => Some(id.as_str()),
        Value::Object(object) => object.get("id").and_then(Value::as_str),
        _ => None,
    };
    key(
        field,
        id.ok_or_else(|| AppError::invalid(field, "names no charge"))?,
    )
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
            "charge.succeeded" | "charge.captured" => {
                let charge: Charge = parse_json_value(event.data.object, "data.object")?;
                if charge.captured == Some(false) {
                    return Ok(ProviderEvent::ignored(format!(
                        "charge {:?} is authorized but not captured (manual capture); it counts when charge.captured arrives",
                        charge.id
                    )));
                }
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
                let (field, minor) = charge.counted();
                let amount = minor_amount(field, minor, currency, Self::UNITS)?;
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
                let refund = if charge.amount_refunded >= charge.counted().1 {
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
            "charge.expired" => {
                let charge: Charge = parse_json_value(event.data.object, "data.object")?;
                Ok(ProviderEvent::Lapsed {
                    event_id,
                    transaction_key: key("data.object.id", &charge.id)?,
                })
            }
            "charge.dispute.created" | "charge.dispute.closed" => {
                let dispute: Dispute = parse_json_value(event.data.object, "data.object")?;
                let change = match (event.kind.as_str(), dispute.status.as_str()) {
                    ("charge.dispute.created", _) => DisputeChange::Opened,
                    (_, "lost") => {
                        let currency = currency("data.object.currency", &dispute.currency)?;
                        let amount = minor_amount(
                            "data.object.amount",
                            dispute.amount,
                            currency,
                            Self::UNITS,
                        )?;
                        DisputeChange::Lost {
                            amount: RefundAmount::Exact(amount),
                        }
                    }
                    (_, "won" | "warning_closed") => DisputeChange::Won,
                    (_, other) => {
                        return Ok(ProviderEvent::ignored(format!(
                            "dispute {:?} closed as {other:?}, which changes nothing",
                            dispute.id
                        )))
                    }
                };
                Ok(ProviderEvent::Dispute {
                    event_id,
                    transaction_key: charge_id("data.object.charge", &dispute.charge)?,
                    dispute_id: key("data.object.id", &dispute.id)?,
                    change,
                })
            }
            "charge.refund.updated" | "refund.updated" | "refund.failed" => {
                let refund: Refund = parse_json_value(event.data.object, "data.object")?;
                if refund.status.as_deref() != Some("failed") {
                    return Ok(ProviderEvent::ignored(format!(
                        "refund {:?} is {}; refunds count from charge.refunded",
                        refund.id,
                        refund.status.as_deref().unwrap_or("without a status")
                    )));
                }
                let currency = currency("data.object.currency", &refund.currency)?;
                let amount =
                    minor_amount("data.object.amount", refund.amount, currency, Self::UNITS)?;
                Ok(ProviderEvent::Refund {
                    event_id,
                    transaction_key: charge_id("data.object.charge", &refund.charge)?,
                    refund: RefundSpec::Failed {
                        id: key("data.object.id", &refund.id)?,
                        amount: RefundAmount::Exact(amount),
                    },
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
    const UNCAPTURED: &str =
        include_str!("../../../../tests/fixtures/stripe/charge.succeeded.uncaptured.json");
    const CAPTURED: &str =
        include_str!("../../../../tests/fixtures/stripe/charge.captured.partial.json");
    const EXPIRED: &str = include_str!("../../../../tests/fixtures/stripe/charge.expired.json");
    const DISPUTED: &str =
        include_str!("../../../../tests/fixtures/stripe/charge.dispute.created.json");
    const LOST: &str =
        include_str!("../../../../tests/fixtures/stripe/charge.dispute.closed.lost.json");
    const WON: &str =
        include_str!("../../../../tests/fixtures/stripe/charge.dispute.closed.won.json");
    const REFUND_UPDATED: &str =
        include_str!("../../../../tests/fixtures/stripe/charge.refund.updated.failed.json");
    const REFUND_FAILED: &str =
        include_str!("../../../../tests/fixtures/stripe/refund.failed.json");

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
                    "\"amount_captured\": 4900",
                    &format!("\"amount_captured\": {amount}"),
                )
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
        let huge = SUCCEEDED.replace(
            "\"amount_captured\": 4900",
            "\"amount_captured\": 1000000000001",
        );
        let h = headers(&[("content-type", "application/json")]);
        match Stripe::parse(&h, huge.as_bytes(), &program()) {
            Err(AppError::InvalidField { field, .. }) => {
                assert_eq!(field, "data.object.amount_captured")
            }
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
    fn only_captured_money_counts() {
        let ProviderEvent::Ignored { reason } = parse(UNCAPTURED) else {
            panic!("an uncaptured authorization counts nothing")
        };
        assert!(reason.contains("not captured"), "{reason}");
        let ProviderEvent::Payment { payment, .. } = parse(CAPTURED) else {
            panic!("payment")
        };
        // 49.00 authorized, 30.00 captured: 30.00 counts.
        assert_eq!(
            (payment.key.as_str(), payment.amounts.gross.to_string()),
            ("ch_3PartnerhookAuth01", "30.00".into())
        );
        let ProviderEvent::Lapsed {
            transaction_key, ..
        } = parse(EXPIRED)
        else {
            panic!("lapsed")
        };
        assert_eq!(transaction_key, "ch_3PartnerhookAuth02");
        // A refund of a partly captured charge is full once it reaches what was captured.
        let refunded = CAPTURED
            .replace("\"charge.captured\"", "\"charge.refunded\"")
            .replace("\"amount_refunded\": 0", "\"amount_refunded\": 3000");
        assert!(matches!(
            parse(&refunded),
            ProviderEvent::Refund {
                refund: RefundSpec::Full,
                ..
            }
        ));
    }

    #[test]
    fn disputes_hold_then_release_or_refund() {
        let dispute = |body: &str| match parse(body) {
            ProviderEvent::Dispute {
                transaction_key,
                dispute_id,
                change,
                ..
            } => (transaction_key, dispute_id, change),
            other => panic!("dispute, got {other:?}"),
        };
        let (tx, id, change) = dispute(DISPUTED);
        assert_eq!(
            (tx.as_str(), id.as_str(), change),
            (
                "ch_3PartnerhookTest01",
                "dp_1PartnerhookDisp01",
                DisputeChange::Opened
            )
        );
        assert_eq!(
            dispute(LOST).2,
            DisputeChange::Lost {
                amount: RefundAmount::Exact("49.00".parse().unwrap())
            }
        );
        assert_eq!(dispute(WON).2, DisputeChange::Won);
        let warning = WON.replace("\"status\": \"won\"", "\"status\": \"warning_closed\"");
        assert_eq!(dispute(&warning).2, DisputeChange::Won);
        // An expanded charge names it just as well.
        let expanded = DISPUTED.replace(
            "\"charge\": \"ch_3PartnerhookTest01\"",
            "\"charge\": {\"id\": \"ch_3PartnerhookTest01\", \"object\": \"charge\"}",
        );
        assert_eq!(dispute(&expanded).0, "ch_3PartnerhookTest01");
        let nameless = DISPUTED.replace("\"charge\": \"ch_3PartnerhookTest01\"", "\"charge\": 7");
        let h = headers(&[("content-type", "application/json")]);
        match Stripe::parse(&h, nameless.as_bytes(), &program()) {
            Err(AppError::InvalidField { field, .. }) => assert_eq!(field, "data.object.charge"),
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn a_failed_refund_gives_back_its_amount() {
        for body in [REFUND_UPDATED, REFUND_FAILED] {
            let ProviderEvent::Refund {
                transaction_key,
                refund,
                ..
            } = parse(body)
            else {
                panic!("refund")
            };
            assert_eq!(transaction_key, "ch_3PartnerhookTest01");
            assert_eq!(
                refund,
                RefundSpec::Failed {
                    id: "re_3PartnerhookRfnd01".into(),
                    amount: RefundAmount::Exact("19.00".parse().unwrap())
                }
            );
        }
        let succeeded =
            REFUND_UPDATED.replace("\"status\": \"failed\"", "\"status\": \"succeeded\"");
        assert!(matches!(parse(&succeeded), ProviderEvent::Ignored { .. }));
    }

    #[test]
    fn bad_bodies_are_refused_with_the_field_named() {
        let h = headers(&[("content-type", "application/json")]);
        assert!(matches!(
            Stripe::parse(&h, b"{", &program()),
            Err(AppError::MalformedJson(_))
        ));
        let bad = SUCCEEDED.replace("\"amount_captured\": 4900", "\"amount_captured\": -5");
        match Stripe::parse(&h, bad.as_bytes(), &program()) {
            Err(AppError::InvalidField { field, .. }) => {
                assert_eq!(field, "data.object.amount_captured")
            }
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
        fn no_input_panics_the_parser(body in proptest::collection::vec(any::<u8>(), 0..512), kind in "(charge\\.succeeded|charge\\.captured|charge\\.refunded|charge\\.expired|charge\\.dispute\\.created|charge\\.dispute\\.closed|refund\\.failed|charge\\.refund\\.updated|customer\\.updated|x)") {
            let h = headers(&[("content-type", "application/json")]);
            let _ = Stripe::parse(&h, &body, &program());
            let wrapped = format!(r#"{{"id":"evt_1","type":"{kind}","data":{{"object":{}}}}}"#, String::from_utf8_lossy(&body));
            let _ = Stripe::parse(&h, wrapped.as_bytes(), &program());
            let _ = Stripe::authenticate(&headers(&[(SIGNATURE_HEADER, "t=1,v1=00")]), &body, &program().providers, 0);
        }
    }
}
