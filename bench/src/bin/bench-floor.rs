//! bench-floor: the hyper 1.x floor proxy, the best a hyper proxy can do
//! and the yardstick the gateway's figures are divided by.
//!
//! One current_thread runtime, an HTTP/1.1 server with `TCP_NODELAY`, one
//! pooled keep-alive client (`TCP_NODELAY`); it forwards method, path and
//! query, headers (minus `connection`; `Host` set to the upstream) and the
//! streaming bodies both ways. No parsing, no auth, no logging, no metrics:
//! anything a gateway does beyond this is what the benchmark charges it for.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use gateway_bench::args::Args;
use gateway_bench::error::or_exit;
use gateway_bench::{Failure, process};
use http::header::{CONNECTION, HOST};
use http::uri::{Authority, Scheme};
use http::{HeaderValue, Request, Response, StatusCode, Uri};
use http_body_util::{Either, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};

const TOOL: &str = "bench-floor";
const USAGE: &str = "\
usage: bench-floor --upstream http://HOST:PORT [--listen ADDR]

The hyper floor proxy. Prints `listening on ADDR` first; runs until SIGTERM/SIGINT.
  --upstream URL   where every request goes (path and query are kept)
  --listen ADDR    address to bind (default 127.0.0.1:0 = any free port)";

struct Upstream {
    client: Client<HttpConnector, Incoming>,
    authority: Authority,
    host: HeaderValue,
}

type ProxyBody = Either<Incoming, Full<Bytes>>;

fn main() {
    let mut args = Args::from_env(TOOL, USAGE);
    let listen: SocketAddr = or_exit(args.or("--listen", SocketAddr::from(([127, 0, 0, 1], 0))));
    let url: Uri = or_exit(args.required("--upstream", "http://127.0.0.1:9000"));
    or_exit(args.finish());
    let authority = or_exit(upstream_authority(&url));
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client = Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .build(connector);
    let host = or_exit(HeaderValue::from_str(authority.as_str()).map_err(|_| bad_upstream(&url)));
    let upstream: &'static Upstream = Box::leak(Box::new(Upstream {
        client,
        authority,
        host,
    }));
    let runtime = or_exit(process::runtime(TOOL, 1));
    or_exit(runtime.block_on(serve(listen, upstream)));
}

async fn serve(listen: SocketAddr, upstream: &'static Upstream) -> Result<(), Failure> {
    let listener = process::listen(TOOL, listen).await?;
    let shutdown = process::shutdown_signal(TOOL);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                // Accept errors (EMFILE) are the caller's ulimit; keep serving.
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let service = service_fn(move |request| forward(upstream, request));
                tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(stream), service));
            }
            () = &mut shutdown => return Ok(()),
        }
    }
}

async fn forward(
    upstream: &'static Upstream,
    mut request: Request<Incoming>,
) -> Result<Response<ProxyBody>, Infallible> {
    let mut parts = http::uri::Parts::default();
    parts.scheme = Some(Scheme::HTTP);
    parts.authority = Some(upstream.authority.clone());
    parts.path_and_query = request.uri().path_and_query().cloned();
    let Ok(uri) = Uri::from_parts(parts) else {
        return Ok(status(StatusCode::BAD_REQUEST));
    };
    *request.uri_mut() = uri;
    let headers = request.headers_mut();
    headers.remove(CONNECTION);
    headers.insert(HOST, upstream.host.clone());
    match upstream.client.request(request).await {
        Ok(mut response) => {
            response.headers_mut().remove(CONNECTION);
            Ok(response.map(Either::Left))
        }
        Err(_) => Ok(status(StatusCode::BAD_GATEWAY)),
    }
}

fn status(code: StatusCode) -> Response<ProxyBody> {
    let mut response = Response::new(Either::Right(Full::new(Bytes::new())));
    *response.status_mut() = code;
    response
}

fn upstream_authority(url: &Uri) -> Result<Authority, Failure> {
    let plain = url.scheme() == Some(&Scheme::HTTP)
        && url.path_and_query().is_none_or(|pq| pq.as_str() == "/");
    match url.authority() {
        Some(authority) if plain => Ok(authority.clone()),
        _ => Err(bad_upstream(url)),
    }
}

fn bad_upstream(url: &Uri) -> Failure {
    Failure::new(
        format!("{TOOL}: --upstream {url} is not http://HOST:PORT"),
        "pass the upstream origin only, e.g. `--upstream http://127.0.0.1:9000`; request paths are forwarded as they come",
    )
}
