//! The HTTP layer: the listener and its connection limits, one client
//! connection's life, the socket as the HTTP library sees it, and the router
//! (head checks, dispatch to `api/`, the one log line and count per request).
//!
//! Only this layer and `api/` hold the whole gateway state; what they call
//! receives what it needs.

mod conn;
mod conn_state;
mod eof;
mod io;
mod router;
pub mod server;
