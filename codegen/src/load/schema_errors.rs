//! Schema errors -> diagnostics: each `jsonschema` error kind becomes a
//! located diagnostic that names the fix (an unknown key with "did you
//! mean", a missing key, a wrong type with the shape or unit it needs, an
//! inline secret or `$VAR`, a value outside the allowed words).
//!
//! Called by `schema.rs::validate`; the wording for quantities is shared
//! with `check/` through `diag/values.rs`, for shapes it is `shape.rs`.

use serde_json::Value;

use crate::diag::codes;
use crate::diag::suggest;
use crate::diag::values;
use crate::diag::{Diagnostic, Diagnostics, FileKind, escape};
use crate::load::schema::{collect_properties, deref, schema_at, type_name};
use crate::load::shape;
use crate::parse::{self, Units};
use crate::spec::values::SCHEMA_VALUE_KEY;

const SECRET_REF_HELP: &str =
    "use `api_key: { env: OPENAI_API_KEY }` or `{ file: /run/secrets/openai }`";

pub(crate) struct Ctx<'a> {
    pub(crate) file: FileKind,
    pub(crate) schema: &'a Value,
    pub(crate) value: &'a Value,
    pub(crate) ptr: &'a str,
}

impl Ctx<'_> {
    pub(crate) fn map(
        &self,
        kind: &jsonschema::error::ValidationErrorKind,
        msg: &str,
        inline: &mut Vec<String>,
        diags: &mut Diagnostics,
    ) {
        use jsonschema::error::ValidationErrorKind as K;
        let instance = self.value.pointer(self.ptr);
        let d = match kind {
            K::AdditionalProperties { unexpected } => {
                let allowed = self.allowed_keys();
                for key in unexpected {
                    diags.push(self.unknown_key(key, &allowed));
                }
                return;
            }
            K::Required { property } => self.missing_key(property.as_str().unwrap_or("?")),
            K::Type { .. } if instance.is_some_and(Value::is_string) && self.is_secret_ref() => {
                inline.push(self.ptr.to_owned());
                match instance.and_then(Value::as_str).and_then(variable_name) {
                    Some(var) => self.variable_reference(var),
                    None => self.inline_secret(),
                }
            }
            K::Type { kind } => self.wrong_type(kind, instance),
            K::Enum { options } => self.unknown_value(options, instance),
            K::MinProperties { .. } if self.is_secret_ref() => self.secret_shape("sets neither"),
            K::MaxProperties { .. } if self.is_secret_ref() => self.secret_shape("sets both"),
            _ => Diagnostic::new(codes::SCHEMA, self.file, lowercase_first(msg))
                .at(self.ptr)
                .label(format!("breaks the `{}` rule", kind.keyword()))
                .help("see the schema description of this key (`gateway-check schema <file>`)"),
        };
        diags.push(d);
    }

    fn missing_key(&self, name: &str) -> Diagnostic {
        let d = Diagnostic::new(
            codes::MISSING_KEY,
            self.file,
            format!("missing required key `{name}`"),
        )
        .label(format!("`{name}` is required here"))
        .help(format!("add `{name}:` to this mapping"));
        if self.ptr.is_empty() {
            d.at("")
        } else {
            d.at_key(self.ptr)
        }
    }

    /// `api_key: $OPENAI_API_KEY`: a variable written where a reference is expected.
    fn variable_reference(&self, var: &str) -> Diagnostic {
        let key = self.ptr.rsplit('/').next().unwrap_or("api_key");
        Diagnostic::new(
            codes::INLINE_SECRET,
            self.file,
            format!("`{key}` is written as the shell expression `${var}`"),
        )
        .at(self.ptr)
        .label("expected `{ env: NAME }` or `{ file: /path }`")
        .help(format!(
            "write `{key}: {{ env: {var} }}` (the gateway reads the variable itself at startup)"
        ))
    }

    fn inline_secret(&self) -> Diagnostic {
        Diagnostic::new(codes::INLINE_SECRET, self.file, "secret written inline")
            .at(self.ptr)
            .label("inline secret (value not shown)")
            .help(SECRET_REF_HELP)
            .redacted()
    }

    fn wrong_type(
        &self,
        kind: &jsonschema::error::TypeKind,
        instance: Option<&Value>,
    ) -> Diagnostic {
        let here = schema_at(self.schema, self.ptr);
        if let (Some(Value::Number(n)), Some(units)) = (instance, here.and_then(quantity)) {
            let default = here.and_then(|s| s.get("default")).and_then(Value::as_str);
            let at = self.ptr.to_owned();
            return values::bare_number(self.file, at, units, &n.to_string(), default);
        }
        let expected = expected_types(kind);
        let found = instance.map_or("nothing", type_name);
        Diagnostic::new(
            codes::WRONG_TYPE,
            self.file,
            format!("expected {expected}, found {found}"),
        )
        .at(self.ptr)
        .label(format!("expected {expected}"))
        .help(
            self.shape_help(here, instance)
                .unwrap_or_else(|| self.type_help()),
        )
    }

    /// A list written as a mapping, or a mapping written as a list: the fix.
    fn shape_help(&self, here: Option<&Value>, instance: Option<&Value>) -> Option<String> {
        let here = deref(self.schema, here?, 0);
        let key = self
            .ptr
            .rsplit('/')
            .next()
            .unwrap_or("")
            .replace("~1", "/")
            .replace("~0", "~");
        let types = here.get("type");
        let wants = |t: &str| {
            types.is_some_and(|v| v == t || v.as_array().is_some_and(|a| a.iter().any(|x| x == t)))
        };
        match instance? {
            Value::Object(written) if wants("array") => {
                let items = here.get("items").map(|i| deref(self.schema, i, 0));
                Some(shape::list_as_mapping(&key, items, written))
            }
            Value::Array(written) if wants("object") => {
                let keyed = here
                    .get("additionalProperties")
                    .is_some_and(Value::is_object);
                Some(shape::mapping_as_list(&key, keyed, written))
            }
            _ => None,
        }
    }

    fn unknown_value(&self, options: &Value, instance: Option<&Value>) -> Diagnostic {
        let allowed: Vec<&str> = options
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let got = instance.and_then(Value::as_str).unwrap_or("");
        Diagnostic::new(
            codes::UNKNOWN_VALUE,
            self.file,
            format!("unknown value `{got}`"),
        )
        .at(self.ptr)
        .label("not an allowed value")
        .help(format!(
            "{}allowed values are {}",
            suggest::did_you_mean(got, allowed.iter().copied()),
            suggest::list(allowed.iter().copied())
        ))
    }

    fn secret_shape(&self, label: &str) -> Diagnostic {
        Diagnostic::new(
            codes::SECRET_REF_SHAPE,
            self.file,
            "secret reference must set exactly one of `env` or `file`",
        )
        .at_key(self.ptr)
        .label(label)
        .help(SECRET_REF_HELP)
    }

    fn unknown_key(&self, key: &str, allowed: &[String]) -> Diagnostic {
        let names = allowed.iter().map(String::as_str);
        let ptr = format!("{}/{}", self.ptr, escape(key));
        Diagnostic::new(
            codes::UNKNOWN_KEY,
            self.file,
            format!("unknown key `{key}`"),
        )
        .at_key(ptr)
        .label("not a known key here")
        .help(format!(
            "{}allowed keys are {}",
            suggest::did_you_mean(key, names.clone()),
            suggest::list(names)
        ))
    }

    fn allowed_keys(&self) -> Vec<String> {
        let Some(s) = schema_at(self.schema, self.ptr) else {
            return Vec::new();
        };
        let mut keys = Vec::new();
        collect_properties(self.schema, s, &mut keys, 0);
        keys
    }

    fn is_secret_ref(&self) -> bool {
        schema_at(self.schema, self.ptr)
            .and_then(|s| deref(self.schema, s, 0).get("properties"))
            .is_some_and(|p| p.get("env").is_some() && p.get("file").is_some())
    }

    fn type_help(&self) -> String {
        let desc = schema_at(self.schema, self.ptr)
            .and_then(|s| {
                s.get("description")
                    .or_else(|| deref(self.schema, s, 0).get("description"))
            })
            .and_then(Value::as_str);
        match desc {
            Some(d) => format!("this key is: {}", d.replace('\n', " ")),
            None => "see `gateway-check schema <file>` for the expected shape".to_owned(),
        }
    }
}

