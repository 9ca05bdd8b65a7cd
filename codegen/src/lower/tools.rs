//! Lowering tools.yaml: tools sorted by name (dense ids), each with its
//! builtin's variant and its argument schema as a tree and as JSON text
//! (the config's `parameters`, else the builtin's own).
//!
//! Runs after `check/` passed, so a schema that does not compile here is
//! an internal error (GW0016), never a silent default.

use serde_json::Value;

use crate::diag::FileKind::Tools as F;
use crate::diag::ptr;
use crate::ir::{Tool, ToolSchema};
use crate::lower::Cx;
use crate::parse::tool_schema::{self, Node};
use crate::spec::ToolsFile;
use crate::spec::tools::builtin;

/// Every tool, in name order.
pub(crate) fn lower(file: &ToolsFile, cx: &mut Cx<'_>) -> Option<Vec<Tool>> {
    let mut tools = Vec::with_capacity(file.tools.len());
    for (i, (name, spec)) in file.tools.iter().enumerate() {
        cx.id16(i)?;
        let at = ptr(&["tools", name]);
        let Some(function) = spec.builtin.as_deref().and_then(builtin) else {
            cx.internal(F, &at);
            return None;
        };
        let parameters: Value = match &spec.parameters {
            Some(p) => p.clone(),
            None => serde_json::from_str(function.parameters).ok()?,
        };
        let Ok(node) = tool_schema::compile(&parameters) else {
            cx.internal(F, &format!("{at}/parameters"));
            return None;
        };
        tools.push(Tool {
            name: name.clone(),
            description: spec.description.clone(),
            builtin: function.variant.to_owned(),
            parameters: schema(node),
            parameters_json: parameters.to_string(),
        });
    }
    Some(tools)
}

/// A checked schema node as IR.
fn schema(node: Node) -> ToolSchema {
    match node {
        Node::Object {
            properties,
            required,
            additional,
        } => ToolSchema::Object {
            properties: properties
                .into_iter()
                .map(|(name, node)| (name, schema(node)))
                .collect(),
            required,
            additional,
        },
        Node::String {
            max_length,
            allowed,
        } => ToolSchema::Text {
            max_length,
            allowed,
        },
        Node::Number {
            integer,
            minimum,
            maximum,
        } => ToolSchema::Number {
            integer,
            minimum,
            maximum,
        },
        Node::Boolean => ToolSchema::Boolean,
        Node::Array { items } => ToolSchema::Array {
            items: items.map(|node| Box::new(schema(*node))),
        },
    }
}
