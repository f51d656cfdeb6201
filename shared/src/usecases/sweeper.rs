//! The sweeper: a scheduled pass that records parked payments whose customer is known by now,
//! approves pending rewards whose holding period is over, completes payouts a crash left
//! open, and queues the commission of every transaction still `recorded` some minutes after it
//! arrived. A crash between a transaction's write and its
//! enqueue is healed by the sender's retry when there is one; this heals it when there is not.

use crate::app::App;
use crate::domain::time::Millis;
use crate::domain::transaction::{Transaction, TransactionStatus};
use crate::error::AppError;
use crate::repo::keys;
use crate::usecases::customers::parking::retry_parked;
use crate::usecases::ledger::transactions::requeue;
use crate::usecases::payouts::complete_open;
use crate::usecases::rewards::approve_due;

/// Transactions younger than this are left to the normal path.
pub const GRACE_MS: Millis = 5 * 60 * 1000;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SweepReport {
    pub programs: usize,
    pub requeued: usize,
    /// Parked payments recorded because their customer is known by now.
    pub released: usize,
    /// Pending rewards approved because their holding period is over.
    pub approved: usize,
    /// Payouts completed after a crash left them open.
    pub payouts_completed: usize,
}

/// Queues the commission of every transaction recorded before `now - grace` and not done yet.
pub async fn sweep(app: &App, grace: Millis) -> Result<SweepReport, AppError> {
    let cutoff = app.now() - grace;
    let mut report = SweepReport::default();
    for program in app.repo.program_slugs().await? {
        report.programs += 1;
        if let Some(found) = app.repo.get_program(&program).await? {
            report.released += retry_parked(app, &found.value).await?;
            report.approved += approve_due(app, &found.value).await?;
            report.payouts_completed += complete_open(app, &found.value, grace).await?;
        }
        let mut cursor = None;
        loop {
            let recorded =
                keys::transactions_with_status(&program, TransactionStatus::Recorded.as_str());
            let page = app
                .repo
                .list::<Transaction>(recorded, 100, cursor.as_deref(), false)
                .await?;
            // The listing is oldest first: the first young one ends this program's pass.
            let mut reached_young = false;
            for tx in &page.items {
                if tx.created_at > cutoff {
                    reached_young = true;
                    break;
                }
                requeue(app, &program, tx).await?;
                report.requeued += 1;
            }
            match page.next_cursor {
                Some(next) if !reached_young => cursor = Some(next),
                _ => break,
            }
        }
    }
    tracing::info!(
        programs = report.programs,
        requeued = report.requeued,
        released = report.released,
        approved = report.approved,
        payouts_completed = report.payouts_completed,
        "sweep"
    );
    Ok(report)
}
