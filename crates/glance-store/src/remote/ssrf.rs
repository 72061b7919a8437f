//! Which remote URLs the service may be made to fetch: upstream's
//! `[import_filtering_opts]` rules (schemes, hosts, ports), applied to every URL an
//! untrusted caller can make us open (http store locations, web-download).

mod ranges;
#[cfg(test)]
mod tests;
mod url;

use std::net::IpAddr;

pub use url::{Credentials, Host, ParsedUrl, Scheme};

use super::AddressFilter;
use crate::{StoreError, StoreOptions};

/// `[import_filtering_opts]`, parsed. The defaults are upstream's.
///
/// The lists work as upstream's `validate_import_uri`: an allow list, when not
/// empty, makes the matching deny list ignored; hosts match exactly (IP
/// literals by address, names lower-cased); an empty `allowed_*` list lets
/// everything not denied through.
///
/// Stricter than upstream, on purpose:
/// - **Non-public addresses are refused unless named.** A URL whose host is, or
///   resolves to, a loopback, link-local (169.254.169.254, the cloud metadata
///   service, included), private (RFC 1918, IPv6 ULA fc00::/7), unspecified,
///   multicast, broadcast/reserved, CGNAT (100.64.0.0/10), benchmarking or
///   documentation address (and the IPv4-mapped, NAT64 and 6to4 IPv6 forms of
///   those) is refused, unless that host is listed in `allowed_hosts`. Names
///   are checked on the addresses they resolve to at connect time (the
///   [`AddressFilter`] impl, used by the HTTP client's resolver), so a name
///   like `localhost`, or one rebinding to 10.x between check and connect, is
///   refused too. A *name* listed in `allowed_hosts` is trusted with whatever
///   it resolves to: the operator named it.
/// - **One spelling per URL** ([`ParsedUrl::parse`]): encoded IPv4 forms,
///   zone ids, trailing dots, backslashes, several `@`, empty hosts or ports
///   are refused instead of being read one way here and another by the resolver.
/// - **The port checked is the port connected to**: a URL without a port is
///   checked with its scheme's default (upstream skips the port rules then, and
///   for port 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UriFilter {
    pub allowed_schemes: Vec<String>,
    pub disallowed_schemes: Vec<String>,
    pub allowed_hosts: Vec<String>,
    pub disallowed_hosts: Vec<String>,
    pub allowed_ports: Vec<u16>,
    pub disallowed_ports: Vec<u16>,
}

impl Default for UriFilter {
    fn default() -> Self {
        UriFilter {
            allowed_schemes: vec!["http".into(), "https".into()],
            disallowed_schemes: Vec::new(),
            allowed_hosts: Vec::new(),
            disallowed_hosts: Vec::new(),
            allowed_ports: vec![80, 443],
            disallowed_ports: Vec::new(),
        }
    }
}

/// The `[import_filtering_opts]` option names.
const ALLOWED_SCHEMES: &str = "allowed_schemes";
const DISALLOWED_SCHEMES: &str = "disallowed_schemes";
const ALLOWED_HOSTS: &str = "allowed_hosts";
const DISALLOWED_HOSTS: &str = "disallowed_hosts";
const ALLOWED_PORTS: &str = "allowed_ports";
const DISALLOWED_PORTS: &str = "disallowed_ports";

impl UriFilter {
    /// Reads an `[import_filtering_opts]` section. Schemes are lists of strings,
    /// hosts lists of IP addresses or host names (oslo's `HostAddress`), ports
    /// lists of integers in 1..=65535; a malformed item is a `Config` error
    /// naming the option.
    ///
    /// An option written with an empty value (`allowed_ports =`) is an empty
    /// list, as oslo.config reads it: no allow-list, so the deny list decides.
    pub fn from_options(options: &StoreOptions) -> Result<UriFilter, StoreError> {
        let defaults = UriFilter::default();
        let schemes = |option: &str, default: Vec<String>| -> Result<Vec<String>, StoreError> {
            if !options.is_set(option) {
                return Ok(default);
            }
            Ok(options
                .list(option)?
                .into_iter()
                .map(|scheme| scheme.to_ascii_lowercase())
                .collect())
        };
        let hosts = |option: &str| -> Result<Vec<String>, StoreError> {
            options
                .list(option)?
                .iter()
                .map(|host| normalize_host(host).map_err(|reason| options.invalid(option, reason)))
                .collect()
        };
        let ports = |option: &str, default: Vec<u16>| -> Result<Vec<u16>, StoreError> {
            if !options.is_set(option) {
                return Ok(default);
            }
            options
                .list(option)?
                .iter()
                .map(|port| match port.parse::<u16>() {
                    Ok(port) if port >= 1 => Ok(port),
                    _ => Err(options.invalid(
                        option,
                        format!("'{port}' is not a port number in 1..=65535"),
                    )),
                })
                .collect()
        };
        Ok(UriFilter {
            allowed_schemes: schemes(ALLOWED_SCHEMES, defaults.allowed_schemes)?,
            disallowed_schemes: schemes(DISALLOWED_SCHEMES, Vec::new())?,
            allowed_hosts: hosts(ALLOWED_HOSTS)?,
            disallowed_hosts: hosts(DISALLOWED_HOSTS)?,
            allowed_ports: ports(ALLOWED_PORTS, defaults.allowed_ports)?,
            disallowed_ports: ports(DISALLOWED_PORTS, Vec::new())?,
        })
    }

