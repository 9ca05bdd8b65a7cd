//! Active health checks: one task per upstream that has `health_check`,
//! probing it every `interval` (a `GET <base_url><path>` or a minimal
//! one-token generation in the upstream's wire format), each probe bounded
//! by `timeout`; a 2xx passes. `unhealthy_threshold` failures in a row take
//! the upstream's deployments out of rotation, `healthy_threshold` passes
//! in a row bring them back. Verdict changes are logged as
//! `upstream.health`. The built-in mock is never checked.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Uri};
use http_body_util::Full;
use tokio::time::{Instant, MissedTickBehavior, interval, timeout_at};

use super::client::client_with_body;
use super::fleet::UpstreamState;
use super::retry::Fault;
use super::{HttpTarget, Target, WireFormat, request};
use crate::body::collect_limited;
use crate::table::{Config, HealthCheck, HealthProbe, Upstream};

/// The request id health probes carry upstream.
const PROBE_ID: HeaderValue = HeaderValue::from_static("gateway-health-check");

/// Starts a checker for every HTTP upstream with a `health_check`.
pub fn spawn_all(
    config: &'static Config,
    targets: &'static [Target],
    fleet: &'static super::Fleet,
) {
    for (upstream, target) in config.upstreams.iter().zip(targets) {
        let (Some(check), Target::Http(http), Some(state)) =
            (&upstream.health_check, target, fleet.upstream(upstream.id))
        else {
            continue;
        };
        match client_with_body::<ProbeBody>(upstream.timeouts.connect) {
            Ok(client) => {
                tokio::spawn(run((upstream, check), (http, client), state));
            }
            Err(error) => tracing::error!(
                event = "upstream.health_check_disabled",
                upstream = upstream.name,
                error,
            ),
        }
    }
}

/// A probe's body: its own type, so probes have their own client (and pool).
type ProbeBody = http_body_util::Either<Full<Bytes>, http_body_util::Empty<Bytes>>;

async fn run(
    (upstream, check): (&'static Upstream, &'static HealthCheck),
    (http, client): (&'static HttpTarget, ProbeClient),
    state: &'static UpstreamState,
) {
    let mut ticks = interval(check.interval);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let failure = probe(check, http, &client).await.err();
        let (healthy, unhealthy) = (check.healthy_threshold, check.unhealthy_threshold);
        if let Some(health) = state.record_check(failure, healthy, unhealthy) {
            let last_error = failure.map(super::fleet::describe).unwrap_or_default();
            tracing::warn!(
                event = "upstream.health",
                upstream = upstream.name,
                health = health.label(),
                last_error,
            );
        }
    }
}

/// One probe: `Ok` on a 2xx within the check's timeout.
type ProbeClient = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    ProbeBody,
>;

async fn probe(check: &HealthCheck, http: &HttpTarget, client: &ProbeClient) -> Result<(), Fault> {
    let probe_request = match check.probe {
        HealthProbe::Get(path) => {
            let url = probe_url(http, path).ok_or(Fault::Connect)?;
            let mut get = request(
                http,
                &url,
                Bytes::new(),
                HeaderMap::new(),
                (&PROBE_ID, false),
                None,
            );
            *get.method_mut() = Method::GET;
            *get.body_mut() = Full::new(Bytes::new());
            get.headers_mut().remove(http::header::CONTENT_TYPE);
            get
        }
        HealthProbe::Minimal(model) => {
            let body = minimal_body(http.wire, model);
            request(
                http,
                &http.url,
                body,
                HeaderMap::new(),
                (&PROBE_ID, false),
                None,
            )
        }
    };
    // Its own client and code, not `attempt()`: see `client_with_body`.
    let exchange = async {
        let probe_request = probe_request.map(http_body_util::Either::Left);
        let response = client.request(probe_request).await;
        let response = response.map_err(|_| Fault::Connect)?;
        let status = response.status().as_u16();
        // Read (bounded) so the pooled connection can be reused.
        let _ = collect_limited(response.into_body(), PROBE_BODY_LIMIT).await;
        match status {
            200..=299 => Ok(()),
            _ => Err(Fault::Status(status)),
        }
    };
    timeout_at(Instant::now() + check.timeout, exchange)
        .await
        .unwrap_or(Err(Fault::Timeout))
}

/// Most of a probe's answer read (a model list can be long; the rest is dropped).
const PROBE_BODY_LIMIT: usize = 1 << 20;

/// `<base_url><path>`: the endpoint URL with its endpoint path replaced.
fn probe_url(http: &HttpTarget, path: &str) -> Option<Uri> {
    let endpoint = match http.wire {
        WireFormat::OpenAi => "/chat/completions",
        WireFormat::Anthropic => "/messages",
    };
    let url = http.url.to_string();
    let base = url.strip_suffix(endpoint)?;
    format!("{base}{path}").parse().ok()
}

/// The smallest generation request in `wire`'s format: one token.
fn minimal_body(wire: WireFormat, model: &str) -> Bytes {
    let body = match wire {
        WireFormat::OpenAi => serde_json::json!({
            "model": model,
            "messages": [{ "role": "user", "content": "ping" }],
            "max_tokens": 1,
        }),
        WireFormat::Anthropic => serde_json::json!({
            "model": model,
            "max_tokens": 1,
            "messages": [{ "role": "user", "content": "ping" }],
        }),
    };
    Bytes::from(body.to_string())
}
