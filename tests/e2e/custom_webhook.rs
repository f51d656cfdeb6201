//! The custom webhook through the webhook-custom, api and worker-commission handlers.

use crate::support::{
    call, partner, rewards, scenario, seed_with, sign, transaction, Backend, Env, SEED, SEED_REFUND,
};
use serde_json::{json, Value};

async fn events(env: &Env) -> Vec<Value> {
    let (status, body) = env.api("GET", "/v1/events?limit=200", None).await;
    assert_eq!(status, 200, "{body}");
    body["data"].as_array().cloned().unwrap_or_default()
}

scenario!(the_seed_example_is_recorded_once_and_commissioned);
async fn the_seed_example_is_recorded_once_and_commissioned(backend: Backend) {
    let env = Env::new(backend).await;
    partner(&env, "pat", Some("P-001"), None).await;

    // API Gateway hands bodies over base64-encoded at times; the signature is over the bytes.
    let signature = sign(&env.program.custom_webhook_secret, SEED.as_bytes());
    let headers = [
        ("content-type", "application/json"),
        ("x-webhook-signature", signature.as_str()),
    ];
    let (status, body) = call(
        &env.webhook_router(),
        "POST",
        "/webhooks/acme/custom",
        &headers,
        SEED.as_bytes(),
        true,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "created");
    assert_eq!(body["transaction_key"], "ext-tx-12345");

    // The provider retries before the worker ran: skipped, and the job is queued again.
    let (status, body) = env.post_signed(SEED).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("skipped")));

    // Both queued copies of the commission job: one reward.
    let (processed, response) = env.run_worker().await;
    assert_eq!(processed, 2, "the original job and the retry's");
    assert!(response.batch_item_failures.is_empty());
    let tx = transaction(&env, "ext-tx-12345").await;
    assert_eq!(tx["status"], "commissioned");
    assert_eq!(tx["partner_key"], "pat");
    assert_eq!(tx["amount"], 19900);
    assert_eq!(tx["net_amount"], 16723);
    assert_eq!(tx["currency"], "EUR");
    let rewards = rewards(&env, "ext-tx-12345").await;
    assert_eq!(rewards.len(), 1, "{rewards:?}");
    assert_eq!(
        rewards[0]["amount"], 3345,
        "20 % of 167.23, rounded to the cent"
    );
    assert_eq!(rewards[0]["amount_decimal"], "33.45");
    assert_eq!(rewards[0]["reward_status"], "pending");
    assert_eq!(rewards[0]["partner_key"], "pat");

    // A retry after commission: skipped, and nothing queued.
    let (_, body) = env.post_signed(SEED).await;
    assert_eq!(body["status"], "skipped");
    assert!(env.receive().await.is_empty());

    // The customer from the payload exists.
    let (status, customer) = env.api("GET", "/v1/customers/cust-001", None).await;
    assert_eq!(status, 200);
    assert_eq!(customer["email"], "kunde@example.com");
    assert_eq!(customer["name"], "Max Mustermann");

    let inbox = events(&env).await;
    let verdicts: Vec<_> = inbox
        .iter()
        .map(|e| e["verdict"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(verdicts, ["skipped", "skipped", "accepted"], "newest first");
}

scenario!(a_commission_message_delivered_twice_writes_one_reward);
async fn a_commission_message_delivered_twice_writes_one_reward(backend: Backend) {
    let env = Env::new(backend).await;
    partner(&env, "pat", Some("P-001"), None).await;
    env.post_signed(SEED).await;
    let messages = env.receive().await;
    assert_eq!(messages.len(), 1);
    let mut event = aws_lambda_events::event::sqs::SqsEvent::default();
    event.records = vec![messages[0].clone(), messages[0].clone()];
    let response = partnerhook::runtime::workers::handle_sqs_batch(&env.app, event.clone()).await;
    assert!(response.batch_item_failures.is_empty());
    let again = partnerhook::runtime::workers::handle_sqs_batch(&env.app, event).await;
    assert!(again.batch_item_failures.is_empty());
    assert_eq!(rewards(&env, "ext-tx-12345").await.len(), 1);
}

scenario!(unreadable_queue_messages_are_left_for_the_dead_letter_queue);
async fn unreadable_queue_messages_are_left_for_the_dead_letter_queue(backend: Backend) {
    let env = Env::new(backend).await;
    let mut event = aws_lambda_events::event::sqs::SqsEvent::default();
    let mut message = aws_lambda_events::event::sqs::SqsMessage::default();
    message.message_id = Some("m1".into());
    message.body = Some("{\"type\":\"nonsense\"}".into());
    let mut readable = aws_lambda_events::event::sqs::SqsMessage::default();
    readable.message_id = Some("m2".into());
    readable.body = Some(
        json!({"type": "commission", "program": "acme", "transaction_key": "nowhere"}).to_string(),
    );
    event.records = vec![message, readable];
    let response = partnerhook::runtime::workers::handle_sqs_batch(&env.app, event).await;
    // Reported, so SQS redelivers it until the redrive policy dead-letters it; never dropped.
    let failed: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, ["m1"], "only the unreadable message fails");
}

