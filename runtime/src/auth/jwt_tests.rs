//! Unit tests of the JWT verifier: tokens signed at test time (RS256 and
//! PS256 with a key from `openssl genpkey`, ES256 and EdDSA with keys ring
//! generates), every refusal with its problem, scopes and teams.

use std::time::Duration;

use ring::rand::SystemRandom;
use ring::signature::{self as sig, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use serde_json::{Value, json};

use super::*;
use crate::auth::jwk;
use crate::table::{JwksSource, Scope};

const NOW: u64 = 1_800_000_000;

fn b64(bytes: &[u8]) -> String {
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

type Sign = Box<dyn Fn(&[u8]) -> Vec<u8>>;

/// A key that signs, with its public JWK.
struct Signer {
    alg: &'static str,
    jwk: Value,
    sign: Sign,
}

fn es256(kid: &str) -> Signer {
    let rng = SystemRandom::new();
    let alg = &sig::ECDSA_P256_SHA256_FIXED_SIGNING;
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(alg, &rng).unwrap();
    let pair = EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).unwrap();
    let point = pair.public_key().as_ref().to_vec();
    let jwk = json!({"kty": "EC", "crv": "P-256", "kid": kid, "x": b64(&point[1..33]), "y": b64(&point[33..])});
    Signer {
        alg: "ES256",
        jwk,
        sign: Box::new(move |msg| {
            pair.sign(&SystemRandom::new(), msg)
                .unwrap()
                .as_ref()
                .to_vec()
        }),
    }
}

fn ed25519(kid: &str) -> Signer {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    let jwk =
        json!({"kty": "OKP", "crv": "Ed25519", "kid": kid, "x": b64(pair.public_key().as_ref())});
    Signer {
        alg: "EdDSA",
        jwk,
        sign: Box::new(move |msg| pair.sign(msg).as_ref().to_vec()),
    }
}

/// An RSA key made by `openssl genpkey` (ring cannot generate RSA keys).
fn rsa(kid: &str, alg: &'static str) -> Signer {
    let path =
        std::env::temp_dir().join(format!("gateway-jwt-unit-{}-{kid}.der", std::process::id()));
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
        .expect("openssl genpkey");
    assert!(status.success());
    let der = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    // OpenSSL 3.0 writes the PKCS#1 `RSAPrivateKey` form with `-outform DER`, others PKCS#8.
    let pair = RsaKeyPair::from_pkcs8(&der)
        .or_else(|_| RsaKeyPair::from_der(&der))
        .unwrap();
    let public = sig::RsaPublicKeyComponents::<Vec<u8>>::from(pair.public());
    let jwk = json!({"kty": "RSA", "kid": kid, "n": b64(&public.n), "e": b64(&public.e)});
    let padding: &'static dyn sig::RsaEncoding = match alg {
        "PS256" => &sig::RSA_PSS_SHA256,
        _ => &sig::RSA_PKCS1_SHA256,
    };
    Signer {
        alg,
        jwk,
        sign: Box::new(move |msg| {
            let mut out = vec![0; pair.public().modulus_len()];
            pair.sign(padding, &SystemRandom::new(), msg, &mut out)
                .unwrap();
            out
        }),
    }
}

impl Signer {
    fn token(&self, header: Value, claims: &Value) -> String {
        let mut header = header;
        header["alg"] = json!(self.alg);
        let signed = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        format!("{signed}.{}", b64(&(self.sign)(signed.as_bytes())))
    }

    fn with_kid(&self, claims: &Value) -> String {
        self.token(json!({"kid": self.jwk["kid"], "typ": "JWT"}), claims)
    }
}

fn keys(signers: &[&Signer]) -> Vec<Jwk> {
    let set = json!({"keys": signers.iter().map(|s| s.jwk.clone()).collect::<Vec<_>>()});
    jwk::parse_set(set.to_string().as_bytes()).unwrap()
}

