//! Recurly: legacy XML notifications, which Recurly does not sign, authenticated with HTTP Basic
//! credentials; JSON notifications signed with `recurly-signature: <ms>,<hex>[,<hex>]` (HMAC-SHA256
//! of `"{ms}.{body}"`, five minutes either way). The XML root names the notification:
//! `successful_payment_notification` (customer key = `<account_code>`) is the payment and
//! `successful_refund_notification` the refund; the refund names no payment, only its account
//! and amount, so the ledger matches it to the account's payments. `void_payment_notification`
//! takes back all of the voided payment (a full refund keyed by its transaction id, kept when
//! it comes first). A payment without
//! `<currency>` is in the program's; a refund without one is read in its payment's. JSON
//! notifications carry no amounts, so they are authenticated and answered `ignored`.

use crate::domain::customer::CustomerRef;
use crate::domain::minor_units::MinorUnits;
use crate::domain::program::{Program, ProviderSecrets};
use crate::domain::refund::RefundSpec;
use crate::domain::transaction::{Amounts, NewTransaction};
use crate::error::AppError;
use crate::sources::authenticity::{
    check_timestamp, header_text, timestamped_hmac_matches, verify_basic,
};
use crate::sources::body::{parse_json, require_media_type};
use crate::sources::providers::event::{
    currency, key, minor_amount, refund_amount, Provider, ProviderEvent,
};
use axum::http::HeaderMap;
use quick_xml::events::Event;
use serde::Deserialize;

pub const SIGNATURE_HEADER: &str = "recurly-signature";

pub struct Recurly;

#[derive(Deserialize)]
struct Notification {
    account: Option<Account>,
    transaction: Option<Transaction>,
}

#[derive(Deserialize)]
struct Account {
    account_code: Option<String>,
}

#[derive(Deserialize)]
struct Transaction {
    id: Option<String>,
    amount_in_cents: Option<Text>,
    currency: Option<String>,
    date: Option<Text>,
}

/// An element's text, whatever its attributes (`<amount_in_cents type="integer">`).
#[derive(Deserialize)]
struct Text {
    #[serde(rename = "$text", default)]
    value: String,
}

#[derive(Deserialize)]
struct JsonNotification {
    object_type: String,
    event_type: String,
}

/// The name of the document's root element.
fn root_name(xml: &str) -> Result<String, AppError> {
    let mut reader = quick_xml::Reader::from_str(xml);
    loop {
        match reader.read_event() {
            Ok(Event::Start(start)) | Ok(Event::Empty(start)) => {
                return Ok(String::from_utf8_lossy(start.name().as_ref()).into_owned())
            }
            Ok(Event::Eof) => {
                return Err(AppError::MalformedBody("the XML document is empty".into()))
            }
            Ok(_) => {}
            Err(e) => return Err(AppError::MalformedBody(format!("not XML: {e}"))),
        }
    }
}

fn payment_event(
    root: &str,
    notification: Notification,
    program: &Program,
) -> Result<ProviderEvent, AppError> {
    let field = |name: &str| format!("{root}.transaction.{name}");
    let tx = notification
        .transaction
        .ok_or_else(|| AppError::invalid(format!("{root}.transaction"), "is required"))?;
    let id = tx
        .id
        .as_deref()
        .ok_or_else(|| AppError::invalid(field("id"), "is required"))?;
    let named = tx
        .currency
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|code| currency(&field("currency"), code))
        .transpose()?;
    let cents_text = tx.amount_in_cents.map(|t| t.value).unwrap_or_default();
    let cents: i64 = cents_text.trim().parse().map_err(|_| {
        AppError::invalid(
            field("amount_in_cents"),
            "must be an integer amount in cents",
        )
    })?;
    let transaction_date = tx.date.as_ref().and_then(|t| {
        time::OffsetDateTime::parse(
            t.value.trim(),
            &time::format_description::well_known::Rfc3339,
        )
        .ok()
        .map(|t| t.unix_timestamp().saturating_mul(1000))
    });
    let account_code = notification
        .account
        .and_then(|a| a.account_code)
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty());
    let id = key(&field("id"), id)?;
    // XML notifications have no id of their own; the transaction's is unique per notification.
    let event_id = Some(format!("{root}:{id}"));
    if root == "void_payment_notification" {
        return Ok(ProviderEvent::Refund {
            event_id,
            transaction_key: id,
            refund: RefundSpec::Full,
        });
    }
    if root == "successful_refund_notification" {
        // The refund names no payment, only its account and amount.
        let customer_key = account_code.ok_or_else(|| {
            AppError::invalid(format!("{root}.account.account_code"), "is required")
        })?;
        return Ok(ProviderEvent::CustomerRefund {
            event_id,
            customer_key: key(&format!("{root}.account.account_code"), &customer_key)?,
            refund_id: id,
            amount: refund_amount(&field("amount_in_cents"), cents, named, Recurly::UNITS)?,
        });
    }
    let currency = named.unwrap_or(program.currency);
    let amount = minor_amount(&field("amount_in_cents"), cents, currency, Recurly::UNITS)?;
    Ok(ProviderEvent::Payment {
        event_id,
        customer: CustomerRef {
            key: account_code,
            provider_id: None,
        },
        payment: Box::new(NewTransaction {
            transaction_date,
            ..NewTransaction::provider_payment(Recurly::NAME, id, Amounts::new(currency, amount))
        }),
    })
}

