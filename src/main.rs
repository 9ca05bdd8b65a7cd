//! The `gateway` binary: the tables generated from `config/$GATEWAY_ENV`
//! joined to the runtime. No logic lives here.

mod compiled {
    include!(concat!(env!("OUT_DIR"), "/config.rs"));
}

fn main() -> std::process::ExitCode {
    gateway_runtime::run(&compiled::CONFIG)
}
