//! A tool's argument schema (tools.yaml `parameters`): the supported subset
//! of JSON Schema read into a typed tree ([`Node`]), and whether one schema
//! only narrows another ([`narrows`], a config against its builtin's own).
//!
//! Supported: `type` (object, string, number, integer, boolean, array),
//! `properties`, `required`, `additionalProperties` (a boolean), `enum`
//! (strings), `minimum`, `maximum`, `maxLength`, `items`, and the
//! documentation keywords `description` and `title`. Anything else is an
//! error, so the runtime validator (`runtime/src/tools/schema.rs`) checks
//! everything the schema says. Never reports: errors carry a JSON pointer
//! relative to the schema, which `check/tools.rs` places.

use serde_json::{Map, Value};

/// Deepest nesting accepted (the runtime validator recurses this far at most).
pub const MAX_DEPTH: usize = 8;

/// A compiled schema node.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Object {
        /// Sorted by name.
        properties: Vec<(String, Node)>,
        required: Vec<String>,
        additional: bool,
    },
    String {
        max_length: Option<u32>,
        allowed: Vec<String>,
    },
    Number {
        integer: bool,
        minimum: Option<f64>,
        maximum: Option<f64>,
    },
    Boolean,
    Array {
        items: Option<Box<Node>>,
    },
}

/// What is wrong, at a JSON pointer relative to the schema (`""`: the schema itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaError {
    pub at: String,
    pub message: String,
    pub help: String,
}

const KEYWORDS: &str = "`type`, `properties`, `required`, `additionalProperties`, `enum`, \
    `minimum`, `maximum`, `maxLength`, `items`, `description`, `title` (and the annotations \
    `default`, `examples`, `$schema`, accepted unchecked)";
const TYPES: [&str; 6] = ["array", "boolean", "integer", "number", "object", "string"];

/// The schema as a tree; its root must be an object schema.
pub fn compile(value: &Value) -> Result<Node, SchemaError> {
    let root = node(value, "", 0)?;
    match root {
        Node::Object { .. } => Ok(root),
        _ => Err(error(
            "/type",
            "a tool's parameters must be an object schema",
            "use `type: object` with the arguments under `properties`",
        )),
    }
}

fn error(at: &str, message: impl Into<String>, help: impl Into<String>) -> SchemaError {
    SchemaError {
        at: at.to_owned(),
        message: message.into(),
        help: help.into(),
    }
}

/// One schema node at `at`.
fn node(value: &Value, at: &str, depth: usize) -> Result<Node, SchemaError> {
    if depth > MAX_DEPTH {
        let help = format!("flatten the arguments to at most {MAX_DEPTH} levels");
        return Err(error(at, "schema nested too deeply", help));
    }
    let Value::Object(map) = value else {
        return Err(error(
            at,
            "a schema must be a mapping",
            "write e.g. `{ type: string }`",
        ));
    };
    if let Some(key) = map.keys().find(|k| !is_keyword(k)) {
        let message = format!("unsupported schema keyword `{key}`");
        return Err(error(
            &child(at, key),
            message,
            format!("supported keywords are {KEYWORDS}"),
        ));
    }
    let kind = match map.get("type") {
        Some(Value::String(t)) if TYPES.contains(&t.as_str()) => t.as_str(),
        Some(_) => {
            let help = format!("use one of `{}`", TYPES.join("`, `"));
            return Err(error(&child(at, "type"), "unsupported schema type", help));
        }
        None => {
            return Err(error(
                at,
                "schema without `type`",
                "add `type: object`, `type: string`, ...",
            ));
        }
    };
    only(map, at, kind)?;
    match kind {
        "object" => object(map, at, depth),
        "string" => string(map, at),
        "number" | "integer" => number(map, at, kind == "integer"),
        "boolean" => Ok(Node::Boolean),
        _ => array(map, at, depth),
    }
}

