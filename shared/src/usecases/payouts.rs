//! Payouts (`POST /v1/payouts`): a partner's approved rewards and unpaid clawbacks in one
//! currency, paid at once. Crash-safe and safe beside a concurrent payout:
//!
//! 1. the payout is written `open` under an id derived from the `Idempotency-Key`, before any
//!    reward is touched (a retry finds it and resumes);
//! 2. each reward is claimed by a conditional update (approved and in no payout → `paid` under
//!    this id), after an item naming it is written in the payout's partition: so every reward
//!    a payout holds can be found from the payout, and no reward is ever claimed twice;
//! 3. the payout is completed with the total of the rewards that carry its id, re-read; a
//!    version check makes the last completion see every claim before it.
//!
//! The sweeper completes payouts a crash left open.

use crate::app::App;
use crate::crypto::token::random_token;
use crate::domain::event::Event;
use crate::domain::lifecycle::{self, payable};
use crate::domain::money::Currency;
use crate::domain::partner::Partner;
use crate::domain::payout::{check_payout, payout_id, Payout, PayoutItem, PayoutStatus};
use crate::domain::program::Program;
use crate::domain::reward::Reward;
use crate::domain::time::Millis;
use crate::error::AppError;
use crate::repo::codec::{Entity, Versioned};
use crate::repo::core::Inserted;
use crate::repo::keys;
use crate::store::Query;
use crate::store::StoreError;
use crate::usecases::postbacks::emit::emit;
use rust_decimal::Decimal;
use serde::Deserialize;

/// The body of `POST /v1/payouts`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayoutRequest {
    pub partner_key: String,
    pub currency: String,
    /// Only these rewards (each must be payable), rather than all the partner's.
    pub reward_keys: Option<Vec<String>>,
}

/// Completions racing with claims or each other before one gives up (then a retry resumes).
const COMPLETE_ATTEMPTS: usize = 8;

/// Pays a partner's approved rewards in a currency; the payout and whether this request
/// created it. Refused (422) when there is nothing to pay, the total is negative or below
/// the program's `min_payout`.
pub async fn create_payout(
    app: &App,
    program: &Program,
    request: PayoutRequest,
    idempotency_key: Option<String>,
) -> Result<(Payout, bool), AppError> {
    let slug = program.slug.as_str();
    let currency = Currency::parse(&request.currency)
        .map_err(|e| AppError::invalid("currency", e.to_string()))?;
    let partner = &request.partner_key;
    if app.repo.find::<Partner>(slug, partner).await?.is_none() {
        return Err(AppError::invalid(
            "partner_key",
            format!("no partner has the key {partner:?}"),
        ));
    }
    let key = idempotency_key.unwrap_or_else(|| random_token("", 16));
    let id = payout_id(partner, currency, &key);
    if let Some(existing) = app.repo.find::<Payout>(slug, &id).await? {
        if existing.status == PayoutStatus::Completed {
            return Ok((existing, false));
        }
        // A try that died midway: claim what it meant to, then complete.
        let candidates = gather(app, slug, &id, partner, currency, &request.reward_keys).await?;
        claim_all(app, slug, &id, candidates).await?;
        return Ok((complete(app, program, &id).await?, false));
    }
    let candidates = gather(app, slug, &id, partner, currency, &request.reward_keys).await?;
    let values: Vec<Reward> = candidates.iter().map(|c| c.value.clone()).collect();
    check_payout(&values, currency, program.min_payout_of(currency)).map_err(|refusal| {
        AppError::PayoutRefused {
            code: refusal.code(),
            message: refusal.to_string(),
        }
    })?;
    let now = app.now();
    let payout = Payout {
        id: id.clone(),
        partner_key: partner.clone(),
        currency,
        status: PayoutStatus::Open,
        total: Decimal::ZERO,
        reward_count: 0,
        created_at: now,
        updated_at: now,
        completed_at: None,
    };
    let created = matches!(app.repo.insert(slug, &payout).await?, Inserted::Created);
    claim_all(app, slug, &id, candidates).await?;
    Ok((complete(app, program, &id).await?, created))
}

/// The partner's rewards this payout may take, read consistently: payable ones, and those it
/// holds already (a resumed try). The listing only proposes; the consistent read decides.
async fn gather(
    app: &App,
    slug: &str,
    id: &str,
    partner: &str,
    currency: Currency,
    only: &Option<Vec<String>>,
) -> Result<Vec<Versioned<Reward>>, AppError> {
    let mut found = Vec::new();
    let ours = |r: &Reward| r.payout_id.as_deref() == Some(id);
    let wanted = |r: &Reward| {
        r.currency == currency && only.as_ref().is_none_or(|keys| keys.contains(&r.key))
    };
    let listed = rewards_of_partner(app, slug, partner).await?;
    for listed in listed.iter().filter(|r| wanted(r)) {
        let Some(current) = app.repo.get_at::<Reward>(listed.location(slug)).await? else {
            continue;
        };
        if payable(&current.value) || ours(&current.value) {
            found.push(current);
        }
    }
    if let Some(keys) = only {
        if let Some(missing) = keys
            .iter()
            .find(|k| !found.iter().any(|r| &r.value.key == *k))
        {
            return Err(AppError::invalid(
                "reward_keys",
                format!(
                    "{missing:?} is not an approved, unpaid reward of this partner in {currency}"
                ),
            ));
        }
    }
    Ok(found)
}

