//! "Did you mean" helpers: edit distance and list formatting for help lines.
//!
//! Pure string utilities; no knowledge of the config format.

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

/// The closest candidate within a length-relative distance, if any.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
}

/// `` `a`, `b`, `c` `` (or `(none)`).
pub fn list<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let items: Vec<String> = items.into_iter().map(|s| format!("`{s}`")).collect();
    if items.is_empty() {
        "(none)".to_owned()
    } else {
        items.join(", ")
    }
}

/// "did you mean `x`? " prefix (empty when there is no close candidate).
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    closest(word, candidates).map_or_else(String::new, |c| format!("did you mean `{c}`? "))
}

#[cfg(test)]
mod tests {
    use super::{closest, distance};

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
    }
}
