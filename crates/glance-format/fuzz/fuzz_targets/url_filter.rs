//! The http store's URL parser and address ranges (glance-store's
//! `remote/ssrf/url.rs` and `remote/ssrf/ranges.rs`), which judge URLs API
//! callers send. Both files use only `std`, so they are compiled in here by
//! path instead of pulling glance-store's HTTP and TLS stack into this workspace.
//!
//! Input: the first byte picks the check, the rest is a URL (or 16 address
//! bytes). Properties: nothing panics; an accepted URL prints to a form that
//! parses back to the same URL, without credentials, whitespace or a trailing
//! dot; an IPv4 address and its IPv4-mapped IPv6 form are judged alike.
#![no_main]

#[allow(dead_code)]
#[path = "../../../glance-store/src/remote/ssrf/ranges.rs"]
mod ranges;
#[allow(dead_code)]
#[path = "../../../glance-store/src/remote/ssrf/url.rs"]
mod url;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use libfuzzer_sys::fuzz_target;
use url::{Host, ParsedUrl};

fuzz_target!(|input: &[u8]| {
    let Some((&selector, rest)) = input.split_first() else {
        return;
    };
    match selector % 3 {
        0 => check_url(rest),
        1 => check_redirect(rest),
        _ => check_address(rest),
    }
});

fn check_url(bytes: &[u8]) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let Ok(parsed) = ParsedUrl::parse(text) else {
        return;
    };
    check_accepted(&parsed);
}

/// The first line is the URL answered, the rest the `Location` it sent.
fn check_redirect(bytes: &[u8]) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let (base, location) = text.split_once('\n').unwrap_or((text, "/"));
    let Ok(base) = ParsedUrl::parse(base) else {
        return;
    };
    if let Ok(target) = base.redirect_target(location) {
        check_accepted(&target);
        if target.credentials().is_some() && !location.contains('@') {
            assert!(base.same_origin(&target), "credentials crossed origins");
        }
    }
}

fn check_accepted(parsed: &ParsedUrl) {
    let request = parsed.request_uri();
    assert!(request.bytes().all(|b| b.is_ascii_graphic()), "{request:?}");
    assert!(!request.contains('@') || parsed.path_and_query().contains('@'));
    let again = ParsedUrl::parse(&request).expect("request URI parses back");
    assert_eq!(again.host(), parsed.host());
    assert_eq!(again.port(), parsed.port());
    assert_eq!(again.path_and_query(), parsed.path_and_query());
    assert_eq!(again.request_uri(), request);
    assert!((1..=65535).contains(&parsed.port()));
    if let Host::Name(name) = parsed.host() {
        assert!(!name.is_empty() && !name.ends_with('.'), "{name:?}");
        assert!(
            name.parse::<IpAddr>().is_err(),
            "an address parsed as a name: {name:?}"
        );
        let last = name.rsplit('.').next().unwrap_or_default();
        assert!(!last.starts_with(|c: char| c.is_ascii_digit()), "{name:?}");
    }
    // Shown form: scheme, host and port, path; never the user information.
    let shown = parsed.to_string();
    let origin = format!("{}://{}", parsed.scheme().as_str(), parsed.authority());
    assert!(!parsed.authority().contains('@'));
    let rest = shown
        .strip_prefix(&origin)
        .expect("shown form starts with the origin");
    assert!(rest.starts_with('/') && !rest.contains('?'), "{shown:?}");
}

fn check_address(bytes: &[u8]) {
    let Ok(octets) = <[u8; 16]>::try_from(bytes.get(..16).unwrap_or_default()) else {
        return;
    };
    let v6 = Ipv6Addr::from(octets);
    let _ = ranges::special_purpose(IpAddr::V6(v6));
    let v4 = Ipv4Addr::new(octets[0], octets[1], octets[2], octets[3]);
    let plain = ranges::special_purpose(IpAddr::V4(v4)).is_some();
    let mapped = ranges::special_purpose(IpAddr::V6(v4.to_ipv6_mapped())).is_some();
    assert_eq!(plain, mapped, "{v4} and its mapped form judged differently");
}
