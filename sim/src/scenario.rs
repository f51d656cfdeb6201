//! A randomized history: a program with a multi-level plan, partners in referral chains,
//! partners created meanwhile, customers, and sales from the custom webhook, Stripe, Chargebee, Recurly, Chargify and an
//! incoming webhook with their refunds, sent in a shuffled order (customers and their links
//! after payments, refunds before payments), some twice; then sales nobody could attribute
//! are assigned by an admin. Among them, the reward lifecycle: sweeps that approve what is
//! due, payouts (repeated, and racing each other) that pay it, refunds after them that claw
//! back; disputes on some Stripe sales, won or lost, opened and closed in either order (some
//! across the last sweep); once over, a last sweep and payout per partner and currency.

use rand::seq::SliceRandom;
use rand::Rng;

use crate::refunds::refunds;
use crate::world::World;

pub const CURRENCIES: [&str; 3] = ["USD", "JPY", "KWD"];

#[derive(Debug, Clone)]
pub struct PartnerSpec {
    pub key: String,
    pub id: String,
    pub referrer: Option<usize>,
    /// Created through the API during the history rather than before it; no sale or customer
    /// names it, as the ones that do need it to exist when they arrive.
    pub late: bool,
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
    /// The custom webhook naming a partner id the program lacks; an admin assigns the sale to
    /// `partner` once the history is over.
    Unassigned { partner: usize },
    /// Stripe, naming the customer by its Stripe id only.
    Stripe { customer: usize },
    /// Chargebee, naming the customer by its key in `meta_data`.
    Chargebee { customer: usize },
    /// Recurly's XML, naming the customer by its key as `account_code`.
    Recurly { customer: usize },
    /// Chargify, naming the customer by its key as the customer's `reference`.
    Chargify { customer: usize },
    /// An incoming webhook mapped to `create_transaction`, naming a new buyer and its partner.
    Incoming { partner: usize },
}

