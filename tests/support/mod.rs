//! Test support: spawn the gateway binary, a programmable mock upstream,
//! and a small HTTP client. Everything on loopback with ephemeral ports,
//! every wait bounded.

pub mod anthropic_upstream;
pub mod client;
pub mod faulty;
pub mod process;
pub mod redis;
pub mod upstream;

pub use anthropic_upstream::{
    ANTHROPIC_LONG_REPLY, ANTHROPIC_TEXT_REPLY, AnthropicRecorded, AnthropicUpstream,
    check_sdk_types, run_sdk_script, sdk_item, sdk_item_bytes, sdk_type_report, thinking_signature,
};
pub use client::*;
pub use process::*;
pub use upstream::*;

/// The test environment's inbound API key (its digest is in config/test/security.yaml).
pub const CLIENT_KEY: &str = "gw-test-key-1";
/// The test environment's admin key.
pub const ADMIN_KEY: &str = "gw-test-admin-key";
/// The secret the gateway must send to the `local` upstream.
pub const UPSTREAM_KEY: &str = "sk-upstream-secret-for-tests-0123456789";
/// The secret the gateway must send to the `anthropic` upstream (as `x-api-key`).
pub const ANTHROPIC_KEY: &str = "sk-ant-test-secret-0123456789";
/// The secret of the `secured` upstream (required; tests set it).
pub const SECOND_KEY: &str = "sk-second-secret-for-tests-9876543210";
