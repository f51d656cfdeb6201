//! The custom webhook: any sender (Zapier, Make, n8n, the company's own server) posts the
//! standard JSON schema, signed with `X-Webhook-Signature: sha256=<hex HMAC-SHA256 of the body>`.

use crate::app::App;
use crate::crypto::signature::any_secret_matches_hex;
use crate::domain::customer::NewCustomer;
use crate::domain::money::{Currency, MoneyError};
use crate::domain::program::Program;
use crate::domain::refund::RefundSpec;
use crate::domain::transaction::{Amounts, NewTransaction, Product};
use crate::domain::validate::validate_key;
use crate::error::AppError;
use crate::sources::body::{parse_json, require_json};
use crate::sources::step::{Accepted, Source};
use crate::usecases::ledger::refunds::record_refund;
use crate::usecases::sales::record_sale;
use axum::http::HeaderMap;
use futures::future::BoxFuture;
use rust_decimal::Decimal;
use serde::Deserialize;

pub const SOURCE: &str = "custom";
pub const SIGNATURE_HEADER: &str = "x-webhook-signature";

/// What a custom webhook asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum CustomEvent {
    Created(Box<NewTransaction>),
    Refunded { key: String },
}

/// The custom webhook as a source of the ingest path.
pub struct Custom;

impl Source for Custom {
    const NAME: &'static str = SOURCE;

    fn verify(
        _app: &App,
        program: &Program,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(), AppError> {
        verify(headers, body, &program.custom_webhook_secrets)
    }

    fn apply<'a>(
        app: &'a App,
        program: &'a Program,
        headers: &'a HeaderMap,
        body: &'a [u8],
    ) -> BoxFuture<'a, Result<Accepted, AppError>> {
        Box::pin(async move {
            require_json(headers)?;
            let (outcome, key) = match parse(body, program)? {
                CustomEvent::Created(transaction) => {
                    let key = transaction.key.clone();
                    (record_sale(app, program, *transaction).await?, key)
                }
                CustomEvent::Refunded { key } => {
                    let outcome = record_refund(app, program, &key, RefundSpec::Full).await?;
                    (outcome, key)
                }
            };
            Ok(Accepted::of(outcome, Some(key)))
        })
    }
}

/// Checks `X-Webhook-Signature` against every secret the program holds (two while rotating).
pub fn verify(headers: &HeaderMap, body: &[u8], secrets: &[String]) -> Result<(), AppError> {
    let header = headers
        .get(SIGNATURE_HEADER)
        .ok_or(AppError::MissingSignature)?
        .to_str()
        .map_err(|_| AppError::InvalidSignature)?;
    let hex_tag = header
        .trim()
        .strip_prefix("sha256=")
        .ok_or(AppError::InvalidSignature)?;
    if any_secret_matches_hex(secrets, &[body], hex_tag) {
        Ok(())
    } else {
        Err(AppError::InvalidSignature)
    }
}

/// A decimal amount as text ("199.00"); a JSON number is taken by its literal text.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum AmountText {
    Text(String),
    Number(serde_json::Number),
}

