//! Refunds that name their customer and amount but not the payment (Recurly's XML refund
//! notification): matched to one of the customer's payments, or kept until one fits.

use crate::app::App;
use crate::domain::outcome::Outcome;
use crate::domain::program::Program;
use crate::domain::refund::{CustomerRefund, RefundSpec};
use crate::domain::transaction::Transaction;
use crate::error::AppError;
use crate::usecases::ledger::refunds::record_refund;

/// How many of a customer's latest transactions a customer-named refund is matched against.
const CUSTOMER_REFUND_LOOKBACK: usize = 50;

/// A refund that names its customer and amount but not the payment (Recurly's XML refund
/// notification). It goes to the customer's newest payment from the same source with exactly
/// that much left to refund, else the newest with enough left; with none, it is kept until a
/// fitting payment arrives.
pub async fn record_customer_refund(
    app: &App,
    program: &Program,
    customer: &str,
    refund: CustomerRefund,
) -> Result<(Outcome, Option<String>), AppError> {
    let slug = program.slug.as_str();
    if let Some(key) = fitting_transaction(app, slug, customer, &refund).await? {
        let spec = RefundSpec::Part {
            id: refund.refund_id.clone(),
            amount: refund.amount.clone(),
        };
        return Ok((record_refund(app, program, &key, spec).await?, Some(key)));
    }
    let first = app
        .repo
        .insert_customer_refund(slug, customer, &refund)
        .await?;
    // A payment may have landed between the look and the write; it may also have claimed it.
    if let Some(key) = fitting_transaction(app, slug, customer, &refund).await? {
        let still_kept = app
            .repo
            .customer_refunds(slug, customer)
            .await?
            .contains(&refund);
        if still_kept {
            app.repo
                .delete_customer_refund(slug, customer, &refund)
                .await?;
            let spec = RefundSpec::Part {
                id: refund.refund_id.clone(),
                amount: refund.amount.clone(),
            };
            return Ok((record_refund(app, program, &key, spec).await?, Some(key)));
        }
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

async fn fitting_transaction(
    app: &App,
    program: &str,
    customer: &str,
    refund: &CustomerRefund,
) -> Result<Option<String>, AppError> {
    let mut enough_left = None;
    for entry in app
        .repo
        .customer_transactions(program, customer, CUSTOMER_REFUND_LOOKBACK)
        .await?
    {
        if entry.source != refund.source {
            continue;
        }
        let Some(tx) = app
            .repo
            .find::<Transaction>(program, &entry.transaction_key)
            .await?
        else {
            continue;
        };
        if tx.refund_ids.contains(&refund.refund_id) {
            return Ok(Some(tx.key));
        }
        // The refund is in this payment's currency when it names none.
        let Some(amount) = refund.amount.in_currency(tx.amounts.currency) else {
            continue;
        };
        let left = tx.amounts.gross.saturating_sub(tx.amounts.refunded);
        if left == amount {
            return Ok(Some(tx.key));
        }
        if left > amount && enough_left.is_none() {
            enough_left = Some(tx.key);
        }
    }
    Ok(enough_left)
}

/// Refunds that named only this transaction's customer (Recurly) and fit it: same source, no
/// more than its amount. They are taken off the customer's list as they are claimed.
pub async fn claim_customer_refunds(
    app: &App,
    program: &str,
    customer: &str,
    transaction: &Transaction,
) -> Result<Vec<RefundSpec>, AppError> {
    let mut claimed = Vec::new();
    let mut left = transaction.amounts.gross;
    for refund in app.repo.customer_refunds(program, customer).await? {
        let amount = refund.amount.in_currency(transaction.amounts.currency);
        let Some(amount) = amount.filter(|a| refund.source == transaction.source && *a <= left)
        else {
            continue;
        };
        left -= amount;
        app.repo
            .delete_customer_refund(program, customer, &refund)
            .await?;
        claimed.push(RefundSpec::Part {
            id: refund.refund_id,
            amount: refund.amount,
        });
    }
    Ok(claimed)
}
