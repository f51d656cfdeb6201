//! Refusing endpoints that point inside the network: loopback, private, link-local (the
//! instance metadata address among them), CGNAT, multicast, documentation and other
//! non-global ranges, IPv4-mapped IPv6 included. Checked when a postback is registered and
//! again on the addresses a delivery actually connects to, so DNS rebinding cannot slip past.

use crate::domain::error::FieldError;
use ipnet::{Ipv4Net, Ipv6Net};
use std::net::{IpAddr, SocketAddr};
use std::sync::LazyLock;
use url::Url;

/// Where postbacks may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndpointPolicy {
    /// The local server sends to loopback and private addresses so developers can test.
    pub allow_private: bool,
    pub require_https: bool,
}

impl EndpointPolicy {
    pub const AWS: Self = Self {
        allow_private: false,
        require_https: true,
    };
    pub const LOCAL: Self = Self {
        allow_private: true,
        require_https: false,
    };
}

static BLOCKED_V4: LazyLock<Vec<Ipv4Net>> = LazyLock::new(|| {
    [
        "0.0.0.0/8",       // "this" network
        "10.0.0.0/8",      // private
        "100.64.0.0/10",   // carrier-grade NAT
        "127.0.0.0/8",     // loopback
        "169.254.0.0/16",  // link-local, instance metadata
        "172.16.0.0/12",   // private
        "192.0.0.0/24",    // IETF protocol assignments
        "192.0.2.0/24",    // documentation
        "192.88.99.0/24",  // 6to4 relay
        "192.168.0.0/16",  // private
        "198.18.0.0/15",   // benchmarking
        "198.51.100.0/24", // documentation
        "203.0.113.0/24",  // documentation
        "224.0.0.0/4",     // multicast
        "240.0.0.0/4",     // reserved, broadcast
    ]
    .iter()
    .filter_map(|net| net.parse().ok())
    .collect()
});

static BLOCKED_V6: LazyLock<Vec<Ipv6Net>> = LazyLock::new(|| {
    [
        "::/128",         // unspecified
        "::1/128",        // loopback
        "64:ff9b::/96",   // NAT64
        "64:ff9b:1::/48", // local NAT64
        "100::/64",       // discard
        "2001::/23",      // IETF protocol assignments (Teredo among them)
        "2001:db8::/32",  // documentation
        "2002::/16",      // 6to4
        "3fff::/20",      // documentation
        "fc00::/7",       // unique local
        "fe80::/10",      // link-local
        "ff00::/8",       // multicast
    ]
    .iter()
    .filter_map(|net| net.parse().ok())
    .collect()
});

/// Whether an address is on the public internet.
pub fn is_global(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => !BLOCKED_V4.iter().any(|net| net.contains(&v4)),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_global(IpAddr::V4(v4)),
            None => !BLOCKED_V6.iter().any(|net| net.contains(&v6)),
        },
    }
}

pub fn allowed(ip: IpAddr, policy: EndpointPolicy) -> bool {
    policy.allow_private || is_global(ip)
}

/// Checks an endpoint URL's form, then every address its host resolves to now.
pub async fn check_endpoint(url: &str, policy: EndpointPolicy) -> Result<Url, FieldError> {
    let parsed =
        Url::parse(url).map_err(|e| FieldError::new("url", format!("is not a URL: {e}")))?;
    match parsed.scheme() {
        "https" => {}
        "http" if !policy.require_https => {}
        _ => return Err(FieldError::new("url", "must be an https URL")),
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(FieldError::new("url", "must not carry credentials"));
    }
    let host = parsed
        .host_str()
        .ok_or_else(|| FieldError::new("url", "has no host"))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = parsed.port_or_known_default().unwrap_or(443);
    let addresses: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|e| FieldError::new("url", format!("the host does not resolve: {e}")))?
            .collect(),
    };
    if addresses.is_empty() {
        return Err(FieldError::new("url", "the host resolves to no address"));
    }
    if let Some(bad) = addresses.iter().find(|a| !allowed(a.ip(), policy)) {
        return Err(FieldError::new(
            "url",
            format!("resolves to {}, which is not a public address", bad.ip()),
        ));
    }
    Ok(parsed)
}

/// The resolver deliveries connect through: it only hands out allowed addresses.
pub struct GuardedResolver {
    pub policy: EndpointPolicy,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy;
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let kept: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| allowed(a.ip(), policy))
                .collect();
            if kept.is_empty() {
                let refused: Box<dyn std::error::Error + Send + Sync> =
                    format!("{} resolves to no public address", name.as_str()).into();
                return Err(refused);
            }
            let addresses: reqwest::dns::Addrs = Box::new(kept.into_iter());
            Ok(addresses)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn every_non_global_class_is_refused() {
        for blocked in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd12::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert!(!is_global(ip(blocked)), "{blocked} must be refused");
        }
        for open in [
            "8.8.8.8",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_global(ip(open)), "{open} is public");
        }
    }

    #[tokio::test]
    async fn registration_checks_scheme_and_resolved_addresses() {
        let refused = |r: Result<Url, FieldError>| r.is_err_and(|e| e.field == "url");
        assert!(
            refused(check_endpoint("http://8.8.8.8/hook", EndpointPolicy::AWS).await),
            "https only on AWS"
        );
        assert!(refused(
            check_endpoint("https://127.0.0.1/hook", EndpointPolicy::AWS).await
        ));
        assert!(refused(
            check_endpoint("https://169.254.169.254/latest", EndpointPolicy::AWS).await
        ));
        assert!(refused(
            check_endpoint("https://[::ffff:127.0.0.1]/", EndpointPolicy::AWS).await
        ));
        assert!(
            refused(check_endpoint("https://localhost/hook", EndpointPolicy::AWS).await),
            "a name resolving to loopback"
        );
        assert!(refused(
            check_endpoint("https://user:pw@8.8.8.8/", EndpointPolicy::AWS).await
        ));
        assert!(refused(
            check_endpoint("ftp://8.8.8.8/", EndpointPolicy::AWS).await
        ));
        assert!(refused(
            check_endpoint("not a url", EndpointPolicy::AWS).await
        ));
        assert!(check_endpoint("https://8.8.8.8/hook", EndpointPolicy::AWS)
            .await
            .is_ok());
        assert!(
            check_endpoint("http://127.0.0.1:9000/hook", EndpointPolicy::LOCAL)
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn the_delivery_resolver_drops_private_answers() {
        use reqwest::dns::Resolve;
        let guarded = GuardedResolver {
            policy: EndpointPolicy::AWS,
        };
        let name: reqwest::dns::Name = "localhost".parse().unwrap();
        assert!(guarded.resolve(name).await.is_err());
        let open = GuardedResolver {
            policy: EndpointPolicy::LOCAL,
        };
        let name: reqwest::dns::Name = "localhost".parse().unwrap();
        assert!(open.resolve(name).await.is_ok());
    }
}
