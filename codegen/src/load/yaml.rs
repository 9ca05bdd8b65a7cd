//! YAML text -> `serde_json::Value` plus a JSON-pointer -> span index.
//!
//! Uses saphyr's span-aware loader (duplicate keys rejected, alias expansion
//! budgeted). saphyr markers count characters; this module converts them to
//! byte offsets once, here. It does not validate structure (see `schema.rs`).

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, ScanError, YamlData};
use serde_json::{Map, Number, Value};

use crate::diag::codes;
use crate::diag::{Diagnostic, Diagnostics, Entry, FileKind, Span, SpanIndex, escape};

/// The result of loading one file: its value (an empty mapping for an empty
/// file), the span index, and any YAML-level diagnostics.
#[derive(Debug)]
pub struct Loaded {
    /// JSON view of the document.
    pub value: Value,
    /// Pointer -> spans.
    pub index: SpanIndex,
}

/// Parse `text` (the content of `file`), recording problems in `diags`.
/// Returns `None` when the text is not usable YAML at all.
pub fn load(file: FileKind, text: &str, diags: &mut Diagnostics) -> Option<Loaded> {
    let chars = CharMap::new(text);
    let docs = match MarkedYaml::load_from_str(text) {
        Ok(docs) => docs,
        Err(err) => {
            diags.push(scan_error(file, text, &chars, &err));
            return None;
        }
    };
    if let Some(second) = docs.get(1) {
        let at = chars.byte(second.span.start.index());
        diags.push(
            Diagnostic::new(
                codes::MULTIPLE_DOCUMENTS,
                file,
                format!("file holds {} YAML documents, expected one", docs.len()),
            )
            .at_bytes(Span {
                start: at,
                end: line_end(text, at),
            })
            .label("second document starts here")
            .help("remove the `---` separator and merge the documents into one mapping"),
        );
    }
    let mut conv = Converter {
        file,
        text,
        chars,
        index: SpanIndex::new(),
        diags,
    };
    let value = match docs.first() {
        None => Value::Object(Map::new()),
        Some(doc) => {
            let value = conv.node(doc, String::new(), None);
            if value.is_null() {
                Value::Object(Map::new())
            } else {
                value
            }
        }
    };
    Some(Loaded {
        value,
        index: conv.index,
    })
}

/// Character index -> byte offset table for one text.
struct CharMap {
    bytes: Vec<usize>,
}

impl CharMap {
    fn new(text: &str) -> Self {
        let mut bytes: Vec<usize> = text.char_indices().map(|(b, _)| b).collect();
        bytes.push(text.len());
        Self { bytes }
    }

    fn byte(&self, char_index: usize) -> usize {
        self.bytes
            .get(char_index)
            .or(self.bytes.last())
            .copied()
            .unwrap_or(0)
    }
}

fn line_end(text: &str, at: usize) -> usize {
    let rest = text.get(at..).unwrap_or("");
    let line = rest.split('\n').next().unwrap_or("");
    at + line.trim_end().len()
}

fn scan_error(file: FileKind, text: &str, chars: &CharMap, err: &ScanError) -> Diagnostic {
    let start = chars.byte(err.marker().index()).min(text.len());
    let info = err.info();
    if info.contains("duplicated key") {
        let rest = text.get(start..).unwrap_or("");
        let line = rest.split('\n').next().unwrap_or("");
        let key_len = line
            .find(':')
            .map_or(line.trim_end().len(), |i| line[..i].trim_end().len());
        return Diagnostic::new(codes::DUPLICATE_KEY, file, "duplicate key in mapping")
            .at_bytes(Span {
                start,
                end: start + key_len.max(1).min(rest.len()),
            })
            .label("this key is already defined above")
            .help("remove one of the two entries, or rename it");
    }
    if let Some(tab) = tab_near(text, start) {
        return tab_error(file, text, tab);
    }
    let end = text
        .get(start..)
        .and_then(|r| r.chars().next())
        .map_or(start, |c| start + c.len_utf8());
    Diagnostic::new(codes::YAML_SYNTAX, file, format!("invalid YAML: {info}"))
        .at_bytes(Span { start, end })
        .label("YAML parser stopped here")
        .help("check indentation, `:` after keys, and quote values that contain `: ` or start with a special character")
}

/// A tab the parser stopped at: in the indentation of its line, or right at
/// (or just before) where it stopped. `(byte offset, in indentation)`.
fn tab_near(text: &str, stop: usize) -> Option<(usize, bool)> {
    let line_start = text.get(..stop)?.rfind('\n').map_or(0, |i| i + 1);
    let line = text.get(line_start..)?.split('\n').next()?;
    let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
    if let Some(i) = line.get(..indent)?.find('\t') {
        return Some((line_start + i, true));
    }
    let before = stop.checked_sub(1).filter(|b| *b >= line_start);
    [Some(stop), before]
        .into_iter()
        .flatten()
        .find(|b| text.as_bytes().get(*b) == Some(&b'\t'))
        .map(|b| (b, false))
}

