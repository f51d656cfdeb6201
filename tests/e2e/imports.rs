//! Imports of transactions from CSV: `POST /v1/imports/transactions` and `GET
//! /v1/imports/{id}`, each row through the Transactions API's use case and the commission
//! worker.

use crate::support::{partner, rewards, scenario, Backend, Env};
use serde_json::{json, Value};

const PATH: &str = "/v1/imports/transactions";

/// Partner `pat` and its customers `cus_1` and `cus_2`.
async fn customers_of_pat(env: &Env) {
    partner(env, "pat", None, None).await;
    for key in ["cus_1", "cus_2"] {
        let email = format!("{key}@example.com");
        let body = json!({"email": email, "name": key, "key": key, "partner_key": "pat"});
        let (status, created) = env.api("POST", "/v1/customers", Some(body)).await;
        assert_eq!(status, 201, "{created}");
    }
}

async fn import(env: &Env, path: &str, csv: &str) -> (u16, Value) {
    env.api_raw("POST", path, "text/csv", csv.as_bytes()).await
}

/// Each row's `(row, status)` of an answer.
fn statuses(answer: &Value) -> Vec<(i64, String)> {
    let results = answer["results"].as_array().cloned().unwrap_or_default();
    results
        .iter()
        .map(|r| {
            (
                r["row"].as_i64().unwrap_or(0),
                r["status"].as_str().unwrap_or("").into(),
            )
        })
        .collect()
}

fn row(n: i64, status: &str) -> (i64, String) {
    (n, status.to_string())
}

async fn transaction_status(env: &Env, key: &str) -> u16 {
    env.api("GET", &format!("/v1/transactions/{key}"), None)
        .await
        .0
}

const GOOD: &str = "customer_key,amount,amount_decimal,currency,key,category_key,product_key,\
created_at,note\n\
cus_1,4900,,USD,inv_1,monthly,basic_plan,2026-05-21T10:00:00Z,first\n\
cus_2,1250,,,,,,,\n\
cus_1,,49.00,USD,inv_3,,,,\n";

