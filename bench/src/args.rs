//! Hand-rolled flag parsing shared by the tools: `--name value` or
//! `--name=value`, every flag takes a value, `--help` prints the usage.
//!
//! Not a general CLI library: no positional arguments, no boolean switches,
//! no short options. Unknown, repeated or value-less flags are errors that
//! name the flag and point at `--help`.

use std::fmt::Display;
use std::str::FromStr;

use crate::error::{Failure, or_exit};

/// The flags given on the command line, consumed one by one by the tool.
#[derive(Debug)]
pub struct Args {
    tool: &'static str,
    /// (name with its `--`, value, taken by the tool yet)
    flags: Vec<(String, String, bool)>,
}

impl Args {
    /// Parses the process's arguments; prints `usage` and exits 0 on `--help`,
    /// exits 2 with an error on malformed input.
    pub fn from_env(tool: &'static str, usage: &str) -> Args {
        match or_exit(Args::parse(tool, std::env::args().skip(1))) {
            Some(args) => args,
            None => {
                println!("{usage}");
                std::process::exit(0)
            }
        }
    }

    /// Parses `argv` (without the program name); `Ok(None)` means `--help`.
    pub fn parse(
        tool: &'static str,
        argv: impl IntoIterator<Item = String>,
    ) -> Result<Option<Args>, Failure> {
        let mut flags: Vec<(String, String, bool)> = Vec::new();
        let mut argv = argv.into_iter();
        while let Some(arg) = argv.next() {
            if arg == "--help" || arg == "-h" {
                return Ok(None);
            }
            if !arg.starts_with("--") {
                return Err(Failure::new(
                    format!("{tool}: unexpected argument {arg:?}"),
                    format!("every input is a `--flag value` pair; run `{tool} --help`"),
                ));
            }
            let (name, value) = match arg.split_once('=') {
                Some((name, value)) => (name.to_string(), value.to_string()),
                None => match argv.next() {
                    Some(value) => (arg, value),
                    None => {
                        return Err(Failure::new(
                            format!("{tool}: {arg} has no value"),
                            format!("write `{arg} VALUE`; run `{tool} --help`"),
                        ));
                    }
                },
            };
            if flags.iter().any(|(seen, _, _)| *seen == name) {
                return Err(Failure::new(
                    format!("{tool}: {name} given twice"),
                    "give each flag once",
                ));
            }
            flags.push((name, value, false));
        }
        Ok(Some(Args { tool, flags }))
    }

    /// The flag's value parsed as `T`, or `None` when the flag is absent.
    pub fn optional<T>(&mut self, name: &str, example: &str) -> Result<Option<T>, Failure>
    where
        T: FromStr,
        T::Err: Display,
    {
        let tool = self.tool;
        let Some((_, value, taken)) = self.flags.iter_mut().find(|(n, _, _)| n == name) else {
            return Ok(None);
        };
        *taken = true;
        value.parse::<T>().map(Some).map_err(|error| {
            Failure::new(
                format!("{tool}: {name} {value:?} is not valid ({error})"),
                format!("pass a value like `{name} {example}`"),
            )
        })
    }

    /// The flag's value, or `default` when absent.
    pub fn or<T>(&mut self, name: &str, default: T) -> Result<T, Failure>
    where
        T: FromStr + Display,
        T::Err: Display,
    {
        let example = default.to_string();
        Ok(self.optional(name, &example)?.unwrap_or(default))
    }

    /// The flag's value, or `default` when absent; above `max` is an error
    /// (keeps durations and counts in a range where time arithmetic cannot
    /// overflow and payloads fit in memory).
    pub fn at_most<T>(&mut self, name: &str, default: T, max: T) -> Result<T, Failure>
    where
        T: FromStr + Display + PartialOrd,
        T::Err: Display,
    {
        let value = self.or(name, default)?;
        if value > max {
            return Err(Failure::new(
                format!("{}: {name} {value} is above the limit {max}", self.tool),
                format!("pass at most `{name} {max}`"),
            ));
        }
        Ok(value)
    }

    /// The flag's value; its absence is an error showing `example`.
    pub fn required<T>(&mut self, name: &str, example: &str) -> Result<T, Failure>
    where
        T: FromStr,
        T::Err: Display,
    {
        let tool = self.tool;
        self.optional(name, example)?.ok_or_else(|| {
            Failure::new(
                format!("{tool}: {name} is required"),
                format!("add `{name} {example}`; run `{tool} --help`"),
            )
        })
    }

    /// Fails on flags the tool never asked for (typos, flags of another tool).
    pub fn finish(self) -> Result<(), Failure> {
        let unknown: Vec<&str> = self
            .flags
            .iter()
            .filter(|(_, _, taken)| !taken)
            .map(|(name, _, _)| name.as_str())
            .collect();
        if unknown.is_empty() {
            return Ok(());
        }
        Err(Failure::new(
            format!("{}: unknown flag(s) {}", self.tool, unknown.join(", ")),
            format!("run `{} --help` for the flags it takes", self.tool),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(argv: &[&str]) -> Result<Option<Args>, Failure> {
        Args::parse("tool", argv.iter().map(|s| s.to_string()))
    }

    fn check_error(argv: &[&str], expect_what: &str) {
        let error = parse(argv).unwrap_err();
        assert_eq!(error.what, expect_what, "{argv:?}");
    }

    #[test]
    fn values_defaults_and_required() {
        let mut args = parse(&["--streams", "64", "--url=http://x/", "--rate", "0.5"])
            .unwrap()
            .unwrap();
        assert_eq!(args.required::<u32>("--streams", "10").unwrap(), 64);
        assert_eq!(args.required::<String>("--url", "U").unwrap(), "http://x/");
        assert_eq!(args.or("--rate", 0.0_f64).unwrap(), 0.5);
        assert_eq!(args.or("--chunks", 20_u32).unwrap(), 20);
        assert_eq!(args.optional::<String>("--key", "K").unwrap(), None);
        assert_eq!(args.at_most("--gap", 10_u64, 100).unwrap(), 10);
        args.finish().unwrap();
        let mut big = parse(&["--gap", "101"]).unwrap().unwrap();
        let error = big.at_most("--gap", 10_u64, 100).unwrap_err();
        assert_eq!(error.what, "tool: --gap 101 is above the limit 100");
    }

    #[test]
    fn help_is_none() {
        assert!(parse(&["--streams", "1", "--help"]).unwrap().is_none());
    }

    #[test]
    fn malformed_input_names_the_flag() {
        check_error(&["--streams"], "tool: --streams has no value");
        check_error(&["positional"], "tool: unexpected argument \"positional\"");
        check_error(&["--a", "1", "--a=2"], "tool: --a given twice");
    }

    #[test]
    fn bad_values_missing_and_unknown_flags() {
        let mut args = parse(&["--streams", "many", "--tyop", "1"])
            .unwrap()
            .unwrap();
        let error = args.required::<u32>("--streams", "100").unwrap_err();
        assert!(
            error
                .what
                .starts_with("tool: --streams \"many\" is not valid")
        );
        assert_eq!(error.fix, "pass a value like `--streams 100`");
        let missing = args.required::<String>("--url", "http://h/").unwrap_err();
        assert_eq!(missing.what, "tool: --url is required");
        assert_eq!(
            args.finish().unwrap_err().what,
            "tool: unknown flag(s) --tyop"
        );
    }
}
