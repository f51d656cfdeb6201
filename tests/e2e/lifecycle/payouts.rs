//! Payouts: one per request however often it is retried or crashes midway, rewards split and
//! never doubled between concurrent payouts, refusals, the CSV for accounting, balances.

use super::{clocked, get_text, pat, pay, reward, sale, usd, START};
use crate::support::{as_partner, scenario, Backend, Env, FlakyStore};
use partnerhook::domain::time::ManualClock;
use partnerhook::usecases::sweeper::{sweep, GRACE_MS};
use serde_json::{json, Value};
use std::sync::Arc;

/// Each listed payout of pat.
async fn payouts_of_pat(env: &Env) -> Vec<Value> {
    let (status, page) = env.api("GET", "/v1/payouts?partner_key=pat", None).await;
    assert_eq!(status, 200, "{page}");
    page["data"].as_array().cloned().unwrap_or_default()
}

/// A payout's rewards, and that its total is theirs.
async fn payout_rewards(env: &Env, id: &str) -> Vec<Value> {
    let (status, payout) = env.api("GET", &format!("/v1/payouts/{id}"), None).await;
    assert_eq!(status, 200, "{payout}");
    let rewards = payout["rewards"].as_array().cloned().unwrap_or_default();
    let sum: i64 = rewards
        .iter()
        .map(|r| r["amount"].as_i64().unwrap_or(0))
        .sum();
    assert_eq!(payout["total"], sum, "the total is its rewards': {payout}");
    assert_eq!(payout["reward_count"], rewards.len());
    assert!(rewards
        .iter()
        .all(|r| r["payout_id"] == id && r["reward_status"] == "paid"));
    rewards
}

scenario!(a_payout_pays_approved_rewards_once_and_answers_its_repeats_the_same);
async fn a_payout_pays_approved_rewards_once_and_answers_its_repeats_the_same(backend: Backend) {
    let (env, _clock) = clocked(backend).await;
    let (api_key, _receiver) = pat(&env, 0).await;
    sale(&env, "inv_1", 10_000).await;
    sale(&env, "inv_2", 5_000).await;
    sale(&env, "inv_3", 2_000).await;
    let (status, _) = env.api("POST", "/v1/rewards/inv_3:1/hold", None).await;
    assert_eq!(status, 200);

    let (status, payout) = pay(&env, "k1", json!({})).await;
    assert_eq!(status, 201, "{payout}");
    assert_eq!(
        (&payout["total"], &payout["total_decimal"]),
        (&json!(3000), &json!("30.00"))
    );
    assert_eq!(
        (&payout["reward_count"], &payout["status"]),
        (&json!(2), &json!("completed"))
    );
    let (status, again) = pay(&env, "k1", json!({})).await;
    assert_eq!(
        (status, &again),
        (200, &payout),
        "the same key replays the first answer"
    );
    let id = payout["id"].as_str().expect("an id");
    let rewards = payout_rewards(&env, id).await;
    assert_eq!(rewards.len(), 2);
    let paid = reward(&env, "inv_1:1").await;
    assert_eq!(
        (&paid["reward_status"], &paid["payment_status"]),
        (&json!("paid"), &json!("withdrawn"))
    );
    assert_eq!(
        reward(&env, "inv_3:1").await["reward_status"],
        "hold",
        "held: not paid"
    );

    let (status, refused) = pay(&env, "k2", json!({})).await;
    assert_eq!(
        (status, &refused["error"]["code"]),
        (422, &json!("nothing_to_pay")),
        "{refused}"
    );
    assert_eq!(payouts_of_pat(&env).await.len(), 1);

    let (status, content_type, csv) = get_text(&env, &format!("/v1/payouts/{id}.csv")).await;
    assert_eq!(status, 200, "{csv}");
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "a header and a line per reward: {csv}");
    assert!(lines[0].starts_with("payout_id,partner_key,reward_key,source"));
    assert!(
        lines[1].contains("inv_1:1") && lines[1].contains(",2000,20.00,"),
        "{csv}"
    );

    let (status, balance) = env.api("GET", "/v1/partners/pat/balance", None).await;
    assert_eq!(status, 200, "{balance}");
    let b = usd(&balance);
    assert_eq!(
        (&b["paid"], &b["on_hold"], &b["approved"], &b["pending"]),
        (&json!(3000), &json!(400), &json!(0), &json!(0))
    );
    let (status, mine) = as_partner(&env, &api_key, "GET", "/v1/me/balance", None).await;
    assert_eq!((status, &mine), (200, &balance));
    let (status, my_payouts) = as_partner(&env, &api_key, "GET", "/v1/me/payouts", None).await;
    assert_eq!(status, 200, "{my_payouts}");
    assert_eq!(my_payouts["data"][0]["id"], id);
    let (status, my_rewards) = as_partner(&env, &api_key, "GET", "/v1/me/rewards", None).await;
    assert_eq!(status, 200, "{my_rewards}");
    assert_eq!(my_rewards["data"].as_array().map(Vec::len), Some(3));
    let (status, refused) = env.api("GET", "/v1/me/balance", None).await;
    assert_eq!(status, 403, "the admin key is not a partner's: {refused}");
    let (status, _) = env.api("GET", "/v1/partners/nobody/balance", None).await;
    assert_eq!(status, 404);
    let (status, _) = env.api("GET", "/v1/payouts/po_nope", None).await;
    assert_eq!(status, 404);
}

