//! The holding period, the sweeper's approval and admins' reviews.

use super::{clocked, heard, pat, reward, sale, DAY, START};
use crate::support::{scenario, Backend};
use partnerhook::usecases::sweeper::{sweep, GRACE_MS};
use serde_json::json;

scenario!(rewards_wait_their_holding_period_then_the_sweeper_approves_them_once);
async fn rewards_wait_their_holding_period_then_the_sweeper_approves_them_once(backend: Backend) {
    let (env, clock) = clocked(backend).await;
    let (_, receiver) = pat(&env, 10).await;
    let pending = sale(&env, "inv_1", 10_000).await;
    assert_eq!(pending["reward_status"], "pending");
    assert_eq!(pending["payment_status"], "pending");
    assert_eq!(
        pending["payment_date"],
        START + 10 * DAY,
        "created + holding_days"
    );
    let created = heard(&env, &receiver).await;
    assert_eq!(
        created,
        vec![("reward.created".into(), "inv_1:1".into(), "pending".into())]
    );
    let body = &receiver.bodies()[0]["data"];
    assert_eq!(
        (
            &body["payment_status"],
            &body["payment_date"],
            &body["source"]
        ),
        (
            &json!("pending"),
            &json!(START + 10 * DAY),
            &json!("transaction")
        )
    );

    clock.advance(10 * DAY - 1);
    let report = sweep(&env.app, GRACE_MS).await.expect("sweep");
    assert_eq!(report.approved, 0, "one millisecond early");
    assert_eq!(reward(&env, "inv_1:1").await["reward_status"], "pending");

    clock.advance(1);
    let report = sweep(&env.app, GRACE_MS).await.expect("sweep");
    assert_eq!(report.approved, 1);
    let approved = reward(&env, "inv_1:1").await;
    assert_eq!(
        (&approved["reward_status"], &approved["payment_status"]),
        (&json!("approved"), &json!("available"))
    );
    assert_eq!(approved["payment_date"], START + 10 * DAY);
    clock.advance(DAY);
    let again = sweep(&env.app, GRACE_MS).await.expect("sweep");
    assert_eq!(again.approved, 0, "nothing left to approve");
    let events = heard(&env, &receiver).await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(
        events[1],
        ("reward.updated".into(), "inv_1:1".into(), "approved".into())
    );
    assert_eq!(receiver.bodies()[1]["data"]["payment_status"], "available");
}

scenario!(without_a_holding_period_rewards_are_available_at_once);
async fn without_a_holding_period_rewards_are_available_at_once(backend: Backend) {
    let (env, _clock) = clocked(backend).await;
    let (_, receiver) = pat(&env, 0).await;
    let reward = sale(&env, "inv_1", 10_000).await;
    assert_eq!(
        (
            &reward["reward_status"],
            &reward["payment_status"],
            &reward["payment_date"]
        ),
        (&json!("approved"), &json!("available"), &json!(START))
    );
    let events = heard(&env, &receiver).await;
    assert_eq!(
        events,
        vec![("reward.created".into(), "inv_1:1".into(), "approved".into())]
    );
}

scenario!(holding_days_are_validated_and_default_to_thirty);
async fn holding_days_are_validated_and_default_to_thirty(backend: Backend) {
    let (env, _clock) = clocked(backend).await;
    let (status, program) = env.api("GET", "/v1/program", None).await;
    assert_eq!(status, 200, "{program}");
    assert_eq!(program["commission"]["holding_days"], 30);
    for bad in [json!(366), json!(-1), json!(1.5), json!("7")] {
        let patch = json!({"commission": {"holding_days": bad}});
        let (status, refused) = env.api("PATCH", "/v1/program", Some(patch)).await;
        assert_eq!(status, 422, "{bad}: {refused}");
        assert_eq!(
            refused["error"]["field"], "commission.holding_days",
            "{refused}"
        );
    }
    let (_, program) = env.api("GET", "/v1/program", None).await;
    assert_eq!(
        program["commission"]["holding_days"], 30,
        "the old plan stays"
    );
}

