//! Where a webhook may be delivered (API.md "Events, audit, webhooks"): `http` or
//! `https` URLs only; loopback and private addresses only where the deployment
//! allows them (local development); link-local and cloud metadata addresses never.
//! Checked at registration (the URL's literal address, and what its host resolves
//! to) and again at delivery on the address actually connected to, so a name that
//! later resolves somewhere forbidden (DNS rebinding) is still refused.

use relinx_ddb::StoreError;
use relinx_model::ValidationError;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// How long registration waits for the target's host to resolve.
const RESOLVE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// The longest target URL accepted.
const MAX_URL_CHARS: usize = 2000;

/// The deployment's rule on private targets (`RELINX_ALLOW_PRIVATE_TARGETS`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TargetPolicy {
    pub allow_private: bool,
}

/// Why an address is refused, if it is. An IPv6 address that carries an IPv4 one
/// (mapped, compatible, NAT64, 6to4, Teredo) is judged by the IPv4 address too: each
/// is a way to reach it.
pub fn refusal(policy: TargetPolicy, ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => refusal_v4(policy, v4),
        IpAddr::V6(v6) => embedded_v4(v6)
            .and_then(|v4| refusal_v4(policy, v4))
            .or_else(|| refusal_v6(policy, v6)),
    }
}

/// The IPv4 address an IPv6 address carries, where it carries one.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let low = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible; :: and ::1 are not).
        [0, 0, 0, 0, 0, 0xffff, _, _] => Some(low),
        [0, 0, 0, 0, 0, 0, hi, _] if hi != 0 => Some(low),
        // NAT64, the well-known prefix 64:ff9b::/96 and the local-use 64:ff9b:1::/48.
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] | [0x64, 0xff9b, 1, ..] => Some(low),
        // 6to4, 2002:AABB:CCDD::/48.
        [0x2002, hi, lo, ..] => Some(Ipv4Addr::new(
            (hi >> 8) as u8,
            hi as u8,
            (lo >> 8) as u8,
            lo as u8,
        )),
        // Teredo, 2001:0::/32: the client's address, inverted, in the last 32 bits.
        [0x2001, 0, ..] => Some(Ipv4Addr::from(!u32::from(low))),
        _ => None,
    }
}

fn refusal_v4(policy: TargetPolicy, ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_link_local() {
        return Some("a link-local or cloud metadata address");
    }
    if ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
    {
        return Some("not a unicast host address");
    }
    let private = ip.is_loopback()
        || ip.is_private()
        // Shared address space (carrier-grade NAT), 100.64.0.0/10.
        || (a == 100 && (64..128).contains(&b));
    (private && !policy.allow_private).then_some("a loopback or private address")
}

fn refusal_v6(policy: TargetPolicy, ip: Ipv6Addr) -> Option<&'static str> {
    // AWS's IPv6 instance metadata endpoint.
    const AWS_METADATA: Ipv6Addr = Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254);
    if ip.is_unicast_link_local() || ip == AWS_METADATA {
        return Some("a link-local or cloud metadata address");
    }
    if ip.is_unspecified() || ip.is_multicast() {
        return Some("not a unicast host address");
    }
    let private = ip.is_loopback() || ip.is_unique_local();
    (private && !policy.allow_private).then_some("a loopback or private address")
}

fn invalid(message: String) -> StoreError {
    StoreError::Invalid(ValidationError::new("url", message))
}

