//! Resolved, sorted and rendered diagnostics: the rustc-style report.
//!
//! Turns [`Diagnostic`]s into `file:line:col` plus a snippet rendered with
//! annotate-snippets' plain renderer (byte spans in, character columns out;
//! `error[GW..]` or `warning[GW..]`), and into `cargo::error=` /
//! `cargo::warning=` lines. It does not decide what is an error.

use std::fmt::Write as _;

use annotate_snippets::{AnnotationKind, Group, Level, Origin, Renderer, Snippet};

use crate::diag::codes::{Code, Severity};
use crate::diag::{At, Diagnostic, FileKind, Loc, SourceFile, Span};

/// A diagnostic resolved to a byte span, line and column, and rendered.
#[derive(Clone, Debug)]
pub struct Resolved {
    /// Stable code.
    pub code: Code,
    /// Error or warning (from the code).
    pub severity: Severity,
    /// File it is about.
    pub file: FileKind,
    /// Display path of that file.
    pub path: String,
    /// 1-based line (0 when the diagnostic has no span).
    pub line: usize,
    /// 1-based column in characters (0 when the diagnostic has no span).
    pub col: usize,
    /// Headline.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
    /// Rendered multi-line text.
    pub rendered: String,
}

impl Resolved {
    pub(crate) fn new(d: Diagnostic, files: &[SourceFile; 4]) -> Self {
        let src = &files[d.file.index()];
        let yaml_path = match &d.loc {
            Loc::Pointer(p, _) => Some(yaml_path(p)),
            Loc::File | Loc::Bytes(_) => None,
        };
        let span = resolve_span(&d.loc, src);
        let (line, col) = span.map_or((0, 0), |s| line_col(&src.text, s.start));
        let rendered = render(&d, src, span, yaml_path.as_deref());
        Self {
            code: d.code,
            severity: d.severity,
            file: d.file,
            path: src.display.clone(),
            line,
            col,
            message: d.message,
            help: d.help,
            rendered,
        }
    }
}

/// A sorted, rendered set of diagnostics.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Resolved diagnostics in report order.
    pub items: Vec<Resolved>,
}

impl Report {
    /// Whether the report holds no diagnostics.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// A report about something outside the config files (environment, I/O).
    pub fn standalone(code: Code, message: &str, help: &str) -> Self {
        let group = Level::ERROR
            .primary_title(message)
            .id(code.id)
            .element(Level::HELP.message(help));
        let rendered = Renderer::plain().render(&[group]);
        Self {
            items: vec![Resolved {
                code,
                severity: Severity::Error,
                file: FileKind::Upstreams,
                path: String::new(),
                line: 0,
                col: 0,
                message: message.to_owned(),
                help: Some(help.to_owned()),
                rendered,
            }],
        }
    }

    /// How many items are errors.
    pub fn error_count(&self) -> usize {
        self.count(Severity::Error)
    }

    /// How many items are warnings.
    pub fn warning_count(&self) -> usize {
        self.count(Severity::Warning)
    }

    fn count(&self, severity: Severity) -> usize {
        self.items.iter().filter(|i| i.severity == severity).count()
    }

    /// The full rustc-style report, ending with a summary line
    /// (`error: config has 2 errors and 1 warning`, `warning: config has 1 warning`);
    /// empty when there is nothing to report.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for item in &self.items {
            out.push_str(&item.rendered);
            out.push_str("\n\n");
        }
        let (errors, warnings) = (self.error_count(), self.warning_count());
        let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
        let _ = match (errors, warnings) {
            (0, 0) => Ok(()),
            (0, w) => writeln!(out, "warning: config has {}", plural(w, "warning")),
            (e, 0) => writeln!(out, "error: config has {}", plural(e, "error")),
            (e, w) => writeln!(
                out,
                "error: config has {} and {}",
                plural(e, "error"),
                plural(w, "warning")
            ),
        };
        out
    }

    /// One `cargo::error=file:line:col: [GW..] message` line per error and one
    /// `cargo::warning=...` line per warning (its help appended), in report order.
    pub fn cargo_lines(&self) -> Vec<String> {
        self.items.iter().map(Resolved::cargo_line).collect()
    }
}

impl Resolved {
    fn cargo_line(&self) -> String {
        let (kind, extra) = match self.severity {
            Severity::Error => ("error", String::new()),
            Severity::Warning => (
                "warning",
                self.help
                    .as_ref()
                    .map_or_else(String::new, |h| format!("; help: {h}")),
            ),
        };
        let msg = format!("[{}] {}{extra}", self.code.id, self.message).replace('\n', " ");
        if self.path.is_empty() {
            format!("cargo::{kind}={msg}")
        } else if self.line == 0 {
            format!("cargo::{kind}={}: {msg}", self.path)
        } else {
            format!(
                "cargo::{kind}={}:{}:{}: {msg}",
                self.path, self.line, self.col
            )
        }
    }
}

/// `/models/chat~1x/upstream` -> `models."chat/x".upstream`-ish dotted path.
pub fn yaml_path(pointer: &str) -> String {
    let mut out = String::new();
    for seg in pointer.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) && !out.is_empty() {
            let _ = write!(out, "[{seg}]");
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&seg);
        }
    }
    if out.is_empty() {
        "(document root)".to_owned()
    } else {
        out
    }
}

fn resolve_span(loc: &Loc, src: &SourceFile) -> Option<Span> {
    let span = match loc {
        Loc::File => return None,
        Loc::Bytes(span) => *span,
        Loc::Pointer(pointer, at) => {
            let mut p = pointer.as_str();
            let mut at = *at;
            loop {
                if let Some(entry) = src.index.get(p) {
                    break if at == At::Key {
                        entry.key
                    } else {
                        entry.value
                    };
                }
                match p.rfind('/') {
                    Some(i) => p = &p[..i],
                    None => return None,
                }
                at = At::Key;
            }
        }
    };
    if src.text.is_empty() || span.start > src.text.len() {
        return None;
    }
    Some(span)
}

/// 1-based line and 1-based character column of a byte offset.
pub fn line_col(text: &str, byte: usize) -> (usize, usize) {
    let byte = byte.min(text.len());
    let before = text.get(..byte).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, col)
}

fn render(d: &Diagnostic, src: &SourceFile, span: Option<Span>, path: Option<&str>) -> String {
    let text = match span {
        Some(s) if d.redact => redact(&src.text, s),
        _ => src.text.clone(),
    };
    let level = match d.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    };
    let title = level.primary_title(d.message.as_str()).id(d.code.id);
    let mut group: Group<'_> = match span {
        Some(s) => {
            let end = s.end.max(s.start).min(src.text.len());
            title.element(
                Snippet::source(text.as_str())
                    .path(src.display.as_str())
                    .fold(true)
                    .annotation(
                        AnnotationKind::Primary
                            .span(s.start..end)
                            .label(d.label.as_str()),
                    ),
            )
        }
        None => title.element(Origin::path(src.display.as_str())),
    };
    if let Some(path) = path {
        group = group.element(Level::NOTE.message(format!("at `{path}`")));
    }
    if let Some(help) = &d.help {
        group = group.element(Level::HELP.message(help.as_str()));
    }
    Renderer::plain().render(&[group])
}

/// Replace every byte of `span` with `*` so offsets stay valid and nothing leaks.
fn redact(text: &str, span: Span) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, c) in text.char_indices() {
        if i >= span.start && i < span.end {
            out.extend(std::iter::repeat_n('*', c.len_utf8()));
        } else {
            out.push(c);
        }
    }
    out
}