scenario!(payouts_below_the_minimum_or_for_chosen_rewards_are_checked);
async fn payouts_below_the_minimum_or_for_chosen_rewards_are_checked(backend: Backend) {
    let (env, _clock) = clocked(backend).await;
    pat(&env, 0).await;
    sale(&env, "inv_1", 10_000).await;
    sale(&env, "inv_2", 5_000).await;
    for bad in [
        json!({"USD": "-1"}),
        json!({"USD": "1.001"}),
        json!({"XXX": "1"}),
    ] {
        let (status, refused) = env
            .api("PATCH", "/v1/program", Some(json!({"min_payout": bad})))
            .await;
        assert_eq!(status, 422, "{refused}");
        assert!(
            refused["error"]["field"]
                .as_str()
                .is_some_and(|f| f.starts_with("min_payout.")),
            "{refused}"
        );
    }
    let (status, program) = env
        .api(
            "PATCH",
            "/v1/program",
            Some(json!({"min_payout": {"USD": "50.00"}})),
        )
        .await;
    assert_eq!(status, 200, "{program}");
    assert_eq!(program["min_payout"], json!({"USD": "50.00"}));
    let (status, refused) = pay(&env, "k1", json!({})).await;
    assert_eq!(
        (status, &refused["error"]["code"]),
        (422, &json!("below_min_payout")),
        "{refused}"
    );
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("50.00"),
        "{refused}"
    );
    assert_eq!(
        reward(&env, "inv_1:1").await["reward_status"],
        "approved",
        "nothing changed"
    );

    env.api("PATCH", "/v1/program", Some(json!({"min_payout": {}})))
        .await;
    let (status, refused) = pay(&env, "k2", json!({"reward_keys": ["inv_9:1"]})).await;
    assert_eq!(
        (status, &refused["error"]["field"]),
        (422, &json!("reward_keys")),
        "{refused}"
    );
    let (status, refused) = pay(&env, "k3", json!({"currency": "ZZZ"})).await;
    assert_eq!(
        (status, &refused["error"]["field"]),
        (422, &json!("currency")),
        "{refused}"
    );
    let (status, refused) = pay(&env, "k4", json!({"partner_key": "nobody"})).await;
    assert_eq!(
        (status, &refused["error"]["field"]),
        (422, &json!("partner_key")),
        "{refused}"
    );
    let (status, payout) = pay(&env, "k5", json!({"reward_keys": ["inv_2:1"]})).await;
    assert_eq!(status, 201, "{payout}");
    assert_eq!(
        (&payout["total"], &payout["reward_count"]),
        (&json!(1000), &json!(1))
    );
    assert_eq!(reward(&env, "inv_1:1").await["reward_status"], "approved");
}

