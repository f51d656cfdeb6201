//! A randomized history: a program with a multi-level plan, partners in referral chains,
//! customers, and sales from the custom webhook, Stripe and Chargebee with their refunds, sent
//! in a shuffled order (customers and their links after payments, refunds before payments),
//! some twice.

use rand::seq::SliceRandom;
use rand::Rng;

use crate::world::World;

pub const CURRENCIES: [&str; 3] = ["USD", "JPY", "KWD"];

#[derive(Debug, Clone)]
pub struct PartnerSpec {
    pub key: String,
    pub id: String,
    pub referrer: Option<usize>,
}

#[derive(Debug, Clone)]
pub struct CustomerSpec {
    pub key: String,
    pub partner: usize,
    /// The customer's id at Stripe, linked to its key by a `customer.created` event.
    pub stripe_id: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Channel {
    /// The custom webhook, naming the partner by id.
    Custom { partner: usize },
    /// Stripe, naming the customer by its Stripe id only.
    Stripe { customer: usize },
    /// Chargebee, naming the customer by its key in `meta_data`.
    Chargebee { customer: usize },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Refund {
    /// The custom webhook's `transaction.refunded`: all of it.
    Full,
    /// Stripe's `charge.refunded`: the total refunded so far, in minor units.
    Total(i64),
    /// Chargebee's `payment_refunded`: one refund of its own id and amount.
    Part { id: String, minor: i64 },
}

#[derive(Debug, Clone)]
pub struct Sale {
    pub key: String,
    pub channel: Channel,
    pub currency: &'static str,
    pub gross: i64,
    /// Custom sales may give a net amount below the gross.
    pub net: Option<i64>,
    pub refunds: Vec<Refund>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    CreateCustomer(usize),
    LinkStripeCustomer(usize),
    Payment(usize),
    Refund {
        sale: usize,
        refund: usize,
    },
    /// A signup of the partner (`POST /v1/actions`), under the key `signup-{partner}`.
    Action(usize),
}

#[derive(Debug, Clone)]
pub struct Scenario {
    pub currency: &'static str,
    pub levels: Vec<u32>,
    pub partners: Vec<PartnerSpec>,
    pub customers: Vec<CustomerSpec>,
    pub sales: Vec<Sale>,
    /// What is sent, in order; an entry is a group sent at the same moment.
    pub steps: Vec<Vec<Event>>,
}

fn refunds(world: &World, channel: &Channel, gross: i64) -> Vec<Refund> {
    let mut rng = world.state();
    let kind = rng.rng.random_range(0..4);
    let full = kind == 3;
    match channel {
        Channel::Custom { .. } if full || kind == 2 => vec![Refund::Full],
        Channel::Custom { .. } => vec![],
        Channel::Stripe { .. } => {
            // Totals only grow; a partial series stays at or under 80 %, a full one ends at 100 %.
            let count = if kind == 0 {
                0
            } else {
                rng.rng.random_range(1..4)
            };
            let mut totals: Vec<i64> = (0..count)
                .map(|_| rng.rng.random_range(1..=gross * 8 / 10))
                .collect();
            totals.sort_unstable();
            if full {
                totals.push(gross);
            }
            totals.into_iter().map(Refund::Total).collect()
        }
        Channel::Chargebee { .. } => {
            let count = if kind == 0 {
                0
            } else {
                rng.rng.random_range(1..4)
            };
            let mut left = gross * 8 / 10;
            let mut parts = Vec::new();
            for i in 0..count {
                if left < 1 {
                    break;
                }
                let minor = rng.rng.random_range(1..=left.min(gross / 3).max(1));
                left -= minor;
                parts.push(Refund::Part {
                    id: format!("rf_{i}"),
                    minor,
                });
            }
            if full {
                let taken: i64 = parts
                    .iter()
                    .map(|p| match p {
                        Refund::Part { minor, .. } => *minor,
                        _ => 0,
                    })
                    .sum();
                parts.push(Refund::Part {
                    id: "rf_last".into(),
                    minor: gross - taken,
                });
            }
            parts
        }
    }
}

pub fn generate(world: &World) -> Scenario {
    let (currency, levels, partner_count, customer_count, sale_count) = {
        let mut s = world.state();
        let currency = CURRENCIES[s.rng.random_range(0..CURRENCIES.len())];
        let level_count = s.rng.random_range(1..=3);
        let levels = [20, 5, 2][..level_count].to_vec();
        (
            currency,
            levels,
            s.rng.random_range(1..=4),
            s.rng.random_range(1..=3),
            s.rng.random_range(1..=5),
        )
    };
    let partners: Vec<PartnerSpec> = (0..partner_count)
        .map(|i| PartnerSpec {
            key: format!("pat{i}"),
            id: format!("P-{i}"),
            referrer: (i > 0 && world.chance(0.7)).then(|| world.below(i)),
        })
        .collect();
    let customers: Vec<CustomerSpec> = (0..customer_count)
        .map(|i| CustomerSpec {
            key: format!("cust{i}"),
            partner: world.below(partner_count),
            stripe_id: format!("cus_{i}"),
        })
        .collect();
    let sales: Vec<Sale> = (0..sale_count)
        .map(|i| {
            let channel = match world.below(3) {
                0 => Channel::Custom {
                    partner: world.below(partner_count),
                },
                1 => Channel::Stripe {
                    customer: world.below(customer_count),
                },
                _ => Channel::Chargebee {
                    customer: world.below(customer_count),
                },
            };
            let currency = CURRENCIES[world.below(CURRENCIES.len())];
            let gross = 1_000 + world.below(99_000) as i64;
            let net = (matches!(channel, Channel::Custom { .. }) && world.chance(0.5))
                .then(|| gross * 84 / 100);
            let refunds = refunds(world, &channel, gross);
            Sale {
                key: format!("sale{i}"),
                channel,
                currency,
                gross,
                net,
                refunds,
            }
        })
        .collect();

    let mut events: Vec<Event> = Vec::new();
    for c in 0..customers.len() {
        events.push(Event::CreateCustomer(c));
        events.push(Event::LinkStripeCustomer(c));
    }
    for (s, sale) in sales.iter().enumerate() {
        events.push(Event::Payment(s));
        for r in 0..sale.refunds.len() {
            events.push(Event::Refund { sale: s, refund: r });
        }
    }
    // Providers retry what they delivered: some events arrive twice.
    let repeats: Vec<Event> = events
        .iter()
        .filter(|_| world.chance(0.2))
        .cloned()
        .collect();
    events.extend(repeats);
    events.shuffle(&mut world.state().rng);
    let mut steps = Vec::new();
    let mut rest = events.into_iter().peekable();
    while let Some(event) = rest.next() {
        let mut group = vec![event];
        // Related events at the same moment, as Stripe sends them.
        while rest.peek().is_some() && world.chance(0.3) {
            group.extend(rest.next());
        }
        steps.push(group);
    }
    // Each partner's signup, twice (a client's retry), placed without the generator's random
    // numbers so the payment histories of every seed stay as they were.
    let count = steps.len().max(1);
    for p in 0..partners.len() {
        for slot in [p % count, (p * 7 + 3) % count] {
            if let Some(group) = steps.get_mut(slot) {
                group.push(Event::Action(p));
            }
        }
    }
    Scenario {
        currency,
        levels,
        partners,
        customers,
        sales,
        steps,
    }
}
