//! Listings page with the cursors they hand out; any other cursor is the caller's mistake.

use crate::support::{partner, scenario, Backend, Env};

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
