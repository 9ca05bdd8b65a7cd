//! The builtin tools: small, safe functions compiled into the binary. Each
//! reads only the arguments its codegen schema declares (the build lets a
//! config narrow that schema, never widen it), and has no I/O.
//!
//! Not here: argument validation (`schema.rs`, done before any call) or
//! the result cap (`mod.rs`).

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::calendar;
use crate::table::Builtin;

/// Runs `builtin` on arguments already checked against its schema; `Err`
/// says why the call failed (a message for the caller).
pub fn run(builtin: Builtin, arguments: &Value) -> Result<Value, String> {
    match builtin {
        Builtin::CurrentTime => Ok(current_time(unix_now())),
        Builtin::Calculator => calculator(arguments),
    }
}

/// `{"utc": "2026-11-30T07:46:21Z", "unix": 1796024781}`.
fn current_time(unix_secs: u64) -> Value {
    json!({ "utc": calendar::rfc3339(unix_secs), "unix": unix_secs })
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `{"operation": "add"|"subtract"|"multiply"|"divide", "a": x, "b": y}` -> `{"value": z}`.
fn calculator(arguments: &Value) -> Result<Value, String> {
    let number = |name: &str| {
        arguments
            .get(name)
            .and_then(Value::as_f64)
            .ok_or_else(|| format!("`{name}` must be a number"))
    };
    let (a, b) = (number("a")?, number("b")?);
    let operation = arguments.get("operation").and_then(Value::as_str);
    let value = match operation {
        Some("add") => a + b,
        Some("subtract") => a - b,
        Some("multiply") => a * b,
        Some("divide") if b == 0.0 => return Err("division by zero".to_owned()),
        Some("divide") => a / b,
        _ => return Err("`operation` must be add, subtract, multiply or divide".to_owned()),
    };
    if !value.is_finite() {
        return Err("the result is not a finite number".to_owned());
    }
    Ok(json!({ "value": value }))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{calculator, current_time, run};
    use crate::table::Builtin;

    #[test]
    fn calculator_operations_and_failures() {
        let call = |op: &str, a: f64, b: f64| calculator(&json!({"operation": op, "a": a, "b": b}));
        assert_eq!(call("add", 2.0, 3.5), Ok(json!({"value": 5.5})));
        assert_eq!(call("subtract", 2.0, 3.0), Ok(json!({"value": -1.0})));
        assert_eq!(call("multiply", 4.0, 2.5), Ok(json!({"value": 10.0})));
        assert_eq!(call("divide", 1.0, 4.0), Ok(json!({"value": 0.25})));
        assert_eq!(call("divide", 1.0, 0.0), Err("division by zero".to_owned()));
        assert_eq!(
            call("multiply", f64::MAX, 2.0),
            Err("the result is not a finite number".to_owned())
        );
        assert_eq!(
            call("power", 1.0, 2.0),
            Err("`operation` must be add, subtract, multiply or divide".to_owned())
        );
        assert_eq!(
            calculator(&json!({"operation": "add", "a": 1})),
            Err("`b` must be a number".to_owned())
        );
    }

    #[test]
    fn current_time_is_rfc3339_utc() {
        assert_eq!(
            current_time(1_796_083_199),
            json!({"utc": "2026-11-30T23:59:59Z", "unix": 1_796_083_199u64})
        );
        let now = run(Builtin::CurrentTime, &json!({})).unwrap();
        let utc = now["utc"].as_str().unwrap();
        assert_eq!(utc.len(), 20, "{utc}");
        assert!(utc.ends_with('Z'), "{utc}");
    }
}
