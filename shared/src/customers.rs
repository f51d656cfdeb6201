//! Identifying the customer of a payment-provider payment, and keeping payments whose customer
//! is not known yet until it is.
//!
//! A payment names its customer by a Partnerhook customer key (Chargebee `meta_data`, Recurly
//! `account_code`, Chargify `reference`) and/or by the provider's own customer id (Stripe
//! `cus_...`), which a customer event links to a key first. A payment that cannot be placed is
//! parked under what will identify it (`key#{key}` or `{provider}#{id}`) and recorded when that
//! customer is created or linked.

use crate::app::App;
use crate::domain::{now_millis, Customer, Program};
use crate::error::AppError;
use crate::input;
use crate::ledger::{record_transaction, NewCustomer, NewTransaction, Outcome};
use crate::postback::{emit, Event};
use crate::repo::{Inserted, ParkedPayment};
use crate::token::random_token;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};

/// A customer as an admin or an incoming webhook describes it.
#[derive(Debug, Clone, Default)]
pub struct CustomerInput {
    pub email: String,
    pub name: String,
    pub key: Option<String>,
    pub partner_key: Option<String>,
    pub referring_customer_key: Option<String>,
}

/// Creates a customer; the same customer again is returned as it is (`false`), the same key
/// with other details is a conflict. Payments waiting for the key are recorded at once.
pub async fn create(
    app: &App,
    program: &Program,
    input: CustomerInput,
) -> Result<(Customer, bool), AppError> {
    let slug = program.slug.as_str();
    let partner_key = known_partner(app, slug, input.partner_key).await?;
    let referring_customer_key =
        input::optional_key("referring_customer_key", input.referring_customer_key)?;
    if let Some(referrer) = &referring_customer_key {
        if app.repo.get_customer(slug, referrer).await?.is_none() {
            return Err(AppError::invalid(
                "referring_customer_key",
                format!("no customer has the key {referrer:?}"),
            ));
        }
    }
    let customer = Customer {
        partner_key,
        referring_customer_key,
        ..Customer::new(
            input::optional_key("key", input.key)?.unwrap_or_else(|| random_token("cust_", 8)),
            Some(input::email("email", &input.email)?),
            Some(input::name("name", &input.name)?),
            now_millis(),
        )
    };
    match app.repo.insert(slug, &customer).await? {
        Inserted::Created => {
            if let Some(email) = &customer.email {
                app.repo
                    .claim_email(slug, "CUSTOMER", email, &customer.key)
                    .await?;
            }
            announce(app, slug, None, Some(&customer)).await?;
            created(app, program, &customer.key).await?;
            Ok((customer, true))
        }
        Inserted::Exists(existing) => {
            let theirs = &existing.value;
            // Without a partner the request asks for none in particular: a sale may have
            // linked the customer since it was first created.
            let same = (&theirs.email, &theirs.name, &theirs.referring_customer_key)
                == (
                    &customer.email,
                    &customer.name,
                    &customer.referring_customer_key,
                )
                && (customer.partner_key.is_none() || theirs.partner_key == customer.partner_key);
            if same {
                Ok((existing.value, false))
            } else {
                Err(AppError::Conflict(format!(
                    "a customer with key {:?} exists with other details",
                    existing.value.key
                )))
            }
        }
    }
}

/// A `partner_key` field, checked to name a partner of the program.
async fn known_partner(
    app: &App,
    program: &str,
    partner_key: Option<String>,
) -> Result<Option<String>, AppError> {
    let partner_key = input::optional_key("partner_key", partner_key)?;
    if let Some(partner) = &partner_key {
        if app.repo.get_partner(program, partner).await?.is_none() {
            return Err(AppError::invalid(
                "partner_key",
                format!("no partner has the key {partner:?}"),
            ));
        }
    }
    Ok(partner_key)
}

/// What an admin may change of a customer; absent fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct CustomerChange {
    pub email: Option<String>,
    pub name: Option<String>,
    /// Links the customer to a partner, or moves it to another one.
    pub partner_key: Option<String>,
}

pub async fn update(
    app: &App,
    program: &Program,
    key: &str,
    change: CustomerChange,
) -> Result<Customer, AppError> {
    let slug = program.slug.as_str();
    let email = change
        .email
        .map(|e| input::email("email", &e))
        .transpose()?;
    let name = change.name.map(|n| input::name("name", &n)).transpose()?;
    let partner_key = known_partner(app, slug, change.partner_key).await?;
    if let Some(email) = &email {
        match app.repo.email_owner(slug, "CUSTOMER", email).await? {
            Some(owner) if owner != key => {
                return Err(AppError::Conflict(format!(
                    "the customer {owner:?} has the email address {email:?}"
                )))
            }
            _ => {}
        }
    }
    let (before, after) = edit(app, slug, key, |c| {
        if let Some(email) = &email {
            c.email = Some(email.clone());
        }
        if let Some(name) = &name {
            c.name = Some(name.clone());
        }
        if let Some(partner) = &partner_key {
            c.partner_key = Some(partner.clone());
        }
    })
    .await?
    .ok_or_else(|| AppError::NotFound(format!("no customer has the key {key:?}")))?;
    if before.email != after.email {
        if let Some(email) = &after.email {
            app.repo.claim_email(slug, "CUSTOMER", email, key).await?;
        }
        if let Some(email) = &before.email {
            app.repo.release_email(slug, "CUSTOMER", email, key).await?;
        }
    }
    Ok(after)
}

