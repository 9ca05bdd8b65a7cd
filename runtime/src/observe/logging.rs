//! Structured JSON logs on stdout, level from `GATEWAY_LOG_LEVEL`.
//!
//! One JSON object per line with flattened fields (`event`, `request_id`,
//! ...). Secrets never reach a log call: handlers log key *names* and
//! environment variable *names* only.

use tracing_subscriber::EnvFilter;

/// Installs the subscriber. `level` is `GATEWAY_LOG_LEVEL` (e.g. `info`, `WARN`, `debug`);
/// an invalid value falls back to `info` and says so.
pub fn init(level: Option<&str>) {
    let requested = level.unwrap_or("info").to_ascii_lowercase();
    let (filter, invalid) = match EnvFilter::try_new(&requested) {
        Ok(filter) => (filter, false),
        Err(_) => (EnvFilter::new("info"), true),
    };
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_env_filter(filter)
        .with_writer(std::io::stdout)
        .init();
    if invalid {
        tracing::warn!(
            event = "logging.invalid_level",
            requested,
            "GATEWAY_LOG_LEVEL is not a level (error, warn, info, debug, trace); using info"
        );
    }
}
