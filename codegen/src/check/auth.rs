//! Checks for the `auth` section of security.yaml: key digests are well-formed,
//! distinct and not of the empty key; key names are well-formed and distinct.
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
