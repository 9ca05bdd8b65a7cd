//! "Did you mean" helpers: edit distance, list formatting, and the one
//! unknown-reference diagnostic every cross-reference uses (a model's
//! upstream, an agent's model; later fallbacks, ACLs and tools).
//!
//! Suggestions are only ever drawn from names that are themselves valid
//! ([`crate::parse::name`]), so a help line never proposes another mistake.

use crate::diag::codes::Code;
use crate::diag::{Diagnostic, FileKind};
use crate::parse;

/// Longest list a help line spells out; the rest is counted.
pub const LIST_LIMIT: usize = 12;

/// Levenshtein distance in characters.
pub fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            let del = prev[j + 1] + 1;
            let ins = cur[j] + 1;
            cur.push(sub.min(del).min(ins));
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

/// The closest candidate: a case-insensitive match first, else the nearest
/// within a length-relative distance.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    let scored: Vec<(usize, &str)> = candidates
        .into_iter()
        .map(|c| {
            let same_letters = c.to_lowercase() == word.to_lowercase();
            (if same_letters { 0 } else { distance(word, c) }, c)
        })
        .collect();
    scored
        .into_iter()
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
}

/// `` `a`, `b`, `c` `` (or `(none)`), at most [`LIST_LIMIT`] items then `and N more`.
pub fn list<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let items: Vec<String> = items.into_iter().map(|s| format!("`{s}`")).collect();
    match items.len() {
        0 => "(none)".to_owned(),
        n if n > LIST_LIMIT => format!(
            "{} and {} more",
            items[..LIST_LIMIT].join(", "),
            n - LIST_LIMIT
        ),
        _ => items.join(", "),
    }
}

/// "did you mean `x`? " prefix (empty when there is no close candidate).
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    closest(word, candidates).map_or_else(String::new, |c| format!("did you mean `{c}`? "))
}

/// What an unknown reference is, for [`unknown_reference`].
#[derive(Clone, Copy, Debug)]
pub struct Reference<'a> {
    /// Stable code of this kind of reference.
    pub code: Code,
    /// File holding the reference.
    pub file: FileKind,
    /// Who refers, e.g. "model `gpt-4o`".
    pub from: &'a str,
    /// What is referred to, e.g. "upstream".
    pub kind: &'a str,
    /// Where such names are defined, e.g. "defined under `upstreams`".
    pub defined: &'a str,
    /// How the help names the valid set, e.g. "defined upstreams".
    pub known: &'a str,
}

/// `<from> references unknown <kind> `name``, pointing at `pointer`, with a
/// "did you mean" and the list of valid names, both drawn only from valid names.
pub fn unknown_reference<'a>(
    r: &Reference<'_>,
    pointer: String,
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Diagnostic {
    let valid: Vec<&str> = candidates
        .into_iter()
        .filter(|c| parse::name(c).is_ok())
        .collect();
    let help = if valid.is_empty() {
        format!("no {} exist yet; define `{name}` first", r.known)
    } else {
        format!(
            "{}{} are {}",
            did_you_mean(name, valid.iter().copied()),
            r.known,
            list(valid.iter().copied())
        )
    };
    Diagnostic::new(
        r.code,
        r.file,
        format!("{} references unknown {} `{name}`", r.from, r.kind),
    )
    .at(pointer)
    .label(format!("not {}", r.defined))
    .help(help)
}

#[cfg(test)]
mod tests {
    use super::{closest, distance, list};

    #[test]
    fn distances() {
        for (a, b, d) in [
            ("", "", 0),
            ("kind", "kind", 0),
            ("knd", "kind", 1),
            ("opneai", "openai", 2),
            ("é", "e", 1),
        ] {
            assert_eq!(distance(a, b), d, "{a} {b}");
        }
        assert_eq!(closest("upstream", ["upstream", "model"]), Some("upstream"));
        assert_eq!(closest("zzz", ["upstream", "model"]), None);
        assert_eq!(closest("GPT-4O", ["gpt-4o", "gpt-4"]), Some("gpt-4o"));
    }

    #[test]
    fn long_lists_are_counted() {
        let names: Vec<String> = (0..15).map(|i| format!("m{i}")).collect();
        let text = list(names.iter().map(String::as_str));
        assert!(text.ends_with("`m11` and 3 more"), "{text}");
        assert_eq!(list([]), "(none)");
    }
}
