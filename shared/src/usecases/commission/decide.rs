//! Which plan a sale follows and what it decides: the attributed partner's group plan, else the
//! program's; the sale counted once among the partner's sales this month (when the plan has
//! tiers) and its customer's payments (when it has a duration); then the rewards up the
//! referral chain, which follow the seller's plan at every level.

use crate::app::App;
use crate::domain::counter::Counter;
use crate::domain::group::Group;
use crate::domain::partner::Partner;
use crate::domain::plan::rules::month_of;
use crate::domain::plan::{sale_date, CommissionPlan, RewardDraft, Sale};
use crate::domain::program::Program;
use crate::domain::transaction::Transaction;
use crate::error::AppError;
use crate::usecases::commission::attribution::referral_chain;

/// The plan `partner`'s sales follow: their group's, else the program's (also when the group
/// was deleted under them).
pub async fn plan_of(
    app: &App,
    program: &Program,
    partner: &Partner,
) -> Result<CommissionPlan, AppError> {
    if let Some(key) = &partner.group_key {
        if let Some(group) = app.repo.find::<Group>(&program.slug, key).await? {
            return Ok(group.plan);
        }
    }
    Ok(program.plan.clone())
}

/// What a sale earns under the seller's plan: its rewards, and how long they are held.
pub struct Decided {
    pub drafts: Vec<RewardDraft>,
    pub holding_days: u32,
}

/// The rewards `tx`, attributed to `partner`, earns. Counting is idempotent per transaction,
/// so a retried job decides as the first try did.
pub async fn rewards_for(
    app: &App,
    program: &Program,
    tx: &Transaction,
    partner: Partner,
) -> Result<Decided, AppError> {
    let slug = program.slug.as_str();
    let plan = plan_of(app, program, &partner).await?;
    let date = sale_date(tx);
    // Counting costs a read and a write per counter, so a sale is counted only where its plan
    // decides by the count: the partner's month for tiers, the customer's payments for a
    // duration. Sales made under a plan without them are not counted.
    let month_sales = if plan.tiers.is_empty() {
        0
    } else {
        let month = Counter::for_partner_month(&partner.key, &month_of(date));
        app.repo
            .count_once(slug, &month, &tx.key, date)
            .await?
            .0
            .ordinal
    };
    let customer = match tx
        .customer_key
        .as_deref()
        .filter(|_| plan.duration.is_some())
    {
        Some(customer) => {
            let id = Counter::for_customer(customer);
            let (counted, first_at) = app.repo.count_once(slug, &id, &tx.key, date).await?;
            Some((counted.ordinal, first_at))
        }
        None => None,
    };
    let sale = Sale::of(tx, month_sales, customer);
    let Some(decision) = plan.decide(&sale, program.currency) else {
        tracing::info!(
            program = slug,
            transaction = %tx.key,
            "the customer is past the plan's duration: no rewards"
        );
        return Ok(Decided {
            drafts: Vec::new(),
            holding_days: plan.holding_days,
        });
    };
    let chain = referral_chain(app, slug, partner, decision.payout.len()).await?;
    Ok(Decided {
        drafts: decision.rewards(&tx.amounts, &chain),
        holding_days: plan.holding_days,
    })
}