/// Claims the candidates: earnings first, then clawbacks while the running total stays
/// positive (a concurrent payout may have taken earnings meanwhile). Each claim is preceded
/// by the item naming it, so a crash never hides a claimed reward from its payout.
async fn claim_all(
    app: &App,
    slug: &str,
    id: &str,
    mut candidates: Vec<Versioned<Reward>>,
) -> Result<(), AppError> {
    candidates.sort_by_key(|c| std::cmp::Reverse(c.value.amount));
    let mut total = Decimal::ZERO;
    for candidate in candidates {
        let (pk, sk) = candidate.value.location(slug);
        let item = PayoutItem {
            payout_id: id.to_string(),
            reward_key: candidate.value.key.clone(),
            pk,
            sk,
        };
        app.repo.insert(slug, &item).await?;
        let claimed = app
            .repo
            .modify_from::<Reward, AppError>(slug, candidate, |r| {
                if r.payout_id.is_none() && total + r.amount <= Decimal::ZERO {
                    return Ok(false);
                }
                Ok(lifecycle::claim(r, id).unwrap_or(false))
            })
            .await?;
        if let Some(reward) = claimed.filter(|r| r.payout_id.as_deref() == Some(id)) {
            total += reward.amount;
        }
    }
    Ok(())
}

/// The rewards that carry the payout's id, found through its items and read consistently.
pub async fn rewards_of_payout(app: &App, slug: &str, id: &str) -> Result<Vec<Reward>, AppError> {
    let mut rewards = Vec::new();
    for item in app.repo.payout_items(slug, id).await? {
        if let Some(found) = app.repo.get_at::<Reward>((item.pk, item.sk)).await? {
            if found.value.payout_id.as_deref() == Some(id) {
                rewards.push(found.value);
            }
        }
    }
    rewards.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(rewards)
}

/// Completes a payout with the total of the rewards that carry its id, after announcing
/// each. Re-run after a claim it missed, the version check makes it see that claim.
pub async fn complete(app: &App, program: &Program, id: &str) -> Result<Payout, AppError> {
    let slug = program.slug.as_str();
    for _ in 0..COMPLETE_ATTEMPTS {
        let Some(mut current) = app.repo.get::<Payout>(slug, id).await? else {
            return Err(AppError::NotFound(format!("no payout has the id {id:?}")));
        };
        let rewards = rewards_of_payout(app, slug, id).await?;
        for reward in &rewards {
            emit(
                app,
                program,
                &reward.partner_key,
                Event::RewardUpdated(reward),
            )
            .await?;
        }
        let total: Decimal = rewards.iter().map(|r| r.amount).sum();
        let payout = &mut current.value;
        if payout.status == PayoutStatus::Completed
            && payout.total == total
            && payout.reward_count == rewards.len()
        {
            return Ok(current.value);
        }
        let now = app.now();
        payout.status = PayoutStatus::Completed;
        payout.total = total;
        payout.reward_count = rewards.len();
        payout.completed_at = Some(payout.completed_at.unwrap_or(now));
        payout.updated_at = now;
        match app.repo.update(slug, &current).await {
            Ok(()) => return Ok(current.value),
            Err(StoreError::VersionConflict { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    let (pk, sk) = keys::payout(slug, id);
    Err(StoreError::VersionConflict { pk, sk }.into())
}

/// Completes the program's payouts left open for longer than `grace` (a crash midway);
/// how many.
pub async fn complete_open(app: &App, program: &Program, grace: Millis) -> Result<usize, AppError> {
    let slug = program.slug.as_str();
    let cutoff = app.now() - grace;
    let page = app
        .repo
        .list::<Payout>(keys::open_payouts(slug), 100, None, false)
        .await?;
    let mut completed = 0;
    for payout in page.items.iter().filter(|p| p.created_at <= cutoff) {
        complete(app, program, &payout.id).await?;
        completed += 1;
    }
    Ok(completed)
}

/// Every reward of a partner (clawbacks included), from the listing: for balances, which
/// show and decide nothing, and for payouts, which decide on a consistent read of each.
pub async fn rewards_of_partner(
    app: &App,
    slug: &str,
    partner: &str,
) -> Result<Vec<Reward>, AppError> {
    Ok(app
        .repo
        .all::<Reward>(Query::Index {
            pk: keys::rewards_of_partner(slug, partner),
        })
        .await?)
}
