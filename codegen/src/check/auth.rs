//! Checks for the `auth` section of security.yaml: key digests are well-formed,
//! distinct and not of the empty key; key names are well-formed and distinct;
//! key file paths are absolute, in normal form and listed once.
//!
//! Reports only; conversion happens in `lower/`.

use std::collections::BTreeMap;

use crate::diag::codes;
use crate::diag::{Diagnostic, Diagnostics, FileKind::Security as F};
use crate::parse;
use crate::spec::{AuthSpec, DigestSpec};

/// SHA-256 of the empty string.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Every `auth` check.
pub fn check(auth: &AuthSpec, diags: &mut Diagnostics) {
    check_digests(auth, diags);
    check_key_names(auth, diags);
    check_key_files(auth, diags);
    check_key_metadata(auth, diags);
}

/// Metadata names are `[a-z0-9_.-]+`; values hold no `,`, `=` or control
/// characters (the pairs are logged joined as `name=value,...`).
fn check_key_metadata(auth: &AuthSpec, diags: &mut Diagnostics) {
    let name_ok = |n: &str| {
        !n.is_empty()
            && n.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b))
    };
    let value_ok = |v: &str| !v.chars().any(|c| c == ',' || c == '=' || c.is_control());
    for (i, key) in auth.api_keys.iter().enumerate() {
        for (name, value) in &key.metadata {
            let at = format!("/auth/api_keys/{i}/metadata/{}", crate::diag::escape(name));
            let message = format!(
                "API key `{}` has an unusable metadata label `{name}`",
                key.name
            );
            let diagnostic = Diagnostic::new(codes::BAD_KEY_METADATA, F, message);
            if !name_ok(name) {
                diags.push(
                    diagnostic
                        .at_key(at)
                        .label("the label name cannot be logged as `name=value`")
                        .help(
                            "use lowercase letters, digits, `_`, `-` and `.`, e.g. `cost_center`",
                        ),
                );
            } else if !value_ok(value) {
                diags.push(
                    diagnostic
                        .at(at)
                        .label("the label value cannot be logged as `name=value`")
                        .help("drop `,`, `=` and control characters from the value"),
                );
            }
        }
    }
}

/// Digests are 64 hex chars, unique (API keys and admin key), and not of the empty key.
fn check_digests(auth: &AuthSpec, diags: &mut Diagnostics) {
    let mut all: Vec<(String, &DigestSpec)> = auth
        .api_keys
        .iter()
        .enumerate()
        .map(|(i, k)| (format!("/auth/api_keys/{i}/sha256"), &k.sha256))
        .collect();
    if let Some(admin) = &auth.admin_key_sha256 {
        all.push(("/auth/admin_key_sha256".to_owned(), admin));
    }
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for (at, digest) in all {
        if let Some(why) = digest.error() {
            diags.push(
                Diagnostic::new(
                    codes::BAD_DIGEST,
                    F,
                    format!("invalid SHA-256 digest: {why}"),
                )
                .at(at)
                .label("not 64 hexadecimal characters")
                .help("store the key's digest, not the key: `printf %s \"$KEY\" | sha256sum`")
                .redacted(),
            );
            continue;
        }
        let lower = digest.raw().to_ascii_lowercase();
        if lower == EMPTY_SHA256 {
            diags.push(
                Diagnostic::new(codes::EMPTY_KEY_DIGEST, F, "digest of an empty key")
                    .at(at)
                    .label("SHA-256 of the empty string")
                    .help("this is the digest of an empty key; hash the real key with `printf %s \"$KEY\" | sha256sum`"),
            );
        } else if let Some(first) = seen.get(&lower) {
            diags.push(
                Diagnostic::new(codes::DUPLICATE_DIGEST, F, "duplicate key digest")
                    .at(at)
                    .label(format!("same digest as `{}`", crate::diag::yaml_path(first)))
                    .help("each key (API keys and the admin key) must be distinct; remove the duplicate or rotate one key"),
            );
        } else {
            seen.insert(lower, at);
        }
    }
}

/// API key names are unique and well-formed.
fn check_key_names(auth: &AuthSpec, diags: &mut Diagnostics) {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, key) in auth.api_keys.iter().enumerate() {
        let at = format!("/auth/api_keys/{i}/name");
        if let Err(why) = parse::name(&key.name) {
            diags.push(
                Diagnostic::new(codes::BAD_KEY_NAME, F, format!("API key name {why}"))
                    .at(at)
                    .label("invalid key name")
                    .help("use a short identifier such as `prod-app`"),
            );
        } else if let Some(first) = seen.get(key.name.as_str()) {
            diags.push(
                Diagnostic::new(
                    codes::DUPLICATE_KEY_NAME,
                    F,
                    format!("duplicate API key name `{}`", key.name),
                )
                .at(at)
                .label(format!("also used by `auth.api_keys[{first}]`"))
                .help("give every API key a distinct name; logs identify keys by name"),
            );
        } else {
            seen.insert(&key.name, i);
        }
    }
}

/// Key file paths are absolute, in normal form, and listed once. (Whether a
/// path lies inside the repository cannot be told here: the compiler sees
/// workspace-relative sources only, so the output never depends on where
/// the checkout is.)
fn check_key_files(auth: &AuthSpec, diags: &mut Diagnostics) {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, file) in auth.key_files.iter().enumerate() {
        let at = format!("/auth/key_files/{i}/path");
        if let Some((why, label)) = path_problem(&file.path) {
            diags.push(
                Diagnostic::new(
                    codes::KEY_FILE_PATH,
                    F,
                    format!("key file path `{}` {why}", file.path),
                )
                .at(at)
                .label(label)
                .help("use an absolute path in normal form outside the repository, such as `/etc/gateway/api-keys` (the working directory is not fixed at run time)"),
            );
        } else if let Some(first) = seen.get(file.path.as_str()) {
            diags.push(
                Diagnostic::new(
                    codes::DUPLICATE_KEY_FILE,
                    F,
                    format!("key file `{}` is listed twice", file.path),
                )
                .at(at)
                .label(format!("also `auth.key_files[{first}]`"))
                .help("list each key file once; remove this entry"),
            );
        } else {
            seen.insert(&file.path, i);
        }
    }
}

/// Why `path` is not an absolute path in normal form (and a label), if it is not.
pub(crate) fn path_problem(path: &str) -> Option<(&'static str, &'static str)> {
    let Some(rest) = path.strip_prefix('/') else {
        return Some(("is not absolute", "relative path"));
    };
    if rest.is_empty() || rest.ends_with('/') {
        return Some(("names a directory", "a directory, not a file"));
    }
    if rest.split('/').any(|part| matches!(part, "" | "." | "..")) {
        return Some(("has an empty, `.` or `..` component", "not in normal form"));
    }
    None
}
