//! Disputes (chargebacks): an open one holds its payment's unpaid rewards, a won one releases
//! those holds, a lost one refunds the disputed amount once and then releases them.
//!
//! Whatever order the events arrive in, no hold outlives its dispute: a close is noted on the
//! transaction before its holds are released, and an opening looks for that note after it
//! holds (releasing what it held when the dispute is closed already).

use crate::app::App;
use crate::domain::dispute::{self, hold_reason, lost_refund, DisputeChange};
use crate::domain::outcome::Outcome;
use crate::domain::program::Program;
use crate::domain::transaction::Transaction;
use crate::error::AppError;
use crate::usecases::ledger::refunds::record_refund;
use crate::usecases::rewards::{hold_rewards_of, release_rewards_of};

/// What a dispute's change did, with the reason the inbox keeps.
pub async fn record_dispute(
    app: &App,
    program: &Program,
    transaction_key: &str,
    dispute_id: &str,
    change: DisputeChange,
) -> Result<(Outcome, String), AppError> {
    let slug = program.slug.as_str();
    let reason = hold_reason(dispute_id);
    let closed =
        |tx: &Option<Transaction>| tx.as_ref().is_some_and(|t| dispute::closed(t, dispute_id));
    match change {
        DisputeChange::Opened => {
            let found = app.repo.find::<Transaction>(slug, transaction_key).await?;
            if found.is_none() {
                return Ok((
                    Outcome::Ignored,
                    format!("transaction {transaction_key:?} is not known, so nothing is held for dispute {dispute_id}"),
                ));
            }
            if closed(&found) {
                return Ok((
                    Outcome::Skipped,
                    format!("dispute {dispute_id} is closed already"),
                ));
            }
            let held = hold_rewards_of(app, program, transaction_key, &reason).await?;
            // A close that landed meanwhile may have released before these holds.
            let after = app.repo.find::<Transaction>(slug, transaction_key).await?;
            if closed(&after) {
                release_rewards_of(app, program, transaction_key, &reason).await?;
                return Ok((
                    Outcome::Skipped,
                    format!("dispute {dispute_id} closed while it opened; nothing stays held"),
                ));
            }
            Ok((
                Outcome::Held,
                format!("dispute {dispute_id}: {held} unpaid reward(s) of transaction {transaction_key:?} held until it closes"),
            ))
        }
        DisputeChange::Won => {
            note_closed(app, program, transaction_key, dispute_id).await?;
            let released = release_rewards_of(app, program, transaction_key, &reason).await?;
            Ok((
                Outcome::Released,
                format!("dispute {dispute_id} closed in the seller's favour: {released} reward(s) released"),
            ))
        }
        DisputeChange::Lost { amount } => {
            note_closed(app, program, transaction_key, dispute_id).await?;
            let refund = lost_refund(dispute_id, amount);
            let outcome = record_refund(app, program, transaction_key, refund).await?;
            // What is left of the sale after the refund counts again.
            release_rewards_of(app, program, transaction_key, &reason).await?;
            Ok((
                outcome,
                format!("dispute {dispute_id} was lost: the disputed amount counts as a refund"),
            ))
        }
    }
}

/// Notes the close on the transaction, if it is known (an opening finds nothing to hold
/// otherwise).
async fn note_closed(
    app: &App,
    program: &Program,
    transaction_key: &str,
    dispute_id: &str,
) -> Result<(), AppError> {
    app.repo
        .modify::<Transaction, AppError>(&program.slug, transaction_key, |tx| {
            Ok(dispute::close(tx, dispute_id))
        })
        .await?;
    Ok(())
}
