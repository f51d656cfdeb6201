//! The reference model: what the ledger must hold once a history has quiesced, written apart
//! from the production code from the rules as the seeds and docs state them. A sale is one
//! transaction; its refunded amount is the sum of distinct refunds (Stripe's largest total, the
//! whole for a full refund; a Recurly refund on the one payment of its account it fits), capped
//! at the gross; a sale an admin assigns is credited to that partner; each level of the referral chain earns the
//! plan's percentage (Stripe's sales by a rule of their own) of the net amount less the refunded share, rounded half away from zero to
//! the currency's minor unit; a fully refunded sale's rewards are declined (or never written).
//! A lost dispute refunds its amount like one more refund; a won one changes nothing.

use crate::scenario::{Channel, DisputeEnd, Refund, Sale, Scenario};
use rust_decimal::{Decimal, RoundingStrategy};

/// ISO 4217's decimals of the simulated currencies.
pub fn exponent(currency: &str) -> u32 {
    match currency {
        "JPY" => 0,
        "KWD" => 3,
        _ => 2,
    }
}

/// Minor units as an amount of the currency, as ISO 4217 counts them.
pub fn major(minor: i64, currency: &str) -> Decimal {
    Decimal::new(minor, exponent(currency))
}

/// An integer amount as the sale's sender means it: Chargebee writes every currency with
/// subunits in hundredths, KWD included (https://apidocs.chargebee.com/docs/api/currencies);
/// every other sender here follows ISO 4217 for these currencies.
pub fn sent_amount(sale: &Sale, minor: i64) -> Decimal {
    match (&sale.channel, exponent(sale.currency)) {
        (Channel::Chargebee { .. }, 3) => Decimal::new(minor, 2),
        _ => major(minor, sale.currency),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExpectedReward {
    pub level: u8,
    pub partner: String,
    pub amount: Decimal,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expected {
    pub refunded: Decimal,
    pub fully_refunded: bool,
    pub partner: String,
    /// The rewards of a sale not fully refunded, all pending.
    pub rewards: Vec<ExpectedReward>,
}

pub fn refunded_minor(sale: &Sale) -> i64 {
    let total: i64 = sale
        .refunds
        .iter()
        .map(|r| match r {
            Refund::Full => sale.gross,
            Refund::Total(_) => 0,
            Refund::Part { minor, .. } => *minor,
        })
        .sum::<i64>()
        + match sale.dispute {
            Some(DisputeEnd::Lost(minor)) => minor,
            _ => 0,
        };
    let largest_total = sale
        .refunds
        .iter()
        .filter_map(|r| match r {
            Refund::Total(t) => Some(*t),
            _ => None,
        })
        .max()
        .unwrap_or(0);
    total.max(largest_total).min(sale.gross)
}

/// The plan's rule `stripe sales` (`when: {"source": "stripe"}`): ten points more at level 1
/// than the default levels.
pub fn stripe_levels(scenario: &Scenario) -> Vec<u32> {
    let mut levels = scenario.levels.clone();
    levels[0] += 10;
    levels
}

/// The percentages per level a sale earns: the rule's for Stripe's, the default for others.
fn percents(scenario: &Scenario, sale: &Sale) -> Vec<u32> {
    match sale.channel {
        Channel::Stripe { .. } => stripe_levels(scenario),
        _ => scenario.levels.clone(),
    }
}

/// The partner a sale is credited to, and their referrers, as far as the plan reaches.
fn chain(scenario: &Scenario, sale: &Sale) -> Vec<String> {
    let mut at = Some(match sale.channel {
        Channel::Custom { partner }
        | Channel::Unassigned { partner }
        | Channel::Incoming { partner } => partner,
        Channel::Stripe { customer }
        | Channel::Chargebee { customer }
        | Channel::Recurly { customer }
        | Channel::Chargify { customer } => scenario.customers[customer].partner,
    });
    let mut chain = Vec::new();
    while let Some(i) = at {
        if chain.len() == scenario.levels.len() {
            break;
        }
        chain.push(scenario.partners[i].key.clone());
        at = scenario.partners[i].referrer;
    }
    chain
}

pub fn expected(scenario: &Scenario, sale: &Sale) -> Expected {
    let refunded = refunded_minor(sale);
    let fully_refunded = refunded >= sale.gross;
    let net = sent_amount(sale, sale.net.unwrap_or(sale.gross));
    let gross = sent_amount(sale, sale.gross);
    // The same order of operations as the ledger, so no rounding of a 28th digit differs.
    let commissionable = if refunded == 0 {
        net
    } else {
        net * (gross - sent_amount(sale, refunded)) / gross
    };
    let chain = chain(scenario, sale);
    let rewards = chain
        .iter()
        .zip(&percents(scenario, sale))
        .enumerate()
        .map(|(i, (partner, percent))| ExpectedReward {
            level: u8::try_from(i + 1).unwrap_or(u8::MAX),
            partner: partner.clone(),
            amount: (commissionable * Decimal::from(*percent) / Decimal::from(100))
                .round_dp_with_strategy(
                    exponent(sale.currency),
                    RoundingStrategy::MidpointAwayFromZero,
                ),
        })
        .filter(|r| r.amount > Decimal::ZERO)
        .collect();
    Expected {
        refunded: sent_amount(sale, refunded),
        fully_refunded,
        partner: chain.first().cloned().unwrap_or_default(),
        rewards,
    }
}
