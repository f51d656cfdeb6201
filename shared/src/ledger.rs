//! Recording transactions and refunds exactly once, whatever the source.
//!
//! A transaction's key is the sender's own id, written with a condition, so a retry finds the
//! first write. A refund that arrives before its transaction is kept in the transaction's
//! partition; both writers look for the other after their own write (strongly consistent
//! reads), so whichever lands second applies the refund.

use crate::app::App;
use crate::commission::reward_amount;
use crate::customers;
use crate::domain::{
    now_millis, Amounts, Customer, Product, Program, RewardStatus, Transaction, TransactionStatus,
};
use crate::error::AppError;
use crate::postback::{emit, Event};
use crate::queue::Job;
use crate::repo::Inserted;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A transaction as a sender reported it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewTransaction {
    pub key: String,
    pub source: String,
    pub customer: Option<NewCustomer>,
    pub partner_ref: Option<String>,
    /// Attribute through the customer's partner (payment providers).
    pub by_customer: bool,
    pub amounts: Amounts,
    pub product: Product,
    pub campaign_slug: Option<String>,
    pub is_recurring: bool,
    pub recurring_number: Option<u32>,
    pub transaction_date: Option<i64>,
}

impl NewTransaction {
    /// A payment reported by a payment provider: attributed through its customer, which the
    /// caller fills in once it is identified.
    pub fn provider_payment(source: &str, key: String, amounts: Amounts) -> Self {
        Self {
            key,
            source: source.to_string(),
            customer: None,
            partner_ref: None,
            by_customer: true,
            amounts,
            product: Product::default(),
            campaign_slug: None,
            is_recurring: false,
            recurring_number: None,
            transaction_date: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewCustomer {
    pub key: String,
    pub email: Option<String>,
    pub name: Option<String>,
}

/// How much a refund takes back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RefundSpec {
    /// All of it.
    Full,
    /// The total refunded so far (Stripe's cumulative `amount_refunded`).
    Total { amount: Decimal },
    /// One refund of several, with its own id (Chargebee and Chargify refund transactions).
    Part { id: String, amount: Decimal },
}

impl RefundSpec {
    /// Distinguishes refunds kept before their transaction arrives.
    fn pending_id(&self) -> String {
        match self {
            Self::Full => "full".into(),
            Self::Total { amount } => format!("total#{amount}"),
            Self::Part { id, .. } => format!("part#{id}"),
        }
    }

    /// Applies the refund to a transaction; false when it was applied before.
    fn apply(&self, tx: &mut Transaction) -> bool {
        let gross = tx.amounts.gross;
        let refunded = match self {
            Self::Full => gross,
            Self::Total { amount } => (*amount).min(gross),
            Self::Part { id, amount } => {
                if tx.refund_ids.contains(id) {
                    return false;
                }
                tx.refund_ids.push(id.clone());
                (tx.amounts.refunded + *amount).min(gross)
            }
        };
        if refunded <= tx.amounts.refunded && !matches!(self, Self::Part { .. }) {
            return false;
        }
        tx.amounts.refunded = tx.amounts.refunded.max(refunded);
        if tx.amounts.refunded >= gross {
            tx.status = TransactionStatus::Refunded;
            tx.refunded_at = Some(now_millis());
        }
        true
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    /// Created, and a refund that had arrived first was applied at once.
    CreatedRefunded,
    /// The same transaction was recorded before: nothing new.
    Skipped,
    Refunded,
    PartiallyRefunded,
    AlreadyRefunded,
    /// The refund is kept until its transaction arrives.
    RefundPending,
    /// The payment's customer is not known yet; the payment is kept until it is linked.
    CustomerUnknown,
    /// A provider's customer was linked to a Partnerhook customer.
    CustomerLinked,
    /// Understood, but nothing Partnerhook acts on.
    Ignored,
    /// A test URL kept the payload as a sample.
    SampleCaptured,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::CreatedRefunded => "created_refunded",
            Self::Skipped | Self::AlreadyRefunded => "skipped",
            Self::Refunded => "refunded",
            Self::PartiallyRefunded => "partially_refunded",
            Self::RefundPending => "refund_pending",
            Self::CustomerUnknown => "customer_unknown",
            Self::CustomerLinked => "customer_linked",
            Self::Ignored => "ignored",
            Self::SampleCaptured => "sample_captured",
        }
    }

    pub fn is_repeat(self) -> bool {
        matches!(self, Self::Skipped | Self::AlreadyRefunded)
    }

    /// Kept, and waiting for something else to arrive before it counts.
    pub fn is_pending(self) -> bool {
        matches!(self, Self::RefundPending | Self::CustomerUnknown)
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
        let record = Customer::new(
            customer.key.clone(),
            customer.email.clone(),
            customer.name.clone(),
            now,
        );
        // A customer seen before keeps what it has.
        if app.repo.insert(slug, &record).await? == Inserted::Created {
            if let Some(email) = &record.email {
                app.repo
                    .claim_email(slug, "CUSTOMER", email, &record.key)
                    .await?;
            }
            customers::created(app, program, &record.key).await?;
        }
    }
    let transaction = Transaction {
        key: new.key.clone(),
        source: new.source.clone(),
        customer_key: new.customer.as_ref().map(|c| c.key.clone()),
        partner_ref: new.partner_ref.clone(),
        by_customer: new.by_customer,
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
        refund_ids: Vec::new(),
    };
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
                fully_refunded |= apply_refund(app, slug, &transaction.key, &refund).await?
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

pub async fn enqueue_commission(app: &App, program: &str, key: &str) -> Result<(), AppError> {
    let job = Job::Commission {
        program: program.to_string(),
        transaction_key: key.to_string(),
    };
    app.queue.send(&job).await?;
    Ok(())
}

pub async fn record_refund(
    app: &App,
    program: &str,
    key: &str,
    refund: RefundSpec,
) -> Result<Outcome, AppError> {
    match apply_refund(app, program, key, &refund).await? {
        RefundApplied::NoTransaction => {}
        applied => return Ok(applied.outcome()),
    }
    let first = app
        .repo
        .insert_pending_refund(program, key, &refund.pending_id(), &refund)
        .await?;
    // The transaction may have landed between the first look and the refund's write.
    match apply_refund(app, program, key, &refund).await? {
        RefundApplied::NoTransaction if first => Ok(Outcome::RefundPending),
        RefundApplied::NoTransaction => Ok(Outcome::Skipped),
        applied => Ok(applied.outcome()),
    }
}

/// Refunds that named only this transaction's customer (Recurly) and fit it: same source, no
/// more than its amount. They are taken off the customer's list as they are claimed.
async fn claim_customer_refunds(
    app: &App,
    program: &str,
    customer: &str,
    transaction: &Transaction,
) -> Result<Vec<RefundSpec>, AppError> {
    let mut claimed = Vec::new();
    let mut left = transaction.amounts.gross;
    for refund in app.repo.customer_refunds(program, customer).await? {
        if refund.source != transaction.source || refund.amount > left {
            continue;
        }
        left -= refund.amount;
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

/// How many of a customer's latest transactions a customer-named refund is matched against.
const CUSTOMER_REFUND_LOOKBACK: usize = 50;

/// A refund that names its customer and amount but not the payment (Recurly's XML refund
/// notification). It goes to the customer's newest payment from the same source with exactly
/// that much left to refund, else the newest with enough left; with none, it is kept until a
/// fitting payment arrives.
pub async fn record_customer_refund(
    app: &App,
    program: &str,
    customer: &str,
    refund: crate::repo::CustomerRefund,
) -> Result<(Outcome, Option<String>), AppError> {
    if let Some(key) = fitting_transaction(app, program, customer, &refund).await? {
        let spec = RefundSpec::Part {
            id: refund.refund_id.clone(),
            amount: refund.amount,
        };
        return Ok((record_refund(app, program, &key, spec).await?, Some(key)));
    }
    let first = app
        .repo
        .insert_customer_refund(program, customer, &refund)
        .await?;
    // A payment may have landed between the look and the write; it may also have claimed it.
    if let Some(key) = fitting_transaction(app, program, customer, &refund).await? {
        let still_kept = app
            .repo
            .customer_refunds(program, customer)
            .await?
            .contains(&refund);
        if still_kept {
            app.repo
                .delete_customer_refund(program, customer, &refund)
                .await?;
            let spec = RefundSpec::Part {
                id: refund.refund_id.clone(),
                amount: refund.amount,
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
    refund: &crate::repo::CustomerRefund,
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
            .get_transaction(program, &entry.transaction_key)
            .await?
        else {
            continue;
        };
        let tx = tx.value;
        if tx.refund_ids.contains(&refund.refund_id) {
            return Ok(Some(tx.key));
        }
        let left = tx.amounts.gross - tx.amounts.refunded;
        if left == refund.amount {
            return Ok(Some(tx.key));
        }
        if left > refund.amount && enough_left.is_none() {
            enough_left = Some(tx.key);
        }
    }
    Ok(enough_left)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RefundApplied {
    Fully,
    Partly,
    Before,
    NoTransaction,
}

impl RefundApplied {
    fn outcome(self) -> Outcome {
        match self {
            Self::Fully => Outcome::Refunded,
            Self::Partly => Outcome::PartiallyRefunded,
            Self::Before | Self::NoTransaction => Outcome::AlreadyRefunded,
        }
    }
}

async fn apply_refund(
    app: &App,
    program: &str,
    key: &str,
    refund: &RefundSpec,
) -> Result<RefundApplied, AppError> {
    let mut changed = false;
    let updated = update_transaction(app, program, key, |tx| {
        changed = tx.status != TransactionStatus::Refunded && refund.apply(tx);
        Ok(changed)
    })
    .await?;
    let Some(tx) = updated else {
        return Ok(RefundApplied::NoTransaction);
    };
    // Also when the refund was applied before: this may be the retry of a request that failed
    // after that write, leaving rewards unsettled or the partner untold. Both steps are
    // idempotent.
    settle_rewards(app, program, &tx).await?;
    if let Some(partner) = &tx.partner_key {
        emit(app, program, partner, Event::TransactionUpdated(&tx)).await?;
    }
    if !changed {
        return Ok(RefundApplied::Before);
    }
    Ok(if tx.status == TransactionStatus::Refunded {
        RefundApplied::Fully
    } else {
        RefundApplied::Partly
    })
}

/// Brings a transaction's unpaid rewards in line with its refunds: declined when it is fully
/// refunded, rescaled to what is left otherwise. Paid rewards stay as they are; clawing them
/// back is the commission engine's job.
pub async fn settle_rewards(app: &App, program: &str, tx: &Transaction) -> Result<(), AppError> {
    for reward in app.repo.rewards_of_transaction(program, &tx.key).await? {
        let settled = app
            .repo
            .modify_from(program, reward, |r| -> Result<bool, AppError> {
                let before = r.clone();
                match r.reward_status {
                    RewardStatus::Paid | RewardStatus::Declined => {}
                    _ if tx.status == TransactionStatus::Refunded => {
                        r.reward_status = RewardStatus::Declined;
                    }
                    _ => r.amount = reward_amount(&tx.amounts, r.percent),
                }
                let changed = *r != before;
                if changed {
                    r.updated_at = now_millis();
                }
                Ok(changed)
            })
            .await?;
        let Some(reward) = settled else { continue };
        if reward.reward_status == RewardStatus::Paid {
            tracing::warn!(program, reward = %reward.key, "refund of a paid reward");
            continue;
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

/// Reads a transaction, lets `change` edit it, and writes it back if `change` says so,
/// retrying on concurrent writes. `None` when there is no such transaction.
pub async fn update_transaction(
    app: &App,
    program: &str,
    key: &str,
    mut change: impl FnMut(&mut Transaction) -> Result<bool, AppError>,
) -> Result<Option<Transaction>, AppError> {
    app.repo
        .modify_transaction(program, key, |tx| {
            let changed = change(tx)?;
            if changed {
                tx.updated_at = now_millis();
            }
            Ok(changed)
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    fn tx(gross: i64) -> Transaction {
        Transaction {
            key: "t".into(),
            source: "test".into(),
            customer_key: None,
            partner_ref: None,
            by_customer: false,
            partner_key: None,
            status: TransactionStatus::Commissioned,
            unassigned_reason: None,
            amounts: Amounts::new(Currency::parse("USD").unwrap(), Decimal::new(gross, 2)),
            product: Product::default(),
            campaign_slug: None,
            is_recurring: false,
            recurring_number: None,
            transaction_date: None,
            fingerprint: String::new(),
            created_at: 0,
            updated_at: 0,
            refunded_at: None,
            refund_ids: vec![],
        }
    }

    #[test]
    fn cumulative_totals_apply_once_and_only_grow() {
        let mut t = tx(4900);
        assert!(RefundSpec::Total {
            amount: Decimal::new(1900, 2)
        }
        .apply(&mut t));
        assert!(!RefundSpec::Total {
            amount: Decimal::new(1900, 2)
        }
        .apply(&mut t));
        assert!(
            !RefundSpec::Total {
                amount: Decimal::new(900, 2)
            }
            .apply(&mut t),
            "an older total arriving late changes nothing"
        );
        assert_eq!(t.status, TransactionStatus::Commissioned);
        assert!(RefundSpec::Total {
            amount: Decimal::new(4900, 2)
        }
        .apply(&mut t));
        assert_eq!(t.status, TransactionStatus::Refunded);
    }

    #[test]
    fn partial_refunds_count_once_each_and_add_up() {
        let mut t = tx(1395);
        let part = |id: &str, cents| RefundSpec::Part {
            id: id.into(),
            amount: Decimal::new(cents, 2),
        };
        assert!(part("r1", 395).apply(&mut t));
        assert!(!part("r1", 395).apply(&mut t));
        assert_eq!(t.amounts.refunded, Decimal::new(395, 2));
        assert!(part("r2", 1000).apply(&mut t));
        assert_eq!(t.status, TransactionStatus::Refunded);
        let mut full = tx(100);
        assert!(RefundSpec::Full.apply(&mut full));
        assert_eq!(full.amounts.refunded, Decimal::new(100, 2));
    }
}
