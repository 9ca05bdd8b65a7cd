//! JSON Schema phase: generate schemas from the spec types, validate a loaded
//! file against the checked-in copy (errors become diagnostics in
//! `schema_errors.rs`), and walk a schema to the node describing a value.
//!
//! The library validates against `schema/*.schema.json` as checked in (embedded
//! at compile time); a test keeps them equal to what the types generate. This
//! module also rejects credential-looking values. It does not deserialize.

use serde_json::Value;

use crate::diag::codes;
use crate::diag::{Diagnostic, Diagnostics, FileKind};
use crate::load::schema_errors::Ctx;
use crate::load::secrets;
use crate::spec::{AgentsFile, SecurityFile, ToolsFile, UpstreamsFile};

/// The checked-in schema text for a file.
pub fn checked_in(file: FileKind) -> &'static str {
    match file {
        FileKind::Upstreams => include_str!("../../../schema/upstreams.schema.json"),
        FileKind::Agents => include_str!("../../../schema/agents.schema.json"),
        FileKind::Tools => include_str!("../../../schema/tools.schema.json"),
        FileKind::Security => include_str!("../../../schema/security.schema.json"),
    }
}

/// The schema generated from the spec types (draft 2020-12), as pretty JSON with a trailing newline.
pub fn generate(file: FileKind) -> String {
    let schema = match file {
        FileKind::Upstreams => schemars::schema_for!(UpstreamsFile),
        FileKind::Agents => schemars::schema_for!(AgentsFile),
        FileKind::Tools => schemars::schema_for!(ToolsFile),
        FileKind::Security => schemars::schema_for!(SecurityFile),
    };
    let mut text = serde_json::to_string_pretty(schema.as_value()).unwrap_or_default();
    text.push('\n');
    text
}

/// Short name used by the CLI (`upstreams`, `agents`, `tools`, `security`).
pub fn short_name(file: FileKind) -> &'static str {
    file.file_name().trim_end_matches(".yaml")
}

/// Validate `value` (the content of `file`) and record every problem.
pub fn validate(file: FileKind, value: &Value, diags: &mut Diagnostics) {
    let schema: Value = match serde_json::from_str(checked_in(file)) {
        Ok(schema) => schema,
        Err(err) => {
            return diags.push(internal(
                file,
                &format!("embedded schema is not JSON: {err}"),
            ));
        }
    };
    let validator = match jsonschema::validator_for(&schema) {
        Ok(v) => v,
        Err(err) => {
            return diags.push(internal(
                file,
                &format!("embedded schema is invalid: {err}"),
            ));
        }
    };
    let mut inline = Vec::new();
    for err in validator.iter_errors(value) {
        let ptr = err.instance_path().as_str().to_owned();
        let ctx = Ctx {
            file,
            schema: &schema,
            value,
            ptr: &ptr,
        };
        ctx.map(err.kind(), &err.to_string(), &mut inline, diags);
    }
    secrets::scan(file, value, "", &inline, diags);
}
fn internal(file: FileKind, msg: &str) -> Diagnostic {
    Diagnostic::new(codes::SCHEMA, file, msg.to_owned())
        .help("regenerate the schemas with `GATEWAY_BLESS=1 cargo test -p gateway-codegen`")
}

/// "a string", "a mapping", ... for a value.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a sequence",
        Value::Object(_) => "a mapping",
    }
}

/// Follow local `$ref`s (`#/$defs/X`), bounded.
pub(crate) fn deref<'a>(root: &'a Value, mut s: &'a Value, depth: usize) -> &'a Value {
    for _ in depth..16 {
        let Some(r) = s.get("$ref").and_then(Value::as_str) else {
            break;
        };
        match r.strip_prefix('#').and_then(|p| root.pointer(p)) {
            Some(target) => s = target,
            None => break,
        }
    }
    s
}

/// The sub-schema describing the instance at `ptr`, if it can be found.
pub(crate) fn schema_at<'a>(root: &'a Value, ptr: &str) -> Option<&'a Value> {
    let mut s = root;
    for seg in ptr.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        s = child(root, s, &seg, 0)?;
    }
    Some(s)
}

fn child<'a>(root: &'a Value, s: &'a Value, seg: &str, depth: usize) -> Option<&'a Value> {
    if depth > 8 {
        return None;
    }
    let s = deref(root, s, 0);
    if let Some(p) = s.get("properties").and_then(|p| p.get(seg)) {
        return Some(p);
    }
    if let Some(a) = s.get("additionalProperties").filter(|a| a.is_object()) {
        return Some(a);
    }
    if let Some(i) = s.get("items").filter(|_| seg.parse::<usize>().is_ok()) {
        return Some(i);
    }
    ["anyOf", "oneOf", "allOf"]
        .iter()
        .filter_map(|k| s.get(*k)?.as_array())
        .flatten()
        .find_map(|b| child(root, b, seg, depth + 1))
}

pub(crate) fn collect_properties(root: &Value, s: &Value, out: &mut Vec<String>, depth: usize) {
    if depth > 8 {
        return;
    }
    let s = deref(root, s, 0);
    if let Some(props) = s.get("properties").and_then(Value::as_object) {
        out.extend(props.keys().cloned());
    }
    for branch in ["anyOf", "oneOf", "allOf"]
        .iter()
        .filter_map(|k| s.get(*k)?.as_array())
        .flatten()
    {
        collect_properties(root, branch, out, depth + 1);
    }
    out.sort();
    out.dedup();
}
