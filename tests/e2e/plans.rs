//! Commission plans (`PATCH /v1/program {"commission": PLAN}`): rules on product, category and
//! source, flat amounts in the program's currency, monthly tiers by the sale's own date, the
//! duration of a customer's rewards, bad plans refused naming the field, and the explanation
//! each reward carries in its view and its `reward.created` postback.

use crate::support::{
    as_partner, partner, partner_with_key, rewards, scenario, seed_with, Backend, Env, Receiver,
    SEED,
};
use serde_json::{json, Value};

/// Partner `pat` (with an API key, returned) and its customers `cus_1` and `cus_2`.
pub async fn pat_and_customers(env: &Env) -> String {
    let api_key = partner_with_key(env, "pat", None).await;
    for customer in ["cus_1", "cus_2"] {
        let body = json!({"email": format!("{customer}@example.com"), "name": customer,
            "key": customer, "partner_key": "pat"});
        let (status, created) = env.api("POST", "/v1/customers", Some(body)).await;
        assert_eq!(status, 201, "{created}");
    }
    api_key
}

pub async fn set_plan(env: &Env, plan: Value) -> Value {
    let (status, program) = env
        .api("PATCH", "/v1/program", Some(json!({ "commission": plan })))
        .await;
    assert_eq!(status, 200, "{program}");
    program["commission"].clone()
}

/// A sale of `customer` through the transactions API (fields of `extra` added), commissioned;
/// its rewards.
pub async fn sale(env: &Env, customer: &str, key: &str, amount: i64, extra: Value) -> Vec<Value> {
    let mut body = json!({"key": key, "amount": amount});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    let path = format!("/v1/customers/{customer}/transactions");
    let (status, tx) = env.api("POST", &path, Some(body)).await;
    assert_eq!(status, 201, "{tx}");
    env.run_worker().await;
    rewards(env, key).await
}

/// (rule, level, amount in minor units) of each reward.
fn decided(rewards: &[Value]) -> Vec<(String, i64, i64)> {
    rewards
        .iter()
        .map(|r| {
            (
                r["rule"].as_str().unwrap_or_default().to_string(),
                r["level"].as_i64().unwrap_or_default(),
                r["amount"].as_i64().unwrap_or_default(),
            )
        })
        .collect()
}

fn one(rule: &str, amount: i64) -> Vec<(String, i64, i64)> {
    vec![(rule.to_string(), 1, amount)]
}

