//! The plan's decisions and amounts.

use super::*;
use crate::domain::plan::rules::When;
use std::str::FromStr;

fn dec(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

fn amounts(currency: &str, gross: &str, net: Option<&str>) -> Amounts {
    Amounts {
        net: net.map(dec),
        ..Amounts::new(Currency::parse(currency).unwrap(), dec(gross))
    }
}

fn chain(keys: &[&str]) -> Vec<String> {
    keys.iter().map(|k| k.to_string()).collect()
}

fn facts() -> Facts<'static> {
    Facts {
        product_key: Some("annual"),
        category_key: Some("setup"),
        campaign: None,
        recurring: false,
        source: "custom",
    }
}

fn sale(amounts: &Amounts) -> Sale<'_> {
    Sale {
        facts: facts(),
        amounts,
        month_sales: 1,
        customer: Some((1, 0)),
        date: 0,
    }
}

fn usd() -> Currency {
    Currency::parse("USD").unwrap()
}

/// The plan's rewards for `sale`, as (rule, level, partner, amount).
fn granted(plan: &CommissionPlan, sale: &Sale<'_>, keys: &[&str]) -> Vec<RewardDraft> {
    plan.decide(sale, usd())
        .map(|d| d.rewards(sale.amounts, &chain(keys)))
        .unwrap_or_default()
}

fn levels(values: &[&str]) -> Vec<Decimal> {
    values.iter().map(|v| dec(v)).collect()
}

#[test]
fn default_plan_pays_twenty_percent_of_net_rounded_to_cents() {
    let a = amounts("EUR", "199.00", Some("167.23"));
    let drafts = granted(&CommissionPlan::default(), &sale(&a), &["p1"]);
    assert_eq!(drafts.len(), 1);
    assert_eq!(drafts[0].amount.to_string(), "33.45");
    assert_eq!((drafts[0].level, drafts[0].rule.as_str()), (1, "default"));
    assert_eq!(drafts[0].base_amount.to_string(), "167.23");
    assert_eq!(
        drafts[0].description,
        "20 % of 167.23 EUR, default rule, level 1"
    );
}

#[test]
fn gross_is_used_without_net_or_when_the_plan_says_so() {
    let a = amounts("JPY", "1234", None);
    assert_eq!(
        granted(&CommissionPlan::default(), &sale(&a), &["p1"])[0].amount,
        dec("247")
    );
    let a = amounts("USD", "100.00", Some("80.00"));
    let gross = CommissionPlan {
        base: Base::Gross,
        ..CommissionPlan::default()
    };
    assert_eq!(granted(&gross, &sale(&a), &["p1"])[0].amount, dec("20.00"));
}

#[test]
fn multi_level_plans_walk_the_chain_as_far_as_both_reach() {
    let plan = CommissionPlan::with_levels(levels(&["20", "5", "1"]));
    let a = amounts("USD", "100.00", None);
    let got: Vec<_> = granted(&plan, &sale(&a), &["a", "b"])
        .iter()
        .map(|d| (d.level, d.partner_key.clone(), d.amount.to_string()))
        .collect();
    assert_eq!(
        got,
        vec![
            (1, "a".into(), "20.00".into()),
            (2, "b".into(), "5.00".into())
        ]
    );
    assert!(granted(&plan, &sale(&a), &[]).is_empty());
}

#[test]
fn rewards_that_round_to_nothing_are_not_granted() {
    let a = amounts("USD", "0.02", None);
    assert!(granted(&CommissionPlan::default(), &sale(&a), &["p1"]).is_empty());
}

fn rule(name: &str, when: When, payout: Payout) -> Rule {
    Rule {
        name: name.into(),
        when,
        payout,
    }
}

fn rich_plan() -> CommissionPlan {
    CommissionPlan {
        rules: vec![
            rule(
                "setup fee",
                When {
                    category_key: Some("setup".into()),
                    ..When::default()
                },
                Payout::Flat(levels(&["50.00", "10.00"])),
            ),
            rule(
                "annual plans",
                When {
                    product_key: Some("annual".into()),
                    ..When::default()
                },
                Payout::Levels(levels(&["30", "5"])),
            ),
        ],
        tiers: vec![
            Tier {
                min_sales: 3,
                levels: levels(&["25"]),
            },
            Tier {
                min_sales: 5,
                levels: levels(&["28"]),
            },
        ],
        ..CommissionPlan::default()
    }
}

