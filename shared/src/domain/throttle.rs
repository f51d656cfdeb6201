//! A program's allowance of refused webhooks: a token bucket of [`BURST`] requests refilled one
//! per [`REFILL_MS`]. Only requests whose sender was not verified draw from it, so valid
//! traffic never reads or writes it. It is kept as one time (the generic cell rate algorithm):
//! `full_at`, when the bucket is full again; a missing bucket is full.

use crate::domain::time::Millis;
use serde::{Deserialize, Serialize};

/// Refused requests a program may have recorded at once, after a quiet spell.
pub const BURST: i64 = 60;
/// One more refused request is recorded per this many milliseconds (3,600 an hour).
pub const REFILL_MS: i64 = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusalBucket {
    /// When the bucket holds [`BURST`] tokens again; each token taken moves it [`REFILL_MS`] on.
    pub full_at: Millis,
}

impl RefusalBucket {
    /// The bucket after one token taken at `now` from a full one.
    pub fn first_take(now: Millis) -> Self {
        Self {
            full_at: now.saturating_add(REFILL_MS),
        }
    }

    /// The bucket after taking one token at `now`, or the milliseconds until a token is there.
    pub fn take(self, now: Millis) -> Result<Self, Millis> {
        // A clock that went back refills nothing, and an old bucket is just full.
        let owed = self.full_at.max(now).saturating_sub(now);
        let room = (BURST - 1) * REFILL_MS;
        if owed > room {
            return Err(owed - room);
        }
        Ok(Self {
            full_at: now.saturating_add(owed).saturating_add(REFILL_MS),
        })
    }

    /// Epoch seconds after which the store may drop the bucket: once full, it is the same as
    /// none. An hour's margin, since TTL deletion is lazy anyway.
    pub fn expires_at(self) -> i64 {
        self.full_at / 1000 + 3600
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(mut bucket: RefusalBucket, now: Millis) -> (RefusalBucket, i64) {
        let mut taken = 0;
        while let Ok(next) = bucket.take(now) {
            bucket = next;
            taken += 1;
        }
        (bucket, taken)
    }

    #[test]
    fn a_full_bucket_gives_the_burst_then_one_token_per_refill() {
        let start = 1_700_000_000_000;
        let first = RefusalBucket::first_take(start);
        let (empty, taken) = drain(first, start);
        assert_eq!(taken + 1, BURST);
        assert_eq!(
            empty.take(start),
            Err(REFILL_MS),
            "the next token is a refill away"
        );
        assert_eq!(empty.take(start + 400), Err(REFILL_MS - 400));
        let later = empty.take(start + REFILL_MS).expect("refilled one");
        assert_eq!(later.take(start + REFILL_MS), Err(REFILL_MS));
        // Long after, the bucket is full again, never fuller.
        let (_, taken) = drain(later, start + 3_600_000);
        assert_eq!(taken, BURST);
    }

    #[test]
    fn a_clock_that_goes_back_refills_nothing() {
        let (empty, _) = drain(RefusalBucket::first_take(10_000_000), 10_000_000);
        assert!(empty.take(9_000_000).is_err());
        assert!(empty.expires_at() >= empty.full_at / 1000);
    }

    #[test]
    fn extreme_times_do_not_overflow() {
        assert!(RefusalBucket::first_take(i64::MAX).take(i64::MAX).is_ok());
        assert!(RefusalBucket { full_at: i64::MIN }.take(0).is_ok());
        assert!(RefusalBucket { full_at: i64::MAX }.take(i64::MIN).is_err());
    }
}
