//! Refusing endpoints that point inside the network. Every address falls in one class: public,
//! loopback, private (RFC 1918, shared CGNAT space, IPv6 unique local), or never (link-local
//! with the instance metadata addresses, the unspecified, multicast, documentation, and IPv6
//! forms that embed an IPv4 address: compatible, translated, NAT64, 6to4, Teredo). IPv4-mapped
//! IPv6 addresses are judged as the IPv4 address they carry. The policy says which classes
//! may be reached; "never" is refused in every mode. Checked when a postback is registered
//! and again on the addresses a delivery actually connects to, so DNS rebinding cannot slip
//! past.

use crate::domain::error::FieldError;
use ipnet::{Ipv4Net, Ipv6Net};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::LazyLock;
use url::Url;

/// Where postbacks may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndpointPolicy {
    /// Loopback addresses: a receiver on the developer's own machine.
    pub allow_loopback: bool,
    /// Private ranges: a receiver elsewhere on the developer's network.
    pub allow_private: bool,
    pub require_https: bool,
}

impl EndpointPolicy {
    /// Deployed: https to public addresses only.
    pub const AWS: Self = Self {
        allow_loopback: false,
        allow_private: false,
        require_https: true,
    };
    /// The local server by default: plain http too, and this machine's loopback receivers.
    pub const LOCAL: Self = Self {
        allow_loopback: true,
        allow_private: false,
        require_https: false,
    };
    /// `serve --allow-private-postbacks`: private ranges as well.
    pub const LOCAL_PRIVATE: Self = Self {
        allow_private: true,
        ..Self::LOCAL
    };
}

/// What kind of address an endpoint resolves to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressClass {
    Public,
    Loopback,
    Private,
    /// Refused whatever the policy.
    Never,
}

fn nets<N: std::str::FromStr>(list: &[&str]) -> Vec<N> {
    list.iter().filter_map(|net| net.parse().ok()).collect()
}

static LOOPBACK_V4: LazyLock<Vec<Ipv4Net>> = LazyLock::new(|| nets(&["127.0.0.0/8"]));

static PRIVATE_V4: LazyLock<Vec<Ipv4Net>> = LazyLock::new(|| {
    nets(&[
        "10.0.0.0/8",     // private
        "100.64.0.0/10",  // carrier-grade NAT, shared address space (VPN overlays use it)
        "172.16.0.0/12",  // private
        "192.168.0.0/16", // private
    ])
});

static NEVER_V4: LazyLock<Vec<Ipv4Net>> = LazyLock::new(|| {
    nets(&[
        "0.0.0.0/8",       // "this" network (0.0.0.0 reaches this host on Linux)
        "169.254.0.0/16",  // link-local, instance metadata
        "192.0.0.0/24",    // IETF protocol assignments
        "192.0.2.0/24",    // documentation
        "192.88.99.0/24",  // 6to4 relay
        "198.18.0.0/15",   // benchmarking
        "198.51.100.0/24", // documentation
        "203.0.113.0/24",  // documentation
        "224.0.0.0/4",     // multicast
        "240.0.0.0/4",     // reserved, broadcast
    ])
});

static PRIVATE_V6: LazyLock<Vec<Ipv6Net>> = LazyLock::new(|| nets(&["fc00::/7"]));

static NEVER_V6: LazyLock<Vec<Ipv6Net>> = LazyLock::new(|| {
    nets(&[
        "::/96",             // unspecified and IPv4-compatible (deprecated)
        "::ffff:0:0:0/96",   // IPv4-translated
        "64:ff9b::/96",      // NAT64
        "64:ff9b:1::/48",    // local NAT64
        "100::/64",          // discard
        "2001::/23",         // IETF protocol assignments (Teredo among them)
        "2001:db8::/32",     // documentation
        "2002::/16",         // 6to4
        "3fff::/20",         // documentation
        "fd00:ec2::254/128", // EC2 instance metadata over IPv6, inside unique local
        "fe80::/10",         // link-local
        "ff00::/8",          // multicast
    ])
});

/// The class of an address; an IPv4-mapped IPv6 address is judged as its IPv4 address.
pub fn classify(ip: IpAddr) -> AddressClass {
    match ip {
        IpAddr::V4(v4) if LOOPBACK_V4.iter().any(|net| net.contains(&v4)) => AddressClass::Loopback,
        IpAddr::V4(v4) if NEVER_V4.iter().any(|net| net.contains(&v4)) => AddressClass::Never,
        IpAddr::V4(v4) if PRIVATE_V4.iter().any(|net| net.contains(&v4)) => AddressClass::Private,
        IpAddr::V4(_) => AddressClass::Public,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => classify(IpAddr::V4(v4)),
            // Checked before ::/96, which holds it.
            None if v6 == Ipv6Addr::LOCALHOST => AddressClass::Loopback,
            None if NEVER_V6.iter().any(|net| net.contains(&v6)) => AddressClass::Never,
            None if PRIVATE_V6.iter().any(|net| net.contains(&v6)) => AddressClass::Private,
            None => AddressClass::Public,
        },
    }
}

