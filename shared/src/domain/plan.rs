//! The commission plan: a pure function from (plan, transaction, partner chain) to rewards.

use crate::domain::lifecycle::MAX_HOLDING_DAYS;
use crate::domain::transaction::Amounts;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Most referral chains are short; the cap keeps a misconfigured plan from fanning out.
pub const MAX_LEVELS: usize = 10;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommissionPlan {
    /// Percent of the commissionable amount per tier level: `levels[0]` for the partner the
    /// transaction is attributed to, `levels[1]` for the partner who referred them, and so on.
    pub levels: Vec<Decimal>,
    /// A flat reward per action type, in minor units of the program's currency:
    /// `{"signup": 500}`. Plans from before actions have none.
    #[serde(default)]
    pub actions: BTreeMap<String, i64>,
    /// Days a new reward stays `pending` before the sweeper approves it (a guard against
    /// chargebacks); 0 approves it at once. Plans from before the lifecycle hold 30 days.
    #[serde(default = "default_holding_days")]
    pub holding_days: u32,
}

pub const DEFAULT_HOLDING_DAYS: u32 = 30;

fn default_holding_days() -> u32 {
    DEFAULT_HOLDING_DAYS
}

impl Default for CommissionPlan {
    fn default() -> Self {
        Self::with_levels(vec![Decimal::from(20)])
    }
}

/// Most programs reward a handful of action types; the cap keeps a plan record small.
pub const MAX_ACTION_REWARDS: usize = 50;
/// An action's flat reward, in minor units: as bounded as any amount that enters.
pub const MAX_ACTION_REWARD: i64 = 1_000_000_000_000;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    #[error("a plan needs between 1 and {MAX_LEVELS} levels")]
    LevelCount,
    #[error("level {0} must be a percentage between 0 and 100")]
    Percent(usize),
    #[error("the levels add up to {0} %: together they may pay out at most 100 % of a sale")]
    Total(Decimal),
    #[error("a plan rewards at most {MAX_ACTION_REWARDS} action types")]
    ActionCount,
    #[error("the reward for {0:?} must be an integer from 0 to {MAX_ACTION_REWARD} (minor units)")]
    ActionAmount(String),
    #[error("holding_days must be from 0 to {MAX_HOLDING_DAYS}")]
    HoldingDays,
}

/// A reward the plan grants, before it is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct RewardDraft {
    pub level: u8,
    pub percent: Decimal,
    pub partner_key: String,
    pub amount: Decimal,
}

impl CommissionPlan {
    pub fn with_levels(levels: Vec<Decimal>) -> Self {
        Self {
            levels,
            actions: BTreeMap::new(),
            holding_days: DEFAULT_HOLDING_DAYS,
        }
    }

    /// The flat reward for an action of type `kind`, in minor units; none when the plan has
    /// none or it is zero.
    pub fn action_reward(&self, kind: &str) -> Option<i64> {
        self.actions.get(kind).copied().filter(|amount| *amount > 0)
    }

    pub fn validate(&self) -> Result<(), PlanError> {
        if self.holding_days > MAX_HOLDING_DAYS {
            return Err(PlanError::HoldingDays);
        }
        if self.actions.len() > MAX_ACTION_REWARDS {
            return Err(PlanError::ActionCount);
        }
        if let Some((kind, _)) = self
            .actions
            .iter()
            .find(|(_, amount)| !(0..=MAX_ACTION_REWARD).contains(*amount))
        {
            return Err(PlanError::ActionAmount(kind.clone()));
        }
        if self.levels.is_empty() || self.levels.len() > MAX_LEVELS {
            return Err(PlanError::LevelCount);
        }
        let mut total = Decimal::ZERO;
        for (i, pct) in self.levels.iter().enumerate() {
            if pct.is_sign_negative() || *pct > Decimal::ONE_HUNDRED {
                return Err(PlanError::Percent(i + 1));
            }
            // At most ten levels of at most 100 each: the sum cannot overflow.
            total += *pct;
        }
        if total > Decimal::ONE_HUNDRED {
            return Err(PlanError::Total(total));
        }
        Ok(())
    }

    /// `chain[0]` is the attributed partner, `chain[1]` their referrer, and so on. Amounts are
    /// rounded to the currency's minor unit; levels that round to zero grant nothing.
    pub fn rewards(&self, amounts: &Amounts, chain: &[String]) -> Vec<RewardDraft> {
        self.levels
            .iter()
            .zip(chain)
            .enumerate()
            .filter_map(|(i, (pct, partner))| {
                let amount = reward_amount(amounts, *pct)?;
                let level = u8::try_from(i + 1).ok()?;
                (amount > Decimal::ZERO).then(|| RewardDraft {
                    level,
                    percent: *pct,
                    partner_key: partner.clone(),
                    amount,
                })
            })
            .collect()
    }
}

