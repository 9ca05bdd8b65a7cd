//! Integration tests of the config compiler: invalid fixtures -> rendered
//! report snapshots, warning fixtures -> rendered warnings, valid fixtures
//! and shipped configs -> golden Rust files,
//! schema freshness, source positions, the code table in the docs, and the
//! routing tables the shipped environments compile to.
//!
//! Regenerate: `GATEWAY_BLESS=1 cargo test -p gateway-codegen` (schemas and
//! golden files), `INSTA_UPDATE=always cargo test -p gateway-codegen`
//! (snapshots). Neither ever rewrites anything when `CI` is set.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

#[path = "codegen/common.rs"]
mod common;
#[path = "codegen/docs.rs"]
mod docs;
#[path = "codegen/fixtures.rs"]
mod fixtures;
#[path = "codegen/golden.rs"]
mod golden;
#[path = "codegen/layers.rs"]
mod layers;
#[path = "codegen/parse.rs"]
mod parse;
#[path = "codegen/positions.rs"]
mod positions;
#[path = "codegen/routing.rs"]
mod routing;
#[path = "codegen/schema.rs"]
mod schema;
#[path = "codegen/warnings.rs"]
mod warnings;
