//! The reward lifecycle once a history has quiesced: each reward where its status may be
//! (pending only with a holding period, paid only inside a payout), each reward paid at most
//! once, every payout completed with the total of its rewards, and each partner's balance
//! adding up to what the model says it earned, with what it was paid equal to its payouts.

use crate::check::listed;
use crate::driver::Sim;
use crate::model::expected;
use crate::requests::{PROGRAM, SIGNUP_REWARD};
use partnerhook::domain::balance::balances;
use partnerhook::domain::money::Currency;
use partnerhook::domain::payout::{Payout, PayoutStatus};
use partnerhook::domain::reward::{PaymentStatus, Reward, RewardStatus};
use partnerhook::repo::keys;
use partnerhook::usecases::payouts::rewards_of_payout;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// Whether a reward not refunded away is in a state its lifecycle allows: pending only with a
/// holding period, approved and available, or paid and withdrawn under a payout.
pub fn lives(r: &Reward, holding_days: u32) -> bool {
    match r.reward_status {
        RewardStatus::Pending => {
            holding_days > 0 && r.payment_status == PaymentStatus::Pending && r.payout_id.is_none()
        }
        RewardStatus::Approved => {
            r.payment_status == PaymentStatus::Available && r.payout_id.is_none()
        }
        RewardStatus::Paid => r.payment_status == PaymentStatus::Withdrawn && r.payout_id.is_some(),
        RewardStatus::Hold | RewardStatus::Declined => false,
    }
}

/// What each partner earned by the model, per currency: its sales' rewards after refunds, and
/// its signup's.
fn earned(sim: &Sim) -> BTreeMap<(String, String), Decimal> {
    let scenario = &sim.scenario;
    let mut earned: BTreeMap<(String, String), Decimal> = BTreeMap::new();
    for sale in &scenario.sales {
        for reward in expected(scenario, sale).rewards {
            *earned
                .entry((reward.partner, sale.currency.to_string()))
                .or_default() += reward.amount;
        }
    }
    if let Ok(currency) = Currency::parse(scenario.currency) {
        for partner in scenario.partners.iter().filter(|p| !p.late) {
            *earned
                .entry((partner.key.clone(), scenario.currency.to_string()))
                .or_default() += currency.from_minor(SIGNUP_REWARD);
        }
    }
    earned
}

/// The check; how many payouts paid something.
pub async fn check_payouts(sim: &Sim, problems: &mut Vec<String>) -> Result<usize, String> {
    let mut paying = 0;
    let app = &sim.app;
    let open: Vec<Payout> = listed(sim, keys::open_payouts(PROGRAM)).await?;
    for payout in &open {
        problems.push(format!("payout {} left open", payout.id));
    }
    let earned = earned(sim);
    // Which payout paid each reward.
    let mut paid_by: BTreeMap<String, String> = BTreeMap::new();
    for partner in &sim.scenario.partners {
        let payouts: Vec<Payout> =
            listed(sim, keys::payouts_of_partner(PROGRAM, &partner.key)).await?;
        let mut paid_out: BTreeMap<String, Decimal> = BTreeMap::new();
        for payout in &payouts {
            let rewards = rewards_of_payout(app, PROGRAM, &payout.id).await;
            let rewards = rewards.map_err(|e| e.to_string())?;
            let total: Decimal = rewards.iter().map(|r| r.amount).sum();
            if payout.status != PayoutStatus::Completed
                || payout.total != total
                || payout.reward_count != rewards.len()
                || total.is_sign_negative() && !total.is_zero()
            {
                problems.push(format!(
                    "payout {} of {}: {:?} {} for {} rewards worth {total}",
                    payout.id,
                    partner.key,
                    payout.status,
                    payout.total,
                    rewards.len()
                ));
            }
            for reward in &rewards {
                if reward.partner_key != partner.key || reward.currency != payout.currency {
                    problems.push(format!("payout {} paid {reward:?}", payout.id));
                }
                if let Some(other) = paid_by.insert(reward.key.clone(), payout.id.clone()) {
                    problems.push(format!("{} paid by {other} and {}", reward.key, payout.id));
                }
            }
            *paid_out
                .entry(payout.currency.code().to_string())
                .or_default() += total;
            paying += usize::from(!rewards.is_empty());
        }
        let rewards: Vec<Reward> =
            listed(sim, keys::rewards_of_partner(PROGRAM, &partner.key)).await?;
        for reward in rewards
            .iter()
            .filter(|r| r.reward_status == RewardStatus::Paid)
        {
            if paid_by.get(&reward.key) != reward.payout_id.as_ref() {
                problems.push(format!(
                    "{} is paid by {:?} but no payout of that id holds it",
                    reward.key, reward.payout_id
                ));
            }
        }
        let mut codes: Vec<String> = balances(&rewards).into_keys().collect();
        codes.extend(
            earned
                .keys()
                .filter(|(p, _)| *p == partner.key)
                .map(|(_, c)| c.clone()),
        );
        codes.sort();
        codes.dedup();
        let all = balances(&rewards);
        for code in codes {
            let b = all.get(&code).cloned().unwrap_or_default();
            let held = b.pending + b.on_hold + b.approved + b.paid;
            let want = earned
                .get(&(partner.key.clone(), code.clone()))
                .copied()
                .unwrap_or_default();
            let payouts_total = paid_out.get(&code).copied().unwrap_or_default();
            if held != want || b.paid != payouts_total || !b.on_hold.is_zero() {
                problems.push(format!(
                    "{} in {code}: balance {b:?} (worth {held}, payouts {payouts_total}), earned {want}",
                    partner.key
                ));
            }
        }
    }
    Ok(paying)
}
