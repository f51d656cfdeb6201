//! Provider events that would misstate money if taken at face value: uncaptured and lapsed
//! Stripe authorizations, partial captures, disputes, refunds that fail, Recurly voids,
//! Chargebee late failures, and currencies or amounts no program can hold.

use crate::providers::{
    basic, chargebee, fixture, now, recurly_xml, setup, status_of, stripe, STRIPE_SECRET,
};
use crate::support::{rewards, scenario, transaction, Backend, Env};
use serde_json::{json, Value};

const CHARGE: &str = "ch_3PartnerhookTest01";
const REWARD: &str = "ch_3PartnerhookTest01:1";

async fn send(env: &Env, body: &str) -> (u16, Value) {
    stripe(env, body, STRIPE_SECRET, now()).await
}

/// Stripe's customer linked to `cust-001` (partner pat).
async fn linked(backend: Backend) -> Env {
    let env = setup(backend, true).await;
    let answer = send(&env, &fixture("stripe/customer.created.json")).await;
    assert_eq!(status_of(&answer), (200, "customer_linked"));
    env
}

/// The 49.00 charge recorded and commissioned: pat's 9.80 pending.
async fn charged(backend: Backend) -> Env {
    let env = linked(backend).await;
    let answer = send(&env, &fixture("stripe/charge.succeeded.json")).await;
    assert_eq!(status_of(&answer), (200, "created"), "{}", answer.1);
    env.run_worker().await;
    assert_eq!(reward(&env).await, (980, "pending".into(), None));
    env
}

/// The charge's one reward: amount in cents, status, reason.
async fn reward(env: &Env) -> (i64, String, Option<String>) {
    let all = rewards(env, CHARGE).await;
    assert_eq!(all.len(), 1, "{all:?}");
    let r = &all[0];
    (
        r["amount"].as_i64().unwrap_or(-1),
        r["reward_status"].as_str().unwrap_or("").to_string(),
        r["status_reason"].as_str().map(str::to_string),
    )
}

/// A fixture with its event id (and optionally other text) made new, as another event.
fn again(path: &str, tag: &str, swaps: &[(&str, &str)]) -> String {
    let body = fixture(path);
    let event_id = serde_json::from_str::<Value>(&body).expect("fixture")["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    swaps.iter().fold(
        body.replace(&event_id, &format!("{event_id}{tag}")),
        |body, (from, to)| body.replace(from, to),
    )
}

scenario!(stripe_counts_only_captured_money);
async fn stripe_counts_only_captured_money(backend: Backend) {
    let env = linked(backend).await;
    let authorized = send(&env, &fixture("stripe/charge.succeeded.uncaptured.json")).await;
    assert_eq!(status_of(&authorized), (200, "ignored"), "{}", authorized.1);
    assert!(authorized.1["reason"]
        .as_str()
        .is_some_and(|r| r.contains("not captured")));
    let (status, _) = env
        .api("GET", "/v1/transactions/ch_3PartnerhookAuth01", None)
        .await;
    assert_eq!(status, 404, "an authorization counts nothing");
    // Captured in part: 30.00 of the 49.00 authorized counts.
    let captured = send(&env, &fixture("stripe/charge.captured.partial.json")).await;
    assert_eq!(status_of(&captured), (200, "created"), "{}", captured.1);
    env.run_worker().await;
    let tx = transaction(&env, "ch_3PartnerhookAuth01").await;
    assert_eq!(tx["amount"], 3000);
    let paid = rewards(&env, "ch_3PartnerhookAuth01").await;
    assert_eq!(paid[0]["amount"], 600);
    // Another authorization lapses uncaptured: nothing was counted, nothing is kept.
    let lapsed = send(&env, &fixture("stripe/charge.expired.json")).await;
    assert_eq!(status_of(&lapsed), (200, "ignored"), "{}", lapsed.1);
    let (status, _) = env
        .api("GET", "/v1/transactions/ch_3PartnerhookAuth02", None)
        .await;
    assert_eq!(status, 404);
}

