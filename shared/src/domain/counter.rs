//! Counters of sales that decide rewards: a partner's sales in a calendar month (tiers) and a
//! customer's commissioned payments (duration). Each transaction is counted once: the counter
//! remembers the recent ones with the ordinal they got, so a retried or redelivered commission
//! job gets the same ordinal back and never counts twice.

use crate::domain::time::Millis;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Transactions remembered per counter. A retry comes within seconds or minutes; one that comes
/// after this many newer sales of the same partner in a month would be counted again. Each is
/// about 45 bytes of the item, and DynamoDB bills a write per started KB: 100 keep a counter's
/// write at about 5 KB.
pub const WINDOW: usize = 100;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Counter {
    /// `partner#{key}#{YYYY-MM}` or `customer#{key}`.
    pub id: String,
    pub count: u64,
    /// The date of the first transaction counted; it never changes.
    pub first_at: Millis,
    /// The latest transactions counted, oldest first.
    pub recent: VecDeque<Counted>,
    #[serde(default)]
    pub updated_at: Millis,
}

/// Where one transaction stands in a counter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counted {
    pub key: String,
    /// 1 for the first transaction counted.
    pub ordinal: u64,
}

impl Counter {
    pub fn for_partner_month(partner: &str, month: &str) -> String {
        format!("partner#{partner}#{month}")
    }

    pub fn for_customer(customer: &str) -> String {
        format!("customer#{customer}")
    }

    /// A counter whose first transaction is `key`, dated `date`.
    pub fn first(id: String, key: &str, date: Millis) -> Self {
        let mut counter = Self {
            id,
            count: 0,
            first_at: date,
            recent: VecDeque::new(),
            updated_at: date,
        };
        counter.count_once(key);
        counter
    }

    /// Where `key` was counted before, if it is still remembered.
    pub fn find(&self, key: &str) -> Option<&Counted> {
        self.recent.iter().find(|c| c.key == key)
    }

    /// Counts `key` unless it was counted already; where it stands, and whether that changed
    /// the counter.
    pub fn count_once(&mut self, key: &str) -> (Counted, bool) {
        if let Some(counted) = self.find(key) {
            return (counted.clone(), false);
        }
        self.count += 1;
        let counted = Counted {
            key: key.to_string(),
            ordinal: self.count,
        };
        self.recent.push_back(counted.clone());
        while self.recent.len() > WINDOW {
            self.recent.pop_front();
        }
        (counted, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_key_is_counted_once_and_keeps_its_ordinal() {
        let mut c = Counter::first("customer#c".into(), "t1", 100);
        assert_eq!(c.find("t1").map(|x| x.ordinal), Some(1));
        let (second, changed) = c.count_once("t2");
        assert!(changed);
        assert_eq!((second.ordinal, c.first_at), (2, 100));
        let (again, changed) = c.count_once("t1");
        assert!(!changed);
        assert_eq!(again.ordinal, 1);
        assert_eq!(c.count, 2);
    }

    #[test]
    fn the_window_is_bounded_and_so_is_the_item() {
        let mut c = Counter::first("partner#pat#2026-05".into(), "t0", 0);
        for i in 1..(WINDOW as u64 + 10) {
            // As long as a provider's ids: `ch_3MtwBwLkdIwHu7ix28a3tqPa`.
            c.count_once(&format!("ch_3MtwBwLkdIwHu7ix{i:010}"));
        }
        assert_eq!(c.recent.len(), WINDOW);
        assert!(c.find("t0").is_none());
        assert_eq!(c.count, WINDOW as u64 + 10);
        let size = serde_json::to_vec(&c)
            .map(|v| v.len())
            .unwrap_or(usize::MAX);
        assert!(size < 6_000, "{size} bytes");
    }
}
