//! A token's IP allowlist: addresses and CIDR ranges, IPv4 and IPv6, at most 20. Empty means
//! "from anywhere". Stored as the ranges joined by commas.

use std::net::IpAddr;

use ipnet::IpNet;

use super::DomainError;

pub const MAX_RANGES: usize = 20;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpAllowlist(Vec<IpNet>);

impl IpAllowlist {
    /// As typed: one per line or comma-separated, blanks ignored. A bare address is its own /32
    /// or /128 range; a range with host bits set (`10.0.0.7/8`) is taken as the network it names.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let refuse = |message: String| Err(DomainError::new("allowed_ips", message));
        let mut ranges: Vec<IpNet> = Vec::new();
        for item in raw.split([',', '\n', '\r']) {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            let shown = super::name::printable(item, 50);
            let range = match (item.parse::<IpNet>(), item.parse::<IpAddr>()) {
                (Ok(net), _) => net.trunc(),
                (_, Ok(addr)) => IpNet::from(addr),
                _ => {
                    return refuse(format!(
                        "“{shown}” is not an IP address or CIDR range (such as 203.0.113.7 or 2001:db8::/32)."
                    ));
                }
            };
            if !ranges.contains(&range) {
                ranges.push(range);
            }
            if ranges.len() > MAX_RANGES {
                return refuse(format!("At most {MAX_RANGES} addresses or ranges."));
            }
        }
        Ok(Self(ranges))
    }

    /// Reads the stored form back; an entry that no longer parses is dropped rather than
    /// opening the token to every address.
    pub fn from_stored(stored: &str) -> Self {
        Self(
            stored
                .split(',')
                .filter_map(|item| item.trim().parse::<IpNet>().ok())
                .collect(),
        )
    }

    pub fn to_stored(&self) -> String {
        self.ranges().join(",")
    }

    pub fn ranges(&self) -> Vec<String> {
        self.0.iter().map(ToString::to_string).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether a request from `ip` may use the token. An IPv4 client seen through an IPv6
    /// socket (`::ffff:203.0.113.7`) is matched as the IPv4 address it is.
    pub fn allows(&self, ip: IpAddr) -> bool {
        if self.0.is_empty() {
            return true;
        }
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        self.0.iter().any(|range| range.contains(&ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn addresses_and_ranges_one_per_line_or_comma_separated() {
        let list = IpAllowlist::parse("203.0.113.7\n10.0.0.0/8, 2001:db8::/32\r\n\n").unwrap();
        assert_eq!(
            list.ranges(),
            ["203.0.113.7/32", "10.0.0.0/8", "2001:db8::/32"]
        );
        assert!(list.allows(ip("203.0.113.7")));
        assert!(!list.allows(ip("203.0.113.8")));
        assert!(list.allows(ip("10.200.3.4")));
        assert!(list.allows(ip("2001:db8::1")));
        assert!(!list.allows(ip("2001:db9::1")));
        assert!(
            list.allows(ip("::ffff:10.1.2.3")),
            "IPv4 through an IPv6 socket"
        );
        assert_eq!(IpAllowlist::from_stored(&list.to_stored()), list);
    }

    #[test]
    fn empty_means_anywhere_and_host_bits_name_their_network() {
        assert!(IpAllowlist::parse(" , \n").unwrap().allows(ip("192.0.2.1")));
        assert_eq!(
            IpAllowlist::parse("10.0.0.7/8").unwrap().ranges(),
            ["10.0.0.0/8"]
        );
    }

    #[test]
    fn junk_and_too_many_are_refused_with_the_field() {
        for bad in ["localhost", "10.0.0.0/33", "1.2.3", "::g", "<script>"] {
            let error = IpAllowlist::parse(bad).unwrap_err();
            assert_eq!(error.field, "allowed_ips", "{bad}");
        }
        let many: Vec<String> = (0..21).map(|n| format!("192.0.2.{n}")).collect();
        assert!(IpAllowlist::parse(&many.join(",")).is_err());
        assert!(IpAllowlist::parse(&many[..20].join(",")).is_ok());
    }
}
