//! Unit tests of the metric tables and their exposition.

use super::render::escape;
use super::*;
use crate::table::DeploymentId;
use crate::testing::CONFIG;

/// Upstream "one" serves and is healthy; "two" is disabled, in maintenance, unchecked.
const UPSTREAMS: [UpstreamGauge; 2] = [
    UpstreamGauge {
        enabled: true,
        maintenance: false,
        health: 1,
    },
    UpstreamGauge {
        enabled: false,
        maintenance: true,
        health: -1,
    },
];

/// Deployment 0 (alpha on "one") is open with 3 tries in flight; 1 (beta on "two") half-open.
const DEPLOYMENTS: [DeploymentGauge; 2] = [
    DeploymentGauge {
        in_flight: 3,
        breaker: 1,
    },
    DeploymentGauge {
        in_flight: 0,
        breaker: 2,
    },
];

fn live<'a>(upstreams: &'a [UpstreamGauge], deployments: &'a [DeploymentGauge]) -> Live<'a> {
    Live {
        upstreams,
        deployments,
    }
}

/// Renders with the fixture gauges; asserts every `present` line is there
/// and no line starts with any of `absent`.
fn check(metrics: &Metrics, present: &[&str], absent: &[&str]) {
    let text = metrics.render(&live(&UPSTREAMS, &DEPLOYMENTS), Duration::ZERO);
    for line in present {
        assert!(
            text.lines().any(|l| l == *line),
            "missing `{line}`:\n{text}"
        );
    }
    for prefix in absent {
        assert!(
            !text.lines().any(|l| l.starts_with(prefix)),
            "unexpected `{prefix}`:\n{text}"
        );
    }
}

const ALPHA: &str = r#"model="alpha",upstream="one",upstream_model="alpha-upstream""#;
const BETA: &str = r#"model="beta",upstream="two",upstream_model="beta""#;

#[test]
fn statuses_map_to_code_or_class() {
    assert_eq!(status_label(status_slot(200)), "200");
    assert_eq!(status_label(status_slot(504)), "504");
    assert_eq!(status_label(status_slot(418)), "4xx");
    assert_eq!(status_label(status_slot(599)), "5xx");
    assert_eq!(status_label(status_slot(302)), "3xx");
}

#[test]
fn renders_only_touched_series_with_labels() {
    let metrics = Metrics::new(&CONFIG);
    metrics.record_request(
        Route::ChatCompletions,
        Some(ModelId(1)),
        200,
        Duration::from_millis(3),
    );
    metrics.record_request(
        Route::ChatCompletions,
        None,
        404,
        Duration::from_micros(100),
    );
    metrics.record_upstream(UpstreamId(0), UpstreamOutcome::Timeout);
    metrics.record_upstream(UpstreamId(0), UpstreamOutcome::Status(429));
    metrics.record_tokens(ModelId(1), 7, 3);
    let text = metrics.render(&live(&UPSTREAMS, &DEPLOYMENTS), Duration::from_secs(1));
    assert!(
        text.contains(&format!(
            "gateway_build_info{{version=\"{}\",environment=\"unit\",config_sha256=\"{}\",git_revision=\"unknown\"}} 1",
            env!("CARGO_PKG_VERSION"),
            CONFIG.config_sha256
        )),
        "{text}"
    );
    assert!(
        text.contains(
            "gateway_requests_total{route=\"chat_completions\",model=\"beta\",status=\"200\"} 1"
        ),
        "{text}"
    );
    assert!(text.contains(
        "gateway_requests_total{route=\"chat_completions\",model=\"\",status=\"404\"} 1"
    ));
    assert!(
        text.lines()
            .filter(|l| l.contains("model=\"alpha\""))
            .all(|l| l.starts_with("gateway_breaker_state{")
                || l.starts_with("gateway_deployment_in_flight{")),
        "an untouched model renders only in the every-deployment gauges: {text}"
    );
    assert!(
        text.contains("gateway_upstream_requests_total{upstream=\"one\",status=\"timeout\"} 1")
    );
    assert!(text.contains("gateway_upstream_requests_total{upstream=\"one\",status=\"429\"} 1"));
    assert!(text.contains("gateway_tokens_total{model=\"beta\",direction=\"completion\"} 3"));
    assert!(text.contains("gateway_upstream_enabled{upstream=\"two\"} 0"));
    assert!(text.contains(
        "gateway_request_duration_seconds_bucket{route=\"chat_completions\",le=\"0.005\"} 2"
    ));
    assert!(text.contains("gateway_request_duration_seconds_count{route=\"chat_completions\"} 2"));
}