/// `percent` of the commissionable amount, rounded to the currency's minor unit. `None` past
/// `Decimal`'s range, which only a percentage over 100 of a record from before amounts were
/// bounded can reach: a valid percentage is a share of at most the whole.
pub fn reward_amount(amounts: &Amounts, percent: Decimal) -> Option<Decimal> {
    let share = percent.checked_div(Decimal::ONE_HUNDRED)?;
    let amount = amounts.commissionable().checked_mul(share)?;
    Some(amounts.currency.round(amount))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::money::Currency;
    use std::str::FromStr;

    fn amounts(currency: &str, gross: &str, net: Option<&str>) -> Amounts {
        Amounts {
            net: net.map(|n| Decimal::from_str(n).unwrap()),
            ..Amounts::new(
                Currency::parse(currency).unwrap(),
                Decimal::from_str(gross).unwrap(),
            )
        }
    }

    fn chain(keys: &[&str]) -> Vec<String> {
        keys.iter().map(|k| k.to_string()).collect()
    }

    #[test]
    fn default_plan_pays_twenty_percent_of_net_rounded_to_cents() {
        let drafts = CommissionPlan::default()
            .rewards(&amounts("EUR", "199.00", Some("167.23")), &chain(&["p1"]));
        assert_eq!(drafts.len(), 1);
        assert_eq!(drafts[0].amount.to_string(), "33.45");
        assert_eq!(drafts[0].level, 1);
        assert_eq!(drafts[0].partner_key, "p1");
    }

    #[test]
    fn gross_is_used_without_net_and_zero_decimal_currencies_round_to_units() {
        let drafts =
            CommissionPlan::default().rewards(&amounts("JPY", "1234", None), &chain(&["p1"]));
        assert_eq!(drafts[0].amount.to_string(), "247");
    }

    #[test]
    fn multi_level_plans_walk_the_chain_as_far_as_both_reach() {
        let plan = CommissionPlan::with_levels(vec![
            Decimal::from(20),
            Decimal::from(5),
            Decimal::from(1),
        ]);
        let drafts = plan.rewards(&amounts("USD", "100.00", None), &chain(&["a", "b"]));
        let got: Vec<_> = drafts
            .iter()
            .map(|d| (d.level, d.partner_key.as_str(), d.amount.to_string()))
            .collect();
        assert_eq!(got, vec![(1, "a", "20.00".into()), (2, "b", "5.00".into())]);
        assert!(plan
            .rewards(&amounts("USD", "100.00", None), &[])
            .is_empty());
    }

    #[test]
    fn rewards_that_round_to_nothing_are_not_granted() {
        let drafts =
            CommissionPlan::default().rewards(&amounts("USD", "0.02", None), &chain(&["p1"]));
        assert!(drafts.is_empty());
    }

    #[test]
    fn plans_are_validated() {
        assert!(CommissionPlan::default().validate().is_ok());
        assert_eq!(
            CommissionPlan::with_levels(vec![]).validate(),
            Err(PlanError::LevelCount)
        );
        assert_eq!(
            CommissionPlan::with_levels(vec![Decimal::from(10), Decimal::from(101)]).validate(),
            Err(PlanError::Percent(2))
        );
    }

    #[test]
    fn action_rewards_are_non_negative_and_bounded() {
        let plan = |amount: i64| CommissionPlan {
            actions: BTreeMap::from([("signup".to_string(), amount)]),
            ..CommissionPlan::default()
        };
        assert_eq!(plan(500).action_reward("signup"), Some(500));
        assert_eq!(plan(500).action_reward("demo"), None);
        assert_eq!(plan(0).action_reward("signup"), None);
        assert!(plan(0).validate().is_ok());
        assert_eq!(
            plan(-1).validate(),
            Err(PlanError::ActionAmount("signup".into()))
        );
        assert!(plan(MAX_ACTION_REWARD + 1).validate().is_err());
    }

    #[test]
    fn holding_days_default_to_thirty_and_are_bounded() {
        let old: CommissionPlan =
            serde_json::from_value(serde_json::json!({"levels": ["20"]})).unwrap();
        assert_eq!(old.holding_days, 30);
        let plan = |days| CommissionPlan {
            holding_days: days,
            ..CommissionPlan::default()
        };
        assert!(plan(0).validate().is_ok());
        assert!(plan(365).validate().is_ok());
        assert_eq!(plan(366).validate(), Err(PlanError::HoldingDays));
    }

    #[test]
    fn levels_may_pay_out_at_most_the_whole_sale() {
        let plan = |levels: &[i64]| {
            CommissionPlan::with_levels(levels.iter().map(|l| Decimal::from(*l)).collect())
        };
        assert!(plan(&[50, 30, 20]).validate().is_ok());
        let over = plan(&[60, 30, 20]).validate();
        assert_eq!(over, Err(PlanError::Total(Decimal::from(110))));
        assert!(over
            .unwrap_err()
            .to_string()
            .contains("at most 100 % of a sale"));
    }

    proptest::proptest! {
        #[test]
        fn rewards_of_any_amount_and_percentage_never_panic(gross: (u32, u32, u32), net: (u32, u32, u32), refunded: (u32, u32, u32), percent: (u32, u32, u32), scale in 0u32..=28, negative: bool) {
            let dec = |(lo, mid, hi): (u32, u32, u32)| Decimal::from_parts(lo, mid, hi, negative, scale);
            for code in ["USD", "JPY", "CLF"] {
                let amounts = Amounts {
                    net: Some(dec(net)),
                    refunded: dec(refunded),
                    ..Amounts::new(Currency::parse(code).unwrap(), dec(gross))
                };
                let _ = reward_amount(&amounts, dec(percent));
                let plan = CommissionPlan::with_levels(vec![dec(percent); 3]);
                let _ = plan.validate();
                let _ = plan.rewards(&amounts, &chain(&["a", "b", "c"]));
            }
        }

        #[test]
        fn bounded_amounts_always_have_a_reward(gross in 0i64..=1_000_000_000_000i64, scale in 0u32..=4, percent in 0u32..=10_000) {
            let amounts = Amounts::new(Currency::parse("CLF").unwrap(), Decimal::new(gross, scale));
            let reward = reward_amount(&amounts, Decimal::new(i64::from(percent), 2));
            proptest::prop_assert!(reward.is_some_and(|r| r <= amounts.gross.round_dp(4)));
        }
    }
}
