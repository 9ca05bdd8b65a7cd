//! Checks for the `base_url` of HTTP upstreams: it parses (GW0305), and the
//! warnings for valid URLs that are almost surely wrong: an endpoint path the
//! gateway appends itself (GW0601), a repeated version segment (GW0602), a
//! well-known provider host without its version segment (GW0603). Each
//! warning's help shows the whole corrected URL. Reports only.

use crate::diag::codes::{self, Code};
use crate::diag::{Diagnostic, Diagnostics, FileKind::Upstreams as F, ptr};
use crate::parse;
use crate::spec::{UpstreamKindSpec, UpstreamsFile};

/// Endpoint paths an operator may paste from API docs; the gateway appends its own.
const ENDPOINTS: &[&[&str]] = &[
    &["chat", "completions"],
    &["completions"],
    &["messages"],
    &["responses"],
    &["embeddings"],
    &["models"],
];

/// Provider hosts whose API lives under a version segment, and that segment.
const VERSIONED_HOSTS: &[(&str, &str)] = &[("api.openai.com", "v1"), ("api.anthropic.com", "v1")];

/// Every `base_url` check.
pub fn check(file: &UpstreamsFile, diags: &mut Diagnostics) {
    for (name, u) in &file.upstreams {
        let Some(url) = &u.base_url else { continue };
        let at = ptr(&["upstreams", name, "base_url"]);
        match url.value() {
            Err(why) => diags.push(
                Diagnostic::new(codes::BAD_URL, F, format!("invalid `base_url`: {why}"))
                    .at(at)
                    .label("not a valid base URL")
                    .help(bad_url_help(url.raw())),
            ),
            Ok(url) if u.kind != UpstreamKindSpec::Mock => warn(url, u.kind, at, diags),
            Ok(_) => {}
        }
    }
}

fn bad_url_help(raw: &str) -> String {
    if raw.starts_with('$') {
        return "`base_url` is used as written (no variables are expanded): write the URL, and add `base_url_env: NAME` to let a variable replace it at startup".to_owned();
    }
    if !raw.contains("://") && parse::base_url(&format!("http://{raw}")).is_ok() {
        let host = parse::url_host(raw);
        let local = host == "localhost" || host.starts_with("127.") || host == "::1";
        let (scheme, other) = if local {
            ("http", "https")
        } else {
            ("https", "http")
        };
        return format!(
            "add the scheme: `{scheme}://{raw}` (or `{other}://` if the server speaks that)"
        );
    }
    "write `http(s)://host[:port]/path`, e.g. `https://api.openai.com/v1`; credentials go in `api_key`".to_owned()
}

/// The URL as it should most likely read: no endpoint path, each version
/// segment once, the version segment a known host needs.
fn corrected(url: &str) -> (String, Option<String>, Option<String>, bool) {
    let mut segs = parse::url_segments(url);
    let endpoint = ENDPOINTS.iter().find(|e| segs.ends_with(e)).map(|e| {
        segs.truncate(segs.len() - e.len());
        format!("/{}", e.join("/"))
    });
    let mut repeated = None;
    let mut seen: Vec<&str> = Vec::new();
    segs.retain(|s| {
        let dup = is_version(s) && seen.contains(s);
        if dup {
            repeated = Some((*s).to_owned());
        }
        seen.push(s);
        !dup
    });
    let host = parse::url_host(url);
    let needs = VERSIONED_HOSTS
        .iter()
        .find(|(h, _)| *h == host)
        .map(|(_, v)| *v);
    let missing = needs.filter(|v| !segs.contains(v));
    if let Some(v) = missing {
        segs.insert(0, v);
    }
    let origin_end = url.find("://").map_or(0, |i| i + 3);
    let origin_end = url[origin_end..]
        .find('/')
        .map_or(url.len(), |i| origin_end + i);
    let mut fixed = url[..origin_end].to_owned();
    for s in &segs {
        fixed.push('/');
        fixed.push_str(s);
    }
    (fixed, endpoint, repeated, missing.is_some())
}

/// `v1`, `v2`, `v1beta`, `v1alpha1`.
fn is_version(segment: &str) -> bool {
    let rest = segment.strip_prefix('v').unwrap_or("");
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let suffix = &rest[digits..];
    digits > 0
        && (suffix.is_empty()
            || ["alpha", "beta"].iter().any(|w| {
                suffix
                    .strip_prefix(w)
                    .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
            }))
}

fn warn(url: &str, kind: UpstreamKindSpec, at: String, diags: &mut Diagnostics) {
    let (fixed, endpoint, repeated, missing) = corrected(url);
    let appended = match kind {
        UpstreamKindSpec::Anthropic => "/messages",
        _ => "/chat/completions",
    };
    let warning = |code: Code, message: String, label: String| {
        Diagnostic::new(code, F, message)
            .at(at.clone())
            .label(label)
            .help(format!("use `base_url: {fixed}`"))
    };
    if let Some(endpoint) = endpoint {
        diags.push(warning(
            codes::BASE_URL_ENDPOINT,
            format!("`base_url` ends in the endpoint path `{endpoint}`"),
            format!("the gateway appends `{appended}` itself"),
        ));
    }
    if let Some(version) = repeated {
        diags.push(warning(
            codes::BASE_URL_REPEATED_VERSION,
            format!("`base_url` repeats the version segment `{version}`"),
            format!("`/{version}` appears twice"),
        ));
    }
    if missing {
        diags.push(warning(
            codes::BASE_URL_MISSING_VERSION,
            format!(
                "`base_url` for `{}` has no version segment",
                parse::url_host(url)
            ),
            format!("requests would go to `{url}{appended}`"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::{corrected, is_version};

    #[test]
    fn corrections() {
        for (url, fixed) in [
            (
                "https://api.openai.com/v1/chat/completions",
                "https://api.openai.com/v1",
            ),
            ("https://api.openai.com/v1/v1", "https://api.openai.com/v1"),
            ("https://api.openai.com", "https://api.openai.com/v1"),
            (
                "https://api.anthropic.com/v1/messages",
                "https://api.anthropic.com/v1",
            ),
            ("http://127.0.0.1:11434/v1", "http://127.0.0.1:11434/v1"),
            (
                "http://[::1]:8000/openai/v1/v1/models",
                "http://[::1]:8000/openai/v1",
            ),
            ("https://h", "https://h"),
        ] {
            assert_eq!(corrected(url).0, fixed, "{url}");
        }
        assert!(is_version("v1") && is_version("v1beta") && is_version("v2alpha1"));
        assert!(!is_version("v") && !is_version("video") && !is_version("1"));
    }
}
