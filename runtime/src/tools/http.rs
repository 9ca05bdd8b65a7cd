//! `kind: http` tools at run time: the per-tool state resolved once at
//! startup (the origin, possibly overridden by `url_env` with its host still
//! checked against the compiled allowlist, and the header secrets), the URL
//! built from validated arguments (placeholders percent-encoded as path
//! segments, so no argument reaches the authority), and one bounded call.
//!
//! Names leaves (`table`, `secrets`) and the upstream client constructor.
//! Not here: schema validation (`schema.rs`, run before any call), logs and
//! metrics (`api/tools.rs`).

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Request, header};
use http_body_util::{BodyExt, Either, Empty, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Map, Value};

use super::ToolError;
use crate::secrets::{self, Resolved};
use crate::table::{HttpMethod, HttpTool, Tool, ToolKind, UrlPiece};

/// A request body: none for GET/DELETE, JSON otherwise. Its own type so the
/// request path's `Client::request` stays a single caller (see `upstream/client.rs`).
type ToolBody = Either<Full<Bytes>, Empty<Bytes>>;
type ToolClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, ToolBody>;

/// Connect timeout of tool calls (the tool's own `timeout` bounds the whole call).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// What every http tool needs at run time, indexed by `ToolId`.
pub struct HttpTools {
    client: Option<ToolClient>,
    ready: Box<[Option<Ready>]>,
}

/// One http tool, resolved at startup.
struct Ready {
    origin: String,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl HttpTools {
    /// Resolves every http tool's origin and header secrets; the error lists every problem.
    pub fn new(
        tools: &'static [Tool],
        lookup_env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, String> {
        let mut problems = Vec::new();
        let ready = tools
            .iter()
            .map(|tool| match tool.kind {
                ToolKind::Http(http) => prepare(http, lookup_env)
                    .map_err(|why| problems.push(format!("tool `{}`: {why}", tool.name)))
                    .ok(),
                ToolKind::Builtin(_) | ToolKind::Mcp(_) => None,
            })
            .collect();
        if !problems.is_empty() {
            return Err(problems.join("; "));
        }
        let any = tools.iter().any(|t| matches!(t.kind, ToolKind::Http(_)));
        let client = if any {
            Some(crate::upstream::client_with_body(CONNECT_TIMEOUT)?)
        } else {
            None
        };
        Ok(Self { client, ready })
    }

    /// Calls `http` tool `index` (its arguments already validated).
    pub async fn call(
        &self,
        index: usize,
        http: &'static HttpTool,
        arguments: &Value,
    ) -> Result<Value, ToolError> {
        let (Some(client), Some(Some(ready))) = (&self.client, self.ready.get(index)) else {
            return Err(ToolError::Unreachable(
                "the tool is not configured".to_owned(),
            ));
        };
        let (url, body) = build(&ready.origin, http, arguments)?;
        let mut request = Request::builder().method(method(http.method)).uri(url);
        for (name, value) in &ready.headers {
            request = request.header(name, value);
        }
        let body = match body {
            Some(json) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Either::Left(Full::new(Bytes::from(json)))
            }
            None => Either::Right(Empty::new()),
        };
        let request = request
            .header(header::ACCEPT, "application/json")
            .body(body)
            .map_err(|e| ToolError::Unreachable(format!("the request could not be built: {e}")))?;
        let limit = Duration::from_millis(http.timeout_ms);
        let exchange = async {
            let response = client
                .request(request)
                .await
                .map_err(|e| ToolError::Unreachable(describe(&e)))?;
            let (parts, body) = response.into_parts();
            let bytes = read_capped(body, http.max_response_bytes).await?;
            Ok::<_, ToolError>((parts, bytes))
        };
        let (parts, bytes) = tokio::time::timeout(limit, exchange)
            .await
            .map_err(|_| ToolError::Timeout(limit))??;
        if !parts.status.is_success() {
            return Err(ToolError::Failed(format!(
                "the tool's server answered HTTP {}",
                parts.status.as_u16()
            )));
        }
        Ok(result(&bytes))
    }
}

/// The origin (compiled, or `url_env`'s with an allowed host) and the headers.
fn prepare(http: &HttpTool, lookup_env: &dyn Fn(&str) -> Option<String>) -> Result<Ready, String> {
    let origin = match http
        .url_env
        .and_then(|name| Some((name, lookup_env(name)?)))
    {
        Some((name, value)) => {
            override_origin(http, &value).map_err(|why| format!("`{name}` ({value}) {why}"))?
        }
        None => http.origin.to_owned(),
    };
    let mut headers = Vec::with_capacity(http.headers.len());
    for (name, secret) in http.headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("`{name}` is not a header name"))?;
        match secrets::resolve(Some(*secret), lookup_env) {
            Resolved::Key(credential) => headers.push((name, credential.raw)),
            Resolved::Missing(reason) => return Err(format!("header `{name}`: {reason}")),
            Resolved::None => {}
        }
    }
    Ok(Ready { origin, headers })
}

/// `value` as an origin: `http(s)://host[:port]`, nothing else, host allowed.
fn override_origin(http: &HttpTool, value: &str) -> Result<String, String> {
    checked_origin(value, http.allow_hosts, http.allow_private)
}

