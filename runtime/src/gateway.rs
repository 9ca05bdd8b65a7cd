//! The gateway's shared state, built once at startup from the compiled
//! config and leaked to `&'static` so handlers borrow it without reference
//! counting.
//!
//! Holds per-upstream targets (pooled HTTP clients with their precomputed
//! URL and credential, or the mock), precomputed JSON for deployment model
//! names and `/v1/models`, the live state of upstreams and deployments
//! (breakers, health, maintenance), the metrics tables, the drain signal and
//! the lifecycle flag.
//! Only the HTTP layer (`http/`) and the endpoints (`api/`) hold it; what they
//! call receives the parts it needs.

use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Instant, SystemTime};

use bytes::Bytes;

use crate::auth::AuthState;
use crate::drain::DrainSignal;
use crate::observe::metrics::{DeploymentGauge, Metrics, UpstreamGauge};
use crate::policy::Quotas;
use crate::request_id::RequestIds;
use crate::secrets::Resolved;
use crate::table::{Config, Deployment, UpstreamKind};
use crate::tools::{HttpTools, McpTools, Tools};
use crate::upstream::fleet::{Health, UpstreamState};
use crate::upstream::{Fleet, HttpTarget, Target};

/// Lifecycle as `/ready` reports it. There is no "starting" state on
/// purpose: secrets, clients and tables are ready before the listener binds,
/// so nobody can ask before the gateway is ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Lifecycle {
    Ready = 1,
    Draining = 2,
}

pub struct Gateway {
    pub config: &'static Config,
    /// Parallel to `config.upstreams`.
    pub targets: Box<[Target]>,
    /// Indexed by `DeploymentId`: the deployment's upstream model name as a JSON string.
    pub upstream_model_json: Box<[Bytes]>,
    /// Live state of every upstream and deployment (in flight, breaker, health, maintenance).
    pub fleet: Fleet,
    /// The `/v1/models` body, built once.
    pub models_json: Bytes,
    pub metrics: Metrics,
    /// The compiled keys with the live set read from key files.
    pub auth: AuthState,
    /// Rate limits and budgets: local counts and the shared store.
    pub quotas: Quotas,
    /// The http tools' origins, header secrets and client, resolved at
    /// startup, and the MCP servers' tasks with the tools' enabled flags.
    pub tools: Tools,
    pub request_ids: RequestIds,
    /// Set when the drain deadline passes; open streams end with an error event.
    pub drain: DrainSignal,
    pub started: Instant,
    pub started_at: SystemTime,
    lifecycle: AtomicU8,
}

