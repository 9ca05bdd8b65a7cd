//! Prometheus text exposition (format 0.0.4) of the metric tables.
//!
//! Runs only on scrape; emits counter series that have been touched, so the
//! output stays small with large model tables. Not here: recording (`mod.rs`),
//! the routing series (`routing.rs`).

use std::fmt::Write as _;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use super::{
    AUTH_FAILURE_LABELS, CONNECTION_EVENT_LABELS, Live, MODEL_ROUTES, Metrics, ROUTE_LABELS,
    STATUS_SLOTS, UPSTREAM_SLOTS, UpstreamGauge, status_label,
};

impl Metrics {
    /// Prometheus text exposition; `live` holds the gauges owned elsewhere
    /// (upstream enabled/maintenance/health, deployment breaker/in flight).
    pub fn render(&self, live: &Live<'_>, uptime: Duration) -> String {
        let mut out = String::with_capacity(4096);
        let config = self.config;
        header(
            &mut out,
            "gateway_build_info",
            "gauge",
            "Build and config provenance; always 1.",
        );
        let build = crate::build_info::get();
        let _ = writeln!(
            out,
            "gateway_build_info{{version=\"{}\",environment=\"{}\",config_sha256=\"{}\",git_revision=\"{}\"}} 1",
            escape(build.version),
            escape(config.environment),
            config.config_sha256,
            escape(build.git_revision)
        );
        header(
            &mut out,
            "gateway_uptime_seconds",
            "gauge",
            "Seconds since the process started.",
        );
        let _ = writeln!(out, "gateway_uptime_seconds {}", uptime.as_secs_f64());
        self.render_requests(&mut out);
        self.render_latency(&mut out);
        self.render_upstreams(&mut out, live.upstreams);
        self.render_routing(&mut out, live);
        self.render_tokens(&mut out);
        self.tools.render(config.tools, &mut out);
        self.agents.render(config.agents, &mut out);
        self.mcp.render(&mut out);
        header(
            &mut out,
            "gateway_auth_failures_total",
            "counter",
            "Requests denied, by reason: missing_key, invalid_key, admin_key_required, admin_disabled, model_not_allowed.",
        );
        for (label, counter) in AUTH_FAILURE_LABELS.iter().zip(&self.auth_failures) {
            let _ = writeln!(
                out,
                "gateway_auth_failures_total{{reason=\"{label}\"}} {}",
                counter.load(Relaxed)
            );
        }
        self.render_connections(&mut out);
        header(
            &mut out,
            "gateway_requests_in_flight",
            "gauge",
            "Requests being handled now.",
        );
        let _ = writeln!(
            out,
            "gateway_requests_in_flight {}",
            self.in_flight.load(Relaxed)
        );
        header(
            &mut out,
            "gateway_streams_in_flight",
            "gauge",
            "Streaming responses being sent now.",
        );
        let _ = writeln!(
            out,
            "gateway_streams_in_flight {}",
            self.streams_in_flight.load(Relaxed)
        );
        out
    }

    fn render_connections(&self, out: &mut String) {
        header(
            out,
            "gateway_connections_total",
            "counter",
            "Client connection events: accepted, refused at max_connections, closed for no first byte or idleness, malformed heads.",
        );
        for (label, counter) in CONNECTION_EVENT_LABELS.iter().zip(&self.connection_events) {
            let _ = writeln!(
                out,
                "gateway_connections_total{{event=\"{label}\"}} {}",
                counter.load(Relaxed)
            );
        }
        header(
            out,
            "gateway_connections_open",
            "gauge",
            "Client connections open now.",
        );
        let _ = writeln!(
            out,
            "gateway_connections_open {}",
            self.connections_open.load(Relaxed)
        );
        header(
            out,
            "gateway_translation_dropped_fields_total",
            "counter",
            "Request fields dropped on purpose while translating between protocols (each logged as translation.dropped_fields).",
        );
        let _ = writeln!(
            out,
            "gateway_translation_dropped_fields_total {}",
            self.dropped_fields.load(Relaxed)
        );
        header(
            out,
            "gateway_accept_errors_total",
            "counter",
            "accept() failures (such as running out of file descriptors); the listener backs off after each.",
        );
        let _ = writeln!(
            out,
            "gateway_accept_errors_total {}",
            self.accept_errors.load(Relaxed)
        );
    }

