//! The events partners hear of, and their payloads as PartnerStack's postbacks shape them:
//! `{"event": "reward.created", "data": {...}}` with amounts in cents and times in epoch
//! milliseconds. Pure: the same event always has the same id and body.

use crate::domain::action::Action;
use crate::domain::customer::Customer;
use crate::domain::money::Currency;
use crate::domain::program::Program;
use crate::domain::reward::{Reward, RewardSource, RewardStatus};
use crate::domain::transaction::{Transaction, TransactionStatus};
use rust_decimal::Decimal;
use serde_json::{json, Value};

/// What happened, for whom: the payload is built only if someone subscribed.
pub enum Event<'a> {
    RewardCreated(&'a Reward),
    RewardUpdated(&'a Reward),
    TransactionCreated(&'a Transaction),
    TransactionUpdated(&'a Transaction),
    CustomerCreated(&'a Customer),
    CustomerUpdated(&'a Customer),
    CustomerDeleted(&'a Customer),
    ActionCreated(&'a Action),
    ActionUpdated(&'a Action),
}

impl Event<'_> {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::RewardCreated(_) => "reward.created",
            Self::RewardUpdated(_) => "reward.updated",
            Self::TransactionCreated(_) => "transaction.created",
            Self::TransactionUpdated(_) => "transaction.updated",
            Self::CustomerCreated(_) => "customer.created",
            Self::CustomerUpdated(_) => "customer.updated",
            Self::CustomerDeleted(_) => "customer.deleted",
            Self::ActionCreated(_) => "action.created",
            Self::ActionUpdated(_) => "action.updated",
        }
    }

    /// Same event, same id: a redelivered job cannot send it twice.
    pub fn identity(&self) -> String {
        match self {
            Self::RewardCreated(r) => r.key.clone(),
            Self::RewardUpdated(r) => format!("{}@{}", r.key, r.updated_at),
            Self::TransactionCreated(t) => t.key.clone(),
            Self::TransactionUpdated(t) => format!("{}@{}", t.key, t.updated_at),
            Self::ActionCreated(a) => a.key.clone(),
            Self::ActionUpdated(a) => format!("{}@{}", a.key, a.updated_at),
            // A customer may join, change in and leave a partnership more than once.
            Self::CustomerCreated(c) | Self::CustomerUpdated(c) | Self::CustomerDeleted(c) => {
                format!("{}@{}", c.key, c.last_change())
            }
        }
    }

    pub fn data(&self, program: &Program, partner_key: &str) -> Value {
        let company = json!({ "key": program.slug, "name": program.name });
        match self {
            Self::RewardCreated(r) | Self::RewardUpdated(r) => {
                // A declined reward will never be paid: it has no payment to speak of.
                let (payment_status, payment_date) = match r.reward_status {
                    RewardStatus::Declined => (Value::Null, Value::Null),
                    _ => (json!(r.payment_status), json!(r.payment_date)),
                };
                // Rewards from before descriptions say what they can.
                let description = match r.source {
                    _ if !r.description.is_empty() => r.description.clone(),
                    RewardSource::Transaction => format!(
                        "{}% of transaction {} (level {})",
                        r.percent,
                        r.origin(),
                        r.level
                    ),
                    RewardSource::Action => format!("for action {}", r.origin()),
                    RewardSource::Clawback => format!(
                        "clawback of reward {} after a refund",
                        r.reverses.as_deref().unwrap_or_default()
                    ),
                };
                json!({
                    "key": r.key,
                    "description": description,
                    "amount": cents(r.currency, r.amount),
                    "amount_usd": usd_cents(program, r.currency, r.amount),
                    "currency": r.currency,
                    "reward_status": r.reward_status,
                    "payment_status": payment_status,
                    "payment_date": payment_date,
                    "source": r.source,
                    "rule": r.rule,
                    "level": r.level,
                    "percent": r.flat.is_none().then_some(r.percent),
                    "flat": r.flat.map(|f| cents(r.currency, f)),
                    "base_amount": r.base_amount.map(|b| cents(r.currency, b)),
                    "partnership_key": partner_key,
                    "created_at": r.created_at,
                    "updated_at": r.updated_at,
                    "company": company,
                    "customer": { "key": r.customer_key, "sub_ids": [] },
                    "transaction_key": r.transaction_key,
                    "action_key": r.action_key,
                    "payout_id": r.payout_id,
                    "reverses": r.reverses,
                })
            }
            Self::TransactionCreated(t) | Self::TransactionUpdated(t) => json!({
                "key": t.key,
                "amount": cents(t.amounts.currency, t.amounts.gross),
                "amount_usd": usd_cents(program, t.amounts.currency, t.amounts.gross),
                "currency": t.amounts.currency,
                "product_key": t.product.id,
                "partnership_key": partner_key,
                "archived": t.status == TransactionStatus::Refunded,
                "created_at": t.created_at,
                "updated_at": t.updated_at,
                "company": company,
                "customer": { "key": t.customer_key, "sub_ids": [] },
            }),
            Self::CustomerCreated(c) | Self::CustomerUpdated(c) | Self::CustomerDeleted(c) => {
                json!({
                    "key": c.key,
                    "sub_ids": [],
                    "has_paid": c.has_paid,
                    "partnership_key": partner_key,
                    "created_at": c.created_at,
                    "updated_at": c.last_change(),
                    "company": company,
                })
            }
            Self::ActionCreated(a) | Self::ActionUpdated(a) => json!({
                "key": a.key,
                "type": a.kind,
                "value": a.value,
                "partnership_key": partner_key,
                "archived": a.archived,
                "created_at": a.created_at,
                "updated_at": a.updated_at,
                "company": company,
                // A partner's own action (no customer) has none, as the seed's shape allows.
                "customer": a.customer_key.as_ref().map(|key| json!({ "key": key, "sub_ids": [] })),
            }),
        }
    }
}

fn cents(currency: Currency, amount: Decimal) -> Option<i64> {
    currency.to_minor(amount).ok()
}

/// USD cents at the program's configured rate; null when no rate is set for the currency.
fn usd_cents(program: &Program, currency: Currency, amount: Decimal) -> Option<i64> {
    let usd = Currency::parse("USD").ok()?;
    if currency == usd {
        return cents(usd, amount);
    }
    let rate = program.usd_rates.get(currency.code())?;
    // Rates and amounts are bounded where they enter; a record from before may be past both.
    cents(usd, usd.round(amount.checked_mul(*rate)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::money::MAX_AMOUNT;
    use crate::domain::plan::CommissionPlan;

    fn program(rates: &[(&str, Decimal)]) -> Program {
        Program {
            slug: "acme".into(),
            name: "Acme".into(),
            currency: Currency::parse("EUR").unwrap(),
            plan: CommissionPlan::default(),
            custom_webhook_secrets: vec![],
            providers: Default::default(),
            usd_rates: rates.iter().map(|(c, r)| (c.to_string(), *r)).collect(),
            min_payout: Default::default(),
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn action_events_carry_the_seeds_fields_and_derive_their_ids_from_the_state() {
        let action = Action {
            key: "act_1".into(),
            idempotency_key: "k".into(),
            kind: "signup".into(),
            value: 2,
            partner_key: "pat".into(),
            customer_key: Some("c1".into()),
            archived: false,
            created_at: 5,
            updated_at: 5,
        };
        let data = Event::ActionCreated(&action).data(&program(&[]), "pat");
        assert_eq!(
            data,
            serde_json::json!({
                "key": "act_1", "type": "signup", "value": 2, "partnership_key": "pat",
                "archived": false, "created_at": 5, "updated_at": 5,
                "company": {"key": "acme", "name": "Acme"},
                "customer": {"key": "c1", "sub_ids": []},
            })
        );
        let later = Action {
            updated_at: 9,
            customer_key: None,
            ..action.clone()
        };
        assert_eq!(Event::ActionCreated(&later).identity(), "act_1");
        assert_eq!(Event::ActionUpdated(&later).identity(), "act_1@9");
        assert_eq!(Event::ActionUpdated(&later).kind(), "action.updated");
        let data = Event::ActionUpdated(&later).data(&program(&[]), "pat");
        assert_eq!(data["customer"], Value::Null);
    }

    #[test]
    fn usd_amounts_use_the_programs_rate_and_are_null_past_any_range() {
        let eur = Currency::parse("EUR").unwrap();
        let p = program(&[("EUR", Decimal::new(108, 2))]);
        assert_eq!(usd_cents(&p, eur, Decimal::new(1000, 2)), Some(1080));
        assert_eq!(usd_cents(&program(&[]), eur, Decimal::ONE), None);
        let top = program(&[("EUR", crate::domain::money::MAX_USD_RATE)]);
        assert!(usd_cents(&top, eur, MAX_AMOUNT).is_some());
        let huge = program(&[("EUR", Decimal::MAX)]);
        assert_eq!(usd_cents(&huge, eur, Decimal::MAX), None);
    }

    proptest::proptest! {
        #[test]
        fn no_amount_and_no_rate_panics_the_usd_conversion(amount: (u32, u32, u32), rate: (u32, u32, u32), scale in 0u32..=28, negative: bool) {
            let dec = |(lo, mid, hi): (u32, u32, u32)| Decimal::from_parts(lo, mid, hi, negative, scale);
            for code in ["EUR", "JPY", "USD"] {
                let currency = Currency::parse(code).unwrap();
                let p = program(&[(code, dec(rate))]);
                let _ = usd_cents(&p, currency, dec(amount));
                let _ = cents(currency, dec(amount));
            }
        }
    }
}