/// Checks a target URL and returns it normalized: its syntax, its scheme, and each
/// address its host is or resolves to. A name that does not resolve now is accepted
/// (deliveries to it fail and are retried until it does).
pub async fn check(policy: TargetPolicy, raw: &str) -> Result<String, StoreError> {
    let raw = raw.trim();
    if raw.chars().count() > MAX_URL_CHARS {
        return Err(invalid(format!("is at most {MAX_URL_CHARS} characters")));
    }
    let url = url::Url::parse(raw).map_err(|e| {
        invalid(format!(
            "is not a valid URL ({e}); e.g. https://hooks.example.com/relinx"
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("must be an http or https URL".into()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "must not carry credentials; verify our signature instead".into(),
        ));
    }
    let host = url
        .host()
        .ok_or_else(|| invalid("must name a host".into()))?;
    let port = url.port_or_known_default().unwrap_or(443);
    let addresses: Vec<IpAddr> = match host {
        url::Host::Ipv4(v4) => vec![IpAddr::V4(v4)],
        url::Host::Ipv6(v6) => vec![IpAddr::V6(v6)],
        // Bounded: a slow resolver must not hold the request (unresolved is accepted).
        url::Host::Domain(name) => {
            tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((name, port)))
                .await
                .ok()
                .and_then(Result::ok)
                .map(|found| found.map(|a| a.ip()).collect())
                .unwrap_or_default()
        }
    };
    for ip in addresses {
        if let Some(why) = refusal(policy, ip) {
            return Err(invalid(format!(
                "points at {ip}, {why}; webhooks are delivered to public addresses only"
            )));
        }
    }
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRICT: TargetPolicy = TargetPolicy {
        allow_private: false,
    };
    const LOCAL: TargetPolicy = TargetPolicy {
        allow_private: true,
    };

    fn ip(raw: &str) -> IpAddr {
        raw.parse().unwrap()
    }

    #[test]
    fn metadata_and_link_local_are_refused_always() {
        for raw in [
            "169.254.169.254",
            "169.254.0.1",
            "fe80::1",
            "fd00:ec2::254",
            "::ffff:169.254.169.254",
            "::169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "2002:a9fe:a9fe::1",
        ] {
            assert!(refusal(LOCAL, ip(raw)).is_some(), "{raw}");
        }
    }

    #[test]
    fn ipv6_forms_that_carry_a_private_ipv4_address_are_refused() {
        for raw in [
            "::127.0.0.1",
            "::10.0.0.1",
            "64:ff9b::10.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b:1::a00:1",
            "2002:0a00:0001::1",
            "2002:c0a8:0101::",
            // Teredo: 10.0.0.1 inverted is f5ff:fffe.
            "2001:0:4136:e378:8000:63bf:f5ff:fffe",
        ] {
            assert!(refusal(STRICT, ip(raw)).is_some(), "{raw}");
        }
        // The same forms around a public address are fine.
        for raw in ["64:ff9b::5db8:d822", "2002:5db8:d822::1", "::93.184.216.34"] {
            assert!(refusal(STRICT, ip(raw)).is_none(), "{raw}");
        }
    }

    #[test]
    fn private_addresses_only_where_allowed() {
        for raw in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "100.64.0.1",
            "::1",
            "fc00::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(refusal(STRICT, ip(raw)).is_some(), "{raw}");
            assert!(refusal(LOCAL, ip(raw)).is_none(), "{raw}");
        }
        for raw in [
            "93.184.216.34",
            "2606:4700::1111",
            "172.32.0.1",
            "100.128.0.1",
        ] {
            assert!(refusal(STRICT, ip(raw)).is_none(), "{raw}");
        }
    }

    #[tokio::test]
    async fn urls_are_checked_by_scheme_credentials_and_address() {
        assert!(check(STRICT, "https://93.184.216.34/hook").await.is_ok());
        for bad in [
            "ftp://93.184.216.34/",
            "not a url",
            "https://user:pw@93.184.216.34/",
            "http://169.254.169.254/latest/meta-data",
            "http://10.0.0.1/",
            "http://localhost:9/hook",
            "http://[::1]/",
        ] {
            assert!(check(STRICT, bad).await.is_err(), "{bad}");
        }
        assert!(check(LOCAL, "http://localhost:9/hook").await.is_ok());
        assert!(check(LOCAL, "http://169.254.169.254/").await.is_err());
    }
}
