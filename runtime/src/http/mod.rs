//! The HTTP layer: the listener and its connection limits, one client
//! connection's life, and the socket as the HTTP library sees it.
//!
//! Only this layer (and the request router, `service.rs`) holds the whole
//! gateway state; what it calls receives what it needs.

mod conn;
mod conn_state;
mod eof;
mod io;
pub mod server;