scenario!(a_lapsed_authorization_counted_before_takes_back_its_commission);
/// A charge recorded at authorization (as Partnerhook did before it looked at `captured`) and
/// then lapsed: its commission goes.
async fn a_lapsed_authorization_counted_before_takes_back_its_commission(backend: Backend) {
    let env = charged(backend).await;
    let lapsed = again(
        "stripe/charge.expired.json",
        "x",
        &[("ch_3PartnerhookAuth02", CHARGE)],
    );
    let answer = send(&env, &lapsed).await;
    assert_eq!(status_of(&answer), (200, "refunded"), "{}", answer.1);
    assert_eq!(transaction(&env, CHARGE).await["status"], "refunded");
    assert_eq!(reward(&env).await.1, "declined");
    let repeat = send(
        &env,
        &again(
            "stripe/charge.expired.json",
            "y",
            &[("ch_3PartnerhookAuth02", CHARGE)],
        ),
    )
    .await;
    assert_eq!(status_of(&repeat), (200, "skipped"));
}

scenario!(a_dispute_holds_the_rewards_until_it_is_won_and_never_an_admins_hold);
async fn a_dispute_holds_the_rewards_until_it_is_won_and_never_an_admins_hold(backend: Backend) {
    let env = charged(backend).await;
    let opened = send(&env, &fixture("stripe/charge.dispute.created.json")).await;
    assert_eq!(status_of(&opened), (200, "held"), "{}", opened.1);
    let (amount, status, reason) = reward(&env).await;
    assert_eq!((amount, status.as_str()), (980, "hold"));
    assert!(reason.is_some_and(|r| r.contains("dp_1PartnerhookDisp01")));
    let won = send(&env, &fixture("stripe/charge.dispute.closed.won.json")).await;
    assert_eq!(status_of(&won), (200, "released"), "{}", won.1);
    assert_eq!(reward(&env).await, (980, "pending".into(), None));
    // Stripe retries the close: handled once.
    let repeat = send(&env, &fixture("stripe/charge.dispute.closed.won.json")).await;
    assert_eq!(status_of(&repeat), (200, "skipped"));

    // An admin's hold stays, whatever a dispute does.
    let (status, body) = env
        .api(
            "POST",
            &format!("/v1/rewards/{REWARD}/hold"),
            Some(json!({"reason": "fraud review"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let second = [("dp_1PartnerhookDisp01", "dp_1PartnerhookDisp02")];
    let opened = send(
        &env,
        &again("stripe/charge.dispute.created.json", "b", &second),
    )
    .await;
    assert_eq!(status_of(&opened), (200, "held"));
    let won = send(
        &env,
        &again("stripe/charge.dispute.closed.won.json", "b", &second),
    )
    .await;
    assert_eq!(status_of(&won), (200, "released"));
    assert_eq!(
        reward(&env).await,
        (980, "hold".into(), Some("fraud review".into()))
    );
}

scenario!(an_opening_delivered_after_its_close_holds_nothing);
/// Even when the close came before the charge itself: it is kept like a refund.
async fn an_opening_delivered_after_its_close_holds_nothing(backend: Backend) {
    let env = linked(backend).await;
    let won = send(&env, &fixture("stripe/charge.dispute.closed.won.json")).await;
    assert_eq!(status_of(&won), (200, "released"), "{}", won.1);
    let charge = send(&env, &fixture("stripe/charge.succeeded.json")).await;
    assert_eq!(status_of(&charge), (200, "created"), "{}", charge.1);
    env.run_worker().await;
    let opened = send(&env, &fixture("stripe/charge.dispute.created.json")).await;
    assert_eq!(status_of(&opened), (200, "skipped"), "{}", opened.1);
    assert_eq!(reward(&env).await, (980, "pending".into(), None));
}

scenario!(a_lost_dispute_is_a_refund_of_the_disputed_amount_counted_once);
async fn a_lost_dispute_is_a_refund_of_the_disputed_amount_counted_once(backend: Backend) {
    let env = charged(backend).await;
    // 19.00 of the 49.00 disputed and lost: 30.00 still counts, and the hold is released.
    let partial = [("\"amount\": 4900", "\"amount\": 1900")];
    let opened = send(&env, &again("stripe/charge.dispute.created.json", "", &[])).await;
    assert_eq!(status_of(&opened), (200, "held"));
    let lost = again("stripe/charge.dispute.closed.lost.json", "", &partial);
    let answer = send(&env, &lost).await;
    assert_eq!(
        status_of(&answer),
        (200, "partially_refunded"),
        "{}",
        answer.1
    );
    assert_eq!(reward(&env).await, (600, "pending".into(), None));
    // The same loss sent again as another event: keyed by the dispute, taken once.
    let repeat = send(
        &env,
        &again("stripe/charge.dispute.closed.lost.json", "r", &partial),
    )
    .await;
    assert_eq!(status_of(&repeat), (200, "skipped"), "{}", repeat.1);
    let tx = transaction(&env, CHARGE).await;
    assert_eq!(tx["refunded_amount"], 1900);
}

scenario!(a_failed_refund_restores_the_sale);
async fn a_failed_refund_restores_the_sale(backend: Backend) {
    let env = charged(backend).await;
    let partial = send(&env, &fixture("stripe/charge.refunded.partial.json")).await;
    assert_eq!(status_of(&partial), (200, "partially_refunded"));
    assert_eq!(reward(&env).await.0, 600);
    let failed = send(&env, &fixture("stripe/refund.failed.json")).await;
    assert_eq!(status_of(&failed), (200, "refund_reversed"), "{}", failed.1);
    assert_eq!(reward(&env).await, (980, "pending".into(), None));
    assert_eq!(transaction(&env, CHARGE).await["refunded_amount"], 0);
    // The same failure told again by `charge.refund.updated`: given back once.
    let updated = send(&env, &fixture("stripe/charge.refund.updated.failed.json")).await;
    assert_eq!(status_of(&updated), (200, "skipped"), "{}", updated.1);
    assert_eq!(reward(&env).await.0, 980);

    // A full refund that fails: the declined reward and the transaction come back.
    let full = send(&env, &fixture("stripe/charge.refunded.full.json")).await;
    assert_eq!(status_of(&full), (200, "refunded"));
    assert_eq!(reward(&env).await.1, "declined");
    let whole = again(
        "stripe/refund.failed.json",
        "f",
        &[
            ("re_3PartnerhookRfnd01", "re_3PartnerhookRfnd02"),
            ("\"amount\": 1900", "\"amount\": 4900"),
        ],
    );
    let failed = send(&env, &whole).await;
    assert_eq!(status_of(&failed), (200, "refund_reversed"), "{}", failed.1);
    let tx = transaction(&env, CHARGE).await;
    assert_eq!(
        (tx["status"].as_str(), tx["refunded_amount"].as_i64()),
        (Some("commissioned"), Some(0))
    );
    assert_eq!(reward(&env).await, (980, "pending".into(), None));
}

scenario!(a_refund_failing_before_its_charge_is_known_is_kept_and_applied_after_it);
/// The refund and its failure both arrive before the charge: kept, then applied in order
/// (the refund, then its failure), so the sale counts in full.
async fn a_refund_failing_before_its_charge_is_known_is_kept_and_applied_after_it(
    backend: Backend,
) {
    let env = linked(backend).await;
    let failed = send(&env, &fixture("stripe/refund.failed.json")).await;
    assert_eq!(status_of(&failed), (200, "refund_pending"), "{}", failed.1);
    let refund = send(&env, &fixture("stripe/charge.refunded.partial.json")).await;
    assert_eq!(status_of(&refund), (200, "refund_pending"));
    let charge = send(&env, &fixture("stripe/charge.succeeded.json")).await;
    assert_eq!(status_of(&charge), (200, "created"), "{}", charge.1);
    env.run_worker().await;
    assert_eq!(transaction(&env, CHARGE).await["refunded_amount"], 0);
    assert_eq!(reward(&env).await, (980, "pending".into(), None));
}

scenario!(a_recurly_void_takes_back_the_voided_payment);
async fn a_recurly_void_takes_back_the_voided_payment(backend: Backend) {
    let env = setup(backend, true).await;
    let auth = basic("rc-user", "rc-pass");
    let paid = recurly_xml(
        &env,
        &fixture("recurly/successful_payment_notification.xml"),
        &auth,
    )
    .await;
    assert_eq!(status_of(&paid), (200, "created"), "{}", paid.1);
    env.run_worker().await;
    let key = "a1b2c3d4e5f60718293a4b5c6d7e8f90";
    assert_eq!(rewards(&env, key).await[0]["reward_status"], "pending");
    let void = fixture("recurly/void_payment_notification.xml");
    let voided = recurly_xml(&env, &void, &auth).await;
    assert_eq!(status_of(&voided), (200, "refunded"), "{}", voided.1);
    assert_eq!(transaction(&env, key).await["status"], "refunded");
    assert_eq!(rewards(&env, key).await[0]["reward_status"], "declined");
    let repeat = recurly_xml(&env, &void, &auth).await;
    assert_eq!(status_of(&repeat), (200, "skipped"));
}

scenario!(a_chargebee_late_failure_reverses_the_payment);
async fn a_chargebee_late_failure_reverses_the_payment(backend: Backend) {
    let env = setup(backend, true).await;
    let auth = basic("cb-user", "cb:pass");
    let paid = chargebee(&env, &fixture("chargebee/payment_succeeded.json"), &auth).await;
    assert_eq!(status_of(&paid), (200, "created"), "{}", paid.1);
    env.run_worker().await;
    let key = "txn_PartnerhookTest01";
    let late = fixture("chargebee/payment_failed.late_failure.json");
    let failed = chargebee(&env, &late, &auth).await;
    assert_eq!(status_of(&failed), (200, "refunded"), "{}", failed.1);
    assert_eq!(transaction(&env, key).await["status"], "refunded");
    assert_eq!(rewards(&env, key).await[0]["reward_status"], "declined");
    // An ordinary failure was never a payment.
    let early = late
        .replace("ev_AzyHookPayLate01", "ev_AzyHookPayFail02")
        .replace("\"status\": \"late_failure\"", "\"status\": \"failure\"");
    assert_eq!(
        status_of(&chargebee(&env, &early, &auth).await),
        (200, "ignored")
    );
}

scenario!(a_chargebee_refund_of_an_unknown_payment_is_kept_with_its_reason);
/// Refunds may come before their payment: kept and answered `refund_pending` with a reason the
/// inbox keeps, and applied if the payment arrives.
async fn a_chargebee_refund_of_an_unknown_payment_is_kept_with_its_reason(backend: Backend) {
    let env = setup(backend, true).await;
    let auth = basic("cb-user", "cb:pass");
    let refund = chargebee(&env, &fixture("chargebee/payment_refunded.json"), &auth).await;
    assert_eq!(status_of(&refund), (200, "refund_pending"), "{}", refund.1);
    assert!(refund.1["reason"]
        .as_str()
        .is_some_and(|r| r.contains("txn_PartnerhookTest01")));
    let (_, inbox) = env.api("GET", "/v1/events", None).await;
    let kept = inbox["data"]
        .as_array()
        .and_then(|events| events.iter().find(|e| e["outcome"] == "refund_pending"));
    assert!(
        kept.is_some_and(|e| e["reason"].as_str().is_some()),
        "{inbox}"
    );
    let paid = chargebee(&env, &fixture("chargebee/payment_succeeded.json"), &auth).await;
    assert_eq!(status_of(&paid), (200, "created_refunded"), "{}", paid.1);
}

scenario!(unknown_currencies_and_huge_amounts_are_422s_naming_the_field);
async fn unknown_currencies_and_huge_amounts_are_422s_naming_the_field(backend: Backend) {
    let env = linked(backend).await;
    let auth = basic("cb-user", "cb:pass");
    let cases = [
        (
            send(
                &env,
                &again(
                    "stripe/charge.succeeded.json",
                    "c",
                    &[("\"currency\": \"usd\"", "\"currency\": \"xyz\"")],
                ),
            )
            .await,
            "data.object.currency",
        ),
        (
            send(
                &env,
                &again(
                    "stripe/charge.succeeded.json",
                    "a",
                    &[(
                        "\"amount_captured\": 4900",
                        "\"amount_captured\": 9223372036854775807",
                    )],
                ),
            )
            .await,
            "data.object.amount_captured",
        ),
        (
            send(
                &env,
                &again(
                    "stripe/charge.dispute.closed.lost.json",
                    "a",
                    &[("\"amount\": 4900", "\"amount\": 100000000000001")],
                ),
            )
            .await,
            "data.object.amount",
        ),
        (
            chargebee(
                &env,
                &fixture("chargebee/payment_succeeded.json")
                    .replace("\"currency_code\": \"USD\"", "\"currency_code\": \"BTC\""),
                &auth,
            )
            .await,
            "content.transaction.currency_code",
        ),
        (
            chargebee(
                &env,
                &fixture("chargebee/payment_succeeded.json")
                    .replace("\"amount\": 1395,", "\"amount\": 100000000000001,"),
                &auth,
            )
            .await,
            "content.transaction.amount",
        ),
    ];
    for ((status, body), field) in cases {
        assert_eq!(status, 422, "{field}: {body}");
        assert!(
            body["error"]["field"]
                .as_str()
                .is_some_and(|f| f.starts_with(field)),
            "{field}: {body}"
        );
    }
}