fn is_keyword(key: &str) -> bool {
    matches!(
        key,
        "type"
            | "properties"
            | "required"
            | "additionalProperties"
            | "enum"
            | "minimum"
            | "maximum"
            | "maxLength"
            | "items"
            | "description"
            | "title"
            // Annotations MCP servers emit (pydantic: `default`, `examples`;
            // some add `$schema`): accepted and not checked.
            | "default"
            | "examples"
            | "$schema"
    )
}

/// Keywords that belong to another type are errors, not silently ignored.
fn only(map: &Map<String, Value>, at: &str, kind: &str) -> Result<(), SchemaError> {
    let owner = |key: &str| match key {
        "properties" | "required" | "additionalProperties" => Some("object"),
        "enum" | "maxLength" => Some("string"),
        "minimum" | "maximum" => Some("number"),
        "items" => Some("array"),
        _ => None,
    };
    for key in map.keys() {
        let Some(owner) = owner(key) else { continue };
        let fits = owner == kind || (owner == "number" && kind == "integer");
        if !fits {
            let message = format!("`{key}` applies to `{owner}` schemas, not `{kind}`");
            return Err(error(
                &child(at, key),
                message,
                format!("remove `{key}`, or use `type: {owner}`"),
            ));
        }
    }
    Ok(())
}

fn object(map: &Map<String, Value>, at: &str, depth: usize) -> Result<Node, SchemaError> {
    let mut properties = Vec::new();
    match map.get("properties") {
        None => {}
        Some(Value::Object(props)) => {
            for (name, value) in props {
                let here = child(&child(at, "properties"), name);
                properties.push((name.clone(), node(value, &here, depth + 1)?));
            }
        }
        Some(_) => {
            return Err(error(
                &child(at, "properties"),
                "`properties` must be a mapping",
                "map each argument name to its schema",
            ));
        }
    }
    properties.sort_by(|a, b| a.0.cmp(&b.0));
    let required = strings(map.get("required"), &child(at, "required"))?;
    for (i, name) in required.iter().enumerate() {
        if !properties.iter().any(|(p, _)| p == name) {
            let message = format!("required property `{name}` is not under `properties`");
            return Err(error(
                &format!("{}/{i}", child(at, "required")),
                message,
                "define it under `properties`, or remove it from `required`",
            ));
        }
    }
    let additional = match map.get("additionalProperties") {
        None => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(error(
                &child(at, "additionalProperties"),
                "`additionalProperties` must be `true` or `false`",
                "schemas for extra properties are not supported; use `false`",
            ));
        }
    };
    Ok(Node::Object {
        properties,
        required,
        additional,
    })
}

fn string(map: &Map<String, Value>, at: &str) -> Result<Node, SchemaError> {
    let max_length = match map.get("maxLength") {
        None => None,
        Some(v) => Some(
            v.as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| {
                    error(
                        &child(at, "maxLength"),
                        "`maxLength` must be a whole number",
                        "e.g. `maxLength: 200`",
                    )
                })?,
        ),
    };
    let allowed = strings(map.get("enum"), &child(at, "enum"))?;
    if map.contains_key("enum") && allowed.is_empty() {
        return Err(error(
            &child(at, "enum"),
            "`enum` allows no value",
            "list the allowed strings, or remove `enum`",
        ));
    }
    Ok(Node::String {
        max_length,
        allowed,
    })
}

fn number(map: &Map<String, Value>, at: &str, integer: bool) -> Result<Node, SchemaError> {
    let bound = |key: &str| match map.get(key) {
        None => Ok(None),
        Some(v) => v.as_f64().map(Some).ok_or_else(|| {
            error(
                &child(at, key),
                format!("`{key}` must be a number"),
                "e.g. `minimum: 0`",
            )
        }),
    };
    let (minimum, maximum) = (bound("minimum")?, bound("maximum")?);
    if let (Some(min), Some(max)) = (minimum, maximum)
        && min > max
    {
        return Err(error(
            &child(at, "minimum"),
            format!("`minimum` {min} is above `maximum` {max}"),
            "swap them",
        ));
    }
    Ok(Node::Number {
        integer,
        minimum,
        maximum,
    })
}