/// Whether a postback may be sent to the address under the policy.
pub fn allowed(ip: IpAddr, policy: EndpointPolicy) -> bool {
    match classify(ip) {
        AddressClass::Public => true,
        AddressClass::Loopback => policy.allow_loopback,
        AddressClass::Private => policy.allow_private,
        AddressClass::Never => false,
    }
}

/// Why an address is refused, for the partner.
pub fn refusal(ip: IpAddr) -> String {
    let what = match classify(ip) {
        AddressClass::Loopback => "a loopback address",
        AddressClass::Private => "a private address",
        AddressClass::Never => "an address postbacks never go to",
        AddressClass::Public => "a public address",
    };
    format!("{ip} is {what}, which this server does not send postbacks to")
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
        return Err(FieldError::new("url", refusal(bad.ip())));
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
                let refused: Box<dyn std::error::Error + Send + Sync> = format!(
                    "{} resolves to no address postbacks may go to",
                    name.as_str()
                )
                .into();
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
    fn every_address_falls_in_its_class() {
        let cases = [
            (
                AddressClass::Loopback,
                &["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"][..],
            ),
            (
                AddressClass::Private,
                &[
                    "10.1.2.3",
                    "172.16.0.1",
                    "172.31.255.255",
                    "192.168.1.1",
                    "100.64.0.1",
                    "fc00::1",
                    "fd12::1",
                    "fd00:ec2::253",
                    "::ffff:10.0.0.1",
                ][..],
            ),
            (
                AddressClass::Never,
                &[
                    "169.254.169.254",
                    "169.254.0.1",
                    "fd00:ec2::254",
                    "fe80::1",
                    "0.0.0.0",
                    "::",
                    "224.0.0.1",
                    "255.255.255.255",
                    "192.0.2.1",
                    "198.51.100.7",
                    "203.0.113.9",
                    "198.18.0.1",
                    "ff02::1",
                    "2001:db8::1",
                    "::ffff:169.254.169.254",
                    "64:ff9b::a00:1",
                    // IPv4-compatible: ::127.0.0.1, ::169.254.169.254, ::8.8.8.8
                    "::7f00:1",
                    "::a9fe:a9fe",
                    "::808:808",
                    // IPv4-translated: ::ffff:0:127.0.0.1, ::ffff:0:169.254.169.254
                    "::ffff:0:7f00:1",
                    "::ffff:0:a9fe:a9fe",
                    "2002:7f00:1::",
                ][..],
            ),
            (
                AddressClass::Public,
                &[
                    "8.8.8.8",
                    "1.1.1.1",
                    "2606:4700:4700::1111",
                    "::ffff:8.8.8.8",
                ][..],
            ),
        ];
        for (class, addresses) in cases {
            for address in addresses {
                assert_eq!(classify(ip(address)), class, "{address}");
            }
        }
    }

    #[test]
    fn each_policy_reaches_its_classes_and_none_reaches_metadata() {
        let reach = |policy: EndpointPolicy| {
            ["8.8.8.8", "127.0.0.1", "192.168.1.1"].map(|a| allowed(ip(a), policy))
        };
        assert_eq!(reach(EndpointPolicy::AWS), [true, false, false]);
        assert_eq!(reach(EndpointPolicy::LOCAL), [true, true, false]);
        assert_eq!(reach(EndpointPolicy::LOCAL_PRIVATE), [true, true, true]);
        let every = [
            EndpointPolicy::AWS,
            EndpointPolicy::LOCAL,
            EndpointPolicy::LOCAL_PRIVATE,
        ];
        for policy in every {
            for never in ["169.254.169.254", "fd00:ec2::254", "::a9fe:a9fe", "0.0.0.0"] {
                assert!(!allowed(ip(never), policy), "{never} under {policy:?}");
            }
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
        let private = check_endpoint("http://192.168.1.20/hook", EndpointPolicy::LOCAL).await;
        assert!(
            private.is_err_and(|e| e.message.contains("private address")),
            "private ranges need the flag"
        );
        assert!(
            check_endpoint("http://192.168.1.20/hook", EndpointPolicy::LOCAL_PRIVATE)
                .await
                .is_ok()
        );
        assert!(refused(
            check_endpoint("http://[fd00:ec2::254]/", EndpointPolicy::LOCAL_PRIVATE).await
        ));
    }

    #[tokio::test]
    async fn the_delivery_resolver_drops_refused_answers() {
        use reqwest::dns::Resolve;
        let resolve = |policy| {
            let name: reqwest::dns::Name = "localhost".parse().unwrap();
            GuardedResolver { policy }.resolve(name)
        };
        assert!(resolve(EndpointPolicy::AWS).await.is_err());
        assert!(resolve(EndpointPolicy::LOCAL).await.is_ok());
    }
}
