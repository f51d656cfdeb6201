//! Real answers against the OpenAPI document's schemas: the views are built with `json!`, their
//! schemas are structs in `http/api/schemas/`, so a field added to a view (or taken from it)
//! without its schema fails here. Every key of an answer must be a property of its schema,
//! and every required property must be in the answer, recursively through objects and arrays.

use crate::lifecycle::get_text;
use crate::support::{as_partner, call, partner_with_key, Backend, Env, Receiver, SEED};
use partnerhook::http::openapi_json as document_json;
use serde_json::{json, Value};

/// The schema `schema` stands for: `$ref`s followed, `allOf`s (serde's flatten) merged into one
/// object, the non-null branch of a nullable `oneOf`.
fn resolve(doc: &Value, schema: &Value) -> Value {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        return resolve(doc, &doc["components"]["schemas"][name]);
    }
    if let Some(parts) = schema["allOf"].as_array() {
        let mut merged = json!({"type": "object", "properties": {}, "required": []});
        for part in parts {
            let part = resolve(doc, part);
            for (k, v) in part["properties"].as_object().into_iter().flatten() {
                merged["properties"][k] = v.clone();
            }
            for r in part["required"].as_array().into_iter().flatten() {
                merged["required"]
                    .as_array_mut()
                    .expect("required")
                    .push(r.clone());
            }
        }
        return merged;
    }
    if let Some(branches) = schema["oneOf"].as_array() {
        if let Some(branch) = branches.iter().find(|b| b["type"] != "null") {
            return resolve(doc, branch);
        }
    }
    schema.clone()
}

fn check(doc: &Value, schema: &Value, value: &Value, at: &str) {
    let schema = resolve(doc, schema);
    match value {
        Value::Object(fields) => {
            let Some(properties) = schema["properties"].as_object() else {
                return; // a free-form object (`Object`)
            };
            for (key, field) in fields {
                let property = properties.get(key).unwrap_or_else(|| {
                    panic!(
                        "{at}.{key} is in the answer but not in its schema: add it to the view's \
                         struct in shared/src/http/api/schemas/, then `UPDATE_OPENAPI=1 cargo \
                         test -p partnerhook-e2e openapi`"
                    )
                });
                check(doc, property, field, &format!("{at}.{key}"));
            }
            for required in schema["required"].as_array().into_iter().flatten() {
                let name = required.as_str().unwrap_or_default();
                assert!(
                    fields.contains_key(name),
                    "{at}.{name} is required by the schema but not in the answer {value}"
                );
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                check(doc, &schema["items"], item, &format!("{at}[{i}]"));
            }
        }
        _ => {}
    }
}

/// Checks an answer against the schema the document gives for it.
fn conforms(doc: &Value, method: &str, path: &str, status: u16, answer: &Value) {
    let operation = &doc["paths"][path][method.to_lowercase()];
    assert!(operation.is_object(), "{method} {path} is not documented");
    let response = &operation["responses"][status.to_string()];
    assert!(
        response.is_object(),
        "{method} {path} answered {status}, which its #[utoipa::path] does not list: {answer}"
    );
    let schema = &response["content"]["application/json"]["schema"];
    check(doc, schema, answer, &format!("{method} {path} {status}"));
}