fn array(map: &Map<String, Value>, at: &str, depth: usize) -> Result<Node, SchemaError> {
    let items = match map.get("items") {
        None => None,
        Some(v) => Some(Box::new(node(v, &child(at, "items"), depth + 1)?)),
    };
    Ok(Node::Array { items })
}

/// A list of distinct strings (`required`, `enum`); absent: empty.
fn strings(value: Option<&Value>, at: &str) -> Result<Vec<String>, SchemaError> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let list = value
        .as_array()
        .ok_or_else(|| error(at, "must be a list of strings", "e.g. `[a, b]`"))?;
    let mut out: Vec<String> = Vec::new();
    for (i, item) in list.iter().enumerate() {
        match item.as_str() {
            Some(s) if !out.iter().any(|o| o == s) => out.push(s.to_owned()),
            Some(s) => {
                return Err(error(
                    &format!("{at}/{i}"),
                    format!("`{s}` is listed twice"),
                    "remove the repeat",
                ));
            }
            None => {
                return Err(error(
                    &format!("{at}/{i}"),
                    "must be a string",
                    "only string values are supported",
                ));
            }
        }
    }
    Ok(out)
}

/// Whether `config` only narrows `builtin` (what the builtin function reads):
/// the same types (an integer may narrow a number), no property the builtin
/// does not know, every property it requires still required, an `enum`
/// within its `enum`. `Err` is where (relative to the schema) and why.
pub fn narrows(config: &Node, builtin: &Node, at: &str) -> Result<(), (String, String)> {
    let fail = |why: String| Err((at.to_owned(), why));
    match (config, builtin) {
        (Node::Object { .. }, Node::Object { .. }) => narrows_object(config, builtin, at),
        (Node::String { allowed, .. }, Node::String { allowed: own, .. }) => {
            match allowed.iter().find(|a| !own.is_empty() && !own.contains(a)) {
                Some(value) => fail(format!("the builtin does not accept `{value}`")),
                None if !own.is_empty() && allowed.is_empty() => fail(format!(
                    "the builtin accepts only {}, so keep an `enum` within them",
                    own.join(", ")
                )),
                None => Ok(()),
            }
        }
        (Node::Number { integer, .. }, Node::Number { integer: own, .. }) if *integer || !own => {
            Ok(())
        }
        (Node::Boolean, Node::Boolean) => Ok(()),
        (Node::Array { items: Some(a) }, Node::Array { items: Some(b) }) => {
            narrows(a, b, &child(at, "items"))
        }
        (Node::Array { .. }, Node::Array { items: None }) => Ok(()),
        _ => fail(format!("the builtin reads {} here", kind(builtin))),
    }
}

/// [`narrows`] for two object schemas.
fn narrows_object(config: &Node, builtin: &Node, at: &str) -> Result<(), (String, String)> {
    let (
        Node::Object {
            properties,
            required,
            ..
        },
        Node::Object {
            properties: own,
            required: needs,
            ..
        },
    ) = (config, builtin)
    else {
        return Ok(());
    };
    for (name, node) in properties {
        let here = child(&child(at, "properties"), name);
        match own.iter().find(|(n, _)| n == name) {
            Some((_, theirs)) => narrows(node, theirs, &here)?,
            None => return Err((here, format!("the builtin reads no argument `{name}`"))),
        }
    }
    match needs.iter().find(|n| !required.contains(n)) {
        Some(missing) => Err((
            at.to_owned(),
            format!("the builtin needs `{missing}`, so it must stay in `required`"),
        )),
        None => Ok(()),
    }
}

fn kind(node: &Node) -> &'static str {
    match node {
        Node::Object { .. } => "an object",
        Node::String { .. } => "a string",
        Node::Number { integer: true, .. } => "an integer",
        Node::Number { .. } => "a number",
        Node::Boolean => "a boolean",
        Node::Array { .. } => "an array",
    }
}

