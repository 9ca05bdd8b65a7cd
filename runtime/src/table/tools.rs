//! The compiled tool registry (tools.yaml): each tool's builtin function,
//! description, and its argument schema as a tree of `&'static` nodes that
//! `tools::schema` validates against (no JSON Schema library at run time).
//!
//! Data only: nothing here validates or runs a tool. Which principals may
//! use a tool is a bit set over [`ToolId`]s on keys and teams
//! ([`super::ModelAccess`] over tool ids).

/// Dense index into [`super::Config::tools`]; tools are sorted by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ToolId(pub u16);

/// One tool a caller may list and invoke.
#[derive(Debug)]
pub struct Tool {
    pub id: ToolId,
    /// The public name (`/v1/tools/{name}/invoke`): `[A-Za-z0-9_-]{1,64}`.
    pub name: &'static str,
    pub description: &'static str,
    /// What runs the tool.
    pub kind: ToolKind,
    /// The argument schema, compiled.
    pub parameters: &'static Schema,
    /// The same schema as JSON text, as `GET /v1/tools` shows it.
    pub parameters_json: &'static str,
}

/// What runs a tool. Only functions compiled into the binary today; HTTP
/// and MCP tools are later kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolKind {
    Builtin(Builtin),
}

/// The builtin functions (`runtime/src/tools/builtin.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// The current UTC time in RFC 3339.
    CurrentTime,
    /// One arithmetic operation (`add`, `subtract`, `multiply`, `divide`) on two numbers.
    Calculator,
}

/// A node of a compiled argument schema: the subset of JSON Schema the
/// gateway checks at build time (type, properties, required, enum,
/// minimum/maximum, maxLength, items, additionalProperties: false).
#[derive(Debug)]
pub enum Schema {
    Object {
        /// Sorted by name.
        properties: &'static [Property],
        required: &'static [&'static str],
        /// `false` when the schema says `additionalProperties: false`.
        additional: bool,
    },
    /// A JSON string.
    Text {
        max_length: Option<u32>,
        /// Allowed values; empty: any.
        allowed: &'static [&'static str],
    },
    /// `number`, or `integer` when `integer` is set.
    Number {
        integer: bool,
        minimum: Option<f64>,
        maximum: Option<f64>,
    },
    Boolean,
    Array {
        items: Option<&'static Schema>,
    },
}

/// One named property of an object schema.
#[derive(Debug)]
pub struct Property {
    pub name: &'static str,
    pub schema: Schema,
}
