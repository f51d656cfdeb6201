//! A plan as `PATCH /v1/program` and `/v1/groups` give it (`"commission": {...}`): each field
//! given replaces the plan's, the others stay; the result is validated whole.

use crate::domain::action::action_type;
use crate::domain::error::FieldError;
use crate::domain::lifecycle::MAX_HOLDING_DAYS;
use crate::domain::money::Currency;
use crate::domain::plan::rules::{Base, Duration, Payout, Rule, Tier, When};
use crate::domain::plan::{CommissionPlan, MAX_ACTION_REWARD};
use crate::domain::validate;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommissionPatch {
    pub base: Option<Base>,
    /// Percent per level, as decimal strings or numbers: `["20", "5"]`.
    pub levels: Option<Vec<PercentText>>,
    pub rules: Option<Vec<RuleInput>>,
    pub tiers: Option<Vec<TierInput>>,
    /// `null` removes it: rewards for the customer's lifetime.
    #[serde(default, deserialize_with = "validate::present")]
    pub duration: Option<Option<Duration>>,
    /// A flat reward per action type: `{"signup": ["5.00"]}` in the program's currency, or
    /// `{"signup": 500}` in its minor units.
    pub actions: Option<BTreeMap<String, ActionAmount>>,
    /// Days a new reward is held before it is approved (0 to 365).
    pub holding_days: Option<serde_json::Number>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleInput {
    pub name: String,
    #[serde(default)]
    pub when: WhenInput,
    pub levels: Option<Vec<PercentText>>,
    pub flat: Option<Vec<PercentText>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhenInput {
    pub product_key: Option<String>,
    pub category_key: Option<String>,
    pub campaign: Option<String>,
    pub recurring: Option<bool>,
    pub source: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierInput {
    pub min_sales: u64,
    pub levels: Vec<PercentText>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum ActionAmount {
    Minor(serde_json::Number),
    PerLevel(Vec<PercentText>),
}

/// A decimal given as a string or a JSON number.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum PercentText {
    Text(String),
    Number(serde_json::Number),
}

impl PercentText {
    pub fn text(&self) -> String {
        match self {
            Self::Text(t) => t.trim().to_string(),
            Self::Number(n) => n.to_string(),
        }
    }
}

fn percents(field: &str, levels: &[PercentText]) -> Result<Vec<Decimal>, FieldError> {
    levels
        .iter()
        .enumerate()
        .map(|(i, level)| {
            level.text().parse::<Decimal>().map_err(|_| {
                FieldError::new(
                    format!("{field}[{i}]"),
                    "must be a percentage such as \"20\"",
                )
            })
        })
        .collect()
}

fn amounts(
    field: &str,
    given: &[PercentText],
    currency: Currency,
) -> Result<Vec<Decimal>, FieldError> {
    given
        .iter()
        .enumerate()
        .map(|(i, amount)| {
            currency.parse_amount(&amount.text()).map_err(|e| {
                FieldError::new(
                    format!("{field}[{i}]"),
                    format!("must be a non-negative amount in {currency}: {e}"),
                )
            })
        })
        .collect()
}

fn when(field: &str, given: WhenInput) -> Result<When, FieldError> {
    let key =
        |name: &str, v: Option<String>| validate::optional_key(&format!("{field}.when.{name}"), v);
    Ok(When {
        product_key: key("product_key", given.product_key)?,
        category_key: key("category_key", given.category_key)?,
        campaign: key("campaign", given.campaign)?,
        recurring: given.recurring,
        source: given.source,
    })
}

fn rule(i: usize, given: RuleInput, currency: Currency) -> Result<Rule, FieldError> {
    let field = format!("commission.rules[{i}]");
    let payout = match (given.levels, given.flat) {
        (Some(levels), None) => Payout::Levels(percents(&format!("{field}.levels"), &levels)?),
        (None, Some(flat)) => Payout::Flat(amounts(&format!("{field}.flat"), &flat, currency)?),
        _ => {
            return Err(FieldError::new(
                field,
                "give either levels (percentages) or flat (amounts)",
            ))
        }
    };
    Ok(Rule {
        name: given.name,
        when: when(&field, given.when)?,
        payout,
    })
}

fn action_amount(kind: &str, amount: ActionAmount, currency: Currency) -> Result<i64, FieldError> {
    let field = format!("commission.actions.{kind}");
    match amount {
        ActionAmount::Minor(n) => n
            .as_i64()
            .filter(|a| (0..=MAX_ACTION_REWARD).contains(a))
            .ok_or_else(|| {
                FieldError::new(
                    &field,
                    format!("must be an integer from 0 to {MAX_ACTION_REWARD}: minor units of the program's currency"),
                )
            }),
        // An action's reward goes to the partner who brought the action alone.
        ActionAmount::PerLevel(levels) if levels.len() != 1 => Err(FieldError::new(
            &field,
            "give one amount: actions reward the partner who brought them, level 1 alone",
        )),
        ActionAmount::PerLevel(levels) => {
            let amount = amounts(&field, &levels, currency)?[0];
            currency
                .to_minor(amount)
                .ok()
                .filter(|a| *a <= MAX_ACTION_REWARD)
                .ok_or_else(|| FieldError::new(format!("{field}[0]"), "is too large"))
        }
    }
}

/// `current` with what `patch` gives replaced, validated; flat amounts are in `currency`.
pub fn apply(
    current: &CommissionPlan,
    patch: CommissionPatch,
    currency: Currency,
) -> Result<CommissionPlan, FieldError> {
    let mut plan = current.clone();
    if let Some(base) = patch.base {
        plan.base = base;
    }
    if let Some(levels) = patch.levels {
        plan.levels = percents("commission.levels", &levels)?;
    }
    if let Some(rules) = patch.rules {
        plan.rules = rules
            .into_iter()
            .enumerate()
            .map(|(i, r)| rule(i, r, currency))
            .collect::<Result<_, _>>()?;
    }
    if let Some(tiers) = patch.tiers {
        plan.tiers = tiers
            .into_iter()
            .enumerate()
            .map(|(i, t)| {
                Ok(Tier {
                    min_sales: t.min_sales,
                    levels: percents(&format!("commission.tiers[{i}].levels"), &t.levels)?,
                })
            })
            .collect::<Result<_, FieldError>>()?;
    }
    if let Some(duration) = patch.duration {
        plan.duration = duration;
    }
    if let Some(actions) = patch.actions {
        let mut parsed = BTreeMap::new();
        for (kind, amount) in actions {
            let checked = action_type(&format!("commission.actions.{kind}"), &kind)?;
            parsed.insert(checked, action_amount(&kind, amount, currency)?);
        }
        plan.actions = parsed;
    }
    if let Some(days) = patch.holding_days {
        plan.holding_days = days
            .as_u64()
            .and_then(|d| u32::try_from(d).ok())
            .filter(|d| *d <= MAX_HOLDING_DAYS)
            .ok_or_else(|| {
                FieldError::new(
                    "commission.holding_days",
                    format!("must be a whole number of days from 0 to {MAX_HOLDING_DAYS}"),
                )
            })?;
    }
    plan.validate()?;
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use crate::domain::money::Currency;
    use crate::domain::plan::patch::{apply, CommissionPatch};
    use crate::domain::plan::CommissionPlan;
    use rust_decimal::Decimal;
    use serde_json::json;

    /// The field a plan given as JSON is refused for, if any.
    fn refused(plan: serde_json::Value) -> Option<String> {
        let patch: CommissionPatch = serde_json::from_value(plan).unwrap();
        apply(
            &CommissionPlan::default(),
            patch,
            Currency::parse("USD").unwrap(),
        )
        .err()
        .map(|e| e.field)
    }

    #[test]
    fn a_full_plan_is_accepted() {
        let plan = json!({
            "base": "gross",
            "levels": ["20", 5],
            "rules": [
                {"name": "annual plans", "when": {"product_key": "annual"}, "levels": ["30", "5"]},
                {"name": "setup fee", "when": {"category_key": "setup", "source": "stripe"}, "flat": ["50.00"]},
                {"name": "summer", "when": {"campaign": "summer-promo", "recurring": false}, "levels": ["25"]}
            ],
            "tiers": [{"min_sales": 10, "levels": ["25", "5"]}, {"min_sales": 50, "levels": ["30", "5"]}],
            "duration": {"payments": 12},
            "actions": {"signup": ["5.00"], "demo": 250}
        });
        assert_eq!(refused(plan.clone()), None);
        let patch: CommissionPatch = serde_json::from_value(plan).unwrap();
        let usd = Currency::parse("USD").unwrap();
        let done = apply(&CommissionPlan::default(), patch, usd).unwrap();
        assert_eq!(done.action_reward("signup"), Some(500));
        assert_eq!(done.action_reward("demo"), Some(250));
        assert_eq!(done.levels, vec![Decimal::from(20), Decimal::from(5)]);
        assert_eq!(done.rules.len(), 3);
    }

    #[test]
    fn each_broken_rule_names_its_field() {
        let cases = [
            (json!({"levels": []}), "commission.levels"),
            (json!({"levels": ["10", "101"]}), "commission.levels[1]"),
            (json!({"levels": ["-1"]}), "commission.levels[0]"),
            (json!({"levels": ["60", "50"]}), "commission.levels"),
            (
                json!({"levels": ["1","1","1","1","1","1","1","1","1","1","1"]}),
                "commission.levels",
            ),
            (
                json!({"rules": [{"name": "a", "levels": ["5"]}, {"name": "b", "levels": ["120"]}]}),
                "commission.rules[1].levels[0]",
            ),
            (
                json!({"rules": [{"name": "a", "levels": ["60", "60"]}]}),
                "commission.rules[0].levels",
            ),
            (
                json!({"rules": [{"name": "a", "flat": ["-1.00"]}]}),
                "commission.rules[0].flat[0]",
            ),
            (
                json!({"rules": [{"name": "a", "flat": ["1.001"]}]}),
                "commission.rules[0].flat[0]",
            ),
            (
                json!({"rules": [{"name": "a", "levels": ["5"]}, {"name": "a", "levels": ["6"]}]}),
                "commission.rules[1].name",
            ),
            (
                json!({"rules": [{"name": "", "levels": ["5"]}]}),
                "commission.rules[0].name",
            ),
            (json!({"rules": [{"name": "a"}]}), "commission.rules[0]"),
            (
                json!({"rules": [{"name": "a", "levels": ["5"], "flat": ["1"]}]}),
                "commission.rules[0]",
            ),
            (
                json!({"rules": [{"name": "a", "when": {"source": "import"}, "levels": ["5"]}]}),
                "commission.rules[0].when.source",
            ),
            (
                json!({"tiers": [{"min_sales": 0, "levels": ["5"]}]}),
                "commission.tiers[0].min_sales",
            ),
            (
                json!({"tiers": [{"min_sales": 5, "levels": ["5"]}, {"min_sales": 5, "levels": ["6"]}]}),
                "commission.tiers[1].min_sales",
            ),
            (
                json!({"tiers": [{"min_sales": 5, "levels": ["500"]}]}),
                "commission.tiers[0].levels[0]",
            ),
            (json!({"duration": {"months": 0}}), "commission.duration"),
            (
                json!({"actions": {"signup": -1}}),
                "commission.actions.signup",
            ),
            (
                json!({"actions": {"signup": ["1.00", "2.00"]}}),
                "commission.actions.signup",
            ),
            (
                json!({"actions": {"signup": ["-1.00"]}}),
                "commission.actions.signup[0]",
            ),
        ];
        for (plan, field) in cases {
            assert_eq!(refused(plan.clone()).as_deref(), Some(field), "{plan}");
        }
    }

    #[test]
    fn a_duration_of_null_means_for_life() {
        let usd = Currency::parse("USD").unwrap();
        let with: CommissionPatch =
            serde_json::from_value(json!({"duration": {"months": 3}})).unwrap();
        let plan = apply(&CommissionPlan::default(), with, usd).unwrap();
        assert!(plan.duration.is_some());
        let kept: CommissionPatch = serde_json::from_value(json!({"levels": ["10"]})).unwrap();
        assert!(apply(&plan, kept, usd).unwrap().duration.is_some());
        let removed: CommissionPatch = serde_json::from_value(json!({"duration": null})).unwrap();
        assert!(apply(&plan, removed, usd).unwrap().duration.is_none());
    }
}
