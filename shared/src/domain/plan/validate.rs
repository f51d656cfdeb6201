//! A plan's checks, each failure naming its field below `commission`
//! (`commission.rules[1].levels[0]`).

use crate::domain::error::FieldError;
use crate::domain::lifecycle::MAX_HOLDING_DAYS;
use crate::domain::plan::rules::{Duration, Payout, SOURCES};
use crate::domain::plan::{CommissionPlan, MAX_ACTION_REWARD, MAX_ACTION_REWARDS, MAX_LEVELS};
use rust_decimal::Decimal;
use std::collections::HashSet;

/// Rules and tiers are read on every sale; the caps keep a plan record small.
pub const MAX_RULES: usize = 50;
pub const MAX_TIERS: usize = 20;
/// A flat reward per level, in the program's currency: as bounded as any amount that enters.
pub const MAX_FLAT: i64 = 10_000_000_000;

const FIELD: &str = "commission";

impl CommissionPlan {
    pub fn validate(&self) -> Result<(), FieldError> {
        if self.holding_days > MAX_HOLDING_DAYS {
            return Err(FieldError::new(
                format!("{FIELD}.holding_days"),
                format!("must be a whole number of days from 0 to {MAX_HOLDING_DAYS}"),
            ));
        }
        percents(&format!("{FIELD}.levels"), &self.levels)?;
        if self.rules.len() > MAX_RULES {
            return Err(FieldError::new(
                format!("{FIELD}.rules"),
                format!("a plan has at most {MAX_RULES} rules"),
            ));
        }
        let mut names = HashSet::new();
        for (i, rule) in self.rules.iter().enumerate() {
            let field = format!("{FIELD}.rules[{i}]");
            let name = rule.name.trim();
            if name.is_empty() || name.len() > 100 || name != rule.name {
                return Err(FieldError::new(
                    format!("{field}.name"),
                    "must be 1 to 100 characters, without surrounding spaces",
                ));
            }
            if !names.insert(name) {
                return Err(FieldError::new(
                    format!("{field}.name"),
                    format!("another rule is already named {name:?}"),
                ));
            }
            if let Some(source) = &rule.when.source {
                if !SOURCES.contains(&source.as_str()) {
                    return Err(FieldError::new(
                        format!("{field}.when.source"),
                        format!(
                            "must be one of {}; imported transactions are recorded as \"api\"",
                            SOURCES.join(", ")
                        ),
                    ));
                }
            }
            match &rule.payout {
                Payout::Levels(levels) => percents(&format!("{field}.levels"), levels)?,
                Payout::Flat(amounts) => flats(&format!("{field}.flat"), amounts)?,
            }
        }
        if self.tiers.len() > MAX_TIERS {
            return Err(FieldError::new(
                format!("{FIELD}.tiers"),
                format!("a plan has at most {MAX_TIERS} tiers"),
            ));
        }
        let mut previous = 0;
        for (i, tier) in self.tiers.iter().enumerate() {
            let field = format!("{FIELD}.tiers[{i}]");
            if tier.min_sales <= previous {
                return Err(FieldError::new(
                    format!("{field}.min_sales"),
                    "must be at least 1 and above the previous tier's",
                ));
            }
            previous = tier.min_sales;
            percents(&format!("{field}.levels"), &tier.levels)?;
        }
        if let Some(duration) = self.duration {
            let (Duration::Payments(n) | Duration::Months(n)) = duration;
            if n == 0 {
                return Err(FieldError::new(
                    format!("{FIELD}.duration"),
                    "must be at least 1; leave it out for the customer's lifetime",
                ));
            }
        }
        if self.actions.len() > MAX_ACTION_REWARDS {
            return Err(FieldError::new(
                format!("{FIELD}.actions"),
                format!("a plan rewards at most {MAX_ACTION_REWARDS} action types"),
            ));
        }
        if let Some((kind, _)) = self
            .actions
            .iter()
            .find(|(_, amount)| !(0..=MAX_ACTION_REWARD).contains(*amount))
        {
            return Err(FieldError::new(
                format!("{FIELD}.actions.{kind}"),
                format!("must be from 0 to {MAX_ACTION_REWARD} minor units"),
            ));
        }
        Ok(())
    }
}

fn count(field: &str, len: usize) -> Result<(), FieldError> {
    if len == 0 || len > MAX_LEVELS {
        return Err(FieldError::new(
            field,
            format!("give between 1 and {MAX_LEVELS} levels"),
        ));
    }
    Ok(())
}

/// Percentages per level: each 0–100, together at most the whole sale.
fn percents(field: &str, levels: &[Decimal]) -> Result<(), FieldError> {
    count(field, levels.len())?;
    let mut total = Decimal::ZERO;
    for (i, pct) in levels.iter().enumerate() {
        if pct.is_sign_negative() || *pct > Decimal::ONE_HUNDRED {
            return Err(FieldError::new(
                format!("{field}[{i}]"),
                "must be a percentage between 0 and 100",
            ));
        }
        // At most ten levels of at most 100 each: the sum cannot overflow.
        total += *pct;
    }
    if total > Decimal::ONE_HUNDRED {
        return Err(FieldError::new(
            field,
            format!(
                "the levels add up to {} %: together they may pay out at most 100 % of a sale",
                total.normalize()
            ),
        ));
    }
    Ok(())
}

/// Fixed amounts per level: each non-negative and bounded.
fn flats(field: &str, amounts: &[Decimal]) -> Result<(), FieldError> {
    count(field, amounts.len())?;
    if let Some(i) = amounts
        .iter()
        .position(|a| a.is_sign_negative() || *a > Decimal::from(MAX_FLAT))
    {
        return Err(FieldError::new(
            format!("{field}[{i}]"),
            format!("must be an amount from 0 to {MAX_FLAT} in the program's currency"),
        ));
    }
    Ok(())
}
