//! Chargebee: HTTP Basic credentials (Chargebee signs nothing); JSON events with `event_type`
//! and `content`. `payment_succeeded` names its customer by `content.customer.meta_data.customer_key`
//! and is the payment; `payment_refunded` carries a refund transaction pointing at the payment
//! (`refunded_txn_id`); `customer_created` / `customer_changed` link Chargebee customers.
//! `payment_failed` whose transaction is a `late_failure` (it failed after Chargebee reported
//! it successful) takes back all of that payment, kept when it comes first; other failures
//! were never payments.

use crate::domain::customer::CustomerRef;
use crate::domain::minor_units::MinorUnits;
use crate::domain::program::{Program, ProviderSecrets};
use crate::domain::refund::RefundSpec;
use crate::domain::transaction::{Amounts, NewTransaction, Product};
use crate::error::AppError;
use crate::sources::authenticity::verify_basic;
use crate::sources::body::{parse_json, parse_json_value, require_json};
use crate::sources::providers::event::{currency, key, minor_amount, Provider, ProviderEvent};
use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::Value;

pub struct Chargebee;

#[derive(Deserialize)]
struct Event {
    id: String,
    event_type: String,
    #[serde(default)]
    content: Value,
}

#[derive(Deserialize)]
struct Content {
    transaction: Transaction,
    customer: Option<Customer>,
}

#[derive(Deserialize)]
struct CustomerContent {
    customer: Customer,
}

#[derive(Deserialize)]
struct Transaction {
    id: String,
    amount: i64,
    currency_code: String,
    customer_id: Option<String>,
    date: Option<i64>,
    refunded_txn_id: Option<String>,
    status: Option<String>,
}

#[derive(Deserialize)]
struct Customer {
    id: String,
    meta_data: Option<Value>,
}

/// `meta_data` is a JSON object; some API clients store it as a JSON string of one.
fn customer_key(customer: Option<&Customer>) -> Option<String> {
    let meta = customer?.meta_data.as_ref()?;
    let parsed;
    let object = match meta {
        Value::String(text) => {
            parsed = serde_json::from_str::<Value>(text).ok()?;
            &parsed
        }
        other => other,
    };
    object
        .get("customer_key")?
        .as_str()
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_string)
}

impl Provider for Chargebee {
    const NAME: &'static str = "chargebee";
    const UNITS: MinorUnits = MinorUnits::Chargebee;

    fn authenticate(
        headers: &HeaderMap,
        _body: &[u8],
        secrets: &ProviderSecrets,
        _now: i64,
    ) -> Result<(), AppError> {
        verify_basic(headers, &secrets.chargebee_credentials)
    }

