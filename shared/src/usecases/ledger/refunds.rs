//! Refunds: applied to their transaction once each (see `RefundSpec`), kept when they arrive
//! before it, and followed by the rewards they change.

use crate::app::App;
use crate::domain::event::Event;
use crate::domain::lifecycle::{self, clawback, clawback_due};
use crate::domain::outcome::Outcome;
use crate::domain::program::Program;
use crate::domain::refund::RefundSpec;
use crate::domain::reward::{Reward, RewardStatus};
use crate::domain::transaction::{Transaction, TransactionStatus};
use crate::error::AppError;
use crate::queue::Job;
use crate::usecases::postbacks::emit::emit;
use rust_decimal::Decimal;

pub async fn record_refund(
    app: &App,
    program: &Program,
    key: &str,
    refund: RefundSpec,
) -> Result<Outcome, AppError> {
    match apply_refund(app, program, key, &refund).await? {
        RefundApplied::NoTransaction => {}
        applied => return Ok(applied.outcome()),
    }
    let first = app
        .repo
        .insert_pending_refund(&program.slug, key, &refund.pending_id(), &refund)
        .await?;
    // The transaction may have landed between the first look and the refund's write.
    match apply_refund(app, program, key, &refund).await? {
        RefundApplied::NoTransaction if first => Ok(Outcome::RefundPending),
        RefundApplied::NoTransaction => Ok(Outcome::Skipped),
        applied => Ok(applied.outcome()),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundApplied {
    Fully,
    Partly,
    /// A failed refund was undone.
    Restored,
    Before,
    NoTransaction,
}

/// What applying a set of kept refunds did to their transaction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeptRefunds {
    /// Some refund changed the transaction (a caller holding it should read it again).
    pub changed: bool,
    /// Some refund refunded all of it.
    pub fully_refunded: bool,
}

impl KeptRefunds {
    pub fn note(&mut self, applied: RefundApplied) {
        self.changed |= matches!(
            applied,
            RefundApplied::Fully | RefundApplied::Partly | RefundApplied::Restored
        );
        self.fully_refunded |= applied == RefundApplied::Fully;
    }

    pub fn and(self, other: Self) -> Self {
        Self {
            changed: self.changed || other.changed,
            fully_refunded: self.fully_refunded || other.fully_refunded,
        }
    }
}

impl RefundApplied {
    fn outcome(self) -> Outcome {
        match self {
            Self::Fully => Outcome::Refunded,
            Self::Partly => Outcome::PartiallyRefunded,
            Self::Restored => Outcome::RefundReversed,
            Self::Before | Self::NoTransaction => Outcome::AlreadyRefunded,
        }
    }
}

pub async fn apply_refund(
    app: &App,
    program: &Program,
    key: &str,
    refund: &RefundSpec,
) -> Result<RefundApplied, AppError> {
    Ok(apply_refund_if(app, program, key, refund, |_| Ok(()))
        .await?
        .0)
}

/// Applies a refund unless `check` refuses it, judged on the transaction as it is written
/// (the API's refund of more than is left); the transaction afterwards, if there is one.
pub async fn apply_refund_if(
    app: &App,
    program: &Program,
    key: &str,
    refund: &RefundSpec,
    check: impl Fn(&Transaction) -> Result<(), AppError>,
) -> Result<(RefundApplied, Option<Transaction>), AppError> {
    let mut changed = false;
    let now = app.now();
    let updated = app
        .repo
        .modify::<Transaction, AppError>(&program.slug, key, |tx| {
            check(tx)?;
            changed = (tx.status != TransactionStatus::Refunded || refund.gives_back())
                && refund.apply(tx, now);
            Ok(changed)
        })
        .await?;
    let Some(tx) = updated else {
        return Ok((RefundApplied::NoTransaction, None));
    };
    // Also when the refund was applied before: this may be the retry of a request that failed
    // after that write, leaving rewards unsettled or the partner untold. Both steps are
    // idempotent.
    settle_from(app, program, &tx.key, Some(tx.clone())).await?;
    if let Some(partner) = &tx.partner_key {
        emit(app, program, partner, Event::TransactionUpdated(&tx)).await?;
    }
    if refund.gives_back() && tx.status == TransactionStatus::Recorded {
        // Refunded before its commission ran, which then computed nothing: it runs now (a
        // job finding it commissioned already does nothing).
        app.queue.send(&Job::commission(program, &tx.key)).await?;
    }
    let applied = if !changed {
        RefundApplied::Before
    } else if refund.gives_back() {
        RefundApplied::Restored
    } else if tx.status == TransactionStatus::Refunded {
        RefundApplied::Fully
    } else {
        RefundApplied::Partly
    };
    Ok((applied, Some(tx)))
}

/// Brings a transaction's unpaid rewards in line with its refunds: declined when it is fully
/// refunded, rescaled to what is left otherwise, restored when a failed refund undid the
/// refund that declined them. Paid rewards stay as they are: clawbacks
/// take back what they lost. The rewards follow the transaction as read here, and
/// again if another refund changed it meanwhile, so two writers never leave a stale amount.
pub async fn settle_rewards(app: &App, program: &Program, key: &str) -> Result<(), AppError> {
    settle_from(app, program, key, None).await
}

/// [`settle_rewards`], its first round from `written`: the transaction as the caller just
/// wrote or read it consistently, so that round reads nothing; the next reads again.
async fn settle_from(
    app: &App,
    program: &Program,
    key: &str,
    mut written: Option<Transaction>,
) -> Result<(), AppError> {
    let slug = program.slug.as_str();
    let mut seen: Option<Transaction> = None;
    for _ in 0..SETTLE_ROUNDS {
        let tx = match written.take() {
            Some(tx) => tx,
            None => match app.repo.find::<Transaction>(slug, key).await? {
                Some(tx) => tx,
                None => return Ok(()),
            },
        };
        let settled_state = |t: &Transaction| (t.status, t.amounts.refunded);
        if seen.as_ref().map(settled_state) == Some(settled_state(&tx)) {
            return Ok(());
        }
        settle_against(app, program, &tx).await?;
        seen = Some(tx);
    }
    Err(AppError::Store(crate::store::StoreError::VersionConflict {
        pk: slug.to_string(),
        sk: key.to_string(),
    }))
}

/// Refunds landing while rewards are settled make another round; past this many, the caller
/// retries later.
const SETTLE_ROUNDS: usize = 8;

/// What a reward of `tx` is worth now, after its refunds: nothing once it is refunded in full.
/// `None` only for a record from before amounts were bounded, which keeps what it has.
fn worth_now(tx: &Transaction, reward: &Reward) -> Option<Decimal> {
    if tx.status == TransactionStatus::Refunded {
        return Some(Decimal::ZERO);
    }
    reward.worth_after_refunds(&tx.amounts)
}

async fn settle_against(app: &App, program: &Program, tx: &Transaction) -> Result<(), AppError> {
    let slug = program.slug.as_str();
    let now = app.now();
    for reward in app.repo.rewards_of_transaction(slug, &tx.key).await? {
        let restores = tx.status != TransactionStatus::Refunded
            && lifecycle::declined_by_refund(&reward.value);
        if restores && lifecycle::resumes_pending(&reward.value, now) {
            // Its entry in the listing by payment date comes first, as for a new reward.
            app.repo.insert_reward_due(slug, &reward.value).await?;
        }
        let settled = app
            .repo
            .modify_from(slug, reward, |r| -> Result<bool, AppError> {
                let before = r.clone();
                match r.reward_status {
                    RewardStatus::Paid => {}
                    RewardStatus::Declined => {
                        if tx.status != TransactionStatus::Refunded
                            && lifecycle::restore_refunded(r, now)
                        {
                            if let Some(amount) = worth_now(tx, r) {
                                r.amount = amount;
                            }
                        }
                    }
                    _ if tx.status == TransactionStatus::Refunded => {
                        lifecycle::decline_refunded(r);
                    }
                    _ => {
                        if let Some(amount) = worth_now(tx, r) {
                            r.amount = amount;
                        }
                    }
                }
                Ok(*r != before)
            })
            .await?;
        let Some(reward) = settled else { continue };
        if reward.reward_status == RewardStatus::Paid {
            if let Some(worth) = worth_now(tx, &reward) {
                claw_back(app, program, tx, &reward, worth).await?;
            }
            continue;
        }
        if reward.reward_status == RewardStatus::Declined {
            app.repo.delete_reward_due(slug, &reward).await?;
        }
        // Changed now, or by an earlier try that may have failed before telling the partner:
        // the event id is the same either way, so it is delivered once.
        if reward.updated_at != reward.created_at {
            let partner = reward.partner_key.clone();
            emit(app, program, &partner, Event::RewardUpdated(&reward)).await?;
        }
    }
    Ok(())
}

/// Takes back from a paid reward what it lost, as clawback rewards (a paid reward is never
/// rewritten): the clawbacks written so far are read consistently, and the next one, numbered
/// after them, takes the rest. Two writers racing for the same number conflict, and the loser
/// reads again; so together they claw back exactly the paid amount less what it is worth now.
async fn claw_back(
    app: &App,
    program: &Program,
    tx: &Transaction,
    paid: &Reward,
    worth: Decimal,
) -> Result<(), AppError> {
    let slug = program.slug.as_str();
    for _ in 0..SETTLE_ROUNDS {
        let written: Vec<Reward> = app
            .repo
            .clawbacks_of_transaction(slug, &tx.key)
            .await?
            .into_iter()
            .filter(|c| c.reverses.as_deref() == Some(paid.key.as_str()))
            .collect();
        // Also those an earlier try wrote and may not have announced.
        for clawback in &written {
            emit(
                app,
                program,
                &clawback.partner_key,
                Event::RewardCreated(clawback),
            )
            .await?;
        }
        let clawed: Decimal = written.iter().map(|c| c.amount).sum();
        let due = clawback_due(paid, worth, clawed);
        if due.is_zero() {
            return Ok(());
        }
        let next = clawback(paid, written.len(), due, app.now());
        app.repo.insert_reward(slug, &next).await?;
    }
    Err(AppError::Store(crate::store::StoreError::VersionConflict {
        pk: slug.to_string(),
        sk: paid.key.clone(),
    }))
}
