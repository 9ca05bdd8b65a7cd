//! The tool registry at run time: one call of a compiled tool, with its
//! arguments validated against the compiled schema before the call and the
//! result's size capped after it.
//!
//! Names leaves (`table`, `calendar`, `secrets`) and, for `kind: http`
//! tools, the upstream HTTP client's constructor (`http.rs`). Not here: who may call a tool
//! (`auth::Caller::may_use_tool`), the endpoints, the `tool.invoke` log line
//! and the outcome counted (`api/tools.rs`, `observe/metrics/tools.rs`).

mod builtin;
pub mod http;
pub mod mcp;
pub mod schema;

use std::time::Duration;

use serde_json::Value;

pub use http::HttpTools;
pub use mcp::McpTools;

use crate::table::{Tool, ToolKind};

/// The largest result a tool may return, as JSON text.
pub const MAX_RESULT_BYTES: usize = 64 * 1024;

/// Why a call produced no result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolError {
    /// The arguments do not fit the tool's schema (nothing was called).
    Arguments(schema::Violation),
    /// The tool ran and failed (e.g. a division by zero).
    Failed(String),
    /// The result is longer than [`result_limit`].
    TooLarge,
    /// An http tool's server could not be reached or broke off.
    Unreachable(String),
    /// An http tool's call took longer than its `timeout`.
    Timeout(Duration),
    /// An MCP tool is disabled (its pin drifted): the text says what to do.
    Unavailable(String),
}

/// What runs non-builtin tools: http tools' state and the MCP servers' tasks.
pub struct Tools {
    pub http: HttpTools,
    pub mcp: McpTools,
}

impl Tools {
    /// Whether `tool` may be listed and called now (false: a drifted MCP tool).
    pub fn is_enabled(&self, tool: crate::table::ToolId) -> bool {
        self.mcp.is_enabled(tool)
    }
}

/// Validates `arguments` against `tool`'s schema, runs it, and caps the result.
pub async fn invoke(
    tool: &'static Tool,
    arguments: &Value,
    tools: &Tools,
) -> Result<Value, ToolError> {
    schema::validate(tool.parameters, arguments, "arguments").map_err(ToolError::Arguments)?;
    match tool.kind {
        ToolKind::Builtin(function) => {
            let result = builtin::run(function, arguments).map_err(ToolError::Failed)?;
            within(result, MAX_RESULT_BYTES)
        }
        ToolKind::Http(call) => {
            tools
                .http
                .call(usize::from(tool.id.0), call, arguments)
                .await
        }
        ToolKind::Mcp(mcp) => tools.mcp.call(tool.id, mcp, arguments).await,
    }
}

/// The largest result `tool` may return: its JSON text for a builtin, the
/// response body for an http tool (`max_response_bytes`).
pub fn result_limit(tool: &Tool) -> u64 {
    match tool.kind {
        ToolKind::Builtin(_) => MAX_RESULT_BYTES as u64,
        ToolKind::Http(http) => http.max_response_bytes,
        ToolKind::Mcp(mcp) => mcp.server.max_response_bytes,
    }
}

/// The result, if its JSON text is at most `limit` bytes.
fn within(result: Value, limit: usize) -> Result<Value, ToolError> {
    if result.to_string().len() > limit {
        return Err(ToolError::TooLarge);
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{HttpTools, McpTools, ToolError, Tools, invoke, within};
    use crate::table::{Builtin, Property, Schema, Tool, ToolId, ToolKind};

    static CALCULATOR: Tool = Tool {
        id: ToolId(0),
        name: "calculator",
        description: "arithmetic",
        kind: ToolKind::Builtin(Builtin::Calculator),
        parameters: &Schema::Object {
            properties: &[
                Property {
                    name: "a",
                    schema: Schema::Number {
                        integer: false,
                        minimum: None,
                        maximum: None,
                    },
                },
                Property {
                    name: "b",
                    schema: Schema::Number {
                        integer: false,
                        minimum: None,
                        maximum: None,
                    },
                },
                Property {
                    name: "operation",
                    schema: Schema::Text {
                        max_length: None,
                        allowed: &["add", "divide", "multiply", "subtract"],
                    },
                },
            ],
            required: &["a", "b", "operation"],
            additional: false,
        },
        parameters_json: "{}",
    };

    #[tokio::test]
    async fn invoke_validates_then_runs() {
        let tools = &Tools {
            http: HttpTools::new(&[], &|_| None).unwrap(),
            mcp: McpTools::new(&[], &[], &|_| None).unwrap(),
        };
        let call = |arguments| async move { invoke(&CALCULATOR, &arguments, tools).await };
        let ok = call(json!({"operation": "add", "a": 1, "b": 2})).await;
        assert_eq!(ok, Ok(json!({"value": 3.0})));
        let bad = call(json!({"operation": "add", "a": "1", "b": 2}))
            .await
            .unwrap_err();
        assert!(
            matches!(&bad, ToolError::Arguments(v) if v.path == "arguments.a"),
            "{bad:?}"
        );
        let failed = call(json!({"operation": "divide", "a": 1, "b": 0})).await;
        assert_eq!(
            failed,
            Err(ToolError::Failed("division by zero".to_owned()))
        );
    }

    #[test]
    fn results_over_the_cap_are_refused() {
        let result = json!({"value": 12345});
        assert_eq!(within(result.clone(), 15), Ok(result.clone()));
        assert_eq!(within(result, 14), Err(ToolError::TooLarge));
    }
}