static TEAMS: [Team; 2] = [
    Team {
        name: "narrow",
        models: ModelAccess::Only(&[0b001]),
        tools: ModelAccess::All,
        agents: ModelAccess::All,
    },
    Team {
        name: "wide",
        models: ModelAccess::All,
        tools: ModelAccess::All,
        agents: ModelAccess::All,
    },
];

fn config(scopes: &'static [Scope]) -> Jwt {
    Jwt {
        issuer: "https://idp.test/",
        audiences: &["gateway", "other"],
        jwks: JwksSource::File("/unused"),
        algorithms: &[
            JwtAlgorithm::Rs256,
            JwtAlgorithm::Ps256,
            JwtAlgorithm::Es256,
            JwtAlgorithm::EdDsa,
        ],
        leeway: Duration::from_secs(30),
        principal_claim: "sub",
        team_claim: Some("team"),
        scope_claim: "scope",
        scopes,
    }
}

fn claims() -> Value {
    json!({"iss": "https://idp.test/", "aud": "gateway", "sub": "alice", "exp": NOW + 60, "nbf": NOW - 60})
}

fn problem(result: Result<TokenPrincipal, GatewayError>) -> TokenProblem {
    match result {
        Err(GatewayError::InvalidToken { problem, .. }) => problem,
        other => panic!("not an invalid token: {other:?}"),
    }
}

#[test]
fn every_algorithm_verifies_its_own_signature() {
    let signers = [
        rsa("r", "RS256"),
        rsa("p", "PS256"),
        es256("e"),
        ed25519("d"),
    ];
    let set = keys(&signers.iter().collect::<Vec<_>>());
    let jwt = config(&[]);
    for signer in &signers {
        let token = signer.with_kid(&claims());
        let principal = verify(&jwt, &TEAMS, &set, token.as_bytes(), NOW).unwrap();
        assert_eq!(&*principal.subject, "alice", "{}", signer.alg);
        assert_eq!(principal.models, TokenAccess::All);
        assert_eq!(principal.valid_until, NOW + 60 + 30);
        // Flip one signature byte: refused.
        let mut forged = token.clone().into_bytes();
        let last = forged.len() - 3;
        forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            problem(verify(&jwt, &TEAMS, &set, &forged, NOW)),
            TokenProblem::BadSignature,
            "{}",
            signer.alg
        );
    }
}

