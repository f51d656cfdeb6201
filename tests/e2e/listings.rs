//! Listings page with the cursors they hand out; any other cursor is the caller's mistake. The
//! busy listings, spread over several index partitions, page as one, entries from before the
//! spreading too.

use crate::support::{partner, scenario, seed_with, Backend, Env, Unspread};
use partnerhook::domain::time::ManualClock;
use partnerhook::repo::keys;
use partnerhook::store::{QueryOptions, Store};
use serde_json::{json, Value};
use std::sync::Arc;

scenario!(listings_page_and_refuse_cursors_they_did_not_hand_out);
async fn listings_page_and_refuse_cursors_they_did_not_hand_out(backend: Backend) {
    let env = Env::new(backend).await;
    for key in ["a", "b", "c"] {
        partner(&env, key, None, None).await;
    }
    let (status, first) = env.api("GET", "/v1/partners?limit=2", None).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["data"].as_array().map(Vec::len), Some(2));
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_string();
    let (status, second) = env
        .api(
            "GET",
            &format!("/v1/partners?limit=2&cursor={cursor}"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["data"][0]["key"], "c");

    for bad in ["garbage", cursor.as_str()] {
        let path = if bad == cursor {
            // Another listing's cursor, as a client mixing up its pages would send.
            format!("/v1/customers?cursor={bad}")
        } else {
            format!("/v1/partners?cursor={bad}")
        };
        let (status, refused) = env.api("GET", &path, None).await;
        assert_eq!(status, 400, "{path}: {refused}");
        assert_eq!(refused["error"]["code"], "invalid_cursor");
    }
}

/// Every page of `path` at `limit` items a page.
async fn every_page(env: &Env, path: &str, limit: usize) -> Vec<Vec<Value>> {
    let mut pages = Vec::new();
    let mut cursor = String::new();
    let join = if path.contains('?') { '&' } else { '?' };
    loop {
        let (status, page) = env
            .api("GET", &format!("{path}{join}limit={limit}{cursor}"), None)
            .await;
        assert_eq!(status, 200, "{path}: {page}");
        pages.push(page["data"].as_array().cloned().unwrap_or_default());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => return pages,
        }
        assert!(pages.len() < 100, "{path} never ends");
    }
}

/// The items of every page, checking that each page but the last is full.
async fn listed(env: &Env, path: &str, field: &str) -> Vec<String> {
    let limit = 3;
    let pages = every_page(env, path, limit).await;
    let (last, full) = pages.split_last().expect("one page at least");
    assert!(full.iter().all(|p| p.len() == limit), "{path}: {pages:?}");
    assert!(last.len() <= limit);
    pages
        .concat()
        .iter()
        .map(|item| item[field].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// How many of a listing's index partitions hold entries, and the entries of the first (the
/// listing's own name, where entries from before the spreading are).
async fn spread_of(store: &Unspread, listing: &str) -> (usize, usize) {
    let mut filled = 0;
    let mut first = None;
    for partition in keys::listing_partitions(listing) {
        let options = QueryOptions::default();
        let page = store.index_entries(&partition, &options).await.unwrap();
        filled += usize::from(!page.records.is_empty());
        first.get_or_insert(page.records.len());
    }
    (filled, first.unwrap_or_default())
}

scenario!(busy_listings_page_as_one_across_their_partitions_old_entries_too);
async fn busy_listings_page_as_one_across_their_partitions_old_entries_too(backend: Backend) {
    let clock = Arc::new(ManualClock::at(1_780_000_000_000));
    let mut wrapped = None;
    let env = Env::custom(
        backend,
        |store| {
            let unspread = Arc::new(Unspread::new(store));
            wrapped = Some(unspread.clone());
            unspread
        },
        |queue| queue,
        clock.clone(),
    )
    .await;
    let store = wrapped.expect("the store is wrapped");
    let count = 14;
    // The first five of each are written as before the upgrade, in one partition per listing.
    store.write_as_before(true);
    for i in 0..count {
        if i == 5 {
            store.write_as_before(false);
        }
        clock.advance(1);
        partner(&env, &format!("p{i:02}"), None, None).await;
        clock.advance(1);
        let sale = seed_with(json!({
            "externalId": format!("tx-{i:02}"),
            "partnerId": null,
            "customer": {"externalId": format!("c-{i:02}"), "email": format!("c{i}@example.com")},
        }));
        let (status, answer) = env.post_signed(&sale).await;
        assert_eq!(status, 200, "{answer}");
    }
    let names =
        |prefix: &str| -> Vec<String> { (0..count).map(|i| format!("{prefix}{i:02}")).collect() };

    for listing in [
        keys::partners("acme"),
        keys::customers("acme"),
        keys::events("acme"),
        keys::transactions_with_status("acme", "recorded"),
    ] {
        let (filled, first) = spread_of(&store, &listing).await;
        assert!(filled >= 3, "{listing}: entries in {filled} partitions");
        assert!(
            first >= 5,
            "{listing}: the old entries stay where they were"
        );
    }

    // Oldest first, in the order they were made, each once.
    assert_eq!(listed(&env, "/v1/partners", "key").await, names("p"));
    assert_eq!(listed(&env, "/v1/customers", "key").await, names("c-"));
    let recorded = "/v1/transactions?status=recorded";
    assert_eq!(listed(&env, recorded, "key").await, names("tx-"));
    // The inbox is newest first, by its time-ordered ids.
    let events = listed(&env, "/v1/events", "id").await;
    assert_eq!(events.len(), count, "{events:?}");
    assert!(events.windows(2).all(|w| w[0] > w[1]), "{events:?}");

    // The commission jobs move every transaction to another listing, old entries too.
    for _ in 0..count {
        if env.run_worker().await.0 == 0 {
            break;
        }
    }
    assert_eq!(listed(&env, recorded, "key").await, Vec::<String>::new());
    let unassigned = "/v1/transactions?status=unassigned";
    assert_eq!(listed(&env, unassigned, "key").await, names("tx-"));
}
