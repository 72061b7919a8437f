//! The URL tricks and address ranges the filter must refuse, as tables.

use std::net::IpAddr;

use super::{AddressFilter, Host, ParsedUrl, UriFilter};
use crate::{StoreError, StoreOptions};

fn filter_with(allowed_hosts: &[&str]) -> UriFilter {
    UriFilter {
        allowed_hosts: allowed_hosts.iter().map(|h| h.to_string()).collect(),
        allowed_ports: Vec::new(),
        ..UriFilter::default()
    }
}

#[test]
fn url_tricks_are_refused() {
    let filter = UriFilter::default();
    let refused = [
        // user information hiding the real host
        "http://allowed@127.0.0.1/",
        "http://example.com@127.0.0.1/",
        "http://a@b@example.com/",
        "http://@example.com/",
        "http://:pw@example.com/",
        // encoded and shortened IPv4 forms
        "http://2130706433/",
        "http://0x7f.1/",
        "http://0x7f000001/",
        "http://017700000001/",
        "http://0177.0.0.1/",
        "http://127.1/",
        "http://127.0.1/",
        "http://10.1/",
        "http://127.0.0.01/",
        "http://1.2.3.4.5/",
        "http://256.1.1.1/",
        "http://example.0x7f/",
        // loopback, link-local, private, ... literals
        "http://127.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://172.16.5.4/",
        "http://192.168.1.1/",
        "http://0.0.0.0/",
        "http://100.64.0.1/",
        "http://224.0.0.1/",
        "http://255.255.255.255/",
        "http://192.0.2.10/",
        "http://[::1]/",
        "http://[::]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://[::ffff:169.254.169.254]/",
        "http://[::127.0.0.1]/",
        "http://[64:ff9b::10.0.0.1]/",
        "http://[2002:7f00:1::]/",
        "http://[fe80::1]/",
        "http://[fd00::1]/",
        "http://[fc00::1]/",
        "http://[ff02::1]/",
        "http://[2001:db8::1]/",
        // zone ids and other bracket forms
        "http://[fe80::1%25eth0]/",
        "http://[fe80::1%eth0]/",
        "http://[v1.fe80::1]/",
        "http://[2606:4700::1111/",
        "http://[2606:4700::1111]x/",
        // trailing dots, empty labels, odd characters in the host
        "http://example.com./",
        "http://example..com/",
        "http://.example.com/",
        "http://exa%6dple.com/",
        "http://-example.com/",
        "http://exam ple.com/",
        // backslashes and separators parsers disagree on
        "http://example.com\\@127.0.0.1/",
        "http:\\\\127.0.0.1\\",
        "http:/example.com/",
        "http:example.com/",
        "http:///example.com/",
        // missing host, bad ports
        "http:///",
        "http://",
        "http://:80/",
        "http://example.com:/",
        "http://example.com:0/",
        "http://example.com:65536/",
        "http://example.com:99999999999/",
        "http://example.com:+80/",
        "http://example.com:080/",
        "http://example.com:8a/",
        "http://example.com:80:80/",
        // schemes we cannot or may not fetch
        "ftp://example.com/",
        "file:///etc/passwd",
        "gopher://example.com/",
        "//example.com/",
        "example.com/",
        "",
        // characters that must be escaped, non-ASCII, control characters
        "http://example.com/a b",
        "http://example.com/\u{e9}",
        "http://ex\u{e4}mple.com/",
        "http://example.com/\n",
        "http://example.com/%zz",
        "http://example.com/<x>",
    ];
    for url in refused {
        assert!(filter.check_url(url).is_err(), "{url:?} was accepted");
    }
}

#[test]
fn ordinary_urls_are_accepted_and_normalised() {
    let filter = UriFilter::default();
    let cases = [
        (
            "http://example.com/image.qcow2",
            "http://example.com/image.qcow2",
        ),
        (
            "HTTPS://Example.COM/a?b=c#frag",
            "https://example.com/a?b=c",
        ),
        ("http://example.com", "http://example.com/"),
        ("http://example.com?x=1", "http://example.com/?x=1"),
        ("http://example.com:80/x", "http://example.com:80/x"),
        ("https://8.8.8.8:443/x", "https://8.8.8.8:443/x"),
        ("http://[2606:4700::1111]/x", "http://[2606:4700::1111]/x"),
        (
            "http://host_1.example.com/%41",
            "http://host_1.example.com/%41",
        ),
        ("http://u:p%40ss@example.com/x", "http://example.com/x"),
    ];
    for (url, expected) in cases {
        let parsed = filter
            .check_url(url)
            .unwrap_or_else(|e| panic!("{url:?} refused: {e}"));
        assert_eq!(parsed.request_uri(), expected);
    }
    let parsed = ParsedUrl::parse("http://u:p%40ss@example.com/x").unwrap();
    let credentials = parsed.credentials().unwrap();
    assert_eq!(
        (credentials.user.as_str(), credentials.password.as_str()),
        ("u", "p@ss")
    );
}