    fn render_requests(&self, out: &mut String) {
        header(
            out,
            "gateway_requests_total",
            "counter",
            "Requests by route, public model and status.",
        );
        let models = self.config.models.len() + 1;
        for (index, row) in self.model_requests.chunks(STATUS_SLOTS).enumerate() {
            let (family, model_slot) = (index / models, index % models);
            let route = MODEL_ROUTES
                .get(family)
                .map_or("other", |r| ROUTE_LABELS[*r as usize]);
            let model = model_slot
                .checked_sub(1)
                .and_then(|i| self.config.models.get(i))
                .map_or("", |m| m.name);
            for (slot, counter) in row.iter().enumerate() {
                let value = counter.load(Relaxed);
                if value > 0 {
                    let status = status_label(slot);
                    let _ = writeln!(
                        out,
                        "gateway_requests_total{{route=\"{route}\",model=\"{}\",status=\"{status}\"}} {value}",
                        escape(model)
                    );
                }
            }
        }
        for (route, row) in self.other_requests.chunks(STATUS_SLOTS).enumerate().skip(1) {
            for (slot, counter) in row.iter().enumerate() {
                let value = counter.load(Relaxed);
                if value > 0 {
                    let status = status_label(slot);
                    let _ = writeln!(
                        out,
                        "gateway_requests_total{{route=\"{}\",model=\"\",status=\"{status}\"}} {value}",
                        ROUTE_LABELS[route]
                    );
                }
            }
        }
    }

    fn render_latency(&self, out: &mut String) {
        let name = "gateway_request_duration_seconds";
        header(
            out,
            name,
            "histogram",
            "Time to the response head, by route.",
        );
        for (route, label) in ROUTE_LABELS.iter().enumerate() {
            self.latency
                .render(out, name, &format!("route=\"{label}\""), route);
        }
    }

    fn render_upstreams(&self, out: &mut String, live: &[UpstreamGauge]) {
        header(
            out,
            "gateway_upstream_requests_total",
            "counter",
            "Upstream exchanges by upstream and status (or unreachable/timeout).",
        );
        for (index, row) in self.upstream_requests.chunks(UPSTREAM_SLOTS).enumerate() {
            let upstream = self.config.upstreams.get(index).map_or("", |u| u.name);
            for (slot, counter) in row.iter().enumerate() {
                let value = counter.load(Relaxed);
                if value > 0 {
                    let status = match slot.cmp(&STATUS_SLOTS) {
                        std::cmp::Ordering::Less => status_label(slot),
                        std::cmp::Ordering::Equal => "unreachable".to_string(),
                        std::cmp::Ordering::Greater => "timeout".to_string(),
                    };
                    let _ = writeln!(
                        out,
                        "gateway_upstream_requests_total{{upstream=\"{}\",status=\"{status}\"}} {value}",
                        escape(upstream)
                    );
                }
            }
        }
        type Read = fn(&UpstreamGauge) -> i8;
        let gauges: [(&str, &str, Read); 3] = [
            (
                "gateway_upstream_enabled",
                "1 if the upstream serves, 0 if disabled at startup.",
                |g| i8::from(g.enabled),
            ),
            (
                "gateway_upstream_maintenance",
                "1 if the upstream is in maintenance (takes no new requests), else 0.",
                |g| i8::from(g.maintenance),
            ),
            (
                "gateway_upstream_health",
                "Active health checks: 1 healthy, 0 unhealthy, -1 unknown or not checked.",
                |g| g.health,
            ),
        ];
        for (name, help, read) in gauges {
            header(out, name, "gauge", help);
            for (upstream, gauge) in self.config.upstreams.iter().zip(live) {
                let _ = writeln!(
                    out,
                    "{name}{{upstream=\"{}\"}} {}",
                    escape(upstream.name),
                    read(gauge)
                );
            }
        }
    }

    fn render_tokens(&self, out: &mut String) {
        header(
            out,
            "gateway_tokens_total",
            "counter",
            "Tokens reported by upstreams, by public model and direction.",
        );
        for (model, pair) in self.config.models.iter().zip(self.tokens.chunks(2)) {
            for (direction, counter) in ["prompt", "completion"].iter().zip(pair) {
                let value = counter.load(Relaxed);
                if value > 0 {
                    let _ = writeln!(
                        out,
                        "gateway_tokens_total{{model=\"{}\",direction=\"{direction}\"}} {value}",
                        escape(model.name)
                    );
                }
            }
        }
    }
}

pub(super) fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// Label value escaping per the text format: backslash, quote, newline.
pub(super) fn escape(value: &str) -> std::borrow::Cow<'_, str> {
    if value.contains(['\\', '"', '\n']) {
        value
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
            .into()
    } else {
        value.into()
    }
}
