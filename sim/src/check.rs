//! What must hold once a history has quiesced: each sale's transaction and rewards as the model
//! has them, one record per intended create, no customer refund left unplaced, and every
//! partner told of each reward and commissioned transaction exactly once.

use crate::actions::check_actions;
use crate::driver::Sim;
use crate::lifecycle::{check_payouts, lives};
use crate::model::expected;
use crate::requests::PROGRAM;
use crate::scenario::{Channel, Refund, Sale};
use partnerhook::domain::customer::Customer;
use partnerhook::domain::partner::Partner;
use partnerhook::domain::postback::Delivery;
use partnerhook::domain::reward::{Reward, RewardStatus};
use partnerhook::domain::transaction::{Transaction, TransactionStatus};
use partnerhook::repo::keys;
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;

type Problems = Vec<String>;

pub async fn listed<T: DeserializeOwned>(sim: &Sim, index: String) -> Result<Vec<T>, String> {
    let listing = sim.app.repo.list::<T>(index, 1_000, None, false).await;
    Ok(listing.map_err(|e| e.to_string())?.items)
}

fn describe(rewards: impl Iterator<Item = (u8, String, String, String)>) -> Vec<String> {
    rewards
        .map(|(level, partner, amount, status)| format!("L{level} {partner} {amount} {status}"))
        .collect()
}

/// The Recurly refunds a sale's transaction must name: each on the one payment it fits.
fn recurly_refund_ids(sale: &Sale) -> Vec<String> {
    if !matches!(sale.channel, Channel::Recurly { .. }) {
        return vec![];
    }
    let mut ids: Vec<String> = (sale.refunds.iter())
        .filter_map(|r| match r {
            Refund::Part { id, .. } => Some(format!("{}-{id}", sale.key)),
            _ => None,
        })
        .collect();
    ids.sort();
    ids
}

/// One sale against the model (a paid reward by what it is worth less its clawbacks); its
/// rewards and clawbacks as stored, for the deliveries' check.
async fn check_sale(
    sim: &Sim,
    sale: &Sale,
    problems: &mut Problems,
) -> Result<Vec<Reward>, String> {
    let repo = &sim.app.repo;
    let want = expected(&sim.scenario, sale);
    let found = repo.find::<Transaction>(PROGRAM, &sale.key).await;
    let Some(tx) = found.map_err(|e| e.to_string())? else {
        problems.push(format!("{}: no transaction", sale.key));
        return Ok(vec![]);
    };
    if tx.amounts.refunded != want.refunded {
        let (got, wanted) = (tx.amounts.refunded, want.refunded);
        problems.push(format!(
            "{}: refunded {got} where {wanted} was refunded",
            sale.key
        ));
    }
    let recurly = recurly_refund_ids(sale);
    if !recurly.is_empty() {
        let mut got = tx.refund_ids.clone();
        got.sort();
        if got != recurly {
            problems.push(format!(
                "{}: refunds {got:?}, expected {recurly:?}",
                sale.key
            ));
        }
    }
    let rewards = repo.rewards_of_transaction(PROGRAM, &sale.key).await;
    let rewards: Vec<Reward> = rewards
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|r| r.value)
        .collect();
    let clawbacks = repo.clawbacks_of_transaction(PROGRAM, &sale.key).await;
    let clawbacks = clawbacks.map_err(|e| e.to_string())?;
    // What a reward is worth now: a paid one less its clawbacks.
    let net = |r: &Reward| -> Decimal {
        let clawed: Decimal = (clawbacks.iter())
            .filter(|c| c.reverses.as_deref() == Some(r.key.as_str()))
            .map(|c| c.amount)
            .sum();
        r.amount + clawed
    };
    let holding = sim.scenario.holding_days;
    let mut found = rewards.clone();
    found.extend(clawbacks.iter().cloned());
    for clawback in &clawbacks {
        if !lives(clawback, 0) || clawback.amount >= Decimal::ZERO {
            problems.push(format!("{}: clawback {clawback:?}", sale.key));
        }
    }
    if want.fully_refunded {
        if tx.status != TransactionStatus::Refunded {
            problems.push(format!("{}: {:?}, not refunded", sale.key, tx.status));
        }
        for reward in rewards.iter().filter(|r| {
            let clawed_back = r.reward_status == RewardStatus::Paid && net(r).is_zero();
            r.reward_status != RewardStatus::Declined && !clawed_back
        }) {
            let (key, status, net) = (&reward.key, reward.reward_status, net(reward));
            problems.push(format!(
                "{}: reward {key} is {status:?} worth {net} after a full refund",
                sale.key
            ));
        }
        return Ok(found);
    }
    if tx.status != TransactionStatus::Commissioned
        || tx.partner_key.as_deref() != Some(want.partner.as_str())
    {
        let (status, partner) = (tx.status, &tx.partner_key);
        problems.push(format!(
            "{}: {status:?} for {partner:?}, not commissioned for {}",
            sale.key, want.partner
        ));
    }
    let got = describe(rewards.iter().map(|r| {
        let status = if lives(r, holding) {
            "live".to_string()
        } else {
            format!("{:?}/{:?}", r.reward_status, r.payment_status)
        };
        (
            r.level,
            r.partner_key.clone(),
            net(r).normalize().to_string(),
            status,
        )
    }));
    let wanted = describe(want.rewards.iter().map(|r| {
        (
            r.level,
            r.partner.clone(),
            r.amount.normalize().to_string(),
            "live".into(),
        )
    }));
    if got != wanted {
        problems.push(format!(
            "{}: rewards {got:?}, expected {wanted:?}",
            sale.key
        ));
    }
    Ok(found)
}

