//! Recording transactions and refunds exactly once, whatever the source.
//!
//! A transaction's key is the sender's own id, written with a condition, so a retry finds the
//! first write. A refund that arrives before its transaction is kept in the transaction's
//! partition; both writers look for the other after their own write (strongly consistent
//! reads), so whichever lands second applies the refund.

use crate::app::App;
use crate::domain::{
    now_millis, Amounts, Customer, Product, Program, RewardStatus, Transaction, TransactionStatus,
};
use crate::error::AppError;
use crate::queue::Job;
use crate::repo::{Inserted, PendingRefund};
use crate::store::StoreError;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Optimistic updates are retried this often before the request gives up with a 503.
const UPDATE_ATTEMPTS: usize = 8;

/// A transaction as a sender reported it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewTransaction {
    pub key: String,
    pub source: String,
    pub customer: Option<NewCustomer>,
    pub partner_ref: Option<String>,
    pub amounts: Amounts,
    pub product: Product,
    pub campaign_slug: Option<String>,
    pub is_recurring: bool,
    pub recurring_number: Option<u32>,
    pub transaction_date: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewCustomer {
    pub key: String,
    pub email: Option<String>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    /// Created, and a refund that had arrived first was applied at once.
    CreatedRefunded,
    /// The same transaction was recorded before: nothing new.
    Skipped,
    Refunded,
    AlreadyRefunded,
    /// The refund is kept until its transaction arrives.
    RefundPending,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::CreatedRefunded => "created_refunded",
            Self::Skipped => "skipped",
            Self::Refunded => "refunded",
            Self::AlreadyRefunded => "skipped",
            Self::RefundPending => "refund_pending",
        }
    }

    pub fn is_repeat(self) -> bool {
        matches!(self, Self::Skipped | Self::AlreadyRefunded)
    }
}

fn fingerprint(new: &NewTransaction) -> String {
    // Serialising a struct of plain fields is infallible.
    let facts = serde_json::to_vec(new).unwrap_or_default();
    hex::encode(Sha256::digest(&facts))
}

pub async fn record_transaction(
    app: &App,
    program: &Program,
    new: NewTransaction,
) -> Result<Outcome, AppError> {
    let slug = program.slug.as_str();
    let now = now_millis();
    if let Some(customer) = &new.customer {
        let record = Customer {
            key: customer.key.clone(),
            email: customer.email.clone(),
            name: customer.name.clone(),
            partner_key: None,
            created_at: now,
        };
        // A customer seen before keeps what it has.
        app.repo.insert(slug, &record).await?;
    }
    let transaction = Transaction {
        key: new.key.clone(),
        source: new.source.clone(),
        customer_key: new.customer.as_ref().map(|c| c.key.clone()),
        partner_ref: new.partner_ref.clone(),
        partner_key: None,
        status: TransactionStatus::Recorded,
        unassigned_reason: None,
        fingerprint: fingerprint(&new),
        amounts: new.amounts,
        product: new.product,
        campaign_slug: new.campaign_slug,
        is_recurring: new.is_recurring,
        recurring_number: new.recurring_number,
        transaction_date: new.transaction_date,
        created_at: now,
        updated_at: now,
        refunded_at: None,
    };
    match app.repo.insert(slug, &transaction).await? {
        Inserted::Exists(existing) if existing.value.fingerprint == transaction.fingerprint => {
            // A retry: heal a crash between the first write and its enqueue.
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
            if app
                .repo
                .get_pending_refund(slug, &transaction.key)
                .await?
                .is_some()
            {
                apply_refund(app, slug, &transaction.key).await?;
                return Ok(Outcome::CreatedRefunded);
            }
            enqueue_commission(app, slug, &transaction.key).await?;
            Ok(Outcome::Created)
        }
    }
}

pub async fn enqueue_commission(app: &App, program: &str, key: &str) -> Result<(), AppError> {
    let job = Job::Commission {
        program: program.to_string(),
        transaction_key: key.to_string(),
    };
    app.queue.send(&job).await?;
    Ok(())
}