#[tokio::test]
async fn answers_have_the_documented_fields() {
    let doc: Value = serde_json::from_str(&document_json()).expect("the document");
    let env = Env::new(Backend::Embedded).await;
    let pat = partner_with_key(&env, "pat", None).await;
    let mut answers = Vec::new();
    let mut admin = async |method: &str, path: &str, template: &str, body: Option<Value>| {
        let (status, answer) = env.api(method, path, body).await;
        assert!(status < 300, "{method} {path}: {status} {answer}");
        answers.push((
            method.to_string(),
            template.to_string(),
            status,
            answer.clone(),
        ));
        answer
    };
    let settings = json!({"commission": {"actions": {"signup": 500}}});
    admin("GET", "/v1/program", "/v1/program", None).await;
    admin("PATCH", "/v1/program", "/v1/program", Some(settings)).await;
    admin("GET", "/v1/partners", "/v1/partners", None).await;
    admin("GET", "/v1/partners/pat", "/v1/partners/{key}", None).await;
    let customer =
        json!({"email": "c@example.com", "name": "C", "key": "cus_1", "partner_key": "pat"});
    admin("POST", "/v1/customers", "/v1/customers", Some(customer)).await;
    admin("GET", "/v1/customers", "/v1/customers", None).await;
    admin("GET", "/v1/customers/cus_1", "/v1/customers/{key}", None).await;
    let change = json!({"name": "C2"});
    admin(
        "PATCH",
        "/v1/customers/cus_1",
        "/v1/customers/{key}",
        Some(change),
    )
    .await;
    let sale = json!({"amount": 4900, "key": "inv_1", "product_key": "basic"});
    let txs = "/v1/customers/{key}/transactions";
    admin("POST", "/v1/customers/cus_1/transactions", txs, Some(sale)).await;
    admin("GET", "/v1/customers/cus_1/transactions", txs, None).await;
    let refund = json!({"amount": 1000, "key": "ref_1"});
    let refunds = "/v1/transactions/{key}/refunds";
    admin(
        "POST",
        "/v1/transactions/inv_1/refunds",
        refunds,
        Some(refund),
    )
    .await;
    admin(
        "GET",
        "/v1/transactions/inv_1",
        "/v1/transactions/{key}",
        None,
    )
    .await;
    admin(
        "GET",
        "/v1/transactions?status=recorded",
        "/v1/transactions",
        None,
    )
    .await;
    let action = json!({"partner_key": "pat", "key": "signup"});
    let action = admin("POST", "/v1/actions", "/v1/actions", Some(action)).await;
    let action_reward = action["reward"]["key"]
        .as_str()
        .expect("the action's reward");
    let decline = format!("/v1/rewards/{action_reward}/decline");
    admin("GET", "/v1/actions?partner_key=pat", "/v1/actions", None).await;
    admin("GET", "/v1/rewards?partner_key=pat", "/v1/rewards", None).await;
    admin("GET", "/v1/parked-payments", "/v1/parked-payments", None).await;
    let hook = admin(
        "POST",
        "/v1/incoming-webhooks",
        "/v1/incoming-webhooks",
        Some(json!({"name": "orders"})),
    )
    .await;
    let id = hook["id"].as_str().expect("the hook's id").to_string();
    let test_url = hook["test_url"].as_str().expect("test_url").to_string();
    let test_path = test_url[test_url.find("/hooks/").expect("a /hooks/ URL")..].to_string();
    let headers = [("content-type", "application/json")];
    let sample = br#"{"order": {"id": "ORD-1", "email": "x@example.com"}}"#;
    let local = partnerhook::http::local_router(env.app.clone());
    let (status, captured) = call(&local, "POST", &test_path, &headers, sample, false).await;
    assert!(status < 300, "{status} {captured}");
    let one = "/v1/incoming-webhooks/{id}";
    admin(
        "GET",
        "/v1/incoming-webhooks",
        "/v1/incoming-webhooks",
        None,
    )
    .await;
    admin("GET", &format!("/v1/incoming-webhooks/{id}"), one, None).await;
    let rotate = "/v1/incoming-webhooks/{id}/rotate-token";
    admin(
        "POST",
        &format!("/v1/incoming-webhooks/{id}/rotate-token"),
        rotate,
        None,
    )
    .await;
    let (status, _) = env.post_signed(SEED).await;
    assert!(status < 300);
    let events = admin("GET", "/v1/events", "/v1/events", None).await;
    let event = events["data"][0]["id"]
        .as_str()
        .expect("an event")
        .to_string();
    admin(
        "GET",
        &format!("/v1/events/{event}"),
        "/v1/events/{id}",
        None,
    )
    .await;
    let replayed = admin(
        "POST",
        &format!("/v1/events/{event}/replay"),
        "/v1/events/{id}/replay",
        None,
    )
    .await;
    let replay = replayed["event_id"].as_str().expect("the replay's event");
    admin(
        "GET",
        &format!("/v1/events/{replay}"),
        "/v1/events/{id}",
        None,
    )
    .await;

    // The lifecycle: inv_1's reward held then approved, the action's declined, inv_1's paid.
    env.run_worker().await;
    let reason = Some(json!({"reason": "fraud review"}));
    let mut reviewed = Value::Null;
    for (review, body) in [("hold", reason.clone()), ("approve", None)] {
        let path = format!("/v1/rewards/inv_1:1/{review}");
        let template = format!("/v1/rewards/{{key}}/{review}");
        reviewed = admin("POST", &path, &template, body).await;
    }
    assert_eq!(reviewed["reward_status"], "approved", "{reviewed}");
    admin("POST", &decline, "/v1/rewards/{key}/decline", reason).await;
    let pay = json!({"partner_key": "pat", "currency": reviewed["currency"]});
    let payout = admin("POST", "/v1/payouts", "/v1/payouts", Some(pay)).await;
    let payout_id = payout["id"].as_str().expect("a payout id").to_string();
    let one = format!("/v1/payouts/{payout_id}");
    admin("GET", "/v1/payouts?partner_key=pat", "/v1/payouts", None).await;
    let shown = admin("GET", &one, "/v1/payouts/{id}", None).await;
    assert_eq!(shown["rewards"][0]["reward_status"], "paid", "{shown}");
    let balance = "/v1/partners/{key}/balance";
    let pats = admin("GET", "/v1/partners/pat/balance", balance, None).await;
    assert_eq!(pats["data"][0]["currency"], reviewed["currency"], "{pats}");
    // Admin keys and the audit log (non-empty by now: the changes above).
    let keys = "/v1/program/api-keys";
    admin(
        "POST",
        keys,
        keys,
        Some(json!({"name": "ci", "role": "read_only"})),
    )
    .await;
    admin("GET", keys, keys, None).await;
    let audit = admin("GET", "/v1/audit", "/v1/audit", None).await;
    assert!(
        !audit["data"].as_array().is_none_or(Vec::is_empty),
        "{audit}"
    );
    let (status, content_type, text) = get_text(&env, &format!("{one}.csv")).await;
    let documented = &doc["paths"]["/v1/payouts/{id}"]["get"]["responses"]["200"]["content"];
    assert!(
        status == 200 && content_type.starts_with("text/csv") && documented["text/csv"].is_object(),
        "{one}.csv answered {status} {content_type}, documented as {documented}"
    );
    assert!(
        text.starts_with("payout_id,partner_key,reward_key,"),
        "{text}"
    );

    // Groups: every status their operations list, errors included.
    let mut answered = async |method: &str, path: &str, template: &str, body, expected: u16| {
        let (status, answer) = env.api(method, path, body).await;
        assert_eq!(status, expected, "{method} {path}: {answer}");
        answers.push((method.to_string(), template.to_string(), status, answer));
    };
    let plan = json!({
        "base": "gross",
        "levels": ["30", 5],
        "rules": [{"name": "annual", "when": {"product_key": "annual"}, "flat": ["10.00"]}],
        "tiers": [{"min_sales": 10, "levels": ["35", "5"]}],
        "duration": {"months": 12},
        "holding_days": 14,
    });
    let vip = json!({"key": "vip", "name": "VIP", "commission": plan});
    let (groups, group) = ("/v1/groups", "/v1/groups/{key}");
    answered("POST", groups, groups, Some(vip.clone()), 201).await;
    answered("POST", groups, groups, Some(vip), 200).await;
    let other = json!({"key": "vip", "name": "Other"});
    answered("POST", groups, groups, Some(other), 409).await;
    answered("GET", groups, groups, None, 200).await;
    answered("GET", "/v1/groups/vip", group, None, 200).await;
    let rename = json!({"name": "VIP 2", "commission": {"duration": {"payments": 3}}});
    answered("PATCH", "/v1/groups/vip", group, Some(rename), 200).await;
    let refused = json!({"commission": {"actions": {"signup": 500}}});
    answered("PATCH", "/v1/groups/vip", group, Some(refused), 422).await;
    let (pat_path, partner) = ("/v1/partners/pat", "/v1/partners/{key}");
    let join = json!({"group_key": "vip"});
    answered("PATCH", pat_path, partner, Some(join), 200).await;
    answered("PATCH", pat_path, partner, Some(json!({})), 422).await;
    answered("DELETE", "/v1/groups/vip", group, None, 409).await;
    let leave = json!({"group_key": null});
    answered("PATCH", pat_path, partner, Some(leave), 200).await;
    answered("DELETE", "/v1/groups/vip", group, None, 204).await;
    let csv = b"customer_key,amount,key\ncus_1,100,inv_csv\n";
    let (status, import) = env
        .api_raw("POST", "/v1/imports/transactions", "text/csv", csv)
        .await;
    answers.push((
        "POST".into(),
        "/v1/imports/transactions".into(),
        status,
        import.clone(),
    ));
    let import_id = import["id"].as_str().expect("an import id");
    let (status, shown) = env
        .api("GET", &format!("/v1/imports/{import_id}"), None)
        .await;
    answers.push(("GET".into(), "/v1/imports/{id}".into(), status, shown));

    let receiver = Receiver::start(&[200]).await;
    let mut partner = async |method: &str, path: &str, template: &str, body: Option<Value>| {
        let (status, answer) = as_partner(&env, &pat, method, path, body).await;
        assert!(status < 300, "{method} {path}: {status} {answer}");
        answers.push((
            method.to_string(),
            template.to_string(),
            status,
            answer.clone(),
        ));
        answer
    };
    let subscribe = json!({"url": receiver.url, "name": "mine", "events": ["reward.created"]});
    let postback = partner("POST", "/v1/postbacks", "/v1/postbacks", Some(subscribe)).await;
    let id = postback["id"].as_str().expect("a postback id").to_string();
    let one = format!("/v1/postbacks/{id}");
    partner("GET", "/v1/postbacks", "/v1/postbacks", None).await;
    partner("GET", &one, "/v1/postbacks/{id}", None).await;
    partner(
        "PATCH",
        &one,
        "/v1/postbacks/{id}",
        Some(json!({"name": "renamed"})),
    )
    .await;
    partner(
        "POST",
        &format!("{one}/test"),
        "/v1/postbacks/{id}/test",
        None,
    )
    .await;
    let rotate = "/v1/postbacks/{id}/rotate-secret";
    partner("POST", &format!("{one}/rotate-secret"), rotate, None).await;
    partner(
        "GET",
        &format!("{one}/deliveries"),
        "/v1/postbacks/{id}/deliveries",
        None,
    )
    .await;
    let mine = partner("GET", "/v1/me/rewards", "/v1/me/rewards", None).await;
    assert!(mine["data"][0]["key"].is_string(), "{mine}");
    let mine = partner("GET", "/v1/me/payouts", "/v1/me/payouts", None).await;
    assert_eq!(mine["data"][0]["id"], payout_id.as_str(), "{mine}");
    partner("GET", "/v1/me/balance", "/v1/me/balance", None).await;

    let (status, served) = call(
        &env.api_router(),
        "GET",
        "/v1/openapi.json",
        &[],
        b"",
        false,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(served["openapi"], "3.1.0");
    for (method, path, status, answer) in &answers {
        conforms(&doc, method, path, *status, answer);
    }
    assert!(answers.len() >= 30, "checked {} answers", answers.len());
}

#[test]
#[should_panic(expected = "is in the answer but not in its schema")]
fn a_field_missing_from_the_schema_is_caught() {
    let doc: Value = serde_json::from_str(&document_json()).expect("the document");
    let schema = json!({"$ref": "#/components/schemas/PartnerApiKey"});
    let answer = json!({"api_key": "k", "partner_key": "p", "new_field": 1});
    check(&doc, &schema, &answer, "answer");
}

#[test]
#[should_panic(expected = "is required by the schema but not in the answer")]
fn a_required_field_missing_from_the_answer_is_caught() {
    let doc: Value = serde_json::from_str(&document_json()).expect("the document");
    let schema = json!({"$ref": "#/components/schemas/Page_PartnerView"});
    let answer = json!({"data": [{"key": "p"}], "next_cursor": null});
    check(&doc, &schema, &answer, "answer");
}