/// `value` as an origin whose host is in `allow_hosts` (private only when
/// `allow_private`); shared with MCP servers' `url_env`.
pub(crate) fn checked_origin(
    value: &str,
    allow_hosts: &[&str],
    allow_private: bool,
) -> Result<String, String> {
    let value = value.trim_end_matches('/');
    let uri: http::Uri = value.parse().map_err(|_| "is not a URL".to_owned())?;
    let scheme_ok = matches!(uri.scheme_str(), Some("http" | "https"));
    let bare = uri.path_and_query().is_none_or(|p| p.as_str() == "/");
    let authority = uri.authority().ok_or("has no host")?;
    if !scheme_ok || !bare || authority.as_str().contains('@') {
        return Err("must be `http(s)://host[:port]` and nothing more".to_owned());
    }
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']');
    let host = host.to_ascii_lowercase();
    if !allow_hosts.contains(&host.as_str()) {
        return Err(format!(
            "names host `{host}`, which is not in `allow_hosts`"
        ));
    }
    if !allow_private && is_private_host(&host) {
        return Err(format!(
            "names private host `{host}` without `allow_private`"
        ));
    }
    Ok(value.to_owned())
}

/// The URL and, for POST/PUT/PATCH, the JSON body of one call.
pub fn build(
    origin: &str,
    http: &HttpTool,
    arguments: &Value,
) -> Result<(String, Option<Vec<u8>>), ToolError> {
    let empty = Map::new();
    let arguments = arguments.as_object().unwrap_or(&empty);
    let mut url = origin.to_owned();
    let mut used = Vec::new();
    for piece in http.path {
        match piece {
            UrlPiece::Literal(text) => url.push_str(text),
            UrlPiece::Arg(name) => {
                let value = match arguments.get(*name) {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Number(n)) if n.is_i64() || n.is_u64() => n.to_string(),
                    _ => {
                        return Err(ToolError::Failed(format!(
                            "the URL argument `{name}` is missing or not a string or integer"
                        )));
                    }
                };
                if value.is_empty() || value == "." || value == ".." {
                    return Err(ToolError::Failed(format!(
                        "the URL argument `{name}` may not be empty, `.` or `..`"
                    )));
                }
                encode(&value, &mut url);
                used.push(*name);
            }
        }
    }
    let rest = arguments
        .iter()
        .filter(|(k, _)| !used.contains(&k.as_str()));
    if http.query_arguments {
        let mut query = http.query.to_owned();
        for (key, value) in rest {
            let text = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if !query.is_empty() {
                query.push('&');
            }
            encode(key, &mut query);
            query.push('=');
            encode(&text, &mut query);
        }
        if !query.is_empty() {
            url.push('?');
            url.push_str(&query);
        }
        return Ok((url, None));
    }
    if !http.query.is_empty() {
        url.push('?');
        url.push_str(http.query);
    }
    let body: Map<String, Value> = rest.map(|(k, v)| (k.clone(), v.clone())).collect();
    let body = serde_json::to_vec(&body).unwrap_or_default();
    Ok((url, Some(body)))
}

/// Appends `text` percent-encoded: only RFC 3986 unreserved bytes stay as they are.
fn encode(text: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
}

fn method(method: HttpMethod) -> Method {
    match method {
        HttpMethod::Get => Method::GET,
        HttpMethod::Post => Method::POST,
        HttpMethod::Put => Method::PUT,
        HttpMethod::Patch => Method::PATCH,
        HttpMethod::Delete => Method::DELETE,
    }
}

/// Reads the body, failing as soon as it passes `limit` bytes.
async fn read_capped<B>(mut body: B, limit: u64) -> Result<Vec<u8>, ToolError>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|e| ToolError::Unreachable(format!("the answer broke off: {e}")))?;
        if let Ok(data) = frame.into_data() {
            if (out.len() + data.len()) as u64 > limit {
                return Err(ToolError::TooLarge);
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(out)
}

/// The JSON body, else the text as `{"text": ...}`.
fn result(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| serde_json::json!({ "text": String::from_utf8_lossy(bytes) }))
}

/// A connection failure in words (the error chain, no secret in it).
fn describe(error: &hyper_util::client::legacy::Error) -> String {
    let mut text = if error.is_connect() {
        "the tool's server could not be reached".to_owned()
    } else {
        "the call to the tool's server failed".to_owned()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// `localhost` or a loopback, private, link-local, unique-local, shared or
/// unspecified address (the same rule as the build's GW1009).
fn is_private_host(host: &str) -> bool {
    use std::net::IpAddr;
    if host == "localhost" || host.ends_with(".localhost") {
        return true;
    }
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => {
            let [a, b, ..] = ip.octets();
            ip.is_loopback()
                || ip.is_private()
                || ip.is_link_local()
                || ip.is_unspecified()
                || (a == 100 && (64..128).contains(&b))
        }
        Ok(IpAddr::V6(ip)) => {
            let first = ip.segments()[0];
            ip.is_loopback()
                || ip.is_unspecified()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || ip
                    .to_ipv4_mapped()
                    .is_some_and(|v4| is_private_host(&v4.to_string()))
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests;
