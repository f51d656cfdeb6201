//! Money through the functions: each provider's amounts read by its own minor-unit table,
//! refunds read in the currency of the payment they refund, and amounts, rates and plans past
//! their bounds refused with a 422 naming the field.

use crate::incoming::{create_hook, map, post};
use crate::providers::{
    basic, chargebee, chargify, fixture, now, setup, status_of, stripe, STRIPE_SECRET,
};
use crate::support::{scenario, transaction, Backend, Env};
use serde_json::{json, Value};

/// Stripe's charge fixture in another currency and amount, with ids of its own.
fn stripe_charge(tag: &str, currency: &str, amount: i64) -> String {
    fixture("stripe/charge.succeeded.json")
        .replace("evt_3PartnerhookChgOk01", &format!("evt_{tag}"))
        .replace("ch_3PartnerhookTest01", &format!("ch_{tag}"))
        .replace("\"amount\": 4900", &format!("\"amount\": {amount}"))
        .replace(
            "\"amount_captured\": 4900",
            &format!("\"amount_captured\": {amount}"),
        )
        .replace(
            "\"currency\": \"usd\"",
            &format!("\"currency\": \"{currency}\""),
        )
}

fn decimal_of(tx: &Value, field: &str) -> String {
    tx[field].as_str().unwrap_or_default().to_string()
}

scenario!(stripe_amounts_are_read_by_stripes_currency_table);
/// https://docs.stripe.com/currencies#special-cases: ISK and UGX carry two decimals in Stripe's
/// amounts although ISO gives them none; MGA carries none although ISO gives it two.
async fn stripe_amounts_are_read_by_stripes_currency_table(backend: Backend) {
    let env = setup(backend, true).await;
    let t = now();
    let linked = stripe(
        &env,
        &fixture("stripe/customer.created.json"),
        STRIPE_SECRET,
        t,
    )
    .await;
    assert_eq!(status_of(&linked), (200, "customer_linked"));
    for (tag, currency, amount, expected) in [
        ("isk", "isk", 50_000, "500"),
        ("ugx", "ugx", 500_000, "5000"),
        ("mga", "mga", 5_000, "5000.00"),
        ("huf", "huf", 1_045, "10.45"),
    ] {
        let answer = stripe(
            &env,
            &stripe_charge(tag, currency, amount),
            STRIPE_SECRET,
            t,
        )
        .await;
        assert_eq!(status_of(&answer), (200, "created"), "{tag}: {}", answer.1);
        let tx = transaction(&env, &format!("ch_{tag}")).await;
        assert_eq!(decimal_of(&tx, "amount_decimal"), expected, "{tag}");
    }
}

scenario!(chargebee_amounts_are_read_by_chargebees_currency_table);
/// https://apidocs.chargebee.com/docs/api/currencies: two decimals for every currency with
/// subunits, so a KWD amount of 1395 is 13.950, not ISO's 1.395.
async fn chargebee_amounts_are_read_by_chargebees_currency_table(backend: Backend) {
    let env = setup(backend, true).await;
    let paid = fixture("chargebee/payment_succeeded.json")
        .replace("\"currency_code\": \"USD\"", "\"currency_code\": \"KWD\"");
    let answer = chargebee(&env, &paid, &basic("cb-user", "cb:pass")).await;
    assert_eq!(status_of(&answer), (200, "created"), "{}", answer.1);
    let tx = transaction(&env, "txn_PartnerhookTest01").await;
    assert_eq!(decimal_of(&tx, "amount_decimal"), "13.950");
}

scenario!(a_chargify_refund_is_the_size_of_its_payments_currency);
/// Chargify's refund_success names no currency: its 2000 is 2000 yen for a payment in yen,
/// not the program's 20.00 euros.
async fn a_chargify_refund_is_the_size_of_its_payments_currency(backend: Backend) {
    let env = setup(backend, true).await;
    let key = "chargify-site-key";
    let payment = fixture("chargify/payment_success.txt").replace(
        "payload[subscription][currency]=USD",
        "payload[subscription][currency]=JPY",
    );
    assert_eq!(
        status_of(&chargify(&env, &payment, key).await),
        (200, "created")
    );
    let partial = chargify(&env, &fixture("chargify/refund_success.partial.txt"), key).await;
    assert_eq!(status_of(&partial), (200, "partially_refunded"));
    let tx = transaction(&env, "173961106").await;
    assert_eq!(
        (tx["currency"].as_str(), tx["refunded_amount"].as_i64()),
        (Some("JPY"), Some(2000))
    );
}