scenario!(a_good_file_is_imported_and_commissioned);
async fn a_good_file_is_imported_and_commissioned(backend: Backend) {
    let env = Env::new(backend).await;
    customers_of_pat(&env).await;
    let (status, answer) = import(&env, PATH, GOOD).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(
        (answer["rows"].as_i64(), answer["created"].as_i64()),
        (Some(3), Some(3))
    );
    assert_eq!(
        (answer["skipped"].as_i64(), answer["failed"].as_i64()),
        (Some(0), Some(0))
    );
    assert_eq!(
        answer["warnings"],
        json!(["unknown column \"note\" is ignored"])
    );
    assert_eq!(
        statuses(&answer),
        [row(2, "created"), row(3, "created"), row(4, "created")]
    );
    let derived = answer["results"][1]["key"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(derived.starts_with("imp_"), "{derived}");
    let (_, tx) = env.api("GET", "/v1/transactions/inv_1", None).await;
    assert_eq!(
        (tx["amount"].as_i64(), tx["currency"].as_str()),
        (Some(4900), Some("USD"))
    );
    assert_eq!(
        (tx["source"].as_str(), tx["product_id"].as_str()),
        (Some("api"), Some("basic_plan"))
    );
    let (_, plain) = env
        .api("GET", &format!("/v1/transactions/{derived}"), None)
        .await;
    assert_eq!(plain["currency"], "EUR", "the program's currency");

    let (processed, response) = env.run_worker().await;
    assert_eq!(
        processed, 3,
        "each row's commission is queued as for webhooks"
    );
    assert!(response.batch_item_failures.is_empty());
    let rewards = rewards(&env, "inv_3").await;
    assert_eq!(rewards.len(), 1, "{rewards:?}");
    assert_eq!(rewards[0]["amount"], 980, "20 % of 49.00 USD");
    assert_eq!(rewards[0]["partner_key"], "pat");
}

scenario!(semicolons_a_bom_and_quoted_fields_are_read);
async fn semicolons_a_bom_and_quoted_fields_are_read(backend: Backend) {
    let env = Env::new(backend).await;
    customers_of_pat(&env).await;
    let csv = "\u{feff}Customer_Key;AMOUNT;Key;Comment\n\
               cus_1;4900;semi_1;\"says; \"\"hi\"\",\nover two lines\"\n\
               cus_2;100;semi_2;\n";
    let (status, answer) = import(&env, PATH, csv).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(statuses(&answer), [row(2, "created"), row(3, "created")]);
    assert_eq!(
        answer["warnings"],
        json!(["unknown column \"comment\" is ignored"])
    );
    let comma = "customer_key,amount,key,note\ncus_1,100,comma_1,\"a, b\nc\"\n";
    let (status, answer) = import(&env, PATH, comma).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(statuses(&answer), [row(2, "created")]);
    for key in ["semi_1", "semi_2", "comma_1"] {
        assert_eq!(transaction_status(&env, key).await, 200, "{key}");
    }
}

scenario!(bad_rows_fail_alone);
async fn bad_rows_fail_alone(backend: Backend) {
    let env = Env::new(backend).await;
    customers_of_pat(&env).await;
    let csv = "customer_key,amount,currency,key\n\
               cus_1,49.5,,b1\ncus_1,0,,b2\ncus_1,-5,,b3\ncus_1,100,XYZ,b4\n\
               nobody,100,,b5\ncus_1,100,,ok\n";
    let (status, answer) = import(&env, PATH, csv).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(
        (answer["created"].as_i64(), answer["failed"].as_i64()),
        (Some(1), Some(5))
    );
    let errors: Vec<(Value, Value)> = answer["results"]
        .as_array()
        .into_iter()
        .flatten()
        .take(5)
        .map(|r| (r["error"]["code"].clone(), r["error"]["field"].clone()))
        .collect();
    let field = |f: &str| (json!("invalid_field"), json!(f));
    let expected = [
        field("amount"),
        field("amount"),
        field("amount"),
        field("currency"),
    ];
    assert_eq!(errors[..4], expected, "{answer}");
    assert_eq!(errors[4], (json!("unknown_customer"), Value::Null));
    assert_eq!(answer["results"][4]["key"], "b5");
    assert_eq!(statuses(&answer)[5], row(7, "created"));
    assert_eq!(transaction_status(&env, "b1").await, 404);
    assert_eq!(transaction_status(&env, "ok").await, 200);
}

scenario!(files_that_cannot_be_imported_are_refused_whole);
async fn files_that_cannot_be_imported_are_refused_whole(backend: Backend) {
    let env = Env::new(backend).await;
    customers_of_pat(&env).await;
    for (csv, message) in [
        ("amount,key\n100,k\n", "customer_key"),
        ("customer_key,key\ncus_1,k\n", "amount"),
        ("", "empty"),
        ("{\"amount\": 100}", "customer_key"),
    ] {
        let (status, answer) = import(&env, PATH, csv).await;
        assert_eq!(status, 422, "{csv}: {answer}");
        assert_eq!(answer["error"]["field"], "file");
        let said = answer["error"]["message"].as_str().unwrap_or("");
        assert!(said.contains(message), "{said}");
    }
    for bad in ["0", "1", "18446744073709551615"] {
        let (status, answer) = import(&env, &format!("{PATH}?first_row={bad}"), GOOD).await;
        assert_eq!(
            (status, &answer["error"]["field"]),
            (422, &json!("first_row"))
        );
    }
    let (status, answer) = env
        .api_raw("POST", PATH, "application/json", GOOD.as_bytes())
        .await;
    assert_eq!(status, 415, "{answer}");
    assert_eq!(answer["error"]["code"], "unsupported_media_type");
    assert_eq!(transaction_status(&env, "inv_1").await, 404);
}

scenario!(a_dry_run_checks_every_row_and_writes_nothing);
async fn a_dry_run_checks_every_row_and_writes_nothing(backend: Backend) {
    let env = Env::new(backend).await;
    customers_of_pat(&env).await;
    let csv = format!("{GOOD}nobody,100,,,,,,,\n");
    let (status, answer) = import(&env, &format!("{PATH}?dry_run=true"), &csv).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["dry_run"], true);
    assert_eq!(
        (answer["created"].as_i64(), answer["failed"].as_i64()),
        (Some(3), Some(1))
    );
    assert_eq!(answer["results"][3]["error"]["code"], "unknown_customer");
    assert_eq!(
        transaction_status(&env, "inv_1").await,
        404,
        "nothing written"
    );
    let id = answer["id"].as_str().unwrap_or("");
    let (status, _) = env.api("GET", &format!("/v1/imports/{id}"), None).await;
    assert_eq!(status, 404, "a dry run is not kept");
    assert_eq!(env.run_worker().await.0, 0, "nothing queued");
}

