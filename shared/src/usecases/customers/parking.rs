//! Identifying the customer of a payment-provider payment, and keeping payments whose customer
//! is not known yet until it is.
//!
//! A payment names its customer by a Partnerhook customer key (Chargebee `meta_data`, Recurly
//! `account_code`, Chargify `reference`) and/or by the provider's own customer id (Stripe
//! `cus_...`), which a customer event links to a key first. A payment that cannot be placed is
//! parked under what will identify it (`key#{key}` or `{provider}#{id}`) and recorded when that
//! customer is created or linked.

use crate::app::App;
use crate::domain::customer::{Customer, CustomerRef, NewCustomer};
use crate::domain::outcome::Outcome;
use crate::domain::program::Program;
use crate::domain::transaction::{NewTransaction, ParkedPayment};
use crate::error::AppError;
use crate::repo::keys;
use crate::usecases::customers::changes::edit;
use crate::usecases::ledger::transactions::record_transaction;

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
        received_at: app.now(),
        waiting_for: String::new(),
    };
    match place(app, program, parked).await? {
        Placement::Recorded(outcome) => Ok(outcome),
        Placement::Parked { .. } => Ok(Outcome::CustomerUnknown),
    }
}

/// Who a parked payment's customer is, as far as can be told now.
enum Identified {
    Customer(String),
    WaitingFor(String),
}

async fn identify(app: &App, slug: &str, parked: &ParkedPayment) -> Result<Identified, AppError> {
    let mut key = parked.customer.key.clone();
    if key.is_none() {
        if let Some(id) = &parked.customer.provider_id {
            key = app
                .repo
                .provider_customer(slug, &parked.provider, id)
                .await?;
        }
    }
    Ok(match key {
        Some(key) if app.repo.find::<Customer>(slug, &key).await?.is_some() => {
            Identified::Customer(key)
        }
        Some(key) => Identified::WaitingFor(key_slot(&key)),
        None => match &parked.customer.provider_id {
            Some(id) => Identified::WaitingFor(provider_slot(&parked.provider, id)),
            None => {
                return Err(AppError::invalid(
                    "customer",
                    "the payment names no customer Partnerhook could ever identify",
                ))
            }
        },
    })
}

async fn record_for(
    app: &App,
    program: &Program,
    parked: &ParkedPayment,
    key: String,
) -> Result<Outcome, AppError> {
    let mut payment = parked.transaction.clone();
    payment.customer = Some(NewCustomer {
        key,
        email: None,
        name: None,
    });
    record_transaction(app, program, payment).await
}

/// Records the payment if its customer is known, else parks it where it waits and looks
/// again: a customer created or linked between the first look and the park has released an
/// empty slot, and would otherwise never see this payment.
async fn place(
    app: &App,
    program: &Program,
    mut parked: ParkedPayment,
) -> Result<Placement, AppError> {
    let slug = program.slug.as_str();
    let waiting_for = match identify(app, slug, &parked).await? {
        Identified::Customer(key) => {
            return Ok(Placement::Recorded(
                record_for(app, program, &parked, key).await?,
            ))
        }
        Identified::WaitingFor(slot) => slot,
    };
    parked.waiting_for = waiting_for.clone();
    app.repo.park_payment(slug, &parked).await?;
    match identify(app, slug, &parked).await? {
        Identified::Customer(key) => {
            let outcome = record_for(app, program, &parked, key).await?;
            app.repo
                .unpark_payment(slug, &waiting_for, &parked.transaction.key)
                .await?;
            Ok(Placement::Recorded(outcome))
        }
        Identified::WaitingFor(_) => Ok(Placement::Parked { waiting_for }),
    }
}

/// A customer was created: the payments waiting for its key are recorded now. Only payment
/// providers park payments, so a program no provider can reach has none to look for (those
/// parked before its last provider was removed are released by the sweeper).
pub async fn created(app: &App, program: &Program, key: &str) -> Result<(), AppError> {
    if !program.providers.any() {
        return Ok(());
    }
    release(app, program, key_slot(key)).await
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
    edit(app, program, customer_key, |c| {
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
        replace(app, program, parked).await?;
    }
    Ok(())
}

/// Places a parked payment again; it leaves its slot when recorded or waiting elsewhere now.
async fn replace(app: &App, program: &Program, parked: ParkedPayment) -> Result<bool, AppError> {
    let (slot, key) = (parked.waiting_for.clone(), parked.transaction.key.clone());
    let placed = match place(app, program, parked).await? {
        Placement::Recorded(_) => true,
        Placement::Parked { waiting_for } => waiting_for != slot,
    };
    if placed {
        app.repo.unpark_payment(&program.slug, &slot, &key).await?;
    }
    Ok(placed)
}

/// The sweeper's pass over a program's parked payments: each whose customer is known by now
/// is recorded. A release that a crash cut short is finished here.
pub async fn retry_parked(app: &App, program: &Program) -> Result<usize, AppError> {
    let mut released = 0;
    let mut cursor = None;
    loop {
        let page = app
            .repo
            .list::<ParkedPayment>(keys::parked(&program.slug), 100, cursor.as_deref(), false)
            .await?;
        for parked in page.items {
            // A record parked before slots were noted on it is released by its customer.
            if parked.waiting_for.is_empty() {
                continue;
            }
            if replace(app, program, parked).await? {
                released += 1;
            }
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(released),
        }
    }
}
