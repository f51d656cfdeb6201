//! The commission plan: a pure function from (plan, sale, partner chain) to rewards. A sale
//! takes the first rule that matches it, else the highest monthly tier the partner reached,
//! else the default `levels`; past the plan's `duration` a customer's payments earn nothing.

pub mod patch;
pub mod rules;
pub mod validate;

use crate::domain::money::Currency;
use crate::domain::plan::rules::{Base, Duration, Facts, Payout, Rule, Tier};
use crate::domain::time::Millis;
use crate::domain::transaction::{Amounts, Transaction};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Most referral chains are short; the cap keeps a misconfigured plan from fanning out.
pub const MAX_LEVELS: usize = 10;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommissionPlan {
    #[serde(default)]
    pub base: Base,
    /// The default rule: percent per level, `levels[0]` for the partner the transaction is
    /// attributed to, `levels[1]` for the partner who referred them, and so on.
    pub levels: Vec<Decimal>,
    /// Tried in order; the first that matches a sale decides it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<Rule>,
    /// By `min_sales`, ascending.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tiers: Vec<Tier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<Duration>,
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

/// A sale as the plan sees it: its facts, and where it stands among the partner's sales this
/// month and among its customer's payments (both counted once per transaction).
#[derive(Debug, Clone, Copy)]
pub struct Sale<'a> {
    pub facts: Facts<'a>,
    pub amounts: &'a Amounts,
    /// This sale is the partner's `month_sales`-th this calendar month (UTC), 1-based.
    pub month_sales: u64,
    /// The customer's `n`-th commissioned payment and the date of their first; none when the
    /// sale names no customer (each such sale is a customer's first).
    pub customer: Option<(u64, Millis)>,
    /// The transaction's own date.
    pub date: Millis,
}

impl<'a> Sale<'a> {
    pub fn of(tx: &'a Transaction, month_sales: u64, customer: Option<(u64, Millis)>) -> Self {
        Self {
            facts: Facts {
                product_key: tx.product.id.as_deref(),
                category_key: tx.product.category.as_deref(),
                campaign: tx.campaign_slug.as_deref(),
                recurring: tx.is_recurring,
                source: &tx.source,
            },
            amounts: &tx.amounts,
            month_sales,
            customer,
            date: sale_date(tx),
        }
    }
}

/// The date a sale counts at: its own, else when it was recorded. Never the job's clock, so a
/// retry after midnight decides as the first try did.
pub fn sale_date(tx: &Transaction) -> Millis {
    tx.transaction_date.unwrap_or(tx.created_at)
}

/// What decided a sale's rewards.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The rule's name, `default`, or `tier:N` (N counting the plan's tiers from 1).
    pub rule: String,
    /// The same in words, for descriptions.
    pub label: String,
    pub payout: Payout,
    pub base: Base,
}

/// A reward the plan grants, before it is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct RewardDraft {
    pub level: u8,
    pub partner_key: String,
    pub amount: Decimal,
    /// The percentage, or zero for a flat reward.
    pub percent: Decimal,
    pub flat: Option<Decimal>,
    pub rule: String,
    pub base: Base,
    /// The base the percentage was taken of, after refunds, rounded to the minor unit.
    pub base_amount: Decimal,
    pub description: String,
}

impl CommissionPlan {
    pub fn with_levels(levels: Vec<Decimal>) -> Self {
        Self {
            base: Base::Net,
            levels,
            rules: Vec::new(),
            tiers: Vec::new(),
            duration: None,
            actions: BTreeMap::new(),
            holding_days: DEFAULT_HOLDING_DAYS,
        }
    }

    /// The flat reward for an action of type `kind`, in minor units; none when the plan has
    /// none or it is zero.
    pub fn action_reward(&self, kind: &str) -> Option<i64> {
        self.actions.get(kind).copied().filter(|amount| *amount > 0)
    }

