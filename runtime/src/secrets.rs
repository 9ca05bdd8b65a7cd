//! Resolving the secrets a config names (environment variables, files) at
//! startup, collecting every missing one instead of stopping at the first.
//!
//! Values are read once into sensitive header values; they are never logged
//! or printed: reports name the variable or file, never the content.

use http::HeaderValue;

use crate::table::{Config, SecretRef, Upstream};

/// What an upstream's secret resolved to.
pub enum Resolved {
    /// No secret configured.
    None,
    /// The key, as header values marked sensitive.
    Key(Credential),
    /// Missing or unreadable; the reason names the source, never a value.
    Missing(String),
}

/// An upstream key as the wire formats send it, both marked sensitive (so
/// their `Debug` never shows the value).
pub struct Credential {
    /// `Bearer <key>`, for `Authorization` (OpenAI-compatible upstreams).
    pub bearer: HeaderValue,
    /// `<key>`, for `x-api-key` (Anthropic).
    pub raw: HeaderValue,
}

/// Reads a secret from its source through `lookup_env` (the process environment in production).
pub fn resolve(secret: Option<SecretRef>, lookup_env: &dyn Fn(&str) -> Option<String>) -> Resolved {
    let (value, source) = match secret {
        None => return Resolved::None,
        Some(SecretRef::Env(name)) => (lookup_env(name), format!("environment variable `{name}`")),
        Some(SecretRef::File(path)) => {
            (std::fs::read_to_string(path).ok(), format!("file `{path}`"))
        }
    };
    let value = value
        .map(|v| v.trim_end_matches(['\n', '\r']).to_string())
        .filter(|v| !v.is_empty());
    let Some(value) = value else {
        return Resolved::Missing(format!("{source} is not set or empty"));
    };
    match (
        HeaderValue::from_str(&format!("Bearer {value}")),
        HeaderValue::from_str(&value),
    ) {
        (Ok(mut bearer), Ok(mut raw)) => {
            bearer.set_sensitive(true);
            raw.set_sensitive(true);
            Resolved::Key(Credential { bearer, raw })
        }
        _ => Resolved::Missing(format!(
            "{source} holds characters not allowed in an HTTP header"
        )),
    }
}

/// The startup report: required upstreams whose secrets are missing (fatal)
/// and optional ones that will be disabled.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub fatal: Vec<String>,
    pub disabled: Vec<(&'static str, String)>,
}

/// Checks every upstream's secret; `resolved[i]` pairs with `config.upstreams[i]`.
pub fn report(config: &'static Config, resolved: &[Resolved]) -> Report {
    let mut report = Report::default();
    for (upstream, outcome) in config.upstreams.iter().zip(resolved) {
        if let Resolved::Missing(reason) = outcome {
            if upstream.optional {
                report.disabled.push((upstream.name, reason.clone()));
            } else {
                report
                    .fatal
                    .push(format!("upstream `{}`: {reason}", upstream.name));
            }
        }
    }
    report
}

/// Resolves every upstream's secret from the process environment.
pub fn resolve_all(upstreams: &[Upstream]) -> Vec<Resolved> {
    let lookup = |name: &str| std::env::var(name).ok();
    upstreams
        .iter()
        .map(|u| resolve(u.api_key, &lookup))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::CONFIG;

    #[test]
    fn env_secret_becomes_sensitive_bearer() {
        let lookup = |name: &str| (name == "K").then(|| "sk-value\n".to_string());
        match resolve(Some(SecretRef::Env("K")), &lookup) {
            Resolved::Key(Credential { bearer, raw }) => {
                assert!(bearer.is_sensitive() && raw.is_sensitive());
                assert_eq!(bearer, "Bearer sk-value");
                assert_eq!(raw, "sk-value");
                for header in [bearer, raw] {
                    assert!(
                        !format!("{header:?}").contains("sk-value"),
                        "Debug must not show the secret"
                    );
                }
            }
            _ => panic!("expected a key"),
        }
    }

    #[test]
    fn missing_and_empty_are_reported_by_name_only() {
        let lookup = |_: &str| Some(String::new());
        let Resolved::Missing(reason) = resolve(Some(SecretRef::Env("EMPTY")), &lookup) else {
            panic!()
        };
        assert_eq!(reason, "environment variable `EMPTY` is not set or empty");
        let Resolved::Missing(reason) = resolve(Some(SecretRef::File("/nonexistent/key")), &lookup)
        else {
            panic!()
        };
        assert!(reason.contains("/nonexistent/key"));
    }

    #[test]
    fn optional_upstreams_are_disabled_required_are_fatal() {
        let resolved = [Resolved::Missing("m".into()), Resolved::None];
        let report = report(&CONFIG, &resolved);
        assert_eq!(report.disabled, vec![("one", "m".to_string())]);
        assert!(report.fatal.is_empty());
    }
}