#[test]
fn reasons_never_show_credentials() {
    let filter = UriFilter::default();
    for url in [
        "http://user:s3cret@127.0.0.1/",
        "http://user:s3cret@example.com:8080/",
        "http://user:s3cret@example.com./",
        "http://user:s3cret@@example.com/",
        "http://user:s3cret@0x7f.1/",
        "http://user:s3cret@example.com/a b",
    ] {
        let reason = filter.check_url(url).unwrap_err();
        assert!(
            !reason.contains("s3cret") && !reason.contains("user"),
            "{reason}"
        );
    }
    let parsed = ParsedUrl::parse("http://user:s3cret@example.com/x?sig=abc").unwrap();
    assert_eq!(parsed.to_string(), "http://example.com/x");
    assert!(!format!("{parsed:?}").contains("s3cret"));
}

#[test]
fn upstream_list_rules() {
    // Allowed lists win over denied ones; an empty allowed list lets the denied list work.
    let both = UriFilter {
        allowed_schemes: vec!["https".into()],
        disallowed_schemes: vec!["https".into()],
        ..UriFilter::default()
    };
    assert!(both.check_url("https://example.com/").is_ok());
    assert!(both.check_url("http://example.com/").is_err());

    let deny_http = UriFilter {
        allowed_schemes: Vec::new(),
        disallowed_schemes: vec!["http".into()],
        ..UriFilter::default()
    };
    assert!(deny_http.check_url("HTTP://example.com/").is_err());
    assert!(deny_http.check_url("https://example.com/").is_ok());

    let deny_host = UriFilter {
        disallowed_hosts: vec!["evil.example".into(), "8.8.4.4".into()],
        ..UriFilter::default()
    };
    assert!(deny_host.check_url("http://EVIL.example/").is_err());
    assert!(deny_host.check_url("http://evil.example./").is_err());
    assert!(deny_host.check_url("http://[::ffff:8.8.4.4]/").is_err());
    assert!(deny_host.check_url("http://good.example/").is_ok());
    assert!(deny_host.check(&"8.8.4.4".parse().unwrap()).is_err());

    let allow_host = UriFilter {
        allowed_hosts: vec!["good.example".into()],
        disallowed_hosts: vec!["good.example".into()],
        ..UriFilter::default()
    };
    assert!(allow_host.check_url("http://good.example/").is_ok());
    assert!(allow_host.check_url("http://other.example/").is_err());

    // Ports: the default allows 80 and 443 only, the implicit port included.
    let default = UriFilter::default();
    assert!(default.check_url("http://example.com:8080/").is_err());
    assert!(default.check_url("https://example.com/").is_ok());
    let deny_80 = UriFilter {
        allowed_ports: Vec::new(),
        disallowed_ports: vec![80],
        ..UriFilter::default()
    };
    assert!(deny_80.check_url("http://example.com/").is_err());
    assert!(deny_80.check_url("http://example.com:8080/").is_ok());
}

#[test]
fn listed_hosts_may_be_special() {
    let filter = filter_with(&["127.0.0.1", "[::1]", "LocalHost"]);
    assert!(filter.check_url("http://127.0.0.1:8080/").is_ok());
    assert!(filter.check_url("http://[::ffff:127.0.0.1]:8080/").is_ok());
    assert!(filter.check_url("http://[::1]/").is_ok());
    assert!(filter.check_url("http://127.0.0.2/").is_err());
    let localhost = filter.check_url("http://localhost/").unwrap();
    assert!(filter.is_listed_name(&localhost));
    assert_eq!(localhost.host(), &Host::Name("localhost".into()));
    assert!(filter.check(&"127.0.0.1".parse().unwrap()).is_ok());
    assert!(filter.check(&"::ffff:127.0.0.1".parse().unwrap()).is_ok());
    assert!(filter.check(&"127.0.0.2".parse().unwrap()).is_err());
}

