//! An incoming webhook's production URL: the mapping applied to the payload, then the action
//! it names. The create actions are the API's own use cases.

use crate::app::App;
use crate::domain::customer::{Customer, CustomerInput, NewCustomer};
use crate::domain::hook::{Action, IncomingWebhook};
use crate::domain::money::Currency;
use crate::domain::outcome::Outcome;
use crate::domain::partner::{PartnerInput, PartnerRef};
use crate::domain::program::Program;
use crate::domain::refund::RefundSpec;
use crate::domain::transaction::{Amounts, NewTransaction, Product, Transaction};
use crate::domain::validate::validate_key;
use crate::error::AppError;
use crate::sources::incoming::body::read_body;
use crate::sources::incoming::mapped::Mapped;
use crate::sources::step::Accepted;
use crate::usecases::customers::manage::{adopt, create as create_customer, find_by_email};
use crate::usecases::ledger::refunds::record_refund;
use crate::usecases::partners::{create as create_partner, find as find_partner};
use crate::usecases::sales::record_sale;
use axum::http::HeaderMap;
use sha2::{Digest, Sha256};

fn digest_key(prefix: &str, hook: &IncomingWebhook, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(hook.id.as_bytes());
    hasher.update(body);
    format!("{prefix}{}", &hex::encode(hasher.finalize())[..32])
}

