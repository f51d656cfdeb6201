//! The HTTP client of postbacks: one signed POST per attempt, no redirects, a timeout, and
//! only the addresses the endpoint policy allows.

use crate::domain::postback::{Attempt, MAX_KEPT_RESPONSE_BYTES};
use crate::domain::schedule::Response;
use crate::domain::time::Millis;
use crate::outbound::signing::sign;
use crate::outbound::ssrf::{allowed, refusal, EndpointPolicy, GuardedResolver};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A delivery's attempt gives up after this long.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// The partner's test event gives up after this long, well inside the api function's 29 s
/// (template.yaml), which also reads the postback and answers.
pub const TEST_TIMEOUT: Duration = Duration::from_secs(10);
/// An answer that declares no `Content-Length` is read this far to learn its size, no further.
pub const MAX_READ_BYTES: u64 = 1024 * 1024;

/// What a send is for, which sets how long it may wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Delivery,
    /// The partner's test event, answered within the api function's time.
    Test,
}

/// How long the client waits for an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub delivery: Duration,
    pub test: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            delivery: REQUEST_TIMEOUT,
            test: TEST_TIMEOUT,
        }
    }
}

/// TLS for outbound HTTPS: the bundled web PKI roots, so no system certificate store is read
/// (Lambda's is absent). Shared with the operator CLI.
pub fn tls_config() -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// The HTTP client of postbacks: no redirects, no proxy, a timeout, and only allowed addresses.
pub struct Deliverer {
    client: reqwest::Client,
    policy: EndpointPolicy,
    timeouts: Timeouts,
}

impl Deliverer {
    pub fn new(policy: EndpointPolicy) -> Result<Self, String> {
        Self::with_timeouts(policy, Timeouts::default())
    }

    /// A deliverer that gives up on an endpoint after `timeouts` (tests use short ones).
    pub fn with_timeouts(policy: EndpointPolicy, timeouts: Timeouts) -> Result<Self, String> {
        let client = client_builder(policy)?.build().map_err(|e| e.to_string())?;
        Ok(Self {
            client,
            policy,
            timeouts,
        })
    }

    /// One signed POST made at `at`, waiting as long as `purpose` allows; never fails, but
    /// reports what happened.
    pub async fn send(
        &self,
        purpose: Purpose,
        at: Millis,
        url: &str,
        secrets: &[String],
        message_id: &str,
        body: &str,
    ) -> (Response, Attempt) {
        let timeout = match purpose {
            Purpose::Delivery => self.timeouts.delivery,
            Purpose::Test => self.timeouts.test,
        };
        let started = Instant::now();
        if let Err(refusal) = self.check_url(url) {
            return (Response::Error, Attempt::failed(at, &refusal));
        }
        // Receivers check this against their own clock (replay window): always the wall clock.
        let timestamp = time::OffsetDateTime::now_utc().unix_timestamp();
        let signature = sign(secrets, message_id, timestamp, body.as_bytes());
        let request = self
            .client
            .post(url)
            .timeout(timeout)
            .header("content-type", "application/json")
            .header("webhook-id", message_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body.to_string());
        let (outcome, mut attempt) = match request.send().await {
            Ok(response) => {
                let code = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| retry_after_seconds(v, std::time::SystemTime::now()));
                let mut attempt = Attempt::at(at);
                attempt.status_code = Some(code);
                read_answer(response, &mut attempt, timeout).await;
                (Response::Status { code, retry_after }, attempt)
            }
            Err(e) if e.is_timeout() => (
                Response::Timeout,
                Attempt::failed(at, &format!("timed out after {timeout:?}")),
            ),
            Err(e) => (Response::Error, Attempt::failed(at, &error_chain(&e))),
        };
        attempt.latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        (outcome, attempt)
    }

    /// Literal addresses bypass the resolver, so they are checked here.
    fn check_url(&self, url: &str) -> Result<(), String> {
        let parsed = url::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
        if self.policy.require_https && parsed.scheme() != "https" {
            return Err("only https endpoints are allowed".into());
        }
        let host = parsed.host_str().unwrap_or_default();
        if let Ok(ip) = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        {
            if !allowed(ip, self.policy) {
                return Err(refusal(ip));
            }
        }
        Ok(())
    }
}

