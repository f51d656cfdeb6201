//! The engine against its reference model ([`model`]): random plans (rules on product,
//! category, campaign, recurring and source; percentages or flat amounts; tiers; a duration in
//! payments or months; net or gross) for the program and two groups, and random histories
//! (sales in three currencies and four months, out of date order, redelivered jobs, partners
//! moved between groups) through the commission job on the embedded store. Every reward must
//! be the model's, to the minor unit, with the rule the model names.

mod model;

use crate::support::{partner, Backend, Env};
use model::{
    Date, Expected, Limit, Model, Pay, Plan, Rule, Sale, Step, CAMPAIGNS, CATEGORIES, CURRENCIES,
    PRODUCTS, REFERRER, SOURCES,
};
use partnerhook::domain::group::Group;
use partnerhook::domain::money::Currency;
use partnerhook::domain::plan::rules::{self, Base, Duration, Payout, Tier, When};
use partnerhook::domain::plan::CommissionPlan;
use partnerhook::domain::program::Program;
use partnerhook::domain::transaction::{Amounts, NewTransaction, Product, Transaction};
use partnerhook::store::StoreError;
use partnerhook::usecases::commission::job::commission;
use partnerhook::usecases::groups::set_partner_group;
use proptest::prelude::*;
use rust_decimal::Decimal;

fn one_of<T: Clone + std::fmt::Debug + 'static>(items: &'static [T]) -> impl Strategy<Value = T> {
    proptest::sample::select(items)
}

fn maybe<T: Clone + std::fmt::Debug + 'static>(
    items: &'static [T],
) -> impl Strategy<Value = Option<T>> {
    proptest::option::of(one_of(items))
}

/// One to three levels of at most 30 %, so any rule pays at most 90 %.
fn percents() -> impl Strategy<Value = Vec<u32>> {
    proptest::collection::vec(0u32..=3_000, 1..=3)
}

fn rule() -> impl Strategy<Value = Rule> {
    let pay = prop_oneof![
        percents().prop_map(Pay::Percent),
        proptest::collection::vec(0i64..=5_000, 1..=3).prop_map(Pay::Flat),
    ];
    (
        maybe(&PRODUCTS),
        maybe(&CATEGORIES),
        maybe(&CAMPAIGNS),
        proptest::option::of(any::<bool>()),
        maybe(&SOURCES),
        pay,
    )
        .prop_map(
            |(product, category, campaign, recurring, source, pay)| Rule {
                product,
                category,
                campaign,
                recurring,
                source,
                pay,
            },
        )
}

fn plan() -> impl Strategy<Value = Plan> {
    let limit = proptest::option::of(prop_oneof![
        (1u32..=3).prop_map(Limit::Payments),
        (1u32..=2).prop_map(Limit::Months),
    ]);
    let tiers = proptest::collection::vec((1u64..=3, percents()), 0..=2).prop_map(|steps| {
        let mut min = 0;
        steps
            .into_iter()
            .map(|(step, levels)| {
                min += step;
                (min, levels)
            })
            .collect()
    });
    (
        any::<bool>(),
        percents(),
        proptest::collection::vec(rule(), 0..=3),
        tiers,
        limit,
    )
        .prop_map(|(gross, levels, rules, tiers, limit)| Plan {
            gross,
            levels,
            rules,
            tiers,
            limit,
        })
}

fn sale() -> impl Strategy<Value = Sale> {
    let date = (1u8..=4, 1u8..=28, 0u8..=23).prop_map(|(m, d, h)| (2026, m, d, h));
    let what = (
        maybe(&PRODUCTS),
        maybe(&CATEGORIES),
        maybe(&CAMPAIGNS),
        any::<bool>(),
    );
    (
        0usize..4,
        proptest::option::of(0usize..3),
        0usize..CURRENCIES.len(),
        (0i64..=200_000, proptest::option::of(0u32..=100)),
        what,
        one_of(&SOURCES),
        date,
    )
        .prop_map(
            |(partner, customer, currency, (gross, net), what, source, date)| Sale {
                partner,
                customer,
                currency,
                gross,
                // Net as a share of gross, so it is never more.
                net: net.map(|pct| gross * i64::from(pct) / 100),
                product: what.0,
                category: what.1,
                campaign: what.2,
                recurring: what.3,
                source,
                date,
            },
        )
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (sale(), proptest::bool::weighted(0.2)).prop_map(|(s, again)| Step::Sale(s, again)),
        1 => (0usize..4, proptest::option::of(0usize..2)).prop_map(|(p, g)| Step::Group(p, g)),
    ]
}

fn levels(bps: &[u32]) -> Vec<Decimal> {
    bps.iter()
        .map(|bp| Decimal::new(i64::from(*bp), 2))
        .collect()
}