/// GW0007 at the tab, naming the other lines indented with tabs.
fn tab_error(file: FileKind, text: &str, (at, indent): (usize, bool)) -> Diagnostic {
    let this_line = text.get(..at).map_or(0, |t| t.matches('\n').count()) + 1;
    let others: Vec<String> = text
        .lines()
        .enumerate()
        .filter(|(i, l)| {
            i + 1 != this_line
                && l.chars()
                    .take_while(|c| c.is_whitespace())
                    .any(|c| c == '\t')
        })
        .map(|(i, _)| (i + 1).to_string())
        .collect();
    let also = match others.len() {
        0 => String::new(),
        1 => format!("; line {} also starts with a tab", others[0]),
        _ => format!("; lines {} also start with a tab", others.join(", ")),
    };
    let (message, help) = if indent {
        (
            "tab in indentation",
            format!("use spaces to indent: YAML does not allow tabs there{also}"),
        )
    } else {
        (
            "tab where YAML expects a space",
            format!("use a space instead of the tab{also}"),
        )
    };
    Diagnostic::new(codes::TAB, file, message)
        .at_bytes(Span {
            start: at,
            end: at + 1,
        })
        .label("tab")
        .help(help)
}

struct Converter<'a> {
    file: FileKind,
    text: &'a str,
    chars: CharMap,
    index: SpanIndex,
    diags: &'a mut Diagnostics,
}

impl Converter<'_> {
    /// Byte span of a node, clamped to its first line; a flow collection spans
    /// to its closing bracket when that is on the same line; empty spans widen
    /// to `fallback` (the key) or to the end of the line.
    fn span(&self, node: &MarkedYaml<'_>, fallback: Option<Span>) -> Span {
        let start = self.chars.byte(node.span.start.index());
        let eol = line_end(self.text, start);
        let mut end = self.chars.byte(node.span.end.index()).max(start).min(eol);
        if let Some(close) = flow_end(self.text.get(start..eol).unwrap_or("")) {
            end = end.max(start + close);
        }
        let span = Span {
            start,
            end: if end > start { end } else { eol },
        };
        match fallback {
            Some(key) if span.start == span.end => key,
            _ => span,
        }
    }

    fn is_flow(&self, span: Span) -> bool {
        matches!(self.text.as_bytes().get(span.start), Some(b'{' | b'['))
    }

    fn node(&mut self, node: &MarkedYaml<'_>, ptr: String, key: Option<Span>) -> Value {
        let mut value_span = self.span(node, key);
        let collection = node.is_mapping() || node.is_sequence();
        if let (true, Some(key)) = (collection, key)
            && !self.is_flow(value_span)
        {
            value_span = key;
        }
        self.index.insert(
            ptr.clone(),
            Entry {
                key: key.unwrap_or(value_span),
                value: value_span,
            },
        );
        match &node.data {
            YamlData::Mapping(map) => {
                let mut out = Map::new();
                for (k, v) in map {
                    let key_span = self.span(k, None);
                    let Some(name) = self.key_name(k, key_span) else {
                        continue;
                    };
                    let child = format!("{ptr}/{}", escape(&name));
                    let value = self.node(v, child, Some(key_span));
                    out.insert(name, value);
                }
                Value::Object(out)
            }
            YamlData::Sequence(items) => Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| self.node(item, format!("{ptr}/{i}"), None))
                    .collect(),
            ),
            YamlData::Value(scalar) => self.scalar(scalar, value_span),
            YamlData::Representation(repr, _, _) => Value::String(repr.to_string()),
            YamlData::Tagged(_, inner) => self.node(inner, ptr, key),
            YamlData::Alias(_) | YamlData::BadValue => {
                self.unsupported(
                    value_span,
                    "unsupported YAML value",
                    "unresolved alias or tag",
                );
                Value::Null
            }
        }
    }

    fn key_name(&mut self, key: &MarkedYaml<'_>, span: Span) -> Option<String> {
        match &key.data {
            YamlData::Value(Scalar::String(s)) => Some(s.to_string()),
            YamlData::Tagged(_, inner) => self.key_name(inner, span),
            _ => {
                self.diags.push(
                    Diagnostic::new(
                        codes::UNSUPPORTED_YAML,
                        self.file,
                        "mapping key is not a string",
                    )
                    .at_bytes(span)
                    .label("keys must be strings")
                    .help("quote the key, e.g. `\"8080\": ...`"),
                );
                None
            }
        }
    }

    fn scalar(&mut self, scalar: &Scalar<'_>, span: Span) -> Value {
        match scalar {
            Scalar::Null => Value::Null,
            Scalar::Boolean(b) => Value::Bool(*b),
            Scalar::Integer(i) => Value::Number(Number::from(*i)),
            Scalar::FloatingPoint(f) => match Number::from_f64(f.into_inner()) {
                Some(n) => Value::Number(n),
                None => {
                    self.unsupported(
                        span,
                        "non-finite number",
                        "`.inf` and `.nan` are not supported",
                    );
                    Value::Null
                }
            },
            Scalar::String(s) => Value::String(s.to_string()),
        }
    }

    fn unsupported(&mut self, span: Span, message: &str, label: &str) {
        self.diags.push(
            Diagnostic::new(codes::UNSUPPORTED_YAML, self.file, message)
                .at_bytes(span)
                .label(label)
                .help("write a plain string, number, boolean, mapping or sequence"),
        );
    }
}

/// Length up to and including the bracket closing a flow collection that starts
/// `line`, if it closes on this line (quotes are skipped roughly).
fn flow_end(line: &str) -> Option<usize> {
    if !line.starts_with(['{', '[']) {
        return None;
    }
    let (mut depth, mut quote) = (0usize, None);
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '{' | '[') => depth += 1,
            (None, '}' | ']') => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}
