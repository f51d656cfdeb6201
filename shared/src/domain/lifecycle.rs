//! A reward's life after it is earned, as pure rules: the holding period it starts in, the
//! sweeper's approval once that period is over, an admin's hold, approval or decline, its claim
//! by a payout, and the clawback of a paid reward that a refund made worth less.
//!
//! Releasing a hold: a held reward leaves `hold` only by an admin's `approve` (the review is
//! over: it becomes available at once, whatever was left of its holding period) or `decline`.
//! The sweeper never approves a held reward: the clock stops.
//!
//! Holds and declines the ledger makes carry their reason, so that only they are undone: a
//! dispute's hold is released when the dispute is won (never an admin's hold), and a decline
//! by a full refund is restored when that refund fails (never an admin's decline).

use crate::domain::reward::{PaymentStatus, Reward, RewardSource, RewardStatus};
use crate::domain::time::Millis;
use rust_decimal::Decimal;

pub const DAY_MS: Millis = 24 * 60 * 60 * 1000;
/// A holding period longer than a year is a mistake, not a policy.
pub const MAX_HOLDING_DAYS: u32 = 365;

/// Sets a new reward's status from the plan's holding period: `pending` until `created_at` +
/// `holding_days`, or `approved` and `available` at once when there is none.
pub fn start(reward: &mut Reward, holding_days: u32) {
    let due = reward
        .created_at
        .saturating_add(Millis::from(holding_days).saturating_mul(DAY_MS));
    reward.payment_date = Some(due);
    if holding_days == 0 {
        reward.reward_status = RewardStatus::Approved;
        reward.payment_status = PaymentStatus::Available;
    } else {
        reward.reward_status = RewardStatus::Pending;
        reward.payment_status = PaymentStatus::Pending;
    }
}

/// The sweeper's approval of a pending reward whose holding period is over; false when there
/// is nothing to do (not pending, not due yet).
pub fn mature(reward: &mut Reward, now: Millis) -> bool {
    let due = reward.payment_date.is_some_and(|due| due <= now);
    if reward.reward_status != RewardStatus::Pending || !due {
        return false;
    }
    approve(reward, now);
    true
}

fn approve(reward: &mut Reward, now: Millis) {
    reward.reward_status = RewardStatus::Approved;
    reward.payment_status = PaymentStatus::Available;
    reward.payment_date = Some(reward.payment_date.map_or(now, |due| due.min(now)));
}

/// Why the ledger declined a reward: its sale was refunded in full.
pub const REFUNDED: &str = "the sale was refunded";

/// The ledger's decline of an unpaid reward whose sale was refunded in full.
pub fn decline_refunded(reward: &mut Reward) {
    reward.reward_status = RewardStatus::Declined;
    reward.payment_status = PaymentStatus::Pending;
    reward.status_reason = Some(REFUNDED.into());
}

/// A reward the ledger held or declined resumes where its clock is: pending until its
/// payment date, approved and available after it.
fn resume(reward: &mut Reward, now: Millis) {
    if resumes_pending(reward, now) {
        reward.reward_status = RewardStatus::Pending;
        reward.payment_status = PaymentStatus::Pending;
    } else {
        approve(reward, now);
    }
    reward.status_reason = None;
}

/// Resuming it now leaves it pending (its entry in the listing by payment date is due first).
pub fn resumes_pending(reward: &Reward, now: Millis) -> bool {
    reward.payment_date.is_some_and(|due| due > now)
}

/// It was declined by [`decline_refunded`].
pub fn declined_by_refund(reward: &Reward) -> bool {
    reward.reward_status == RewardStatus::Declined
        && reward.status_reason.as_deref() == Some(REFUNDED)
}

/// Undoes [`decline_refunded`] once the refund failed; false for any other reward.
pub fn restore_refunded(reward: &mut Reward, now: Millis) -> bool {
    if !declined_by_refund(reward) {
        return false;
    }
    resume(reward, now);
    true
}

