//! MCP streamable HTTP: each JSON-RPC message is a POST to the server's
//! endpoint with `Accept: application/json, text/event-stream`; the answer
//! is a JSON body or an SSE stream read until the response with our id
//! (capped at the server's `max_response_bytes`). The session id from
//! `initialize` and the protocol version go on every later request; a 404
//! on a session means it expired (`LinkError::Gone`).
//!
//! Names `tools` (the error type, the shared private-host rule), `secrets`,
//! the upstream client constructor and `translate`'s SSE parser.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::Value;

use super::LinkError;
use super::rpc::{self, PROTOCOL_VERSION};
use crate::secrets::{self, Resolved};
use crate::table::McpTransport;
use crate::translate::sse::SseParser;

type McpClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const SESSION_HEADER: &str = "mcp-session-id";

/// One server's endpoint, resolved at startup.
#[derive(Clone)]
pub struct Endpoint {
    client: McpClient,
    url: String,
    headers: Vec<(HeaderName, HeaderValue)>,
    max_bytes: u64,
}

/// A connected session (immutable; a new one replaces it on reconnect).
pub struct HttpLink {
    endpoint: Endpoint,
    session: Option<HeaderValue>,
}

impl Endpoint {
    /// The URL (`url_env` may replace its origin, host still allowed) and header secrets.
    pub fn new(
        transport: &McpTransport,
        max_bytes: u64,
        lookup_env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, String> {
        let McpTransport::StreamableHttp {
            url,
            origin,
            url_env,
            allow_hosts,
            allow_private,
            headers,
        } = transport
        else {
            return Err("not a streamable HTTP server".to_owned());
        };
        let url = match url_env.and_then(|name| Some((name, lookup_env(name)?))) {
            Some((name, value)) => {
                let new_origin =
                    crate::tools::http::checked_origin(&value, allow_hosts, *allow_private)
                        .map_err(|why| format!("`{name}` ({value}) {why}"))?;
                format!("{new_origin}{}", url.strip_prefix(origin).unwrap_or(""))
            }
            None => (*url).to_owned(),
        };
        let mut resolved = Vec::with_capacity(headers.len());
        for (name, secret) in *headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("`{name}` is not a header name"))?;
            match secrets::resolve(Some(*secret), lookup_env) {
                Resolved::Key(credential) => resolved.push((name, credential.raw)),
                Resolved::Missing(reason) => return Err(format!("header `{name}`: {reason}")),
                Resolved::None => {}
            }
        }
        let client = crate::upstream::client_with_body(CONNECT_TIMEOUT)?;
        Ok(Self {
            client,
            url,
            headers: resolved,
            max_bytes,
        })
    }

    /// `initialize`, then `notifications/initialized`, keeping the session id.
    pub async fn connect(&self) -> Result<(HttpLink, Value), LinkError> {
        let mut link = HttpLink {
            endpoint: self.clone(),
            session: None,
        };
        let body = rpc::request(0, "initialize", rpc::initialize_params());
        let (answer, session) = link.post(&body, Some(0)).await?;
        link.session = session;
        let result = rpc::result(answer.unwrap_or(Value::Null)).map_err(LinkError::Protocol)?;
        link.post(&rpc::notification("notifications/initialized"), None)
            .await?;
        Ok((link, result))
    }
}

impl HttpLink {
    /// One request; its answer.
    pub async fn request(&self, id: u64, method: &str, params: Value) -> Result<Value, LinkError> {
        let (answer, _) = self
            .post(&rpc::request(id, method, params), Some(id))
            .await?;
        answer.ok_or_else(|| LinkError::Protocol("the server sent no answer".to_owned()))
    }

    /// POSTs `message`; with `id`, reads the answer to it.
    async fn post(
        &self,
        message: &Value,
        id: Option<u64>,
    ) -> Result<(Option<Value>, Option<HeaderValue>), LinkError> {
        let e = &self.endpoint;
        let mut request = Request::post(&e.url)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/json, text/event-stream");
        for (name, value) in &e.headers {
            request = request.header(name, value);
        }
        if let Some(session) = &self.session {
            request = request
                .header(SESSION_HEADER, session)
                .header("mcp-protocol-version", PROTOCOL_VERSION);
        }
        let request = request
            .body(Full::new(Bytes::from(message.to_string())))
            .map_err(|e| LinkError::Unreachable(format!("the request could not be built: {e}")))?;
        let response = e.client.request(request).await.map_err(|error| {
            LinkError::Unreachable(format!("the MCP server could not be reached: {error}"))
        })?;
        let status = response.status();
        if status == StatusCode::NOT_FOUND && self.session.is_some() {
            return Err(LinkError::Gone);
        }
        if !status.is_success() {
            return Err(LinkError::Unreachable(format!(
                "the MCP server answered HTTP {}",
                status.as_u16()
            )));
        }
        let session = response.headers().get(SESSION_HEADER).cloned();
        let sse = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        let Some(id) = id else {
            return Ok((None, session));
        };
        let answer = read_answer(response.into_body(), id, sse, e.max_bytes).await?;
        Ok((Some(answer), session))
    }
}

/// The answer to `id`: the JSON body, or the first matching SSE event.
async fn read_answer<B>(mut body: B, id: u64, sse: bool, limit: u64) -> Result<Value, LinkError>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    let mut parser = SseParser::new();
    let (mut seen, mut whole) = (0u64, Vec::new());
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|e| LinkError::Unreachable(format!("the answer broke off: {e}")))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        seen += data.len() as u64;
        if seen > limit {
            return Err(LinkError::TooLarge);
        }
        if !sse {
            whole.extend_from_slice(&data);
            continue;
        }
        let mut answer = None;
        parser.feed(&data, &mut |_, event| {
            let message = serde_json::from_slice::<Value>(event).ok();
            answer = answer.take().or_else(|| rpc::answer_to(message?, id));
        });
        if let Some(answer) = answer {
            return Ok(answer);
        }
    }
    if sse {
        return Err(LinkError::Protocol(
            "the event stream ended without the answer".to_owned(),
        ));
    }
    let message: Value = serde_json::from_slice(&whole)
        .map_err(|e| LinkError::Protocol(format!("the answer is not JSON: {e}")))?;
    rpc::answer_to(message, id)
        .ok_or_else(|| LinkError::Protocol("the answer is for another request".to_owned()))
}
