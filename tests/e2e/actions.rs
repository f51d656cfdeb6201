//! Actions (`POST`/`GET /v1/actions`): recorded for a partner or through a customer's
//! partner, the plan's flat reward, the `action.*` postbacks with the seed's fields, repeats,
//! updates, conflicts, listings and refusals.

use crate::support::{as_partner, partner, pat_listening, scenario, Backend, Env, Receiver};
use partnerhook::domain::action::{Action, ActionInput};
use serde_json::{json, Value};

const EVENTS: [&str; 3] = ["action.created", "action.updated", "reward.created"];

/// Pat (with a postback on `EVENTS` to a fresh receiver), pat's customer `cus_1`, and a plan
/// paying 5.00 for a signup.
async fn pat_with_receiver(env: &Env) -> Receiver {
    let plan = json!({"actions": {"signup": 500}});
    let (_, receiver, program) = pat_listening(env, &EVENTS, plan).await;
    assert_eq!(program["commission"]["actions"], json!({"signup": 500}));
    receiver
}

async fn post(env: &Env, body: Value) -> (u16, Value) {
    env.api("POST", "/v1/actions", Some(body)).await
}

/// What the receiver heard: (event, data).
fn heard(receiver: &Receiver) -> Vec<(String, Value)> {
    receiver
        .bodies()
        .iter()
        .map(|b| {
            (
                b["event"].as_str().unwrap_or_default().into(),
                b["data"].clone(),
            )
        })
        .collect()
}

async fn listed(env: &Env, query: &str) -> Vec<Value> {
    let (status, page) = env.api("GET", &format!("/v1/actions?{query}"), None).await;
    assert_eq!(status, 200, "{page}");
    page["data"].as_array().cloned().unwrap_or_default()
}

scenario!(actions_are_recorded_rewarded_and_announced_once);
async fn actions_are_recorded_rewarded_and_announced_once(backend: Backend) {
    let env = Env::new(backend).await;
    let receiver = pat_with_receiver(&env).await;
    let signup =
        json!({"partner_key": "pat", "key": "signup", "value": 1, "idempotency_key": "su-1"});
    let (status, action) = post(&env, signup.clone()).await;
    assert_eq!(status, 201, "{action}");
    assert!(action["key"]
        .as_str()
        .is_some_and(|k| k.starts_with("act_")));
    assert_eq!(
        (&action["type"], &action["value"], &action["partner_key"]),
        (&json!("signup"), &json!(1), &json!("pat"))
    );
    assert_eq!(action["reward"]["amount"], 500, "{action}");
    assert_eq!(action["reward"]["source"], "action");
    assert_eq!(action["reward"]["reward_status"], "pending");
    assert_eq!(action["reward"]["action_key"], action["key"]);
    assert!(action["reward"]["transaction_key"].is_null());

    // A customer's action belongs to its partner; no reward for a type the plan does not name.
    let demo = json!({"customer_key": "cus_1", "key": "demo_booked", "idempotency_key": "demo-1"});
    let (status, demo_action) = post(&env, demo).await;
    assert_eq!(status, 201, "{demo_action}");
    assert_eq!(demo_action["partner_key"], "pat");
    assert_eq!(demo_action["customer_key"], "cus_1");
    assert_eq!(demo_action["value"], 1, "1 when absent");
    assert!(demo_action["reward"].is_null());

    env.run_postback_worker().await;
    let events = heard(&receiver);
    // Deliveries run side by side: find each by its event and key, not by its place.
    let one = |kind: &str, key: &Value| -> Value {
        let found: Vec<&Value> = events
            .iter()
            .filter(|(e, d)| e == kind && (d["key"] == *key || d["action_key"] == *key))
            .map(|(_, d)| d)
            .collect();
        assert_eq!(found.len(), 1, "{kind} {key}: {events:?}");
        found[0].clone()
    };
    assert_eq!(events.len(), 3, "{events:?}");
    assert_eq!(
        one("action.created", &action["key"]),
        json!({"key": action["key"], "type": "signup", "value": 1, "partnership_key": "pat",
            "archived": false, "created_at": action["created_at"], "updated_at": action["created_at"],
            "company": {"key": "acme", "name": "Acme"}, "customer": null})
    );
    let reward = one("reward.created", &action["key"]);
    assert_eq!(
        (&reward["source"], &reward["amount"]),
        (&json!("action"), &json!(500))
    );
    assert_eq!(
        one("action.created", &demo_action["key"])["customer"],
        json!({"key": "cus_1", "sub_ids": []})
    );

    // The same request again: the same action, nothing new, no second postback.
    let (status, again) = post(&env, signup.clone()).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["key"], action["key"]);
    env.run_postback_worker().await;
    assert_eq!(receiver.bodies().len(), 3);
    let (_, rewards) = env.api("GET", "/v1/rewards?partner_key=pat", None).await;
    assert_eq!(
        rewards["data"].as_array().map(Vec::len),
        Some(1),
        "{rewards}"
    );
    assert_eq!(rewards["data"][0]["source"], "action");

    // A new value under the same key updates the action, announced once.
    let more =
        json!({"partner_key": "pat", "key": "signup", "value": 3, "idempotency_key": "su-1"});
    let (status, updated) = post(&env, more.clone()).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(
        (updated["key"].clone(), updated["value"].clone()),
        (action["key"].clone(), json!(3))
    );
    post(&env, more).await;
    env.run_postback_worker().await;
    let events = heard(&receiver);
    assert_eq!(events.len(), 4, "{events:?}");
    assert_eq!(events[3].0, "action.updated");
    assert_eq!(events[3].1["value"], 3);

    // Another type (or owner) under the same key is refused.
    let other = json!({"partner_key": "pat", "key": "post_created", "idempotency_key": "su-1"});
    let (status, refused) = post(&env, other).await;
    assert_eq!(status, 409, "{refused}");

    // Listings, oldest first (the same millisecond by key): the partner's both, the
    // customer's its own.
    let keys = |items: Vec<Value>| items.iter().map(|a| a["key"].clone()).collect::<Vec<_>>();
    let mut oldest_first = [&action, &demo_action];
    oldest_first.sort_by_key(|a| {
        (
            a["created_at"].as_i64(),
            a["key"].as_str().map(str::to_string),
        )
    });
    assert_eq!(
        keys(listed(&env, "partner_key=pat").await),
        oldest_first.map(|a| a["key"].clone()).to_vec()
    );
    assert_eq!(
        keys(listed(&env, "customer_key=cus_1").await),
        vec![demo_action["key"].clone()]
    );
    let page = listed(&env, "partner_key=pat&limit=1").await;
    assert_eq!(page.len(), 1);
}

