//! The actions in a history: each partner's signup, sent twice under faults, must end as one
//! action with one reward of the plan's amount, where its lifecycle has taken it.

use crate::lifecycle::lives;
use crate::requests::{action_key, PROGRAM, SIGNUP_REWARD};
use crate::scenario::Scenario;
use partnerhook::app::App;
use partnerhook::domain::action::Action;
use partnerhook::domain::money::Currency;
use partnerhook::domain::reward::{Reward, RewardSource};
use partnerhook::repo::keys;

/// Each partner's signup: one action, one live reward of the plan's amount, whatever
/// failed and was retried on the way. The rewards found, whose announcements are checked with
/// the others'.
pub async fn check_actions(
    app: &App,
    scenario: &Scenario,
    problems: &mut Vec<String>,
) -> Result<Vec<Reward>, String> {
    let mut found = Vec::new();
    let repo = &app.repo;
    let currency = Currency::parse(scenario.currency).map_err(|e| e.to_string())?;
    for (p, partner) in scenario
        .partners
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.late)
    {
        let key = Action::key_for(&action_key(p));
        let action = repo
            .find::<Action>(PROGRAM, &key)
            .await
            .map_err(|e| e.to_string())?;
        if action.as_ref().map(|a| (a.partner_key.as_str(), a.value)) != Some((&partner.key, 1)) {
            problems.push(format!("{}: signup {action:?}", partner.key));
        }
        let reward = repo
            .get_at::<Reward>(keys::action_reward(PROGRAM, &key, 1))
            .await
            .map_err(|e| e.to_string())?
            .map(|v| v.value);
        let fine = reward.as_ref().is_some_and(|r| {
            r.amount == currency.from_minor(SIGNUP_REWARD)
                && r.source == RewardSource::Action
                && lives(r, scenario.holding_days)
                && r.partner_key == partner.key
        });
        if !fine {
            problems.push(format!("{}: signup reward {reward:?}", partner.key));
        }
        found.extend(reward);
    }
    Ok(found)
}
