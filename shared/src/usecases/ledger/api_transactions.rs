//! The management API's own transactions: recorded for a customer that exists, attributed
//! through its partner like a provider's payment, refunded by amount, and listed per customer.

use crate::app::App;
use crate::crypto::token::random_token;
use crate::domain::api_transaction::{check_refund, RefundInput, TransactionInput};
use crate::domain::customer::Customer;
use crate::domain::outcome::Outcome;
use crate::domain::program::Program;
use crate::domain::transaction::{NewTransaction, Transaction};
use crate::error::AppError;
use crate::repo::core::Listing;
use crate::usecases::ledger::refunds::apply_refund_if;
use crate::usecases::ledger::transactions::record_transaction;

async fn existing_customer(app: &App, program: &Program, key: &str) -> Result<(), AppError> {
    match app.repo.find::<Customer>(&program.slug, key).await? {
        Some(_) => Ok(()),
        None => Err(AppError::UnknownCustomer(key.to_string())),
    }
}

async fn stored(app: &App, program: &Program, key: &str) -> Result<Transaction, AppError> {
    app.repo
        .find::<Transaction>(&program.slug, key)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no transaction has the key {key:?}")))
}

/// Records a transaction of the customer under the body's key, else `fallback_key` (the
/// `Idempotency-Key` header), else a new one. The transaction, and whether this request
/// recorded it (a repeat with the same content finds it; other content is a conflict).
pub async fn record(
    app: &App,
    program: &Program,
    customer_key: &str,
    input: TransactionInput,
    fallback_key: Option<String>,
) -> Result<(Transaction, bool), AppError> {
    let new = checked(app, program, customer_key, input, fallback_key).await?;
    let key = new.key.clone();
    let outcome = record_transaction(app, program, new).await?;
    let tx = stored(app, program, &key).await?;
    Ok((tx, outcome != Outcome::Skipped))
}

/// What [`record`] would do, without writing: whether it would record a transaction (`false`:
/// one has the key already). Refused for what `record` refuses before it writes.
pub async fn check(
    app: &App,
    program: &Program,
    customer_key: &str,
    input: TransactionInput,
) -> Result<bool, AppError> {
    let new = checked(app, program, customer_key, input, None).await?;
    let found = app
        .repo
        .find::<Transaction>(&program.slug, &new.key)
        .await?;
    Ok(found.is_none())
}

/// The transaction `input` asks for, checked, under its key (a new one when it names none),
/// for a customer that exists.
async fn checked(
    app: &App,
    program: &Program,
    customer_key: &str,
    input: TransactionInput,
    fallback_key: Option<String>,
) -> Result<NewTransaction, AppError> {
    let key = input
        .key_or(fallback_key)?
        .unwrap_or_else(|| random_token("tx_", 16));
    let new = input.into_new(customer_key, key, program.currency)?;
    existing_customer(app, program, customer_key).await?;
    Ok(new)
}

/// Refunds a transaction (all that is left when no amount is given) and answers it as it is
/// afterwards; the repeat of a refund applied before answers the same.
pub async fn refund(
    app: &App,
    program: &Program,
    key: &str,
    input: &RefundInput,
    fallback_key: Option<String>,
) -> Result<Transaction, AppError> {
    let current = stored(app, program, key).await?;
    let spec = input.spec(&current, fallback_key)?;
    let check = |tx: &Transaction| check_refund(&spec, tx).map_err(AppError::from);
    let (_, after) = apply_refund_if(app, program, key, &spec, check).await?;
    after.ok_or_else(|| AppError::NotFound(format!("no transaction has the key {key:?}")))
}

/// One page of the customer's transactions, newest first.
pub async fn of_customer(
    app: &App,
    program: &Program,
    customer_key: &str,
    limit: usize,
    cursor: Option<&str>,
) -> Result<Listing<Transaction>, AppError> {
    existing_customer(app, program, customer_key).await?;
    let page = app
        .repo
        .customer_transactions_page(&program.slug, customer_key, limit, cursor)
        .await?;
    let mut items = Vec::with_capacity(page.items.len());
    for entry in page.items {
        // Listed after its write, so it is there; a missing one is skipped, not an error.
        if let Some(tx) = app
            .repo
            .find::<Transaction>(&program.slug, &entry.transaction_key)
            .await?
        {
            items.push(tx);
        }
    }
    Ok(Listing {
        items,
        next_cursor: page.next_cursor,
    })
}
