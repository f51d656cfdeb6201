//! The sources of webhooks. Each module holds only what is its own: its authenticity scheme and
//! its payload shapes. The ingest path, ledger, customer matching, dedupe and inbox are shared.
//!
//! A payment provider implements [`Provider`]: `authenticate` checks the request, and `parse`
//! turns the body into a [`ProviderEvent`]. [`step`] runs both and applies the event, and the
//! router serves it at `/webhooks/{program}/{NAME}`.

pub mod chargebee;
pub mod chargify;
pub mod custom;
pub mod recurly;
pub mod stripe;

use crate::app::App;
use crate::customers::{self, CustomerRef};
use crate::domain::{Program, ProviderSecrets};
use crate::error::AppError;
use crate::ledger::{record_customer_refund, record_refund, NewTransaction, Outcome, RefundSpec};
use crate::money::{Currency, MoneyError};
use crate::repo::CustomerRefund;
use crate::webhook::Accepted;
use axum::http::HeaderMap;
use futures::future::BoxFuture;
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
    /// A refund that names its customer and amount but not the payment (Recurly XML).
    CustomerRefund {
        event_id: Option<String>,
        customer_key: String,
        refund_id: String,
        amount: Decimal,
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
    fn event_id(&self) -> Option<&str> {
        match self {
            Self::Payment { event_id, .. }
            | Self::Refund { event_id, .. }
            | Self::CustomerRefund { event_id, .. }
            | Self::CustomerLink { event_id, .. } => event_id.as_deref(),
            Self::Ignored { .. } => None,
        }
    }

    fn transaction_key(&self) -> Option<String> {
        match self {
            Self::Payment { payment, .. } => Some(payment.key.clone()),
            Self::Refund {
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

/// A provider's step of the ingest path.
pub fn step<'a, P: Provider>(
    app: &'a App,
    program: &'a Program,
    headers: &'a HeaderMap,
    body: &'a [u8],
) -> BoxFuture<'a, Result<Accepted, AppError>> {
    Box::pin(async move {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        P::authenticate(headers, body, &program.providers, now)?;
        let event = P::parse(headers, body, program)?;
        apply(app, program, P::NAME, event).await
    })
}

async fn apply(
    app: &App,
    program: &Program,
    provider: &str,
    event: ProviderEvent,
) -> Result<Accepted, AppError> {
    let slug = program.slug.as_str();
    let mut transaction_key = event.transaction_key();
    let event_id = event.event_id().map(str::to_string);
    if let Some(id) = &event_id {
        if app.repo.provider_event_seen(slug, provider, id).await? {
            return Ok(Accepted {
                outcome: Outcome::Skipped,
                transaction_key,
                reason: Some(format!("event {id} was handled before")),
                details: None,
            });
        }
    }
    let (outcome, reason) = match event {
        ProviderEvent::Payment {
            customer, payment, ..
        } => {
            let outcome =
                customers::record_payment(app, program, provider, &customer, *payment).await?;
            let reason = (outcome == Outcome::CustomerUnknown).then(|| {
                format!(
                    "no customer is known for {}; the payment is kept and recorded when the customer is created or linked",
                    describe(&customer)
                )
            });
            (outcome, reason)
        }
        ProviderEvent::Refund {
            transaction_key,
            refund,
            ..
        } => {
            let outcome = record_refund(app, slug, &transaction_key, refund).await?;
            let reason = (outcome == Outcome::RefundPending).then(|| {
                format!("transaction {transaction_key:?} is not known yet; the refund is applied when it arrives")
            });
            (outcome, reason)
        }
        ProviderEvent::CustomerRefund {
            customer_key,
            refund_id,
            amount,
            ..
        } => {
            let refund = CustomerRefund {
                source: provider.to_string(),
                refund_id,
                amount,
            };
            let (outcome, key) = record_customer_refund(app, slug, &customer_key, refund).await?;
            transaction_key = key;
            let reason = (outcome == Outcome::RefundPending).then(|| {
                format!("no payment of customer {customer_key:?} fits this refund yet; it is applied when one arrives")
            });
            (outcome, reason)
        }
        ProviderEvent::CustomerLink {
            provider_customer_id,
            customer_key,
            ..
        } => {
            let outcome =
                customers::link(app, program, provider, &provider_customer_id, &customer_key)
                    .await?;
            (outcome, None)
        }
        ProviderEvent::Ignored { reason } => (Outcome::Ignored, Some(reason)),
    };
    // Marked after the work, so a crash in between is healed by the provider's retry.
    if let Some(id) = &event_id {
        app.repo.mark_provider_event(slug, provider, id).await?;
    }
    Ok(Accepted {
        outcome,
        transaction_key,
        reason,
        details: None,
    })
}

fn describe(customer: &CustomerRef) -> String {
    match (&customer.key, &customer.provider_id) {
        (Some(key), _) => format!("customer key {key:?}"),
        (None, Some(id)) => format!("provider customer {id:?}"),
        (None, None) => "this payment".into(),
    }
}

/// An integer amount in minor units as an exact decimal (`4900` USD → 49.00, `5000` JPY → 5000).
pub fn minor_amount(field: &str, minor: i64, currency: Currency) -> Result<Decimal, AppError> {
    if minor < 0 {
        return Err(AppError::invalid(
            field,
            MoneyError::Negative(minor.to_string()).to_string(),
        ));
    }
    Ok(currency.from_minor(minor))
}

pub fn currency(field: &str, code: &str) -> Result<Currency, AppError> {
    Currency::parse(code).map_err(|e| AppError::invalid(field, e.to_string()))
}

/// A provider id used as a key, checked like every key.
pub fn key(field: &str, value: &str) -> Result<String, AppError> {
    let value = value.trim();
    crate::domain::validate_key(value).map_err(|m| AppError::invalid(field, m))?;
    Ok(value.to_string())
}

#[cfg(test)]
pub(crate) mod testing {
    use crate::commission::CommissionPlan;
    use crate::domain::{BasicCredential, Program, ProviderSecrets};
    use crate::money::Currency;
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