#[test]
fn in_flight_guard_counts_down() {
    let metrics = Metrics::new(&CONFIG);
    let guard = metrics.in_flight();
    assert!(
        metrics
            .render(&live(&UPSTREAMS, &DEPLOYMENTS), Duration::ZERO)
            .contains("gateway_requests_in_flight 1")
    );
    drop(guard);
    assert!(
        metrics
            .render(&live(&UPSTREAMS, &DEPLOYMENTS), Duration::ZERO)
            .contains("gateway_requests_in_flight 0")
    );
}

#[test]
fn label_values_are_escaped() {
    assert_eq!(escape("a\"b\\c"), "a\\\"b\\\\c");
}

#[test]
fn routing_counters_render_touched_series_only() {
    let metrics = Metrics::new(&CONFIG);
    check(
        &metrics,
        &[],
        &[
            "gateway_breaker_transitions_total{",
            "gateway_retries_total{",
            "gateway_fallbacks_total{",
            "gateway_upstream_timeouts_total{",
            "gateway_stream_failures_total{",
            "gateway_no_deployment_total{",
        ],
    );
    metrics.record_breaker_transition(DeploymentId(0), 1);
    metrics.record_breaker_transition(DeploymentId(0), 1);
    metrics.record_breaker_transition(DeploymentId(1), 2);
    metrics.record_breaker_transition(DeploymentId(0), 3); // no such state: ignored
    metrics.record_retry(ModelId(1));
    metrics.record_fallback(ModelId(0), FallbackReason::ContextWindow);
    metrics.record_timeout(UpstreamId(1), TimeoutKind::StreamIdle);
    metrics.record_timeout(UpstreamId(0), TimeoutKind::Deadline);
    metrics.record_stream_failure(ModelId(1), StreamFailure::ClientGone);
    metrics.record_stream_failure(ModelId(0), StreamFailure::Truncated);
    metrics.record_no_deployment(ModelId(0));
    check(
        &metrics,
        &[
            &format!("gateway_breaker_transitions_total{{{ALPHA},to=\"open\"}} 2"),
            &format!("gateway_breaker_transitions_total{{{BETA},to=\"half_open\"}} 1"),
            "gateway_retries_total{model=\"beta\"} 1",
            "gateway_fallbacks_total{model=\"alpha\",reason=\"context_window\"} 1",
            "gateway_upstream_timeouts_total{upstream=\"two\",kind=\"stream_idle\"} 1",
            "gateway_upstream_timeouts_total{upstream=\"one\",kind=\"deadline\"} 1",
            "gateway_stream_failures_total{model=\"beta\",reason=\"client_disconnected\"} 1",
            "gateway_stream_failures_total{model=\"alpha\",reason=\"upstream_stream_truncated\"} 1",
            "gateway_no_deployment_total{model=\"alpha\"} 1",
        ],
        &[
            &format!("gateway_breaker_transitions_total{{{ALPHA},to=\"closed\""),
            &format!("gateway_breaker_transitions_total{{{BETA},to=\"closed\""),
            "gateway_retries_total{model=\"alpha\"",
            "gateway_fallbacks_total{model=\"alpha\",reason=\"exhausted\"",
            "gateway_fallbacks_total{model=\"beta\"",
            "gateway_no_deployment_total{model=\"beta\"",
        ],
    );
}

