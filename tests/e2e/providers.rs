//! The payment-provider functions on both back ends: real-shaped fixtures, signed or
//! authenticated as each provider does it.

use crate::support::{call, rewards, scenario, transaction, Backend, Env};
use axum::Router;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use partnerhook::domain::minor_units::MinorUnits;
use partnerhook::domain::refund::{CustomerRefund, RefundAmount};
use partnerhook::http::provider_router;
use partnerhook::sources::providers::event::{Provider, ProviderEvent};
use partnerhook::sources::providers::{
    chargebee::Chargebee, chargify::Chargify, recurly::Recurly, stripe::Stripe,
};
use partnerhook::usecases::customers::parking::record_payment;
use partnerhook::usecases::ledger::customer_refunds::record_customer_refund;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use sha2::Sha256;

pub(crate) const STRIPE_SECRET: &str = "whsec_e2e_0123456789";

fn hex_hmac(key: &str, parts: &[&[u8]]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key.as_bytes()).expect("key");
    for part in parts {
        mac.update(part);
    }
    hex::encode(mac.finalize().into_bytes())
}

pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

pub(crate) fn fixture(path: &str) -> String {
    let full = format!("{}/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

pub(crate) fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// A program with every provider's credentials, partner `pat` and customer `cust-001` of pat.
pub(crate) async fn setup(backend: Backend, with_customer: bool) -> Env {
    let env = Env::new(backend).await;
    configure(&env, with_customer).await;
    env
}

/// Every provider's credentials, partner `pat` and (if asked) customer `cust-001` of pat.
pub(crate) async fn configure(env: &Env, with_customer: bool) {
    let (status, body) = env
        .api(
            "PATCH",
            "/v1/program",
            Some(json!({"providers": {
                "stripe": {"signing_secret": STRIPE_SECRET},
                "chargebee": {"username": "cb-user", "password": "cb:pass"},
                "recurly": {"username": "rc-user", "password": "rc-pass", "signing_key": "rc-signing-key"},
                "chargify": {"site_shared_key": "chargify-site-key"}
            }})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(!body.to_string().contains("cb:pass"));
    let (status, _) = env
        .api(
            "POST",
            "/v1/partners",
            Some(json!({"email": "pat@example.com", "name": "Pat", "key": "pat"})),
        )
        .await;
    assert_eq!(status, 201);
    if with_customer {
        create_customer(env).await;
    }
}

async fn create_customer(env: &Env) {
    let (status, body) = env
        .api(
            "POST",
            "/v1/customers",
            Some(json!({"email": "jane@example.com", "name": "Jane", "key": "cust-001", "partner_key": "pat"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
}

async fn send(router: &Router, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, Value) {
    call(router, "POST", path, headers, body.as_bytes(), false).await
}

pub(crate) async fn stripe(env: &Env, body: &str, secret: &str, t: i64) -> (u16, Value) {
    let signature = format!(
        "t={t},v1={}",
        hex_hmac(secret, &[t.to_string().as_bytes(), b".", body.as_bytes()])
    );
    let headers = [
        ("content-type", "application/json"),
        ("stripe-signature", signature.as_str()),
    ];
    send(
        &provider_router::<Stripe>(env.app.clone()),
        "/webhooks/acme/stripe",
        &headers,
        body,
    )
    .await
}

pub(crate) async fn chargebee(env: &Env, body: &str, auth: &str) -> (u16, Value) {
    let headers = [
        ("content-type", "application/json"),
        ("authorization", auth),
    ];
    send(
        &provider_router::<Chargebee>(env.app.clone()),
        "/webhooks/acme/chargebee",
        &headers,
        body,
    )
    .await
}

pub(crate) async fn recurly_xml(env: &Env, body: &str, auth: &str) -> (u16, Value) {
    let headers = [("content-type", "application/xml"), ("authorization", auth)];
    send(
        &provider_router::<Recurly>(env.app.clone()),
        "/webhooks/acme/recurly",
        &headers,
        body,
    )
    .await
}

pub(crate) async fn chargify(env: &Env, body: &str, key: &str) -> (u16, Value) {
    let signature = hex_hmac(key, &[body.as_bytes()]);
    let headers = [
        ("content-type", "application/x-www-form-urlencoded"),
        (
            "x-chargify-webhook-signature-hmac-sha-256",
            signature.as_str(),
        ),
    ];
    send(
        &provider_router::<Chargify>(env.app.clone()),
        "/webhooks/acme/chargify",
        &headers,
        body,
    )
    .await
}

async fn reward_amounts(env: &Env, key: &str) -> Vec<(i64, String)> {
    rewards(env, key)
        .await
        .iter()
        .map(|r| {
            (
                r["amount"].as_i64().unwrap_or(-1),
                r["reward_status"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

pub(crate) fn status_of(answer: &(u16, Value)) -> (u16, &str) {
    (
        answer.0,
        answer.1["status"]
            .as_str()
            .or(answer.1["error"]["code"].as_str())
            .unwrap_or(""),
    )
}

scenario!(stripe_links_customers_records_charges_and_applies_cumulative_refunds);
async fn stripe_links_customers_records_charges_and_applies_cumulative_refunds(backend: Backend) {
    let env = setup(backend, true).await;
    let t = now();
    // The charge comes before the customer is linked: kept, then recorded on the link.
    let charge = fixture("stripe/charge.succeeded.json");
    let answer = stripe(&env, &charge, STRIPE_SECRET, t).await;
    assert_eq!(status_of(&answer), (200, "customer_unknown"));
    assert!(answer.1["reason"]
        .as_str()
        .is_some_and(|r| r.contains("cus_RpHookTest0001")));
    let (status, _) = env
        .api("GET", "/v1/transactions/ch_3PartnerhookTest01", None)
        .await;
    assert_eq!(status, 404);
    let (_, parked) = env.api("GET", "/v1/parked-payments", None).await;
    assert_eq!(
        parked["data"][0]["transaction_key"],
        "ch_3PartnerhookTest01"
    );
    assert_eq!(
        parked["data"][0]["waiting_for"],
        "stripe#cus_RpHookTest0001"
    );
    assert_eq!(parked["data"][0]["amount"], 4900);

    let linked = stripe(
        &env,
        &fixture("stripe/customer.created.json"),
        STRIPE_SECRET,
        t,
    )
    .await;
    assert_eq!(status_of(&linked), (200, "customer_linked"));
    let tx = transaction(&env, "ch_3PartnerhookTest01").await;
    assert_eq!(
        (
            tx["amount"].as_i64(),
            tx["currency"].as_str(),
            tx["customer_key"].as_str()
        ),
        (Some(4900), Some("USD"), Some("cust-001"))
    );
    let (_, customer) = env.api("GET", "/v1/customers/cust-001", None).await;
    assert_eq!(customer["provider_ids"]["stripe"], "cus_RpHookTest0001");
    let (_, parked) = env.api("GET", "/v1/parked-payments", None).await;
    assert_eq!(parked["data"], json!([]), "recorded, so no longer parked");

    // Stripe retries the charge: skipped by its event id.
    assert_eq!(
        status_of(&stripe(&env, &charge, STRIPE_SECRET, t).await),
        (200, "skipped")
    );
    env.run_worker().await;
    assert_eq!(
        transaction(&env, "ch_3PartnerhookTest01").await["partner_key"],
        "pat"
    );
    assert_eq!(
        reward_amounts(&env, "ch_3PartnerhookTest01").await,
        [(980, "pending".into())]
    );

    // 19.00 of 49.00 refunded: the reward shrinks to 20 % of 30.00; then all of it.
    let partial = stripe(
        &env,
        &fixture("stripe/charge.refunded.partial.json"),
        STRIPE_SECRET,
        t,
    )
    .await;
    assert_eq!(status_of(&partial), (200, "partially_refunded"));
    assert_eq!(
        reward_amounts(&env, "ch_3PartnerhookTest01").await,
        [(600, "pending".into())]
    );
    let full = stripe(
        &env,
        &fixture("stripe/charge.refunded.full.json"),
        STRIPE_SECRET,
        t,
    )
    .await;
    assert_eq!(status_of(&full), (200, "refunded"));
    assert_eq!(
        transaction(&env, "ch_3PartnerhookTest01").await["status"],
        "refunded"
    );
    assert_eq!(
        reward_amounts(&env, "ch_3PartnerhookTest01").await[0].1,
        "declined"
    );

    // A zero-decimal currency converts by its exponent.
    let jpy = stripe(
        &env,
        &fixture("stripe/charge.succeeded.jpy.json"),
        STRIPE_SECRET,
        t,
    )
    .await;
    assert_eq!(status_of(&jpy), (200, "created"));
    let tx = transaction(&env, "ch_3PartnerhookTestJpy1").await;
    assert_eq!(
        (tx["amount"].as_i64(), tx["amount_decimal"].as_str()),
        (Some(5000), Some("5000"))
    );
    env.run_worker().await;
    assert_eq!(
        reward_amounts(&env, "ch_3PartnerhookTestJpy1").await,
        [(1000, "pending".into())]
    );
}

scenario!(stripe_refuses_bad_signatures_and_ignores_other_events);
async fn stripe_refuses_bad_signatures_and_ignores_other_events(backend: Backend) {
    let env = setup(backend, true).await;
    let charge = fixture("stripe/charge.succeeded.json");
    let t = now();
    assert_eq!(
        status_of(&stripe(&env, &charge, "whsec_wrong", t).await),
        (401, "invalid_signature")
    );
    assert_eq!(
        status_of(&stripe(&env, &charge, STRIPE_SECRET, t - 600).await),
        (401, "stale_timestamp")
    );
    let headers = [("content-type", "application/json")];
    let missing = send(
        &provider_router::<Stripe>(env.app.clone()),
        "/webhooks/acme/stripe",
        &headers,
        &charge,
    )
    .await;
    assert_eq!(status_of(&missing), (401, "missing_credentials"));
    assert_eq!(
        status_of(&stripe(&env, "{not json", STRIPE_SECRET, t).await),
        (400, "malformed_json")
    );
    let ignored = stripe(
        &env,
        &fixture("stripe/invoice.created.json"),
        STRIPE_SECRET,
        t,
    )
    .await;
    assert_eq!(status_of(&ignored), (200, "ignored"));

    // Refund before payment: kept, applied when the charge lands.
    let refund = stripe(
        &env,
        &fixture("stripe/charge.refunded.full.json"),
        STRIPE_SECRET,
        t,
    )
    .await;
    assert_eq!(status_of(&refund), (200, "refund_pending"));
    stripe(
        &env,
        &fixture("stripe/customer.created.json"),
        STRIPE_SECRET,
        t,
    )
    .await;
    let created = stripe(&env, &charge, STRIPE_SECRET, t).await;
    assert_eq!(status_of(&created), (200, "created_refunded"));
    assert_eq!(
        transaction(&env, "ch_3PartnerhookTest01").await["status"],
        "refunded"
    );

    let (_, events) = env.api("GET", "/v1/events?limit=50", None).await;
    let verdicts: Vec<&str> = events["data"]
        .as_array()
        .map(|es| {
            es.iter()
                .map(|e| e["verdict"].as_str().unwrap_or(""))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        verdicts,
        [
            "accepted", "accepted", "pending", "ignored", "rejected", "rejected", "rejected",
            "rejected"
        ]
    );
    // The inbox keeps a 3 KB event deflated and shows it as it was received.
    let newest = &events["data"][0];
    assert_eq!(
        (newest["body"].as_str(), newest["body_encoding"].as_str()),
        (Some(charge.as_str()), Some("utf8"))
    );
    let id = newest["id"].as_str().unwrap_or_default();
    let (status, one) = env.api("GET", &format!("/v1/events/{id}"), None).await;
    assert_eq!((status, one["body"].as_str()), (200, Some(charge.as_str())));
    let stored = env
        .app
        .repo
        .find::<partnerhook::domain::inbox::InboxEntry>("acme", id)
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(
        stored.body_encoding,
        partnerhook::domain::inbox::BodyEncoding::Deflate
    );
    assert!(
        stored.body.len() < charge.len() / 2,
        "{}",
        stored.body.len()
    );
}

scenario!(chargebee_records_payments_by_meta_data_and_partial_refunds_once);
async fn chargebee_records_payments_by_meta_data_and_partial_refunds_once(backend: Backend) {
    let env = setup(backend, false).await;
    let auth = basic("cb-user", "cb:pass");
    let paid = fixture("chargebee/payment_succeeded.json");
    // No customer cust-001 yet: kept until the admin creates it.
    assert_eq!(
        status_of(&chargebee(&env, &paid, &auth).await),
        (200, "customer_unknown")
    );
    create_customer(&env).await;
    let tx = transaction(&env, "txn_PartnerhookTest01").await;
    assert_eq!(tx["amount"], 1395);
    assert_eq!(
        status_of(&chargebee(&env, &paid, &auth).await),
        (200, "skipped")
    );
    env.run_worker().await;
    assert_eq!(
        reward_amounts(&env, "txn_PartnerhookTest01").await,
        [(279, "pending".into())]
    );

    let partial = fixture("chargebee/payment_refunded.partial.json");
    assert_eq!(
        status_of(&chargebee(&env, &partial, &auth).await),
        (200, "partially_refunded")
    );
    assert_eq!(
        status_of(&chargebee(&env, &partial, &auth).await),
        (200, "skipped")
    );
    // 20 % of (13.95 - 3.95).
    assert_eq!(
        reward_amounts(&env, "txn_PartnerhookTest01").await,
        [(200, "pending".into())]
    );

    assert_eq!(
        status_of(&chargebee(&env, &paid, &basic("cb-user", "wrong")).await),
        (401, "unauthorized")
    );
    let headers = [("content-type", "application/json")];
    let missing = send(
        &provider_router::<Chargebee>(env.app.clone()),
        "/webhooks/acme/chargebee",
        &headers,
        &paid,
    )
    .await;
    assert_eq!(status_of(&missing), (401, "missing_credentials"));
    assert_eq!(
        status_of(&chargebee(&env, "[]", &auth).await),
        (422, "invalid_field")
    );
    let ignored = chargebee(&env, &fixture("chargebee/subscription_created.json"), &auth).await;
    assert_eq!(status_of(&ignored), (200, "ignored"));
}

scenario!(chargebee_refund_before_payment_is_applied_on_arrival);
async fn chargebee_refund_before_payment_is_applied_on_arrival(backend: Backend) {
    let env = setup(backend, true).await;
    let auth = basic("cb-user", "cb:pass");
    let refund = chargebee(&env, &fixture("chargebee/payment_refunded.json"), &auth).await;
    assert_eq!(status_of(&refund), (200, "refund_pending"));
    let paid = chargebee(&env, &fixture("chargebee/payment_succeeded.json"), &auth).await;
    assert_eq!(status_of(&paid), (200, "created_refunded"));
    let (processed, _) = env.run_worker().await;
    assert_eq!(processed, 0);
}

scenario!(recurly_xml_payments_refunds_and_signed_json);
async fn recurly_xml_payments_refunds_and_signed_json(backend: Backend) {
    let env = setup(backend, true).await;
    let auth = basic("rc-user", "rc-pass");
    let payment = fixture("recurly/successful_payment_notification.xml");
    let refund = fixture("recurly/successful_refund_notification.xml");
    // The refund comes first: kept under the account until a fitting payment arrives.
    assert_eq!(
        status_of(&recurly_xml(&env, &refund, &auth).await),
        (200, "refund_pending")
    );
    assert_eq!(
        status_of(&recurly_xml(&env, &refund, &auth).await),
        (200, "skipped")
    );
    let created = recurly_xml(&env, &payment, &auth).await;
    assert_eq!(status_of(&created), (200, "created_refunded"));
    let key = created.1["transaction_key"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert_eq!(transaction(&env, &key).await["status"], "refunded");
    assert_eq!(
        status_of(&recurly_xml(&env, &payment, &auth).await),
        (200, "skipped")
    );

    assert_eq!(
        status_of(&recurly_xml(&env, &payment, &basic("rc-user", "nope")).await),
        (401, "unauthorized")
    );
    assert_eq!(
        status_of(&recurly_xml(&env, "<broken", &auth).await),
        (400, "malformed_body")
    );
    let account = recurly_xml(
        &env,
        &fixture("recurly/new_account_notification.xml"),
        &auth,
    )
    .await;
    assert_eq!(status_of(&account), (200, "ignored"));

    // JSON notifications are signed; they carry no amounts and are ignored once verified.
    let json_body = fixture("recurly/payment.succeeded.json");
    let router = provider_router::<Recurly>(env.app.clone());
    let sign = |ms: i64, key: &str| {
        format!(
            "{ms},{}",
            hex_hmac(
                key,
                &[ms.to_string().as_bytes(), b".", json_body.as_bytes()]
            )
        )
    };
    for (signature, want) in [
        (sign(now() * 1000, "rc-signing-key"), (200, "ignored")),
        (sign(now() * 1000, "wrong-key"), (401, "invalid_signature")),
        (
            sign((now() - 600) * 1000, "rc-signing-key"),
            (401, "stale_timestamp"),
        ),
    ] {
        let headers = [
            ("content-type", "application/json"),
            ("recurly-signature", signature.as_str()),
        ];
        let answer = send(&router, "/webhooks/acme/recurly", &headers, &json_body).await;
        assert_eq!(status_of(&answer), want);
    }
}

scenario!(recurly_refunds_match_the_accounts_payment_after_it);
async fn recurly_refunds_match_the_accounts_payment_after_it(backend: Backend) {
    let env = setup(backend, true).await;
    let auth = basic("rc-user", "rc-pass");
    let created = recurly_xml(
        &env,
        &fixture("recurly/successful_payment_notification.xml"),
        &auth,
    )
    .await;
    assert_eq!(status_of(&created), (200, "created"));
    env.run_worker().await;
    let key = created.1["transaction_key"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert_eq!(reward_amounts(&env, &key).await, [(659, "pending".into())]);
    let refunded = recurly_xml(
        &env,
        &fixture("recurly/successful_refund_notification.xml"),
        &auth,
    )
    .await;
    assert_eq!(status_of(&refunded), (200, "refunded"));
    assert_eq!(refunded.1["transaction_key"].as_str(), Some(key.as_str()));
    assert_eq!(reward_amounts(&env, &key).await[0].1, "declined");
}

scenario!(a_retried_recurly_payment_applies_each_kept_refund_once);
/// Sim seeds 1834 and 1440: a payment's try applied a kept refund and failed before forgetting
/// it; the retry must forget that one without counting it again, and still apply the rest.
async fn a_retried_recurly_payment_applies_each_kept_refund_once(backend: Backend) {
    let env = setup(backend, true).await;
    let auth = basic("rc-user", "rc-pass");
    let refund = |id: &str, cents: &str| {
        fixture("recurly/successful_refund_notification.xml")
            .replace("0f9e8d7c6b5a49382716a5b4c3d2e1f0", id)
            .replace(">3295<", &format!(">{cents}<"))
    };
    let kept = recurly_xml(&env, &refund("rf-first", "1000"), &auth).await;
    assert_eq!(status_of(&kept), (200, "refund_pending"));
    let payment = fixture("recurly/successful_payment_notification.xml");
    let created = recurly_xml(&env, &payment, &auth).await;
    assert_eq!(status_of(&created), (200, "created"));
    let key = created.1["transaction_key"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert_eq!(transaction(&env, &key).await["refunded_amount"], 1000);
    // The state such a crash leaves: the applied refund still kept, and the rest kept too.
    let kept = |id: &str, minor: i64| CustomerRefund {
        source: "recurly".into(),
        refund_id: id.into(),
        amount: RefundAmount::Minor {
            minor,
            units: MinorUnits::Recurly,
        },
    };
    for refund in [kept("rf-first", 1000), kept("rf-rest", 2295)] {
        let repo = &env.app.repo;
        assert!(repo
            .insert_customer_refund("acme", "cust-001", &refund)
            .await
            .expect("kept"));
    }
    // The retry past the event's dedupe, as after a failed try (which marks no event).
    let program = env
        .app
        .repo
        .get_program("acme")
        .await
        .expect("read")
        .expect("program")
        .value;
    let mut headers = axum::http::HeaderMap::new();
    headers.insert(
        "content-type",
        axum::http::HeaderValue::from_static("application/xml"),
    );
    let ProviderEvent::Payment {
        customer, payment, ..
    } = Recurly::parse(&headers, payment.as_bytes(), &program).expect("parsed")
    else {
        panic!("a payment")
    };
    record_payment(&env.app, &program, "recurly", &customer, *payment)
        .await
        .expect("retried");
    let tx = transaction(&env, &key).await;
    assert_eq!(
        (tx["status"].as_str(), tx["refunded_amount"].as_i64()),
        (Some("refunded"), Some(3295))
    );
    let left = env
        .app
        .repo
        .customer_refunds("acme", "cust-001")
        .await
        .expect("read");
    assert!(left.is_empty(), "still kept: {left:?}");
}

scenario!(chargify_payments_and_partial_refunds);
async fn chargify_payments_and_partial_refunds(backend: Backend) {
    let env = setup(backend, true).await;
    let key = "chargify-site-key";
    let payment = fixture("chargify/payment_success.txt");
    assert_eq!(
        status_of(&chargify(&env, &payment, key).await),
        (200, "created")
    );
    assert_eq!(
        status_of(&chargify(&env, &payment, key).await),
        (200, "skipped")
    );
    env.run_worker().await;
    assert_eq!(
        reward_amounts(&env, "173961106").await,
        [(1000, "pending".into())]
    );
    let partial = chargify(&env, &fixture("chargify/refund_success.partial.txt"), key).await;
    assert_eq!(status_of(&partial), (200, "partially_refunded"));
    assert_eq!(
        reward_amounts(&env, "173961106").await,
        [(600, "pending".into())]
    );

    assert_eq!(
        status_of(&chargify(&env, &payment, "wrong-key").await),
        (401, "invalid_signature")
    );
    let headers = [("content-type", "application/x-www-form-urlencoded")];
    let missing = send(
        &provider_router::<Chargify>(env.app.clone()),
        "/webhooks/acme/chargify",
        &headers,
        &payment,
    )
    .await;
    assert_eq!(status_of(&missing), (401, "missing_credentials"));
    assert_eq!(
        status_of(&chargify(&env, "event=payment_success", key).await),
        (422, "invalid_field")
    );
    let signup = chargify(&env, &fixture("chargify/signup_success.txt"), key).await;
    assert_eq!(status_of(&signup), (200, "ignored"));
}

scenario!(chargify_full_refund_before_payment_and_unknown_customer_later_created);
async fn chargify_full_refund_before_payment_and_unknown_customer_later_created(backend: Backend) {
    let env = setup(backend, false).await;
    let key = "chargify-site-key";
    let refund = chargify(&env, &fixture("chargify/refund_success.txt"), key).await;
    assert_eq!(status_of(&refund), (200, "refund_pending"));
    let payment = chargify(&env, &fixture("chargify/payment_success.txt"), key).await;
    assert_eq!(status_of(&payment), (200, "customer_unknown"));
    create_customer(&env).await;
    assert_eq!(transaction(&env, "173961106").await["status"], "refunded");
}

scenario!(a_provider_without_credentials_refuses_everything);
async fn a_provider_without_credentials_refuses_everything(backend: Backend) {
    let env = Env::new(backend).await;
    let answer = stripe(
        &env,
        &fixture("stripe/charge.succeeded.json"),
        STRIPE_SECRET,
        now(),
    )
    .await;
    assert_eq!(status_of(&answer), (401, "unauthorized"));
    assert!(answer.1["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("PATCH /v1/program")));
}

scenario!(recurly_payment_for_an_unknown_account_is_recorded_once_the_customer_exists);
async fn recurly_payment_for_an_unknown_account_is_recorded_once_the_customer_exists(
    backend: Backend,
) {
    let env = setup(backend, false).await;
    let auth = basic("rc-user", "rc-pass");
    let payment = recurly_xml(
        &env,
        &fixture("recurly/successful_payment_notification.xml"),
        &auth,
    )
    .await;
    assert_eq!(status_of(&payment), (200, "customer_unknown"));
    let key = payment.1["transaction_key"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (status, _) = env
        .api("GET", &format!("/v1/transactions/{key}"), None)
        .await;
    assert_eq!(status, 404);
    create_customer(&env).await;
    assert_eq!(transaction(&env, &key).await["customer_key"], "cust-001");
    env.run_worker().await;
    assert_eq!(transaction(&env, &key).await["partner_key"], "pat");
}

scenario!(a_recurly_refund_sent_again_refunds_its_payment_once_not_a_newer_one);
async fn a_recurly_refund_sent_again_refunds_its_payment_once_not_a_newer_one(backend: Backend) {
    let env = setup(backend, true).await;
    let auth = basic("rc-user", "rc-pass");
    let payment = fixture("recurly/successful_payment_notification.xml");
    let refund = fixture("recurly/successful_refund_notification.xml");
    let first = recurly_xml(&env, &payment, &auth).await;
    assert_eq!(status_of(&first), (200, "created"));
    let first_key = first.1["transaction_key"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert_eq!(
        status_of(&recurly_xml(&env, &refund, &auth).await),
        (200, "refunded")
    );
    // A newer payment of the same account and amount: the refund, sent again by Recurly,
    // fits it exactly too. It went to the first payment, and stays there.
    let newer = payment.replace(&first_key, "b2c3d4e5f60718293a4b5c6d7e8f90a1");
    let second = recurly_xml(&env, &newer, &auth).await;
    assert_eq!(status_of(&second), (200, "created"), "{}", second.1);
    // Recurly's redelivery is deduped by its id while that is remembered (a week); past that,
    // or after a try that failed before noting it, the refund is matched again.
    assert_eq!(
        status_of(&recurly_xml(&env, &refund, &auth).await),
        (200, "skipped")
    );
    let program = env
        .app
        .repo
        .get_program("acme")
        .await
        .expect("read")
        .expect("the program")
        .value;
    let redelivered = CustomerRefund {
        source: "recurly".into(),
        refund_id: "0f9e8d7c6b5a49382716a5b4c3d2e1f0".into(),
        amount: Decimal::new(3295, 2).into(),
    };
    let (outcome, matched) = record_customer_refund(&env.app, &program, "cust-001", redelivered)
        .await
        .expect("matched");
    assert_eq!(outcome.as_str(), "skipped");
    assert_eq!(matched.as_deref(), Some(first_key.as_str()));
    assert_eq!(transaction(&env, &first_key).await["status"], "refunded");
    let untouched = transaction(&env, "b2c3d4e5f60718293a4b5c6d7e8f90a1").await;
    assert_eq!(untouched["refunded_amount"], 0, "{untouched}");
}
