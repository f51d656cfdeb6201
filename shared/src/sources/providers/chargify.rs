//! Chargify (Maxio Advanced Billing): `X-Chargify-Webhook-Signature-Hmac-Sha-256`, the hex
//! HMAC-SHA256 of the raw form body keyed with the site shared key; form-encoded bodies with
//! `payload[...][...]` keys. `payment_success` names its customer by
//! `payload[subscription][customer][reference]`; `refund_success` refunds a payment. A refund
//! names no currency: its `amount_in_cents` is read in the payment's, once that is known.

use crate::crypto::signature::any_secret_matches_hex;
use crate::domain::customer::CustomerRef;
use crate::domain::minor_units::MinorUnits;
use crate::domain::program::{Program, ProviderSecrets};
use crate::domain::refund::RefundSpec;
use crate::domain::transaction::{Amounts, NewTransaction, Product};
use crate::error::AppError;
use crate::sources::authenticity::header_text;
use crate::sources::body::require_media_type;
use crate::sources::providers::event::{
    currency, key, minor_amount, refund_amount, Provider, ProviderEvent,
};
use axum::http::HeaderMap;
use std::collections::HashMap;

pub const SIGNATURE_HEADER: &str = "x-chargify-webhook-signature-hmac-sha-256";

pub struct Chargify;

/// The decoded form: bracketed keys as they are written (`payload[transaction][id]`).
struct Form(HashMap<String, String>);

impl Form {
    fn parse(body: &[u8]) -> Result<Self, AppError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
            .map_err(|e| AppError::MalformedBody(format!("not a form-encoded body: {e}")))?;
        Ok(Self(pairs.into_iter().collect()))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    fn require(&self, name: &str) -> Result<&str, AppError> {
        self.get(name)
            .ok_or_else(|| AppError::invalid(name, "is required for this event"))
    }

    fn cents(&self, name: &str) -> Result<i64, AppError> {
        self.require(name)?
            .parse()
            .map_err(|_| AppError::invalid(name, "must be an integer amount in cents"))
    }

    /// The first of several places a value may be, as Maxio events differ in where they put it.
    fn first(&self, names: &[&str]) -> Option<&str> {
        names.iter().find_map(|n| self.get(n))
    }
}

impl Provider for Chargify {
    const NAME: &'static str = "chargify";
    const UNITS: MinorUnits = MinorUnits::Chargify;

    fn authenticate(
        headers: &HeaderMap,
        body: &[u8],
        secrets: &ProviderSecrets,
        _now: i64,
    ) -> Result<(), AppError> {
        if secrets.chargify_site_shared_keys.is_empty() {
            return Err(AppError::Unauthorized(
                "no Chargify site shared key is configured; set providers.chargify.site_shared_key with PATCH /v1/program".into(),
            ));
        }
        let signature = header_text(headers, SIGNATURE_HEADER)?;
        if any_secret_matches_hex(&secrets.chargify_site_shared_keys, &[body], signature) {
            Ok(())
        } else {
            Err(AppError::InvalidSignature)
        }
    }

