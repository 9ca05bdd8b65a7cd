//! Checks for `auth.jwt` in security.yaml: the JWKS source is exactly one
//! of an absolute file path and an `https` URL (with its options only on a
//! URL), paths are absolute, the algorithms are asymmetric ones the runtime
//! verifies (never `none`, never HMAC), and the values are usable (issuer,
//! audiences, claim and scope names, durations).
//!
//! The scopes' `models` patterns are checked with every other `models`
//! list by `access.rs`. Reports only; `lower/auth.rs` builds the table.

use crate::check::auth::path_problem;
use crate::diag::codes;
use crate::diag::values;
use crate::diag::{Diagnostic, Diagnostics, FileKind::Security as F, ptr};
use crate::parse;
use crate::spec::auth::{AudienceSpec, JwksSpec, JwtSpec};
use crate::spec::values::DurationSpec;

/// The `alg` values the runtime verifies.
pub const ALGORITHMS: [&str; 9] = [
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
];

/// Largest accepted `leeway`, in milliseconds.
const MAX_LEEWAY_MS: u64 = 5 * 60_000;

/// Every `auth.jwt` check.
pub fn check(jwt: Option<&JwtSpec>, diags: &mut Diagnostics) {
    let Some(jwt) = jwt else {
        return;
    };
    check_source(&jwt.jwks, diags);
    check_algorithms(&jwt.algorithms, diags);
    check_values(jwt, diags);
    check_durations(jwt, diags);
}

fn check_source(jwks: &JwksSpec, diags: &mut Diagnostics) {
    let at = |key: &str| ptr(&["auth", "jwt", "jwks", key]);
    match (&jwks.file, &jwks.url) {
        (Some(_), Some(_)) | (None, None) => diags.push(
            Diagnostic::new(
                codes::JWKS_SOURCE,
                F,
                "`jwks` needs exactly one of `file` and `url`",
            )
            .at("/auth/jwt/jwks")
            .label("one source")
            .help("write `jwks: { file: /etc/gateway/jwks.json }` or `jwks: { url: https://login.example.com/.well-known/jwks.json }`"),
        ),
        (Some(file), None) => {
            for key in ["refresh", "timeout", "ca_file"] {
                let set = match key {
                    "refresh" => jwks.refresh.is_some(),
                    "timeout" => jwks.timeout.is_some(),
                    _ => jwks.ca_file.is_some(),
                };
                if set {
                    diags.push(
                        Diagnostic::new(
                            codes::JWKS_SOURCE,
                            F,
                            format!("`{key}` applies to a `url` source only"),
                        )
                        .at(at(key))
                        .label("not used with `file`")
                        .help(format!("remove `{key}`: the file is read at startup and on SIGHUP and `POST /security/refresh`")),
                    );
                }
            }
            check_path(&at("file"), file, diags);
        }
        (None, Some(url)) => {
            if let Some(why) = url_problem(url) {
                diags.push(
                    Diagnostic::new(codes::JWKS_URL, F, format!("JWKS URL `{url}` {why}"))
                        .at(at("url"))
                        .label("not an https URL")
                        .help("use the identity provider's `jwks_uri`, e.g. `https://login.example.com/.well-known/jwks.json` (keys over plain HTTP could be swapped on the way)"),
                );
            }
            if let Some(ca) = &jwks.ca_file {
                check_path(&at("ca_file"), ca, diags);
            }
        }
    }
}

/// Why `url` is not a usable `https` URL, if it is not.
fn url_problem(url: &str) -> Option<String> {
    if !url.starts_with("https://") {
        return Some("is not an `https://` URL".to_owned());
    }
    parse::base_url(url)
        .err()
        .map(|why| format!("is invalid: {why}"))
}

fn check_path(at: &str, path: &str, diags: &mut Diagnostics) {
    if let Some((why, label)) = path_problem(path) {
        diags.push(
            Diagnostic::new(codes::JWT_PATH, F, format!("path `{path}` {why}"))
                .at(at)
                .label(label)
                .help("use an absolute path in normal form, such as `/etc/gateway/jwks.json` or `/etc/gateway/idp-ca.pem` (the working directory is not fixed at run time)"),
        );
    }
}

