//! The load phase: a config file's text -> YAML value with a span index ->
//! checked against its JSON Schema (credential-looking values rejected) ->
//! ready to deserialize into the spec types. Also reads the files from disk.
//!
//! Not here: semantic checks (`check/`) and value parsing (`parse.rs`).

pub mod fs;
pub mod schema;
pub mod secrets;
pub mod yaml;
