//! The refunds a generated sale gets, shaped as its channel sends them.

use rand::Rng;

use crate::scenario::{Channel, Refund};
use crate::world::World;

/// Parts of at least `least` each, drawn while they fit under 80 % of the gross; with `full`,
/// a last part takes the rest (when the rest is itself at least `least`).
fn parts(world: &World, gross: i64, least: i64, full: bool) -> Vec<Refund> {
    let mut rng = world.state();
    let count = rng.rng.random_range(1..4);
    let mut left = gross * 8 / 10;
    let mut taken = 0;
    let mut parts = Vec::new();
    for i in 0..count {
        if left < least {
            break;
        }
        let minor = rng
            .rng
            .random_range(least..=left.min((gross / 3).max(least)));
        left -= minor;
        taken += minor;
        parts.push(Refund::Part {
            id: format!("rf_{i}"),
            minor,
        });
    }
    if full && gross - taken >= least {
        parts.push(Refund::Part {
            id: "rf_last".into(),
            minor: gross - taken,
        });
    }
    parts
}

/// The refunds of a sale. `rival` is the largest gross among the other Recurly payments of the
/// same customer: a Recurly refund names only its account and amount, and the ledger may put it
/// on any of that account's payments with enough left, so each one here is larger than every
/// other payment it could land on, which leaves exactly one that fits whatever the order.
pub fn refunds(world: &World, channel: &Channel, gross: i64, rival: i64) -> Vec<Refund> {
    let kind = world.below(4);
    let full = kind == 3;
    if kind == 0 {
        return vec![];
    }
    match channel {
        Channel::Custom { .. } if kind >= 2 => vec![Refund::Full],
        // A sale still to be assigned is assigned after the history, which a refunded one
        // refuses; incoming webhooks here only sell.
        Channel::Custom { .. } | Channel::Unassigned { .. } | Channel::Incoming { .. } => vec![],
        Channel::Stripe { .. } => {
            // Totals only grow; a partial series stays at or under 80 %, a full one ends at 100 %.
            let mut rng = world.state();
            let count = rng.rng.random_range(1..4);
            let mut totals: Vec<i64> = (0..count)
                .map(|_| rng.rng.random_range(1..=gross * 8 / 10))
                .collect();
            totals.sort_unstable();
            if full {
                totals.push(gross);
            }
            totals.into_iter().map(Refund::Total).collect()
        }
        Channel::Chargebee { .. } | Channel::Chargify { .. } => parts(world, gross, 1, full),
        Channel::Recurly { .. } if gross > rival => parts(world, gross, rival + 1, full),
        Channel::Recurly { .. } => vec![],
    }
}
