//! The canonical JSON of an MCP tool's input schema and its SHA-256: object
//! keys sorted by their UTF-8 bytes, no whitespace, serde_json's number and
//! string formatting. Codegen's `parse/mcp.rs` computes the same; both are
//! tested against one vector. Names nothing in the crate.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// `value` as canonical JSON.
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
pub fn sha256(value: &Value) -> String {
    use std::fmt::Write as _;
    let digest = Sha256::digest(canonical(value).as_bytes());
    let mut out = String::with_capacity(64);
    for b in digest.iter() {
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{canonical, sha256};

    /// The vector codegen's `parse/mcp.rs` tests too (and Python's
    /// `json.dumps(sort_keys=True, separators=(',', ':'), ensure_ascii=False)`).
    #[test]
    fn canonical_hash_vector() {
        let schema = json!({"type":"object","required":["b","a"],"properties":{"b":{"type":"integer"},"a":{"description":"é \"x\"","type":"number","maximum":1.5}}});
        assert_eq!(
            canonical(&schema),
            r#"{"properties":{"a":{"description":"é \"x\"","maximum":1.5,"type":"number"},"b":{"type":"integer"}},"required":["b","a"],"type":"object"}"#
        );
        assert_eq!(
            sha256(&schema),
            "31f74d2ded5b482e754c21d8e375e645260fcc04026958cde6861915636bcb35"
        );
    }
}