#[test]
fn deployment_histograms_are_cumulative_and_touched_only() {
    let metrics = Metrics::new(&CONFIG);
    check(
        &metrics,
        &[],
        &[
            "gateway_upstream_ttft_seconds_",
            "gateway_upstream_request_duration_seconds_",
        ],
    );
    for elapsed in [3, 200, 200_000] {
        metrics.record_ttft(DeploymentId(0), Duration::from_millis(elapsed));
    }
    metrics.record_upstream_latency(DeploymentId(1), Duration::from_millis(40));
    let ttft = "gateway_upstream_ttft_seconds";
    let duration = "gateway_upstream_request_duration_seconds";
    check(
        &metrics,
        &[
            &format!("{ttft}_bucket{{{ALPHA},le=\"0.0025\"}} 0"),
            &format!("{ttft}_bucket{{{ALPHA},le=\"0.005\"}} 1"),
            &format!("{ttft}_bucket{{{ALPHA},le=\"0.1\"}} 1"),
            &format!("{ttft}_bucket{{{ALPHA},le=\"0.25\"}} 2"),
            &format!("{ttft}_bucket{{{ALPHA},le=\"120\"}} 2"),
            &format!("{ttft}_bucket{{{ALPHA},le=\"+Inf\"}} 3"),
            &format!("{ttft}_sum{{{ALPHA}}} 200.203"),
            &format!("{ttft}_count{{{ALPHA}}} 3"),
            &format!("{duration}_bucket{{{BETA},le=\"0.025\"}} 0"),
            &format!("{duration}_bucket{{{BETA},le=\"0.05\"}} 1"),
            &format!("{duration}_sum{{{BETA}}} 0.04"),
            &format!("{duration}_count{{{BETA}}} 1"),
        ],
        &[
            &format!("{ttft}_bucket{{{BETA}"),
            &format!("{ttft}_count{{{BETA}"),
            &format!("{duration}_bucket{{{ALPHA}"),
            &format!("{duration}_count{{{ALPHA}"),
        ],
    );
}

#[test]
fn gauges_render_from_live_for_every_upstream_and_deployment() {
    let metrics = Metrics::new(&CONFIG);
    check(
        &metrics,
        &[
            &format!("gateway_breaker_state{{{ALPHA}}} 1"),
            &format!("gateway_breaker_state{{{BETA}}} 2"),
            &format!("gateway_deployment_in_flight{{{ALPHA}}} 3"),
            &format!("gateway_deployment_in_flight{{{BETA}}} 0"),
            "gateway_upstream_enabled{upstream=\"one\"} 1",
            "gateway_upstream_enabled{upstream=\"two\"} 0",
            "gateway_upstream_maintenance{upstream=\"one\"} 0",
            "gateway_upstream_maintenance{upstream=\"two\"} 1",
            "gateway_upstream_health{upstream=\"one\"} 1",
            "gateway_upstream_health{upstream=\"two\"} -1",
        ],
        &[],
    );
    let text = metrics.render(&live(&UPSTREAMS[..1], &[]), Duration::ZERO);
    assert!(!text.contains("gateway_breaker_state{"), "{text}");
    assert!(!text.contains("upstream=\"two\"} "), "{text}");
}

#[test]
fn every_family_has_help_and_type() {
    let text = Metrics::new(&CONFIG).render(&live(&UPSTREAMS, &DEPLOYMENTS), Duration::ZERO);
    for name in [
        "gateway_upstream_request_duration_seconds",
        "gateway_upstream_ttft_seconds",
        "gateway_retries_total",
        "gateway_fallbacks_total",
        "gateway_upstream_timeouts_total",
        "gateway_stream_failures_total",
        "gateway_no_deployment_total",
        "gateway_breaker_state",
        "gateway_breaker_transitions_total",
        "gateway_deployment_in_flight",
        "gateway_upstream_maintenance",
        "gateway_upstream_health",
    ] {
        assert_eq!(
            text.matches(&format!("# HELP {name} ")).count(),
            1,
            "{name}"
        );
        assert_eq!(
            text.matches(&format!("# TYPE {name} ")).count(),
            1,
            "{name}"
        );
    }
}