#[test]
fn resolved_addresses_are_judged() {
    let filter = UriFilter::default();
    let refused = [
        "127.0.0.1",
        "127.255.255.254",
        "10.20.30.40",
        "172.31.255.255",
        "192.168.0.1",
        "169.254.169.254",
        "100.100.100.200",
        "0.0.0.0",
        "224.0.0.251",
        "255.255.255.255",
        "198.18.0.1",
        "203.0.113.5",
        "::1",
        "::",
        "::ffff:10.0.0.1",
        "::10.0.0.1",
        "64:ff9b::a9fe:a9fe",
        "64:ff9b:1::1",
        "2002:a00:1::",
        "2001::1",
        "fe80::1",
        "fd12:3456::1",
        "ff02::fb",
        "4000::1",
    ];
    for address in refused {
        let ip: IpAddr = address.parse().unwrap();
        assert!(filter.check(&ip).is_err(), "{address} was accepted");
    }
    let accepted = [
        "8.8.8.8",
        "1.1.1.1",
        "172.32.0.1",
        "100.128.0.1",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "2002:808:808::",
        "2606:4700:4700::1111",
    ];
    for address in accepted {
        let ip: IpAddr = address.parse().unwrap();
        assert!(filter.check(&ip).is_ok(), "{address} was refused");
    }
}

#[test]
fn options_are_read_with_upstream_names_and_types() {
    let options = StoreOptions::default()
        .with("allowed_schemes", "[HTTPS]")
        .with("allowed_hosts", "127.0.0.1, [::1], Images.Example")
        .with("disallowed_hosts", "")
        .with("allowed_ports", "8080,9292");
    let filter = UriFilter::from_options(&options).unwrap();
    assert_eq!(filter.allowed_schemes, ["https"]);
    assert_eq!(filter.allowed_hosts, ["127.0.0.1", "::1", "images.example"]);
    assert!(filter.disallowed_hosts.is_empty());
    assert_eq!(filter.allowed_ports, [8080, 9292]);
    assert_eq!(
        UriFilter::from_options(&StoreOptions::default()).unwrap(),
        UriFilter::default()
    );
    for (option, value) in [
        ("allowed_ports", "0"),
        ("allowed_ports", "65536"),
        ("disallowed_ports", "http"),
        ("allowed_hosts", "bad host"),
        ("disallowed_hosts", "0x7f.1"),
    ] {
        let options =
            StoreOptions::new("import_filtering_opts", Default::default()).with(option, value);
        match UriFilter::from_options(&options) {
            Err(StoreError::Config { option: named, .. }) => assert_eq!(named, option),
            other => panic!("{option}={value}: {other:?}"),
        }
    }
}

#[test]
fn redirect_targets_resolve_and_keep_credentials_on_the_same_origin() {
    let base = ParsedUrl::parse("http://u:p@example.com:8080/a/b?q=1").unwrap();
    let same = base.redirect_target("/c").unwrap();
    assert_eq!(same.request_uri(), "http://example.com:8080/c");
    assert!(same.credentials().is_some());
    let other = base.redirect_target("//other.example/d").unwrap();
    assert_eq!(other.request_uri(), "http://other.example/d");
    assert!(other.credentials().is_none());
    let absolute = base.redirect_target("HTTP://example.com:8080/e").unwrap();
    assert!(absolute.credentials().is_some());
    assert!(base.redirect_target("relative/path").is_err());
    assert!(base.redirect_target("?q=2").is_err());
    assert!(base.redirect_target("/\\evil").is_err());
}

#[test]
fn an_empty_allow_list_is_no_allow_list() {
    let options = StoreOptions::new("import_filtering_opts", Default::default())
        .with("allowed_ports", "")
        .with("disallowed_ports", "8080")
        .with("allowed_hosts", "198.51.100.7");
    let filter = UriFilter::from_options(&options).unwrap();
    assert!(filter.allowed_ports.is_empty());
    assert_eq!(
        filter.allowed_schemes,
        ["http", "https"],
        "unset keeps the default"
    );
    assert!(filter.check_url("http://198.51.100.7:8000/x").is_ok());
    assert!(filter.check_url("http://198.51.100.7:8080/x").is_err());
    let unset = UriFilter::from_options(&StoreOptions::default()).unwrap();
    assert_eq!(unset.allowed_ports, [80, 443]);
}
