//! The tools' one error shape: `error: <what>; <how to fix>` on stderr, exit 2.
//!
//! Setup problems (bad flags, unreadable files, ports in use) end the program
//! with this. Failures *measured* during a run (a non-200, a missing
//! `[DONE]`) are not errors of the tool: they go into the JSON report.

use std::fmt;

/// A problem that stops the tool before or outside the measurement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// What went wrong, and where (which flag, file or address).
    pub what: String,
    /// What the user can do about it.
    pub fix: String,
}

impl Failure {
    pub fn new(what: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            what: what.into(),
            fix: fix.into(),
        }
    }

    /// Prints `error: <what>; <fix>` to stderr and exits with status 2.
    pub fn exit(&self) -> ! {
        eprintln!("{self}");
        std::process::exit(2)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error: {}; {}", self.what, self.fix)
    }
}

/// Unwraps a setup result or exits with the error (status 2).
pub fn or_exit<T>(result: Result<T, Failure>) -> T {
    match result {
        Ok(value) => value,
        Err(failure) => failure.exit(),
    }
}
