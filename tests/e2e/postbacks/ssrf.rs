//! Where postbacks may go, in each mode: on AWS public https addresses only; on the local
//! server loopback, and private ranges only with `--allow-private-postbacks`; link-local (the
//! metadata address) and `fd00:ec2::254` never. Checked at registration, and again at delivery
//! for a postback whose address turned bad after it was registered (DNS rebinding).

use super::register;
use crate::support::{as_partner, partner_with_key, scenario, Backend, Env, Receiver, SEED};
use partnerhook::domain::postback::Postback;
use partnerhook::outbound::client::Timeouts;
use partnerhook::outbound::ssrf::EndpointPolicy;
use partnerhook::store::StoreError;
use serde_json::{json, Value};
use std::time::Duration;

/// What a refusal by the guard says; a connection that was tried and failed says otherwise.
const REFUSED: &str = "which this server does not send postbacks to";

/// An environment in `mode`, its endpoints given up on quickly, with partner `pat` (P-001).
async fn env_in(backend: Backend, mode: EndpointPolicy) -> (Env, String) {
    let quick = Duration::from_millis(300);
    let timeouts = Timeouts {
        delivery: quick,
        test: quick,
    };
    let env = Env::with_postbacks(backend, mode, timeouts).await;
    let key = partner_with_key(&env, "pat", Some("P-001")).await;
    (env, key)
}

/// Registering `url`: the status and, when refused, the message.
async fn try_register(env: &Env, key: &str, url: &str) -> (u16, String) {
    // An event the tests' sale does not raise: registered postbacks are not sent to.
    let body = json!({"url": url, "name": "x", "events": ["customer.deleted"]});
    let (status, answer) = as_partner(env, key, "POST", "/v1/postbacks", Some(body)).await;
    let message = answer["error"]["message"].as_str().unwrap_or_default();
    (status, message.to_string())
}

/// Checks that each of `refused` is refused at registration with `why`, and each of `accepted`
/// is registered.
async fn registration(env: &Env, key: &str, refused: &[(&str, &str)], accepted: &[&str]) {
    for (url, why) in refused {
        let (status, message) = try_register(env, key, url).await;
        assert_eq!(status, 422, "{url} must be refused: {message}");
        assert!(message.contains(why), "{url}: {message}");
    }
    for url in accepted {
        let (status, message) = try_register(env, key, url).await;
        assert_eq!(status, 201, "{url} must be accepted: {message}");
    }
}

/// Private, then metadata addresses (IPv4, then EC2's IPv6 one).
const PRIVATE_AND_METADATA: [&str; 3] = [
    "http://10.255.255.1/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/",
];

/// A postback of pat's registered to a public address (allowed in every mode), whose address
/// then turned into `url`'s (as a name rebound to another address would).
async fn rebound(env: &Env, key: &str, url: &str) -> String {
    let postback = register(env, key, "https://8.8.8.8/hook", &["reward.created"]).await;
    let id = postback["id"].as_str().unwrap_or_default().to_string();
    env.app
        .repo
        .modify::<Postback, StoreError>("acme", &id, |p| {
            p.url = url.to_string();
            Ok(true)
        })
        .await
        .expect("write");
    id
}

/// One sale, delivered to every postback of pat's: the first attempt of a postback rebound to
/// each of `urls`.
async fn first_attempts(env: &Env, key: &str, urls: &[&str]) -> Vec<Value> {
    let mut ids = Vec::new();
    for url in urls {
        ids.push(rebound(env, key, url).await);
    }
    env.post_signed(SEED).await;
    env.run_worker().await;
    env.run_postback_worker().await;
    let mut attempts = Vec::new();
    for id in ids {
        let deliveries = super::deliveries_of(env, key, &id).await;
        attempts.push(deliveries["data"][0]["attempts"][0].clone());
    }
    attempts
}

/// Each URL's first attempt was refused by the guard with `why`, never sent.
fn refused_at_delivery(urls: &[&str], attempts: &[Value], why: &str) {
    for (url, attempt) in urls.iter().zip(attempts) {
        let error = attempt["error"].as_str().unwrap_or_default();
        assert!(
            error.contains(REFUSED) || error.contains("no address postbacks may go to"),
            "{url}: {attempt}"
        );
        assert!(error.contains(why), "{url}: {attempt}");
        assert_eq!(attempt["status_code"], Value::Null, "{url}: {attempt}");
    }
}

