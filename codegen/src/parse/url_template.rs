//! The URL template of a `kind: http` tool
//! (`https://api.example.com/v1/items/{id}?fixed=1`): a fixed origin
//! (scheme and authority, never touched by an argument), a path whose
//! `{name}` placeholders are filled from arguments at run time, and an
//! optional fixed query. Also what counts as a private host.
//!
//! Shared by `check/http_tools.rs` (reports) and `lower/tools.rs`.

/// A parsed URL template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    /// `scheme://authority`, as written (no trailing slash).
    pub origin: String,
    /// The host, lower-cased, IPv6 without brackets.
    pub host: String,
    /// The path in pieces; empty for `https://host`.
    pub path: Vec<Piece>,
    /// The fixed query after `?` (without it), possibly empty.
    pub query: String,
}

/// A literal run of the path or a placeholder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    Literal(String),
    Arg(String),
}

impl Template {
    /// The placeholder names, in order.
    pub fn placeholders(&self) -> impl Iterator<Item = &str> {
        self.path.iter().filter_map(|p| match p {
            Piece::Arg(name) => Some(name.as_str()),
            Piece::Literal(_) => None,
        })
    }
}

/// Parses a template; the error says what is wrong.
pub fn parse(s: &str) -> Result<Template, String> {
    if s.contains('#') {
        return Err("has a fragment (`#`)".to_owned());
    }
    let (scheme, rest) = s
        .split_once("://")
        .ok_or("missing `http://` or `https://` scheme")?;
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    if authority.contains(['{', '}']) {
        return Err(
            "has a placeholder in the host: placeholders may only fill the path".to_owned(),
        );
    }
    let origin = format!("{scheme}://{authority}");
    super::base_url(&origin)?;
    let (path, query) = tail.split_once('?').unwrap_or((tail, ""));
    if query.contains(['{', '}']) {
        return Err("has a placeholder in the query: placeholders may only fill the path (other arguments go to the query string of a GET or DELETE)".to_owned());
    }
    if path
        .chars()
        .chain(query.chars())
        .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err("contains whitespace".to_owned());
    }
    Ok(Template {
        host: super::url_host(&origin).to_ascii_lowercase(),
        origin,
        path: pieces(path)?,
        query: query.to_owned(),
    })
}

/// Splits a path into literals and `{name}` placeholders.
fn pieces(path: &str) -> Result<Vec<Piece>, String> {
    let mut out = Vec::new();
    let mut rest = path;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err("has a `}` without its `{`".to_owned());
        }
        let close = rest[open..].find('}').ok_or("has a `{` without its `}`")? + open;
        let name = &rest[open + 1..close];
        let ok = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !ok {
            return Err(format!(
                "placeholder `{{{name}}}` is not a name (`[A-Za-z_][A-Za-z0-9_]*`)"
            ));
        }
        if open > 0 {
            out.push(Piece::Literal(rest[..open].to_owned()));
        }
        out.push(Piece::Arg(name.to_owned()));
        rest = &rest[close + 1..];
    }
    if !rest.is_empty() {
        out.push(Piece::Literal(rest.to_owned()));
    }
    Ok(out)
}

/// `localhost` (and `*.localhost`), or a loopback, private, link-local,
/// unique-local, shared (100.64/10) or unspecified address.
pub fn is_private_host(host: &str) -> bool {
    use std::net::IpAddr;
    let host = host.to_ascii_lowercase();
    if host == "localhost" || host.ends_with(".localhost") {
        return true;
    }
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => {
            let [a, b, ..] = ip.octets();
            ip.is_loopback()
                || ip.is_private()
                || ip.is_link_local()
                || ip.is_unspecified()
                || (a == 100 && (64..128).contains(&b))
        }
        Ok(IpAddr::V6(ip)) => {
            let first = ip.segments()[0];
            ip.is_loopback()
                || ip.is_unspecified()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || ip
                    .to_ipv4_mapped()
                    .is_some_and(|v4| is_private_host(&v4.to_string()))
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::{Piece, is_private_host, parse};

    #[test]
    fn templates_split_into_origin_path_and_query() {
        let t = parse("https://api.example.com/v1/items/{id}.json?fmt=1").unwrap();
        assert_eq!(t.origin, "https://api.example.com");
        assert_eq!(t.host, "api.example.com");
        assert_eq!(
            t.path,
            [
                Piece::Literal("/v1/items/".into()),
                Piece::Arg("id".into()),
                Piece::Literal(".json".into())
            ]
        );
        assert_eq!(t.query, "fmt=1");
        assert_eq!(parse("http://[::1]:8080").unwrap().host, "::1");
    }

    #[test]
    fn bad_templates_say_why() {
        for (s, why) in [
            ("ftp://x/y", "scheme"),
            ("https://{host}/y", "host"),
            ("https://user@x/y", "userinfo"),
            ("https://x/y?q={q}", "query"),
            ("https://x/{a", "without its `}`"),
            ("https://x/a}", "without its `{`"),
            ("https://x/{1a}", "not a name"),
            ("https://x/y#f", "fragment"),
            ("x/y", "scheme"),
        ] {
            let err = parse(s).unwrap_err();
            assert!(err.contains(why), "{s}: {err}");
        }
    }

    #[test]
    fn private_hosts() {
        for host in [
            "localhost",
            "a.localhost",
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "169.254.169.254",
            "::1",
            "fd00::1",
            "fe80::1",
            "0.0.0.0",
            "100.64.0.1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_private_host(host), "{host}");
        }
        for host in ["api.example.com", "8.8.8.8", "2001:4860::8888"] {
            assert!(!is_private_host(host), "{host}");
        }
    }
}
