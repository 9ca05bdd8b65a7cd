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
    /// `Authorization: Bearer <secret>`, marked sensitive.
    Bearer(HeaderValue),
    /// Missing or unreadable; the reason names the source, never a value.
    Missing(String),
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
    match HeaderValue::from_str(&format!("Bearer {value}")) {
        Ok(mut header) => {
            header.set_sensitive(true);
            Resolved::Bearer(header)
        }
        Err(_) => Resolved::Missing(format!(
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
            Resolved::Bearer(header) => {
                assert!(header.is_sensitive());
                assert_eq!(header, "Bearer sk-value");
                assert!(
                    !format!("{header:?}").contains("sk-value"),
                    "Debug must not show the secret"
                );
            }
            _ => panic!("expected a bearer header"),
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
