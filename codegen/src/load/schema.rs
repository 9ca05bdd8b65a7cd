//! JSON Schema phase: generate schemas from the spec types, validate a loaded
//! file against the checked-in copy, and map schema errors to diagnostics.
//!
//! The library validates against `schema/*.schema.json` as checked in (embedded
//! at compile time); a test keeps them equal to what the types generate. This
//! module also rejects credential-looking values. It does not deserialize.

use serde_json::Value;

use crate::diag::codes;
use crate::diag::escape;
use crate::diag::suggest;
use crate::diag::{Diagnostic, Diagnostics, FileKind};
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

const SECRET_REF_HELP: &str =
    "use `api_key: { env: OPENAI_API_KEY }` or `{ file: /run/secrets/openai }`";

struct Ctx<'a> {
    file: FileKind,
    schema: &'a Value,
    value: &'a Value,
    ptr: &'a str,
}

impl Ctx<'_> {
    fn map(
        &self,
        kind: &jsonschema::error::ValidationErrorKind,
        msg: &str,
        inline: &mut Vec<String>,
        diags: &mut Diagnostics,
    ) {
        use jsonschema::error::ValidationErrorKind as K;
        let instance = self.value.pointer(self.ptr);
        let d = match kind {
            K::AdditionalProperties { unexpected } => {
                let allowed = self.allowed_keys();
                for key in unexpected {
                    diags.push(self.unknown_key(key, &allowed));
                }
                return;
            }
            K::Required { property } => self.missing_key(property.as_str().unwrap_or("?")),
            K::Type { .. } if instance.is_some_and(Value::is_string) && self.is_secret_ref() => {
                inline.push(self.ptr.to_owned());
                self.inline_secret()
            }
            K::Type { kind } => self.wrong_type(kind, instance),
            K::Enum { options } => self.unknown_value(options, instance),
            K::MinProperties { .. } if self.is_secret_ref() => self.secret_shape("sets neither"),
            K::MaxProperties { .. } if self.is_secret_ref() => self.secret_shape("sets both"),
            _ => Diagnostic::new(codes::SCHEMA, self.file, lowercase_first(msg))
                .at(self.ptr)
                .label(format!("breaks the `{}` rule", kind.keyword()))
                .help("see the schema description of this key (`gateway-check schema <file>`)"),
        };
        diags.push(d);
    }

    fn missing_key(&self, name: &str) -> Diagnostic {
        let d = Diagnostic::new(
            codes::MISSING_KEY,
            self.file,
            format!("missing required key `{name}`"),
        )
        .label(format!("`{name}` is required here"))
        .help(format!("add `{name}:` to this mapping"));
        if self.ptr.is_empty() {
            d.at("")
        } else {
            d.at_key(self.ptr)
        }
    }

    fn inline_secret(&self) -> Diagnostic {
        Diagnostic::new(codes::INLINE_SECRET, self.file, "secret written inline")
            .at(self.ptr)
            .label("inline secret (value not shown)")
            .help(SECRET_REF_HELP)
            .redacted()
    }

    fn wrong_type(
        &self,
        kind: &jsonschema::error::TypeKind,
        instance: Option<&Value>,
    ) -> Diagnostic {
        let expected = expected_types(kind);
        let found = instance.map_or("nothing", type_name);
        Diagnostic::new(
            codes::WRONG_TYPE,
            self.file,
            format!("expected {expected}, found {found}"),
        )
        .at(self.ptr)
        .label(format!("expected {expected}"))
        .help(self.type_help())
    }

    fn unknown_value(&self, options: &Value, instance: Option<&Value>) -> Diagnostic {
        let allowed: Vec<&str> = options
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let got = instance.and_then(Value::as_str).unwrap_or("");
        Diagnostic::new(
            codes::UNKNOWN_VALUE,
            self.file,
            format!("unknown value `{got}`"),
        )
        .at(self.ptr)
        .label("not an allowed value")
        .help(format!(
            "{}allowed values are {}",
            suggest::did_you_mean(got, allowed.iter().copied()),
            suggest::list(allowed.iter().copied())
        ))
    }

    fn secret_shape(&self, label: &str) -> Diagnostic {
        Diagnostic::new(
            codes::SECRET_REF_SHAPE,
            self.file,
            "secret reference must set exactly one of `env` or `file`",
        )
        .at_key(self.ptr)
        .label(label)
        .help(SECRET_REF_HELP)
    }

    fn unknown_key(&self, key: &str, allowed: &[String]) -> Diagnostic {
        let names = allowed.iter().map(String::as_str);
        let ptr = format!("{}/{}", self.ptr, escape(key));
        Diagnostic::new(
            codes::UNKNOWN_KEY,
            self.file,
            format!("unknown key `{key}`"),
        )
        .at_key(ptr)
        .label("not a known key here")
        .help(format!(
            "{}allowed keys are {}",
            suggest::did_you_mean(key, names.clone()),
            suggest::list(names)
        ))
    }

    fn allowed_keys(&self) -> Vec<String> {
        let Some(s) = schema_at(self.schema, self.ptr) else {
            return Vec::new();
        };
        let mut keys = Vec::new();
        collect_properties(self.schema, s, &mut keys, 0);
        keys
    }

    fn is_secret_ref(&self) -> bool {
        schema_at(self.schema, self.ptr)
            .and_then(|s| deref(self.schema, s, 0).get("properties"))
            .is_some_and(|p| p.get("env").is_some() && p.get("file").is_some())
    }

    fn type_help(&self) -> String {
        let desc = schema_at(self.schema, self.ptr)
            .and_then(|s| {
                s.get("description")
                    .or_else(|| deref(self.schema, s, 0).get("description"))
            })
            .and_then(Value::as_str);
        match desc {
            Some(d) => format!("this key is: {}", d.replace('\n', " ")),
            None => "see `gateway-check schema <file>` for the expected shape".to_owned(),
        }
    }
}

fn lowercase_first(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_lowercase().chain(chars).collect())
}

fn expected_types(kind: &jsonschema::error::TypeKind) -> String {
    use jsonschema::error::TypeKind;
    let names: Vec<&str> = match kind {
        TypeKind::Single(t) => vec![t.as_str()],
        TypeKind::Multiple(set) => set
            .iter()
            .map(|t| t.as_str())
            .filter(|t| *t != "null")
            .collect(),
    };
    let names: Vec<String> = names.into_iter().map(article).collect();
    names.join(" or ")
}

fn article(json_type: &str) -> String {
    match json_type {
        "object" => "a mapping".to_owned(),
        "array" => "a sequence".to_owned(),
        "integer" => "an integer".to_owned(),
        "string" => "a string".to_owned(),
        "boolean" => "a boolean".to_owned(),
        "number" => "a number".to_owned(),
        other => format!("a {other}"),
    }
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
fn deref<'a>(root: &'a Value, mut s: &'a Value, depth: usize) -> &'a Value {
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
fn schema_at<'a>(root: &'a Value, ptr: &str) -> Option<&'a Value> {
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

fn collect_properties(root: &Value, s: &Value, out: &mut Vec<String>, depth: usize) {
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
