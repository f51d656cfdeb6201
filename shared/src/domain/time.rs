//! Time as the records keep it, and the clock that use cases read it from, so tests can move
//! time instead of sleeping.

use std::sync::atomic::{AtomicI64, Ordering};

/// Epoch milliseconds, the unit of every `created_at` in the API (as the seeds use).
pub type Millis = i64;

/// When a change made at `now` is stamped: `now`, or a millisecond after the previous stamp
/// when the clock has not moved on. A change in the same millisecond as the record's creation
/// or last change must still read as a change, and the event it announces needs its own id.
pub fn change_stamp(previous: Millis, now: Millis) -> Millis {
    now.max(previous.saturating_add(1))
}

pub trait Clock: Send + Sync {
    fn now(&self) -> Millis;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Millis {
        let now = time::OffsetDateTime::now_utc();
        i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
    }
}

/// A clock that stands still until moved: for tests and simulations.
#[derive(Debug, Default)]
pub struct ManualClock {
    now: AtomicI64,
}

impl ManualClock {
    pub fn at(now: Millis) -> Self {
        Self {
            now: AtomicI64::new(now),
        }
    }

    pub fn advance(&self, by: Millis) {
        self.now.fetch_add(by, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Millis {
        self.now.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let clock = ManualClock::at(1_000);
        assert_eq!(clock.now(), 1_000);
        clock.advance(500);
        assert_eq!(clock.now(), 1_500);
        assert!(SystemClock.now() > 1_700_000_000_000);
    }

    #[test]
    fn a_change_in_the_same_millisecond_is_still_a_later_stamp() {
        assert_eq!(change_stamp(1_000, 1_000), 1_001);
        assert_eq!(change_stamp(1_000, 2_000), 2_000);
        // A clock that stepped back never makes a change look older than the last one.
        assert_eq!(change_stamp(5_000, 4_000), 5_001);
    }
}