scenario!(an_incoming_refund_is_read_in_its_transactions_currency);
/// An incoming refund's decimal is read in its transaction's currency, not the program's
/// (EUR): 1.234 refunds a KWD sale; 0.5 of a yen is refused naming the path; a refund that
/// comes first is read once its sale arrives.
async fn an_incoming_refund_is_read_in_its_transactions_currency(backend: Backend) {
    let env = Env::new(backend).await;
    let (status, _) = env
        .api(
            "POST",
            "/v1/customers",
            Some(json!({"email": "c@example.com", "name": "C", "key": "c-1"})),
        )
        .await;
    assert_eq!(status, 201);
    let sales = create_hook(&env).await;
    map(
        &env,
        &sales,
        "create_transaction",
        json!({"amount": "amount", "currency": "currency", "customer_key": "customer", "transaction_key": "id"}),
    )
    .await;
    let refunds = create_hook(&env).await;
    map(
        &env,
        &refunds,
        "refund_transaction",
        json!({"transaction_key": "id", "amount": "refund.amount"}),
    )
    .await;
    let sale = |id: &str, currency: &str, amount: &str| {
        format!(r#"{{"amount":"{amount}","currency":"{currency}","customer":"c-1","id":"{id}"}}"#)
    };
    let refund =
        |id: &str, amount: &str| format!(r#"{{"id":"{id}","refund":{{"amount":"{amount}"}}}}"#);
    let url = &sales["production_url"];
    let json = "application/json";
    assert_eq!(
        post(&env, url, json, &sale("k-1", "KWD", "10.000")).await.0,
        200
    );
    assert_eq!(
        post(&env, url, json, &sale("j-1", "JPY", "5000")).await.0,
        200
    );

    let refunds_url = &refunds["production_url"];
    let answer = post(&env, refunds_url, json, &refund("k-1", "1.234")).await;
    assert_eq!(
        status_of(&answer),
        (200, "partially_refunded"),
        "{}",
        answer.1
    );
    assert_eq!(transaction(&env, "k-1").await["refunded_amount"], 1234);

    let answer = post(&env, refunds_url, json, &refund("j-1", "0.5")).await;
    assert_eq!(
        (answer.0, answer.1["error"]["field"].as_str()),
        (422, Some("refund.amount")),
        "{}",
        answer.1
    );

    let early = post(&env, refunds_url, json, &refund("k-2", "1.234")).await;
    assert_eq!(status_of(&early), (200, "refund_pending"), "{}", early.1);
    assert_eq!(
        post(&env, url, json, &sale("k-2", "KWD", "5.000")).await.0,
        200
    );
    assert_eq!(
        decimal_of(&transaction(&env, "k-2").await, "refunded_amount_decimal"),
        "1.234"
    );
}

scenario!(amounts_rates_and_plans_past_their_bounds_are_refused);
/// An amount, a USD rate or a plan past its bound is a 422 naming the field, never a panic.
async fn amounts_rates_and_plans_past_their_bounds_are_refused(backend: Backend) {
    let env = setup(backend, true).await;
    for (patch, field) in [
        (
            json!({"commission": {"levels": ["60", "50"]}}),
            "commission.levels",
        ),
        (
            json!({"usd_rates": {"EUR": "100000000000000000000"}}),
            "usd_rates.EUR",
        ),
    ] {
        let (status, body) = env.api("PATCH", "/v1/program", Some(patch)).await;
        assert_eq!(
            (status, body["error"]["field"].as_str()),
            (422, Some(field)),
            "{body}"
        );
    }
    let t = now();
    stripe(
        &env,
        &fixture("stripe/customer.created.json"),
        STRIPE_SECRET,
        t,
    )
    .await;
    let huge = stripe_charge("huge", "usd", 1_000_000_000_000_000);
    let answer = stripe(&env, &huge, STRIPE_SECRET, t).await;
    assert_eq!(
        (answer.0, answer.1["error"]["field"].as_str()),
        (422, Some("data.object.amount_captured")),
        "{}",
        answer.1
    );
}