fn check_algorithms(algorithms: &[String], diags: &mut Diagnostics) {
    if algorithms.is_empty() {
        diags.push(
            Diagnostic::new(codes::JWT_ALGORITHM, F, "no JWT algorithm is allowed")
                .at("/auth/jwt/algorithms")
                .label("empty list")
                .help("list the algorithms your identity provider signs with, e.g. `[RS256]`"),
        );
    }
    for (i, name) in algorithms.iter().enumerate() {
        if ALGORITHMS.contains(&name.as_str()) {
            continue;
        }
        let why = if name.eq_ignore_ascii_case("none") {
            "`none` means an unsigned token, which anyone can write".to_owned()
        } else if name.to_ascii_uppercase().starts_with("HS") {
            format!(
                "`{name}` is a shared-secret (HMAC) algorithm: a JWKS publishes public keys, and an HMAC key there would let anyone sign"
            )
        } else {
            format!("`{name}` is not an algorithm the gateway verifies")
        };
        let fix = ALGORITHMS
            .iter()
            .find(|known| known.eq_ignore_ascii_case(name))
            .map_or_else(
                || format!("use one of `{}`", ALGORITHMS.join("`, `")),
                |known| format!("write `{known}`"),
            );
        diags.push(
            Diagnostic::new(
                codes::JWT_ALGORITHM,
                F,
                format!("JWT algorithm refused: {why}"),
            )
            .at(format!("/auth/jwt/algorithms/{i}"))
            .label("not allowed")
            .help(fix),
        );
    }
}

fn check_values(jwt: &JwtSpec, diags: &mut Diagnostics) {
    let mut blank = |at: String, what: &str| {
        diags.push(
            Diagnostic::new(
                codes::JWT_VALUE,
                F,
                format!("{what} is empty or holds whitespace"),
            )
            .at(at)
            .label("not a usable value")
            .help(format!(
                "write {what} exactly as the identity provider puts it in its tokens"
            )),
        );
    };
    let bad = |s: &str| s.is_empty() || s.chars().any(|c| c.is_whitespace() || c.is_control());
    if bad(&jwt.issuer) {
        blank("/auth/jwt/issuer".to_owned(), "the issuer");
    }
    match &jwt.audience {
        AudienceSpec::Any(list) if list.is_empty() => {
            blank("/auth/jwt/audience".to_owned(), "the audience list")
        }
        AudienceSpec::One(one) if bad(one) => {
            blank("/auth/jwt/audience".to_owned(), "the audience")
        }
        AudienceSpec::Any(list) => {
            for (i, _) in list.iter().enumerate().filter(|(_, a)| bad(a)) {
                blank(format!("/auth/jwt/audience/{i}"), "an audience");
            }
        }
        AudienceSpec::One(_) => {}
    }
    let claims = [
        ("principal_claim", &jwt.principal_claim),
        ("team_claim", &jwt.team_claim),
        ("scope_claim", &jwt.scope_claim),
    ];
    for (key, value) in claims {
        if value.as_deref().is_some_and(bad) {
            blank(ptr(&["auth", "jwt", key]), "a claim name");
        }
    }
    for name in jwt.scopes.keys().filter(|name| bad(name)) {
        blank(ptr(&["auth", "jwt", "scopes", name]), "a scope name");
    }
}

fn check_durations(jwt: &JwtSpec, diags: &mut Diagnostics) {
    let durations: [(&[&str], &Option<DurationSpec>, &str); 3] = [
        (&["auth", "jwt", "leeway"], &jwt.leeway, "30s"),
        (
            &["auth", "jwt", "jwks", "refresh"],
            &jwt.jwks.refresh,
            "10m",
        ),
        (&["auth", "jwt", "jwks", "timeout"], &jwt.jwks.timeout, "2s"),
    ];
    let mut ms = [None; 3];
    for ((path, value, default), slot) in durations.into_iter().zip(&mut ms) {
        let Some(value) = value else { continue };
        let at = ptr(path);
        match value.value() {
            Err(err) => diags.push(values::malformed(F, at, &parse::DURATION, value.raw(), err, Some(default))),
            Ok(0) if path.last() != Some(&"leeway") => diags.push(
                Diagnostic::new(codes::JWT_VALUE, F, "a JWKS duration is zero")
                    .at(at)
                    .label("must be greater than zero")
                    .help(format!("use a positive duration such as `{default}` (or remove the key for the default)")),
            ),
            Ok(&n) => *slot = Some(n),
        }
    }
    if let [Some(leeway), _, _] = ms
        && leeway > MAX_LEEWAY_MS
    {
        diags.push(
            Diagnostic::new(codes::JWT_VALUE, F, "`leeway` is longer than 5m")
                .at("/auth/jwt/leeway")
                .label("accepts expired tokens for too long")
                .help("clocks are synchronised to within seconds; use `30s` or `1m`"),
        );
    }
    if let [_, Some(refresh), Some(timeout)] = ms
        && timeout > refresh
    {
        diags.push(
            Diagnostic::new(
                codes::JWT_VALUE,
                F,
                "the JWKS `timeout` is longer than its `refresh`",
            )
            .at("/auth/jwt/jwks/timeout")
            .label("a fetch could outlast the interval")
            .help("use a timeout of a few seconds, such as `2s`"),
        );
    }
}
