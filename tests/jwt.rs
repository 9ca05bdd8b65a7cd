//! Bearer tokens (JWTs, issue 12): tokens signed at test time with keys
//! made here (RS256 by `openssl genpkey`, ES256 and EdDSA by ring) and
//! published in the JWKS file the test config names
//! (`/tmp/gateway-test-env/jwks.json`, under the lock of `auth.rs`).
//! Valid tokens work in both protocols within their scopes; every refusal
//! answers in the caller's shape with its code, `WWW-Authenticate` and its
//! own metric reason; a rotated JWKS takes effect on reload, also on a
//! kept-alive connection; an expiring token stops working on its
//! connection; tokens never reach the upstream.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use ring::rand::SystemRandom;
use ring::signature::{self as sig, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use serde_json::{Value, json};

use crate::auth::{KeepAlive, MESSAGES, assert_anthropic_error, chat_with, lock_key_file, refresh};
use crate::support::*;

const ISSUER: &str = "https://idp.gateway-test.example/";

/// Unpadded base64url.
pub fn b64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().fold(0u32, |n, b| n << 8 | u32::from(*b)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

type Sign = Box<dyn Fn(&[u8]) -> Vec<u8> + Send + Sync>;

/// A signing key made for one test, with its public JWK.
pub struct Signer {
    alg: &'static str,
    kid: String,
    jwk: Value,
    sign: Sign,
}

impl Signer {
    pub fn ed25519(kid: &str) -> Self {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        let x = b64(pair.public_key().as_ref());
        Self {
            alg: "EdDSA",
            kid: kid.to_owned(),
            jwk: json!({"kty": "OKP", "crv": "Ed25519", "kid": kid, "x": x, "use": "sig"}),
            sign: Box::new(move |msg| pair.sign(msg).as_ref().to_vec()),
        }
    }

    fn es256(kid: &str) -> Self {
        let (alg, rng) = (&sig::ECDSA_P256_SHA256_FIXED_SIGNING, SystemRandom::new());
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(alg, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).unwrap();
        let point = pair.public_key().as_ref().to_vec();
        Self {
            alg: "ES256",
            kid: kid.to_owned(),
            jwk: json!({"kty": "EC", "crv": "P-256", "kid": kid, "x": b64(&point[1..33]), "y": b64(&point[33..])}),
            sign: Box::new(move |msg| {
                pair.sign(&SystemRandom::new(), msg)
                    .unwrap()
                    .as_ref()
                    .to_vec()
            }),
        }
    }

    /// RS256 with a 2048-bit key from `openssl genpkey` (ring makes no RSA keys).
    fn rs256(kid: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("gateway-jwt-{}-{kid}.der", std::process::id()));
        let status = std::process::Command::new("openssl")
            .args([
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-outform",
                "DER",
                "-out",
            ])
            .arg(&path)
            .stderr(std::process::Stdio::null())
            .status()
            .expect("openssl genpkey (the RS256 test key)");
        assert!(status.success());
        let der = std::fs::read(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        let pair = RsaKeyPair::from_pkcs8(&der)
            .or_else(|_| RsaKeyPair::from_der(&der))
            .unwrap();
        let public = sig::RsaPublicKeyComponents::<Vec<u8>>::from(pair.public());
        Self {
            alg: "RS256",
            kid: kid.to_owned(),
            jwk: json!({"kty": "RSA", "kid": kid, "alg": "RS256", "n": b64(&public.n), "e": b64(&public.e)}),
            sign: Box::new(move |msg| {
                let mut out = vec![0; pair.public().modulus_len()];
                pair.sign(&sig::RSA_PKCS1_SHA256, &SystemRandom::new(), msg, &mut out)
                    .unwrap();
                out
            }),
        }
    }

    /// A token with `claims`, its `kid` in the header.
    fn token(&self, claims: &Value) -> String {
        let header = json!({"alg": self.alg, "kid": self.kid, "typ": "JWT"});
        let signed = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        format!("{signed}.{}", b64(&(self.sign)(signed.as_bytes())))
    }
}

/// A JWKS document publishing these keys.
pub fn jwks(signers: &[&Signer]) -> String {
    json!({"keys": signers.iter().map(|s| s.jwk.clone()).collect::<Vec<_>>()}).to_string()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Claims of a valid token for `sub` with `scope`.
fn claims(sub: &str, scope: &str) -> Value {
    json!({"iss": ISSUER, "aud": "gateway-test", "sub": sub, "scope": scope, "exp": now() + 300, "iat": now()})
}

async fn chat_bearer(addr: std::net::SocketAddr, token: &str) -> Reply {
    let bearer = format!("Bearer {token}");
    chat_with(addr, &[("authorization", &bearer)]).await
}

/// Asserts a 401/403 token refusal with its code and challenge (none when empty).
fn assert_refused(reply: &Reply, status: u16, code: &str, challenge: &str) {
    reply.assert_error(status, code);
    let header = reply
        .headers
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    match challenge {
        "" => assert_eq!(header, None, "{code}"),
        _ => assert!(
            header.as_deref().is_some_and(|h| h.starts_with(challenge)),
            "{code}: www-authenticate {header:?}"
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_verified_and_every_refusal_is_told_apart() {
    let files = lock_key_file();
    let (rs, es, ed) = (
        Signer::rs256("rsa-1"),
        Signer::es256("ec-1"),
        Signer::ed25519("ed-1"),
    );
    files.write_jwks(&jwks(&[&rs, &es, &ed]));
    let upstream = MockUpstream::start().await;
    let gateway = Gateway::start(&standard_env(&upstream.base_url()));
    let addr = gateway.addr;

    // Valid tokens of each algorithm; the principal is logged as the caller.
    for signer in [&rs, &es, &ed] {
        let reply = chat_bearer(
            addr,
            &signer.token(&claims("alice@example.com", "openid chat")),
        )
        .await;
        assert_eq!(reply.status, 200, "{}: {}", signer.alg, reply.text());
    }
    gateway.wait_for_log(r#""caller":"alice@example.com""#, Duration::from_secs(5));
    // In the Anthropic protocol too (the `demo` model is in scope `chat`).
    let token = es.token(&claims("bob", "chat"));
    let bearer = format!("Bearer {token}");
    let headers = [
        ("authorization", bearer.as_str()),
        ("anthropic-version", "2023-06-01"),
    ];
    let reply = send(addr, "POST", "/v1/messages", &headers, MESSAGES).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    // Scopes decide the models: `chat` lists echo and demo only.
    let models = send(
        addr,
        "GET",
        "/v1/models",
        &[("authorization", &bearer)],
        Bytes::new(),
    )
    .await;
    let listed = models.json();
    let ids: Vec<&str> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    // The agents on `echo` and `demo` (tests/agent_runs.rs): scope `chat` reaches their models.
    let expected = [
        "demo",
        "echo",
        "agent/arithmetic",
        "agent/assistant",
        "agent/frugal",
        "agent/hasty",
        "agent/mocked",
        "agent/pinned",
    ];
    assert_eq!(ids, expected);
    let claude = r#"{"model":"claude","messages":[{"role":"user","content":"hi"}]}"#;
    send(
        addr,
        "POST",
        "/v1/chat/completions",
        &[("authorization", &bearer)],
        claude,
    )
    .await
    .assert_error(403, "model_not_allowed");

    // Each refusal, with its code, challenge and metric reason.
    let with = |change: &dyn Fn(&mut Value)| {
        let mut c = claims("mallory", "chat");
        change(&mut c);
        c
    };
    let unsigned = format!(
        "{}.{}.",
        b64(br#"{"alg":"none","typ":"JWT"}"#),
        b64(claims("m", "chat").to_string().as_bytes())
    );
    let mut forged = ed.token(&claims("m", "chat")).into_bytes();
    let at = forged.len() - 2;
    forged[at] = if forged[at] == b'A' { b'B' } else { b'A' };
    let stranger = Signer::es256("not-published");
    let cases: [(&str, String, u16, &str, &str); 8] = [
        (
            "expired",
            es.token(&with(&|c| c["exp"] = json!(now() - 60))),
            401,
            "token_expired",
            "Bearer error=\"invalid_token\"",
        ),
        (
            "wrong audience",
            es.token(&with(&|c| c["aud"] = json!("someone-else"))),
            401,
            "invalid_token_audience",
            "Bearer error=\"invalid_token\"",
        ),
        (
            "wrong issuer",
            es.token(&with(&|c| c["iss"] = json!("https://evil.example/"))),
            401,
            "invalid_token_issuer",
            "Bearer error=\"invalid_token\"",
        ),
        (
            "no known scope",
            es.token(&with(&|c| c["scope"] = json!("openid email"))),
            403,
            "insufficient_scope",
            "Bearer error=\"insufficient_scope\"",
        ),
        (
            "unknown kid",
            stranger.token(&claims("m", "chat")),
            401,
            "unknown_token_key",
            "Bearer error=\"invalid_token\"",
        ),
        (
            "alg none",
            unsigned,
            401,
            "token_algorithm_not_allowed",
            "Bearer error=\"invalid_token\"",
        ),
        (
            "bad signature",
            String::from_utf8(forged).unwrap(),
            401,
            "invalid_token_signature",
            "Bearer error=\"invalid_token\"",
        ),
        (
            "unknown team",
            es.token(&with(&|c| c["team"] = json!("ghosts"))),
            403,
            "team_not_allowed",
            "",
        ),
    ];
    for (what, token, status, code, challenge) in &cases {
        let reply = chat_bearer(addr, token).await;
        assert_eq!(reply.status, *status, "{what}: {}", reply.text());
        assert_refused(&reply, *status, code, challenge);
        // The Anthropic route answers in Anthropic's shape.
        let bearer = format!("Bearer {token}");
        let headers = [
            ("authorization", bearer.as_str()),
            ("anthropic-version", "2023-06-01"),
        ];
        let kind = if *status == 401 {
            "authentication_error"
        } else {
            "permission_error"
        };
        assert_anthropic_error(
            &send(addr, "POST", "/v1/messages", &headers, MESSAGES).await,
            *status,
            kind,
        );
    }

    // Tokens never reach the upstream.
    let requests = upstream.requests();
    assert_eq!(
        requests.len(),
        3,
        "only the valid chat requests went upstream"
    );
    for request in &requests {
        for (name, value) in &request.headers {
            assert!(
                !value.to_str().unwrap_or("").contains("eyJ"),
                "{name} carries a token"
            );
        }
    }
    let metrics = get(addr, "/metrics", Some(ADMIN_KEY)).await.text();
    for reason in [
        "expired_token",
        "wrong_audience",
        "wrong_issuer",
        "insufficient_scope",
        "unknown_token_key",
        "token_algorithm",
        "bad_token_signature",
        "token_team",
    ] {
        let line = format!("gateway_auth_failures_total{{reason=\"{reason}\"}} 2");
        assert!(metrics.contains(&line), "no `{line}` in:\n{metrics}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_jwks_takes_effect_on_reload_and_expiry_is_checked_every_time() {
    let files = lock_key_file();
    files.remove_jwks();
    let upstream = MockUpstream::start().await;
    let gateway = Gateway::start(&standard_env(&upstream.base_url()));
    let addr = gateway.addr;
    let (old, new) = (Signer::es256("old"), Signer::ed25519("new"));
    let old_token = old.token(&claims("carol", "chat"));

    // No JWKS yet: 503, API keys still work.
    chat_bearer(addr, &old_token)
        .await
        .assert_error(503, "jwks_unavailable");
    assert_eq!(chat_bearer(addr, CLIENT_KEY).await.status, 200);

    // The JWKS appears; a reload puts it in force.
    files.write_jwks(&jwks(&[&old]));
    let answer = refresh(addr, Some(ADMIN_KEY)).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.json()["jwks"]["keys"], 1, "{}", answer.text());
    let mut connection = KeepAlive::open(addr).await;
    assert_eq!(connection.chat_as(&old_token).await.status, 200);

    // Rotation: the new key only; the old token fails at once on its
    // connection (reloaded by POST, so the connection is not idle long).
    files.write_jwks(&jwks(&[&new]));
    assert_eq!(refresh(addr, Some(ADMIN_KEY)).await.status, 200);
    connection
        .chat_as(&old_token)
        .await
        .assert_error(401, "unknown_token_key");
    let new_token = new.token(&claims("carol", "chat"));
    assert_eq!(chat_bearer(addr, &new_token).await.status, 200);

    // SIGHUP reloads the JWKS too: back to the old key.
    files.write_jwks(&jwks(&[&old]));
    gateway.signal("HUP");
    gateway.wait_for_log(r#""trigger":"sighup""#, Duration::from_secs(10));
    assert_eq!(chat_bearer(addr, &old_token).await.status, 200);
    chat_bearer(addr, &new_token)
        .await
        .assert_error(401, "unknown_token_key");
    files.write_jwks(&jwks(&[&new]));
    assert_eq!(refresh(addr, Some(ADMIN_KEY)).await.status, 200);

    // A broken JWKS file is refused and the keys in force stay.
    files.write_jwks("{\"keys\": 7}");
    let answer = refresh(addr, Some(ADMIN_KEY)).await;
    answer.assert_error(500, "key_files_rejected");
    assert!(
        answer.text().contains("jwks.json: no `keys` array"),
        "{}",
        answer.text()
    );
    assert_eq!(
        chat_bearer(addr, &new.token(&claims("carol", "chat")))
            .await
            .status,
        200
    );

    // A token inside the leeway (5 s) works on a kept-alive connection until
    // it does not: exp is checked on every request, not only the first.
    let mut claims = claims("dave", "chat");
    claims["exp"] = json!(now() - 3);
    let expiring = new.token(&claims);
    let mut connection = KeepAlive::open(addr).await;
    let first = connection.chat_as(&expiring).await;
    assert_eq!(first.status, 200, "{}", first.text());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let reply = connection.chat_as(&expiring).await;
        if reply.status == 401 {
            reply.assert_error(401, "token_expired");
            break;
        }
        assert_eq!(reply.status, 200, "{}", reply.text());
        assert!(Instant::now() < deadline, "the token never expired");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(files);
}

#[test]
fn gateway_access_shows_scopes_as_principals() {
    let (status, stdout, stderr) = run_to_exit(&["access"], &[]);
    assert!(status.success(), "{stderr}");
    let header = stdout.lines().next().unwrap_or_default();
    assert!(
        header.trim_end().ends_with("scope:chat  scope:claude"),
        "{stdout}"
    );
    let row = |model: &str| {
        stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(model))
            .map(|l| l.split_whitespace().rev().take(2).collect::<Vec<_>>())
    };
    assert_eq!(row("echo"), Some(vec!["-", "yes"]), "{stdout}");
    assert_eq!(row("claude"), Some(vec!["yes", "-"]), "{stdout}");
}