    fn parse(
        headers: &HeaderMap,
        body: &[u8],
        _program: &Program,
    ) -> Result<ProviderEvent, AppError> {
        require_json(headers)?;
        let event: Event = parse_json(body)?;
        let event_id = Some(key("id", &event.id)?);
        match event.event_type.as_str() {
            "payment_succeeded" => {
                let content: Content = parse_json_value(event.content, "content")?;
                let tx = content.transaction;
                let customer = CustomerRef {
                    key: customer_key(content.customer.as_ref()),
                    provider_id: content.customer.map(|c| c.id).or(tx.customer_id),
                };
                let currency = currency("content.transaction.currency_code", &tx.currency_code)?;
                let amount = minor_amount(
                    "content.transaction.amount",
                    tx.amount,
                    currency,
                    Self::UNITS,
                )?;
                Ok(ProviderEvent::Payment {
                    event_id,
                    customer,
                    payment: Box::new(NewTransaction {
                        product: Product::named(None, None),
                        transaction_date: tx.date.map(|s| s.saturating_mul(1000)),
                        ..NewTransaction::provider_payment(
                            Self::NAME,
                            key("content.transaction.id", &tx.id)?,
                            Amounts::new(currency, amount),
                        )
                    }),
                })
            }
            "payment_refunded" => {
                let content: Content = parse_json_value(event.content, "content")?;
                let tx = content.transaction;
                let original = tx.refunded_txn_id.ok_or_else(|| {
                    AppError::invalid(
                        "content.transaction.refunded_txn_id",
                        "names no refunded payment",
                    )
                })?;
                let currency = currency("content.transaction.currency_code", &tx.currency_code)?;
                Ok(ProviderEvent::Refund {
                    event_id,
                    transaction_key: key("content.transaction.refunded_txn_id", &original)?,
                    refund: RefundSpec::Part {
                        id: key("content.transaction.id", &tx.id)?,
                        amount: minor_amount(
                            "content.transaction.amount",
                            tx.amount,
                            currency,
                            Self::UNITS,
                        )?
                        .into(),
                    },
                })
            }
            "payment_failed" => {
                let content: Content = parse_json_value(event.content, "content")?;
                let tx = content.transaction;
                if tx.status.as_deref() != Some("late_failure") {
                    return Ok(ProviderEvent::ignored(format!(
                        "payment {:?} failed before it succeeded, so nothing was counted",
                        tx.id
                    )));
                }
                Ok(ProviderEvent::Refund {
                    event_id,
                    transaction_key: key("content.transaction.id", &tx.id)?,
                    refund: RefundSpec::Full,
                })
            }
            "customer_created" | "customer_changed" => {
                let content: CustomerContent = parse_json_value(event.content, "content")?;
                ProviderEvent::customer_link(
                    event_id,
                    ("content.customer.id", &content.customer.id),
                    (
                        "meta_data.customer_key",
                        customer_key(Some(&content.customer)),
                    ),
                )
            }
            other => Ok(ProviderEvent::not_acted_on(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::providers::event::testing::{headers, program};
    use base64::Engine;
    use proptest::prelude::*;

    const PAID: &str = include_str!("../../../../tests/fixtures/chargebee/payment_succeeded.json");
    const REFUNDED: &str =
        include_str!("../../../../tests/fixtures/chargebee/payment_refunded.json");
    const PARTIAL: &str =
        include_str!("../../../../tests/fixtures/chargebee/payment_refunded.partial.json");
    const LATE_FAILURE: &str =
        include_str!("../../../../tests/fixtures/chargebee/payment_failed.late_failure.json");

    #[test]
    fn a_late_failure_takes_back_the_payment_and_an_early_one_is_ignored() {
        let ProviderEvent::Refund {
            transaction_key,
            refund,
            ..
        } = parse(LATE_FAILURE)
        else {
            panic!("refund")
        };
        assert_eq!(
            (transaction_key.as_str(), refund),
            ("txn_PartnerhookTest01", RefundSpec::Full)
        );
        let early = LATE_FAILURE.replace("\"status\": \"late_failure\"", "\"status\": \"failure\"");
        assert!(matches!(parse(&early), ProviderEvent::Ignored { .. }));
    }

    const CHANGED: &str =
        include_str!("../../../../tests/fixtures/chargebee/customer_changed.json");
    const SUBSCRIPTION: &str =
        include_str!("../../../../tests/fixtures/chargebee/subscription_created.json");

    fn parse(body: &str) -> ProviderEvent {
        Chargebee::parse(
            &headers(&[("content-type", "application/json")]),
            body.as_bytes(),
            &program(),
        )
        .unwrap()
    }

    #[test]
    fn basic_credentials_are_required() {
        let auth = |user: &str, pass: &str| {
            let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
            headers(&[("authorization", &format!("Basic {token}"))])
        };
        let secrets = program().providers;
        assert!(Chargebee::authenticate(&auth("cb", "cb-pass"), b"", &secrets, 0).is_ok());
        assert!(matches!(
            Chargebee::authenticate(&auth("cb", "nope"), b"", &secrets, 0),
            Err(AppError::Unauthorized(_))
        ));
        assert!(matches!(
            Chargebee::authenticate(&headers(&[]), b"", &secrets, 0),
            Err(AppError::MissingCredentials(_))
        ));
    }

    #[test]
    fn payments_refunds_and_customer_links_are_read() {
        let ProviderEvent::Payment {
            event_id,
            customer,
            payment,
        } = parse(PAID)
        else {
            panic!("payment")
        };
        assert_eq!(event_id.as_deref(), Some("ev_AzyHookPaySucc01"));
        assert_eq!(customer.key.as_deref(), Some("cust-001"));
        assert_eq!(customer.provider_id.as_deref(), Some("AzyHookCust0001"));
        assert_eq!(
            (
                payment.key.as_str(),
                payment.amounts.gross.to_string().as_str()
            ),
            ("txn_PartnerhookTest01", "13.95")
        );
        let ProviderEvent::Refund {
            transaction_key,
            refund,
            ..
        } = parse(PARTIAL)
        else {
            panic!("refund")
        };
        assert_eq!(transaction_key, "txn_PartnerhookTest01");
        assert_eq!(
            refund,
            RefundSpec::Part {
                id: "txn_PartnerhookRefund02".into(),
                amount: "3.95".parse::<rust_decimal::Decimal>().unwrap().into()
            }
        );
        assert!(matches!(parse(REFUNDED), ProviderEvent::Refund { .. }));
        let ProviderEvent::CustomerLink { customer_key, .. } = parse(CHANGED) else {
            panic!("link")
        };
        assert_eq!(customer_key, "cust-001");
        assert!(matches!(parse(SUBSCRIPTION), ProviderEvent::Ignored { .. }));
    }

    /// https://apidocs.chargebee.com/docs/api/currencies: two decimals for every currency that
    /// has subunits, three-decimal ones included; none for zero-decimal ones.
    #[test]
    fn amounts_are_read_by_chargebees_table() {
        let paid = |code: &str| {
            let body = PAID.replace(
                "\"currency_code\": \"USD\"",
                &format!("\"currency_code\": \"{code}\""),
            );
            let ProviderEvent::Payment { payment, .. } = parse(&body) else {
                panic!("payment")
            };
            payment.amounts.gross.to_string()
        };
        assert_eq!(paid("KWD"), "13.950", "1395 is 13.95 KWD, not ISO's 1.395");
        assert_eq!(paid("JPY"), "1395");
        assert_eq!(paid("EUR"), "13.95");
    }

    #[test]
    fn meta_data_may_be_a_json_string() {
        let body = PAID.replacen(r#""meta_data": {"#, r#""meta_data_": {"#, 1);
        let body = body.replacen(
            r#""id": "AzyHookCust0001","#,
            r#""id": "AzyHookCust0001", "meta_data": "{\"customer_key\":\"cust-009\"}","#,
            1,
        );
        if let ProviderEvent::Payment { customer, .. } = parse(&body) {
            assert_eq!(customer.key.as_deref(), Some("cust-009"));
        } else {
            panic!("payment");
        }
    }

    proptest! {
        #[test]
        fn no_input_panics_the_parser(body in proptest::collection::vec(any::<u8>(), 0..512), kind in "(payment_succeeded|payment_refunded|customer_changed|x)") {
            let h = headers(&[("content-type", "application/json")]);
            let _ = Chargebee::parse(&h, &body, &program());
            let wrapped = format!(r#"{{"id":"ev_1","event_type":"{kind}","content":{}}}"#, String::from_utf8_lossy(&body));
            let _ = Chargebee::parse(&h, wrapped.as_bytes(), &program());
        }
    }
}