impl Gateway {
    /// Builds the state; `resolved[i]` is upstream `i`'s secret. Errors name the upstream and problem.
    pub fn new(
        config: &'static Config,
        resolved: Vec<Resolved>,
        lookup_env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, String> {
        let mut targets = Vec::with_capacity(config.upstreams.len());
        for (upstream, secret) in config.upstreams.iter().zip(resolved) {
            let target = match (&upstream.kind, secret) {
                (_, Resolved::Missing(reason)) => Target::Disabled(reason),
                (UpstreamKind::Mock(behavior), _) => Target::Mock(behavior),
                (_, secret) => {
                    let credential = match secret {
                        Resolved::Key(credential) => Some(credential),
                        _ => None,
                    };
                    Target::Http(HttpTarget::new(upstream, credential, lookup_env)?)
                }
            };
            targets.push(target);
        }
        let upstream_model_json = config
            .deployments()
            .map(|(_, d)| {
                serde_json::to_vec(d.upstream_model)
                    .map(Bytes::from)
                    .map_err(|e| e.to_string())
            })
            .collect::<Result<Vec<_>, _>>()?;
        let auth = AuthState::start(&config.auth).map_err(|problems| {
            format!(
                "the key files (security.yaml `auth.key_files`) cannot be used:\n  - {}",
                problems.join("\n  - ")
            )
        })?;
        let redis_url = config
            .quotas
            .redis
            .as_ref()
            .and_then(|r| lookup_env(r.url_env));
        let quotas = Quotas::new(config, redis_url.as_deref())?;
        let http = HttpTools::new(config.tools, lookup_env)
            .map_err(|problems| format!("http tools (tools.yaml) cannot be used: {problems}"))?;
        let mcp = McpTools::new(config.tools, config.mcp_servers, lookup_env)
            .map_err(|problems| format!("MCP servers (tools.yaml) cannot be used: {problems}"))?;
        let tools = Tools { http, mcp };
        Ok(Self {
            config,
            auth,
            quotas,
            tools,
            targets: targets.into(),
            upstream_model_json: upstream_model_json.into(),
            fleet: Fleet::new(config),
            models_json: models_json(config),
            metrics: Metrics::new(config),
            request_ids: RequestIds::default(),
            drain: DrainSignal::default(),
            started: Instant::now(),
            started_at: SystemTime::now(),
            lifecycle: AtomicU8::new(Lifecycle::Ready as u8),
        })
    }

    pub fn lifecycle(&self) -> Lifecycle {
        match self.lifecycle.load(Ordering::Acquire) {
            2 => Lifecycle::Draining,
            _ => Lifecycle::Ready,
        }
    }

    pub fn set_lifecycle(&self, lifecycle: Lifecycle) {
        self.lifecycle.store(lifecycle as u8, Ordering::Release);
    }

    /// Disabled upstreams with their reasons.
    pub fn disabled_upstreams(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.config
            .upstreams
            .iter()
            .zip(self.targets.iter())
            .filter_map(|(u, t)| match t {
                Target::Disabled(reason) => Some((u.name, reason.as_str())),
                _ => None,
            })
    }
}

impl Gateway {
    /// The live gauges `/metrics` renders.
    pub fn gauges(&self) -> (Vec<UpstreamGauge>, Vec<DeploymentGauge>) {
        let now = tokio::time::Instant::now();
        let upstreams = self
            .config
            .upstreams
            .iter()
            .zip(self.targets.iter())
            .map(|(upstream, target)| {
                let state = self.fleet.upstream(upstream.id);
                UpstreamGauge {
                    enabled: !matches!(target, Target::Disabled(_)),
                    maintenance: state.is_some_and(UpstreamState::in_maintenance),
                    health: match state.map(UpstreamState::health) {
                        Some(Health::Healthy) => 1,
                        Some(Health::Unhealthy) => 0,
                        _ => -1,
                    },
                }
            })
            .collect();
        let deployments = self
            .config
            .deployments()
            .map(|(_, deployment)| {
                let state = self.fleet.deployment(deployment.id);
                let breaker = self
                    .config
                    .upstream(deployment.upstream)
                    .map(|u| &u.breaker);
                DeploymentGauge {
                    in_flight: state.map_or(0, |s| s.in_flight.load(Ordering::Relaxed)),
                    breaker: match (state, breaker) {
                        (Some(state), Some(breaker)) => state.breaker.phase(breaker, now) as u8,
                        _ => 0,
                    },
                }
            })
            .collect();
        (upstreams, deployments)
    }

    /// Whether new traffic may go to `deployment` now: its upstream enabled,
    /// not in maintenance, not failing health checks, its breaker not open.
    pub fn deployment_available(&self, deployment: &Deployment, now: tokio::time::Instant) -> bool {
        let at = usize::from(deployment.upstream.0);
        let enabled = !matches!(self.targets.get(at), Some(Target::Disabled(_)) | None);
        let breaker = self.config.upstreams.get(at).map(|u| &u.breaker);
        enabled && breaker.is_some_and(|b| self.fleet.available(deployment, b, now))
    }

    /// Whether any model has a deployment that can take traffic now.
    pub fn any_route_serves(&self) -> bool {
        let now = tokio::time::Instant::now();
        self.config
            .deployments()
            .any(|(_, deployment)| self.deployment_available(deployment, now))
    }
}

fn models_json(config: &Config) -> Bytes {
    let data: Vec<_> = config
        .models
        .iter()
        .map(|m| {
            let owner = m
                .primary_upstream()
                .and_then(|id| config.upstream(id))
                .map_or("", |u| u.name);
            serde_json::json!({ "id": m.name, "object": "model", "created": 0, "owned_by": owner })
        })
        .chain(config.agents.iter().map(|a| {
            serde_json::json!({ "id": a.model_id, "object": "model", "created": 0, "owned_by": "gateway" })
        }))
        .collect();
    let body = serde_json::json!({ "object": "list", "data": data });
    Bytes::from(body.to_string())
}
