//! Browser origins: whether a request's `Origin` matches a project's trusted domain (client-side
//! keys, `auth`), and which trusted-domain entries are valid (project settings). Pure string
//! rules.

/// An origin (`scheme://host[:port]`), lower-cased, with its port made explicit.
#[derive(Debug, PartialEq, Eq)]
struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "https" => Some(443),
        "http" => Some(80),
        _ => None,
    }
}

/// Parses `scheme://host[:port][/…]`; without a scheme, `https` is meant.
fn parse_origin(s: &str, scheme_required: bool) -> Option<Origin> {
    let s = s.trim();
    let (scheme, rest) = match s.split_once("://") {
        Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
        None if scheme_required => return None,
        None => ("https".to_owned(), s),
    };
    let authority = rest.split('/').next().unwrap_or_default();
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || authority.starts_with('[') => {
            (host, Some(port.parse::<u16>().ok()?))
        }
        _ => (authority, None),
    };
    if host.is_empty() {
        return None;
    }
    let port = port.or_else(|| default_port(&scheme))?;
    Some(Origin { scheme, host: host.to_ascii_lowercase(), port })
}

/// Does the browser's `Origin` match a trusted domain? `shop.example.com` means
/// `https://shop.example.com` on port 443; `http://localhost:3000` that scheme, host and port;
/// `*.example.com` any subdomain (not `example.com` itself) under the same scheme and port
/// rules; `*` anything. Hosts compare case-insensitively.
pub fn origin_matches(origin: &str, trusted: &str) -> bool {
    if trusted.trim() == "*" {
        return true;
    }
    let (Some(o), Some(t)) = (parse_origin(origin, true), parse_origin(trusted, false)) else {
        return false;
    };
    if o.scheme != t.scheme || o.port != t.port {
        return false;
    }
    match t.host.strip_prefix("*.") {
        Some(suffix) => o.host.len() > suffix.len() + 1 && o.host.ends_with(&format!(".{suffix}")),
        None => o.host == t.host,
    }
}

/// Can an entry of `client_trusted_domains` match anything, and only what it says? `*`, a host
/// (`shop.example.com`), an `http`/`https` origin with an optional port, or `*.` followed by a
/// domain of at least two labels (`*.com` would trust a whole top-level domain).
pub fn trusted_domain_valid(entry: &str) -> bool {
    let entry = entry.trim();
    if entry == "*" {
        return true;
    }
    if entry.is_empty() || entry.len() > 253 {
        return false;
    }
    let Some(origin) = parse_origin(entry, false) else { return false };
    if default_port(&origin.scheme).is_none() {
        return false;
    }
    let host = origin.host.strip_prefix("*.").unwrap_or(&origin.host);
    let wildcard = host.len() != origin.host.len();
    let labels_ok = host.split('.').all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    labels_ok && (!wildcard || host.split('.').count() >= 2)
}

#[cfg(test)]
mod tests {
    use super::origin_matches;

    #[test]
    fn origins_match_scheme_host_and_port() {
        assert!(origin_matches("https://shop.example.com", "shop.example.com"));
        assert!(origin_matches("https://SHOP.Example.com", "shop.example.com"));
        assert!(origin_matches("https://shop.example.com:443", "https://shop.example.com"));
        assert!(!origin_matches("http://shop.example.com", "shop.example.com"));
        assert!(!origin_matches("https://shop.example.com:8443", "https://shop.example.com"));
        assert!(origin_matches("http://localhost:3000", "http://localhost:3000"));
        assert!(!origin_matches("http://localhost:3001", "http://localhost:3000"));
        assert!(origin_matches("https://a.example.com", "*.example.com"));
        assert!(origin_matches("https://a.b.example.com", "*.EXAMPLE.com"));
        assert!(!origin_matches("http://a.example.com", "*.example.com"));
        assert!(!origin_matches("https://a.example.com:8443", "*.example.com"));
        assert!(!origin_matches("https://example.com", "*.example.com"));
        assert!(!origin_matches("https://example.com.evil.io", "example.com"));
        assert!(!origin_matches("https://evilexample.com", "*.example.com"));
        assert!(!origin_matches("", "example.com"));
        assert!(!origin_matches("shop.example.com", "shop.example.com"));
        assert!(origin_matches("https://anything.io", "*"));
    }

    #[test]
    fn trusted_domains_must_be_origins_or_wildcards_of_a_real_domain() {
        use super::trusted_domain_valid as ok;
        for good in [
            "*",
            "shop.example.com",
            "https://shop.example.com",
            "http://localhost:3000",
            "*.example.com",
            "http://127.0.0.1:8080",
        ] {
            assert!(ok(good), "{good}");
        }
        for bad in [
            "",
            "*.com",
            "javascript:alert(1)",
            "http://",
            "https://shop.example.com:99999",
            "ftp://x.io",
            "a b.io",
            "*.*.io",
        ] {
            assert!(!ok(bad), "{bad}");
        }
    }
}