/// `at` plus one JSON-pointer segment.
fn child(at: &str, segment: &str) -> String {
    format!("{at}/{}", segment.replace('~', "~0").replace('/', "~1"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{Node, compile, narrows};

    /// `check(schema, expect)`: `Ok(())` or the error's pointer and message.
    fn check(schema: serde_json::Value, expect: Result<(), (&str, &str)>) {
        let got = compile(&schema).map(drop).map_err(|e| (e.at, e.message));
        let want = expect.map_err(|(at, m)| (at.to_owned(), m.to_owned()));
        assert_eq!(got, want, "{schema}");
    }

    #[test]
    fn supported_subset() {
        check(json!({"type": "object"}), Ok(()));
        // What MCP servers (pydantic) emit: titles, defaults, examples, `$schema`.
        check(
            json!({"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "title": "addArguments", "properties": {"a": {"type": "integer", "title": "A", "default": 1, "examples": [2]}}}),
            Ok(()),
        );
        check(
            json!({"type": "object", "properties": {"a": {"type": "array", "items": {"type": "integer", "minimum": 0}}}, "required": ["a"], "additionalProperties": false}),
            Ok(()),
        );
        check(
            json!({"type": "string"}),
            Err(("/type", "a tool's parameters must be an object schema")),
        );
        check(
            json!({"type": "object", "oneOf": []}),
            Err(("/oneOf", "unsupported schema keyword `oneOf`")),
        );
        check(
            json!({"type": "object", "properties": {"a": {"type": "number", "maxLength": 3}}}),
            Err((
                "/properties/a/maxLength",
                "`maxLength` applies to `string` schemas, not `number`",
            )),
        );
        check(
            json!({"type": "object", "required": ["b"]}),
            Err((
                "/required/0",
                "required property `b` is not under `properties`",
            )),
        );
        check(
            json!({"type": "object", "properties": {"a": {"type": "date"}}}),
            Err(("/properties/a/type", "unsupported schema type")),
        );
        check(
            json!({"type": "object", "properties": {"a": {"type": "number", "minimum": 2, "maximum": 1}}}),
            Err(("/properties/a/minimum", "`minimum` 2 is above `maximum` 1")),
        );
    }

    #[test]
    fn narrowing_a_builtin() {
        let builtin = compile(&json!({"type": "object", "properties": {"op": {"type": "string", "enum": ["add", "sub"]}, "a": {"type": "number"}}, "required": ["op"]})).unwrap();
        let config = |v: serde_json::Value| -> Node { compile(&v).unwrap() };
        let ok = config(
            json!({"type": "object", "properties": {"op": {"type": "string", "enum": ["add"]}, "a": {"type": "integer", "maximum": 9}}, "required": ["op", "a"]}),
        );
        assert_eq!(narrows(&ok, &builtin, ""), Ok(()));
        let unknown = config(
            json!({"type": "object", "properties": {"op": {"type": "string", "enum": ["add"]}, "b": {"type": "number"}}, "required": ["op"]}),
        );
        assert_eq!(
            narrows(&unknown, &builtin, ""),
            Err((
                "/properties/b".to_owned(),
                "the builtin reads no argument `b`".to_owned()
            ))
        );
        let dropped = config(json!({"type": "object", "properties": {}}));
        assert_eq!(
            narrows(&dropped, &builtin, ""),
            Err((
                String::new(),
                "the builtin needs `op`, so it must stay in `required`".to_owned()
            ))
        );
        let widened = config(
            json!({"type": "object", "properties": {"op": {"type": "string", "enum": ["mul"]}}, "required": ["op"]}),
        );
        assert_eq!(
            narrows(&widened, &builtin, ""),
            Err((
                "/properties/op".to_owned(),
                "the builtin does not accept `mul`".to_owned()
            ))
        );
    }
}