#[test]
fn refusals_name_their_problem() {
    let (es, ed) = (es256("e"), ed25519("d"));
    let set = keys(&[&es, &ed]);
    let jwt = config(&[]);
    let with = |change: &dyn Fn(&mut Value)| {
        let mut c = claims();
        change(&mut c);
        problem(verify(&jwt, &TEAMS, &set, es.with_kid(&c).as_bytes(), NOW))
    };
    assert_eq!(with(&|c| c["exp"] = json!(NOW - 31)), TokenProblem::Expired);
    assert_eq!(
        with(&|c| c["nbf"] = json!(NOW + 31)),
        TokenProblem::NotYetValid
    );
    assert_eq!(
        with(&|c| c["iss"] = json!("https://evil.test/")),
        TokenProblem::WrongIssuer
    );
    assert_eq!(
        with(&|c| c["aud"] = json!(["nobody"])),
        TokenProblem::WrongAudience
    );
    assert_eq!(
        with(&|c| c["aud"] = Value::Null),
        TokenProblem::WrongAudience
    );
    assert_eq!(
        with(&|c| drop(c.as_object_mut().unwrap().remove("exp"))),
        TokenProblem::Malformed
    );
    assert_eq!(
        with(&|c| drop(c.as_object_mut().unwrap().remove("sub"))),
        TokenProblem::Malformed
    );
    // Within the leeway is fine; a list audience with one accepted member is fine.
    let mut c = claims();
    c["exp"] = json!(NOW - 29);
    c["aud"] = json!(["x", "other"]);
    assert!(verify(&jwt, &TEAMS, &set, es.with_kid(&c).as_bytes(), NOW).is_ok());

    let token = |header: Value| es.token(header, &claims());
    let check = |t: String| problem(verify(&jwt, &TEAMS, &set, t.as_bytes(), NOW));
    assert_eq!(
        check(token(json!({"kid": "missing"}))),
        TokenProblem::UnknownKey
    );
    // A key for another algorithm, named by kid.
    assert_eq!(
        check(token(json!({"kid": "d"}))),
        TokenProblem::AlgorithmNotAllowed
    );
    // No kid: the one key fitting the algorithm is used.
    assert!(verify(&jwt, &TEAMS, &set, token(json!({})).as_bytes(), NOW).is_ok());
    // alg none and HS256 are never accepted, whatever the rest says.
    let unsigned = format!(
        "{}.{}.",
        b64(br#"{"alg":"none"}"#),
        b64(claims().to_string().as_bytes())
    );
    assert_eq!(check(unsigned), TokenProblem::AlgorithmNotAllowed);
    let hs = format!(
        "{}.{}.AAAA",
        b64(br#"{"alg":"HS256","kid":"e"}"#),
        b64(claims().to_string().as_bytes())
    );
    assert_eq!(check(hs), TokenProblem::AlgorithmNotAllowed);
    for bad in ["a.b", "a.b.c.d", "eyJ.eyJ.x", "!!.!!.!!"] {
        assert_eq!(check(bad.to_owned()), TokenProblem::Malformed, "{bad}");
    }
}

#[test]
fn scopes_and_teams_decide_the_models() {
    static SCOPES: [Scope; 2] = [
        Scope {
            name: "chat",
            models: ModelAccess::Only(&[0b011]),
        },
        Scope {
            name: "code",
            models: ModelAccess::Only(&[0b110]),
        },
    ];
    let ed = ed25519("d");
    let set = keys(&[&ed]);
    let jwt = config(&SCOPES);
    let run = |change: &dyn Fn(&mut Value)| {
        let mut c = claims();
        change(&mut c);
        verify(&jwt, &TEAMS, &set, ed.with_kid(&c).as_bytes(), NOW)
    };
    let bits = |result: Result<TokenPrincipal, GatewayError>| match result.unwrap().models {
        TokenAccess::Only(words) => words[0],
        TokenAccess::All => u64::MAX,
    };
    assert_eq!(bits(run(&|c| c["scope"] = json!("openid chat"))), 0b011);
    assert_eq!(bits(run(&|c| c["scope"] = json!(["code", "chat"]))), 0b111);
    assert_eq!(
        bits(run(&|c| {
            c["scope"] = json!("chat code");
            c["team"] = json!("narrow");
        })),
        0b001
    );
    let wide = run(&|c| {
        c["scope"] = json!("code");
        c["team"] = json!("wide");
    })
    .unwrap();
    assert_eq!(
        (wide.team, wide.models.allows(ModelId(0))),
        (Some(1), false)
    );
    assert!(matches!(
        run(&|c| c["scope"] = json!("openid")),
        Err(GatewayError::InsufficientScope(_))
    ));
    assert!(matches!(
        run(&|_| {}),
        Err(GatewayError::InsufficientScope(_))
    ));
    assert!(matches!(
        run(&|c| {
            c["scope"] = json!("chat");
            c["team"] = json!("ghosts");
        }),
        Err(GatewayError::TokenTeamNotAllowed(_))
    ));
}

#[test]
fn jwt_shapes_are_told_apart_from_api_keys() {
    assert!(looks_like_jwt(b"eyJhbGciOi.eyJzdWIi.sig"));
    for key in [
        &b"sk-live-123"[..],
        b"gw-test-key-1",
        b"eyJ.only-one-dot",
        b"a.b.c",
    ] {
        assert!(!looks_like_jwt(key));
    }
}