scenario!(a_refund_declines_unpaid_rewards);
async fn a_refund_declines_unpaid_rewards(backend: Backend) {
    let env = Env::new(backend).await;
    partner(&env, "pat", Some("P-001"), None).await;
    env.post_signed(SEED).await;
    env.run_worker().await;
    let (status, body) = env.post_signed(SEED_REFUND).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("refunded")));
    let tx = transaction(&env, "ext-tx-12345").await;
    assert_eq!(tx["status"], "refunded");
    assert!(tx["refunded_at"].is_i64());
    let rewards = rewards(&env, "ext-tx-12345").await;
    assert_eq!(rewards[0]["reward_status"], "declined");

    // The refund again: skipped.
    let (status, body) = env.post_signed(SEED_REFUND).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("skipped")));
}

scenario!(a_refund_before_its_payment_is_applied_when_the_payment_arrives);
async fn a_refund_before_its_payment_is_applied_when_the_payment_arrives(backend: Backend) {
    let env = Env::new(backend).await;
    partner(&env, "pat", Some("P-001"), None).await;
    let (status, body) = env.post_signed(SEED_REFUND).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("refund_pending"))
    );
    let (status, _) = env.api("GET", "/v1/transactions/ext-tx-12345", None).await;
    assert_eq!(status, 404, "a refund alone creates no transaction");

    let (status, body) = env.post_signed(SEED).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("created_refunded"))
    );
    let tx = transaction(&env, "ext-tx-12345").await;
    assert_eq!(tx["status"], "refunded");
    let (processed, _) = env.run_worker().await;
    assert_eq!(processed, 0, "no commission for a refunded transaction");
    assert!(rewards(&env, "ext-tx-12345").await.is_empty());
}

