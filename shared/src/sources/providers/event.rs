//! What a payment provider's webhook asks for ([`ProviderEvent`]), the [`Provider`] trait each
//! provider implements, and the checks their parsers share.

use crate::domain::customer::CustomerRef;
use crate::domain::dispute::DisputeChange;
use crate::domain::minor_units::{check_minor, MinorUnits};
use crate::domain::money::Currency;
use crate::domain::program::{Program, ProviderSecrets};
use crate::domain::refund::{RefundAmount, RefundSpec};
use crate::domain::transaction::NewTransaction;
use crate::domain::validate;
use crate::error::AppError;
use axum::http::HeaderMap;
use rust_decimal::Decimal;

/// What a provider's webhook asks Partnerhook to do.
#[derive(Debug, Clone, PartialEq)]
pub enum ProviderEvent {
    Payment {
        event_id: Option<String>,
        customer: CustomerRef,
        payment: Box<NewTransaction>,
    },
    Refund {
        event_id: Option<String>,
        transaction_key: String,
        refund: RefundSpec,
    },
    /// An authorization that lapsed uncaptured (Stripe's `charge.expired`): whatever was
    /// counted for it is taken back; nothing is kept when nothing was counted.
    Lapsed {
        event_id: Option<String>,
        transaction_key: String,
    },
    /// A dispute (chargeback) on a payment opened or closed.
    Dispute {
        event_id: Option<String>,
        transaction_key: String,
        dispute_id: String,
        change: DisputeChange,
    },
    /// A refund that names its customer and amount but not the payment (Recurly XML).
    CustomerRefund {
        event_id: Option<String>,
        customer_key: String,
        refund_id: String,
        amount: RefundAmount,
    },
    /// The provider's customer carries a Partnerhook customer key.
    CustomerLink {
        event_id: Option<String>,
        provider_customer_id: String,
        customer_key: String,
    },
    /// Understood, but nothing to act on; answered 2xx so the provider stops retrying.
    Ignored { reason: String },
}

impl ProviderEvent {
    pub fn event_id(&self) -> Option<&str> {
        match self {
            Self::Payment { event_id, .. }
            | Self::Refund { event_id, .. }
            | Self::Lapsed { event_id, .. }
            | Self::Dispute { event_id, .. }
            | Self::CustomerRefund { event_id, .. }
            | Self::CustomerLink { event_id, .. } => event_id.as_deref(),
            Self::Ignored { .. } => None,
        }
    }

    pub fn transaction_key(&self) -> Option<String> {
        match self {
            Self::Payment { payment, .. } => Some(payment.key.clone()),
            Self::Refund {
                transaction_key, ..
            }
            | Self::Lapsed {
                transaction_key, ..
            }
            | Self::Dispute {
                transaction_key, ..
            } => Some(transaction_key.clone()),
            _ => None,
        }
    }

    pub fn ignored(reason: impl Into<String>) -> Self {
        Self::Ignored {
            reason: reason.into(),
        }
    }

    /// An event type the provider sends that Partnerhook has no use for.
    pub fn not_acted_on(kind: &str) -> Self {
        Self::ignored(format!("Partnerhook does not act on {kind} events"))
    }

    /// A provider customer event: a link when it carries a customer key, else ignored.
    /// `fields` names the id and key paths for errors.
    pub fn customer_link(
        event_id: Option<String>,
        (id_field, provider_customer_id): (&str, &str),
        (key_field, customer_key): (&str, Option<String>),
    ) -> Result<Self, AppError> {
        match customer_key {
            Some(customer_key) => Ok(Self::CustomerLink {
                event_id,
                provider_customer_id: key(id_field, provider_customer_id)?,
                customer_key: key(key_field, &customer_key)?,
            }),
            None => Ok(Self::ignored(format!(
                "the customer has no {key_field} to link it by"
            ))),
        }
    }
}

pub trait Provider {
    /// The path segment and the transactions' `source`: `stripe`, `chargebee`, ...
    const NAME: &'static str;

    /// How the provider writes amounts as integers (see `domain::minor_units`).
    const UNITS: MinorUnits;

    /// Checks the request against the program's credentials; `now` is epoch seconds.
    fn authenticate(
        headers: &HeaderMap,
        body: &[u8],
        secrets: &ProviderSecrets,
        now: i64,
    ) -> Result<(), AppError>;

    /// Turns an authentic body into an event; 400/415/422 for what cannot be read.
    fn parse(
        headers: &HeaderMap,
        body: &[u8],
        program: &Program,
    ) -> Result<ProviderEvent, AppError>;
}

