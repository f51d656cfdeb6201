//! Creating, changing and deleting customers (API, incoming webhooks, sales that name one).

use crate::app::App;
use crate::crypto::token::random_token;
use crate::domain::customer::{Customer, CustomerChange, CustomerInput, EmailKind, NewCustomer};
use crate::domain::partner::Partner;
use crate::domain::program::Program;
use crate::domain::validate;
use crate::error::AppError;
use crate::repo::core::Inserted;
use crate::usecases::customers::changes::{announce, edit};
use crate::usecases::customers::parking::created;

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
        validate::optional_key("referring_customer_key", input.referring_customer_key)?;
    if let Some(referrer) = &referring_customer_key {
        if app.repo.find::<Customer>(slug, referrer).await?.is_none() {
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
            validate::optional_key("key", input.key)?.unwrap_or_else(|| random_token("cust_", 8)),
            Some(validate::email("email", &input.email)?),
            Some(validate::name("name", &input.name)?),
            app.now(),
        )
    };
    match app.repo.insert(slug, &customer).await? {
        Inserted::Created => {
            on_created(app, program, &customer).await?;
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
                // A retry (or the SDK's retry of our own insert) finishes what the first try
                // may not have: every follow-up is idempotent.
                on_created(app, program, theirs).await?;
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

/// The one way a customer comes to exist without an admin: a sale names it (custom webhook,
/// incoming webhook). A customer seen before keeps what it has.
pub async fn ensure(app: &App, program: &Program, new: &NewCustomer) -> Result<(), AppError> {
    let customer = Customer::new(
        new.key.clone(),
        new.email.clone(),
        new.name.clone(),
        app.now(),
    );
    match app.repo.insert(&program.slug, &customer).await? {
        Inserted::Created => on_created(app, program, &customer).await,
        // A customer with a commissioned payment is past its creation: the request that
        // created it ran the follow-ups before that payment was recorded, or its retry does.
        // A repeat payment of a known customer then costs no more reads or writes.
        Inserted::Exists(existing) if existing.value.has_paid => Ok(()),
        // Seen before, maybe by a try that failed before its follow-ups: they run again.
        Inserted::Exists(existing) => on_created(app, program, &existing.value).await,
    }
}

/// What follows a customer's creation, however it came: its address is claimed, its partner
/// told, and the payments waiting for its key are recorded. Idempotent, so a retry runs it.
async fn on_created(app: &App, program: &Program, customer: &Customer) -> Result<(), AppError> {
    if let Some(email) = &customer.email {
        app.repo
            .claim_email(&program.slug, EmailKind::Customer, email, &customer.key)
            .await?;
    }
    announce(app, program, None, Some(customer)).await?;
    created(app, program, &customer.key).await
}

/// A `partner_key` field, checked to name a partner of the program.
async fn known_partner(
    app: &App,
    program: &str,
    partner_key: Option<String>,
) -> Result<Option<String>, AppError> {
    let partner_key = validate::optional_key("partner_key", partner_key)?;
    if let Some(partner) = &partner_key {
        if app.repo.find::<Partner>(program, partner).await?.is_none() {
            return Err(AppError::invalid(
                "partner_key",
                format!("no partner has the key {partner:?}"),
            ));
        }
    }
    Ok(partner_key)
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
        .map(|e| validate::email("email", &e))
        .transpose()?;
    let name = change
        .name
        .map(|n| validate::name("name", &n))
        .transpose()?;
    let partner_key = known_partner(app, slug, change.partner_key).await?;
    if let Some(email) = &email {
        match app
            .repo
            .email_owner(slug, EmailKind::Customer, email)
            .await?
        {
            Some(owner) if owner != key => {
                return Err(AppError::Conflict(format!(
                    "the customer {owner:?} has the email address {email:?}"
                )))
            }
            _ => {}
        }
    }
    let (before, after) = edit(app, program, key, |c| {
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
            app.repo
                .claim_email(slug, EmailKind::Customer, email, key)
                .await?;
        }
        if let Some(email) = &before.email {
            app.repo
                .release_email(slug, EmailKind::Customer, email, key)
                .await?;
        }
    }
    Ok(after)
}

/// Links a customer to the partner unless it has one already: the first partner keeps it.
pub async fn adopt(
    app: &App,
    program: &Program,
    key: &str,
    partner_key: &str,
) -> Result<(), AppError> {
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
    program: &Program,
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
        .find::<Customer>(slug, key)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no customer has the key {key:?}")))?;
    app.repo.delete::<Customer>(slug, key).await?;
    if let Some(email) = &customer.email {
        app.repo
            .release_email(slug, EmailKind::Customer, email, key)
            .await?;
    }
    announce(app, program, Some(&customer), None).await
}

pub async fn find_by_email(
    app: &App,
    program: &str,
    email: &str,
) -> Result<Option<Customer>, AppError> {
    match app
        .repo
        .email_owner(program, EmailKind::Customer, email)
        .await?
    {
        Some(key) => Ok(app.repo.find::<Customer>(program, &key).await?),
        None => Ok(None),
    }
}