    fn parse(
        headers: &HeaderMap,
        body: &[u8],
        program: &Program,
    ) -> Result<ProviderEvent, AppError> {
        require_media_type(headers, &["application/x-www-form-urlencoded"])?;
        let form = Form::parse(body)?;
        let event_id = Some(key("id", form.require("id")?)?);
        let event = form.require("event")?;
        let named = [
            "payload[subscription][currency]",
            "payload[transaction][currency]",
            "payload[currency]",
        ]
        .into_iter()
        .find_map(|field| form.get(field).map(|code| currency(field, code)))
        .transpose()?;
        match event {
            "payment_success" => {
                let customer = CustomerRef {
                    key: form
                        .get("payload[subscription][customer][reference]")
                        .map(str::to_string),
                    provider_id: form
                        .get("payload[subscription][customer][id]")
                        .map(str::to_string),
                };
                // A payment without a currency is in the program's.
                let currency = named.unwrap_or(program.currency);
                let amount_field = "payload[transaction][amount_in_cents]";
                let amount = minor_amount(
                    amount_field,
                    form.cents(amount_field)?,
                    currency,
                    Self::UNITS,
                )?;
                Ok(ProviderEvent::Payment {
                    event_id,
                    customer,
                    payment: Box::new(NewTransaction {
                        product: Product::named(
                            form.get("payload[subscription][product][handle]")
                                .map(str::to_string),
                            form.get("payload[subscription][product][name]")
                                .map(str::to_string),
                        ),
                        ..NewTransaction::provider_payment(
                            Self::NAME,
                            key(
                                "payload[transaction][id]",
                                form.require("payload[transaction][id]")?,
                            )?,
                            Amounts::new(currency, amount),
                        )
                    }),
                })
            }
            "refund_success" => {
                let amount_field = "payload[amount_in_cents]";
                let amount =
                    refund_amount(amount_field, form.cents(amount_field)?, named, Self::UNITS)?;
                // No refund id is documented; the webhook id is stable across retries.
                let refund_id = form
                    .first(&["payload[refund_id]", "id"])
                    .unwrap_or_default();
                Ok(ProviderEvent::Refund {
                    event_id,
                    transaction_key: key(
                        "payload[payment_id]",
                        form.require("payload[payment_id]")?,
                    )?,
                    refund: RefundSpec::Part {
                        id: key("payload[refund_id]", refund_id)?,
                        amount,
                    },
                })
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

    const PAYMENT: &str = include_str!("../../../../tests/fixtures/chargify/payment_success.txt");
    const REFUND: &str = include_str!("../../../../tests/fixtures/chargify/refund_success.txt");
    const PARTIAL: &str =
        include_str!("../../../../tests/fixtures/chargify/refund_success.partial.txt");
    const SIGNUP: &str = include_str!("../../../../tests/fixtures/chargify/signup_success.txt");
    const FORM: &str = "application/x-www-form-urlencoded";

    fn parse(body: &str) -> Result<ProviderEvent, AppError> {
        Chargify::parse(
            &headers(&[("content-type", FORM)]),
            body.as_bytes(),
            &program(),
        )
    }

    #[test]
    fn the_raw_form_is_signed_with_the_site_shared_key() {
        let secrets = program().providers;
        let tag = hex::encode(hmac_sha256(b"site-key", &[PAYMENT.as_bytes()]));
        assert!(Chargify::authenticate(
            &headers(&[(SIGNATURE_HEADER, &tag)]),
            PAYMENT.as_bytes(),
            &secrets,
            0
        )
        .is_ok());
        assert!(matches!(
            Chargify::authenticate(
                &headers(&[(SIGNATURE_HEADER, &tag)]),
                REFUND.as_bytes(),
                &secrets,
                0
            ),
            Err(AppError::InvalidSignature)
        ));
        assert!(matches!(
            Chargify::authenticate(&headers(&[]), PAYMENT.as_bytes(), &secrets, 0),
            Err(AppError::MissingCredentials(_))
        ));
    }

    #[test]
    fn payments_and_refunds_are_read_from_bracketed_keys() {
        let Ok(ProviderEvent::Payment {
            event_id,
            customer,
            payment,
        }) = parse(PAYMENT)
        else {
            panic!("payment")
        };
        assert_eq!(event_id.as_deref(), Some("912003451"));
        assert_eq!(customer.key.as_deref(), Some("cust-001"));
        assert_eq!(
            (
                payment.key.as_str(),
                payment.amounts.gross.to_string().as_str()
            ),
            ("173961106", "50.00")
        );
        assert_eq!(payment.product.name.as_deref(), Some("Pro Monthly"));
        let Ok(ProviderEvent::Refund {
            transaction_key,
            refund,
            ..
        }) = parse(PARTIAL)
        else {
            panic!("refund")
        };
        assert_eq!(transaction_key, "173961106");
        assert_eq!(
            refund,
            RefundSpec::Part {
                id: "912004512".into(),
                amount: RefundAmount::Minor {
                    minor: 2000,
                    units: MinorUnits::Chargify
                }
            }
        );
        assert!(matches!(parse(REFUND), Ok(ProviderEvent::Refund { .. })));
        assert!(matches!(parse(SIGNUP), Ok(ProviderEvent::Ignored { .. })));
    }

    /// refund_success names no currency: its cents are not the program's but the payment's.
    #[test]
    fn a_refund_is_kept_in_minor_units_unless_it_names_its_currency() {
        let Ok(ProviderEvent::Refund { refund, .. }) = parse(PARTIAL) else {
            panic!("refund")
        };
        let RefundSpec::Part { amount, .. } = refund else {
            panic!("a partial refund")
        };
        let jpy = crate::domain::money::Currency::parse("JPY").unwrap();
        assert_eq!(
            amount.in_currency(jpy),
            Some(rust_decimal::Decimal::from(2000))
        );
        let named = format!("{PARTIAL}&payload[currency]=JPY");
        let Ok(ProviderEvent::Refund {
            refund: RefundSpec::Part { amount, .. },
            ..
        }) = parse(&named)
        else {
            panic!("refund")
        };
        assert_eq!(amount, RefundAmount::Exact(2000.into()));
        let huge = PARTIAL.replace("[amount_in_cents]=2000", "[amount_in_cents]=1000000000001");
        assert!(matches!(parse(&huge), Err(AppError::InvalidField { .. })));
    }

    #[test]
    fn percent_encoded_brackets_read_the_same() {
        let encoded = PAYMENT.replace('[', "%5B").replace(']', "%5D");
        assert_eq!(parse(&encoded).unwrap(), parse(PAYMENT).unwrap());
    }

    #[test]
    fn bad_forms_name_the_field() {
        let no_amount = PAYMENT.replace(
            "payload[transaction][amount_in_cents]=5000",
            "payload[transaction][amount_in_cents]=lots",
        );
        match parse(&no_amount) {
            Err(AppError::InvalidField { field, .. }) => {
                assert_eq!(field, "payload[transaction][amount_in_cents]")
            }
            other => panic!("expected a field error, got {other:?}"),
        }
        assert!(matches!(
            parse("event=payment_success"),
            Err(AppError::InvalidField { .. })
        ));
    }

    proptest! {
        #[test]
        fn no_input_panics_the_parser(body in proptest::collection::vec(any::<u8>(), 0..512), value in ".{0,12}") {
            let _ = Chargify::parse(&headers(&[("content-type", FORM)]), &body, &program());
            let odd = PAYMENT.replace("5000", &value);
            let _ = parse(&odd);
        }
    }
}