/// Links a customer to the partner unless it has one already: the first partner keeps it.
pub async fn adopt(app: &App, program: &str, key: &str, partner_key: &str) -> Result<(), AppError> {
    edit(app, program, key, |c| {
        if c.partner_key.is_none() {
            c.partner_key = Some(partner_key.to_string());
        }
    })
    .await?;
    Ok(())
}

/// Notes that a payment of the customer was recorded, credited to `partner`: the customer
/// becomes that partner's unless it has one already.
pub async fn paid(
    app: &App,
    program: &str,
    key: &str,
    partner: Option<&str>,
) -> Result<(), AppError> {
    edit(app, program, key, |c| {
        c.has_paid = true;
        if c.partner_key.is_none() {
            c.partner_key = partner.map(str::to_string);
        }
    })
    .await?;
    Ok(())
}

/// Deletes a customer. Its transactions and rewards stay; a later payment that names it is
/// kept until a customer with that key exists again.
pub async fn delete(app: &App, program: &Program, key: &str) -> Result<(), AppError> {
    let slug = program.slug.as_str();
    let customer = app
        .repo
        .get_customer(slug, key)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no customer has the key {key:?}")))?;
    app.repo.delete_customer(slug, key).await?;
    if let Some(email) = &customer.email {
        app.repo.release_email(slug, "CUSTOMER", email, key).await?;
    }
    announce(app, slug, Some(&customer), None).await
}

/// Changes a customer and tells the partners concerned; the customer before and after.
async fn edit(
    app: &App,
    program: &str,
    key: &str,
    mut change: impl FnMut(&mut Customer),
) -> Result<Option<(Customer, Customer)>, AppError> {
    let mut before = None;
    let after = app
        .repo
        .modify_customer(program, key, |c| -> Result<bool, AppError> {
            before = Some(c.clone());
            change(c);
            if before.as_ref() == Some(c) {
                return Ok(false);
            }
            c.updated_at = now_millis();
            Ok(true)
        })
        .await?;
    let (Some(before), Some(after)) = (before, after) else {
        return Ok(None);
    };
    announce(app, program, Some(&before), Some(&after)).await?;
    Ok(Some((before, after)))
}

/// What a partner hears of a change to a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Heard {
    Created,
    Updated,
    Deleted,
}

/// Customer events as each partner sees them, with the customer as that partner last sees it:
/// a customer that joins a partnership is created for that partner, one that leaves it (moved
/// or deleted) is deleted, a change within it is an update.
fn heard<'a>(
    before: Option<&'a Customer>,
    after: Option<&'a Customer>,
) -> Vec<(&'a str, Heard, &'a Customer)> {
    let was = before.and_then(|c| Some((c.partner_key.as_deref()?, c)));
    let is = after.and_then(|c| Some((c.partner_key.as_deref()?, c)));
    match (was, is) {
        (Some((old, _)), Some((new, customer))) if old == new => {
            if before == after {
                vec![]
            } else {
                vec![(new, Heard::Updated, customer)]
            }
        }
        (was, is) => was
            .map(|(old, customer)| (old, Heard::Deleted, customer))
            .into_iter()
            .chain(is.map(|(new, customer)| (new, Heard::Created, customer)))
            .collect(),
    }
}

async fn announce(
    app: &App,
    program: &str,
    before: Option<&Customer>,
    after: Option<&Customer>,
) -> Result<(), AppError> {
    for (partner, what, customer) in heard(before, after) {
        let gone;
        let event = match what {
            Heard::Created => Event::CustomerCreated(customer),
            Heard::Updated => Event::CustomerUpdated(customer),
            Heard::Deleted => {
                // It left the partnership when the change was made.
                gone = Customer {
                    updated_at: after.map_or_else(now_millis, |c| c.updated_at),
                    ..customer.clone()
                };
                Event::CustomerDeleted(&gone)
            }
        };
        emit(app, program, partner, event).await?;
    }
    Ok(())
}

pub async fn find_by_email(
    app: &App,
    program: &str,
    email: &str,
) -> Result<Option<Customer>, AppError> {
    match app.repo.email_owner(program, "CUSTOMER", email).await? {
        Some(key) => Ok(app.repo.get_customer(program, &key).await?),
        None => Ok(None),
    }
}

/// How a payment names its customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerRef {
    pub key: Option<String>,
    pub provider_id: Option<String>,
}

enum Placement {
    Recorded(Outcome),
    Parked { waiting_for: String },
}

fn key_slot(key: &str) -> String {
    format!("key#{key}")
}

fn provider_slot(provider: &str, id: &str) -> String {
    format!("{provider}#{id}")
}

