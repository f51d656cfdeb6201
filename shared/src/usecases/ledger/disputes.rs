//! Disputes (chargebacks): an open one holds its payment's unpaid rewards, a won one releases
//! those holds, a lost one refunds the disputed amount once and then releases them.

use crate::app::App;
use crate::domain::dispute::{hold_reason, lost_refund, DisputeChange};
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
    match change {
        DisputeChange::Opened => {
            let known = app
                .repo
                .find::<Transaction>(&program.slug, transaction_key)
                .await?
                .is_some();
            if !known {
                return Ok((
                    Outcome::Ignored,
                    format!("transaction {transaction_key:?} is not known, so nothing is held for dispute {dispute_id}"),
                ));
            }
            let held = hold_rewards_of(app, program, transaction_key, &reason).await?;
            Ok((
                Outcome::Held,
                format!("dispute {dispute_id}: {held} unpaid reward(s) of transaction {transaction_key:?} held until it closes"),
            ))
        }
        DisputeChange::Won => {
            let released = release_rewards_of(app, program, transaction_key, &reason).await?;
            Ok((
                Outcome::Released,
                format!("dispute {dispute_id} closed in the seller's favour: {released} reward(s) released"),
            ))
        }
        DisputeChange::Lost { amount } => {
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