/// The model's plan as the engine's.
fn engine_plan(plan: &Plan) -> CommissionPlan {
    CommissionPlan {
        base: if plan.gross { Base::Gross } else { Base::Net },
        rules: plan
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| rules::Rule {
                name: format!("r{i}"),
                when: When {
                    product_key: r.product.map(str::to_string),
                    category_key: r.category.map(str::to_string),
                    campaign: r.campaign.map(str::to_string),
                    recurring: r.recurring,
                    source: r.source.map(str::to_string),
                },
                payout: match &r.pay {
                    Pay::Percent(bps) => Payout::Levels(levels(bps)),
                    Pay::Flat(minor) => {
                        Payout::Flat(minor.iter().map(|m| Decimal::new(*m, 2)).collect())
                    }
                },
            })
            .collect(),
        tiers: plan
            .tiers
            .iter()
            .map(|(min_sales, bps)| Tier {
                min_sales: *min_sales,
                levels: levels(bps),
            })
            .collect(),
        duration: plan.limit.map(|l| match l {
            Limit::Payments(n) => Duration::Payments(n),
            Limit::Months(n) => Duration::Months(n),
        }),
        ..CommissionPlan::with_levels(levels(&plan.levels))
    }
}

fn millis((y, m, d, h): Date) -> i64 {
    let month = time::Month::try_from(m).expect("a month");
    let date = time::Date::from_calendar_date(y, month, d).expect("a date");
    date.with_hms(h, 0, 0)
        .expect("a time")
        .assume_utc()
        .unix_timestamp()
        * 1_000
}

fn transaction(key: &str, sale: &Sale, now: i64) -> Transaction {
    let (code, exponent) = CURRENCIES[sale.currency];
    let currency = Currency::parse(code).expect("a currency");
    let amounts = Amounts {
        net: sale.net.map(|n| Decimal::new(n, exponent)),
        ..Amounts::new(currency, Decimal::new(sale.gross, exponent))
    };
    let new = NewTransaction {
        product: Product {
            id: sale.product.map(str::to_string),
            name: None,
            category: sale.category.map(str::to_string),
        },
        campaign_slug: sale.campaign.map(str::to_string),
        is_recurring: sale.recurring,
        transaction_date: Some(millis(sale.date)),
        by_customer: false,
        ..NewTransaction::provider_payment(sale.source, key.to_string(), amounts)
    };
    let mut tx = Transaction::recorded(new, now);
    tx.customer_key = sale.customer.map(|c| format!("cus_{c}"));
    tx.partner_key = Some(format!("p{}", sale.partner));
    tx
}

/// Runs `steps` through the engine; the rewards of each sale, as the model writes them.
async fn engine(program: &Plan, groups: &[Plan], steps: &[Step]) -> Vec<Vec<Expected>> {
    let env = Env::new(Backend::Embedded).await;
    let (app, slug) = (&env.app, "acme");
    for (i, referrer) in REFERRER.iter().enumerate() {
        let referrer = referrer.map(|r| format!("p{r}"));
        partner(&env, &format!("p{i}"), None, referrer.as_deref()).await;
    }
    let plan = engine_plan(program);
    app.repo
        .modify::<Program, StoreError>(slug, slug, |p| {
            p.plan = plan.clone();
            Ok(true)
        })
        .await
        .expect("the program's plan");
    for (i, group) in groups.iter().enumerate() {
        let group = Group {
            key: format!("g{i}"),
            name: format!("Group {i}"),
            plan: engine_plan(group),
            created_at: 0,
            updated_at: 0,
        };
        app.repo.insert(slug, &group).await.expect("a group");
    }
    let mut granted = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        match step {
            Step::Group(partner, group) => {
                let group = group.map(|g| format!("g{g}"));
                set_partner_group(app, slug, &format!("p{partner}"), group)
                    .await
                    .expect("moved");
            }
            Step::Sale(sale, again) => {
                let key = format!("tx{i}");
                let tx = transaction(&key, sale, app.now());
                app.repo.insert(slug, &tx).await.expect("recorded");
                commission(app, slug, &key, None)
                    .await
                    .expect("commissioned");
                if *again {
                    commission(app, slug, &key, None).await.expect("again");
                }
                let mut rewards: Vec<Expected> = app
                    .repo
                    .rewards_of_transaction(slug, &key)
                    .await
                    .expect("rewards")
                    .into_iter()
                    .map(|r| {
                        let r = r.value;
                        let minor = r.currency.to_minor(r.amount).expect("minor units");
                        let partner = r.partner_key[1..].parse().expect("p{n}");
                        (r.level, partner, minor, r.rule)
                    })
                    .collect();
                rewards.sort();
                granted.push(rewards);
            }
        }
    }
    granted
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn the_engine_grants_what_the_model_says(
        program in plan(),
        groups in proptest::collection::vec(plan(), 2),
        steps in proptest::collection::vec(step(), 1..=24),
    ) {
        let mut model = Model::default();
        let mut expected = Vec::new();
        for step in &steps {
            match step {
                Step::Group(partner, group) => model.move_partner(*partner, *group),
                Step::Sale(sale, _) => expected.push(model.sale(&program, &groups, sale)),
            }
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let granted = runtime.block_on(engine(&program, &groups, &steps));
        prop_assert_eq!(granted, expected);
    }
}
