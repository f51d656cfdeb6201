//! The parts of a plan: what a percentage is taken of (`Base`), when a rule applies (`When`),
//! what it pays (`Payout`), the monthly tiers and how long a customer earns (`Duration`).

use crate::domain::time::Millis;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// What a percentage is taken of.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Base {
    /// The net amount; the gross one when a transaction has no net.
    #[default]
    Net,
    Gross,
}

/// Where transactions come from, as `Transaction::source` holds it. CSV imports go through the
/// transactions API and are recorded as `api`, so `import` names nothing a rule could match.
pub const SOURCES: [&str; 7] = [
    "custom",
    "stripe",
    "chargebee",
    "recurly",
    "chargify",
    "incoming",
    "api",
];

/// A rule's conditions: every one given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct When {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurring: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// The facts of a sale a rule looks at.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub product_key: Option<&'a str>,
    pub category_key: Option<&'a str>,
    pub campaign: Option<&'a str>,
    pub recurring: bool,
    pub source: &'a str,
}

impl When {
    pub fn matches(&self, sale: &Facts<'_>) -> bool {
        let same = |want: &Option<String>, got: Option<&str>| {
            want.as_deref().is_none_or(|w| Some(w) == got)
        };
        same(&self.product_key, sale.product_key)
            && same(&self.category_key, sale.category_key)
            && same(&self.campaign, sale.campaign)
            && same(&self.source, Some(sale.source))
            && self.recurring.is_none_or(|r| r == sale.recurring)
    }
}

/// What a rule pays per level of the referral chain: percentages of the base, or fixed amounts
/// in the program's currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Payout {
    Levels(Vec<Decimal>),
    Flat(Vec<Decimal>),
}

impl Payout {
    pub fn len(&self) -> usize {
        match self {
            Self::Levels(l) | Self::Flat(l) => l.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    pub name: String,
    #[serde(default)]
    pub when: When,
    #[serde(flatten)]
    pub payout: Payout,
}

/// The partner's percentages once their sales this calendar month (UTC) reach `min_sales`,
/// the sale at hand included.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tier {
    pub min_sales: u64,
    pub levels: Vec<Decimal>,
}

/// How long a customer's payments earn rewards; none is for the customer's lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Duration {
    /// The customer's first N commissioned payments.
    Payments(u32),
    /// Payments dated before N calendar months after the customer's first commissioned one.
    Months(u32),
}

impl Duration {
    /// Whether the customer's `ordinal`-th payment, dated `date`, still earns, their first
    /// having been dated `first_at`.
    pub fn covers(self, ordinal: u64, first_at: Millis, date: Millis) -> bool {
        match self {
            Self::Payments(n) => ordinal <= u64::from(n),
            Self::Months(n) => add_months(first_at, n).is_none_or(|end| date < end),
        }
    }
}

/// `at` moved `months` calendar months on (UTC), the day clamped to the month's length:
/// 31 January + 1 month is 28 (or 29) February. `None` past the calendar's range.
pub fn add_months(at: Millis, months: u32) -> Option<Millis> {
    let start = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(at) * 1_000_000).ok()?;
    let index =
        i64::from(start.year()) * 12 + i64::from(u8::from(start.month())) - 1 + i64::from(months);
    let year = i32::try_from(index.div_euclid(12)).ok()?;
    let month = time::Month::try_from(u8::try_from(index.rem_euclid(12) + 1).ok()?).ok()?;
    let day = start.day().min(month.length(year));
    let date = time::Date::from_calendar_date(year, month, day).ok()?;
    let moved = start.replace_date(date);
    i64::try_from(moved.unix_timestamp_nanos() / 1_000_000).ok()
}

/// The UTC calendar month of `at`, as `YYYY-MM`: the period tiers count sales in.
pub fn month_of(at: Millis) -> String {
    match time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(at) * 1_000_000) {
        Ok(t) => format!("{:04}-{:02}", t.year(), u8::from(t.month())),
        // Dates are bounded where they enter; a wild one counts in a month of its own.
        Err(_) => format!("at-{at}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JAN_31_2026: Millis = 1_769_817_600_000; // 2026-01-31T00:00:00Z

    #[test]
    fn months_are_calendar_months_with_the_day_clamped() {
        assert_eq!(month_of(JAN_31_2026), "2026-01");
        let feb = add_months(JAN_31_2026, 1).unwrap();
        assert_eq!(month_of(feb), "2026-02");
        assert_eq!(feb - JAN_31_2026, 28 * 86_400_000);
        assert_eq!(month_of(add_months(JAN_31_2026, 11).unwrap()), "2026-12");
        assert_eq!(month_of(add_months(JAN_31_2026, 12).unwrap()), "2027-01");
        assert_eq!(add_months(JAN_31_2026, 0), Some(JAN_31_2026));
    }

    #[test]
    fn durations_cover_the_first_payments_or_months() {
        assert!(Duration::Payments(2).covers(2, 0, 0));
        assert!(!Duration::Payments(2).covers(3, 0, 0));
        let end = add_months(JAN_31_2026, 1).unwrap();
        assert!(Duration::Months(1).covers(9, JAN_31_2026, end - 1));
        assert!(!Duration::Months(1).covers(2, JAN_31_2026, end));
    }

    #[test]
    fn every_condition_given_must_hold() {
        let sale = Facts {
            product_key: Some("annual"),
            category_key: None,
            campaign: Some("summer"),
            recurring: false,
            source: "stripe",
        };
        assert!(When::default().matches(&sale));
        let when = When {
            product_key: Some("annual".into()),
            recurring: Some(false),
            source: Some("stripe".into()),
            ..When::default()
        };
        assert!(when.matches(&sale));
        let category = When {
            category_key: Some("setup".into()),
            ..when.clone()
        };
        assert!(!category.matches(&sale));
        let recurring = When {
            recurring: Some(true),
            ..when
        };
        assert!(!recurring.matches(&sale));
    }
}