/// The ledger's hold of an unpaid reward for `reason` (a dispute): false when it is held
/// already (an admin's hold keeps its reason), paid, declined, or a clawback.
pub fn hold_for(reward: &mut Reward, reason: &str) -> bool {
    let unpaid = matches!(
        reward.reward_status,
        RewardStatus::Pending | RewardStatus::Approved
    );
    if reward.source == RewardSource::Clawback || !unpaid {
        return false;
    }
    reward.reward_status = RewardStatus::Hold;
    reward.payment_status = PaymentStatus::Pending;
    reward.status_reason = Some(reason.into());
    true
}

/// Releases a hold [`hold_for`] placed for `reason`; false for any other reward or hold.
pub fn release(reward: &mut Reward, reason: &str, now: Millis) -> bool {
    if reward.reward_status != RewardStatus::Hold || reward.status_reason.as_deref() != Some(reason)
    {
        return false;
    }
    resume(reward, now);
    true
}

/// What an admin does to a reward.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Review {
    Hold { reason: Option<String> },
    Approve,
    Decline { reason: Option<String> },
}

impl Review {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Hold { .. } => "hold",
            Self::Approve => "approve",
            Self::Decline { .. } => "decline",
        }
    }
}

/// A review the reward's status does not allow (a paid reward approved, a declined one held).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action} a reward that is {status}")]
pub struct IllegalTransition {
    pub action: &'static str,
    pub status: &'static str,
}

pub fn status_name(status: RewardStatus) -> &'static str {
    match status {
        RewardStatus::Hold => "hold",
        RewardStatus::Pending => "pending",
        RewardStatus::Approved => "approved",
        RewardStatus::Declined => "declined",
        RewardStatus::Paid => "paid",
    }
}

/// Applies an admin's review: Ok(true) when it changed the reward, Ok(false) for a repeat (the
/// reward is already where the review leads), Err for a transition the status forbids. Paid
/// rewards and clawbacks are settled by payouts and refunds alone.
pub fn review(
    reward: &mut Reward,
    review: &Review,
    now: Millis,
) -> Result<bool, IllegalTransition> {
    use RewardStatus::*;
    let illegal = || IllegalTransition {
        action: review.name(),
        status: if reward.source == RewardSource::Clawback {
            "a clawback"
        } else {
            status_name(reward.reward_status)
        },
    };
    if reward.source == RewardSource::Clawback {
        return Err(illegal());
    }
    match (review, reward.reward_status) {
        (Review::Hold { .. }, Hold)
        | (Review::Approve, Approved)
        | (Review::Decline { .. }, Declined) => Ok(false),
        (Review::Hold { reason }, Pending | Approved) => {
            reward.reward_status = Hold;
            reward.payment_status = PaymentStatus::Pending;
            reward.status_reason = reason.clone();
            Ok(true)
        }
        (Review::Approve, Pending | Hold) => {
            approve(reward, now);
            reward.status_reason = None;
            Ok(true)
        }
        (Review::Decline { reason }, Pending | Hold | Approved) => {
            reward.reward_status = Declined;
            reward.payment_status = PaymentStatus::Pending;
            reward.status_reason = reason.clone();
            Ok(true)
        }
        _ => Err(illegal()),
    }
}

/// Whether a payout may take the reward: approved and in no payout yet.
pub fn payable(reward: &Reward) -> bool {
    reward.reward_status == RewardStatus::Approved && reward.payout_id.is_none()
}

/// A payout's claim on a reward: `paid` and `withdrawn` under its id. Some(false) when the
/// payout holds it already (a retry); None when it cannot be taken (another payout has it,
/// or it is no longer approved).
pub fn claim(reward: &mut Reward, payout_id: &str) -> Option<bool> {
    if reward.payout_id.as_deref() == Some(payout_id) {
        return Some(false);
    }
    if !payable(reward) {
        return None;
    }
    reward.reward_status = RewardStatus::Paid;
    reward.payment_status = PaymentStatus::Withdrawn;
    reward.payout_id = Some(payout_id.to_string());
    Some(true)
}

