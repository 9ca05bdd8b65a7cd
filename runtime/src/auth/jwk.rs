//! A JWKS document (RFC 7517) read into the public keys the verifier can
//! use: RSA (`n`, `e`), EC P-256 and P-384 (`x`, `y`), Ed25519 (`OKP`,
//! `x`). Keys of other types, keys for encryption (`use: enc`) and keys
//! with private members are refused or skipped as stated below; nothing
//! here verifies a signature (`jwt.rs` does).

use serde_json::Value;

use super::base64url;
use crate::table::JwtAlgorithm;

/// The key material of one JWK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyMaterial {
    /// Big-endian modulus and exponent.
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// An uncompressed point (`04 || x || y`) on P-256.
    P256(Vec<u8>),
    /// An uncompressed point on P-384.
    P384(Vec<u8>),
    /// A 32-byte Ed25519 public key.
    Ed25519(Vec<u8>),
}

/// One usable key of a JWKS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jwk {
    pub kid: Option<String>,
    /// The JWK's own `alg`, if it names one: then only that algorithm may use it.
    pub alg: Option<String>,
    pub material: KeyMaterial,
}

impl Jwk {
    /// Whether this key may verify a token signed with `alg`: the key type
    /// fits the algorithm and the JWK's own `alg`, if any, is the same.
    pub fn fits(&self, alg: JwtAlgorithm) -> bool {
        use JwtAlgorithm as A;
        let kind = matches!(
            (&self.material, alg),
            (
                KeyMaterial::Rsa { .. },
                A::Rs256 | A::Rs384 | A::Rs512 | A::Ps256 | A::Ps384 | A::Ps512
            ) | (KeyMaterial::P256(_), A::Es256)
                | (KeyMaterial::P384(_), A::Es384)
                | (KeyMaterial::Ed25519(_), A::EdDsa)
        );
        kind && self.alg.as_deref().is_none_or(|own| own == alg.name())
    }
}

/// Most keys one document may hold.
const MAX_KEYS: usize = 100;

/// The usable signing keys of a JWKS document. Keys marked `use: enc` and
/// key types the gateway cannot verify with (`oct`, other curves) are
/// skipped; a malformed key (a member missing or not base64url, a private
/// member present) fails the whole document, naming the key.
pub fn parse_set(text: &[u8]) -> Result<Vec<Jwk>, String> {
    let document: Value = serde_json::from_slice(text).map_err(|e| format!("not JSON ({e})"))?;
    let keys = document
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("no `keys` array (a JWKS is `{\"keys\": [...]}`)")?;
    if keys.len() > MAX_KEYS {
        return Err(format!("{} keys, more than {MAX_KEYS}", keys.len()));
    }
    let mut usable = Vec::new();
    for (index, key) in keys.iter().enumerate() {
        let name = key
            .get("kid")
            .and_then(Value::as_str)
            .map_or_else(|| format!("key {index}"), |kid| format!("key `{kid}`"));
        if let Some(jwk) = parse_key(key).map_err(|why| format!("{name}: {why}"))? {
            usable.push(jwk);
        }
    }
    Ok(usable)
}

fn parse_key(key: &Value) -> Result<Option<Jwk>, String> {
    let text = |member: &str| key.get(member).and_then(Value::as_str);
    if text("use").is_some_and(|u| u != "sig") {
        return Ok(None);
    }
    if ["d", "p", "q", "dp", "dq", "qi", "k"]
        .iter()
        .any(|m| key.get(m).is_some())
    {
        return Err("holds private key material; publish public keys only".to_owned());
    }
    let bytes = |member: &str| {
        let value = text(member).ok_or_else(|| format!("no `{member}`"))?;
        base64url::decode(value.as_bytes()).ok_or_else(|| format!("`{member}` is not base64url"))
    };
    let material = match (text("kty"), text("crv")) {
        (Some("RSA"), _) => {
            let n = strip_zeros(bytes("n")?);
            if n.len() < 256 {
                return Err(format!(
                    "an RSA key of {} bits; at least 2048 are required",
                    n.len() * 8
                ));
            }
            KeyMaterial::Rsa {
                n,
                e: strip_zeros(bytes("e")?),
            }
        }
        (Some("EC"), Some(curve @ ("P-256" | "P-384"))) => {
            let (x, y) = (bytes("x")?, bytes("y")?);
            let size = if curve == "P-256" { 32 } else { 48 };
            if x.len() != size || y.len() != size {
                return Err(format!(
                    "`x` and `y` of a {curve} key are {size} bytes each"
                ));
            }
            let point = [&[4u8][..], &x, &y].concat();
            if curve == "P-256" {
                KeyMaterial::P256(point)
            } else {
                KeyMaterial::P384(point)
            }
        }
        (Some("OKP"), Some("Ed25519")) => {
            let x = bytes("x")?;
            if x.len() != 32 {
                return Err("`x` of an Ed25519 key is 32 bytes".to_owned());
            }
            KeyMaterial::Ed25519(x)
        }
        _ => return Ok(None),
    };
    Ok(Some(Jwk {
        kid: text("kid").map(str::to_owned),
        alg: text("alg").map(str::to_owned),
        material,
    }))
}

/// RSA integers may carry leading zero bytes; ring wants them minimal.
fn strip_zeros(mut bytes: Vec<u8>) -> Vec<u8> {
    let zeros = bytes.iter().take_while(|b| **b == 0).count();
    bytes.drain(..zeros);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_signing_keys_and_skips_others() {
        let x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
        let text = format!(
            r#"{{"keys":[
              {{"kty":"OKP","crv":"Ed25519","x":"{x}","kid":"ed"}},
              {{"kty":"OKP","crv":"Ed25519","x":"{x}","use":"enc"}},
              {{"kty":"oct","k":"c2VjcmV0"}},
              {{"kty":"EC","crv":"P-521","x":"AA","y":"AA"}}
            ]}}"#
        );
        let keys = parse_set(text.as_bytes()).err();
        assert_eq!(
            keys.as_deref(),
            Some("key 2: holds private key material; publish public keys only")
        );
        let text = text.replace(r#"{"kty":"oct","k":"c2VjcmV0"},"#, "");
        let keys = parse_set(text.as_bytes()).unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].kid.as_deref(), Some("ed"));
        assert!(keys[0].fits(JwtAlgorithm::EdDsa) && !keys[0].fits(JwtAlgorithm::Es256));
    }

    #[test]
    fn malformed_documents_say_what_is_wrong() {
        let cases = [
            ("[]", "no `keys` array"),
            (
                "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"r\",\"e\":\"AQAB\"}]}",
                "key `r`: no `n`",
            ),
            (
                "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}",
                "key 0: an RSA key of 24 bits",
            ),
            (
                "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AA\",\"y\":\"AA\"}]}",
                "key 0: `x` and `y` of a P-256 key are 32 bytes each",
            ),
            (
                "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"A=\"}]}",
                "key 0: `x` is not base64url",
            ),
            ("nope", "not JSON"),
        ];
        for (text, expected) in cases {
            let error = parse_set(text.as_bytes()).unwrap_err();
            assert!(error.starts_with(expected), "{text}: {error}");
        }
    }
}
