//! A reward's lifecycle as use cases: written with its holding period, approved by the
//! sweeper once that period is over, and reviewed by an admin (hold, approve, decline). Every
//! change is announced with `reward.updated`, whose id derives from the reward's state, so a
//! repeat or a retry announces nothing twice.

use crate::app::App;
use crate::domain::event::Event;
use crate::domain::lifecycle::{self, Review};
use crate::domain::program::Program;
use crate::domain::reward::{Reward, RewardStatus};
use crate::error::AppError;
use crate::repo::codec::RewardDue;
use crate::repo::core::Inserted;
use crate::repo::keys;
use crate::usecases::postbacks::emit::{emit, Subscriptions};

/// Writes a new reward (started on `holding_days`, its plan's) or finds the one a retry wrote
/// first, and announces it; returns the reward as stored.
pub async fn record_reward(
    app: &App,
    program: &Program,
    reward: Reward,
    holding_days: u32,
) -> Result<Reward, AppError> {
    let mut subscriptions = Subscriptions::default();
    record_reward_for(app, program, reward, holding_days, &mut subscriptions).await
}

/// [`record_reward`] within a job that emits more events (`subscriptions`: the postbacks it has
/// read so far).
pub async fn record_reward_for(
    app: &App,
    program: &Program,
    mut reward: Reward,
    holding_days: u32,
    subscriptions: &mut Subscriptions,
) -> Result<Reward, AppError> {
    lifecycle::start(&mut reward, holding_days);
    let reward = match app.repo.insert_reward(&program.slug, &reward).await? {
        Inserted::Created => reward,
        Inserted::Exists(existing) => existing.value,
    };
    subscriptions
        .emit(
            app,
            program,
            &reward.partner_key,
            Event::RewardCreated(&reward),
        )
        .await?;
    Ok(reward)
}

/// Announces a reward's change: also after a repeat, which finds the change a failed try made
/// and may not have announced (the event id is the same, so it is delivered once).
async fn announce(
    app: &App,
    program: &Program,
    reward: &Reward,
    changed: bool,
) -> Result<(), AppError> {
    if changed || reward.updated_at != reward.created_at {
        emit(
            app,
            program,
            &reward.partner_key,
            Event::RewardUpdated(reward),
        )
        .await?;
    }
    Ok(())
}

/// An admin's review of a reward: 404 for an unknown key, 409 for a transition its status
/// forbids; a repeat answers the same and announces nothing new.
pub async fn review(
    app: &App,
    program: &Program,
    key: &str,
    review: Review,
) -> Result<Reward, AppError> {
    let slug = program.slug.as_str();
    let found = app
        .repo
        .find_reward(slug, key)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no reward has the key {key:?}")))?;
    let now = app.now();
    let mut changed = false;
    let reward = app
        .repo
        .modify_from::<Reward, AppError>(slug, found, |r| {
            changed = lifecycle::review(r, &review, now)
                .map_err(|e| AppError::InvalidTransition(e.to_string()))?;
            Ok(changed)
        })
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no reward has the key {key:?}")))?;
    if reward.reward_status != RewardStatus::Pending {
        app.repo.delete_reward_due(slug, &reward).await?;
    }
    announce(app, program, &reward, changed).await?;
    Ok(reward)
}

/// Holds a transaction's unpaid rewards for `reason` (a dispute), read consistently; a reward
/// held already keeps its own hold. Returns how many it holds now.
pub async fn hold_rewards_of(
    app: &App,
    program: &Program,
    transaction_key: &str,
    reason: &str,
) -> Result<usize, AppError> {
    let slug = program.slug.as_str();
    let mut held = 0;
    for found in app
        .repo
        .rewards_of_transaction(slug, transaction_key)
        .await?
    {
        let mut changed = false;
        let Some(reward) = app
            .repo
            .modify_from::<Reward, AppError>(slug, found, |r| {
                changed = lifecycle::hold_for(r, reason);
                Ok(changed)
            })
            .await?
        else {
            continue;
        };
        if reward.reward_status == RewardStatus::Hold
            && reward.status_reason.as_deref() == Some(reason)
        {
            held += 1;
            app.repo.delete_reward_due(slug, &reward).await?;
            announce(app, program, &reward, changed).await?;
        }
    }
    Ok(held)
}

/// Releases the holds [`hold_rewards_of`] placed for `reason`, and no other: each reward
/// resumes its holding period (its entry in the listing by payment date written first), or
/// is approved when that period is over. Returns how many it released.
pub async fn release_rewards_of(
    app: &App,
    program: &Program,
    transaction_key: &str,
    reason: &str,
) -> Result<usize, AppError> {
    let slug = program.slug.as_str();
    let now = app.now();
    let mut released = 0;
    for found in app
        .repo
        .rewards_of_transaction(slug, transaction_key)
        .await?
    {
        let held = found.value.reward_status == RewardStatus::Hold
            && found.value.status_reason.as_deref() == Some(reason);
        if !held {
            continue;
        }
        if lifecycle::resumes_pending(&found.value, now) {
            app.repo.insert_reward_due(slug, &found.value).await?;
        }
        let mut changed = false;
        let Some(reward) = app
            .repo
            .modify_from::<Reward, AppError>(slug, found, |r| {
                changed = lifecycle::release(r, reason, now);
                Ok(changed)
            })
            .await?
        else {
            continue;
        };
        released += usize::from(changed);
        if changed {
            announce(app, program, &reward, changed).await?;
        }
    }
    Ok(released)
}

/// Approves the program's pending rewards whose holding period is over, reading only the
/// listing by payment date up to now. Each entry is re-read consistently before it decides,
/// and dropped once its reward left `pending` (after the change was announced). Returns how
/// many rewards it approved.
pub async fn approve_due(app: &App, program: &Program) -> Result<usize, AppError> {
    let slug = program.slug.as_str();
    let now = app.now();
    let mut approved = 0;
    let mut cursor = None;
    loop {
        let page = app
            .repo
            .list::<RewardDue>(keys::rewards_due(slug), 100, cursor.as_deref(), false)
            .await?;
        let mut reached_future = false;
        for due in &page.items {
            if due.payment_date > now {
                reached_future = true;
                break;
            }
            let Some(found) = app
                .repo
                .get_at::<Reward>((due.pk.clone(), due.sk.clone()))
                .await?
            else {
                // Its reward is still being written (the entry comes first): next time.
                continue;
            };
            let mut changed = false;
            let reward = app
                .repo
                .modify_from::<Reward, AppError>(slug, found, |r| {
                    changed = lifecycle::mature(r, now);
                    Ok(changed)
                })
                .await?;
            let Some(reward) = reward else { continue };
            if reward.reward_status == RewardStatus::Pending {
                // Its payment date moved on: a later pass takes it.
                continue;
            }
            approved += usize::from(changed);
            announce(app, program, &reward, changed).await?;
            app.repo.delete_reward_due(slug, &reward).await?;
        }
        match page.next_cursor {
            Some(next) if !reached_future => cursor = Some(next),
            _ => return Ok(approved),
        }
    }
}