fn lowercase_first(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_lowercase().chain(chars).collect())
}

fn expected_types(kind: &jsonschema::error::TypeKind) -> String {
    use jsonschema::error::TypeKind;
    let names: Vec<&str> = match kind {
        TypeKind::Single(t) => vec![t.as_str()],
        TypeKind::Multiple(set) => set
            .iter()
            .map(|t| t.as_str())
            .filter(|t| *t != "null")
            .collect(),
    };
    let names: Vec<String> = names.into_iter().map(article).collect();
    names.join(" or ")
}

fn article(json_type: &str) -> String {
    match json_type {
        "object" => "a mapping".to_owned(),
        "array" => "a sequence".to_owned(),
        "integer" => "an integer".to_owned(),
        "string" => "a string".to_owned(),
        "boolean" => "a boolean".to_owned(),
        "number" => "a number".to_owned(),
        other => format!("a {other}"),
    }
}

/// `NAME` from `$NAME` or `${NAME}`, when `NAME` is a valid variable name.
fn variable_name(s: &str) -> Option<&str> {
    let name = s
        .strip_prefix("${")
        .and_then(|v| v.strip_suffix('}'))
        .or_else(|| s.strip_prefix('$'))?;
    Some(name).filter(|n| parse::is_env_name(n))
}

/// The unit table of a schema node marked as a duration or size.
fn quantity(schema: &Value) -> Option<&'static Units> {
    match schema.get(SCHEMA_VALUE_KEY)?.as_str()? {
        "duration" => Some(&parse::DURATION),
        "size" => Some(&parse::SIZE),
        _ => None,
    }
}
