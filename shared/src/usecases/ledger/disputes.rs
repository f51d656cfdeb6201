//! Disputes (chargebacks): an open one holds its payment's unpaid rewards, a won one releases
//! those holds, a lost one refunds the disputed amount once and then releases them.
//!
//! Whatever order the events arrive in, no hold outlives its dispute: a close is written as a
//! refund keyed by the dispute (of nothing when won) before its holds are released, and an
//! opening looks for it after it holds, releasing what it held when the dispute is closed.

use crate::app::App;
use crate::domain::dispute::{self, closing_refund, hold_reason, DisputeChange};
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
    let reason = hold_reason(dispute_id);
    if let Some(refund) = closing_refund(dispute_id, &change) {
        let outcome = record_refund(app, program, transaction_key, refund).await?;
        // What is left of the sale counts again.
        let released = release_rewards_of(app, program, transaction_key, &reason).await?;
        return Ok(match change {
            DisputeChange::Lost { .. } => (
                outcome,
                format!("dispute {dispute_id} was lost: the disputed amount counts as a refund"),
            ),
            _ => (
                Outcome::Released,
                format!("dispute {dispute_id} closed in the seller's favour: {released} reward(s) released"),
            ),
        });
    }
    let slug = program.slug.as_str();
    let closed = |tx: Option<Transaction>| tx.is_some_and(|t| dispute::closed(&t, dispute_id));
    let found = app.repo.find::<Transaction>(slug, transaction_key).await?;
    if found.is_none() {
        return Ok((
            Outcome::Ignored,
            format!("transaction {transaction_key:?} is not known, so nothing is held for dispute {dispute_id}"),
        ));
    }
    if closed(found) {
        return Ok((
            Outcome::Skipped,
            format!("dispute {dispute_id} is closed already"),
        ));
    }
    let held = hold_rewards_of(app, program, transaction_key, &reason).await?;
    // A close that landed meanwhile may have released before these holds.
    if closed(app.repo.find::<Transaction>(slug, transaction_key).await?) {
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