#[test]
fn the_first_matching_rule_wins_and_flat_rules_pay_in_the_program_currency() {
    let a = amounts("USD", "49.00", None);
    let drafts = granted(&rich_plan(), &sale(&a), &["a", "b"]);
    assert_eq!(drafts[0].rule, "setup fee");
    assert_eq!(drafts[0].flat, Some(dec("50.00")));
    assert_eq!(drafts[0].amount, dec("50.00"));
    assert_eq!(drafts[1].amount, dec("10.00"));
    assert_eq!(drafts[0].percent, Decimal::ZERO);
    assert_eq!(
        drafts[0].description,
        "50.00 USD flat, rule \"setup fee\", level 1"
    );
    // In euros the flat rule does not apply; the next rule that matches does.
    let eur = amounts("EUR", "49.00", None);
    let drafts = granted(&rich_plan(), &sale(&eur), &["a"]);
    assert_eq!(drafts[0].rule, "annual plans");
    assert_eq!(drafts[0].amount, dec("14.70"));
    assert_eq!(
        drafts[0].description,
        "30 % of 49.00 EUR, rule \"annual plans\", level 1"
    );
}

#[test]
fn the_highest_tier_reached_this_month_applies_when_no_rule_does() {
    let plan = CommissionPlan {
        rules: Vec::new(),
        ..rich_plan()
    };
    let a = amounts("USD", "100.00", None);
    let at = |n| {
        let s = Sale {
            month_sales: n,
            ..sale(&a)
        };
        let d = &granted(&plan, &s, &["a"])[0];
        (d.rule.clone(), d.amount.to_string())
    };
    assert_eq!(at(2), ("default".into(), "20.00".into()));
    assert_eq!(at(3), ("tier:1".into(), "25.00".into()));
    assert_eq!(at(4), ("tier:1".into(), "25.00".into()));
    assert_eq!(at(9), ("tier:2".into(), "28.00".into()));
}

#[test]
fn past_the_duration_a_customer_earns_nothing() {
    let plan = CommissionPlan {
        duration: Some(Duration::Payments(2)),
        ..CommissionPlan::default()
    };
    let a = amounts("USD", "100.00", None);
    let nth = |n| Sale {
        customer: Some((n, 0)),
        ..sale(&a)
    };
    assert!(plan.decide(&nth(2), usd()).is_some());
    assert!(plan.decide(&nth(3), usd()).is_none());
    let anonymous = Sale {
        customer: None,
        ..sale(&a)
    };
    assert!(plan.decide(&anonymous, usd()).is_some());
}

#[test]
fn refunds_reduce_flat_rewards_in_proportion() {
    let mut a = amounts("USD", "100.00", None);
    a.refunded = dec("25.00");
    let drafts = granted(&rich_plan(), &sale(&a), &["a"]);
    assert_eq!(drafts[0].amount, dec("37.50"));
    assert_eq!(drafts[0].base_amount, dec("75.00"));
}

proptest::proptest! {
    #[test]
    fn rewards_of_any_amount_and_percentage_never_panic(gross: (u32, u32, u32), net: (u32, u32, u32), refunded: (u32, u32, u32), percent: (u32, u32, u32), scale in 0u32..=28, negative: bool) {
        let dec = |(lo, mid, hi): (u32, u32, u32)| Decimal::from_parts(lo, mid, hi, negative, scale);
        for code in ["USD", "JPY", "CLF"] {
            let amounts = Amounts {
                net: Some(dec(net)),
                refunded: dec(refunded),
                ..Amounts::new(Currency::parse(code).unwrap(), dec(gross))
            };
            let plan = CommissionPlan {
                rules: vec![rule("flat", When::default(), Payout::Flat(vec![dec(percent)]))],
                ..CommissionPlan::with_levels(vec![dec(percent); 3])
            };
            let _ = plan.validate();
            let s = sale(&amounts);
            let _ = granted(&plan, &s, &["a", "b", "c"]);
            let _ = granted(&CommissionPlan::with_levels(vec![dec(percent); 3]), &s, &["a", "b", "c"]);
        }
    }

    #[test]
    fn bounded_amounts_always_have_a_reward(gross in 0i64..=1_000_000_000_000i64, scale in 0u32..=4, percent in 0u32..=10_000) {
        let amounts = Amounts::new(Currency::parse("CLF").unwrap(), Decimal::new(gross, scale));
        let reward = percent_of(exact_base(&amounts, Base::Net), Decimal::new(i64::from(percent), 2), amounts.currency);
        proptest::prop_assert!(reward.is_some_and(|r| r <= amounts.gross.round_dp(4)));
    }
}
