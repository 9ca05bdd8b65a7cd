//! Exposition of the routing series: per-deployment histograms (touched
//! only), gauges from [`Live`] (every deployment), counters (touched only).
//! Not here: recording (`routing.rs`), the other families (`../render.rs`).

use std::fmt::{self, Display, Write as _};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use super::{
    BREAKER_LABELS, DeploymentGauge, FALLBACK_LABELS, Live, Metrics, STREAM_FAILURE_LABELS,
    TIMEOUT_LABELS, escape, header,
};
use crate::table::{Config, Deployment, Model};

impl Metrics {
    /// The routing series: per-deployment histograms and gauges, then counters.
    pub(in super::super) fn render_routing(&self, out: &mut String, live: &Live<'_>) {
        let config = self.config;
        let routing = &self.routing;
        for (name, table, help) in [
            (
                "gateway_upstream_request_duration_seconds",
                &routing.request_duration,
                "Duration of one try at a deployment: the whole upstream exchange, a stream to its last event.",
            ),
            (
                "gateway_upstream_ttft_seconds",
                &routing.ttft,
                "Time from sending a try to its first byte: a whole answer's head, a stream's first event.",
            ),
        ] {
            header(out, name, "histogram", help);
            for (model, deployment) in config.deployments() {
                let row = usize::from(deployment.id.0);
                if table.count(row) > 0 {
                    let labels = Labels::deployment(config, model, deployment).to_string();
                    table.render(out, name, &labels, row);
                }
            }
        }
        self.render_deployment_gauges(out, live);
        self.render_routing_counters(out);
    }

    fn render_deployment_gauges(&self, out: &mut String, live: &Live<'_>) {
        let config = self.config;
        type Read = fn(&DeploymentGauge) -> u32;
        let gauges: [(&str, &str, Read); 2] = [
            (
                "gateway_breaker_state",
                "Circuit breaker state per deployment: 0 closed, 1 open, 2 half-open.",
                |g| u32::from(g.breaker),
            ),
            (
                "gateway_deployment_in_flight",
                "Tries in flight at a deployment now.",
                |g| g.in_flight,
            ),
        ];
        for (name, help, read) in gauges {
            header(out, name, "gauge", help);
            for (model, deployment) in config.deployments() {
                if let Some(gauge) = live.deployments.get(usize::from(deployment.id.0)) {
                    let labels = Labels::deployment(config, model, deployment);
                    let _ = writeln!(out, "{name}{{{labels}}} {}", read(gauge));
                }
            }
        }
    }

    fn render_routing_counters(&self, out: &mut String) {
        let routing = &self.routing;
        let families = [
            (
                COUNTER_HELP[0],
                &routing.breaker_transitions,
                Rows::Deployments,
                Some(("to", &BREAKER_LABELS[..])),
            ),
            (COUNTER_HELP[1], &routing.retries, Rows::Models, None),
            (
                COUNTER_HELP[2],
                &routing.fallbacks,
                Rows::Models,
                Some(("reason", &FALLBACK_LABELS[..])),
            ),
            (
                COUNTER_HELP[3],
                &routing.timeouts,
                Rows::Upstreams,
                Some(("kind", &TIMEOUT_LABELS[..])),
            ),
            (
                COUNTER_HELP[4],
                &routing.stream_failures,
                Rows::Models,
                Some(("reason", &STREAM_FAILURE_LABELS[..])),
            ),
            (COUNTER_HELP[5], &routing.no_deployment, Rows::Models, None),
        ];
        for ((name, help), table, rows, column) in families {
            header(out, name, "counter", help);
            let counters = Counters {
                name,
                table,
                column,
            };
            counters.render(out, self.config, rows);
        }
    }
}

