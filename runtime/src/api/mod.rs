//! The endpoints, one module per family: chat completions, models,
//! operational endpoints. Each receives the gateway state from the router
//! and hands lower layers only what they need.

pub mod chat;
pub mod models;
pub mod ops;

use bytes::Bytes;
use http::{HeaderMap, header};
use hyper::body::Incoming;
use tokio::time::timeout;

use crate::body::{CollectError, collect_limited};
use crate::error::GatewayError;
use crate::table::Server;

/// Reads the client's body within the size limit and the body timeout.
pub async fn read_body(
    server: &Server,
    headers: &HeaderMap,
    body: Incoming,
) -> Result<Bytes, GatewayError> {
    let limit = server.max_request_body;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(GatewayError::PayloadTooLarge { limit });
    }
    let limit_bytes = usize::try_from(limit).unwrap_or(usize::MAX);
    match timeout(server.body_read_timeout, collect_limited(body, limit_bytes)).await {
        Err(_) => Err(GatewayError::BodyTimeout),
        Ok(Err(CollectError::TooLarge)) => Err(GatewayError::PayloadTooLarge { limit }),
        Ok(Err(CollectError::Body(_))) => Err(GatewayError::BodyIncomplete),
        Ok(Ok(bytes)) => Ok(bytes),
    }
}