impl AmountText {
    fn text(&self) -> String {
        match self {
            Self::Text(t) => t.clone(),
            Self::Number(n) => n.to_string(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    event: String,
    external_id: String,
    partner_id: Option<String>,
    campaign_slug: Option<String>,
    product_name: Option<String>,
    product_id: Option<String>,
    gross_amount: Option<AmountText>,
    net_amount: Option<AmountText>,
    tax_amount: Option<AmountText>,
    tax_rate: Option<AmountText>,
    currency: Option<String>,
    transaction_date: Option<String>,
    is_recurring: Option<bool>,
    recurring_number: Option<u32>,
    customer: Option<PayloadCustomer>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PayloadCustomer {
    external_id: Option<String>,
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
}

fn non_empty(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn amount(
    field: &str,
    value: Option<&AmountText>,
    currency: Currency,
) -> Result<Option<Decimal>, AppError> {
    value
        .map(|v| {
            currency
                .parse_amount(&v.text())
                .map_err(|e: MoneyError| AppError::invalid(field, e.to_string()))
        })
        .transpose()
}

/// Parses and validates the body; syntax errors are 400, wrong fields 422 naming the field.
pub fn parse(body: &[u8], program: &Program) -> Result<CustomEvent, AppError> {
    let payload: Payload = parse_json(body)?;

    let key = payload.external_id.trim().to_string();
    validate_key(&key).map_err(|m| AppError::invalid("externalId", m))?;
    match payload.event.as_str() {
        "transaction.created" => {}
        "transaction.refunded" => return Ok(CustomEvent::Refunded { key }),
        other => {
            return Err(AppError::invalid(
                "event",
                format!("unknown event type {other:?}: expected transaction.created or transaction.refunded"),
            ))
        }
    }

    let currency = match non_empty(payload.currency) {
        Some(code) => {
            Currency::parse(&code).map_err(|e| AppError::invalid("currency", e.to_string()))?
        }
        None => program.currency,
    };
    let gross = amount("grossAmount", payload.gross_amount.as_ref(), currency)?
        .ok_or_else(|| AppError::invalid("grossAmount", "is required for transaction.created"))?;
    let net = amount("netAmount", payload.net_amount.as_ref(), currency)?;
    let tax = amount("taxAmount", payload.tax_amount.as_ref(), currency)?;
    if net.is_some_and(|n| n > gross) {
        return Err(AppError::invalid(
            "netAmount",
            "must not exceed grossAmount",
        ));
    }
    let tax_rate = payload
        .tax_rate
        .map(|r| {
            r.text()
                .trim()
                .parse::<Decimal>()
                .ok()
                .filter(|r| !r.is_sign_negative() && *r <= Decimal::from(100))
                .ok_or_else(|| {
                    AppError::invalid("taxRate", "must be a percentage such as \"19.00\"")
                })
        })
        .transpose()?;
    let transaction_date = non_empty(payload.transaction_date)
        .map(|text| {
            time::OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339)
                .map(|t| i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX))
                .map_err(|_| {
                    AppError::invalid(
                        "transactionDate",
                        "must be an RFC 3339 time such as 2026-05-21T10:00:00Z",
                    )
                })
        })
        .transpose()?;
    if payload.recurring_number == Some(0) {
        return Err(AppError::invalid("recurringNumber", "counts from 1"));
    }
    let partner_ref = non_empty(payload.partner_id);
    if let Some(reference) = &partner_ref {
        validate_key(reference).map_err(|m| AppError::invalid("partnerId", m))?;
    }
    let customer = payload
        .customer
        .map(|c| -> Result<Option<NewCustomer>, AppError> {
            let email = non_empty(c.email);
            let Some(customer_key) = non_empty(c.external_id).or_else(|| email.clone()) else {
                return Ok(None);
            };
            validate_key(&customer_key).map_err(|m| AppError::invalid("customer.externalId", m))?;
            if let Some(email) = &email {
                if !email_address::EmailAddress::is_valid(email) {
                    return Err(AppError::invalid(
                        "customer.email",
                        "is not an email address",
                    ));
                }
            }
            let name = [non_empty(c.first_name), non_empty(c.last_name)]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            Ok(Some(NewCustomer {
                key: customer_key,
                email,
                name: (!name.is_empty()).then_some(name),
            }))
        })
        .transpose()?
        .flatten();

    Ok(CustomEvent::Created(Box::new(NewTransaction {
        key,
        source: SOURCE.into(),
        customer,
        partner_ref,
        by_customer: false,
        amounts: Amounts {
            net,
            tax,
            tax_rate,
            ..Amounts::new(currency, gross)
        },
        product: Product::named(
            non_empty(payload.product_id),
            non_empty(payload.product_name),
        ),
        campaign_slug: non_empty(payload.campaign_slug),
        is_recurring: payload.is_recurring.unwrap_or(false),
        recurring_number: payload.recurring_number,
        transaction_date,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::signature::hmac_sha256;
    use crate::domain::plan::CommissionPlan;
    use axum::http::HeaderValue;
    use proptest::prelude::*;

    const SEED: &str = include_str!("../../../tests/fixtures/custom/seed-transaction-created.json");

    fn program() -> Program {
        Program {
            slug: "acme".into(),
            name: "Acme".into(),
            currency: Currency::parse("EUR").unwrap(),
            plan: CommissionPlan::default(),
            custom_webhook_secrets: vec!["s1".into()],
            providers: Default::default(),
            usd_rates: Default::default(),
            min_payout: Default::default(),
            created_at: 0,
            updated_at: 0,
        }
    }

    fn with(field: &str, value: serde_json::Value) -> Vec<u8> {
        let mut body: serde_json::Value = serde_json::from_str(SEED).unwrap();
        body[field] = value;
        serde_json::to_vec(&body).unwrap()
    }

    fn field_of(result: Result<CustomEvent, AppError>) -> String {
        match result {
            Err(AppError::InvalidField { field, .. }) => field,
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn the_seed_example_parses_exactly() {
        let CustomEvent::Created(tx) = parse(SEED.as_bytes(), &program()).unwrap() else {
            panic!("expected a created event");
        };
        assert_eq!(tx.key, "ext-tx-12345");
        assert_eq!(tx.partner_ref.as_deref(), Some("P-001"));
        assert_eq!(tx.amounts.gross.to_string(), "199.00");
        assert_eq!(tx.amounts.net.unwrap().to_string(), "167.23");
        assert_eq!(tx.amounts.tax.unwrap().to_string(), "31.77");
        assert_eq!(tx.amounts.tax_rate.unwrap().to_string(), "19.00");
        assert_eq!(tx.amounts.currency.code(), "EUR");
        assert_eq!(tx.transaction_date, Some(1_779_357_600_000));
        assert_eq!(tx.product.id.as_deref(), Some("prod-abc"));
        assert_eq!(tx.campaign_slug.as_deref(), Some("summer-promo"));
        assert_eq!(tx.recurring_number, Some(1));
        let customer = tx.customer.unwrap();
        assert_eq!(customer.key, "cust-001");
        assert_eq!(customer.name.as_deref(), Some("Max Mustermann"));
    }

    #[test]
    fn signatures_are_checked_against_every_secret() {
        let body = SEED.as_bytes();
        let sign = |secret: &str| {
            let mut headers = HeaderMap::new();
            let value = format!(
                "sha256={}",
                hex::encode(hmac_sha256(secret.as_bytes(), &[body]))
            );
            headers.insert(SIGNATURE_HEADER, HeaderValue::from_str(&value).unwrap());
            headers
        };
        let secrets = vec!["old".to_string(), "new".to_string()];
        assert!(verify(&sign("old"), body, &secrets).is_ok());
        assert!(verify(&sign("new"), body, &secrets).is_ok());
        assert!(matches!(
            verify(&sign("other"), body, &secrets),
            Err(AppError::InvalidSignature)
        ));
        assert!(matches!(
            verify(&HeaderMap::new(), body, &secrets),
            Err(AppError::MissingSignature)
        ));
        let mut bare = HeaderMap::new();
        bare.insert(SIGNATURE_HEADER, HeaderValue::from_static("deadbeef"));
        assert!(matches!(
            verify(&bare, body, &secrets),
            Err(AppError::InvalidSignature)
        ));
    }

    #[test]
    fn wrong_fields_are_named() {
        assert_eq!(
            field_of(parse(&with("grossAmount", "abc".into()), &program())),
            "grossAmount"
        );
        assert_eq!(
            field_of(parse(&with("grossAmount", true.into()), &program())),
            "grossAmount"
        );
        assert_eq!(
            field_of(parse(&with("netAmount", "500.00".into()), &program())),
            "netAmount"
        );
        assert_eq!(
            field_of(parse(&with("currency", "EURO".into()), &program())),
            "currency"
        );
        assert_eq!(
            field_of(parse(&with("event", "order.paid".into()), &program())),
            "event"
        );
        assert_eq!(
            field_of(parse(&with("externalId", "".into()), &program())),
            "externalId"
        );
        assert_eq!(
            field_of(parse(&with("externalId", 12.into()), &program())),
            "externalId"
        );
        assert_eq!(
            field_of(parse(&with("isRecurring", "yes".into()), &program())),
            "isRecurring"
        );
        assert_eq!(
            field_of(parse(
                &with("transactionDate", "yesterday".into()),
                &program()
            )),
            "transactionDate"
        );
        assert_eq!(
            field_of(parse(
                &with("customer", serde_json::json!({"email": 5})),
                &program()
            )),
            "customer.email"
        );
        assert_eq!(field_of(parse(b"[1,2]", &program())), "body");
        assert_eq!(field_of(parse(b"{}", &program())), "body");
    }

    #[test]
    fn numbers_are_taken_by_their_literal_text() {
        let CustomEvent::Created(tx) =
            parse(&with("grossAmount", serde_json::json!(199.99)), &program()).unwrap()
        else {
            panic!("expected a created event");
        };
        assert_eq!(tx.amounts.gross.to_string(), "199.99");
    }

    #[test]
    fn syntax_errors_are_malformed_json() {
        assert!(matches!(
            parse(b"not json", &program()),
            Err(AppError::MalformedJson(_))
        ));
        assert!(matches!(
            parse(b"{\"event\":", &program()),
            Err(AppError::MalformedJson(_))
        ));
    }

    #[test]
    fn a_refund_needs_only_its_external_id() {
        let body = br#"{"event":"transaction.refunded","externalId":"ext-tx-12345"}"#;
        assert_eq!(
            parse(body, &program()).unwrap(),
            CustomEvent::Refunded {
                key: "ext-tx-12345".into()
            }
        );
    }

    proptest! {
        #[test]
        fn no_input_panics_the_parser(body in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse(&body, &program());
        }

        #[test]
        fn no_field_value_panics_the_parser(field in "[a-zA-Z]{1,16}", value in ".{0,40}") {
            let _ = parse(&with(&field, value.into()), &program());
        }
    }
}