/// One record per intended create, however often its request was retried or repeated.
async fn check_records(sim: &Sim, problems: &mut Problems) -> Result<(), String> {
    let scenario = &sim.scenario;
    let mut transactions = 0;
    for status in ["recorded", "commissioned", "unassigned", "refunded"] {
        let index = keys::transactions_with_status(PROGRAM, status);
        transactions += listed::<Transaction>(sim, index).await?.len();
    }
    if transactions != scenario.sales.len() {
        problems.push(format!(
            "{transactions} transactions for {} sales",
            scenario.sales.len()
        ));
    }
    let customers: Vec<Customer> = listed(sim, keys::customers(PROGRAM)).await?;
    for spec in &scenario.customers {
        let records: Vec<&Customer> = customers.iter().filter(|c| c.key == spec.key).collect();
        let partner = &scenario.partners[spec.partner].key;
        if records.len() != 1 || records[0].partner_key.as_ref() != Some(partner) {
            let got: Vec<_> = records.iter().map(|c| &c.partner_key).collect();
            problems.push(format!(
                "customer {}: records for {got:?}, expected one for {partner}",
                spec.key
            ));
        }
        // A refund that names only its customer must have found its payment.
        let kept = sim.app.repo.customer_refunds(PROGRAM, &spec.key).await;
        let kept = kept.map_err(|e| e.to_string())?;
        if !kept.is_empty() {
            problems.push(format!(
                "customer {}: {} refunds never placed",
                spec.key,
                kept.len()
            ));
        }
    }
    let partners: Vec<Partner> = listed(sim, keys::partners(PROGRAM)).await?;
    if partners.len() != scenario.partners.len() {
        problems.push(format!(
            "{} partners for {}",
            partners.len(),
            scenario.partners.len()
        ));
    }
    for spec in &scenario.partners {
        let referrer = spec.referrer.map(|r| scenario.partners[r].key.clone());
        let records: Vec<&Partner> = partners.iter().filter(|p| p.key == spec.key).collect();
        if records.len() != 1 || records[0].referring_partner_key != referrer {
            let got: Vec<_> = records.iter().map(|p| &p.referring_partner_key).collect();
            problems.push(format!(
                "partner {}: records referred by {got:?}, expected one by {referrer:?}",
                spec.key
            ));
        }
    }
    Ok(())
}

/// Each partner hears of each of its rewards and commissioned transactions once: counts of the
/// stored deliveries by (event, record, partner).
async fn check_deliveries(
    sim: &Sim,
    rewards: &[Reward],
    transactions: &[Transaction],
    problems: &mut Problems,
) -> Result<(), String> {
    let mut heard: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    for partner in &sim.scenario.partners {
        let postbacks = sim
            .app
            .repo
            .postbacks_of_partner(PROGRAM, &partner.key)
            .await;
        for postback in postbacks.map_err(|e| e.to_string())? {
            let index = keys::deliveries_of_postback(PROGRAM, &postback.id);
            for delivery in listed::<Delivery>(sim, index).await? {
                let body: serde_json::Value =
                    serde_json::from_str(&delivery.body).map_err(|e| e.to_string())?;
                let data = &body["data"];
                if data["partnership_key"].as_str() != Some(partner.key.as_str()) {
                    problems.push(format!(
                        "{} heard of another partner's record: {data}",
                        partner.key
                    ));
                }
                let record = data["key"].as_str().unwrap_or_default().to_string();
                *heard
                    .entry((delivery.event, record, partner.key.clone()))
                    .or_default() += 1;
            }
        }
    }
    let mut expect = |event: &str, key: &str, partner: &str, at_most: bool| {
        let n = heard
            .remove(&(event.to_string(), key.to_string(), partner.to_string()))
            .unwrap_or(0);
        if n > 1 || (n == 0 && !at_most) {
            problems.push(format!("{partner} heard {event} of {key} {n} times"));
        }
    };
    for reward in rewards {
        expect("reward.created", &reward.key, &reward.partner_key, false);
    }
    for tx in transactions {
        if let Some(partner) = &tx.partner_key {
            // A sale refunded in full may have been refunded before its commission ran.
            let at_most = tx.status == TransactionStatus::Refunded;
            expect("transaction.created", &tx.key, partner, at_most);
        }
    }
    for ((event, key, partner), n) in heard {
        problems.push(format!(
            "{partner} heard {event} of {key} {n} times, expected none"
        ));
    }
    Ok(())
}

/// Problems found, or how many payouts paid something and how many clawbacks were written.
pub async fn check(sim: &Sim) -> Result<(usize, usize), String> {
    let mut problems = Vec::new();
    let mut rewards = Vec::new();
    let mut transactions = Vec::new();
    for sale in &sim.scenario.sales {
        rewards.extend(check_sale(sim, sale, &mut problems).await?);
        let found = sim.app.repo.find::<Transaction>(PROGRAM, &sale.key).await;
        transactions.extend(found.map_err(|e| e.to_string())?);
    }
    check_records(sim, &mut problems).await?;
    rewards.extend(check_actions(&sim.app, &sim.scenario, &mut problems).await?);
    check_deliveries(sim, &rewards, &transactions, &mut problems).await?;
    let payouts = check_payouts(sim, &mut problems).await?;
    let clawbacks = (rewards.iter())
        .filter(|r| r.source == partnerhook::domain::reward::RewardSource::Clawback)
        .count();
    if problems.is_empty() {
        Ok((payouts, clawbacks))
    } else {
        Err(problems.join("\n"))
    }
}
