//! A strict parser for the http(s) URLs the service may be made to fetch.
//!
//! It accepts one spelling of each URL and refuses everything that two URL parsers
//! (ours, the resolver's, the server's, a proxy's) could read differently:
//! backslashes, non-ASCII and control characters, more than one `@`, encoded or
//! shortened IPv4 forms (`2130706433`, `0x7f.1`, `017700000001`, `127.1`), IPv6
//! zone ids, trailing dots, empty hosts and ports, ports outside 1..=65535.
//! Refusal reasons never repeat the user information of the URL.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Longest URL accepted; signed object-store URLs stay well below it.
const MAX_URL_LEN: usize = 16 * 1024;
/// Longest host name DNS can carry, and longest label.
const MAX_HOST_LEN: usize = 253;
const MAX_LABEL_LEN: usize = 63;

/// The schemes we can fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

/// A URL's host: an IP literal, or a lower-case DNS name (no trailing dot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    Ip(IpAddr),
    Name(String),
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Ip(IpAddr::V6(v6)) => write!(f, "[{v6}]"),
            Host::Ip(IpAddr::V4(v4)) => write!(f, "{v4}"),
            Host::Name(name) => f.write_str(name),
        }
    }
}

/// User name and password from the URL (percent-decoded), for HTTP Basic auth.
/// Never shown: `Debug` prints only that they are there.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub user: String,
    pub password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Credentials(<redacted>)")
    }
}

/// An http(s) URL that passed the strict parse. `Display` shows it without
/// credentials and without the query (which may carry signatures).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedUrl {
    scheme: Scheme,
    credentials: Option<Credentials>,
    host: Host,
    /// The port written in the URL, if any.
    port: Option<u16>,
    /// Starts with `/`; the query (with its `?`) included, the fragment dropped.
    path_and_query: String,
}

impl ParsedUrl {
    /// Parses `text`; `Err` is the reason, free of credentials.
    pub fn parse(text: &str) -> Result<ParsedUrl, String> {
        if text.len() > MAX_URL_LEN {
            return Err(format!("the URL is longer than {MAX_URL_LEN} bytes"));
        }
        if let Some(bad) = text.chars().find(|c| !c.is_ascii_graphic() || *c == '\\') {
            return Err(match bad {
                '\\' => "the URL contains a backslash".to_string(),
                c if c.is_ascii() => "the URL contains a space or control character".to_string(),
                _ => "the URL contains non-ASCII characters".to_string(),
            });
        }
        let (scheme, rest) = text
            .split_once(':')
            .ok_or_else(|| "the URL has no scheme".to_string())?;
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            other if is_scheme_name(other) => {
                return Err(format!("scheme '{other}' cannot be fetched"))
            }
            _ => return Err("the URL has no valid scheme".to_string()),
        };
        let rest = rest
            .strip_prefix("//")
            .ok_or_else(|| "the URL must start with scheme://".to_string())?;
        // The fragment is never sent.
        let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        let path_and_query = match tail.chars().next() {
            None => "/".to_string(),
            Some('?') => format!("/{tail}"),
            Some(_) => tail.to_string(),
        };
        check_path_and_query(&path_and_query)?;

        let (credentials, host_port) = match authority.split('@').count() {
            1 => (None, authority),
            2 => {
                let (userinfo, host_port) = authority.split_once('@').unwrap_or_default();
                (Some(parse_userinfo(userinfo)?), host_port)
            }
            _ => return Err("the URL has more than one '@' before its path".to_string()),
        };
        let (host, port) = split_host_port(host_port)?;
        Ok(ParsedUrl {
            scheme,
            credentials,
            host,
            port,
            path_and_query,
        })
    }

    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    pub fn host(&self) -> &Host {
        &self.host
    }

    /// The port connected to: the written one or the scheme's default.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(self.scheme.default_port())
    }

    pub fn credentials(&self) -> Option<&Credentials> {
        self.credentials.as_ref()
    }

    pub fn path_and_query(&self) -> &str {
        &self.path_and_query
    }

    /// `host[:port]` as written (normalised), without credentials.
    pub fn authority(&self) -> String {
        match self.port {
            Some(port) => format!("{}:{port}", self.host),
            None => self.host.to_string(),
        }
    }

    /// The URL to put on the request line: no credentials (they travel in an
    /// `Authorization` header), query kept.
    pub fn request_uri(&self) -> String {
        format!(
            "{}://{}{}",
            self.scheme.as_str(),
            self.authority(),
            self.path_and_query
        )
    }

    /// Whether `other` reaches the same server (scheme, host and port).
    pub fn same_origin(&self, other: &ParsedUrl) -> bool {
        self.scheme == other.scheme && self.host == other.host && self.port() == other.port()
    }

    /// Resolves the `Location` of a redirect answered to this URL: an absolute URL,
    /// a scheme-relative `//host/...` or an absolute path `/...`. Relative paths
    /// are refused (upstream accepts only absolute URLs). Credentials carry over
    /// only to the same origin.
    pub fn redirect_target(&self, location: &str) -> Result<ParsedUrl, String> {
        let mut target = if location.starts_with("//") {
            ParsedUrl::parse(&format!("{}:{location}", self.scheme.as_str()))?
        } else if location.starts_with('/') {
            ParsedUrl::parse(&format!(
                "{}://{}{location}",
                self.scheme.as_str(),
                self.authority()
            ))?
        } else if location
            .split_once(':')
            .is_some_and(|(s, _)| is_scheme_name(s))
        {
            ParsedUrl::parse(location)?
        } else {
            return Err("the redirect target is a relative reference".to_string());
        };
        if target.credentials.is_none() && self.same_origin(&target) {
            target.credentials = self.credentials.clone();
        }
        Ok(target)
    }
}