impl Provider for Recurly {
    const NAME: &'static str = "recurly";
    const UNITS: MinorUnits = MinorUnits::Recurly;

    fn authenticate(
        headers: &HeaderMap,
        body: &[u8],
        secrets: &ProviderSecrets,
        now: i64,
    ) -> Result<(), AppError> {
        if !headers.contains_key(SIGNATURE_HEADER) {
            return verify_basic(headers, &secrets.recurly_credentials);
        }
        if secrets.recurly_signing_keys.is_empty() {
            return Err(AppError::Unauthorized(
                "no Recurly signing key is configured; set providers.recurly.signing_key with PATCH /v1/program".into(),
            ));
        }
        let header = header_text(headers, SIGNATURE_HEADER)?;
        let mut parts = header.split(',').map(str::trim);
        let millis = parts.next().unwrap_or_default();
        let candidates: Vec<&str> = parts.collect();
        if !timestamped_hmac_matches(&secrets.recurly_signing_keys, millis, body, &candidates) {
            return Err(AppError::InvalidSignature);
        }
        let millis: i64 = millis.parse().map_err(|_| AppError::InvalidSignature)?;
        check_timestamp(millis / 1000, now, true)
    }

    fn parse(
        headers: &HeaderMap,
        body: &[u8],
        program: &Program,
    ) -> Result<ProviderEvent, AppError> {
        let media_type = require_media_type(
            headers,
            &["application/xml", "text/xml", "application/json"],
        )?;
        if media_type == "application/json" {
            let notification: JsonNotification = parse_json(body)?;
            return Ok(ProviderEvent::ignored(format!(
                "Recurly JSON notifications ({}.{}) carry no amounts; Partnerhook records payments from the XML notifications",
                notification.object_type, notification.event_type
            )));
        }
        let xml = std::str::from_utf8(body)
            .map_err(|_| AppError::MalformedBody("the XML is not UTF-8".into()))?;
        let root = root_name(xml)?;
        match root.as_str() {
            "successful_payment_notification"
            | "successful_refund_notification"
            | "void_payment_notification" => {
                let notification: Notification = quick_xml::de::from_str(xml).map_err(|e| {
                    AppError::invalid(root.as_str(), format!("unreadable notification: {e}"))
                })?;
                payment_event(&root, notification, program)
            }
            other => Ok(ProviderEvent::not_acted_on(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::signature::hmac_sha256;
    use crate::domain::refund::RefundAmount;
    use crate::sources::providers::event::testing::{headers, program};
    use proptest::prelude::*;

    const PAYMENT: &str =
        include_str!("../../../../tests/fixtures/recurly/successful_payment_notification.xml");
    const REFUND: &str =
        include_str!("../../../../tests/fixtures/recurly/successful_refund_notification.xml");
    const ACCOUNT: &str =
        include_str!("../../../../tests/fixtures/recurly/new_account_notification.xml");
    const JSON: &str = include_str!("../../../../tests/fixtures/recurly/payment.succeeded.json");
    const VOID: &str =
        include_str!("../../../../tests/fixtures/recurly/void_payment_notification.xml");

    #[test]
    fn a_void_takes_back_the_whole_payment() {
        let Ok(ProviderEvent::Refund {
            event_id,
            transaction_key,
            refund,
        }) = parse(VOID, "application/xml")
        else {
            panic!("refund")
        };
        assert_eq!(transaction_key, "a1b2c3d4e5f60718293a4b5c6d7e8f90");
        assert_eq!(
            event_id.as_deref(),
            Some("void_payment_notification:a1b2c3d4e5f60718293a4b5c6d7e8f90")
        );
        assert_eq!(refund, RefundSpec::Full);
        let nameless = VOID.replace("<id>a1b2c3d4e5f60718293a4b5c6d7e8f90</id>", "");
        match parse(&nameless, "application/xml") {
            Err(AppError::InvalidField { field, .. }) => {
                assert_eq!(field, "void_payment_notification.transaction.id")
            }
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    fn parse(body: &str, content_type: &str) -> Result<ProviderEvent, AppError> {
        Recurly::parse(
            &headers(&[("content-type", content_type)]),
            body.as_bytes(),
            &program(),
        )
    }

    #[test]
    fn xml_notifications_become_payments_and_customer_refunds() {
        let Ok(ProviderEvent::Payment {
            event_id,
            customer,
            payment,
        }) = parse(PAYMENT, "application/xml")
        else {
            panic!("payment")
        };
        assert_eq!(customer.key.as_deref(), Some("cust-001"));
        assert_eq!(payment.amounts.gross.to_string(), "32.95");
        assert_eq!(
            payment.amounts.currency.code(),
            "USD",
            "XML carries no currency: the program's"
        );
        assert_eq!(
            event_id,
            Some(format!("successful_payment_notification:{}", payment.key))
        );
        let Ok(ProviderEvent::CustomerRefund {
            customer_key,
            amount,
            ..
        }) = parse(REFUND, "text/xml; charset=utf-8")
        else {
            panic!("refund")
        };
        assert_eq!(customer_key, "cust-001");
        assert!(
            crate::domain::refund::refunds_by_customer(Recurly::NAME),
            "its payments look for refunds kept under their customer"
        );
        assert_eq!(
            amount,
            RefundAmount::Minor {
                minor: 3295,
                units: MinorUnits::Recurly
            },
            "XML carries no currency: read in the payment's"
        );
        let named = REFUND.replace(
            "<amount_in_cents type=\"integer\">3295</amount_in_cents>",
            "<amount_in_cents type=\"integer\">3295</amount_in_cents><currency>JPY</currency>",
        );
        let Ok(ProviderEvent::CustomerRefund { amount, .. }) = parse(&named, "application/xml")
        else {
            panic!("refund")
        };
        assert_eq!(amount, RefundAmount::Exact(3295.into()));
        assert!(matches!(
            parse(ACCOUNT, "application/xml"),
            Ok(ProviderEvent::Ignored { .. })
        ));
        assert!(matches!(
            parse(JSON, "application/json"),
            Ok(ProviderEvent::Ignored { .. })
        ));
    }

    #[test]
    fn bad_xml_is_refused() {
        assert!(matches!(
            parse("<oops", "application/xml"),
            Err(AppError::MalformedBody(_))
        ));
        assert!(matches!(
            parse("", "application/xml"),
            Err(AppError::MalformedBody(_))
        ));
        let no_amount = PAYMENT.replace(
            "<amount_in_cents type=\"integer\">3295</amount_in_cents>",
            "",
        );
        assert!(matches!(
            parse(&no_amount, "application/xml"),
            Err(AppError::InvalidField { .. })
        ));
        assert!(matches!(
            parse(PAYMENT, "application/x-www-form-urlencoded"),
            Err(AppError::UnsupportedMediaType { .. })
        ));
    }

    #[test]
    fn xml_uses_basic_auth_and_json_the_signature_with_a_two_sided_window() {
        let secrets = program().providers;
        let now = 1_700_000_000;
        let sign = |ms: i64, key: &str| {
            let tag = hex::encode(hmac_sha256(
                key.as_bytes(),
                &[ms.to_string().as_bytes(), b".", JSON.as_bytes()],
            ));
            headers(&[(SIGNATURE_HEADER, &format!("{ms},{tag}"))])
        };
        assert!(Recurly::authenticate(
            &sign(now * 1000, "recurly-key"),
            JSON.as_bytes(),
            &secrets,
            now
        )
        .is_ok());
        assert!(matches!(
            Recurly::authenticate(&sign(now * 1000, "other"), JSON.as_bytes(), &secrets, now),
            Err(AppError::InvalidSignature)
        ));
        assert!(matches!(
            Recurly::authenticate(
                &sign((now + 400) * 1000, "recurly-key"),
                JSON.as_bytes(),
                &secrets,
                now
            ),
            Err(AppError::StaleTimestamp)
        ));
        assert!(matches!(
            Recurly::authenticate(
                &sign((now - 400) * 1000, "recurly-key"),
                JSON.as_bytes(),
                &secrets,
                now
            ),
            Err(AppError::StaleTimestamp)
        ));
        assert!(matches!(
            Recurly::authenticate(&headers(&[]), PAYMENT.as_bytes(), &secrets, now),
            Err(AppError::MissingCredentials(_))
        ));
    }

    proptest! {
        #[test]
        fn no_input_panics_the_parser(body in proptest::collection::vec(any::<u8>(), 0..512), amount in ".{0,12}") {
            let _ = parse(&String::from_utf8_lossy(&body), "application/xml");
            let _ = parse(&String::from_utf8_lossy(&body), "application/json");
            let odd = PAYMENT.replace("3295", &amount.replace('<', "&lt;"));
            let _ = parse(&odd, "application/xml");
        }
    }
}