scenario!(admin_reviews_are_idempotent_and_refuse_illegal_transitions);
async fn admin_reviews_are_idempotent_and_refuse_illegal_transitions(backend: Backend) {
    let (env, clock) = clocked(backend).await;
    let (_, receiver) = pat(&env, 30).await;
    sale(&env, "inv_1", 10_000).await;
    sale(&env, "inv_2", 5_000).await;
    heard(&env, &receiver).await;

    let hold = json!({"reason": "fraud review"});
    clock.advance(1_000);
    let (status, held) = env
        .api("POST", "/v1/rewards/inv_1:1/hold", Some(hold.clone()))
        .await;
    assert_eq!(status, 200, "{held}");
    assert_eq!(
        (&held["reward_status"], &held["status_reason"]),
        (&json!("hold"), &json!("fraud review"))
    );
    clock.advance(1_000);
    let (status, again) = env
        .api("POST", "/v1/rewards/inv_1:1/hold", Some(hold))
        .await;
    assert_eq!((status, &again), (200, &held), "a repeat answers the same");

    // The clock stops: the holding period passes, the held reward stays held.
    clock.advance(31 * DAY);
    let report = sweep(&env.app, GRACE_MS).await.expect("sweep");
    assert_eq!(report.approved, 1, "inv_2:1 only");
    assert_eq!(reward(&env, "inv_1:1").await["reward_status"], "hold");

    // Releasing the hold is an approval: available at once.
    let (status, approved) = env.api("POST", "/v1/rewards/inv_1:1/approve", None).await;
    assert_eq!(status, 200, "{approved}");
    assert_eq!(
        (&approved["reward_status"], &approved["payment_status"]),
        (&json!("approved"), &json!("available"))
    );
    assert!(approved["status_reason"].is_null());
    clock.advance(1_000);
    let (status, again) = env.api("POST", "/v1/rewards/inv_1:1/approve", None).await;
    assert_eq!((status, &again), (200, &approved));

    sale(&env, "inv_3", 2_000).await;
    let decline = json!({"reason": "test order"});
    let (status, declined) = env
        .api("POST", "/v1/rewards/inv_3:1/decline", Some(decline.clone()))
        .await;
    assert_eq!(status, 200, "{declined}");
    assert_eq!(
        (&declined["reward_status"], &declined["status_reason"]),
        (&json!("declined"), &json!("test order"))
    );
    let (status, again) = env
        .api("POST", "/v1/rewards/inv_3:1/decline", Some(decline))
        .await;
    assert_eq!((status, &again), (200, &declined));

    for (path, code) in [
        ("/v1/rewards/inv_3:1/approve", 409),
        ("/v1/rewards/inv_3:1/hold", 409),
        ("/v1/rewards/nope:1/approve", 404),
        ("/v1/rewards/nope/approve", 404),
    ] {
        let (status, refused) = env.api("POST", path, None).await;
        assert_eq!(status, code, "{path}: {refused}");
        if code == 409 {
            assert_eq!(refused["error"]["code"], "invalid_transition");
            assert!(refused["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("declined"));
        }
    }
    let (status, refused) = env
        .api(
            "POST",
            "/v1/rewards/inv_2:1/decline",
            Some(json!({"reason": 5})),
        )
        .await;
    assert_eq!(
        (status, &refused["error"]["field"]),
        (422, &json!("reason")),
        "{refused}"
    );
    assert_eq!(
        reward(&env, "inv_2:1").await["reward_status"],
        "approved",
        "nothing changed"
    );

    // One reward.updated per change, none for the repeats.
    let mut updates: Vec<(String, String)> = heard(&env, &receiver)
        .await
        .into_iter()
        .filter(|(event, ..)| event == "reward.updated")
        .map(|(_, key, status)| (key, status))
        .collect();
    let mut expected: Vec<(String, String)> = [
        ("inv_1:1", "hold"),
        ("inv_2:1", "approved"),
        ("inv_1:1", "approved"),
        ("inv_3:1", "declined"),
    ]
    .iter()
    .map(|(k, s)| (k.to_string(), s.to_string()))
    .collect();
    updates.sort();
    expected.sort();
    assert_eq!(updates, expected);
}
