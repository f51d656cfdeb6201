//! When to try a delivery again: a pure function of the attempt number and what the endpoint
//! answered, so the schedule is tested without waiting hours.

use std::time::Duration;

/// Waits after the 1st, 2nd, ... failed attempt (about 27 hours in all), then the delivery
/// fails for good. Each wait gets up to ±20 % jitter.
pub const RETRY_SCHEDULE: [u64; 7] = [5, 300, 1800, 7200, 18000, 36000, 36000];
/// Timeouts and 429s wait at least this long.
pub const OVERLOAD_FLOOR_SECONDS: u64 = 60;
/// A `Retry-After` is honoured up to the schedule's longest wait, so a far-off date cannot
/// park a delivery for months.
pub const RETRY_AFTER_CAP_SECONDS: u64 = 36_000;

/// What an attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    Status {
        code: u16,
        /// `Retry-After`, in seconds, when the endpoint sent one.
        retry_after: Option<u64>,
    },
    Timeout,
    /// Could not connect, TLS failed, or the address was refused.
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Delivered,
    RetryIn(Duration),
    /// Failed for good: the schedule is used up.
    GiveUp,
    /// The endpoint said 410 Gone: stop sending to it.
    Disable,
}

/// `attempt` counts from 1; `jitter` is in [-1, 1] and scales the ±20 %.
pub fn decide(attempt: usize, response: &Response, jitter: f64) -> Decision {
    let retry_after = match response {
        Response::Status { code, .. } if (200..300).contains(code) => return Decision::Delivered,
        Response::Status { code: 410, .. } => return Decision::Disable,
        Response::Status {
            code: 429,
            retry_after,
        } => Some(retry_after.unwrap_or(0).max(OVERLOAD_FLOOR_SECONDS)),
        Response::Status { retry_after, .. } => *retry_after,
        Response::Timeout => Some(OVERLOAD_FLOOR_SECONDS),
        Response::Error => None,
    };
    let Some(base) = RETRY_SCHEDULE.get(attempt.saturating_sub(1)) else {
        return Decision::GiveUp;
    };
    let jittered = (*base as f64) * (1.0 + 0.2 * jitter.clamp(-1.0, 1.0));
    let wait = match retry_after {
        Some(floor) => jittered.max(floor.min(RETRY_AFTER_CAP_SECONDS) as f64),
        None => jittered,
    };
    Decision::RetryIn(Duration::from_secs_f64(wait))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16) -> Response {
        Response::Status {
            code,
            retry_after: None,
        }
    }

    #[test]
    fn success_is_2xx_only_and_redirects_fail() {
        assert_eq!(decide(1, &status(200), 0.0), Decision::Delivered);
        assert_eq!(decide(1, &status(204), 0.0), Decision::Delivered);
        assert_eq!(
            decide(1, &status(301), 0.0),
            Decision::RetryIn(Duration::from_secs(5))
        );
        assert_eq!(
            decide(1, &status(500), 0.0),
            Decision::RetryIn(Duration::from_secs(5))
        );
    }

    #[test]
    fn the_schedule_spans_about_a_day_then_gives_up() {
        let waits: Vec<u64> = (1..=7)
            .map(|n| match decide(n, &status(500), 0.0) {
                Decision::RetryIn(d) => d.as_secs(),
                other => panic!("attempt {n}: {other:?}"),
            })
            .collect();
        assert_eq!(waits, RETRY_SCHEDULE);
        assert_eq!(waits.iter().sum::<u64>(), 99_305);
        assert_eq!(decide(8, &status(500), 0.0), Decision::GiveUp);
    }

    #[test]
    fn jitter_stays_within_twenty_percent() {
        for (jitter, secs) in [(-1.0, 240.0), (1.0, 360.0), (5.0, 360.0)] {
            assert_eq!(
                decide(2, &status(503), jitter),
                Decision::RetryIn(Duration::from_secs_f64(secs))
            );
        }
    }

    #[test]
    fn gone_disables_and_overload_waits_at_least_a_minute_or_as_asked() {
        assert_eq!(decide(1, &status(410), 0.0), Decision::Disable);
        assert_eq!(
            decide(1, &Response::Timeout, 0.0),
            Decision::RetryIn(Duration::from_secs(60))
        );
        assert_eq!(
            decide(
                1,
                &Response::Status {
                    code: 429,
                    retry_after: None
                },
                0.0
            ),
            Decision::RetryIn(Duration::from_secs(60))
        );
        assert_eq!(
            decide(
                1,
                &Response::Status {
                    code: 429,
                    retry_after: Some(600)
                },
                0.0
            ),
            Decision::RetryIn(Duration::from_secs(600))
        );
        assert_eq!(
            decide(
                3,
                &Response::Status {
                    code: 503,
                    retry_after: Some(10)
                },
                0.0
            ),
            Decision::RetryIn(Duration::from_secs(1800))
        );
        assert_eq!(
            decide(
                1,
                &Response::Status {
                    code: 429,
                    retry_after: Some(90 * 24 * 3600)
                },
                0.0
            ),
            Decision::RetryIn(Duration::from_secs(RETRY_AFTER_CAP_SECONDS))
        );
        assert_eq!(
            decide(1, &Response::Error, 0.0),
            Decision::RetryIn(Duration::from_secs(5))
        );
    }
}