    /// What decides `sale`'s rewards; `None` when the customer is past the plan's duration.
    /// Flat amounts are in `program_currency`: a flat rule matches only sales in it, and a sale
    /// in another currency goes on to the next rule, the tiers or the default.
    pub fn decide(&self, sale: &Sale<'_>, program_currency: Currency) -> Option<Decision> {
        if let (Some(duration), Some((ordinal, first_at))) = (self.duration, sale.customer) {
            if !duration.covers(ordinal, first_at, sale.date) {
                return None;
            }
        }
        let rule = self.rules.iter().find(|r| {
            r.when.matches(&sale.facts)
                && (matches!(r.payout, Payout::Levels(_))
                    || sale.amounts.currency == program_currency)
        });
        if let Some(rule) = rule {
            return Some(Decision {
                rule: rule.name.clone(),
                label: format!("rule {:?}", rule.name),
                payout: rule.payout.clone(),
                base: self.base,
            });
        }
        let tier = self
            .tiers
            .iter()
            .enumerate()
            .filter(|(_, t)| sale.month_sales >= t.min_sales)
            .max_by_key(|(_, t)| t.min_sales);
        Some(match tier {
            Some((i, tier)) => Decision {
                rule: format!("tier:{}", i + 1),
                label: format!("tier {} (from {} sales a month)", i + 1, tier.min_sales),
                payout: Payout::Levels(tier.levels.clone()),
                base: self.base,
            },
            None => Decision {
                rule: "default".into(),
                label: "default rule".into(),
                payout: Payout::Levels(self.levels.clone()),
                base: self.base,
            },
        })
    }
}

impl Decision {
    /// `chain[0]` is the attributed partner, `chain[1]` their referrer, and so on. Amounts are
    /// rounded to the currency's minor unit; levels that round to zero grant nothing.
    pub fn rewards(&self, amounts: &Amounts, chain: &[String]) -> Vec<RewardDraft> {
        let currency = amounts.currency;
        let exact = exact_base(amounts, self.base);
        let base = currency.round(exact);
        let values = match &self.payout {
            Payout::Levels(v) | Payout::Flat(v) => v,
        };
        values
            .iter()
            .zip(chain)
            .enumerate()
            .filter_map(|(i, (value, partner))| {
                let level = u8::try_from(i + 1).ok()?;
                let (amount, percent, flat, what) = match self.payout {
                    Payout::Levels(_) => (
                        percent_of(exact, *value, currency)?,
                        *value,
                        None,
                        format!("{} % of {base} {currency}", value.normalize()),
                    ),
                    Payout::Flat(_) => (
                        currency.round(amounts.after_refunds(*value)),
                        Decimal::ZERO,
                        Some(*value),
                        format!("{} {currency} flat", currency.round(*value)),
                    ),
                };
                (amount > Decimal::ZERO).then(|| RewardDraft {
                    level,
                    partner_key: partner.clone(),
                    amount,
                    percent,
                    flat,
                    rule: self.rule.clone(),
                    base: self.base,
                    base_amount: base,
                    description: format!("{what}, {}, level {level}", self.label),
                })
            })
            .collect()
    }
}

/// The amount a percentage is taken of, after refunds, every digit kept.
pub fn exact_base(amounts: &Amounts, base: Base) -> Decimal {
    let whole = match base {
        Base::Net => amounts.net.unwrap_or(amounts.gross),
        Base::Gross => amounts.gross,
    };
    amounts.after_refunds(whole)
}

/// `percent` of `base`, rounded to the currency's minor unit; `None` past `Decimal`'s range,
/// which only a percentage over 100 of a record from before amounts were bounded can reach.
pub fn percent_of(base: Decimal, percent: Decimal, currency: Currency) -> Option<Decimal> {
    let share = percent.checked_div(Decimal::ONE_HUNDRED)?;
    Some(currency.round(base.checked_mul(share)?))
}

#[cfg(test)]
mod tests;
