//! Partner groups (`/v1/groups`, `PATCH /v1/partners/{key} {"group_key"}`): their plans decide
//! their partners' rewards, at every level of the chain the seller's; and the counters that
//! tiers and durations read count each transaction once under concurrent and repeated jobs.

use crate::plans::{pat_and_customers, sale, set_plan};
use crate::support::{partner, scenario, Backend, Env};
use partnerhook::domain::counter::Counter;
use partnerhook::store::StoreError;
use serde_json::{json, Value};

async fn create_group(env: &Env, key: &str, plan: Value) -> (u16, Value) {
    let body = json!({"key": key, "name": format!("Group {key}"), "commission": plan});
    env.api("POST", "/v1/groups", Some(body)).await
}

async fn move_partner(env: &Env, partner: &str, group: Value) -> (u16, Value) {
    let path = format!("/v1/partners/{partner}");
    env.api("PATCH", &path, Some(json!({ "group_key": group })))
        .await
}

scenario!(groups_are_created_listed_changed_and_deleted);
async fn groups_are_created_listed_changed_and_deleted(backend: Backend) {
    let env = Env::new(backend).await;
    let plan = json!({"levels": ["30", "5"], "rules": [{"name": "setup",
        "when": {"category_key": "setup"}, "flat": ["10.00"]}]});
    let (status, vip) = create_group(&env, "vip", plan.clone()).await;
    assert_eq!(status, 201, "{vip}");
    assert_eq!(vip["commission"]["levels"], json!(["30", "5"]));
    assert_eq!(vip["commission"]["rules"][0]["flat"], json!(["10.00"]));
    let (status, again) = create_group(&env, "vip", plan).await;
    assert_eq!((status, &again["key"]), (200, &json!("vip")), "a repeat");
    let (status, other) = create_group(&env, "vip", json!({"levels": ["1"]})).await;
    assert_eq!(status, 409, "{other}");
    let (status, bad) = create_group(&env, "bad", json!({"levels": ["120"]})).await;
    assert_eq!(
        (status, &bad["error"]["field"]),
        (422, &json!("commission.levels[0]"))
    );
    let (status, bad) = env
        .api(
            "POST",
            "/v1/groups",
            Some(json!({"key": "  ", "name": "x"})),
        )
        .await;
    assert_eq!((status, &bad["error"]["field"]), (422, &json!("key")));
    let (status, bad) = create_group(&env, "bad", json!({"actions": {"signup": 500}})).await;
    assert_eq!(
        (status, &bad["error"]["field"]),
        (422, &json!("commission.actions"))
    );
    let (status, _) = create_group(&env, "basic", json!({})).await;
    assert_eq!(status, 201);

    let (status, page) = env.api("GET", "/v1/groups?limit=1", None).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["data"].as_array().map(Vec::len), Some(1));
    let cursor = page["next_cursor"].as_str().unwrap_or_default().to_string();
    let (_, next) = env
        .api("GET", &format!("/v1/groups?limit=1&cursor={cursor}"), None)
        .await;
    let keys: Vec<&Value> = [&page, &next]
        .iter()
        .map(|p| &p["data"][0]["key"])
        .collect();
    assert_eq!(keys, vec![&json!("vip"), &json!("basic")]);
    let (status, basic) = env.api("GET", "/v1/groups/basic", None).await;
    assert_eq!(
        (status, &basic["commission"]["levels"]),
        (200, &json!(["20"]))
    );

    let patch =
        json!({"name": "VIPs", "commission": {"tiers": [{"min_sales": 5, "levels": ["40"]}]}});
    let (status, vip) = env.api("PATCH", "/v1/groups/vip", Some(patch)).await;
    assert_eq!(status, 200, "{vip}");
    assert_eq!(vip["name"], "VIPs");
    assert_eq!(vip["commission"]["levels"], json!(["30", "5"]), "kept");
    assert_eq!(vip["commission"]["tiers"][0]["min_sales"], 5);
    let bad = json!({"name": "Gone", "commission": {"rules": [{"name": "x", "levels": ["101"]}]}});
    let (status, body) = env.api("PATCH", "/v1/groups/vip", Some(bad)).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "commission.rules[0].levels[0]");
    let (_, vip) = env.api("GET", "/v1/groups/vip", None).await;
    assert_eq!(vip["name"], "VIPs", "nothing changed");
    let (status, _) = env
        .api("PATCH", "/v1/groups/nope", Some(json!({"name": "x"})))
        .await;
    assert_eq!(status, 404);

    // Partners join and leave; a group in use is not deleted.
    partner(&env, "pat", None, None).await;
    let (status, pat) = move_partner(&env, "pat", json!("vip")).await;
    assert_eq!((status, &pat["group_key"]), (200, &json!("vip")), "{pat}");
    let (status, body) = move_partner(&env, "pat", json!("nope")).await;
    assert_eq!(
        (status, &body["error"]["field"]),
        (422, &json!("group_key"))
    );
    let (status, _) = move_partner(&env, "nobody", json!("vip")).await;
    assert_eq!(status, 404);
    let (status, body) = env.api("PATCH", "/v1/partners/pat", Some(json!({}))).await;
    assert_eq!(
        (status, &body["error"]["field"]),
        (422, &json!("group_key"))
    );
    let (status, body) = env.api("DELETE", "/v1/groups/vip", None).await;
    assert_eq!(status, 409, "{body}");
    let (status, pat) = move_partner(&env, "pat", Value::Null).await;
    assert_eq!((status, &pat["group_key"]), (200, &Value::Null));
    let (status, _) = env.api("DELETE", "/v1/groups/vip", None).await;
    assert_eq!(status, 204);
    let (status, _) = env.api("GET", "/v1/groups/vip", None).await;
    assert_eq!(status, 404);
    let (status, _) = env.api("DELETE", "/v1/groups/vip", None).await;
    assert_eq!(status, 404);
}

