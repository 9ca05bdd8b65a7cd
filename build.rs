//! Compiles `config/$GATEWAY_ENV/*.yaml` into `$OUT_DIR/config.rs`.
//!
//! All logic lives in `gateway_codegen::cargo`; this file only forwards the
//! exit code (a bad config prints the report and `cargo::error=` lines).

fn main() {
    std::process::exit(gateway_codegen::cargo::build_script_main());
}