scenario!(the_same_file_twice_creates_nothing_the_second_time);
async fn the_same_file_twice_creates_nothing_the_second_time(backend: Backend) {
    let env = Env::new(backend).await;
    customers_of_pat(&env).await;
    // Two equal rows without a key are two sales, kept apart by their row numbers.
    let csv = format!("{GOOD}cus_2,1250,,,,,,,\n");
    let (status, first) = import(&env, PATH, &csv).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["created"], 4);
    let (status, second) = import(&env, PATH, &csv).await;
    assert_eq!(status, 201, "{second}");
    assert_eq!(
        (second["created"].as_i64(), second["skipped"].as_i64()),
        (Some(0), Some(4))
    );
    assert_eq!(first["results"][1]["key"], second["results"][1]["key"]);

    // In chunks, as the CLI sends it: each with the header and where it starts.
    let header = csv.lines().next().unwrap_or("");
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    for (start, chunk) in [(2, &rows[..2]), (4, &rows[2..])] {
        let body = format!("{header}\n{}\n", chunk.join("\n"));
        let (status, part) = import(&env, &format!("{PATH}?first_row={start}"), &body).await;
        assert_eq!(status, 201, "{part}");
        assert_eq!(part["skipped"].as_i64(), Some(chunk.len() as i64), "{part}");
    }

    let id = first["id"].as_str().unwrap_or("");
    let (status, kept) = env.api("GET", &format!("/v1/imports/{id}"), None).await;
    assert_eq!(status, 200, "{kept}");
    assert_eq!(kept, first, "the answer, again");
    let (status, _) = env.api("GET", "/v1/imports/nope", None).await;
    assert_eq!(status, 404);
}

// Embedded only: minutes on DynamoDB Local. About 18 s in a debug build, as each row's writes
// are their own SQLite commits; it runs beside the others.
#[tokio::test]
async fn ten_thousand_rows_import_in_one_request() {
    let env = Env::new(Backend::Embedded).await;
    customers_of_pat(&env).await;
    let mut csv = String::from("customer_key,amount\n");
    for n in 0..10_000 {
        csv.push_str(&format!("cus_{},{}\n", 1 + n % 2, 100 + n));
    }
    let started = std::time::Instant::now();
    let (status, answer) = import(&env, PATH, &csv).await;
    assert_eq!(status, 201, "{}", answer["error"]);
    assert_eq!(
        (answer["rows"].as_i64(), answer["created"].as_i64()),
        (Some(10_000), Some(10_000))
    );
    let id = answer["id"].as_str().unwrap_or("");
    let (status, kept) = env.api("GET", &format!("/v1/imports/{id}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(kept["results"].as_array().map(Vec::len), Some(10_000));
    eprintln!("10,000 rows imported in {:?}", started.elapsed());
}
