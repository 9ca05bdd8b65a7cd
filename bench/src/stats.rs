//! Percentiles (nearest rank, by sorting) and the small report helpers the
//! clients share: an order-keeping JSON object, milliseconds, SHA-256 hex,
//! a capped list of failure reasons.
//!
//! No histograms and no interpolation: the sample counts here (≤ a few
//! hundred thousand) sort in milliseconds, and nearest rank always reports a
//! value that was actually observed.

use std::fmt;

use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::value::{RawValue, to_raw_value};
use serde_json::{Value, json};

/// How many failure reasons a report keeps (the count is always complete).
pub const MAX_REASONS: usize = 10;

/// The nearest-rank `p`-th percentile (0 < p ≤ 100) of `sorted` (ascending);
/// `None` for no samples.
pub fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    // Nearest rank: the smallest value with at least p% of samples ≤ it.
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

/// Microseconds as milliseconds with three decimals (JSON `null` when absent).
pub fn ms(micros: Option<u64>) -> Value {
    match micros {
        Some(us) => json!((us as f64) / 1000.0),
        None => Value::Null,
    }
}

/// `{"p50":…, "p90":…}` in milliseconds (three decimals) for the named
/// percentiles (100 = max) of microsecond samples; sorts `samples` in place.
pub fn summary_ms(samples: &mut [u64], points: &[(&'static str, f64)]) -> Object {
    summary(samples, points, ms)
}

/// As [`summary_ms`], in whole microseconds.
pub fn summary_us(samples: &mut [u64], points: &[(&'static str, f64)]) -> Object {
    summary(samples, points, |us| json!(us))
}

fn summary(
    samples: &mut [u64],
    points: &[(&'static str, f64)],
    unit: fn(Option<u64>) -> Value,
) -> Object {
    samples.sort_unstable();
    points.iter().fold(Object::default(), |out, (name, p)| {
        out.field(name, unit(percentile(samples, *p)))
    })
}

/// A JSON object that keeps its fields in insertion order (serde_json's own
/// map sorts keys), so reports read in the documented order.
#[derive(Debug, Default)]
pub struct Object(Vec<(&'static str, Box<RawValue>)>);

impl Object {
    /// Appends a field; a value that cannot be serialized becomes `null`.
    pub fn field(mut self, name: &'static str, value: impl Serialize) -> Self {
        let raw = to_raw_value(&value).or_else(|_| to_raw_value(&Value::Null));
        if let Ok(raw) = raw {
            self.0.push((name, raw));
        }
        self
    }
}

impl Serialize for Object {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

impl fmt::Display for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&serde_json::to_string(self).map_err(|_| fmt::Error)?)
    }
}

/// Lowercase hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// Failure reasons: counts every one, keeps the first [`MAX_REASONS`].
#[derive(Debug, Default)]
pub struct Failures {
    pub count: u64,
    pub reasons: Vec<String>,
}

impl Failures {
    pub fn add(&mut self, reason: String) {
        self.count += 1;
        if self.reasons.len() < MAX_REASONS {
            self.reasons.push(reason);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(samples: &[u64], p: f64, expect: Option<u64>) {
        assert_eq!(percentile(samples, p), expect, "p{p} of {samples:?}");
    }

    #[test]
    fn nearest_rank() {
        let hundred: Vec<u64> = (1..=100).collect();
        check(&hundred, 50.0, Some(50));
        check(&hundred, 99.0, Some(99));
        check(&hundred, 99.9, Some(100));
        check(&hundred, 100.0, Some(100));
        check(&[7], 50.0, Some(7));
        check(&[1, 2, 3, 4], 50.0, Some(2));
        check(&[1, 2, 3, 4], 51.0, Some(3));
        check(&[1, 2], 0.0, Some(1));
        check(&[], 50.0, None);
    }

    #[test]
    fn summary_sorts_and_converts() {
        let mut samples = vec![3000, 1000, 2000];
        let summary = summary_ms(&mut samples, &[("p50", 50.0), ("max", 100.0)]);
        assert_eq!(summary.to_string(), r#"{"p50":2.0,"max":3.0}"#);
        let empty = summary_ms(&mut [], &[("p50", 50.0)]);
        assert_eq!(empty.to_string(), r#"{"p50":null}"#);
        let us = summary_us(&mut [5, 1], &[("max", 100.0)]);
        assert_eq!(us.to_string(), r#"{"max":5}"#);
        let nested = Object::default()
            .field("z", 1)
            .field("a", empty)
            .field("s", "x");
        assert_eq!(nested.to_string(), r#"{"z":1,"a":{"p50":null},"s":"x"}"#);
    }

    #[test]
    fn hex_and_failures() {
        assert_eq!(hex(&[0x00, 0xab, 0x10]), "00ab10");
        let mut failures = Failures::default();
        for i in 0..15 {
            failures.add(format!("r{i}"));
        }
        assert_eq!(failures.count, 15);
        assert_eq!(failures.reasons.len(), MAX_REASONS);
    }
}
