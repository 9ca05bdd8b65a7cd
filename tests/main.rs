//! The one integration-test binary (`autotests = false`): black-box tests
//! of the built `gateway` binary, plus the golden copies of generated code
//! compiled against the real runtime.
//!
//! The binary under test must be built for the `test` environment
//! (`GATEWAY_ENV=test`, which the README's test command sets); every test
//! checks that first and says how to fix it.

// Test support code fails loudly by design: a broken rig must stop the test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test harness code; a failed setup step is a test failure"
)]

mod access;
mod agent_runs;
// The SDK agents of the root crate: the golden `test` config names
// `crate::agents::arithmetic::Arithmetic`, as the gateway binary's does.
#[path = "../src/agents/mod.rs"]
mod agents;
mod anthropic;
mod anthropic_rig;
mod api;
mod auth;
mod claude_code;
mod errors;
mod failover;
mod golden;
mod hardening;
mod hostile;
mod http_tools;
mod invariants;
mod jwt;
mod lifecycle;
mod mcp_server;
mod mcp_tools;
mod mock_tools;
mod openai_sdk;
mod quotas;
mod quotas_shared;
mod streaming;
mod support;
mod tools;
