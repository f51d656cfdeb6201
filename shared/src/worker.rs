//! The commission worker: attributes a recorded transaction to a partner, walks the referral
//! chain, and writes the plan's rewards. Idempotent: rewards have deterministic keys and are
//! written with a condition, and a transaction that is no longer `recorded` gets no new
//! rewards (the job only finishes what a failed try may have left).

use crate::app::App;
use crate::customers;
use crate::domain::{
    now_millis, Partner, Reward, RewardStatus, Transaction, TransactionStatus, UnassignedReason,
};
use crate::error::AppError;
use crate::ledger::{settle_rewards, update_transaction};
use crate::postback::{emit, Event};
use crate::queue::Job;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use std::collections::HashSet;

pub async fn process_job(app: &App, job: &Job) -> Result<(), AppError> {
    match job {
        Job::Commission {
            program,
            transaction_key,
        } => commission(app, program, transaction_key).await,
        Job::Deliver {
            program,
            delivery_id,
            attempt,
        } => crate::postback::deliver::process(app, program, delivery_id, *attempt).await,
    }
}

/// Runs a worker function on Lambda: SQS batches in, partial batch failures out.
pub async fn serve_sqs(app: App) -> Result<(), lambda_http::Error> {
    let handler = lambda_http::service_fn(move |event: lambda_http::LambdaEvent<SqsEvent>| {
        let app = app.clone();
        async move { Ok::<_, lambda_http::Error>(handle_sqs_batch(&app, event.payload).await) }
    });
    lambda_http::lambda_runtime::run(handler).await
}

/// Processes an SQS batch, its messages concurrently, and reports the ones that failed, so
/// only those come back.
pub async fn handle_sqs_batch(app: &App, event: SqsEvent) -> SqsBatchResponse {
    let outcomes = futures::future::join_all(event.records.into_iter().map(|record| async move {
        let id = record.message_id.clone().unwrap_or_default();
        let job = record.body.as_deref().map(serde_json::from_str::<Job>);
        match job {
            Some(Ok(job)) => match process_job(app, &job).await {
                Ok(()) => None,
                Err(e) => {
                    tracing::error!(message_id = %id, error = %e, ?job, "job failed; SQS will redeliver it");
                    Some(id)
                }
            },
            // A message no worker can ever read must not be retried until it dead-letters.
            Some(Err(e)) => {
                tracing::error!(message_id = %id, error = %e, "unreadable job dropped");
                None
            }
            None => {
                tracing::error!(message_id = %id, "job without a body dropped");
                None
            }
        }
    }))
    .await;
    let mut response = SqsBatchResponse::default();
    for failed in outcomes.into_iter().flatten() {
        response.add_failure(failed);
    }
    response
}

async fn commission(app: &App, program: &str, key: &str) -> Result<(), AppError> {
    let Some(program) = app.repo.get_program(program).await?.map(|v| v.value) else {
        tracing::warn!(
            program,
            transaction = key,
            "commission job for an unknown program"
        );
        return Ok(());
    };
    let slug = program.slug.as_str();
    let Some(transaction) = app.repo.get_transaction(slug, key).await?.map(|v| v.value) else {
        tracing::warn!(
            program = slug,
            transaction = key,
            "commission job for an unknown transaction"
        );
        return Ok(());
    };
    if transaction.status != TransactionStatus::Recorded {
        // Done before. This may be the retry of a run that failed after marking it, so finish
        // what follows that mark; each step is idempotent.
        if let Some(partner) = transaction
            .partner_key
            .as_deref()
            .filter(|_| transaction.status == TransactionStatus::Commissioned)
        {
            emit(app, slug, partner, Event::TransactionCreated(&transaction)).await?;
        }
        return settle_rewards(app, slug, &transaction).await;
    }
    let attributed = attribute(app, slug, &transaction).await?;
    if let Some(customer) = &transaction.customer_key {
        let partner = attributed.as_ref().ok().map(|p| p.key.as_str());
        customers::paid(app, slug, customer, partner).await?;
    }
    let partner = match attributed {
        Ok(partner) => partner,
        Err(reason) => {
            update_transaction(app, slug, key, |tx| {
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
    let chain = referral_chain(app, slug, partner, program.plan.levels.len()).await?;
    let now = now_millis();
    for draft in program.plan.rewards(&transaction.amounts, &chain) {
        let reward = Reward {
            key: Reward::key_for(key, draft.level),
            transaction_key: key.to_string(),
            customer_key: transaction.customer_key.clone(),
            partner_key: draft.partner_key,
            level: draft.level,
            percent: draft.percent,
            amount: draft.amount,
            currency: transaction.amounts.currency,
            reward_status: RewardStatus::Pending,
            created_at: now,
            updated_at: now,
        };
        // A redelivered job finds its rewards already written; its events are deduped by id.
        app.repo.insert(slug, &reward).await?;
        emit(
            app,
            slug,
            &reward.partner_key,
            Event::RewardCreated(&reward),
        )
        .await?;
    }
    let partner_key = chain.first().cloned();
    let after = update_transaction(app, slug, key, |tx| {
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
            emit(app, slug, partner, Event::TransactionCreated(&after)).await?;
        }
        if after.status == TransactionStatus::Refunded
            || after.amounts.refunded != transaction.amounts.refunded
        {
            settle_rewards(app, slug, &after).await?;
        }
    }
    Ok(())
}

/// The partner a transaction belongs to: one assigned by an admin, else the one the sender
/// named by its `id` (or key), else (payment providers) the customer's partner.
async fn attribute(
    app: &App,
    program: &str,
    transaction: &Transaction,
) -> Result<Result<Partner, UnassignedReason>, AppError> {
    if let Some(key) = &transaction.partner_key {
        return Ok(app
            .repo
            .get_partner(program, key)
            .await?
            .ok_or(UnassignedReason::UnknownPartnerId));
    }
    let Some(reference) = &transaction.partner_ref else {
        if !transaction.by_customer {
            return Ok(Err(UnassignedReason::NoPartnerId));
        }
        let customer = match &transaction.customer_key {
            Some(key) => app.repo.get_customer(program, key).await?,
            None => None,
        };
        let partner = match customer.and_then(|c| c.partner_key) {
            Some(key) => app.repo.get_partner(program, &key).await?,
            None => None,
        };
        return Ok(partner.ok_or(UnassignedReason::CustomerWithoutPartner));
    };
    if let Some(partner) = app.repo.find_partner_by_id(program, reference).await? {
        return Ok(Ok(partner));
    }
    Ok(app
        .repo
        .get_partner(program, reference)
        .await?
        .ok_or(UnassignedReason::UnknownPartnerId))
}

/// The partner, their referrer, and so on, up to `levels` long; a cycle ends the chain.
async fn referral_chain(
    app: &App,
    program: &str,
    partner: Partner,
    levels: usize,
) -> Result<Vec<String>, AppError> {
    let mut chain = vec![partner.key.clone()];
    let mut seen: HashSet<String> = chain.iter().cloned().collect();
    let mut next = partner.referring_partner_key;
    while chain.len() < levels {
        let Some(key) = next.take() else { break };
        if !seen.insert(key.clone()) {
            break;
        }
        let Some(referrer) = app.repo.get_partner(program, &key).await? else {
            break;
        };
        chain.push(referrer.key);
        next = referrer.referring_partner_key;
    }
    Ok(chain)
}
