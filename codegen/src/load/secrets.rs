//! Credential detection: reject values that look like secrets, without echoing them.
//!
//! Config names where secrets live (an environment variable or a file); it
//! never holds them. This module only recognises common credential shapes;
//! it does not validate secret references (see `check/upstreams.rs`).

use serde_json::Value;

use crate::diag::codes;
use crate::diag::escape;
use crate::diag::{Diagnostic, Diagnostics, FileKind};

/// Prefixes of well-known credential formats.
const PREFIXES: &[&str] = &[
    "sk-",
    "AIza",
    "ghp_",
    "gho_",
    "github_pat_",
    "xoxb-",
    "xoxp-",
    "Bearer ",
    "bearer ",
];

/// Whether a string looks like a credential (API key, bearer token, URL with a password).
pub fn looks_like_secret(s: &str) -> bool {
    let s = s.trim();
    PREFIXES.iter().any(|p| s.starts_with(p)) || url_has_password(s)
}

fn url_has_password(s: &str) -> bool {
    let Some((_, rest)) = s.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    authority
        .rsplit_once('@')
        .is_some_and(|(userinfo, _)| userinfo.contains(':'))
}

/// Walk `value` and report every secret-looking string, except at `skip` pointers.
pub fn scan(file: FileKind, value: &Value, ptr: &str, skip: &[String], diags: &mut Diagnostics) {
    match value {
        Value::String(s) if looks_like_secret(s) && !skip.iter().any(|p| p == ptr) => diags.push(
            Diagnostic::new(codes::SECRET_LOOKING_VALUE, file, "value looks like a secret")
                .at(ptr)
                .label("credential-like value (not shown)")
                .help("keep secrets out of config: put it in an environment variable or file and reference that, e.g. `api_key: { env: OPENAI_API_KEY }`")
                .redacted(),
        ),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                scan(file, item, &format!("{ptr}/{i}"), skip, diags);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                scan(file, v, &format!("{ptr}/{}", escape(k)), skip, diags);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::looks_like_secret;

    #[test]
    fn secret_shapes() {
        for (s, expect) in [
            ("sk-abc", true),
            ("sk-ant-abc", true),
            ("sk-proj-abc", true),
            ("AIzaSyB", true),
            ("ghp_x", true),
            ("xoxb-1", true),
            ("Bearer abc", true),
            ("https://u:p@host/v1", true),
            ("https://u@host/v1", false),
            ("https://api.openai.com/v1", false),
            ("gpt-4o", false),
            ("skeleton", false),
        ] {
            assert_eq!(looks_like_secret(s), expect, "{s}");
        }
    }
}