scenario!(the_sellers_group_plan_decides_every_level);
async fn the_sellers_group_plan_decides_every_level(backend: Backend) {
    let env = Env::new(backend).await;
    // `boss` refers `pat`; `boss` is in a group paying 1 %, `pat` in one paying 30 % and 10 %.
    partner(&env, "boss", None, None).await;
    let body = json!({"email": "pat@example.com", "name": "pat", "key": "pat",
        "referring_partner_key": "boss"});
    let (status, _) = env.api("POST", "/v1/partners", Some(body)).await;
    assert_eq!(status, 201);
    let customer =
        json!({"email": "c@example.com", "name": "C", "key": "cus_1", "partner_key": "pat"});
    let (status, _) = env.api("POST", "/v1/customers", Some(customer)).await;
    assert_eq!(status, 201);
    set_plan(&env, json!({"levels": ["20", "2"]})).await;
    assert_eq!(
        create_group(&env, "sellers", json!({"levels": ["30", "10"]}))
            .await
            .0,
        201
    );
    assert_eq!(
        create_group(&env, "bosses", json!({"levels": ["1"]}))
            .await
            .0,
        201
    );
    assert_eq!(move_partner(&env, "boss", json!("bosses")).await.0, 200);

    let amounts = |rewards: &[Value]| -> Vec<(String, i64, i64)> {
        rewards
            .iter()
            .map(|r| {
                (
                    r["partner_key"].as_str().unwrap_or_default().to_string(),
                    r["level"].as_i64().unwrap_or_default(),
                    r["amount"].as_i64().unwrap_or_default(),
                )
            })
            .collect()
    };
    let program_plan = sale(&env, "cus_1", "t1", 10000, json!({})).await;
    assert_eq!(
        amounts(&program_plan),
        vec![("pat".into(), 1, 2000), ("boss".into(), 2, 200)],
        "pat has no group: the program's plan, also for boss"
    );
    assert_eq!(move_partner(&env, "pat", json!("sellers")).await.0, 200);
    let group_plan = sale(&env, "cus_1", "t2", 10000, json!({})).await;
    assert_eq!(
        amounts(&group_plan),
        vec![("pat".into(), 1, 3000), ("boss".into(), 2, 1000)],
        "the seller's group plan, at level 2 too"
    );
    assert_eq!(
        group_plan[1]["description"],
        "10 % of 100.00 EUR, default rule, level 2"
    );
}

scenario!(a_transaction_is_counted_once_under_concurrent_and_repeated_jobs);
async fn a_transaction_is_counted_once_under_concurrent_and_repeated_jobs(backend: Backend) {
    let env = Env::new(backend).await;
    let repo = &env.app.repo;
    let id = Counter::for_partner_month("pat", "2026-05");
    // Twenty transactions counted at once, each twice. One that loses too many races fails
    // with a version conflict and is tried again, as the queue redelivers a failed job.
    let tries = (0..40).map(|i| {
        let key = format!("tx-{}", i % 20);
        let id = id.clone();
        async move {
            loop {
                match repo.count_once("acme", &id, &key, 1_000 + i).await {
                    Err(StoreError::VersionConflict { .. }) => continue,
                    other => return (key.clone(), other),
                }
            }
        }
    });
    let counted = futures::future::join_all(tries).await;
    let mut ordinals = std::collections::BTreeMap::new();
    for (key, result) in counted {
        let (at, _) = result.expect("counted");
        let first = ordinals.entry(key).or_insert(at.ordinal);
        assert_eq!(*first, at.ordinal, "a repeat gets the same ordinal");
    }
    let mut all: Vec<u64> = ordinals.values().copied().collect();
    all.sort_unstable();
    assert_eq!(
        all,
        (1..=20).collect::<Vec<_>>(),
        "distinct ordinals, none skipped"
    );
    let (again, _) = repo
        .count_once("acme", &id, "tx-7", 5)
        .await
        .expect("counted");
    assert_eq!(Some(&again.ordinal), ordinals.get("tx-7"));

    // Through the commission job: a sale counted, then the same month's next one.
    pat_and_customers(&env).await;
    set_plan(&env, json!({"tiers": [{"min_sales": 2, "levels": ["50"]}]})).await;
    let may = json!({"created_at": "2026-05-02T00:00:00Z"});
    let first = sale(&env, "cus_1", "m1", 1000, may.clone()).await;
    assert_eq!(first[0]["rule"], "tier:1", "pat's 21st sale in May");
}