/// An environment whose store fails on cue.
async fn flaky(backend: Backend) -> (Env, Arc<FlakyStore>, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::at(START));
    let (env, store) = Env::flaky(backend, clock.clone()).await;
    (env, store, clock)
}

scenario!(a_payout_that_crashed_midway_resumes_and_pays_each_reward_once);
async fn a_payout_that_crashed_midway_resumes_and_pays_each_reward_once(backend: Backend) {
    let (env, store, _clock) = flaky(backend).await;
    pat(&env, 0).await;
    for (key, minor) in [("inv_1", 10_000), ("inv_2", 5_000), ("inv_3", 2_000)] {
        sale(&env, key, minor).await;
    }
    // The Lambda dies at its second claim: one reward is paid, the payout is open.
    store.fail_update(2, "RW#");
    let (status, failed) = pay(&env, "k1", json!({})).await;
    assert_eq!(status, 503, "{failed}");
    assert!(payouts_of_pat(&env).await.is_empty(), "not completed");
    let (status, payout) = pay(&env, "k1", json!({})).await;
    assert_eq!(status, 200, "the retry resumes the same payout: {payout}");
    assert_eq!(
        (&payout["total"], &payout["reward_count"]),
        (&json!(3400), &json!(3))
    );
    let id = payout["id"].as_str().expect("an id");
    assert_eq!(payout_rewards(&env, id).await.len(), 3);
    assert_eq!(payouts_of_pat(&env).await.len(), 1);
}

scenario!(the_sweeper_completes_a_payout_a_crash_left_open);
async fn the_sweeper_completes_a_payout_a_crash_left_open(backend: Backend) {
    let (env, store, clock) = flaky(backend).await;
    pat(&env, 0).await;
    sale(&env, "inv_1", 10_000).await;
    sale(&env, "inv_2", 5_000).await;
    // Every reward claimed, then the Lambda dies as it completes the payout.
    store.fail_update(1, "PAYOUT");
    let (status, _) = pay(&env, "k1", json!({})).await;
    assert_eq!(status, 503);
    assert_eq!(reward(&env, "inv_1:1").await["reward_status"], "paid");
    assert!(payouts_of_pat(&env).await.is_empty());
    clock.advance(GRACE_MS + 1);
    let report = sweep(&env.app, GRACE_MS).await.expect("sweep");
    assert_eq!(report.payouts_completed, 1);
    let listed = payouts_of_pat(&env).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (&listed[0]["total"], &listed[0]["status"]),
        (&json!(3000), &json!("completed"))
    );
    let id = listed[0]["id"].as_str().expect("an id");
    assert_eq!(payout_rewards(&env, id).await.len(), 2);
    let again = sweep(&env.app, GRACE_MS).await.expect("sweep");
    assert_eq!(again.payouts_completed, 0);
}

scenario!(concurrent_payouts_split_the_rewards_and_never_pay_one_twice);
async fn concurrent_payouts_split_the_rewards_and_never_pay_one_twice(backend: Backend) {
    let (env, _clock) = clocked(backend).await;
    pat(&env, 0).await;
    let mut expected = 0;
    for i in 1..=6 {
        let reward = sale(&env, &format!("inv_{i}"), 1_000 * i).await;
        expected += reward["amount"].as_i64().expect("an amount");
    }
    let (a, b) = tokio::join!(pay(&env, "k1", json!({})), pay(&env, "k2", json!({})));
    let mut total = 0;
    let mut keys = Vec::new();
    for (status, payout) in [a, b] {
        if status == 422 {
            assert_eq!(payout["error"]["code"], "nothing_to_pay", "{payout}");
            continue;
        }
        assert!(status == 201 || status == 200, "{status} {payout}");
        total += payout["total"].as_i64().expect("a total");
        let id = payout["id"].as_str().expect("an id");
        keys.extend(
            payout_rewards(&env, id)
                .await
                .into_iter()
                .map(|r| r["key"].clone()),
        );
    }
    keys.sort_by_key(|k| k.to_string());
    let before = keys.len();
    keys.dedup();
    assert_eq!(
        (before, keys.len()),
        (6, 6),
        "each reward in one payout: {keys:?}"
    );
    assert_eq!(total, expected);
}
