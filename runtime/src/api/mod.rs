//! The endpoints, one module per family: chat completions, models,
//! operational endpoints. Each receives the gateway state from the router
//! and hands lower layers only what they need.

pub mod chat;
pub mod models;
pub mod ops;
