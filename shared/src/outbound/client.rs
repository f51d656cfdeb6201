//! The HTTP client of postbacks: one signed POST per attempt, no redirects, a timeout, and
//! only the addresses the endpoint policy allows.

use crate::domain::postback::Attempt;
use crate::domain::schedule::Response;
use crate::domain::time::Millis;
use crate::outbound::signing::sign;
use crate::outbound::ssrf::{allowed, EndpointPolicy, GuardedResolver};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// The endpoint's answer is kept up to this many bytes.
pub const MAX_RESPONSE_BYTES: usize = 20 * 1024;

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

/// The HTTP client of postbacks: no redirects, a timeout, and only allowed addresses.
pub struct Deliverer {
    client: reqwest::Client,
    policy: EndpointPolicy,
    timeout: Duration,
}

impl Deliverer {
    pub fn new(policy: EndpointPolicy) -> Result<Self, String> {
        Self::with_timeout(policy, REQUEST_TIMEOUT)
    }

    /// A deliverer that gives up on an endpoint after `timeout` (tests use a short one).
    pub fn with_timeout(policy: EndpointPolicy, timeout: Duration) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(tls_config()?)
            .dns_resolver(Arc::new(GuardedResolver { policy }))
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .user_agent(concat!("Partnerhook-Postbacks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            client,
            policy,
            timeout,
        })
    }

    /// One signed POST made at `at`; never fails, but reports what happened.
    pub async fn send(
        &self,
        at: Millis,
        url: &str,
        secrets: &[String],
        message_id: &str,
        body: &str,
    ) -> (Response, Attempt) {
        let started = Instant::now();
        let mut attempt = Attempt {
            at,
            status_code: None,
            latency_ms: 0,
            error: None,
            response_body: None,
            manual: false,
        };
        if let Err(refusal) = self.check_url(url) {
            attempt.error = Some(refusal);
            return (Response::Error, attempt);
        }
        // Receivers check this against their own clock (replay window): always the wall clock.
        let timestamp = time::OffsetDateTime::now_utc().unix_timestamp();
        let request = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", message_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header(
                "webhook-signature",
                sign(secrets, message_id, timestamp, body.as_bytes()),
            )
            .body(body.to_string());
        let outcome = match request.send().await {
            Ok(mut response) => {
                let code = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| retry_after_seconds(v, std::time::SystemTime::now()));
                attempt.status_code = Some(code);
                let mut kept = Vec::new();
                while kept.len() < MAX_RESPONSE_BYTES {
                    match response.chunk().await {
                        Ok(Some(chunk)) => kept.extend_from_slice(&chunk),
                        _ => break,
                    }
                }
                kept.truncate(MAX_RESPONSE_BYTES);
                attempt.response_body = Some(String::from_utf8_lossy(&kept).into_owned());
                Response::Status { code, retry_after }
            }
            Err(e) if e.is_timeout() => {
                attempt.error = Some(format!("timed out after {:?}", self.timeout));
                Response::Timeout
            }
            Err(e) => {
                attempt.error = Some(error_chain(&e));
                Response::Error
            }
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
                return Err(format!("{ip} is not a public address"));
            }
        }
        Ok(())
    }
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
    use std::time::{SystemTime, UNIX_EPOCH};

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