/// How much more to claw back from a paid reward now worth `worth_now`, given the clawbacks
/// written so far (negative amounts): the paid amount less what it is worth, less what was
/// clawed back already. Refunds only grow, so this is never negative; zero means done.
pub fn clawback_due(paid: &Reward, worth_now: Decimal, clawed_so_far: Decimal) -> Decimal {
    let owed = paid.amount - worth_now.max(Decimal::ZERO).min(paid.amount);
    (owed + clawed_so_far).max(Decimal::ZERO)
}

/// The clawback of `paid`, the `n`th of it (`{reward}:cb{n}`), taking back `amount`: approved
/// and available at once, never held.
pub fn clawback(paid: &Reward, n: usize, amount: Decimal, now: Millis) -> Reward {
    Reward {
        key: format!("{}:cb{n:03}", paid.key),
        source: RewardSource::Clawback,
        reverses: Some(paid.key.clone()),
        amount: -amount,
        reward_status: RewardStatus::Approved,
        payment_status: PaymentStatus::Available,
        payment_date: Some(now),
        payout_id: None,
        status_reason: None,
        description: format!("clawback of reward {} after a refund", paid.key),
        created_at: now,
        updated_at: now,
        ..paid.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::reward::sample;

    fn reward(amount: i64) -> Reward {
        Reward {
            created_at: 1_000,
            updated_at: 1_000,
            ..sample("tx", Decimal::new(amount, 2), "USD")
        }
    }

    #[test]
    fn a_new_reward_waits_its_holding_period_or_is_available_at_once() {
        let mut held = reward(500);
        start(&mut held, 30);
        assert_eq!(held.reward_status, RewardStatus::Pending);
        assert_eq!(held.payment_status, PaymentStatus::Pending);
        assert_eq!(held.payment_date, Some(1_000 + 30 * DAY_MS));
        let mut now = reward(500);
        start(&mut now, 0);
        assert_eq!(
            (now.reward_status, now.payment_status, now.payment_date),
            (
                RewardStatus::Approved,
                PaymentStatus::Available,
                Some(1_000)
            )
        );
    }

    #[test]
    fn the_sweeper_approves_only_due_pending_rewards() {
        let mut r = reward(500);
        start(&mut r, 1);
        assert!(!mature(&mut r, 1_000 + DAY_MS - 1));
        assert!(mature(&mut r, 1_000 + DAY_MS + 5));
        assert_eq!(r.reward_status, RewardStatus::Approved);
        assert_eq!(r.payment_date, Some(1_000 + DAY_MS));
        assert!(
            !mature(&mut r, 1_000 + 2 * DAY_MS),
            "a repeat changes nothing"
        );
        let mut held = reward(500);
        start(&mut held, 1);
        review(&mut held, &Review::Hold { reason: None }, 2_000).unwrap();
        assert!(
            !mature(&mut held, 1_000 + 9 * DAY_MS),
            "a held clock stands still"
        );
    }

    #[test]
    fn reviews_repeat_idempotently_and_refuse_what_the_status_forbids() {
        let mut r = reward(500);
        let hold = Review::Hold {
            reason: Some("fraud review".into()),
        };
        assert_eq!(review(&mut r, &hold, 5), Ok(true));
        assert_eq!(review(&mut r, &hold, 6), Ok(false));
        assert_eq!(r.status_reason.as_deref(), Some("fraud review"));
        assert_eq!(review(&mut r, &Review::Approve, 7), Ok(true));
        assert_eq!(
            (r.payment_status, r.payment_date),
            (PaymentStatus::Available, Some(7))
        );
        assert_eq!(review(&mut r, &Review::Approve, 8), Ok(false));
        claim(&mut r, "po_1").unwrap();
        let err = review(&mut r, &Review::Approve, 9).unwrap_err();
        assert_eq!(err.to_string(), "cannot approve a reward that is paid");
        let mut d = reward(500);
        let decline = Review::Decline {
            reason: Some("test order".into()),
        };
        assert_eq!(review(&mut d, &decline, 5), Ok(true));
        assert_eq!(review(&mut d, &decline, 6), Ok(false));
        assert!(review(&mut d, &Review::Approve, 7).is_err());
        assert!(review(&mut d, &hold, 7).is_err());
    }

    #[test]
    fn a_payout_claims_an_approved_reward_once() {
        let mut r = reward(500);
        assert_eq!(claim(&mut r, "po_1"), None, "pending is not payable");
        start(&mut r, 0);
        assert_eq!(claim(&mut r, "po_1"), Some(true));
        assert_eq!(
            (r.reward_status, r.payment_status),
            (RewardStatus::Paid, PaymentStatus::Withdrawn)
        );
        assert_eq!(claim(&mut r, "po_1"), Some(false));
        assert_eq!(claim(&mut r, "po_2"), None);
    }

    #[test]
    fn the_ledgers_holds_and_declines_are_undone_and_no_one_elses() {
        let dispute = "dispute dp_1 is open";
        let mut r = reward(500);
        start(&mut r, 30);
        assert!(hold_for(&mut r, dispute));
        assert!(!hold_for(&mut r, "dispute dp_2 is open"), "held already");
        assert!(!release(&mut r, "dispute dp_2 is open", 2_000));
        assert!(resumes_pending(&r, 2_000));
        assert!(release(&mut r, dispute, 2_000));
        assert_eq!(
            (r.reward_status, r.status_reason.clone()),
            (RewardStatus::Pending, None)
        );
        // Released after its holding period: available at once.
        hold_for(&mut r, dispute);
        assert!(release(&mut r, dispute, 1_000 + 31 * DAY_MS));
        assert_eq!(r.reward_status, RewardStatus::Approved);
        // An admin's hold is never released by a dispute, even one naming the same words
        // elsewhere; an admin's decline is never restored.
        let mut held = reward(500);
        review(
            &mut held,
            &Review::Hold {
                reason: Some("fraud".into()),
            },
            5,
        )
        .unwrap();
        assert!(!hold_for(&mut held, dispute));
        assert!(!release(&mut held, dispute, 6));
        assert_eq!(held.status_reason.as_deref(), Some("fraud"));
        let mut declined = reward(500);
        review(&mut declined, &Review::Decline { reason: None }, 5).unwrap();
        assert!(!restore_refunded(&mut declined, 6));
        let mut refunded = reward(500);
        start(&mut refunded, 0);
        decline_refunded(&mut refunded);
        assert!(restore_refunded(&mut refunded, 2_000));
        assert_eq!(refunded.reward_status, RewardStatus::Approved);
        assert!(
            !restore_refunded(&mut refunded, 2_001),
            "a repeat changes nothing"
        );
        let mut paid = reward(500);
        start(&mut paid, 0);
        claim(&mut paid, "po_1");
        assert!(!hold_for(&mut paid, dispute));
        assert!(!hold_for(&mut clawback(&paid, 1, Decimal::ONE, 9), dispute));
    }

    #[test]
    fn clawbacks_add_up_to_what_the_paid_reward_lost() {
        let paid = reward(1_000);
        // Worth 7.00 now: 3.00 is owed back; after a first clawback of 3.00, nothing more.
        assert_eq!(
            clawback_due(&paid, Decimal::new(700, 2), Decimal::ZERO),
            Decimal::new(300, 2)
        );
        assert_eq!(
            clawback_due(&paid, Decimal::new(700, 2), Decimal::new(-300, 2)),
            Decimal::ZERO
        );
        // A later refund leaves it worth 2.00: 5.00 more, 8.00 in all.
        assert_eq!(
            clawback_due(&paid, Decimal::new(200, 2), Decimal::new(-300, 2)),
            Decimal::new(500, 2)
        );
        let cb = clawback(&paid, 1, Decimal::new(500, 2), 9);
        assert_eq!(cb.key, "tx:1:cb001");
        assert_eq!(cb.amount, Decimal::new(-500, 2));
        assert_eq!(
            (cb.source, cb.reward_status, cb.payment_status),
            (
                RewardSource::Clawback,
                RewardStatus::Approved,
                PaymentStatus::Available
            )
        );
        assert_eq!(cb.reverses.as_deref(), Some("tx:1"));
        assert!(payable(&cb));
    }
}