scenario!(the_idempotency_key_header_keys_an_action_without_one);
async fn the_idempotency_key_header_keys_an_action_without_one(backend: Backend) {
    let env = Env::new(backend).await;
    partner(&env, "pat", None, None).await;
    let body = json!({"partner_key": "pat", "key": "signup"});
    let header = [("idempotency-key", "hdr-1")];
    let (status, first) = env
        .api_with("POST", "/v1/actions", Some(body.clone()), &header)
        .await;
    assert_eq!(status, 201, "{first}");
    assert!(
        first["reward"].is_null(),
        "the default plan pays no actions"
    );
    let (status, again) = env
        .api_with("POST", "/v1/actions", Some(body), &header)
        .await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["key"], first["key"]);
    assert_eq!(first["idempotency_key"], "hdr-1");
}

scenario!(bad_actions_are_refused_with_their_field);
async fn bad_actions_are_refused_with_their_field(backend: Backend) {
    let env = Env::new(backend).await;
    partner(&env, "pat", None, None).await;
    let loner = json!({"email": "lone@example.com", "name": "Lone", "key": "lone"});
    assert_eq!(env.api("POST", "/v1/customers", Some(loner)).await.0, 201);
    for (body, field) in [
        (
            json!({"partner_key": "nobody", "key": "signup"}),
            "partner_key",
        ),
        (
            json!({"customer_key": "nobody", "key": "signup"}),
            "customer_key",
        ),
        (
            json!({"customer_key": "lone", "key": "signup"}),
            "customer_key",
        ),
        (
            json!({"partner_key": "pat", "customer_key": "lone", "key": "signup"}),
            "partner_key",
        ),
        (json!({"key": "signup"}), "partner_key"),
        (json!({"partner_key": "pat"}), "key"),
        (json!({"partner_key": "pat", "key": "Sign Up!"}), "key"),
        (
            json!({"partner_key": "pat", "key": "signup", "value": -1}),
            "value",
        ),
    ] {
        let (status, error) = post(&env, body.clone()).await;
        assert_eq!(status, 422, "{body} → {error}");
        assert_eq!(error["error"]["field"], field, "{body} → {error}");
        assert!(error["error"]["code"].is_string(), "{error}");
    }
    let (status, error) = post(
        &env,
        json!({"partner_key": "pat", "key": "signup", "value": "x"}),
    )
    .await;
    assert!(status == 400 || status == 422, "{status} {error}");
    for query in ["", "?partner_key=pat&customer_key=lone"] {
        let (status, error) = env.api("GET", &format!("/v1/actions{query}"), None).await;
        assert_eq!(status, 400, "{error}");
    }
    let (status, _) = env.api("GET", "/v1/actions?partner_key=nobody", None).await;
    assert_eq!(status, 404);
    let (status, _) = as_partner(
        &env,
        "not-a-key",
        "GET",
        "/v1/actions?partner_key=pat",
        None,
    )
    .await;
    assert_eq!(status, 401);
    assert!(listed(&env, "partner_key=pat").await.is_empty());
}

scenario!(a_retry_finishes_an_action_whose_first_try_died_after_its_write);
async fn a_retry_finishes_an_action_whose_first_try_died_after_its_write(backend: Backend) {
    let env = Env::new(backend).await;
    let receiver = pat_with_receiver(&env).await;
    let body = json!({"customer_key": "cus_1", "key": "signup", "idempotency_key": "su-9"});
    // The first try wrote the action, then died: no listing entry, no reward, no event.
    let input: ActionInput = serde_json::from_value(body.clone()).expect("a valid body");
    let checked = input.check().expect("a valid action");
    let written = Action::new(&checked, "su-9".into(), "pat".into(), env.app.repo.now());
    env.app
        .repo
        .insert("acme", &written)
        .await
        .expect("the first try's write");
    let (status, action) = post(&env, body).await;
    assert_eq!(status, 200, "a repeat of that action: {action}");
    assert_eq!(action["key"], written.key);
    assert_eq!(action["reward"]["amount"], 500, "{action}");
    let listed_keys: Vec<Value> = listed(&env, "customer_key=cus_1")
        .await
        .iter()
        .map(|a| a["key"].clone())
        .collect();
    assert_eq!(listed_keys, vec![json!(written.key)]);
    env.run_postback_worker().await;
    let mut kinds: Vec<String> = heard(&receiver).into_iter().map(|(e, _)| e).collect();
    kinds.sort();
    assert_eq!(kinds, ["action.created", "reward.created"]);
}
