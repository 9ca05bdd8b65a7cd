//! `gateway-check`: the command-line front end of the config compiler.
//!
//! `check <dir>` runs the whole pipeline and reports like the build does
//! (warnings on stderr, exit 0 when there are only warnings); `schema <file>`
//! prints a JSON Schema; `emit <dir>` prints the generated Rust. No logic lives here.

use std::path::Path;
use std::process::ExitCode;

use gateway_codegen::diag::FileKind;
use gateway_codegen::load::{fs, schema};

const USAGE: &str = "\
gateway-check: validate and compile gateway config

USAGE:
    gateway-check check <config-dir>    report every error and warning (exit 1 on errors)
    gateway-check emit <config-dir>     print the generated Rust tables
    gateway-check schema <upstreams|agents|tools|security>
                                        print that file's JSON Schema
    gateway-check --help                print this help

SDK agents (agents.yaml `kind: sdk`) resolve against ./src/agents when it
exists (run from the workspace root, as the build does); elsewhere their
paths are not checked here.
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["check", dir] => compile(dir, false),
        ["emit", dir] => compile(dir, true),
        ["schema", name] => match FileKind::ALL
            .into_iter()
            .find(|k| schema::short_name(*k) == *name)
        {
            Some(kind) => {
                print!("{}", schema::checked_in(kind));
                ExitCode::SUCCESS
            }
            None => usage_error(&format!("unknown schema `{name}`")),
        },
        ["--help" | "-h" | "help"] => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => usage_error("expected a command"),
    }
}

fn usage_error(msg: &str) -> ExitCode {
    eprintln!("error: {msg}\n\n{USAGE}");
    ExitCode::from(2)
}

fn compile(dir: &str, emit: bool) -> ExitCode {
    let path = Path::new(dir);
    let display = dir.trim_end_matches('/');
    let environment = path
        .file_name()
        .map_or_else(|| "config".to_owned(), |n| n.to_string_lossy().into_owned());
    let files = fs::dir_files(path, display);
    let sdk_dir = Path::new("src/agents");
    let result = fs::read(&environment, &files).and_then(|mut input| {
        if sdk_dir.is_dir() {
            input.sdk = Some(fs::sdk_sources(sdk_dir, "src/agents"));
        }
        gateway_codegen::compile(&input)
    });
    match result {
        Ok(compiled) => {
            eprint!("{}", compiled.warnings.render());
            if emit {
                print!("{}", compiled.code);
            } else {
                let ir = &compiled.ir;
                println!(
                    "ok: {display}: {} models, {} upstreams, {} api keys (sha256 {})",
                    ir.models.len(),
                    ir.upstreams.len(),
                    ir.auth.api_keys.len(),
                    ir.config_sha256
                );
            }
            ExitCode::SUCCESS
        }
        Err(report) => {
            eprint!("{}", report.render());
            ExitCode::FAILURE
        }
    }
}
