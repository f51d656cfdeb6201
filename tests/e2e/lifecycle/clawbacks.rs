//! Refunds after payout: a paid reward is never rewritten; clawbacks take back exactly what it
//! lost, once per refund however often it is retried, and net out in the next payout.

use super::{clocked, heard, pat, pay, reward, sale, usd};
use crate::support::{scenario, Backend, Env};
use serde_json::{json, Value};

/// The clawbacks of pat, from the partner listing.
async fn clawbacks(env: &Env) -> Vec<Value> {
    let (status, page) = env.api("GET", "/v1/rewards?partner_key=pat", None).await;
    assert_eq!(status, 200, "{page}");
    let all = page["data"].as_array().cloned().unwrap_or_default();
    all.into_iter()
        .filter(|r| r["source"] == "clawback")
        .collect()
}

async fn refund(env: &Env, tx: &str, key: &str, minor: i64) {
    let body = json!({"amount": minor, "key": key});
    let path = format!("/v1/transactions/{tx}/refunds");
    let (status, answer) = env.api("POST", &path, Some(body)).await;
    assert!(status == 200 || status == 201, "{status} {answer}");
}

scenario!(refunds_after_payout_claw_back_exactly_and_net_out_in_the_next_payout);
async fn refunds_after_payout_claw_back_exactly_and_net_out_in_the_next_payout(backend: Backend) {
    let (env, _clock) = clocked(backend).await;
    let (_, receiver) = pat(&env, 0).await;
    sale(&env, "inv_1", 10_000).await;
    let (status, first) = pay(&env, "k1", json!({})).await;
    assert_eq!((status, &first["total"]), (201, &json!(2000)), "{first}");

    // A quarter refunded: a quarter of the reward clawed back, once however often it comes.
    refund(&env, "inv_1", "rf_1", 2_500).await;
    refund(&env, "inv_1", "rf_1", 2_500).await;
    let paid = reward(&env, "inv_1:1").await;
    assert_eq!(
        (&paid["amount"], &paid["reward_status"]),
        (&json!(2000), &json!("paid")),
        "never rewritten"
    );
    let claws = clawbacks(&env).await;
    assert_eq!(claws.len(), 1, "{claws:?}");
    let claw = &claws[0];
    assert_eq!(
        (&claw["amount"], &claw["reverses"]),
        (&json!(-500), &json!("inv_1:1"))
    );
    assert_eq!(
        (&claw["reward_status"], &claw["payment_status"]),
        (&json!("approved"), &json!("available"))
    );

    let (status, refused) = env
        .api("POST", "/v1/rewards/inv_1:1:cb000/decline", None)
        .await;
    assert_eq!(
        (status, &refused["error"]["code"]),
        (409, &json!("invalid_transition")),
        "{refused}"
    );
    let (status, refused) = env.api("POST", "/v1/rewards/inv_1:1/approve", None).await;
    assert_eq!(
        (status, &refused["error"]["code"]),
        (409, &json!("invalid_transition")),
        "{refused}"
    );

    // The rest refunded: the total clawed back is the whole paid reward, exactly.
    refund(&env, "inv_1", "rf_2", 7_500).await;
    let claws = clawbacks(&env).await;
    let (_, by_tx) = env
        .api("GET", "/v1/rewards?transaction_key=inv_1", None)
        .await;
    assert_eq!(
        by_tx["data"].as_array().map(Vec::len),
        Some(3),
        "the reward and its clawbacks: {by_tx}"
    );
    let clawed: i64 = claws
        .iter()
        .map(|c| c["amount"].as_i64().unwrap_or(0))
        .sum();
    assert_eq!((claws.len(), clawed), (2, -2000), "{claws:?}");

    let (_, balance) = env.api("GET", "/v1/partners/pat/balance", None).await;
    let b = usd(&balance);
    assert_eq!(
        (&b["paid"], &b["approved"], &b["clawed_back"]),
        (&json!(2000), &json!(-2000), &json!(2000))
    );
    let (status, refused) = pay(&env, "k2", json!({})).await;
    assert_eq!(
        (status, &refused["error"]["code"]),
        (422, &json!("negative_total")),
        "{refused}"
    );

    // The next sale's reward pays out net of what was clawed back.
    sale(&env, "inv_2", 15_000).await;
    let (status, second) = pay(&env, "k3", json!({})).await;
    assert_eq!(status, 201, "{second}");
    assert_eq!(
        (&second["total"], &second["reward_count"]),
        (&json!(1000), &json!(3))
    );
    let (_, balance) = env.api("GET", "/v1/partners/pat/balance", None).await;
    let b = usd(&balance);
    assert_eq!(
        (&b["paid"], &b["approved"], &b["clawed_back"]),
        (&json!(3000), &json!(0), &json!(2000))
    );
    assert!(clawbacks(&env)
        .await
        .iter()
        .all(|c| c["payment_status"] == "withdrawn"));

    let mut created: Vec<String> = heard(&env, &receiver)
        .await
        .into_iter()
        .filter(|(event, key, _)| event == "reward.created" && key.contains(":cb"))
        .map(|(_, key, _)| key)
        .collect();
    created.sort();
    assert_eq!(
        created,
        vec!["inv_1:1:cb000", "inv_1:1:cb001"],
        "each clawback announced once"
    );
    let body = receiver
        .bodies()
        .into_iter()
        .find(|b| b["data"]["key"] == "inv_1:1:cb000")
        .expect("the clawback's postback");
    assert_eq!(
        (&body["data"]["source"], &body["data"]["amount"]),
        (&json!("clawback"), &json!(-500))
    );
}

scenario!(unpaid_rewards_are_still_rescaled_not_clawed_back);
async fn unpaid_rewards_are_still_rescaled_not_clawed_back(backend: Backend) {
    let (env, _clock) = clocked(backend).await;
    pat(&env, 0).await;
    sale(&env, "inv_1", 10_000).await;
    refund(&env, "inv_1", "rf_1", 5_000).await;
    assert_eq!(reward(&env, "inv_1:1").await["amount"], 1000);
    assert!(clawbacks(&env).await.is_empty());
    refund(&env, "inv_1", "rf_2", 5_000).await;
    assert_eq!(reward(&env, "inv_1:1").await["reward_status"], "declined");
    assert!(clawbacks(&env).await.is_empty());
}

scenario!(concurrent_refunds_after_payout_claw_back_exactly_what_was_lost);
async fn concurrent_refunds_after_payout_claw_back_exactly_what_was_lost(backend: Backend) {
    let (env, _clock) = clocked(backend).await;
    pat(&env, 0).await;
    sale(&env, "inv_1", 9_999).await;
    let (status, payout) = pay(&env, "k1", json!({})).await;
    assert_eq!((status, &payout["total"]), (201, &json!(2000)), "{payout}");
    // Three refunds at once, one of them sent twice: 33.33 + 20.00 + 11.11 of 99.99.
    tokio::join!(
        refund(&env, "inv_1", "rf_1", 3_333),
        refund(&env, "inv_1", "rf_2", 2_000),
        refund(&env, "inv_1", "rf_3", 1_111),
        refund(&env, "inv_1", "rf_1", 3_333),
    );
    // Worth 20 % of the 35.55 left now, 7.11: 12.89 clawed back in all.
    let clawed: i64 = clawbacks(&env)
        .await
        .iter()
        .map(|c| c["amount"].as_i64().unwrap_or(0))
        .sum();
    assert_eq!(clawed, -1289);
    assert_eq!(
        reward(&env, "inv_1:1").await["amount"],
        2000,
        "the paid reward stays"
    );
}
