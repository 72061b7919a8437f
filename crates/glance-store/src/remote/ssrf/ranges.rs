//! Address ranges a fetch must not reach unless the operator names the address:
//! everything that is not a public unicast address of the internet (IANA's
//! special-purpose registries, RFC 6890 and its successors).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The address with an IPv4-mapped IPv6 form (`::ffff:a.b.c.d`) turned into its
/// IPv4 address, so lists and ranges see one spelling of each host.
pub(crate) fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

/// Why `ip` is not a public unicast address, or `None` when it is one.
pub(crate) fn special_purpose(ip: IpAddr) -> Option<&'static str> {
    match canonical(ip) {
        IpAddr::V4(v4) => special_v4(v4),
        IpAddr::V6(v6) => special_v6(v6),
    }
}

/// (network, prefix length, what it is)
const V4_RANGES: &[(u32, u32, &str)] = &[
    (
        0x0000_0000,
        8,
        "an unspecified/\"this network\" address (0.0.0.0/8)",
    ),
    (0x0a00_0000, 8, "a private address (10.0.0.0/8)"),
    (
        0x6440_0000,
        10,
        "a shared carrier-grade NAT address (100.64.0.0/10)",
    ),
    (0x7f00_0000, 8, "a loopback address (127.0.0.0/8)"),
    (
        0xa9fe_0000,
        16,
        "a link-local address (169.254.0.0/16, cloud metadata services)",
    ),
    (0xac10_0000, 12, "a private address (172.16.0.0/12)"),
    (
        0xc000_0000,
        24,
        "an IETF protocol assignment address (192.0.0.0/24)",
    ),
    (0xc000_0200, 24, "a documentation address (192.0.2.0/24)"),
    (
        0xc058_6300,
        24,
        "a 6to4 relay anycast address (192.88.99.0/24)",
    ),
    (0xc0a8_0000, 16, "a private address (192.168.0.0/16)"),
    (0xc612_0000, 15, "a benchmarking address (198.18.0.0/15)"),
    (0xc633_6400, 24, "a documentation address (198.51.100.0/24)"),
    (0xcb00_7100, 24, "a documentation address (203.0.113.0/24)"),
    (0xe000_0000, 4, "a multicast address (224.0.0.0/4)"),
    (
        0xf000_0000,
        4,
        "a reserved or broadcast address (240.0.0.0/4, 255.255.255.255)",
    ),
];

fn special_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let bits = u32::from(ip);
    V4_RANGES
        .iter()
        .find(|(network, prefix, _)| bits >> (32 - prefix) == network >> (32 - prefix))
        .map(|(_, _, why)| *why)
}

/// (network, prefix length, what it is); ranges that embed an IPv4 address are
/// handled in [`special_v6`] before these.
const V6_RANGES: &[(u128, u32, &str)] = &[
    (
        0x0064_ff9b_0001_u128 << 80,
        48,
        "a local-use NAT64 address (64:ff9b:1::/48)",
    ),
    (
        0,
        8,
        "an unspecified, loopback, IPv4-compatible or reserved address (::/8)",
    ),
    (0x0100_u128 << 112, 64, "a discard-only address (100::/64)"),
    (
        0x2001_u128 << 112,
        23,
        "an IETF protocol assignment address (2001::/23, Teredo included)",
    ),
    (
        0x2001_0db8_u128 << 96,
        32,
        "a documentation address (2001:db8::/32)",
    ),
    (
        0x3fff_u128 << 112,
        20,
        "a documentation address (3fff::/20)",
    ),
    (
        0xfc00_u128 << 112,
        7,
        "a unique local (private) address (fc00::/7)",
    ),
    (0xfe80_u128 << 112, 10, "a link-local address (fe80::/10)"),
    (0xfec0_u128 << 112, 10, "a site-local address (fec0::/10)"),
    (0xff00_u128 << 112, 8, "a multicast address (ff00::/8)"),
];

fn special_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let bits = u128::from(ip);
    // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address that the
    // gateway would reach for us: judge them by that address.
    if bits >> 32 == 0x0064_ff9b_u128 << 64 {
        return special_v4(Ipv4Addr::from(bits as u32))
            .map(|_| "a NAT64 address embedding a non-public IPv4 address (64:ff9b::/96)");
    }
    if bits >> 112 == 0x2002 {
        return special_v4(Ipv4Addr::from((bits >> 80) as u32))
            .map(|_| "a 6to4 address embedding a non-public IPv4 address (2002::/16)");
    }
    let listed = V6_RANGES
        .iter()
        .find(|(network, prefix, _)| bits >> (128 - prefix) == network >> (128 - prefix))
        .map(|(_, _, why)| *why);
    // Only 2000::/3 is assigned for global unicast; the rest is reserved.
    listed
        .or_else(|| (bits >> 125 != 0b001).then_some("a reserved IPv6 address (outside 2000::/3)"))
}
