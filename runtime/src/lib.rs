//! The gateway runtime: serves the OpenAI API from a compiled config.
//!
//! The root `gateway` binary calls [`run`] with the `static CONFIG` that
//! codegen generated. This crate never sees YAML: structure arrives as
//! `&'static` tables ([`table`]), secrets and addresses from the environment.

pub mod table;

#[doc(hidden)]
pub mod fuzzing;

pub mod agents;
mod api;
mod auth;
mod body;
mod build_info;
mod calendar;
mod cli;
mod drain;
mod error;
mod gateway;
mod http;
mod observe;
mod policy;
mod provider;
mod request_id;
mod secrets;
#[cfg(test)]
mod testing;
mod tools;
mod translate;
mod upstream;

use std::net::SocketAddr;
use std::process::ExitCode;

pub use build_info::BuildInfo;
use table::{Config, Deployment, Model, ModelAccess, Serving, UpstreamKind};

/// Entry point of the `gateway` binary: `build` is what it was built from.
pub fn run(config: &'static Config, build: &'static BuildInfo) -> ExitCode {
    build_info::set(build);
    match cli::parse(std::env::args().skip(1)) {
        Err(message) => {
            eprintln!("error: {message}\n\n{}", cli::USAGE);
            ExitCode::from(2)
        }
        Ok(cli::Command::Help) => {
            println!("{}", cli::USAGE);
            ExitCode::SUCCESS
        }
        Ok(cli::Command::Version) => {
            println!("{}", version_line(config, build));
            ExitCode::SUCCESS
        }
        Ok(cli::Command::Routes) => {
            print!("{}", routes_table(config));
            ExitCode::SUCCESS
        }
        Ok(cli::Command::Access) => {
            print!("{}", access_table(config));
            ExitCode::SUCCESS
        }
        Ok(cli::Command::McpPin { server }) => mcp_pin(config, &server),
        Ok(cli::Command::Serve { listen }) => serve(config, listen),
    }
}