scenario!(the_first_matching_rule_decides_and_flat_rules_pay_in_the_program_currency);
async fn the_first_matching_rule_decides_and_flat_rules_pay_in_the_program_currency(
    backend: Backend,
) {
    let env = Env::new(backend).await;
    pat_and_customers(&env).await;
    let plan = set_plan(
        &env,
        json!({
            "levels": ["20"],
            "rules": [
                {"name": "setup fee", "when": {"category_key": "setup"}, "flat": ["5.00"]},
                {"name": "annual plans", "when": {"product_key": "annual", "source": "api"},
                 "levels": ["30"]},
                {"name": "from stripe", "when": {"source": "stripe"}, "levels": ["50"]}
            ]
        }),
    )
    .await;
    assert_eq!(plan["rules"][0]["flat"], json!(["5.00"]));
    assert_eq!(plan["base"], "net");

    let annual = sale(&env, "cus_1", "s1", 4900, json!({"product_key": "annual"})).await;
    assert_eq!(decided(&annual), one("annual plans", 1470));
    assert_eq!(annual[0]["percent"], "30");
    assert!(annual[0]["flat"].is_null());
    assert_eq!(annual[0]["base_amount"], 4900);
    assert_eq!(
        annual[0]["description"],
        "30 % of 49.00 EUR, rule \"annual plans\", level 1"
    );
    // Category first: the flat rule is listed before the product's.
    let setup = json!({"product_key": "annual", "category_key": "setup"});
    let fee = sale(&env, "cus_1", "s2", 9900, setup.clone()).await;
    assert_eq!(decided(&fee), one("setup fee", 500));
    assert_eq!(
        (&fee[0]["flat"], &fee[0]["percent"]),
        (&json!(500), &Value::Null)
    );
    assert_eq!(
        fee[0]["description"],
        "5.00 EUR flat, rule \"setup fee\", level 1"
    );
    // In another currency the flat rule does not apply: the next matching one does.
    let usd = json!({"product_key": "annual", "category_key": "setup", "currency": "USD"});
    let dollars = sale(&env, "cus_1", "s3", 10000, usd).await;
    assert_eq!(decided(&dollars), one("annual plans", 3000));
    assert_eq!(dollars[0]["currency"], "USD");
    // Nothing matches (the source is "api", not "stripe"): the default levels.
    let plain = sale(&env, "cus_2", "s4", 1000, json!({})).await;
    assert_eq!(decided(&plain), one("default", 200));
    assert_eq!(
        plain[0]["description"],
        "20 % of 10.00 EUR, default rule, level 1"
    );

    // A partial refund rescales the flat reward in proportion to what is left.
    let refund = json!({"amount": 3300, "key": "rf_1"});
    let (status, tx) = env
        .api("POST", "/v1/transactions/s2/refunds", Some(refund))
        .await;
    assert_eq!(status, 200, "{tx}");
    let fee = rewards(&env, "s2").await;
    assert_eq!(fee[0]["amount"], 333, "5.00 × 66/99, rounded");
    assert_eq!(fee[0]["reward_status"], "pending");
    let (status, _) = env
        .api(
            "POST",
            "/v1/transactions/s2/refunds",
            Some(json!({"amount": 6600, "key": "rf_2"})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(rewards(&env, "s2").await[0]["reward_status"], "declined");
}

scenario!(tiers_count_the_partners_sales_in_the_sales_own_month);
async fn tiers_count_the_partners_sales_in_the_sales_own_month(backend: Backend) {
    let env = Env::new(backend).await;
    pat_and_customers(&env).await;
    set_plan(
        &env,
        json!({"levels": ["10"], "tiers": [{"min_sales": 2, "levels": ["20"]},
            {"min_sales": 4, "levels": ["30"]}]}),
    )
    .await;
    let in_may = |day: u32| json!({"created_at": format!("2026-05-{day:02}T10:00:00Z")});
    let mut got = Vec::new();
    for (i, customer) in ["cus_1", "cus_2", "cus_1", "cus_2"].iter().enumerate() {
        let key = format!("may-{i}");
        got.extend(decided(
            &sale(&env, customer, &key, 1000, in_may(i as u32 + 1)).await,
        ));
    }
    assert_eq!(
        got,
        vec![
            ("default".into(), 1, 100),
            ("tier:1".into(), 1, 200),
            ("tier:1".into(), 1, 200),
            ("tier:2".into(), 1, 300),
        ]
    );
    // June starts again, whenever the job runs.
    let june = json!({"created_at": "2026-06-01T00:00:00Z"});
    assert_eq!(
        decided(&sale(&env, "cus_1", "june-0", 1000, june).await),
        one("default", 100)
    );
    // A late May sale is the fifth of May.
    let late = sale(&env, "cus_2", "may-late", 1000, in_may(31)).await;
    assert_eq!(decided(&late), one("tier:2", 300));
    assert!(late[0]["description"]
        .as_str()
        .is_some_and(|d| d.contains("tier 2 (from 4 sales a month)")));
}

scenario!(a_customer_earns_for_the_plans_duration_only);
async fn a_customer_earns_for_the_plans_duration_only(backend: Backend) {
    let env = Env::new(backend).await;
    pat_and_customers(&env).await;
    set_plan(&env, json!({"duration": {"payments": 2}})).await;
    assert_eq!(sale(&env, "cus_1", "p1", 1000, json!({})).await.len(), 1);
    assert_eq!(sale(&env, "cus_1", "p2", 1000, json!({})).await.len(), 1);
    assert!(sale(&env, "cus_1", "p3", 1000, json!({})).await.is_empty());
    let (status, tx) = env.api("GET", "/v1/transactions/p3", None).await;
    assert_eq!((status, &tx["status"]), (200, &json!("commissioned")));
    // Another customer starts their own count.
    assert_eq!(sale(&env, "cus_2", "q1", 1000, json!({})).await.len(), 1);

    // Months: from the customer's first commissioned payment, by the payments' own dates.
    set_plan(&env, json!({"duration": {"months": 1}})).await;
    let at = |date: &str| json!({"created_at": date});
    assert_eq!(
        sale(&env, "cus_2", "q2", 1000, at("2099-01-01T00:00:00Z"))
            .await
            .len(),
        0
    );
    // Without a duration, for life again.
    set_plan(&env, json!({"duration": null})).await;
    assert_eq!(sale(&env, "cus_1", "p4", 1000, json!({})).await.len(), 1);
}

scenario!(bad_plans_are_refused_naming_the_field_and_the_old_plan_stays);
async fn bad_plans_are_refused_naming_the_field_and_the_old_plan_stays(backend: Backend) {
    let env = Env::new(backend).await;
    let before = set_plan(&env, json!({"levels": ["20", "5"]})).await;
    let cases = [
        (json!({"levels": ["101"]}), "commission.levels[0]"),
        (json!({"levels": []}), "commission.levels"),
        (
            json!({"levels": ["1","1","1","1","1","1","1","1","1","1","1"]}),
            "commission.levels",
        ),
        (
            json!({"rules": [{"name": "a", "levels": ["5"]}, {"name": "b", "levels": ["-5"]}]}),
            "commission.rules[1].levels[0]",
        ),
        (
            json!({"rules": [{"name": "a", "levels": ["70", "40"]}]}),
            "commission.rules[0].levels",
        ),
        (
            json!({"rules": [{"name": "a", "flat": ["-1.00"]}]}),
            "commission.rules[0].flat[0]",
        ),
        (
            json!({"rules": [{"name": "a", "levels": ["5"]}, {"name": "a", "flat": ["1.00"]}]}),
            "commission.rules[1].name",
        ),
        (
            json!({"rules": [{"name": "a", "when": {"source": "paypal"}, "levels": ["5"]}]}),
            "commission.rules[0].when.source",
        ),
        (
            json!({"tiers": [{"min_sales": 3, "levels": ["5"]}, {"min_sales": 2, "levels": ["5"]}]}),
            "commission.tiers[1].min_sales",
        ),
        (json!({"duration": {"payments": 0}}), "commission.duration"),
        (
            json!({"actions": {"signup": ["1.00", "0.50"]}}),
            "commission.actions.signup",
        ),
        (json!({"base": "list_price"}), "commission.base"),
    ];
    for (plan, field) in cases {
        let (status, body) = env
            .api("PATCH", "/v1/program", Some(json!({ "commission": plan })))
            .await;
        assert_eq!(status, 422, "{plan}: {body}");
        assert_eq!(body["error"]["field"], field, "{plan}: {body}");
        let (_, program) = env.api("GET", "/v1/program", None).await;
        assert_eq!(program["commission"], before, "the old plan stays");
    }
    // Today's forms keep working: levels alone, action rewards in minor units; and the new one.
    let plan = set_plan(&env, json!({"levels": [25], "actions": {"signup": 500}})).await;
    assert_eq!(plan["levels"], json!(["25"]));
    assert_eq!(plan["actions"], json!({"signup": 500}));
    let plan = set_plan(&env, json!({"actions": {"signup": ["5.50"]}})).await;
    assert_eq!(plan["actions"], json!({"signup": 550}));
}

scenario!(rewards_explain_themselves_in_the_reward_created_postback);
async fn rewards_explain_themselves_in_the_reward_created_postback(backend: Backend) {
    let env = Env::new(backend).await;
    let api_key = pat_and_customers(&env).await;
    let receiver = Receiver::start(&[]).await;
    let body = json!({"url": receiver.url, "name": "CRM", "events": ["reward.created"]});
    let (status, created) = as_partner(&env, &api_key, "POST", "/v1/postbacks", Some(body)).await;
    assert_eq!(status, 201, "{created}");
    set_plan(
        &env,
        json!({"base": "gross", "rules": [{"name": "annual plans",
            "when": {"product_key": "annual"}, "levels": ["30"]}]}),
    )
    .await;
    sale(&env, "cus_1", "s1", 4900, json!({"product_key": "annual"})).await;
    env.run_postback_worker().await;
    let bodies = receiver.bodies();
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    let data = &bodies[0]["data"];
    assert_eq!(bodies[0]["event"], "reward.created");
    assert_eq!(data["rule"], "annual plans");
    assert_eq!(data["percent"], "30");
    assert!(data["flat"].is_null());
    assert_eq!(
        (&data["level"], &data["base_amount"]),
        (&json!(1), &json!(4900))
    );
    assert_eq!(data["amount"], 1470);
    assert_eq!(
        data["description"],
        "30 % of 49.00 EUR, rule \"annual plans\", level 1"
    );
}

scenario!(rules_match_the_custom_webhooks_campaign_recurring_and_source);
async fn rules_match_the_custom_webhooks_campaign_recurring_and_source(backend: Backend) {
    let env = Env::new(backend).await;
    partner(&env, "pat", Some("P-001"), None).await;
    set_plan(
        &env,
        json!({"rules": [{"name": "summer", "when": {"campaign": "summer-promo",
            "recurring": false, "source": "custom"}, "levels": ["25"]}]}),
    )
    .await;
    let sales = [
        ("ext-tx-12345", SEED.to_string()),
        (
            "ext-2",
            seed_with(json!({"externalId": "ext-2", "isRecurring": true, "recurringNumber": 2})),
        ),
        (
            "ext-3",
            seed_with(json!({"externalId": "ext-3", "campaignSlug": null})),
        ),
    ];
    let mut got = Vec::new();
    for (key, body) in sales {
        let (status, answer) = env.post_signed(&body).await;
        assert_eq!(status, 200, "{answer}");
        env.run_worker().await;
        got.extend(decided(&rewards(&env, key).await));
    }
    // 25 % and 20 % of the net 167.23 EUR.
    assert_eq!(
        got,
        vec![
            ("summer".into(), 1, 4181),
            ("default".into(), 1, 3345),
            ("default".into(), 1, 3345),
        ]
    );
}

scenario!(a_commission_job_carrying_its_program_decides_by_it_without_reading_it);
async fn a_commission_job_carrying_its_program_decides_by_it_without_reading_it(backend: Backend) {
    use partnerhook::queue::Job;
    let env = Env::new(backend).await;
    crate::support::partner(&env, "pat", Some("P-001"), None).await;
    let program = env.app.repo.get_program("acme").await.expect("read");
    let program = program.expect("the program").value;
    let job = Job::commission(&program, "ext-tx-12345");
    // The job names no credential of the program.
    let text = serde_json::to_string(&job).expect("a job body");
    assert!(!program.custom_webhook_secrets.is_empty());
    for secret in &program.custom_webhook_secrets {
        assert!(!text.contains(secret.as_str()), "{text}");
    }
    let (status, answer) = env.post_signed(crate::support::SEED).await;
    assert_eq!(status, 200, "{answer}");
    // The plan changes once the sale was recorded: the job decides by the program as it was
    // read when the sale came (20 % of 167.23).
    set_plan(&env, json!({"levels": ["50"]})).await;
    let replayed: Job = serde_json::from_str(&text).expect("the job read back");
    partnerhook::runtime::workers::process_job(&env.app, &replayed)
        .await
        .expect("the job");
    let rewards = crate::support::rewards(&env, "ext-tx-12345").await;
    assert_eq!(rewards.len(), 1);
    assert_eq!(rewards[0]["amount"], 3345);
}