/// An integer amount as the provider wrote it, as an exact decimal in the currency the event
/// names (Stripe's `4900` USD → 49.00, `5000` JPY → 5000, `50000` ISK → 500).
pub fn minor_amount(
    field: &str,
    minor: i64,
    currency: Currency,
    units: MinorUnits,
) -> Result<Decimal, AppError> {
    units
        .amount(minor, currency)
        .map_err(|e| AppError::invalid(field, e.to_string()))
}

/// A refund's integer amount: read now when the refund names its currency; otherwise kept as
/// written, for the ledger to read in the currency of the payment it refunds.
pub fn refund_amount(
    field: &str,
    minor: i64,
    currency: Option<Currency>,
    units: MinorUnits,
) -> Result<RefundAmount, AppError> {
    match currency {
        Some(currency) => Ok(RefundAmount::Exact(minor_amount(
            field, minor, currency, units,
        )?)),
        None => {
            let minor = check_minor(minor).map_err(|e| AppError::invalid(field, e.to_string()))?;
            Ok(RefundAmount::Minor { minor, units })
        }
    }
}

pub fn currency(field: &str, code: &str) -> Result<Currency, AppError> {
    Currency::parse(code).map_err(|e| AppError::invalid(field, e.to_string()))
}

/// A provider id used as a key, checked like every key.
pub fn key(field: &str, value: &str) -> Result<String, AppError> {
    Ok(validate::key(field, value)?)
}

#[cfg(test)]
pub(crate) mod testing {
    use crate::domain::money::Currency;
    use crate::domain::plan::CommissionPlan;
    use crate::domain::program::{BasicCredential, Program, ProviderSecrets};
    use axum::http::{HeaderMap, HeaderName, HeaderValue};

    pub fn program() -> Program {
        Program {
            slug: "acme".into(),
            name: "Acme".into(),
            currency: Currency::parse("USD").unwrap(),
            plan: CommissionPlan::default(),
            custom_webhook_secrets: vec!["s1".into()],
            providers: ProviderSecrets {
                stripe_signing_secrets: vec!["whsec_test".into()],
                chargebee_credentials: vec![BasicCredential {
                    username: "cb".into(),
                    password: "cb-pass".into(),
                }],
                recurly_credentials: vec![BasicCredential {
                    username: "rc".into(),
                    password: "rc-pass".into(),
                }],
                recurly_signing_keys: vec!["recurly-key".into()],
                chargify_site_shared_keys: vec!["site-key".into()],
            },
            usd_rates: Default::default(),
            min_payout: Default::default(),
            created_at: 0,
            updated_at: 0,
        }
    }

    pub fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    HeaderName::from_bytes(k.as_bytes()).unwrap(),
                    HeaderValue::from_str(v).unwrap(),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::money::MAX_AMOUNT;
    use proptest::prelude::*;

    fn field_of(result: Result<impl std::fmt::Debug, AppError>) -> String {
        match result {
            Err(AppError::InvalidField { field, .. }) => field,
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn a_currency_outside_iso_4217_is_refused_by_its_field() {
        for code in ["xyz", "BTC", "", "usdd", "💶"] {
            assert_eq!(
                field_of(currency("data.object.currency", code)),
                "data.object.currency"
            );
        }
        assert!(currency("f", "usd").is_ok());
    }

    proptest! {
        /// Every provider reads its integers through these two: any i64, in any of its
        /// tables, is an amount within bounds or a 422 naming the field, never a panic.
        #[test]
        fn any_integer_is_an_amount_in_bounds_or_a_field_error(minor: i64, code in "(USD|JPY|KWD|ISK|MGA|CLF)", units in 0usize..4) {
            let units = [MinorUnits::Stripe, MinorUnits::Chargebee, MinorUnits::Recurly, MinorUnits::Chargify][units];
            let currency = Currency::parse(&code).unwrap();
            match minor_amount("amount", minor, currency, units) {
                Ok(amount) => prop_assert!(amount >= Decimal::ZERO && amount <= MAX_AMOUNT),
                Err(e) => prop_assert_eq!(field_of(Err::<(), _>(e)), "amount"),
            }
            match refund_amount("amount", minor, None, units) {
                Ok(_) => prop_assert!((0..=1_000_000_000_000).contains(&minor)),
                Err(e) => prop_assert_eq!(field_of(Err::<(), _>(e)), "amount"),
            }
        }
    }
}