/// Name and HELP of the routing counter families, in render order.
const COUNTER_HELP: [(&str, &str); 6] = [
    (
        "gateway_breaker_transitions_total",
        "Circuit breaker transitions per deployment, by the state entered (closed, open, half_open).",
    ),
    (
        "gateway_retries_total",
        "Retries at the same public model (tries after the first).",
    ),
    (
        "gateway_fallbacks_total",
        "Requests moved from a public model to a fallback model, by reason (exhausted: its tries were spent; context_window: the prompt was too long).",
    ),
    (
        "gateway_upstream_timeouts_total",
        "Timeouts by upstream and kind (connect, first_byte, total, stream_idle; deadline: the model's deadline over the whole request expired during a try there).",
    ),
    (
        "gateway_stream_failures_total",
        "Streamed answers that did not finish normally, by public model and reason.",
    ),
    (
        "gateway_no_deployment_total",
        "Requests no deployment could take: every deployment of the model and of its fallbacks was unavailable (breaker open, maintenance, disabled, unhealthy).",
    ),
];

/// Which compiled ids index a counter table's rows.
#[derive(Clone, Copy)]
enum Rows {
    Deployments,
    Models,
    Upstreams,
}

/// A `[row][column]` counter table: `column` is the column label's key and
/// values (`None`: one column, no label).
struct Counters<'a> {
    name: &'a str,
    table: &'a [AtomicU64],
    column: Option<(&'a str, &'a [&'a str])>,
}

impl Counters<'_> {
    fn render(&self, out: &mut String, config: &'static Config, rows: Rows) {
        match rows {
            Rows::Deployments => self.render_touched(
                out,
                config
                    .deployments()
                    .map(|(m, d)| (usize::from(d.id.0), Labels::deployment(config, m, d))),
            ),
            Rows::Models => self.render_touched(
                out,
                config
                    .models
                    .iter()
                    .map(|m| (usize::from(m.id.0), Labels::One("model", m.name))),
            ),
            Rows::Upstreams => self.render_touched(
                out,
                config
                    .upstreams
                    .iter()
                    .map(|u| (usize::from(u.id.0), Labels::One("upstream", u.name))),
            ),
        }
    }

    /// Writes the touched series; `rows` yields each row's index with its labels.
    fn render_touched(&self, out: &mut String, rows: impl Iterator<Item = (usize, Labels)>) {
        let (name, column) = (self.name, self.column);
        let width = column.map_or(1, |(_, values)| values.len());
        for (row, labels) in rows {
            let counters = self
                .table
                .get(row * width..(row + 1) * width)
                .unwrap_or_default();
            for (slot, counter) in counters.iter().enumerate() {
                let value = counter.load(Relaxed);
                if value == 0 {
                    continue;
                }
                let _ = match column {
                    Some((key, values)) => {
                        let label = values.get(slot).copied().unwrap_or("other");
                        writeln!(out, "{name}{{{labels},{key}=\"{label}\"}} {value}")
                    }
                    None => writeln!(out, "{name}{{{labels}}} {value}"),
                };
            }
        }
    }
}

/// A series' row labels, escaped when written: `key="value"`, or a
/// deployment's `model="…",upstream="…",upstream_model="…"`.
enum Labels {
    One(&'static str, &'static str),
    Deployment {
        model: &'static str,
        upstream: &'static str,
        upstream_model: &'static str,
    },
}

impl Labels {
    fn deployment(config: &Config, model: &'static Model, deployment: &'static Deployment) -> Self {
        Self::Deployment {
            model: model.name,
            upstream: config.upstream(deployment.upstream).map_or("", |u| u.name),
            upstream_model: deployment.upstream_model,
        }
    }
}

impl Display for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::One(key, value) => write!(f, "{key}=\"{}\"", escape(value)),
            Self::Deployment {
                model,
                upstream,
                upstream_model,
            } => write!(
                f,
                "model=\"{}\",upstream=\"{}\",upstream_model=\"{}\"",
                escape(model),
                escape(upstream),
                escape(upstream_model)
            ),
        }
    }
}
