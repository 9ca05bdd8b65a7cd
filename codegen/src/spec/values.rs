//! String values that need parsing (durations, sizes, base URLs, digests,
//! API versions, retry conditions, which may also be written as a bare
//! status number), parsed once, when the file is read: [`Parsed`] keeps what the user wrote
//! and the parser's verdict side by side.
//!
//! `check/` reports a failed verdict with its location; `lower/` takes the
//! value. Deserializing never fails on a bad value (the schema only says
//! "string"), so one bad value cannot hide the rest of its file.

use std::borrow::Cow;
use std::fmt::Debug;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer};

use crate::parse::{self, QuantityError};

/// A parser for one kind of string value.
pub trait Parser {
    /// The parsed value.
    type Value: Clone + Debug + PartialEq;
    /// Why a string is not such a value.
    type Error: Clone + Debug + PartialEq;
    /// What the schema calls this kind of value (`x-gateway-value`), so a
    /// schema error can name the fix (a bare number gets a unit).
    const SCHEMA_VALUE: Option<&'static str> = None;
    /// Whether a YAML integer is accepted too (read as its decimal text).
    const INTEGERS: bool = false;
    /// Parse a string as written in YAML.
    fn parse(s: &str) -> Result<Self::Value, Self::Error>;
}

/// The schema annotation marking a duration or size string.
pub const SCHEMA_VALUE_KEY: &str = "x-gateway-value";

/// A string value as written, with the result of parsing it.
#[derive(Clone, Debug, PartialEq)]
pub struct Parsed<P: Parser> {
    raw: String,
    value: Result<P::Value, P::Error>,
}

impl<P: Parser> Parsed<P> {
    /// Parse `raw` now.
    pub fn new(raw: impl Into<String>) -> Self {
        let raw = raw.into();
        let value = P::parse(&raw);
        Self { raw, value }
    }

    /// The text as written.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The parsed value, or why there is none.
    pub fn value(&self) -> Result<&P::Value, &P::Error> {
        self.value.as_ref()
    }

    /// The parse error, if any.
    pub fn error(&self) -> Option<&P::Error> {
        self.value.as_ref().err()
    }
}

impl<'de, P: Parser> Deserialize<'de> for Parsed<P> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if P::INTEGERS {
            TextOrInteger::deserialize(d).map(|v| Self::new(v.text()))
        } else {
            String::deserialize(d).map(Self::new)
        }
    }
}

/// A value written as a string or an integer.
#[derive(Deserialize)]
#[serde(untagged)]
enum TextOrInteger {
    Unsigned(u64),
    Signed(i64),
    Text(String),
}

impl TextOrInteger {
    fn text(self) -> String {
        match self {
            Self::Unsigned(n) => n.to_string(),
            Self::Signed(n) => n.to_string(),
            Self::Text(s) => s,
        }
    }
}

impl<P: Parser> JsonSchema for Parsed<P> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "String".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        if P::INTEGERS {
            return json_schema!({ "type": ["integer", "string"] });
        }
        match P::SCHEMA_VALUE {
            Some(value) => json_schema!({ "type": "string", SCHEMA_VALUE_KEY: value }),
            None => json_schema!({ "type": "string" }),
        }
    }
}

/// Milliseconds from `500ms`, `2s`, `1m`, `1h`.
#[derive(Clone, Debug, PartialEq)]
pub struct Millis;
impl Parser for Millis {
    type Value = u64;
    type Error = QuantityError;
    const SCHEMA_VALUE: Option<&'static str> = Some("duration");
    fn parse(s: &str) -> Result<u64, QuantityError> {
        parse::duration_ms(s)
    }
}

/// Bytes from `4MiB`, `64KiB`, `10MB`.
#[derive(Clone, Debug, PartialEq)]
pub struct Bytes;
impl Parser for Bytes {
    type Value = u64;
    type Error = QuantityError;
    const SCHEMA_VALUE: Option<&'static str> = Some("size");
    fn parse(s: &str) -> Result<u64, QuantityError> {
        parse::size_bytes(s)
    }
}

/// An http(s) base URL, trailing slashes removed.
#[derive(Clone, Debug, PartialEq)]
pub struct Url;
impl Parser for Url {
    type Value = String;
    type Error = String;
    fn parse(s: &str) -> Result<String, String> {
        parse::base_url(s)
    }
}

/// A hex SHA-256 digest.
#[derive(Clone, Debug, PartialEq)]
pub struct Sha256;
impl Parser for Sha256 {
    type Value = [u8; 32];
    type Error = String;
    fn parse(s: &str) -> Result<[u8; 32], String> {
        parse::digest(s)
    }
}

/// A dated API version such as `2023-06-01`.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiVersion;
impl Parser for ApiVersion {
    type Value = String;
    type Error = String;
    fn parse(s: &str) -> Result<String, String> {
        parse::api_version(s)
    }
}

/// A `retry.on` condition: `connect_error`, `timeout`, `5xx` or a status.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryOn;
impl Parser for RetryOn {
    type Value = parse::RetryCondition;
    type Error = parse::RetryConditionError;
    const INTEGERS: bool = true;
    fn parse(s: &str) -> Result<parse::RetryCondition, parse::RetryConditionError> {
        parse::retry_condition(s)
    }
}

/// A duration such as `2s`.
pub type DurationSpec = Parsed<Millis>;
/// A size such as `4MiB`.
pub type SizeSpec = Parsed<Bytes>;
/// A base URL such as `https://api.openai.com/v1`.
pub type UrlSpec = Parsed<Url>;
/// A SHA-256 digest in hex.
pub type DigestSpec = Parsed<Sha256>;
/// An API version date such as `2023-06-01`.
pub type ApiVersionSpec = Parsed<ApiVersion>;
/// A retry condition such as `5xx` or `429`.
pub type RetryOnSpec = Parsed<RetryOn>;