/// The client's settings; the proxy variables of the environment (`HTTP_PROXY`, `ALL_PROXY`,
/// ...) are ignored, so a proxy cannot see the signed bodies or reach what the guard refuses.
fn client_builder(policy: EndpointPolicy) -> Result<reqwest::ClientBuilder, String> {
    Ok(reqwest::Client::builder()
        .use_preconfigured_tls(tls_config()?)
        .no_proxy()
        .dns_resolver(Arc::new(GuardedResolver { policy }))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Partnerhook-Postbacks/", env!("CARGO_PKG_VERSION"))))
}

/// Reads the start of the answer to keep, and on to learn its size when it declared none.
async fn read_answer(mut response: reqwest::Response, attempt: &mut Attempt, timeout: Duration) {
    let declared = response.content_length();
    let mut start: Vec<u8> = Vec::new();
    let mut read: u64 = 0;
    let mut ended = false;
    while start.len() < MAX_KEPT_RESPONSE_BYTES || (declared.is_none() && read < MAX_READ_BYTES) {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                read += chunk.len() as u64;
                let room = MAX_KEPT_RESPONSE_BYTES.saturating_sub(start.len());
                start.extend_from_slice(&chunk[..room.min(chunk.len())]);
            }
            Ok(None) => {
                ended = true;
                break;
            }
            Err(e) => {
                attempt.note_error(&if e.is_timeout() {
                    format!("timed out after {timeout:?} reading the answer")
                } else {
                    format!("the answer broke off: {}", error_chain(&e))
                });
                break;
            }
        }
    }
    let size = if ended { Some(read) } else { declared };
    let longer = size.is_none_or(|n| n > start.len() as u64);
    attempt.keep_response(&start, longer, size);
}

/// `Retry-After` is either seconds or an HTTP date (RFC 9110); a date in the past means now.
fn retry_after_seconds(value: &str, now: std::time::SystemTime) -> Option<u64> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(seconds);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).map_or(0, |wait| wait.as_secs()))
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::time::{SystemTime, UNIX_EPOCH};

    /// Set in the copy of this test binary that runs with the proxy variables.
    const PROXIED: &str = "PARTNERHOOK_TEST_PROXIED";

    /// Proxy variables are process-wide, so they are given to a copy of this test binary that
    /// runs this one test alone; the proxy listens here and answers everything itself.
    #[test]
    fn deliveries_ignore_proxy_variables() {
        if let Some(proxy) = std::env::var_os(PROXIED) {
            return proxied(&proxy.to_string_lossy());
        }
        let proxy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let proxy_url = format!("http://{}", proxy.local_addr().unwrap());
        std::thread::spawn(move || {
            for stream in proxy.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request);
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-length: 7\r\nconnection: close\r\n\r\nproxied",
                );
            }
        });
        let name = module_path!()
            .split_once("::")
            .map_or("", |(_, path)| path)
            .to_string()
            + "::deliveries_ignore_proxy_variables";
        let child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([name.as_str(), "--exact", "--nocapture", "--test-threads=1"])
            .env(PROXIED, &proxy_url)
            .envs(
                [
                    "HTTP_PROXY",
                    "HTTPS_PROXY",
                    "ALL_PROXY",
                    "http_proxy",
                    "https_proxy",
                    "all_proxy",
                ]
                .map(|var| (var, proxy_url.as_str())),
            )
            .env_remove("NO_PROXY")
            .env_remove("no_proxy")
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&child.stdout);
        assert!(
            child.status.success(),
            "{out}{}",
            String::from_utf8_lossy(&child.stderr)
        );
        assert!(out.contains("1 passed"), "the copy ran the test: {out}");
    }

    /// In the copy: a client that honours the variables goes through the proxy; ours does not.
    fn proxied(proxy: &str) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let receiver = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}/hook", receiver.local_addr().unwrap());
            let app =
                axum::Router::new().route("/hook", axum::routing::post(|| async { "direct" }));
            tokio::spawn(async move { axum::serve(receiver, app).await });

            let honouring = reqwest::Client::builder()
                .use_preconfigured_tls(tls_config().unwrap())
                .build()
                .unwrap();
            let seen = honouring
                .post(&url)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert_eq!(seen, "proxied", "the variables point at {proxy}");

            let ours = Deliverer::new(EndpointPolicy::LOCAL).unwrap();
            let (_, attempt) = ours
                .send(
                    Purpose::Delivery,
                    0,
                    &url,
                    &[crate::outbound::signing::new_secret()],
                    "msg_1",
                    "{}",
                )
                .await;
            assert_eq!(
                attempt.response_body.as_deref(),
                Some("direct"),
                "{attempt:?}"
            );
        });
    }

    #[test]
    fn retry_after_takes_seconds_or_an_http_date() {
        let now = UNIX_EPOCH + Duration::from_secs(1_795_428_000);
        assert_eq!(retry_after_seconds(" 120 ", now), Some(120));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(90));
        assert_eq!(retry_after_seconds(&later, now), Some(90));
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(90));
        assert_eq!(retry_after_seconds(&earlier, now), Some(0));
        assert_eq!(retry_after_seconds("soon", SystemTime::now()), None);
        assert_eq!(retry_after_seconds("-5", now), None);
    }
}