impl Channel {
    /// The customer the sale names, for the channels that name one of the history's customers.
    pub fn customer(&self) -> Option<usize> {
        match *self {
            Self::Stripe { customer }
            | Self::Chargebee { customer }
            | Self::Recurly { customer }
            | Self::Chargify { customer } => Some(customer),
            Self::Custom { .. } | Self::Unassigned { .. } | Self::Incoming { .. } => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Refund {
    /// The custom webhook's `transaction.refunded`: all of it.
    Full,
    /// Stripe's `charge.refunded`: the total refunded so far, in minor units.
    Total(i64),
    /// One refund of its own id and amount (Chargebee, Chargify, Recurly).
    Part { id: String, minor: i64 },
}

/// How a Stripe sale's dispute closes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DisputeEnd {
    Won,
    /// Lost: this much (minor units) counts as refunded.
    Lost(i64),
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
    /// A Stripe sale's dispute: opened, then closed (sometimes the other way round), some
    /// twice.
    pub dispute: Option<DisputeEnd>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    CreatePartner(usize),
    CreateCustomer(usize),
    LinkStripeCustomer(usize),
    Payment(usize),
    Refund {
        sale: usize,
        refund: usize,
    },
    /// `charge.dispute.created` of the sale's dispute.
    DisputeOpened(usize),
    /// `charge.dispute.closed` of the sale's dispute, won or lost.
    DisputeClosed(usize),
    /// An admin assigns an unassigned sale to its partner.
    Assign(usize),
    /// A signup of the partner (`POST /v1/actions`), under the key `signup-{partner}`.
    Action(usize),
    /// `POST /v1/payouts` of the partner's approved rewards in a currency, under the
    /// Idempotency-Key `payout-{partner}-{currency}-{round}`: a repeat of a round is a retry
    /// of the same payout, two rounds at once race for the same rewards.
    Payout {
        partner: usize,
        currency: &'static str,
        round: usize,
    },
    /// The scheduled sweeper, once the holding period has passed (the clock moves on by it).
    Sweep,
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
    /// What admins send once the history has quiesced.
    pub afterwards: Vec<Event>,
    /// The plan's holding period: 0 (rewards approved at once) or some days.
    pub holding_days: u32,
}

fn channel(world: &World, partners: usize, customers: usize) -> Channel {
    let partner = world.below(partners);
    let customer = world.below(customers);
    match world.below(7) {
        0 => Channel::Custom { partner },
        1 => Channel::Unassigned { partner },
        2 => Channel::Stripe { customer },
        3 => Channel::Chargebee { customer },
        4 => Channel::Recurly { customer },
        5 => Channel::Chargify { customer },
        _ => Channel::Incoming { partner },
    }
}

/// Sales with their channels and amounts, then their refunds, which for Recurly depend on the
/// customer's other payments.
fn sales(world: &World, partners: usize, customers: usize) -> Vec<Sale> {
    let count = world.state().rng.random_range(1..=5);
    let mut sales: Vec<Sale> = (0..count)
        .map(|i| {
            let channel = channel(world, partners, customers);
            let gross = 1_000 + world.below(99_000) as i64;
            let net = (matches!(channel, Channel::Custom { .. }) && world.chance(0.5))
                .then(|| gross * 84 / 100);
            Sale {
                key: format!("sale{i}"),
                channel,
                currency: CURRENCIES[world.below(CURRENCIES.len())],
                gross,
                net,
                refunds: vec![],
                dispute: None,
            }
        })
        .collect();
    for s in 0..sales.len() {
        let recurly = |sale: &Sale| match sale.channel {
            Channel::Recurly { customer } => Some(customer),
            _ => None,
        };
        let rival = sales
            .iter()
            .enumerate()
            .filter(|(t, other)| *t != s && recurly(other).is_some())
            .filter(|(_, other)| recurly(other) == recurly(&sales[s]))
            .map(|(_, other)| other.gross)
            .max()
            .unwrap_or(0);
        sales[s].refunds = refunds(world, &sales[s].channel, sales[s].gross, rival);
    }
    add_disputes(&mut sales);
    sales
}

/// Disputes on some Stripe sales, chosen without the generator's random numbers so the
/// histories of every seed stay as they were: won on every third, lost on the next one when
/// it has no refunds (Stripe refuses to refund a disputed charge), in full or half.
fn add_disputes(sales: &mut [Sale]) {
    for (s, sale) in sales.iter_mut().enumerate() {
        if !matches!(sale.channel, Channel::Stripe { .. }) {
            continue;
        }
        sale.dispute = match s % 3 {
            0 => Some(DisputeEnd::Won),
            1 if sale.refunds.is_empty() => Some(DisputeEnd::Lost(if s % 2 == 0 {
                sale.gross
            } else {
                sale.gross / 2
            })),
            _ => None,
        };
    }
}

/// The disputes opened once the history is over (before the sweep) and closed after it, so a
/// held reward must be passed over by the sweep and approved on its release.
fn late_disputes(sales: &[Sale]) -> Vec<usize> {
    (0..sales.len())
        .filter(|&s| sales[s].dispute.is_some() && s % 2 == 1)
        .collect()
}

/// The other disputes among the history: opened and closed a few steps after the charge could
/// be recorded (its payment, its customer and the customer's link delivered), mostly opened
/// first, sometimes closed first, the close again later (Stripe's retry). No random numbers
/// are drawn.
fn place_disputes(steps: &mut [Vec<Event>], sales: &[Sale]) {
    let count = steps.len();
    for s in (0..sales.len()).filter(|&s| sales[s].dispute.is_some() && s % 2 == 0) {
        let Channel::Stripe { customer } = sales[s].channel else {
            continue;
        };
        let needed = [
            Event::Payment(s),
            Event::CreateCustomer(customer),
            Event::LinkStripeCustomer(customer),
        ];
        let recordable = needed
            .iter()
            .filter_map(|event| steps.iter().position(|group| group.contains(event)))
            .max()
            .unwrap_or(0);
        let at = |offset: usize| (recordable + offset).min(count.saturating_sub(1));
        let (opened, closed) = if s % 4 == 2 {
            (at(6), at(4))
        } else {
            (at(3), at(6))
        };
        for (slot, event) in [
            (opened, Event::DisputeOpened(s)),
            (closed, Event::DisputeClosed(s)),
            (at(8), Event::DisputeClosed(s)),
        ] {
            if let Some(group) = steps.get_mut(slot) {
                group.push(event);
            }
        }
    }
}

pub fn generate(world: &World) -> Scenario {
    let (currency, levels, partner_count, customer_count) = {
        let mut s = world.state();
        let currency = CURRENCIES[s.rng.random_range(0..CURRENCIES.len())];
        let level_count = s.rng.random_range(1..=3);
        let levels = [20, 5, 2][..level_count].to_vec();
        (
            currency,
            levels,
            s.rng.random_range(1..=4),
            s.rng.random_range(1..=3),
        )
    };
    let late_count = world.below(3);
    let partners: Vec<PartnerSpec> = (0..partner_count + late_count)
        .map(|i| PartnerSpec {
            key: format!("pat{i}"),
            id: format!("P-{i}"),
            referrer: (i > 0 && world.chance(0.7)).then(|| world.below(i.min(partner_count))),
            late: i >= partner_count,
        })
        .collect();
    let customers: Vec<CustomerSpec> = (0..customer_count)
        .map(|i| CustomerSpec {
            key: format!("cust{i}"),
            partner: world.below(partner_count),
            stripe_id: format!("cus_{i}"),
        })
        .collect();
    let sales = sales(world, partner_count, customer_count);

    let mut events: Vec<Event> = (0..partners.len())
        .filter(|&p| partners[p].late)
        .map(Event::CreatePartner)
        .collect();
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
    // Partners created during the history are left out: a signup may come before them.
    for p in (0..partners.len()).filter(|&p| !partners[p].late) {
        for slot in [p % count, (p * 7 + 3) % count] {
            if let Some(group) = steps.get_mut(slot) {
                group.push(Event::Action(p));
            }
        }
    }
    let holding_days = if sales.len().is_multiple_of(2) { 0 } else { 2 };
    place_payouts(&mut steps, &partners);
    place_disputes(&mut steps, &sales);
    let mut afterwards: Vec<Event> = (0..sales.len())
        .filter(|&s| matches!(sales[s].channel, Channel::Unassigned { .. }))
        .map(Event::Assign)
        .collect();
    // Once the history is over, what is due is approved and paid, clawbacks netted.
    let late = late_disputes(&sales);
    afterwards.extend(late.iter().map(|&s| Event::DisputeOpened(s)));
    afterwards.push(Event::Sweep);
    afterwards.extend(late.iter().map(|&s| Event::DisputeClosed(s)));
    for p in (0..partners.len()).filter(|&p| !partners[p].late) {
        for currency in CURRENCIES {
            afterwards.push(Event::Payout {
                partner: p,
                currency,
                round: 9,
            });
        }
    }
    Scenario {
        currency,
        levels,
        partners,
        customers,
        sales,
        steps,
        afterwards,
        holding_days,
    }
}

/// Payouts and sweeps among the history, placed without the generator's random numbers (so
/// the payment histories of every seed stay as they were): each partner's payout in each
/// currency, another round of it at the same moment for some (a race for the same rewards)
/// the same round again later (a retry), and a later round, with sweeps between.
fn place_payouts(steps: &mut [Vec<Event>], partners: &[PartnerSpec]) {
    let count = steps.len().max(1);
    for (c, currency) in CURRENCIES.into_iter().enumerate() {
        for p in (0..partners.len()).filter(|&p| !partners[p].late) {
            let slot = (p * 3 + c * 5 + count / 4) % count;
            let payout = |round| Event::Payout {
                partner: p,
                currency,
                round,
            };
            if let Some(group) = steps.get_mut(slot) {
                group.push(payout(0));
                if (p + c).is_multiple_of(2) {
                    group.push(payout(1));
                }
            }
            if let Some(group) = steps.get_mut((slot + 2) % count) {
                group.push(payout(0));
            }
            if let Some(group) = steps.get_mut((slot + count / 2) % count) {
                group.push(payout(2));
            }
        }
    }
    for slot in [count / 5, count / 2] {
        if let Some(group) = steps.get_mut(slot) {
            group.insert(0, Event::Sweep);
        }
    }
}
