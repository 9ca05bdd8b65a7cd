//! Admin endpoints that change run-time state (they need the admin key, and
//! are off when none is configured):
//!
//! - `POST /upstreams/{name}/maintenance` puts an upstream into maintenance:
//!   no new tries go to its deployments (requests fail over to other
//!   deployments and fallbacks), tries in flight finish; `DELETE` on the
//!   same path takes it out. With `server.maintenance_file` the state is
//!   saved there too.
//! - `POST /upstreams/refresh` re-reads the run-time inputs: every
//!   upstream's secret (environment and files; a secret now missing keeps
//!   the one in use, and says so) and the maintenance file. Structure
//!   (upstreams, models, deployments, timeouts) is compiled in and needs a
//!   new build.

use http::{Method, Response, StatusCode};
use serde_json::json;

use super::ops::json_response;
use crate::body::ResponseBody;
use crate::error::GatewayError;
use crate::gateway::Gateway;
use crate::secrets::{self, Resolved};
use crate::table::Upstream;
use crate::upstream::{Target, maintenance};

/// What `POST /upstreams/refresh` cannot change.
const STRUCTURAL: &str = "Upstreams, models, deployments, routing and timeouts are compiled into this binary: change the YAML, build, and deploy the new artifact (rollback is redeploying the previous one).";

/// `POST` / `DELETE /upstreams/{name}/maintenance`.
pub fn maintenance(
    gateway: &Gateway,
    name: &str,
    method: &Method,
) -> Result<Response<ResponseBody>, GatewayError> {
    let on = match *method {
        Method::POST => true,
        Method::DELETE => false,
        _ => {
            return Err(GatewayError::MethodNotAllowed {
                allow: "POST, DELETE",
            });
        }
    };
    let upstream = find(gateway, name)?;
    let Some(state) = gateway.fleet.upstream(upstream.id) else {
        return Err(GatewayError::UnknownUpstream(name.to_owned()));
    };
    let was = state.set_maintenance(on);
    let in_flight = in_flight(gateway, upstream);
    tracing::warn!(
        event = "upstream.maintenance",
        upstream = upstream.name,
        maintenance = on,
        was,
        in_flight,
    );
    let persisted = match gateway.config.server.maintenance_file {
        Some(path) => {
            maintenance::write(path, gateway.config, &gateway.fleet)
                .map_err(GatewayError::MaintenanceFile)?;
            Some(path)
        }
        None => None,
    };
    let body = json!({
        "upstream": upstream.name,
        "maintenance": on,
        "was": was,
        "in_flight": in_flight,
        "persisted_to": persisted,
    });
    Ok(json_response(StatusCode::OK, body.to_string()))
}

/// `POST /upstreams/refresh`.
pub fn refresh(gateway: &Gateway) -> Result<Response<ResponseBody>, GatewayError> {
    let config = gateway.config;
    let resolved = secrets::resolve_all(config.upstreams);
    let mut secrets = Vec::new();
    for ((upstream, target), secret) in config
        .upstreams
        .iter()
        .zip(gateway.targets.iter())
        .zip(resolved)
    {
        let status = match (target, secret) {
            (Target::Http(http), Resolved::Key(credential)) => {
                if http.swap_credential(Some(credential)) {
                    "reloaded".to_owned()
                } else {
                    "from the environment, read at startup: restart to change it".to_owned()
                }
            }
            (Target::Http(_), Resolved::Missing(reason)) => {
                format!("kept the secret in use: {reason}")
            }
            (Target::Disabled(_), Resolved::Key(_)) => {
                "present now, but the upstream was disabled at startup: restart to enable it"
                    .to_owned()
            }
            (Target::Disabled(reason), _) => format!("disabled at startup: {reason}"),
            (_, _) => "no secret".to_owned(),
        };
        secrets.push(json!({ "upstream": upstream.name, "secret": status }));
    }
    let maintenance = match config.server.maintenance_file {
        Some(path) => {
            let names = maintenance::read(path).map_err(GatewayError::MaintenanceFile)?;
            let unknown = maintenance::apply(config, &gateway.fleet, &names);
            json!({ "file": path, "upstreams": names, "unknown": unknown })
        }
        None => json!(null),
    };
    tracing::info!(event = "upstreams.refreshed");
    let body = json!({
        "secrets": secrets,
        "maintenance": maintenance,
        "structural_changes": STRUCTURAL,
    });
    Ok(json_response(StatusCode::OK, body.to_string()))
}

fn find(gateway: &Gateway, name: &str) -> Result<&'static Upstream, GatewayError> {
    gateway
        .config
        .upstreams
        .iter()
        .find(|u| u.name == name)
        .ok_or_else(|| GatewayError::UnknownUpstream(name.to_owned()))
}

/// Tries in flight at the upstream's deployments.
fn in_flight(gateway: &Gateway, upstream: &Upstream) -> u32 {
    gateway
        .config
        .deployments()
        .filter(|(_, d)| d.upstream == upstream.id)
        .filter_map(|(_, d)| gateway.fleet.deployment(d.id))
        .map(|s| s.in_flight.load(std::sync::atomic::Ordering::Relaxed))
        .sum()
}
