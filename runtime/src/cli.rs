//! Command line: `gateway [serve] [--listen ADDR]`, `gateway --version`,
//! `gateway routes`, `gateway access`, `gateway mcp-pin SERVER`, `gateway --help`.

/// What the user asked for.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Serve {
        listen: Option<String>,
    },
    Version,
    Routes,
    Access,
    /// Print the `tools:` pin block of a configured MCP server's tools.
    McpPin {
        server: String,
    },
    Help,
}

pub const USAGE: &str = "\
usage: gateway [serve] [--listen ADDR]   serve the compiled config (ADDR like 127.0.0.1:8080; port 0 picks one)
       gateway routes                    print the compiled model table
       gateway access                    print who may use which model (the compiled access matrix)
       gateway mcp-pin SERVER            connect to MCP server SERVER (tools.yaml `mcp_servers`) and print
                                         the `tools:` pin block of every tool it lists, to paste and trim
       gateway --version                 print version, environment, config digest, git revision, rustc
       gateway --help

environment: GATEWAY_LISTEN (listen address), GATEWAY_LOG_LEVEL (error|warn|info|debug|trace),
             TOKIO_WORKER_THREADS (worker threads), and the secrets the config names";

/// Parses arguments (without the program name).
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut args = args.into_iter();
    let mut listen = None;
    let mut command = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--version" | "-V" | "version" => command = Some(Command::Version),
            "--help" | "-h" | "help" => command = Some(Command::Help),
            "routes" => command = Some(Command::Routes),
            "access" => command = Some(Command::Access),
            "mcp-pin" => {
                let server = args
                    .next()
                    .ok_or("`mcp-pin` needs a server name of tools.yaml `mcp_servers`")?;
                command = Some(Command::McpPin { server });
            }
            "serve" => {}
            "--listen" => {
                listen = Some(
                    args.next()
                        .ok_or("`--listen` needs an address, e.g. `--listen 127.0.0.1:8080`")?,
                )
            }
            other => match other.strip_prefix("--listen=") {
                Some(address) => listen = Some(address.to_string()),
                None => return Err(format!("unknown argument `{other}`")),
            },
        }
    }
    Ok(command.unwrap_or(Command::Serve { listen }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(args: &[&str], expect: Result<Command, &str>) {
        let parsed = parse(args.iter().map(|s| s.to_string()));
        assert_eq!(parsed, expect.map_err(str::to_string), "{args:?}");
    }

    #[test]
    fn parses_commands() {
        check(&[], Ok(Command::Serve { listen: None }));
        check(
            &["mcp-pin", "calc"],
            Ok(Command::McpPin {
                server: "calc".into(),
            }),
        );
        check(
            &["mcp-pin"],
            Err("`mcp-pin` needs a server name of tools.yaml `mcp_servers`"),
        );
        check(
            &["serve", "--listen", "127.0.0.1:0"],
            Ok(Command::Serve {
                listen: Some("127.0.0.1:0".into()),
            }),
        );
        check(
            &["--listen=[::1]:80"],
            Ok(Command::Serve {
                listen: Some("[::1]:80".into()),
            }),
        );
        check(&["--version"], Ok(Command::Version));
        check(&["routes"], Ok(Command::Routes));
        check(&["access"], Ok(Command::Access));
        check(&["--bogus"], Err("unknown argument `--bogus`"));
        check(
            &["--listen"],
            Err("`--listen` needs an address, e.g. `--listen 127.0.0.1:8080`"),
        );
    }
}