impl fmt::Display for ParsedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self
            .path_and_query
            .split_once('?')
            .map_or(self.path_and_query.as_str(), |(path, _)| path);
        write!(f, "{}://{}{path}", self.scheme.as_str(), self.authority())
    }
}

/// RFC 3986 `scheme`: a letter, then letters, digits, `+`, `-`, `.`.
fn is_scheme_name(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// RFC 3986 `unreserved` and `sub-delims`.
fn is_unreserved_or_sub_delim(c: u8) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            b'-' | b'.'
                | b'_'
                | b'~'
                | b'!'
                | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
        )
}

/// Path and query hold only `pchar`, `/` and `?`, with well-formed `%XX` escapes.
fn check_path_and_query(text: &str) -> Result<(), String> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'%' {
            if !(bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
            {
                return Err("the URL's path has a malformed %-escape".to_string());
            }
            i += 3;
            continue;
        }
        if !(is_unreserved_or_sub_delim(c) || matches!(c, b':' | b'@' | b'/' | b'?')) {
            return Err(format!(
                "the URL's path or query contains '{}', which must be %-escaped",
                c as char
            ));
        }
        i += 1;
    }
    Ok(())
}

/// Decodes `%XX` escapes of a user-information part.
fn percent_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| "the URL's credentials have a malformed %-escape".to_string())?;
            out.push(hex);
            i += 3;
        } else if is_unreserved_or_sub_delim(c) {
            out.push(c);
            i += 1;
        } else {
            return Err("the URL's credentials contain a character that must be %-escaped".into());
        }
    }
    String::from_utf8(out).map_err(|_| "the URL's credentials are not UTF-8".to_string())
}

/// `user[:password]`; the user may not be empty.
fn parse_userinfo(userinfo: &str) -> Result<Credentials, String> {
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let user = percent_decode(user)?;
    let password = percent_decode(password)?;
    if user.is_empty() {
        return Err("the URL has credentials without a user name".to_string());
    }
    if user.contains(':') {
        return Err("the URL's user name contains ':'".to_string());
    }
    Ok(Credentials { user, password })
}

fn split_host_port(text: &str) -> Result<(Host, Option<u16>), String> {
    let (host, port) = if let Some(bracketed) = text.strip_prefix('[') {
        let (literal, after) = bracketed
            .split_once(']')
            .ok_or_else(|| "the URL's IPv6 address has no closing ']'".to_string())?;
        let ip: Ipv6Addr = literal.parse().map_err(|_| {
            "the URL's bracketed host is not a plain IPv6 address (zone ids are refused)"
                .to_string()
        })?;
        let port =
            match after {
                "" => None,
                _ => Some(after.strip_prefix(':').ok_or_else(|| {
                    "the URL has characters between ']' and the port".to_string()
                })?),
            };
        (Host::Ip(IpAddr::V6(ip)), port)
    } else {
        let (host, port) = match text.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        };
        (parse_host_name(host)?, port)
    };
    let port = port.map(parse_port).transpose()?;
    Ok((host, port))
}

/// Digits only, no leading zero, 1..=65535; an empty port is refused.
fn parse_port(text: &str) -> Result<u16, String> {
    let valid = !text.is_empty()
        && text.len() <= 5
        && text.bytes().all(|b| b.is_ascii_digit())
        && !text.starts_with('0');
    match text.parse::<u32>() {
        Ok(port) if valid && (1..=65535).contains(&port) => Ok(port as u16),
        _ => Err("the URL's port is not a number in 1..=65535".to_string()),
    }
}

/// A host outside brackets: a dotted-quad IPv4 address, or a DNS name of letters,
/// digits, `-` and `_`. A name whose last label starts with a digit is refused
/// unless it is a canonical dotted quad: that is where resolvers accept the
/// encoded IPv4 forms (`0x7f.1`, `2130706433`, `127.1`).
pub(crate) fn parse_host_name(text: &str) -> Result<Host, String> {
    if text.is_empty() {
        return Err("the URL has no host".to_string());
    }
    if text.len() > MAX_HOST_LEN {
        return Err(format!(
            "the URL's host is longer than {MAX_HOST_LEN} bytes"
        ));
    }
    let name = text.to_ascii_lowercase();
    if name.ends_with('.') {
        return Err(format!("host '{name}' ends with a dot"));
    }
    let last_label = name.rsplit('.').next().unwrap_or_default();
    if last_label.starts_with(|c: char| c.is_ascii_digit()) {
        return match name.parse::<Ipv4Addr>() {
            Ok(ip) => Ok(Host::Ip(IpAddr::V4(ip))),
            Err(_) => Err(format!(
                "host '{name}' is not a dotted-quad IPv4 address nor a DNS name"
            )),
        };
    }
    for label in name.split('.') {
        let valid = !label.is_empty()
            && label.len() <= MAX_LABEL_LEN
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid {
            return Err(format!("host '{name}' is not a valid DNS name"));
        }
    }
    Ok(Host::Name(name))
}