/// Production URL: applies the mapping to the payload.
pub async fn apply(
    app: &App,
    program: &Program,
    hook: &IncomingWebhook,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Accepted, AppError> {
    let mapping = hook.mapping.as_ref().ok_or_else(|| {
        AppError::Conflict(format!(
            "incoming webhook {} has no mapping yet: send samples to its test URL, then PUT /v1/incoming-webhooks/{}/mapping",
            hook.id, hook.id
        ))
    })?;
    let value = read_body(headers, body)?;
    let mapped = Mapped {
        fields: &mapping.fields,
        body: &value,
    };
    for required in mapping.action.required() {
        mapped.required(required)?;
    }
    let slug = program.slug.as_str();
    let (outcome, key) = match mapping.action {
        Action::CreatePartner => {
            let input = PartnerInput {
                email: mapped.required("email")?,
                name: mapped.required("name")?,
                // Without a key of the sender's, the same payload sent again must find the
                // partner it created, not make a second one.
                key: Some(
                    mapped
                        .text("partner_key")?
                        .unwrap_or_else(|| digest_key("part_", hook, body)),
                ),
                id: mapped.text("partner_id")?,
                referring_partner_key: mapped.text("referring_partner_key")?,
            };
            let (partner, created) = create_partner(app, program, input).await?;
            (
                if created {
                    Outcome::Created
                } else {
                    Outcome::Skipped
                },
                partner.key,
            )
        }
        Action::CreateCustomer => {
            let partner_key = partner_named(app, slug, &mapped).await?;
            let referring_customer_key = customer_named(app, slug, &mapped).await?;
            let input = CustomerInput {
                email: mapped.required("email")?,
                name: mapped.required("name")?,
                key: Some(
                    mapped
                        .text("customer_key")?
                        .unwrap_or_else(|| digest_key("cust_", hook, body)),
                ),
                partner_key,
                referring_customer_key,
            };
            let (customer, created) = create_customer(app, program, input).await?;
            (
                if created {
                    Outcome::Created
                } else {
                    Outcome::Skipped
                },
                customer.key,
            )
        }
        Action::CreateTransaction => create_transaction(app, program, hook, &mapped, body).await?,
        Action::RefundTransaction => {
            let key = mapped.required("transaction_key")?;
            // A refund is in the currency of the payment it refunds: read in it when the
            // payment is recorded; otherwise kept as written and held to its minor unit when
            // the payment arrives.
            let paid_in = app
                .repo
                .find::<Transaction>(slug, &key)
                .await?
                .map(|tx| tx.amounts.currency);
            let refund = match mapped.amount_in("amount", paid_in)? {
                Some(amount) => RefundSpec::Part {
                    id: digest_key("inc_", hook, body),
                    amount: amount.into(),
                },
                None => RefundSpec::Full,
            };
            (record_refund(app, program, &key, refund).await?, key)
        }
    };
    Ok(Accepted::of(outcome, Some(key)))
}

/// The partner a customer mapping names by key, id or email; an unknown one is refused.
async fn partner_named(
    app: &App,
    program: &str,
    mapped: &Mapped<'_>,
) -> Result<Option<String>, AppError> {
    for target in ["partner_key", "partner_id", "partner_email"] {
        let Some(text) = mapped.text(target)? else {
            continue;
        };
        let reference = match target {
            "partner_key" => PartnerRef::Key(&text),
            "partner_id" => PartnerRef::Id(&text),
            _ => PartnerRef::Email(&text),
        };
        return match find_partner(app, program, reference).await? {
            Some(partner) => Ok(Some(partner.key)),
            None => Err(AppError::invalid(
                mapped.path_of(target),
                format!("no partner matches {text:?} ({target})"),
            )),
        };
    }
    Ok(None)
}

/// Refer-a-friend: the referring customer by key, id (its key) or email.
async fn customer_named(
    app: &App,
    program: &str,
    mapped: &Mapped<'_>,
) -> Result<Option<String>, AppError> {
    for target in [
        "referring_customer_key",
        "referring_customer_id",
        "referring_customer_email",
    ] {
        let Some(text) = mapped.text(target)? else {
            continue;
        };
        let found = if target == "referring_customer_email" {
            find_by_email(app, program, &text).await?.map(|c| c.key)
        } else {
            app.repo
                .find::<Customer>(program, &text)
                .await?
                .map(|c| c.key)
        };
        return found.map(Some).ok_or_else(|| {
            AppError::invalid(
                mapped.path_of(target),
                format!("no customer matches {text:?} ({target})"),
            )
        });
    }
    Ok(None)
}

/// The seed's complete flow: find or create the customer, link it to the partner, record the
/// transaction (its commission follows through the queue).
async fn create_transaction(
    app: &App,
    program: &Program,
    hook: &IncomingWebhook,
    mapped: &Mapped<'_>,
    body: &[u8],
) -> Result<(Outcome, String), AppError> {
    let slug = program.slug.as_str();
    let currency = match mapped.text("currency")? {
        Some(code) => Currency::parse(&code)
            .map_err(|e| AppError::invalid(mapped.path_of("currency"), e.to_string()))?,
        None => program.currency,
    };
    let amount = mapped
        .amount("amount", currency)?
        .ok_or_else(|| AppError::invalid("amount", "is required"))?;
    let email = mapped.text("customer_email")?;
    let name = mapped.text("customer_name")?;
    let partner_key = mapped.text("partner_key")?;
    let partner = match &partner_key {
        Some(key) => find_partner(app, slug, PartnerRef::Key(key)).await?,
        None => None,
    };
    let mut customer_key = mapped.text("customer_key")?;
    if customer_key.is_none() {
        if let Some(email) = &email {
            customer_key = find_by_email(app, slug, email).await?.map(|c| c.key);
        }
    }
    let existing = match &customer_key {
        Some(key) => app.repo.find::<Customer>(slug, key).await?,
        None => None,
    };
    let customer_key = match existing {
        Some(customer) => {
            if let Some(partner) = &partner {
                adopt(app, program, &customer.key, &partner.key).await?;
            }
            customer.key
        }
        None => match &email {
            Some(email) => {
                let input = CustomerInput {
                    email: email.clone(),
                    name: name.clone().unwrap_or_else(|| email.clone()),
                    key: customer_key.clone(),
                    partner_key: partner.as_ref().map(|p| p.key.clone()),
                    referring_customer_key: None,
                };
                create_customer(app, program, input).await?.0.key
            }
            None => customer_key.ok_or_else(|| AppError::invalid("customer_key", "is required"))?,
        },
    };
    let key = match mapped.text("transaction_key")? {
        Some(key) => key,
        // Without a key of the sender's, the same payload sent again must still dedupe.
        None => digest_key("inc_", hook, body),
    };
    let transaction = NewTransaction {
        key: key.clone(),
        source: super::SOURCE.into(),
        customer: Some(NewCustomer {
            key: customer_key,
            email,
            name,
        }),
        // A partner the payload names but the program lacks leaves the sale unassigned.
        partner_ref: partner_key.filter(|_| partner.is_none()),
        by_customer: true,
        amounts: Amounts::new(currency, amount),
        product: Product {
            id: mapped.text("product_id")?,
            name: None,
            category: mapped.text("product_type")?,
        },
        campaign_slug: None,
        is_recurring: false,
        recurring_number: None,
        transaction_date: None,
    };
    validate_key(&transaction.key)
        .map_err(|m| AppError::invalid(mapped.path_of("transaction_key"), m))?;
    Ok((record_sale(app, program, transaction).await?, key))
}
