//! Which remote URLs the service may be made to fetch: upstream's
//! `[import_filtering_opts]` rules (schemes, hosts, ports), applied to every URL an
//! untrusted caller can make us open (http store locations, web-download).

/// `[import_filtering_opts]`, parsed. The defaults are upstream's.
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
