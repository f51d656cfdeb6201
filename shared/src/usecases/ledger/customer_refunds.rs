//! Refunds that name their customer and amount but not the payment (Recurly's XML refund
//! notification): matched to one of the customer's payments, or kept until one fits.

use crate::app::App;
use crate::domain::outcome::Outcome;
use crate::domain::program::Program;
use crate::domain::refund::{CustomerRefund, RefundSpec};
use crate::domain::transaction::Transaction;
use crate::error::AppError;
use crate::usecases::ledger::refunds::{apply_refund, record_refund, KeptRefunds};

/// How many of a customer's latest transactions a customer-named refund is matched against.
const CUSTOMER_REFUND_LOOKBACK: usize = 50;

/// A refund that names its customer and amount but not the payment (Recurly's XML refund
/// notification). It goes to the customer's payment that already has it (a retry), else the
/// newest payment from the same source with exactly that much left to refund, else the newest
/// with enough left; with none, it is kept until a fitting payment arrives. Whichever writer
/// assigns it first decides the payment (one conditional write), so it counts once.
pub async fn record_customer_refund(
    app: &App,
    program: &Program,
    customer: &str,
    refund: CustomerRefund,
) -> Result<(Outcome, Option<String>), AppError> {
    let slug = program.slug.as_str();
    if let Some(key) = app
        .repo
        .customer_refund_assignment(slug, customer, &refund)
        .await?
    {
        return apply_assigned(app, program, customer, &refund, key).await;
    }
    if let Some(key) = fitting_transaction(app, slug, customer, &refund).await? {
        return assign_and_apply(app, program, customer, &refund, &key).await;
    }
    let first = app
        .repo
        .insert_customer_refund(slug, customer, &refund)
        .await?;
    // A payment may have landed between the look and the write: look again.
    if let Some(key) = fitting_transaction(app, slug, customer, &refund).await? {
        return assign_and_apply(app, program, customer, &refund, &key).await;
    }
    Ok((
        if first {
            Outcome::RefundPending
        } else {
            Outcome::Skipped
        },
        None,
    ))
}

/// Assigns the refund to `key` unless it went to another payment first, then applies it there.
async fn assign_and_apply(
    app: &App,
    program: &Program,
    customer: &str,
    refund: &CustomerRefund,
    key: &str,
) -> Result<(Outcome, Option<String>), AppError> {
    let assigned = app
        .repo
        .assign_customer_refund(&program.slug, customer, refund, key)
        .await?;
    apply_assigned(app, program, customer, refund, assigned).await
}

/// Applies a customer refund to the payment it was assigned to, then forgets it as kept.
async fn apply_assigned(
    app: &App,
    program: &Program,
    customer: &str,
    refund: &CustomerRefund,
    key: String,
) -> Result<(Outcome, Option<String>), AppError> {
    let outcome = record_refund(app, program, &key, part(refund)).await?;
    app.repo
        .delete_customer_refund(&program.slug, customer, refund)
        .await?;
    Ok((outcome, Some(key)))
}

fn part(refund: &CustomerRefund) -> RefundSpec {
    RefundSpec::Part {
        id: refund.refund_id.clone(),
        amount: refund.amount.clone(),
    }
}

async fn fitting_transaction(
    app: &App,
    program: &str,
    customer: &str,
    refund: &CustomerRefund,
) -> Result<Option<String>, AppError> {
    let mut candidates = Vec::new();
    for entry in app
        .repo
        .customer_transactions(program, customer, CUSTOMER_REFUND_LOOKBACK)
        .await?
    {
        if entry.source != refund.source {
            continue;
        }
        if let Some(tx) = app
            .repo
            .find::<Transaction>(program, &entry.transaction_key)
            .await?
        {
            // Already applied to one (its assignment record predates this field): that one.
            if tx.refund_ids.contains(&refund.refund_id) {
                return Ok(Some(tx.key));
            }
            candidates.push(tx);
        }
    }
    // The refund is in the payment's currency when it names none; it may fit one and not
    // another.
    let fits = |tx: &Transaction, exactly: bool| {
        let left = tx.amounts.gross.saturating_sub(tx.amounts.refunded);
        refund
            .amount
            .in_currency(tx.amounts.currency)
            .is_some_and(|amount| {
                if exactly {
                    left == amount
                } else {
                    left > amount
                }
            })
    };
    let exact = candidates.iter().find(|tx| fits(tx, true));
    let enough = candidates.iter().find(|tx| fits(tx, false));
    Ok(exact.or(enough).map(|tx| tx.key.clone()))
}

/// Applies the refunds kept under a new payment's customer that fit it (same source, no more
/// than is left): each is assigned first, so a refund two payments race for goes to one, then
/// applied, then forgotten.
pub async fn apply_kept_customer_refunds(
    app: &App,
    program: &Program,
    customer: &str,
    transaction: &Transaction,
) -> Result<KeptRefunds, AppError> {
    let slug = program.slug.as_str();
    let mut left = transaction
        .amounts
        .gross
        .saturating_sub(transaction.amounts.refunded);
    let mut kept = KeptRefunds::default();
    for refund in app.repo.customer_refunds(slug, customer).await? {
        if refund.source == transaction.source && transaction.refund_ids.contains(&refund.refund_id)
        {
            // Applied by an earlier try that failed before forgetting it: already in
            // `refunded`, so it neither counts against what is left nor needs to fit again.
            app.repo
                .delete_customer_refund(slug, customer, &refund)
                .await?;
            continue;
        }
        let amount = refund.amount.in_currency(transaction.amounts.currency);
        let Some(amount) = amount.filter(|a| refund.source == transaction.source && *a <= left)
        else {
            continue;
        };
        let winner = app
            .repo
            .assign_customer_refund(slug, customer, &refund, &transaction.key)
            .await?;
        if winner != transaction.key {
            // Another payment took it; its writer applies and forgets it.
            continue;
        }
        left -= amount;
        kept.note(apply_refund(app, program, &transaction.key, &part(&refund)).await?);
        app.repo
            .delete_customer_refund(slug, customer, &refund)
            .await?;
    }
    Ok(kept)
}
