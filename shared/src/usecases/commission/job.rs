//! The commission job: attributes a recorded transaction to a partner, walks the referral
//! chain, and writes the plan's rewards. Idempotent: rewards have deterministic keys and are
//! written with a condition, and a transaction that is no longer `recorded` gets no new
//! rewards (the job only finishes what a failed try may have left).

use crate::app::App;
use crate::domain::event::Event;
use crate::domain::program::Program;
use crate::domain::reward::{PaymentStatus, Reward, RewardSource, RewardStatus};
use crate::domain::transaction::{Transaction, TransactionStatus};
use crate::error::AppError;
use crate::usecases::commission::attribution::attribute;
use crate::usecases::commission::decide::rewards_for;
use crate::usecases::customers::manage::paid;
use crate::usecases::ledger::refunds::settle_rewards;
use crate::usecases::ledger::transactions::apply_refunds_kept;
use crate::usecases::postbacks::emit::Subscriptions;
use crate::usecases::rewards::record_reward_for;

/// Runs one commission job: attributes the transaction, writes the plan's rewards, marks it.
/// `program_record` is the program as the job's sender read it (without credentials); without
/// it the program is read here.
pub async fn commission(
    app: &App,
    program: &str,
    key: &str,
    program_record: Option<Program>,
) -> Result<(), AppError> {
    let found = match program_record.filter(|p| p.slug == program) {
        Some(record) => Some(record),
        None => app.repo.get_program(program).await?.map(|v| v.value),
    };
    let Some(program) = found else {
        tracing::warn!(
            program,
            transaction = key,
            "commission job for an unknown program"
        );
        return Ok(());
    };
    let slug = program.slug.as_str();
    // One consistent read of the transaction's partition finds it and the refunds kept for it.
    let (found, kept) = app.repo.transaction_with_kept_refunds(slug, key).await?;
    let Some(found) = found else {
        tracing::warn!(
            program = slug,
            transaction = key,
            "commission job for an unknown transaction"
        );
        return Ok(());
    };
    // The choke point of refund-before-payment: whatever refund was kept for this transaction
    // is applied before anything is computed, so none is missed between the two writers or a
    // crash of either. Applying is idempotent.
    let read = if apply_refunds_kept(app, &program, &found.value, kept)
        .await?
        .changed
    {
        match app.repo.get::<Transaction>(slug, key).await? {
            Some(refunded) => refunded,
            None => return Ok(()),
        }
    } else {
        found
    };
    let transaction = &read.value;
    let mut subscriptions = Subscriptions::default();
    if transaction.status != TransactionStatus::Recorded {
        // Done before. This may be the retry of a run that failed after marking it, so finish
        // what follows that mark; each step is idempotent.
        if let Some(partner) = transaction
            .partner_key
            .as_deref()
            .filter(|_| transaction.status == TransactionStatus::Commissioned)
        {
            subscriptions
                .emit(
                    app,
                    &program,
                    partner,
                    Event::TransactionCreated(transaction),
                )
                .await?;
        } else {
            // Refunded in full after an earlier try wrote rewards and failed before marking
            // it: the rewards it wrote must still be announced, once each.
            for reward in app.repo.rewards_of_transaction(slug, key).await? {
                let reward = reward.value;
                subscriptions
                    .emit(
                        app,
                        &program,
                        &reward.partner_key,
                        Event::RewardCreated(&reward),
                    )
                    .await?;
            }
        }
        return settle_rewards(app, &program, key).await;
    }
    let attributed = attribute(app, slug, transaction).await?;
    if let Some(customer) = &transaction.customer_key {
        let partner = attributed.as_ref().ok().map(|p| p.key.as_str());
        paid(app, &program, customer, partner).await?;
    }
    let partner = match attributed {
        Ok(partner) => partner,
        Err(reason) => {
            app.repo
                .modify_from::<Transaction, AppError>(slug, read, |tx| {
                    if tx.status != TransactionStatus::Recorded {
                        return Ok(false);
                    }
                    tx.status = TransactionStatus::Unassigned;
                    tx.unassigned_reason = Some(reason);
                    Ok(true)
                })
                .await?;
            return Ok(());
        }
    };
    // The partner lists their postbacks: none to read when they have none.
    subscriptions.know(app, slug, &partner).await?;
    let partner_key = Some(partner.key.clone());
    let now = app.now();
    let decided = rewards_for(app, &program, transaction, partner).await?;
    for draft in decided.drafts {
        let reward = Reward {
            key: Reward::key_for(key, draft.level),
            source: RewardSource::Transaction,
            transaction_key: Some(key.to_string()),
            action_key: None,
            customer_key: transaction.customer_key.clone(),
            partner_key: draft.partner_key,
            level: draft.level,
            percent: draft.percent,
            flat: draft.flat,
            rule: draft.rule,
            base: draft.base,
            base_amount: Some(draft.base_amount),
            description: draft.description,
            amount: draft.amount,
            currency: transaction.amounts.currency,
            reward_status: RewardStatus::Pending,
            payment_status: PaymentStatus::Pending,
            payment_date: None,
            payout_id: None,
            reverses: None,
            status_reason: None,
            created_at: now,
            updated_at: now,
        };
        // A redelivered job finds its rewards already written; its events are deduped by id.
        record_reward_for(
            app,
            &program,
            reward,
            decided.holding_days,
            &mut subscriptions,
        )
        .await?;
    }
    // From the version read above: a refund that landed since is read again before the mark.
    let after = app
        .repo
        .modify_from::<Transaction, AppError>(slug, read, |tx| {
            if tx.status != TransactionStatus::Recorded {
                return Ok(false);
            }
            tx.status = TransactionStatus::Commissioned;
            tx.partner_key = partner_key.clone();
            tx.unassigned_reason = None;
            Ok(true)
        })
        .await?;
    // A refund that landed while the rewards were written must still reach them.
    if let Some(after) = after {
        if let Some(partner) = after
            .partner_key
            .as_deref()
            .filter(|_| after.status == TransactionStatus::Commissioned)
        {
            subscriptions
                .emit(app, &program, partner, Event::TransactionCreated(&after))
                .await?;
        }
        // Also rewards an earlier, failed try wrote from an older look at the transaction.
        if after.status == TransactionStatus::Refunded || !after.amounts.refunded.is_zero() {
            settle_rewards(app, &program, key).await?;
        }
    }
    Ok(())
}