/// Records a provider payment for its customer, or parks it until the customer is known.
pub async fn record_payment(
    app: &App,
    program: &Program,
    provider: &str,
    customer: &CustomerRef,
    payment: NewTransaction,
) -> Result<Outcome, AppError> {
    let parked = ParkedPayment {
        provider: provider.to_string(),
        customer: customer.clone(),
        transaction: payment,
        received_at: now_millis(),
    };
    match place(app, program, parked).await? {
        Placement::Recorded(outcome) => Ok(outcome),
        Placement::Parked { .. } => Ok(Outcome::CustomerUnknown),
    }
}

async fn place(app: &App, program: &Program, parked: ParkedPayment) -> Result<Placement, AppError> {
    let slug = program.slug.as_str();
    let mut key = parked.customer.key.clone();
    if key.is_none() {
        if let Some(id) = &parked.customer.provider_id {
            key = app
                .repo
                .provider_customer(slug, &parked.provider, id)
                .await?;
        }
    }
    let waiting_for = match &key {
        Some(key) if app.repo.get_customer(slug, key).await?.is_some() => {
            let mut payment = parked.transaction;
            payment.customer = Some(NewCustomer {
                key: key.clone(),
                email: None,
                name: None,
            });
            return Ok(Placement::Recorded(
                record_transaction(app, program, payment).await?,
            ));
        }
        Some(key) => key_slot(key),
        None => match &parked.customer.provider_id {
            Some(id) => provider_slot(&parked.provider, id),
            None => {
                return Err(AppError::invalid(
                    "customer",
                    "the payment names no customer Partnerhook could ever identify",
                ))
            }
        },
    };
    app.repo.park_payment(slug, &waiting_for, &parked).await?;
    Ok(Placement::Parked { waiting_for })
}

/// A customer was created: the payments waiting for its key are recorded now.
pub fn created<'a>(
    app: &'a App,
    program: &'a Program,
    key: &'a str,
) -> BoxFuture<'a, Result<(), AppError>> {
    Box::pin(release(app, program, key_slot(key)))
}

/// Links a provider's customer id to a customer key (Stripe `metadata.customer_key`), and
/// places the payments that were waiting for that id.
pub async fn link(
    app: &App,
    program: &Program,
    provider: &str,
    provider_id: &str,
    customer_key: &str,
) -> Result<Outcome, AppError> {
    let slug = program.slug.as_str();
    app.repo
        .link_provider_customer(slug, provider, provider_id, customer_key)
        .await?;
    // Payments go by the link record above; the customer notes the id for people to see.
    edit(app, slug, customer_key, |c| {
        c.provider_ids
            .insert(provider.to_string(), provider_id.to_string());
    })
    .await?;
    release(app, program, provider_slot(provider, provider_id)).await?;
    Ok(Outcome::CustomerLinked)
}

async fn release(app: &App, program: &Program, slot: String) -> Result<(), AppError> {
    let slug = program.slug.as_str();
    for parked in app.repo.parked_payments(slug, &slot).await? {
        let key = parked.transaction.key.clone();
        let still_here = match place(app, program, parked).await? {
            Placement::Recorded(_) => false,
            Placement::Parked { waiting_for } => waiting_for == slot,
        };
        if !still_here {
            app.repo.unpark_payment(slug, &slot, &key).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn customer(partner: Option<&str>) -> Customer {
        Customer {
            partner_key: partner.map(str::to_string),
            ..Customer::new("c".into(), Some("c@example.com".into()), None, 1)
        }
    }

    #[test]
    fn partners_hear_a_customer_join_change_and_leave() {
        let pat = customer(Some("pat"));
        let sam = customer(Some("sam"));
        let nobody = customer(None);
        let renamed = Customer {
            name: Some("New".into()),
            ..pat.clone()
        };
        use Heard::*;
        let heard = |before, after| -> Vec<(&str, Heard)> {
            super::heard(before, after)
                .into_iter()
                .map(|(partner, what, _)| (partner, what))
                .collect()
        };
        assert_eq!(heard(None, Some(&pat)), [("pat", Created)]);
        assert_eq!(heard(None, Some(&nobody)), []);
        assert_eq!(heard(Some(&nobody), Some(&pat)), [("pat", Created)]);
        assert_eq!(heard(Some(&pat), Some(&renamed)), [("pat", Updated)]);
        assert_eq!(heard(Some(&pat), Some(&pat)), []);
        assert_eq!(
            heard(Some(&pat), Some(&sam)),
            [("pat", Deleted), ("sam", Created)]
        );
        assert_eq!(heard(Some(&pat), None), [("pat", Deleted)]);
        assert_eq!(heard(Some(&nobody), None), []);
        assert_eq!(heard(Some(&nobody), Some(&nobody)), []);
        // A moved customer leaves as it was and arrives as it is.
        let moved = super::heard(Some(&pat), Some(&sam));
        assert_eq!(moved[0].2.partner_key.as_deref(), Some("pat"));
        assert_eq!(moved[1].2.partner_key.as_deref(), Some("sam"));
    }
}
