//! Recording a transaction exactly once, whatever the source.
//!
//! A transaction's key is the sender's own id, written with a condition, so a retry finds the
//! first write. A refund that arrives before its transaction is kept in the transaction's
//! partition; both writers look for the other after their own write, so whichever lands second
//! applies the refund. The transaction's customer must exist already (see `usecases::sales`).

use crate::app::App;
use crate::domain::outcome::Outcome;
use crate::domain::partner::Partner;
use crate::domain::program::Program;
use crate::domain::transaction::{NewTransaction, Transaction, TransactionStatus};
use crate::error::AppError;
use crate::queue::Job;
use crate::repo::core::Inserted;
use crate::usecases::ledger::customer_refunds::claim_customer_refunds;
use crate::usecases::ledger::refunds::{apply_refund, RefundApplied};

pub async fn record_transaction(
    app: &App,
    program: &Program,
    new: NewTransaction,
) -> Result<Outcome, AppError> {
    let slug = program.slug.as_str();
    let transaction = Transaction::recorded(new, app.now());
    match app.repo.insert(slug, &transaction).await? {
        Inserted::Exists(existing) if existing.value.fingerprint == transaction.fingerprint => {
            // A retry: heal a crash between the first write and the ones after it.
            if let Some(customer) = &existing.value.customer_key {
                app.repo
                    .add_customer_transaction(slug, customer, &existing.value)
                    .await?;
            }
            if existing.value.status == TransactionStatus::Recorded {
                enqueue_commission(app, slug, &transaction.key).await?;
            }
            Ok(Outcome::Skipped)
        }
        Inserted::Exists(_) => Err(AppError::Conflict(format!(
            "transaction {:?} was already recorded with different content",
            transaction.key
        ))),
        Inserted::Created => {
            let mut pending = app.repo.pending_refunds(slug, &transaction.key).await?;
            if let Some(customer) = &transaction.customer_key {
                app.repo
                    .add_customer_transaction(slug, customer, &transaction)
                    .await?;
                pending.extend(claim_customer_refunds(app, slug, customer, &transaction).await?);
            }
            let mut fully_refunded = false;
            for refund in pending {
                fully_refunded |= apply_refund(app, program, &transaction.key, &refund).await?
                    == RefundApplied::Fully;
            }
            if fully_refunded {
                return Ok(Outcome::CreatedRefunded);
            }
            enqueue_commission(app, slug, &transaction.key).await?;
            Ok(Outcome::Created)
        }
    }
}

/// Assigns an unassigned transaction to a partner and queues its commission.
pub async fn assign(
    app: &App,
    program: &Program,
    key: &str,
    partner_key: &str,
) -> Result<Transaction, AppError> {
    let slug = program.slug.as_str();
    let partner = app
        .repo
        .find::<Partner>(slug, partner_key.trim())
        .await?
        .ok_or_else(|| {
            AppError::invalid(
                "partner_key",
                format!("no partner has the key {partner_key:?}"),
            )
        })?;
    let updated = app
        .repo
        .modify::<Transaction, AppError>(slug, key, |tx| {
            tx.assign_to(&partner.key).map_err(AppError::Conflict)
        })
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no transaction has the key {key:?}")))?;
    if updated.status == TransactionStatus::Recorded {
        enqueue_commission(app, slug, key).await?;
    }
    Ok(updated)
}

pub async fn enqueue_commission(app: &App, program: &str, key: &str) -> Result<(), AppError> {
    let job = Job::Commission {
        program: program.to_string(),
        transaction_key: key.to_string(),
    };
    app.queue.send(&job).await?;
    Ok(())
}
