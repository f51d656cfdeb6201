//! A reference model of the commission plan, written apart from the engine: integer minor
//! units and basis points, calendar dates as tuples (days up to the 28th, so a month later is
//! the same day), its own counters. What it says a history earns, the engine must grant.

use std::collections::HashMap;

pub const PROGRAM_CURRENCY: &str = "EUR";
pub const PRODUCTS: [&str; 2] = ["annual", "monthly"];
pub const CATEGORIES: [&str; 2] = ["setup", "plan"];
pub const CAMPAIGNS: [&str; 1] = ["summer"];
pub const SOURCES: [&str; 3] = ["custom", "api", "stripe"];
/// Currencies and their minor-unit exponents.
pub const CURRENCIES: [(&str, u32); 3] = [("EUR", 2), ("USD", 2), ("JPY", 0)];
/// Partner `i` was referred by `REFERRER[i]`.
pub const REFERRER: [Option<usize>; 4] = [None, Some(0), Some(1), None];

#[derive(Debug, Clone)]
pub enum Pay {
    /// Basis points per level (20 % = 2000).
    Percent(Vec<u32>),
    /// Minor units of the program's currency per level.
    Flat(Vec<i64>),
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub product: Option<&'static str>,
    pub category: Option<&'static str>,
    pub campaign: Option<&'static str>,
    pub recurring: Option<bool>,
    pub source: Option<&'static str>,
    pub pay: Pay,
}

#[derive(Debug, Clone, Copy)]
pub enum Limit {
    Payments(u32),
    Months(u32),
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub gross: bool,
    pub levels: Vec<u32>,
    /// Named `r{index}`.
    pub rules: Vec<Rule>,
    /// (min_sales, basis points per level), min_sales ascending.
    pub tiers: Vec<(u64, Vec<u32>)>,
    pub limit: Option<Limit>,
}

/// (year, month, day ≤ 28, hour), UTC.
pub type Date = (i32, u8, u8, u8);

#[derive(Debug, Clone)]
pub struct Sale {
    pub partner: usize,
    pub customer: Option<usize>,
    pub currency: usize,
    pub gross: i64,
    pub net: Option<i64>,
    pub product: Option<&'static str>,
    pub category: Option<&'static str>,
    pub campaign: Option<&'static str>,
    pub recurring: bool,
    pub source: &'static str,
    pub date: Date,
}

#[derive(Debug, Clone)]
pub enum Step {
    /// A sale; its commission job delivered twice when `true`.
    Sale(Sale, bool),
    /// A partner moved into a group, or out of any.
    Group(usize, Option<usize>),
}

/// (level, partner index, amount in minor units, rule).
pub type Expected = (u8, usize, i64, String);

#[derive(Default)]
pub struct Model {
    groups_of: HashMap<usize, usize>,
    month_sales: HashMap<(usize, i32, u8), u64>,
    /// A customer's payments so far, and the date of the first.
    payments: HashMap<usize, (u64, Date)>,
}

fn round_share(base: i64, bp: u32) -> i64 {
    // Non-negative: half away from zero is half up.
    (base * i64::from(bp) + 5_000) / 10_000
}

fn months_later((y, m, d, h): Date, months: u32) -> Date {
    let index = y * 12 + i32::from(m) - 1 + months as i32;
    (index / 12, (index % 12 + 1) as u8, d, h)
}

impl Model {
    pub fn move_partner(&mut self, partner: usize, group: Option<usize>) {
        match group {
            Some(g) => self.groups_of.insert(partner, g),
            None => self.groups_of.remove(&partner),
        };
    }

    /// What `sale` earns under the program's plan and the groups' plans.
    pub fn sale(&mut self, program: &Plan, groups: &[Plan], sale: &Sale) -> Vec<Expected> {
        let plan = match self.groups_of.get(&sale.partner) {
            Some(g) => &groups[*g],
            None => program,
        };
        // Only a plan that decides by a count counts the sale: tiers the partner's month, a
        // duration the customer's payments.
        let month = self
            .month_sales
            .entry((sale.partner, sale.date.0, sale.date.1))
            .or_default();
        if !plan.tiers.is_empty() {
            *month += 1;
        }
        let month_sales = *month;
        if let Some(customer) = sale.customer.filter(|_| plan.limit.is_some()) {
            let (count, first) = self.payments.entry(customer).or_insert((0, sale.date));
            *count += 1;
            let covered = match plan.limit {
                None => true,
                Some(Limit::Payments(n)) => *count <= u64::from(n),
                Some(Limit::Months(n)) => sale.date < months_later(*first, n),
            };
            if !covered {
                return Vec::new();
            }
        }
        let in_program_currency = CURRENCIES[sale.currency].0 == PROGRAM_CURRENCY;
        let matched = plan.rules.iter().enumerate().find(|(_, r)| {
            r.product.is_none_or(|p| Some(p) == sale.product)
                && r.category.is_none_or(|c| Some(c) == sale.category)
                && r.campaign.is_none_or(|c| Some(c) == sale.campaign)
                && r.recurring.is_none_or(|x| x == sale.recurring)
                && r.source.is_none_or(|s| s == sale.source)
                && (matches!(r.pay, Pay::Percent(_)) || in_program_currency)
        });
        let (rule, pay) = match matched {
            Some((i, r)) => (format!("r{i}"), r.pay.clone()),
            None => match plan
                .tiers
                .iter()
                .enumerate()
                .rev()
                .find(|(_, (min, _))| month_sales >= *min)
            {
                Some((i, (_, levels))) => (format!("tier:{}", i + 1), Pay::Percent(levels.clone())),
                None => ("default".to_string(), Pay::Percent(plan.levels.clone())),
            },
        };
        let base = if plan.gross {
            sale.gross
        } else {
            sale.net.unwrap_or(sale.gross)
        };
        let amounts: Vec<i64> = match pay {
            Pay::Percent(bps) => bps.iter().map(|bp| round_share(base, *bp)).collect(),
            Pay::Flat(flat) => flat,
        };
        let mut chain = vec![sale.partner];
        while chain.len() < amounts.len() {
            match REFERRER[chain[chain.len() - 1]] {
                Some(next) => chain.push(next),
                None => break,
            }
        }
        amounts
            .iter()
            .zip(&chain)
            .enumerate()
            .filter(|(_, (amount, _))| **amount > 0)
            .map(|(i, (amount, partner))| (i as u8 + 1, *partner, *amount, rule.clone()))
            .collect()
    }
}
