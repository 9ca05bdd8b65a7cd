//! SDK agents: each `kind: sdk` agent's `path` (`module::Type`) resolves to
//! `src/agents/<module>.rs` of the root crate, which defines `pub struct
//! Type;` and `impl Agent for Type` (the compiled equivalent of an
//! `SDKAgentError`). The file is scanned with comments and string literals
//! blanked out, so neither can satisfy the check; no Rust parser is needed,
//! and rustc checks the rest when the generated table names the type.

use crate::diag::codes;
use crate::diag::ptr;
use crate::diag::suggest;
use crate::diag::{Diagnostic, Diagnostics, FileKind};
use crate::spec::AgentsFile;
use crate::spec::agents::{AgentKindSpec, SdkSources};

/// Every SDK agent's path resolves in `sdk`.
pub fn check(file: &AgentsFile, sdk: &SdkSources, diags: &mut Diagnostics) {
    let existing = existing(sdk);
    for (name, agent) in &file.agents {
        let (AgentKindSpec::Sdk, Some(path)) = (agent.kind, agent.path.as_deref()) else {
            continue;
        };
        if let Err((what, help)) = resolve(path, sdk) {
            let others = suggest::list(existing.iter().map(String::as_str));
            diags.push(
                Diagnostic::new(
                    codes::SDK_AGENT_PATH,
                    FileKind::Agents,
                    format!("SDK agent `{name}`: path `{path}` does not resolve: {what}"),
                )
                .at(ptr(&["agents", name, "path"]))
                .label("no such agent type")
                .help(format!("{help}; SDK agents that resolve: {others}")),
            );
        }
    }
}

/// `module::Type` in the sources, or what is missing and how to fix it.
fn resolve(path: &str, sdk: &SdkSources) -> Result<(), (String, String)> {
    let dir = &sdk.display_dir;
    let Some((module, ty)) = path.split_once("::").filter(|(m, t)| ident(m) && ident(t)) else {
        return Err((
            "it is not `module::Type`".to_owned(),
            format!(
                "write `<file stem>::<Type>` for a type in `{dir}/<file stem>.rs`, e.g. `arithmetic::Arithmetic`"
            ),
        ));
    };
    let file = format!("{dir}/{module}.rs");
    let Some(text) = sdk.modules.get(module) else {
        return Err((
            format!("no file `{file}`"),
            format!(
                "create `{file}` with `pub struct {ty};` and `impl Agent for {ty}`, and add `pub mod {module};` to `{dir}/mod.rs`"
            ),
        ));
    };
    let code = tokens(&blank(text));
    if !code.contains(&format!(" pub struct {ty} ; ")) {
        return Err((
            format!("`{file}` has no `pub struct {ty};`"),
            format!(
                "define `pub struct {ty};` (a unit struct, so the table can name it) in `{file}`"
            ),
        ));
    }
    if !code.contains(&format!(" Agent for {ty} {{ ")) {
        return Err((
            format!("`{file}` has no `impl Agent for {ty}`"),
            format!("implement `gateway_runtime::agents::Agent` for `{ty}` in `{file}`"),
        ));
    }
    Ok(())
}

/// Every `module::Type` of the sources that resolves (a `pub struct Type;`
/// with `impl Agent for Type`), for the help line: what a `path` may name.
fn existing(sdk: &SdkSources) -> Vec<String> {
    let mut found = Vec::new();
    for (module, text) in &sdk.modules {
        let code = tokens(&blank(text));
        for (at, _) in code.match_indices(" Agent for ") {
            let rest = &code[at + " Agent for ".len()..];
            let ty = rest.split(' ').next().unwrap_or_default();
            let path = format!("{module}::{ty}");
            if resolve(&path, sdk).is_ok() && !found.contains(&path) {
                found.push(path);
            }
        }
    }
    found
}

fn ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `text` with comments and string and char literals replaced by spaces.
fn blank(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let (c, next) = (chars[i], chars.get(i + 1).copied());
        let skip_to = match (c, next) {
            ('/', Some('/')) => find(&chars, i, &['\n']).unwrap_or(chars.len()),
            ('/', Some('*')) => block_end(&chars, i + 2),
            ('"', _) => quoted(&chars, i + 1, '"'),
            ('\'', Some('\\')) => quoted(&chars, i + 1, '\''),
            ('\'', Some(_)) if chars.get(i + 2) == Some(&'\'') => i + 3,
            _ => {
                out.push(c);
                i += 1;
                continue;
            }
        };
        out.push(' ');
        i = skip_to.max(i + 1);
    }
    out
}

fn find(chars: &[char], from: usize, any: &[char]) -> Option<usize> {
    chars[from..]
        .iter()
        .position(|c| any.contains(c))
        .map(|p| from + p)
}

/// Past the `*/` closing a block comment opened before `from`.
fn block_end(chars: &[char], from: usize) -> usize {
    (from..chars.len().saturating_sub(1))
        .find(|&j| chars[j] == '*' && chars[j + 1] == '/')
        .map_or(chars.len(), |j| j + 2)
}

/// Past the closing `end` of a literal whose body starts at `from` (escapes skipped).
fn quoted(chars: &[char], from: usize, end: char) -> usize {
    let mut j = from;
    while j < chars.len() {
        match chars[j] {
            '\\' => j += 2,
            c if c == end => return j + 1,
            _ => j += 1,
        }
    }
    chars.len()
}

/// Identifiers and punctuation, each surrounded by single spaces.
fn tokens(code: &str) -> String {
    let mut out = String::from(" ");
    let mut word = String::new();
    for c in code.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            out.push_str(&word);
            out.push(' ');
            word.clear();
        }
        if !c.is_whitespace() {
            out.push(c);
            out.push(' ');
        }
    }
    if !word.is_empty() {
        out.push_str(&word);
        out.push(' ');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{SdkSources, resolve};

    fn sources(text: &str) -> SdkSources {
        let mut sdk = SdkSources {
            display_dir: "src/agents".to_owned(),
            ..SdkSources::default()
        };
        sdk.modules.insert("calc".to_owned(), text.to_owned());
        sdk
    }

    #[test]
    fn the_help_lists_the_types_that_resolve() {
        let mut sdk = sources("pub struct Calc;\nimpl Agent for Calc {\n fn next() {}\n}");
        let half = "pub struct Half;\n// impl Agent for Half {}\n".to_owned();
        sdk.modules.insert("half".to_owned(), half);
        assert_eq!(super::existing(&sdk), ["calc::Calc"]);
    }

    #[test]
    fn comments_and_strings_do_not_count() {
        let real =
            "pub struct Calc;\nimpl gateway_runtime::agents::Agent for Calc {\n fn next() {}\n}";
        assert!(resolve("calc::Calc", &sources(real)).is_ok());
        let commented = "// pub struct Calc;\n/* impl Agent for Calc { */ const S: &str = \"pub struct Calc; impl Agent for Calc {\";";
        assert!(resolve("calc::Calc", &sources(commented)).is_err());
        let no_impl = "pub struct Calc;\nimpl Other for Calc {}";
        let (what, _) = resolve("calc::Calc", &sources(no_impl)).unwrap_err();
        assert!(what.contains("impl Agent for Calc"), "{what}");
        let (what, _) = resolve("nope::Calc", &sources(real)).unwrap_err();
        assert!(what.contains("src/agents/nope.rs"), "{what}");
        assert!(resolve("calc", &sources(real)).is_err());
        let with_char = "const Q: char = '\"'; pub struct Calc; impl Agent for Calc { }";
        assert!(resolve("calc::Calc", &sources(with_char)).is_ok());
    }
}
