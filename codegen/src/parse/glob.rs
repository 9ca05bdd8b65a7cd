//! Model patterns of `auth` access lists: an exact public model name, or a
//! glob where `*` is any run of characters (possibly empty) and `?` is one
//! character; nothing else is special.
//!
//! Pure functions like the rest of `parse`, matched against the public model
//! names at build time only (the runtime sees a bit set). Whether a pattern
//! matching nothing, or hidden by another, is a mistake is `check/`'s call.

/// Whether `pattern` holds a wildcard (`*` or `?`); if not, it names one model.
pub fn is_glob(pattern: &str) -> bool {
    pattern.contains(['*', '?'])
}

/// Whether `name` matches `pattern` as a whole, characters compared exactly.
pub fn matches(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni) = (0, 0);
    // Where the last `*` was and where in `name` it currently stops.
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ni));
                pi += 1;
            }
            Some(&c) if c == '?' || c == n[ni] => {
                pi += 1;
                ni += 1;
            }
            _ => match star {
                // Let the last `*` take one more character and retry.
                Some((sp, sn)) => {
                    star = Some((sp, sn + 1));
                    (pi, ni) = (sp + 1, sn + 1);
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// For each of `names` (in order), whether any of `patterns` matches it.
pub fn reach<S: AsRef<str>>(patterns: &[S], names: &[&str]) -> Vec<bool> {
    names
        .iter()
        .map(|n| patterns.iter().any(|p| matches(p.as_ref(), n)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{is_glob, matches, reach};

    #[test]
    fn patterns_match_whole_names() {
        for (pattern, name, expect) in [
            ("gpt-4o", "gpt-4o", true),
            ("gpt-4o", "gpt-4o-mini", false),
            ("gpt-4o", "GPT-4o", false),
            ("gpt-*", "gpt-4o", true),
            ("gpt-*", "gpt-", true),
            ("gpt-*", "gpt", false),
            ("*", "", true),
            ("*", "anything", true),
            ("", "", true),
            ("", "a", false),
            ("claude*", "claude", true),
            ("claude*", "claude-primary", true),
            ("*-mini", "gpt-4o-mini", true),
            ("*-mini", "gpt-4o-minis", false),
            ("gpt-?o", "gpt-4o", true),
            ("gpt-?o", "gpt-o", false),
            ("?", "é", true),
            ("a*b*c", "aXbYbZc", true),
            ("a*b*c", "aXbYcZ", false),
            ("*a*a*a*", "banana", true),
            ("*a*a*a*a*", "banana", false),
            ("**", "x", true),
            ("*?", "", false),
        ] {
            assert_eq!(matches(pattern, name), expect, "{pattern} ~ {name}");
        }
    }

    #[test]
    fn wildcards_are_recognised_and_reach_is_per_name() {
        assert!(is_glob("gpt-*") && is_glob("gpt-?") && !is_glob("gpt-4o"));
        let names = ["claude", "echo", "gpt-4o"];
        assert_eq!(reach(&["gpt-*", "echo"], &names), [false, true, true]);
        assert_eq!(reach::<&str>(&[], &names), [false, false, false]);
    }
}
