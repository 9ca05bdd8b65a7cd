//! Diagnostics: what went wrong, where, and how to fix it; rendered rustc-style.
//!
//! Checks record a location as a JSON pointer into one of the four config
//! files (plus whether the key or the value is meant); `report.rs` resolves it
//! to a byte span through the file's span index, sorts and renders. `codes.rs`
//! is the code table, `suggest.rs` the "did you mean" and unknown-reference
//! helpers, `values.rs` the shared wording for malformed durations and sizes.
//! Nothing here decides what is an error.

use std::collections::BTreeMap;

pub mod codes;
mod report;
pub mod suggest;
pub mod values;

use codes::Code;
pub use codes::Severity;
pub use report::{Report, Resolved, line_col, yaml_path};

/// Build a JSON pointer (how diagnostics name locations) from unescaped segments.
pub fn ptr(segments: &[&str]) -> String {
    segments.iter().map(|s| format!("/{}", escape(s))).collect()
}

/// RFC 6901 escaping of one pointer segment.
pub fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Which of the four config files a diagnostic is about, in report order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FileKind {
    /// `upstreams.yaml`
    Upstreams = 0,
    /// `agents.yaml`
    Agents = 1,
    /// `tools.yaml`
    Tools = 2,
    /// `security.yaml`
    Security = 3,
}

impl FileKind {
    /// All files in the fixed order used for reports and the config digest.
    pub const ALL: [FileKind; 4] = [Self::Upstreams, Self::Agents, Self::Tools, Self::Security];

    /// File name inside a config directory.
    pub fn file_name(self) -> &'static str {
        match self {
            Self::Upstreams => "upstreams.yaml",
            Self::Agents => "agents.yaml",
            Self::Tools => "tools.yaml",
            Self::Security => "security.yaml",
        }
    }

    /// Index into `[_; 4]` arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// A half-open byte range in a source text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

/// Spans of one mapping entry or sequence item (key span = value span for items).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Entry {
    /// The key (for a sequence item or the root: same as `value`).
    pub key: Span,
    /// The value, clamped to its first line.
    pub value: Span,
}

/// JSON pointer (RFC 6901, as jsonschema prints it) -> spans.
pub type SpanIndex = BTreeMap<String, Entry>;

/// One config file's display path, text and span index.
#[derive(Clone, Debug, Default)]
pub struct SourceFile {
    /// Workspace-relative path shown in diagnostics and the generated header.
    pub display: String,
    /// The file's text.
    pub text: String,
    /// Pointer -> spans, filled by the YAML loader.
    pub index: SpanIndex,
}

/// Which part of a mapping entry a diagnostic points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum At {
    /// The key (`upstream` in `upstream: x`).
    Key,
    /// The value (`x` in `upstream: x`).
    Value,
}

/// Where a diagnostic points before resolution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Loc {
    /// The whole file, no span.
    File,
    /// A node by JSON pointer.
    Pointer(String, At),
    /// Raw bytes (YAML syntax errors).
    Bytes(Span),
}

/// One finding, before it is resolved against the source text.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    /// Stable code.
    pub code: Code,
    /// Severity, from the code.
    pub severity: Severity,
    /// File the location refers to.
    pub file: FileKind,
    /// Location inside the file.
    pub loc: Loc,
    /// Lowercase headline, no trailing period.
    pub message: String,
    /// Short label under the span.
    pub label: String,
    /// How to fix it.
    pub help: Option<String>,
    /// Mask the spanned source text when rendering (it may hold a secret).
    pub redact: bool,
}

impl Diagnostic {
    /// A diagnostic about a whole file, as severe as its code says; refine
    /// with [`Diagnostic::at`] and friends.
    pub fn new(code: Code, file: FileKind, message: impl Into<String>) -> Self {
        Self {
            code,
            severity: code.severity,
            file,
            loc: Loc::File,
            message: message.into(),
            label: String::new(),
            help: None,
            redact: false,
        }
    }

    /// Never show the spanned source text (it may be a secret).
    pub fn redacted(self) -> Self {
        Self {
            redact: true,
            ..self
        }
    }

    /// Point at the value under `pointer`.
    pub fn at(self, pointer: impl Into<String>) -> Self {
        Self {
            loc: Loc::Pointer(pointer.into(), At::Value),
            ..self
        }
    }

    /// Point at the key of the entry under `pointer`.
    pub fn at_key(self, pointer: impl Into<String>) -> Self {
        Self {
            loc: Loc::Pointer(pointer.into(), At::Key),
            ..self
        }
    }

    /// Point at raw bytes.
    pub fn at_bytes(self, span: Span) -> Self {
        Self {
            loc: Loc::Bytes(span),
            ..self
        }
    }

    /// Set the label shown under the span.
    pub fn label(self, label: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            ..self
        }
    }

    /// Set the help line.
    pub fn help(self, help: impl Into<String>) -> Self {
        Self {
            help: Some(help.into()),
            ..self
        }
    }
}

/// Accumulated diagnostics of one run.
#[derive(Clone, Debug, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// Record a diagnostic.
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    /// Whether any error was recorded.
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }

    /// How many warnings were recorded.
    pub fn warning_count(&self) -> usize {
        self.items
            .iter()
            .filter(|d| d.severity == Severity::Warning)
            .count()
    }

    /// The recorded diagnostics, in insertion order.
    pub fn items(&self) -> &[Diagnostic] {
        &self.items
    }

    /// Move all diagnostics of `other` into `self`.
    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }

    /// Resolve against the sources, sort by (file, line, col) and render.
    pub fn into_report(self, files: &[SourceFile; 4]) -> Report {
        let mut resolved: Vec<Resolved> = self
            .items
            .into_iter()
            .map(|d| Resolved::new(d, files))
            .collect();
        resolved.sort_by(|a, b| {
            (a.file, a.line, a.col, a.code.id).cmp(&(b.file, b.line, b.col, b.code.id))
        });
        Report { items: resolved }
    }
}
