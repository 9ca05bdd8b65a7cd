//! Tools of tools.yaml (a placeholder until tools ship: checked, not emitted).

use schemars::JsonSchema;
use serde::Deserialize;

/// One tool.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ToolSpec {
    /// What the tool does.
    pub description: String,
}
