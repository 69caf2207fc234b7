//! Which address a request really came from: the peer, or the X-Forwarded-For hop that a trusted proxy vouches for.

use ipnet::IpNet;
use std::net::IpAddr;

/// The networks whose connections may say, in X-Forwarded-For, whom they forward for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses a comma-separated list of CIDRs or single addresses (`10.0.0.0/8, 192.168.1.7`).
    pub fn parse(list: &str) -> Result<TrustedProxies, String> {
        let mut networks = Vec::new();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let network = match item.parse::<IpNet>() {
                Ok(network) => network,
                Err(_) => item
                    .parse::<IpAddr>()
                    .map(IpNet::from)
                    .map_err(|_| format!("{item:?} is not an address or CIDR"))?,
            };
            networks.push(network);
        }
        Ok(TrustedProxies(networks))
    }

    pub fn trusts(&self, address: IpAddr) -> bool {
        let address = canonical(address);
        self.0.iter().any(|network| network.contains(&address))
    }

    /// The client's address. Only a trusted peer's X-Forwarded-For is read, from the right: each hop
    /// appended by a trusted proxy is skipped, and the first one a trusted proxy did not add is the
    /// client (anything further left was written by the client and could be anything).
    pub fn client(&self, peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let Some(header) = forwarded_for else {
            return peer;
        };
        let mut client = peer;
        for hop in header.rsplit(',').map(str::trim) {
            let Ok(address) = hop.parse::<IpAddr>() else {
                // An unreadable hop ends what can be believed; the last good one is the answer.
                break;
            };
            client = canonical(address);
            if !self.trusts(client) {
                break;
            }
        }
        client
    }
}

/// IPv4 clients reaching a dual-stack socket appear as `::ffff:a.b.c.d`; compare them as IPv4.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxies = TrustedProxies::parse("10.0.0.0/8, 192.168.1.7").unwrap();
        let cases = [
            // (peer, X-Forwarded-For, client)
            ("203.0.113.9", Some("1.2.3.4"), "203.0.113.9"),
            ("10.1.2.3", Some("198.51.100.20"), "198.51.100.20"),
            ("10.1.2.3", None, "10.1.2.3"),
            ("10.1.2.3", Some("6.6.6.6, 198.51.100.20"), "198.51.100.20"),
            ("10.1.2.3", Some("198.51.100.20, 10.9.9.9"), "198.51.100.20"),
            (
                "192.168.1.7",
                Some("198.51.100.20, 192.168.1.7"),
                "198.51.100.20",
            ),
            ("192.168.1.8", Some("198.51.100.20"), "192.168.1.8"),
            ("10.1.2.3", Some("garbage, 10.9.9.9"), "10.9.9.9"),
            ("10.1.2.3", Some("10.9.9.9, 10.8.8.8"), "10.9.9.9"),
            ("::ffff:10.1.2.3", Some("2001:db8::1"), "2001:db8::1"),
        ];
        for (peer, header, client) in cases {
            assert_eq!(
                proxies.client(ip(peer), header),
                ip(client),
                "{peer} {header:?}"
            );
        }
    }

    #[test]
    fn with_no_trusted_proxies_the_peer_is_the_client() {
        let none = TrustedProxies::default();
        assert_eq!(
            none.client(ip("127.0.0.1"), Some("1.2.3.4")),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn lists_are_cidrs_or_addresses() {
        assert!(TrustedProxies::parse("").unwrap().0.is_empty());
        assert!(TrustedProxies::parse("fd00::/8,127.0.0.1").is_ok());
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.internal").is_err());
    }
}
