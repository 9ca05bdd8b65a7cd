//! SDK agents: Rust types an operator compiles into the gateway, named in
//! agents.yaml as `kind: sdk`, `path: <module>::<Type>` (the build checks
//! that `src/agents/<module>.rs` defines `pub struct <Type>;` and
//! `impl Agent for <Type>`). Each picks the next action of a run from the
//! transcript; the gateway runs the actions within the agent's bounds.
//! Add a module here with `pub mod <module>;`.

// An SDK agent is referenced only by an environment whose agents.yaml names it.
#![allow(dead_code, reason = "an environment may not use every SDK agent")]

pub mod arithmetic;