scenario!(on_aws_postbacks_go_to_public_https_addresses_only);
async fn on_aws_postbacks_go_to_public_https_addresses_only(backend: Backend) {
    let (env, key) = env_in(backend, EndpointPolicy::AWS).await;
    let receiver = Receiver::start(&[]).await;
    // "{port}/hook" of the loopback receiver's URL.
    let port_path = receiver
        .url
        .split(':')
        .nth(2)
        .unwrap_or_default()
        .to_string();
    registration(
        &env,
        &key,
        &[
            ("http://8.8.8.8/hook", "https"),
            ("https://127.0.0.1/hook", "loopback"),
            ("https://localhost/hook", "loopback"),
            ("https://10.0.0.1/hook", "private"),
            ("https://192.168.1.20/hook", "private"),
            ("https://169.254.169.254/latest/meta-data/", "never"),
            ("https://[fd00:ec2::254]/", "never"),
            ("https://[::a9fe:a9fe]/", "never"),
            ("https://[::ffff:0:7f00:1]/", "never"),
            ("https://[::ffff:127.0.0.1]/", "loopback"),
        ],
        &["https://8.8.8.8/hook"],
    )
    .await;

    // At delivery: a literal address is judged before any connection, a name by the resolver.
    let literal = format!("https://127.0.0.1:{port_path}");
    let name = format!("https://localhost:{port_path}");
    let urls = [literal.as_str(), name.as_str()];
    let attempts = first_attempts(&env, &key, &urls).await;
    refused_at_delivery(&urls, &attempts[..1], "loopback");
    refused_at_delivery(&urls[1..], &attempts[1..], "localhost");
    assert!(receiver.requests().is_empty(), "nothing reached loopback");
}

scenario!(the_local_server_reaches_loopback_but_not_private_ranges_by_default);
async fn the_local_server_reaches_loopback_but_not_private_ranges_by_default(backend: Backend) {
    let (env, key) = env_in(backend, EndpointPolicy::LOCAL).await;
    let receiver = Receiver::start(&[]).await;
    registration(
        &env,
        &key,
        &[
            ("http://10.0.0.1/hook", "private"),
            ("http://172.16.5.4/hook", "private"),
            ("http://192.168.1.20/hook", "private"),
            ("http://[fd12::1]/hook", "private"),
            ("http://169.254.169.254/latest/meta-data/", "never"),
            ("http://[fd00:ec2::254]/", "never"),
            ("http://[fe80::1]/", "never"),
            ("http://[::7f00:1]/", "never"),
            ("http://[::ffff:0:a9fe:a9fe]/", "never"),
            ("http://0.0.0.0/", "never"),
        ],
        &[
            receiver.url.as_str(),
            "http://localhost:9/hook",
            "http://[::1]:9/",
        ],
    )
    .await;
    register(&env, &key, &receiver.url, &["reward.created"]).await;

    let urls = PRIVATE_AND_METADATA;
    let attempts = first_attempts(&env, &key, &urls).await;
    refused_at_delivery(&urls[..1], &attempts[..1], "private");
    refused_at_delivery(&urls[1..], &attempts[1..], "never");
    assert_eq!(
        receiver.bodies().len(),
        1,
        "the loopback receiver was sent to"
    );
}

scenario!(allowing_private_postbacks_still_never_reaches_metadata);
async fn allowing_private_postbacks_still_never_reaches_metadata(backend: Backend) {
    let (env, key) = env_in(backend, EndpointPolicy::LOCAL_PRIVATE).await;
    registration(
        &env,
        &key,
        &[
            ("http://169.254.169.254/latest/meta-data/", "never"),
            ("http://169.254.0.1/", "never"),
            ("http://[fd00:ec2::254]/", "never"),
            ("http://[::ffff:169.254.169.254]/", "never"),
            ("http://[::a9fe:a9fe]/", "never"),
        ],
        &[
            "http://10.0.0.1/hook",
            "http://192.168.1.20/hook",
            "http://[fd12::1]/hook",
            "http://127.0.0.1:9/hook",
        ],
    )
    .await;

    let urls = PRIVATE_AND_METADATA;
    let attempts = first_attempts(&env, &key, &urls).await;
    // The private address is tried (whatever is there answers or not), not refused.
    let tried = &attempts[0];
    let error = tried["error"].as_str().unwrap_or_default();
    assert!(!error.contains(REFUSED), "{tried}");
    assert!(
        !tried["status_code"].is_null() || !error.is_empty(),
        "{tried}"
    );
    refused_at_delivery(&urls[1..], &attempts[1..], "never");
}

scenario!(a_registered_endpoint_is_checked_again_when_sent_to);
async fn a_registered_endpoint_is_checked_again_when_sent_to(backend: Backend) {
    // Registered through the API while allowed; the same records delivered by a stricter app.
    let (env, key) = env_in(backend, EndpointPolicy::LOCAL).await;
    let receiver = Receiver::start(&[]).await;
    let postback = register(&env, &key, &receiver.url, &["reward.created"]).await;
    let id = postback["id"].as_str().unwrap_or_default().to_string();
    let mut strict = env.app.clone();
    strict.endpoints = EndpointPolicy {
        require_https: false,
        ..EndpointPolicy::AWS
    };
    let strict = strict.with_postback_timeouts(Timeouts::default());
    env.post_signed(SEED).await;
    env.run_worker().await;
    let delivery_id = super::deliveries_of(&env, &key, &id).await["data"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    partnerhook::usecases::postbacks::deliver::process(&strict, "acme", &delivery_id, 0, None)
        .await
        .expect("the attempt is recorded");
    let delivery = super::delivery(&env, &delivery_id).await;
    let error = delivery.attempts[0].error.clone().unwrap_or_default();
    assert!(error.contains("loopback"), "{error}");
    assert!(receiver.requests().is_empty());
}
