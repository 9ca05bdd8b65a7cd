//! Tools of tools.yaml: each tool's kind, function, description and
//! argument schema, and the builtin functions the runtime compiles in with
//! their own argument schemas ([`BUILTINS`], the defaults a config may
//! narrow).
//!
//! Only `kind: builtin` exists today; `http` and `mcp` tools will be other
//! kinds with their own keys beside `builtin`. Nothing here is checked: see
//! `check/tools.rs` (names, builtins, schemas) and `parse/tool_schema.rs`.

use schemars::JsonSchema;
use serde::Deserialize;

/// One tool.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ToolSpec {
    /// What runs the tool: `builtin`, a function compiled into the gateway (`http` and `mcp` tools come in a later release).
    pub kind: ToolKindSpec,
    /// With `kind: builtin`: the function, `calculator` (add, subtract, multiply or divide two numbers) or `current_time` (the UTC time in RFC 3339).
    pub builtin: Option<String>,
    /// What the tool does, shown to callers and models in `GET /v1/tools`.
    pub description: String,
    /// JSON Schema of the tool's arguments: an object schema using only `type` (object, string, number, integer, boolean, array), `properties`, `required`, `enum` (strings), `minimum`, `maximum`, `maxLength`, `items`, `additionalProperties`, `description`, `title`. For a builtin it may narrow the builtin's own schema (fewer optional properties, an `enum`, bounds), never widen it. Absent: the builtin's own schema.
    pub parameters: Option<serde_json::Value>,
}

/// The kinds of tool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ToolKindSpec {
    /// A function compiled into the gateway (`builtin` names it).
    Builtin,
}

/// A builtin function: its name in tools.yaml, its `table::Builtin`
/// variant, and the JSON Schema of the arguments it reads.
#[derive(Clone, Copy, Debug)]
pub struct BuiltinDef {
    pub name: &'static str,
    pub variant: &'static str,
    pub parameters: &'static str,
}

/// Every builtin, sorted by name.
pub const BUILTINS: &[BuiltinDef] = &[
    BuiltinDef {
        name: "calculator",
        variant: "Calculator",
        parameters: r#"{"type":"object","properties":{"operation":{"type":"string","enum":["add","subtract","multiply","divide"],"description":"The operation."},"a":{"type":"number","description":"The first operand."},"b":{"type":"number","description":"The second operand."}},"required":["operation","a","b"],"additionalProperties":false}"#,
    },
    BuiltinDef {
        name: "current_time",
        variant: "CurrentTime",
        parameters: r#"{"type":"object","properties":{},"additionalProperties":false}"#,
    },
];

/// The builtin named `name`.
pub fn builtin(name: &str) -> Option<&'static BuiltinDef> {
    BUILTINS.iter().find(|b| b.name == name)
}
