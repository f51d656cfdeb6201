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
use crate::domain::refund::{refunds_by_customer, RefundSpec};
use crate::domain::transaction::{NewTransaction, Transaction, TransactionStatus};
use crate::error::AppError;
use crate::queue::Job;
use crate::repo::core::Inserted;
use crate::usecases::ledger::customer_refunds::apply_kept_customer_refunds;
use crate::usecases::ledger::refunds::{apply_refund, KeptRefunds};

pub async fn record_transaction(
    app: &App,
    program: &Program,
    new: NewTransaction,
) -> Result<Outcome, AppError> {
    let slug = program.slug.as_str();
    let transaction =
        Transaction::recorded(new, app.now()).written_by(uuid::Uuid::now_v7().simple().to_string());
    match app.repo.insert(slug, &transaction).await? {
        Inserted::Exists(existing) if existing.value.fingerprint != transaction.fingerprint => {
            Err(AppError::Conflict(format!(
                "transaction {:?} was already recorded with different content",
                transaction.key
            )))
        }
        // Written now, or by an earlier try (a sender's retry, or the SDK's own retry of a
        // write whose answer was lost): either way every step after the write runs, each
        // idempotent, so a crash between them is healed by the retry.
        inserted => {
            // The SDK's retry of our own write finds exactly what we wrote: still new.
            let (stored, was_new) = match inserted {
                Inserted::Exists(existing) => {
                    let own = existing.value.is_own_write(&transaction);
                    (existing.value, own)
                }
                Inserted::Created => (transaction, true),
            };
            // A repeat of a payment whose commission job ran: every step after the write ran
            // before that job was queued (or the sweeper's `requeue` finished them), so the
            // repeat is answered from the stored record alone.
            if !was_new && stored.commission_ran() {
                return Ok(Outcome::Skipped);
            }
            let fully_refunded = settle_kept_refunds(app, program, &stored).await?;
            if stored.status == TransactionStatus::Recorded && !fully_refunded {
                // The program read for this sale rides along: the job need not read it again.
                app.queue
                    .send(&Job::commission(program, &stored.key))
                    .await?;
            }
            Ok(match (was_new, fully_refunded) {
                (false, _) => Outcome::Skipped,
                (true, true) => Outcome::CreatedRefunded,
                (true, false) => Outcome::Created,
            })
        }
    }
}

/// The steps after a transaction's write: listed under its customer, and the refunds kept for
/// it applied. True when one refunded all of it.
async fn settle_kept_refunds(
    app: &App,
    program: &Program,
    transaction: &Transaction,
) -> Result<bool, AppError> {
    if let Some(customer) = &transaction.customer_key {
        app.repo
            .add_customer_transaction(&program.slug, customer, transaction)
            .await?;
    }
    Ok(apply_kept_refunds(app, program, transaction)
        .await?
        .fully_refunded)
}

/// Applies the refunds kept for a transaction before it arrived: those kept under its key
/// (each applied, then forgotten), and (Recurly) those kept under its customer that fit it.
/// Idempotent: the commission job runs it again.
pub async fn apply_kept_refunds(
    app: &App,
    program: &Program,
    transaction: &Transaction,
) -> Result<KeptRefunds, AppError> {
    let refunds = app
        .repo
        .pending_refunds(&program.slug, &transaction.key)
        .await?;
    apply_refunds_kept(app, program, transaction, refunds).await
}

/// [`apply_kept_refunds`] with the refunds kept under the transaction's key read already
/// (consistently, after the transaction's write), as the commission job reads them.
pub async fn apply_refunds_kept(
    app: &App,
    program: &Program,
    transaction: &Transaction,
    mut refunds: Vec<RefundSpec>,
) -> Result<KeptRefunds, AppError> {
    let slug = program.slug.as_str();
    let mut kept = KeptRefunds::default();
    // A failure kept with the refund it undoes is applied after it, whatever came first.
    refunds.sort_by_key(RefundSpec::gives_back);
    for refund in refunds {
        kept.note(apply_refund(app, program, &transaction.key, &refund).await?);
        app.repo
            .delete_pending_refund(slug, &transaction.key, &refund.pending_id())
            .await?;
    }
    if let Some(customer) = transaction
        .customer_key
        .as_ref()
        .filter(|_| refunds_by_customer(&transaction.source))
    {
        kept = kept.and(apply_kept_customer_refunds(app, program, customer, transaction).await?);
    }
    Ok(kept)
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
        app.queue.send(&Job::commission(program, key)).await?;
    }
    Ok(updated)
}

/// The sweeper's requeue of a transaction still `recorded` minutes after its write: a crash
/// cut its webhook short, so the steps after the write that its commission job does not redo
/// (its customer's listing) are finished here, since a late retry finds it commissioned and
/// skips them.
pub async fn requeue(app: &App, program: &str, transaction: &Transaction) -> Result<(), AppError> {
    if let Some(customer) = &transaction.customer_key {
        app.repo
            .add_customer_transaction(program, customer, transaction)
            .await?;
    }
    enqueue_commission(app, program, &transaction.key).await
}

pub async fn enqueue_commission(app: &App, program: &str, key: &str) -> Result<(), AppError> {
    let job = Job::Commission {
        program: program.to_string(),
        transaction_key: key.to_string(),
        program_record: None,
    };
    app.queue.send(&job).await?;
    Ok(())
}
