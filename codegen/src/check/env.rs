//! Checks for what upstreams.yaml reads from the environment at startup:
//! variable names (`api_key.env`, `base_url_env`) and secret references
//! (`api_key.env` / `api_key.file`).
//!
//! Help lines name the fix for the usual slips: a `$VAR` where a name is
//! expected, a URL or a file path where a variable name is expected. A
//! suggested name is always itself a valid name. Reports only.

use crate::diag::codes;
use crate::diag::{Diagnostic, Diagnostics, FileKind::Upstreams as F, ptr};
use crate::parse;
use crate::spec::UpstreamsFile;

/// Every environment and secret-reference check.
pub fn check(file: &UpstreamsFile, diags: &mut Diagnostics) {
    check_env_names(file, diags);
    check_secret_refs(file, diags);
}

/// Environment variable names match `[A-Z_][A-Z0-9_]*`.
fn check_env_names(file: &UpstreamsFile, diags: &mut Diagnostics) {
    for (name, u) in &file.upstreams {
        let vars = [
            (["api_key", "env"].as_slice(), "API_KEY", &u.api_key.env),
            (["base_url_env"].as_slice(), "BASE_URL", &u.base_url_env),
        ];
        for (path, suffix, var) in vars {
            let Some(var) = var.as_deref().filter(|v| !parse::is_env_name(v)) else {
                continue;
            };
            let mut segs = vec!["upstreams", name.as_str()];
            segs.extend(path);
            diags.push(
                Diagnostic::new(
                    codes::BAD_ENV_NAME,
                    F,
                    format!("invalid environment variable name `{var}`"),
                )
                .at(ptr(&segs))
                .label("must match `[A-Z_][A-Z0-9_]*`")
                .help(env_help(path.join("."), &fallback_name(name, suffix), var)),
            );
        }
    }
}

/// The fix for a bad variable name at `key` (`api_key.env` or `base_url_env`).
fn env_help(key: String, fallback: &str, var: &str) -> String {
    if let Some(inner) = strip_sigil(var) {
        let fixed = env_name_from(inner).unwrap_or_else(|| fallback.to_owned());
        return format!(
            "write the variable's name without `$`: `{fixed}` (the gateway reads the variable itself at startup)"
        );
    }
    if var.contains("://") {
        return if key == "base_url_env" {
            format!(
                "`base_url_env` names the variable that holds a URL, not the URL: put the URL in `base_url:` and name a variable such as `{fallback}`"
            )
        } else {
            format!("`{key}` names the variable that holds the key, not a URL: e.g. `{fallback}`")
        };
    }
    if var.starts_with('/') && key == "api_key.env" {
        return "this is a file path: use `api_key: { file: <the path> }` for a secret kept in a file".to_owned();
    }
    let fixed = env_name_from(var).unwrap_or_else(|| fallback.to_owned());
    format!("use an upper-case name such as `{fixed}`")
}

/// `NAME` from `$NAME`, `${NAME}` or `%NAME%`.
fn strip_sigil(var: &str) -> Option<&str> {
    let inner = var
        .strip_prefix("${")
        .and_then(|v| v.strip_suffix('}'))
        .or_else(|| var.strip_prefix('$'))
        .or_else(|| var.strip_prefix('%').and_then(|v| v.strip_suffix('%')))?;
    Some(inner).filter(|i| !i.is_empty())
}

/// `openai-key` -> `OPENAI_KEY`; `None` unless the result is a valid name with a letter.
fn env_name_from(s: &str) -> Option<String> {
    let mut out = String::new();
    for c in s.chars() {
        let c = if c.is_ascii_alphanumeric() {
            c.to_ascii_uppercase()
        } else {
            '_'
        };
        if !(c == '_' && out.ends_with('_')) {
            out.push(c);
        }
    }
    let mut out = out.trim_matches('_').to_owned();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    Some(out).filter(|o| parse::is_env_name(o) && o.chars().any(|c| c.is_ascii_alphabetic()))
}

/// `<UPSTREAM>_<SUFFIX>`, e.g. `OPENAI_API_KEY`; always a valid name.
fn fallback_name(upstream: &str, suffix: &str) -> String {
    match env_name_from(upstream) {
        Some(prefix) => format!("{prefix}_{suffix}"),
        None => format!("UPSTREAM_{suffix}"),
    }
}

/// `api_key` does not set both `env` and `file` (the schema's `maxProperties` also
/// catches this; `minProperties` catches neither); secret files are absolute.
fn check_secret_refs(file: &UpstreamsFile, diags: &mut Diagnostics) {
    for (name, u) in &file.upstreams {
        let at = ptr(&["upstreams", name, "api_key"]);
        match (&u.api_key.env, &u.api_key.file) {
            (Some(_), Some(_)) => diags.push(
                Diagnostic::new(
                    codes::SECRET_REF_SHAPE,
                    F,
                    "`api_key` sets both `env` and `file`",
                )
                .at_key(at)
                .label("ambiguous secret source")
                .help("keep exactly one of `env:` or `file:`"),
            ),
            (None, Some(path)) if !path.starts_with('/') => {
                let help = if strip_sigil(path.split('/').next().unwrap_or("")).is_some() {
                    "variables are not expanded here: write the absolute path, e.g. `/run/secrets/openai`, or use `api_key: { env: NAME }`"
                } else {
                    "use an absolute path such as `/run/secrets/openai` (the working directory is not fixed at run time)"
                };
                diags.push(
                    Diagnostic::new(
                        codes::RELATIVE_SECRET_FILE,
                        F,
                        format!("secret file path `{path}` is not absolute"),
                    )
                    .at(ptr(&["upstreams", name, "api_key", "file"]))
                    .label("relative path")
                    .help(help),
                );
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{env_help, env_name_from, fallback_name};
    use crate::parse::is_env_name;

    #[test]
    fn suggested_names_are_always_valid() {
        for var in [
            "openai-key",
            "$OPENAI_API_KEY",
            "${openai.key}",
            "%KEY%",
            "https://api.openai.com/v1",
            "/run/secrets/x",
            "1st",
            "__",
            "$",
            "é",
            "",
            "-",
            "a b",
            "$$",
        ] {
            for key in ["api_key.env", "base_url_env"] {
                let help = env_help(key.to_owned(), &fallback_name("open ai", "API_KEY"), var);
                let suggested = help.split('`').skip(1).step_by(2).filter(|t| {
                    !t.is_empty()
                        && t.chars()
                            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
                });
                let mut any = false;
                for name in suggested {
                    any = true;
                    assert!(is_env_name(name), "{var:?} -> {help}");
                }
                assert!(
                    any || help.contains("file:"),
                    "{var:?} -> {help} suggests no name"
                );
            }
        }
        assert_eq!(env_name_from("openai-key").as_deref(), Some("OPENAI_KEY"));
        assert_eq!(env_name_from("1st").as_deref(), Some("_1ST"));
        assert_eq!(env_name_from("__"), None);
        assert_eq!(fallback_name("é", "BASE_URL"), "UPSTREAM_BASE_URL");
    }
}