/// `gateway mcp-pin SERVER`: connects (the environment as when serving,
/// e.g. `url_env`) and prints the pin block, or why it could not.
fn mcp_pin(config: &'static Config, server: &str) -> ExitCode {
    let runtime = match async_runtime(1) {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let lookup = |name: &str| std::env::var(name).ok();
    match runtime.block_on(tools::mcp::pin_block(config.mcp_servers, server, &lookup)) {
        Ok(block) => {
            print!("{block}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn version_line(config: &Config, build: &BuildInfo) -> String {
    format!(
        "gateway {} (environment {}, config sha256 {}, git revision {}, rustc {})",
        build.version, config.environment, config.config_sha256, build.git_revision, build.rustc
    )
}

/// Columns of `gateway routes`.
const ROUTES_HEADER: [&str; 10] = [
    "MODEL",
    "UPSTREAM",
    "KIND",
    "UPSTREAM MODEL",
    "CHAT",
    "MESSAGES",
    "MAX_TOKENS",
    "PRIORITY",
    "WEIGHT",
    "FALLBACKS",
];

/// `gateway routes`: one row per deployment (a model served in several
/// places has several rows), columns padded to their widest cell. CHAT and
/// MESSAGES say how each ingress protocol reaches the upstream (`off`: the
/// model does not serve that endpoint);
/// MAX_TOKENS is the default output limit, shown where it is used (chat
/// translated for an Anthropic upstream) and `-` elsewhere.
fn routes_table(config: &Config) -> String {
    let mut rows = vec![ROUTES_HEADER.map(str::to_owned)];
    rows.extend(
        config
            .deployments()
            .map(|(model, d)| route_row(config, model, d)),
    );
    let mut widths = [0usize; ROUTES_HEADER.len()];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in &rows {
        let mut line = String::new();
        for (cell, width) in row.iter().zip(widths) {
            line.push_str(&format!("{cell:<width$}  "));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `gateway access`: one row per model, then one per tool under a `TOOL`
/// header, then one per agent (`agent/<name>`, allowed when both its `agents`
/// entry and its model are) under an `AGENT` header, one column per principal (the admin
/// key, then each API key with its team, then with key files a `key-file`
/// column for a file key without a team and a `key-file:<team>` column per
/// team, then with `auth.jwt` a `scope:<name>` column per scope, or one
/// `token` column when no scope is compiled; a file key's or a token's team
/// narrows these further), `yes` where the principal may use the model and `-` where not; an
/// open API (no keys) has one `anonymous` column. The matrix is the
/// compiled one, so a reviewer sees in a pull request who can reach what.
fn access_table(config: &Config) -> String {
    let principals = principals(&config.auth);
    let row = |name: &'static str, allowed: &dyn Fn(&Principal) -> bool| -> Row {
        (name, principals.iter().map(allowed).collect())
    };
    let models: Vec<Row> = config
        .models
        .iter()
        .map(|model| row(model.name, &|p| p.models.allows(model.id)))
        .collect();
    let tools: Vec<Row> = config
        .tools
        .iter()
        .map(|tool| row(tool.name, &|p| p.tools.allows_tool(tool.id)))
        .collect();
    // An agent needs both its `agents` entry and its model.
    let agents: Vec<Row> = config
        .agents
        .iter()
        .map(|agent| {
            row(agent.model_id, &|p| {
                p.agents.allows_agent(agent.id) && p.models.allows(agent.model)
            })
        })
        .collect();
    let mut out = section("MODEL", &principals, models);
    for (title, rows) in [("TOOL", tools), ("AGENT", agents)] {
        if !rows.is_empty() {
            out.push('\n');
            out.push_str(&section(title, &principals, rows));
        }
    }
    out
}

/// A row of [`access_table`]: its name and, per principal, whether allowed.
type Row = (&'static str, Vec<bool>);

/// One part of [`access_table`]: a header row naming the principals, then
/// `yes` or `-` per principal for each named row.
fn section(title: &str, principals: &[Principal], rows: Vec<Row>) -> String {
    let header = std::iter::once(title.to_owned()).chain(principals.iter().map(|p| p.name.clone()));
    let mut table = vec![header.collect::<Vec<_>>()];
    for (name, cells) in rows {
        let cells = cells
            .into_iter()
            .map(|allowed| if allowed { "yes" } else { "-" }.to_owned());
        table.push(std::iter::once(name.to_owned()).chain(cells).collect());
    }
    aligned(&table)
}

/// A column of [`access_table`]: who, and which models, tools and agents.
struct Principal {
    name: String,
    models: ModelAccess,
    tools: ModelAccess,
    agents: ModelAccess,
}

/// The columns of [`access_table`] (a file key or a token without a team
/// may use every tool and agent; with one, its team's; scopes grant models
/// only).
fn principals(auth: &table::Auth) -> Vec<Principal> {
    let all = |name: &str| Principal {
        name: name.to_owned(),
        models: ModelAccess::All,
        tools: ModelAccess::All,
        agents: ModelAccess::All,
    };
    let mut principals = Vec::new();
    if auth.admin_key_sha256.is_some() {
        principals.push(all("admin"));
    }
    for key in auth.api_keys {
        let name = match key.team {
            Some(team) => format!("{} ({team})", key.name),
            None => key.name.to_owned(),
        };
        let (models, tools, agents) = (key.models, key.tools, key.agents);
        principals.push(Principal {
            name,
            models,
            tools,
            agents,
        });
    }
    if !auth.key_files.is_empty() {
        principals.push(all("key-file"));
        for team in auth.teams {
            let name = format!("key-file:{}", team.name);
            let (models, tools, agents) = (team.models, team.tools, team.agents);
            principals.push(Principal {
                name,
                models,
                tools,
                agents,
            });
        }
    }
    if let Some(jwt) = &auth.jwt {
        if jwt.scopes.is_empty() {
            principals.push(all("token"));
        }
        for scope in jwt.scopes {
            let models = scope.models;
            principals.push(Principal {
                models,
                ..all(&format!("scope:{}", scope.name))
            });
        }
    }
    if principals.is_empty() {
        principals.push(all("anonymous"));
    }
    principals
}

/// Rows as left-aligned columns two spaces apart.
fn aligned(rows: &[Vec<String>]) -> String {
    let mut widths = vec![0usize; rows.first().map_or(0, Vec::len)];
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let line: String = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}  "))
            .collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// One deployment's row of [`routes_table`].
fn route_row(config: &Config, model: &Model, deployment: &Deployment) -> [String; 10] {
    let upstream = config.upstream(deployment.upstream);
    let kind = match upstream.map(|u| &u.kind) {
        Some(UpstreamKind::OpenAi { .. }) => "openai",
        Some(UpstreamKind::Anthropic { .. }) => "anthropic",
        Some(UpstreamKind::Mock(_)) => "mock",
        None => "?",
    };
    let serving = |served: bool, s: Serving| match (served, s) {
        (false, _) => "off",
        (true, Serving::Passthrough) => "passthrough",
        (true, Serving::Translated) => "translated",
    };
    let max_tokens = match deployment.chat {
        Serving::Translated => model.default_max_tokens.to_string(),
        Serving::Passthrough => "-".to_owned(),
    };
    let fallbacks: Vec<&str> = model
        .fallbacks
        .iter()
        .filter_map(|id| config.model(*id))
        .map(|m| m.name)
        .collect();
    [
        model.name.to_owned(),
        upstream.map_or("?", |u| u.name).to_owned(),
        kind.to_owned(),
        deployment.upstream_model.to_owned(),
        serving(model.endpoints.chat, deployment.chat).to_owned(),
        serving(model.endpoints.messages, deployment.messages).to_owned(),
        max_tokens,
        deployment.priority.to_string(),
        deployment.weight.to_string(),
        if fallbacks.is_empty() {
            "-".to_owned()
        } else {
            fallbacks.join(",")
        },
    ]
}

fn serve(config: &'static Config, listen: Option<String>) -> ExitCode {
    observe::logging::init(std::env::var("GATEWAY_LOG_LEVEL").ok().as_deref());
    let resolved = secrets::resolve_all(config.upstreams);
    let report = secrets::report(config, &resolved);
    if !report.fatal.is_empty() {
        eprintln!("error: the gateway cannot start; missing secrets:");
        for line in &report.fatal {
            eprintln!("  - {line}");
        }
        eprintln!(
            "help: set them in the environment (or mark the upstream `optional: true` to start without it)"
        );
        tracing::error!(event = "startup.missing_secrets", missing = ?report.fatal, "missing secrets");
        return ExitCode::from(2);
    }
    for (upstream, reason) in &report.disabled {
        tracing::warn!(
            event = "startup.upstream_disabled",
            upstream,
            reason,
            "optional upstream disabled"
        );
    }
    let address_text = listen
        .or_else(|| std::env::var("GATEWAY_LISTEN").ok())
        .unwrap_or_else(|| config.server.listen.to_string());
    let Ok(address) = address_text.parse::<SocketAddr>() else {
        eprintln!(
            "error: listen address `{address_text}` is not `host:port` (e.g. 127.0.0.1:8080, [::]:8080)"
        );
        return ExitCode::from(2);
    };
    let runtime = match async_runtime(worker_threads()) {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let lookup = |name: &str| std::env::var(name).ok();
        let gateway = match gateway::Gateway::new(config, resolved, &lookup) {
            Ok(gateway) => &*Box::leak(Box::new(gateway)),
            Err(message) => {
                eprintln!("error: {message}");
                return ExitCode::from(2);
            }
        };
        if let Err(message) = gateway.tools.mcp.start().await {
            eprintln!("error: {message}");
            tracing::error!(event = "startup.mcp_drift", message);
            return ExitCode::from(2);
        }
        let listener = match bind_listener(address) {
            Ok(listener) => listener,
            Err(error) => {
                eprintln!("error: cannot listen on {address}: {error}");
                tracing::error!(event = "startup.bind_failed", %address, %error);
                return ExitCode::FAILURE;
            }
        };
        let bound = listener.local_addr().unwrap_or(address);
        auth::start_background(&gateway.auth);
        if let Some(path) = config.server.maintenance_file {
            restore_maintenance(gateway, path);
        }
        upstream::health_check::spawn_all(config, &gateway.targets, &gateway.fleet);
        tracing::info!(
            event = "startup.config",
            environment = config.environment,
            config_sha256 = config.config_sha256,
            models = config.models.len(),
            upstreams = config.upstreams.len()
        );
        http::server::serve(gateway, listener, bound).await;
        ExitCode::SUCCESS
    })
}

/// Puts the upstreams the maintenance file lists back into maintenance
/// (an unreadable file is logged and starts with none in maintenance).
fn restore_maintenance(gateway: &'static gateway::Gateway, path: &str) {
    match upstream::maintenance::read(path) {
        Ok(names) => {
            let unknown = upstream::maintenance::apply(gateway.config, &gateway.fleet, &names);
            tracing::info!(event = "startup.maintenance", file = path, upstreams = ?names, unknown = ?unknown);
        }
        Err(error) => tracing::error!(event = "startup.maintenance_unreadable", %error),
    }
}

/// Pending connections the kernel queues before `accept`. tokio's `bind`
/// asks for 128; a burst of 1,024 connects overflowed it and each dropped
/// handshake waited a 1 s SYN retry (the kernel still caps this at
/// `net.core.somaxconn`).
const LISTEN_BACKLOG: u32 = 4096;

/// The listening socket, with [`LISTEN_BACKLOG`].
fn bind_listener(address: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if address.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Worker threads: `TOKIO_WORKER_THREADS` if set, else the CPUs this
/// process may use (affinity and cgroup quota aware).
fn worker_threads() -> usize {
    std::env::var("TOKIO_WORKER_THREADS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .or_else(|| std::thread::available_parallelism().ok().map(usize::from))
        .unwrap_or(1)
}

/// With one CPU, a current-thread runtime: the work-stealing scheduler's
/// parking and cross-thread wake-ups cost ~2,000 instructions per request
/// under callgrind and buy nothing on one core.
fn async_runtime(workers: usize) -> std::io::Result<tokio::runtime::Runtime> {
    if workers == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_and_routes_name_the_compiled_config() {
        let config = &testing::CONFIG;
        let build = BuildInfo {
            version: "9.9.9",
            git_revision: "abcdef0",
            rustc: "1.95.0",
        };
        assert_eq!(
            version_line(config, &build),
            format!(
                "gateway 9.9.9 (environment unit, config sha256 {}, git revision abcdef0, rustc 1.95.0)",
                config.config_sha256
            )
        );
        assert_eq!(
            access_table(config),
            "MODEL  unit\nalpha  yes\nbeta   yes\n"
        );
        assert_eq!(
            routes_table(config),
            "MODEL  UPSTREAM  KIND    UPSTREAM MODEL  CHAT         MESSAGES    MAX_TOKENS  PRIORITY  WEIGHT  FALLBACKS\n\
             alpha  one       openai  alpha-upstream  passthrough  translated  -           0         1       beta\n\
             beta   two       mock    beta            passthrough  translated  -           0         1       -\n"
        );
    }
}
