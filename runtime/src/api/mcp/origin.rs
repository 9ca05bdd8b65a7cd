//! The `Origin` check of `/mcp` (the DNS-rebinding guard the MCP transport
//! spec asks for). Names only `error` (to cap what it echoes).
//!
//! Rule: a request without `Origin` (every non-browser client: SDKs, IDEs,
//! curl) passes; a browser's `Origin` passes only when its host is loopback
//! (`localhost`, `*.localhost`, `127.0.0.0/8`, `[::1]`), whatever the scheme
//! and port, so a page on some other site cannot drive a local gateway
//! through a rebound DNS name. Anything else (including `null`) is refused
//! with 403. A configurable allowlist for browser-based MCP clients would be
//! compiled config, later.

use http::HeaderMap;

/// `Ok` when the request may proceed, else the offending origin (capped).
pub fn check(headers: &HeaderMap) -> Result<(), String> {
    let Some(origin) = headers.get(http::header::ORIGIN) else {
        return Ok(());
    };
    let text = String::from_utf8_lossy(origin.as_bytes());
    if is_loopback_origin(&text) {
        Ok(())
    } else {
        Err(crate::error::capped(&text).to_owned())
    }
}

fn is_loopback_origin(origin: &str) -> bool {
    let Some((_scheme, authority)) = origin.split_once("://") else {
        return false;
    };
    let host = match authority.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((literal, _port)) => return literal == "::1",
            None => return false,
        },
        None => authority.split(':').next().unwrap_or_default(),
    };
    let host = host.to_ascii_lowercase();
    host == "localhost"
        || host.ends_with(".localhost")
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_origins_pass_and_others_do_not() {
        for ok in [
            "http://localhost:3000",
            "https://LOCALHOST",
            "http://app.localhost:8080",
            "http://127.0.0.1:6274",
            "http://127.1.2.3",
            "http://[::1]:5173",
        ] {
            assert!(is_loopback_origin(ok), "{ok}");
        }
        for bad in [
            "null",
            "http://example.com",
            "http://localhost.example.com",
            "http://10.0.0.1",
            "http://[::2]",
            "localhost",
        ] {
            assert!(!is_loopback_origin(bad), "{bad}");
        }
    }

    #[test]
    fn absent_origin_passes() {
        assert!(check(&HeaderMap::new()).is_ok());
    }
}
