//! Quotas: rate limits and budgets, enforced from compiled tables against a
//! local (in-process, atomics) or shared (Redis) store.
//!
//! `shared.rs` is the Redis store: one Lua script call per check.

#![allow(dead_code, reason = "being built: wired into the request path by the quota integration")]

pub mod shared;
