//! The maintenance file: upstream names in maintenance, one per line (blank
//! lines and `#` comments ignored). Read at startup and by `POST
//! /upstreams/refresh`, rewritten (to a temporary file, then renamed, so a
//! reader never sees half a file) when an admin endpoint changes the state,
//! so maintenance survives a restart and operators may also edit it by hand.

use std::io::ErrorKind;

use super::Fleet;
use crate::table::Config;

/// The names listed in `path`; a missing file lists none.
pub fn read(path: &str) -> Result<Vec<String>, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text
            .lines()
            .map(|line| line.split('#').next().unwrap_or_default().trim())
            .filter(|name| !name.is_empty())
            .map(str::to_owned)
            .collect()),
        Err(error) if error.kind() == ErrorKind::NotFound => Ok(Vec::new()),
        Err(error) => Err(format!("cannot read maintenance file `{path}`: {error}")),
    }
}

/// Writes the upstreams now in maintenance to `path`.
pub fn write(path: &str, config: &Config, fleet: &Fleet) -> Result<(), String> {
    let mut text =
        String::from("# upstreams in maintenance, one per line (written by the gateway)\n");
    for upstream in config.upstreams {
        if fleet
            .upstream(upstream.id)
            .is_some_and(|s| s.in_maintenance())
        {
            text.push_str(upstream.name);
            text.push('\n');
        }
    }
    let temporary = format!("{path}.tmp");
    std::fs::write(&temporary, text)
        .and_then(|()| std::fs::rename(&temporary, path))
        .map_err(|error| format!("cannot write maintenance file `{path}`: {error}"))
}

/// Puts exactly the listed upstreams in maintenance; returns the names that
/// are not upstreams of this build.
pub fn apply(config: &Config, fleet: &Fleet, names: &[String]) -> Vec<String> {
    for upstream in config.upstreams {
        let listed = names.iter().any(|name| name == upstream.name);
        if let Some(state) = fleet.upstream(upstream.id) {
            state.set_maintenance(listed);
        }
    }
    names
        .iter()
        .filter(|name| !config.upstreams.iter().any(|u| u.name == name.as_str()))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::UpstreamId;
    use crate::testing::CONFIG;

    #[test]
    fn round_trips_through_the_file_and_reports_unknown_names() {
        let dir = std::env::temp_dir().join(format!("gw-maint-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("maintenance");
        let path = path.to_str().unwrap();
        assert_eq!(read(path).unwrap(), Vec::<String>::new(), "missing = none");
        std::fs::write(path, "# comment\n\none  # the first\nghost\n").unwrap();
        let fleet = Fleet::new(&CONFIG);
        let names = read(path).unwrap();
        assert_eq!(names, ["one", "ghost"]);
        assert_eq!(apply(&CONFIG, &fleet, &names), ["ghost"]);
        assert!(fleet.upstream(UpstreamId(0)).unwrap().in_maintenance());
        assert!(!fleet.upstream(UpstreamId(1)).unwrap().in_maintenance());
        fleet.upstream(UpstreamId(1)).unwrap().set_maintenance(true);
        write(path, &CONFIG, &fleet).unwrap();
        assert_eq!(read(path).unwrap(), ["one", "two"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
