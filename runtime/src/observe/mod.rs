//! Observability sinks: metric tables and their exposition, structured logs.
//! A sink calls nobody: it names only the leaves (tables, build info).

pub mod logging;
pub mod metrics;