    /// Parses `url` strictly and applies every rule that can be judged without
    /// resolving names. `Err` is the reason, free of credentials.
    pub fn check_url(&self, url: &str) -> Result<ParsedUrl, String> {
        let parsed = ParsedUrl::parse(url)?;
        self.check_parsed(&parsed)?;
        Ok(parsed)
    }

    /// The rules of [`UriFilter::check_url`] for a URL already parsed (a
    /// redirect target).
    pub fn check_parsed(&self, url: &ParsedUrl) -> Result<(), String> {
        let scheme = url.scheme().as_str();
        if !passes(&self.allowed_schemes, &self.disallowed_schemes, |s| {
            s == scheme
        }) {
            return Err(format!("scheme '{scheme}' is not allowed"));
        }
        let host = url.host();
        let listed = |entries: &[String]| entries.iter().any(|entry| host_matches(host, entry));
        let host_allowed = if self.allowed_hosts.is_empty() {
            !listed(&self.disallowed_hosts)
        } else {
            listed(&self.allowed_hosts)
        };
        if !host_allowed {
            return Err(format!("host {host} is not allowed"));
        }
        let port = url.port();
        if !passes(&self.allowed_ports, &self.disallowed_ports, |p| *p == port) {
            return Err(format!("port {port} is not allowed"));
        }
        if let Host::Ip(ip) = host {
            if !listed(&self.allowed_hosts) {
                if let Some(why) = ranges::special_purpose(*ip) {
                    return Err(format!("{host} is {why}"));
                }
            }
        }
        Ok(())
    }

    /// Whether the URL's host is a DNS name the operator listed in
    /// `allowed_hosts`: such a name is trusted with whatever it resolves to.
    pub fn is_listed_name(&self, url: &ParsedUrl) -> bool {
        matches!(url.host(), Host::Name(_))
            && self
                .allowed_hosts
                .iter()
                .any(|entry| host_matches(url.host(), entry))
    }
}

/// Connect-time check of the addresses a name resolved to (and of IP literals):
/// the same rules as [`UriFilter::check_parsed`] for an IP host.
impl AddressFilter for UriFilter {
    fn check(&self, address: &IpAddr) -> Result<(), String> {
        let host = Host::Ip(ranges::canonical(*address));
        let listed = |entries: &[String]| entries.iter().any(|entry| host_matches(&host, entry));
        if listed(&self.allowed_hosts) {
            return Ok(());
        }
        if self.allowed_hosts.is_empty() && listed(&self.disallowed_hosts) {
            return Err(format!("address {host} is in disallowed_hosts"));
        }
        match ranges::special_purpose(*address) {
            Some(why) => Err(format!("address {host} is {why}")),
            None => Ok(()),
        }
    }
}

/// Upstream's rule for one kind of item: a non-empty allow list decides alone,
/// otherwise the deny list does.
fn passes<T>(allowed: &[T], disallowed: &[T], matches: impl Fn(&T) -> bool) -> bool {
    if allowed.is_empty() {
        !disallowed.iter().any(matches)
    } else {
        allowed.iter().any(matches)
    }
}

/// Whether `host` is the host a list entry names. Entries are normalised here
/// too, so a filter built in code with `[::1]` or `LOCALHOST` still matches.
fn host_matches(host: &Host, entry: &str) -> bool {
    match (host, parse_host_entry(entry)) {
        (Host::Ip(ip), Ok(Host::Ip(listed))) => ranges::canonical(*ip) == ranges::canonical(listed),
        (Host::Name(name), Ok(Host::Name(listed))) => *name == listed,
        _ => false,
    }
}

/// A list entry as a host: an IPv6 address with or without brackets, an IPv4
/// address, or a DNS name (one trailing dot tolerated).
fn parse_host_entry(entry: &str) -> Result<Host, String> {
    let entry = entry.trim();
    let unbracketed = entry
        .strip_prefix('[')
        .and_then(|e| e.strip_suffix(']'))
        .unwrap_or(entry);
    if let Ok(ip) = unbracketed.parse::<IpAddr>() {
        return Ok(Host::Ip(ranges::canonical(ip)));
    }
    url::parse_host_name(entry.strip_suffix('.').unwrap_or(entry))
}

/// The canonical text of a list entry (`::ffff:127.0.0.1` becomes `127.0.0.1`).
fn normalize_host(entry: &str) -> Result<String, String> {
    match parse_host_entry(entry)? {
        Host::Ip(ip) => Ok(ip.to_string()),
        Host::Name(name) => Ok(name),
    }
}