pub async fn record_refund(app: &App, program: &str, key: &str) -> Result<Outcome, AppError> {
    match apply_refund(app, program, key).await? {
        RefundApplied::Applied => return Ok(Outcome::Refunded),
        RefundApplied::AlreadyRefunded => return Ok(Outcome::AlreadyRefunded),
        RefundApplied::NoTransaction => {}
    }
    let refund = PendingRefund {
        transaction_key: key.to_string(),
        received_at: now_millis(),
    };
    let first = app.repo.insert_pending_refund(program, &refund).await?;
    // The transaction may have landed between the first look and the refund's write.
    match apply_refund(app, program, key).await? {
        RefundApplied::Applied => Ok(Outcome::Refunded),
        RefundApplied::AlreadyRefunded => Ok(Outcome::AlreadyRefunded),
        RefundApplied::NoTransaction if first => Ok(Outcome::RefundPending),
        RefundApplied::NoTransaction => Ok(Outcome::Skipped),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RefundApplied {
    Applied,
    AlreadyRefunded,
    NoTransaction,
}

async fn apply_refund(app: &App, program: &str, key: &str) -> Result<RefundApplied, AppError> {
    let mut applied = RefundApplied::NoTransaction;
    let found = update_transaction(app, program, key, |tx| {
        if tx.status == TransactionStatus::Refunded {
            applied = RefundApplied::AlreadyRefunded;
            return Ok(false);
        }
        applied = RefundApplied::Applied;
        tx.status = TransactionStatus::Refunded;
        tx.refunded_at = Some(now_millis());
        Ok(true)
    })
    .await?;
    if found.is_some() && applied == RefundApplied::Applied {
        decline_rewards(app, program, key).await?;
    }
    Ok(applied)
}

/// Declines the unpaid rewards of a refunded transaction. Paid rewards stay paid; clawing
/// them back is the commission engine's job.
pub async fn decline_rewards(app: &App, program: &str, key: &str) -> Result<(), AppError> {
    for mut reward in app.repo.rewards_of_transaction(program, key).await? {
        for _ in 0..UPDATE_ATTEMPTS {
            match reward.value.reward_status {
                RewardStatus::Declined => break,
                RewardStatus::Paid => {
                    tracing::warn!(program, reward = %reward.value.key, "refund of a paid reward");
                    break;
                }
                _ => {}
            }
            reward.value.reward_status = RewardStatus::Declined;
            reward.value.updated_at = now_millis();
            match app.repo.update(program, &reward).await {
                Ok(()) => break,
                Err(StoreError::VersionConflict { .. }) => {
                    let level = reward.value.level;
                    reward = app
                        .repo
                        .rewards_of_transaction(program, key)
                        .await?
                        .into_iter()
                        .find(|r| r.value.level == level)
                        .ok_or_else(|| AppError::NotFound(format!("reward of {key} vanished")))?;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(())
}

/// Reads a transaction, lets `change` edit it, and writes it back if `change` says so,
/// retrying on concurrent writes. `None` when there is no such transaction.
pub async fn update_transaction(
    app: &App,
    program: &str,
    key: &str,
    mut change: impl FnMut(&mut Transaction) -> Result<bool, AppError>,
) -> Result<Option<Transaction>, AppError> {
    for _ in 0..UPDATE_ATTEMPTS {
        let Some(mut current) = app.repo.get_transaction(program, key).await? else {
            return Ok(None);
        };
        if !change(&mut current.value)? {
            return Ok(Some(current.value));
        }
        current.value.updated_at = now_millis();
        match app.repo.update(program, &current).await {
            Ok(()) => return Ok(Some(current.value)),
            Err(StoreError::VersionConflict { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::Store(StoreError::VersionConflict {
        pk: program.to_string(),
        sk: key.to_string(),
    }))
}
