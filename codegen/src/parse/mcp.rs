//! MCP tool pins: the canonical JSON of an input schema and its SHA-256
//! (the runtime computes the same in `tools/mcp/canonical.rs`; both are
//! tested against one vector).
//!
//! Pure functions; `check/mcp_tools.rs` reports, `lower/tools.rs` builds.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// `value` as canonical JSON: object keys sorted by their UTF-8 bytes, no
/// whitespace, serde_json's number and string formatting.
pub fn canonical(value: &Value) -> String {
    let mut out = String::new();
    write(value, &mut out);
    out
}

fn write(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write(value, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// Lower-case hex SHA-256 of `value`'s canonical JSON.
pub fn schema_sha256(value: &Value) -> String {
    let digest = Sha256::digest(canonical(value).as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `s` is 64 lower-case hex digits.
pub fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{canonical, is_sha256, schema_sha256};

    /// The shared vector: the runtime's `tools/mcp/canonical.rs` tests the same.
    #[test]
    fn canonical_hash_vector() {
        let schema = json!({"type":"object","required":["b","a"],"properties":{"b":{"type":"integer"},"a":{"description":"é \"x\"","type":"number","maximum":1.5}}});
        assert_eq!(
            canonical(&schema),
            r#"{"properties":{"a":{"description":"é \"x\"","maximum":1.5,"type":"number"},"b":{"type":"integer"}},"required":["b","a"],"type":"object"}"#
        );
        let hash = schema_sha256(&schema);
        assert!(is_sha256(&hash));
        assert_eq!(hash, VECTOR_SHA256);
    }

    const VECTOR_SHA256: &str = "31f74d2ded5b482e754c21d8e375e645260fcc04026958cde6861915636bcb35";
}