scenario!(unassigned_transactions_say_why_and_can_be_assigned);
async fn unassigned_transactions_say_why_and_can_be_assigned(backend: Backend) {
    let env = Env::new(backend).await;
    partner(&env, "pat", Some("P-001"), None).await;
    let without = seed_with(json!({"externalId": "tx-none", "partnerId": null}));
    let unknown = seed_with(json!({"externalId": "tx-unknown", "partnerId": "P-999"}));
    assert_eq!(env.post_signed(&without).await.0, 200);
    assert_eq!(env.post_signed(&unknown).await.0, 200);
    env.run_worker().await;

    assert_eq!(
        transaction(&env, "tx-none").await["unassigned_reason"],
        "no_partner_id"
    );
    let tx = transaction(&env, "tx-unknown").await;
    assert_eq!(tx["status"], "unassigned");
    assert_eq!(tx["unassigned_reason"], "unknown_partner_id");
    assert_eq!(tx["partner_id"], "P-999");
    let (_, listed) = env
        .api("GET", "/v1/transactions?status=unassigned", None)
        .await;
    let mut keys: Vec<_> = listed["data"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|t| t["key"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default();
    keys.sort();
    assert_eq!(keys, ["tx-none", "tx-unknown"]);
    assert!(rewards(&env, "tx-none").await.is_empty());

    let (status, body) = env
        .api(
            "POST",
            "/v1/transactions/tx-none/assign",
            Some(json!({"partner_key": "pat"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "recorded");
    env.run_worker().await;
    let tx = transaction(&env, "tx-none").await;
    assert_eq!(tx["status"], "commissioned");
    assert_eq!(rewards(&env, "tx-none").await[0]["amount"], 3345);

    // Assigning a commissioned transaction to someone else is a conflict; to nobody, a 422.
    partner(&env, "other", None, None).await;
    let (status, _) = env
        .api(
            "POST",
            "/v1/transactions/tx-none/assign",
            Some(json!({"partner_key": "other"})),
        )
        .await;
    assert_eq!(status, 409);
    let (status, body) = env
        .api(
            "POST",
            "/v1/transactions/tx-unknown/assign",
            Some(json!({"partner_key": "ghost"})),
        )
        .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("partner_key"))
    );
}

scenario!(multi_level_plans_reward_the_referral_chain);
async fn multi_level_plans_reward_the_referral_chain(backend: Backend) {
    let env = Env::new(backend).await;
    partner(&env, "top", None, None).await;
    partner(&env, "mid", None, Some("top")).await;
    partner(&env, "pat", Some("P-001"), Some("mid")).await;
    let (status, body) = env
        .api(
            "PATCH",
            "/v1/program",
            Some(json!({"commission": {"levels": ["20", "5", "1"]}})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    env.post_signed(SEED).await;
    env.run_worker().await;
    let rewards = rewards(&env, "ext-tx-12345").await;
    let got: Vec<_> = rewards
        .iter()
        .map(|r| {
            (
                r["level"].as_i64(),
                r["partner_key"].as_str(),
                r["amount"].as_i64(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (Some(1), Some("pat"), Some(3345)),
            (Some(2), Some("mid"), Some(836)),
            (Some(3), Some("top"), Some(167)),
        ]
    );
    let (_, mine) = env.api("GET", "/v1/rewards?partner_key=mid", None).await;
    assert_eq!(mine["data"].as_array().map(Vec::len), Some(1));
}

enum Signature {
    Correct,
    Missing,
    Other(String),
}

struct Case {
    name: &'static str,
    signature: Signature,
    body: String,
    status: u16,
    code: &'static str,
}

impl Case {
    fn new(
        name: &'static str,
        signature: Signature,
        body: &str,
        status: u16,
        code: &'static str,
    ) -> Self {
        Self {
            name,
            signature,
            body: body.to_string(),
            status,
            code,
        }
    }
}

scenario!(bad_requests_are_refused_recorded_and_change_nothing);
async fn bad_requests_are_refused_recorded_and_change_nothing(backend: Backend) {
    let env = Env::new(backend).await;
    partner(&env, "pat", Some("P-001"), None).await;
    let router = env.webhook_router();
    let good = sign(&env.program.custom_webhook_secret, SEED.as_bytes());
    let json_ct = ("content-type", "application/json");

    let cases = [
        Case::new(
            "wrong signature",
            Signature::Other(sign("not-the-secret", SEED.as_bytes())),
            SEED,
            401,
            "invalid_signature",
        ),
        Case::new(
            "missing signature",
            Signature::Missing,
            SEED,
            401,
            "missing_signature",
        ),
        Case::new(
            "signature of another body",
            Signature::Other(good.clone()),
            &seed_with(json!({"grossAmount": "1.00"})),
            401,
            "invalid_signature",
        ),
        Case::new(
            "not JSON",
            Signature::Correct,
            "not json",
            400,
            "malformed_json",
        ),
        Case::new(
            "wrong type",
            Signature::Correct,
            &seed_with(json!({"grossAmount": true})),
            422,
            "invalid_field",
        ),
        Case::new(
            "bad amount",
            Signature::Correct,
            &seed_with(json!({"grossAmount": "12,50"})),
            422,
            "invalid_field",
        ),
        Case::new(
            "unknown event",
            Signature::Correct,
            &seed_with(json!({"event": "order.paid"})),
            422,
            "invalid_field",
        ),
        Case::new(
            "oversized",
            Signature::Correct,
            &" ".repeat(300 * 1024),
            413,
            "payload_too_large",
        ),
    ];
    for case in cases {
        let signature = match case.signature {
            Signature::Correct => Some(sign(
                &env.program.custom_webhook_secret,
                case.body.as_bytes(),
            )),
            Signature::Other(s) => Some(s),
            Signature::Missing => None,
        };
        let mut headers: Vec<(&str, &str)> = vec![json_ct];
        if let Some(signature) = &signature {
            headers.push(("x-webhook-signature", signature.as_str()));
        }
        let (status, answer) = call(
            &router,
            "POST",
            "/webhooks/acme/custom",
            &headers,
            case.body.as_bytes(),
            false,
        )
        .await;
        let name = case.name;
        assert_eq!(status, case.status, "{name}: {answer}");
        assert_eq!(answer["error"]["code"], case.code, "{name}: {answer}");
        assert!(answer["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }

    // Wrong content type, correctly signed.
    let headers = [
        ("content-type", "text/plain"),
        ("x-webhook-signature", good.as_str()),
    ];
    let (status, _) = call(
        &router,
        "POST",
        "/webhooks/acme/custom",
        &headers,
        SEED.as_bytes(),
        false,
    )
    .await;
    assert_eq!(status, 415);

    // Unknown program.
    let headers = [json_ct, ("x-webhook-signature", good.as_str())];
    let (status, answer) = call(
        &router,
        "POST",
        "/webhooks/nobody/custom",
        &headers,
        SEED.as_bytes(),
        false,
    )
    .await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (404, Some("unknown_program"))
    );

    // Nothing was recorded or queued; every refusal is in the inbox with its reason.
    let (status, _) = env.api("GET", "/v1/transactions/ext-tx-12345", None).await;
    assert_eq!(status, 404);
    assert!(env.receive().await.is_empty());
    let inbox = events(&env).await;
    assert_eq!(inbox.len(), 9);
    assert!(inbox
        .iter()
        .all(|e| e["verdict"] == "rejected" && e["reason"].is_string()));
    let wrong_type = inbox
        .iter()
        .find(|e| {
            e["body"]
                .as_str()
                .is_some_and(|b| b.contains("\"grossAmount\":true"))
        })
        .expect("the refused body is kept");
    assert_eq!(wrong_type["http_status"], 422);
    assert!(wrong_type["reason"]
        .as_str()
        .is_some_and(|r| r.contains("grossAmount")));
}

scenario!(the_same_external_id_with_other_content_is_a_conflict);
async fn the_same_external_id_with_other_content_is_a_conflict(backend: Backend) {
    let env = Env::new(backend).await;
    env.post_signed(SEED).await;
    let changed = seed_with(json!({"grossAmount": "299.00"}));
    let (status, body) = env.post_signed(&changed).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("conflict"))
    );
    assert_eq!(transaction(&env, "ext-tx-12345").await["amount"], 19900);
}

scenario!(secrets_rotate_and_stay_write_only);
async fn secrets_rotate_and_stay_write_only(backend: Backend) {
    let env = Env::new(backend).await;
    let new_secret = "new-secret-0123456789";
    let (status, body) = env
        .api(
            "PATCH",
            "/v1/program",
            Some(json!({"custom_webhook": {"secrets": [env.program.custom_webhook_secret, new_secret]}})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(!body.to_string().contains(new_secret));
    assert_eq!(body["custom_webhook"]["secrets_configured"], 2);

    // Both secrets verify during the rotation.
    let signature = sign(new_secret, SEED.as_bytes());
    let headers = [
        ("content-type", "application/json"),
        ("x-webhook-signature", signature.as_str()),
    ];
    let (status, _) = call(
        &env.webhook_router(),
        "POST",
        "/webhooks/acme/custom",
        &headers,
        SEED.as_bytes(),
        false,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = env
        .post_signed(&seed_with(json!({"externalId": "tx-2"})))
        .await;
    assert_eq!(status, 200);
}

scenario!(the_api_refuses_bad_keys_and_bad_bodies_with_json_errors);
async fn the_api_refuses_bad_keys_and_bad_bodies_with_json_errors(backend: Backend) {
    let env = Env::new(backend).await;
    let router = env.api_router();
    let (status, body) = call(&router, "GET", "/v1/partners", &[], b"", false).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("unauthorized"))
    );
    let headers = [("authorization", "Bearer phk_wrong")];
    let (status, _) = call(&router, "GET", "/v1/partners", &headers, b"", false).await;
    assert_eq!(status, 401);

    let (status, body) = env
        .api(
            "POST",
            "/v1/partners",
            Some(json!({"email": "nope", "name": "X"})),
        )
        .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("email"))
    );
    let (status, _) = env
        .api(
            "POST",
            "/v1/partners",
            Some(json!({"email": "a@example.com", "name": "A", "referring_partner_key": "ghost"})),
        )
        .await;
    assert_eq!(status, 422);
    partner(&env, "pat", Some("P-001"), None).await;
    let (status, _) = env
        .api(
            "POST",
            "/v1/partners",
            Some(json!({"email": "b@example.com", "name": "B", "id": "P-001"})),
        )
        .await;
    assert_eq!(status, 409, "partner ids are unique");
    let (status, _) = env
        .api(
            "POST",
            "/v1/partners",
            Some(json!({"email": "pat@example.com", "name": "pat", "key": "pat", "id": "P-001"})),
        )
        .await;
    assert_eq!(status, 200, "the same partner again is a retry");
    let (status, _) = env
        .api(
            "POST",
            "/v1/partners",
            Some(json!({"email": "x@example.com", "name": "pat", "key": "pat"})),
        )
        .await;
    assert_eq!(status, 409, "the same key with other details is a conflict");

    let (status, body) = env
        .api(
            "POST",
            "/v1/customers",
            Some(json!({"email": "c@example.com", "name": "C", "partner_key": "pat"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert!(body["key"].as_str().is_some_and(|k| k.starts_with("cust_")));
    let (_, listed) = env.api("GET", "/v1/customers", None).await;
    assert_eq!(listed["data"].as_array().map(Vec::len), Some(1));

    let (status, body) = env.api("GET", "/v1/transactions", None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("bad_request"))
    );
    let (status, _) = env.api("GET", "/v1/nothing-here", None).await;
    assert_eq!(status, 404);
    let (status, _) = env.api("DELETE", "/v1/program", None).await;
    assert_eq!(status, 405);
}

scenario!(the_sweeper_queues_transactions_left_recorded);
async fn the_sweeper_queues_transactions_left_recorded(backend: Backend) {
    use partnerhook::domain::money::Currency;
    use partnerhook::domain::time::{Clock, SystemClock};
    use partnerhook::domain::transaction::{Amounts, Product, Transaction, TransactionStatus};
    let now_millis = || SystemClock.now();
    let env = Env::new(backend).await;
    partner(&env, "pat", Some("P-001"), None).await;
    // As if a crash had come between the transaction's write and its enqueue.
    let stranded = |key: &str, age_ms: i64| Transaction {
        key: key.into(),
        source: "custom".into(),
        customer_key: None,
        partner_ref: Some("P-001".into()),
        by_customer: false,
        partner_key: None,
        status: TransactionStatus::Recorded,
        unassigned_reason: None,
        amounts: Amounts::new(
            Currency::parse("EUR").expect("EUR"),
            "100.00".parse().expect("amount"),
        ),
        product: Product::default(),
        campaign_slug: None,
        is_recurring: false,
        recurring_number: None,
        transaction_date: None,
        fingerprint: String::new(),
        created_at: now_millis() - age_ms,
        updated_at: now_millis() - age_ms,
        refunded_at: None,
        refund_ids: vec![],
        write_id: String::new(),
    };
    env.app
        .repo
        .insert("acme", &stranded("old", 10 * 60 * 1000))
        .await
        .expect("insert");
    env.app
        .repo
        .insert("acme", &stranded("young", 1_000))
        .await
        .expect("insert");
    let report =
        partnerhook::usecases::sweeper::sweep(&env.app, partnerhook::usecases::sweeper::GRACE_MS)
            .await
            .expect("sweep");
    assert_eq!(
        report.requeued, 1,
        "only the transaction past the grace period"
    );
    let (processed, _) = env.run_worker().await;
    assert_eq!(processed, 1);
    assert_eq!(transaction(&env, "old").await["status"], "commissioned");
    assert_eq!(transaction(&env, "young").await["status"], "recorded");
    assert_eq!(rewards(&env, "old").await[0]["amount"], 2000);
}

scenario!(a_sale_cut_short_after_its_write_is_finished_by_the_sweeper);
async fn a_sale_cut_short_after_its_write_is_finished_by_the_sweeper(backend: Backend) {
    use partnerhook::domain::time::{Clock, SystemClock};
    use partnerhook::domain::transaction::Transaction;
    use partnerhook::sources::custom::{parse, CustomEvent};
    let env = Env::new(backend).await;
    partner(&env, "pat", Some("P-001"), None).await;
    let body = seed_with(json!({"externalId": "cut-1"}));
    // As if the Lambda had died right after the transaction's write: its customer was made
    // sure of, but it is neither listed under the customer nor queued.
    let program = env.app.repo.get_program("acme").await.expect("read");
    let program = program.expect("program").value;
    let Ok(CustomEvent::Created(sale)) = parse(body.as_bytes(), &program) else {
        panic!("the seed is a sale")
    };
    let customer = sale.customer.clone().expect("the seed names its customer");
    partnerhook::usecases::customers::manage::ensure(&env.app, &program, &customer)
        .await
        .expect("customer");
    let written = Transaction::recorded(*sale, SystemClock.now() - 10 * 60 * 1000);
    env.app.repo.insert("acme", &written).await.expect("insert");
    let listed = format!("/v1/customers/{}/transactions", customer.key);
    let (_, before) = env.api("GET", &listed, None).await;
    assert_eq!(before["data"].as_array().map(Vec::len), Some(0), "{before}");

    let report =
        partnerhook::usecases::sweeper::sweep(&env.app, partnerhook::usecases::sweeper::GRACE_MS)
            .await
            .expect("sweep");
    assert_eq!(report.requeued, 1);
    let (processed, _) = env.run_worker().await;
    assert_eq!(processed, 1);
    assert_eq!(transaction(&env, "cut-1").await["status"], "commissioned");
    // The sender's late retry finds it commissioned and is answered at once; the sweeper had
    // listed it under its customer.
    let (status, answer) = env.post_signed(&body).await;
    assert_eq!((status, answer["status"].as_str()), (200, Some("skipped")));
    let (_, after) = env.api("GET", &listed, None).await;
    assert_eq!(after["data"][0]["key"], "cut-1", "{after}");
    assert_eq!(after["data"].as_array().map(Vec::len), Some(1), "{after}");
}
