//! The key file format (security.yaml `auth.key_files`): a plain line
//! format, so the runtime needs no YAML parser (invariant 1).
//!
//! ```text
//! # name        sha256 of the key (printf %s "$KEY" | sha256sum)              options
//! ci-runner     3f2a...64 hex...                                               team=research
//! batch-2026q4  9b1c...64 hex...
//! ```
//!
//! One key per line: a name (no whitespace, no `=`, at most 256 bytes; logs
//! show it), the key's SHA-256 as 64 hex digits, then optional `key=value`
//! options (only `team=<team>`, a team compiled under `auth.teams`).
//! Fields are separated by spaces or tabs; `#` starts a comment (a whole
//! line, or from a field starting with `#` to the end of the line); blank
//! lines are skipped. Every problem names `file:line`, what is wrong and
//! how to fix it. Not here: duplicates across files and with the compiled
//! keys (`keys.rs` checks the whole set).

use crate::table::Team;

/// One key read from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedKey {
    pub name: String,
    pub sha256: [u8; 32],
    /// Index into `Auth::teams`.
    pub team: Option<u16>,
    /// 1-based line number.
    pub line: usize,
}

/// Longest key name, as for compiled keys.
const MAX_NAME: usize = 256;

/// SHA-256 of the empty key.
const EMPTY_SHA256: [u8; 32] = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

/// The keys of one file's text, and a `path:line: problem; fix` line per problem.
pub fn parse(path: &str, text: &str, teams: &[Team]) -> (Vec<ParsedKey>, Vec<String>) {
    let mut keys = Vec::new();
    let mut problems = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        match parse_line(line, teams) {
            Ok(Some((name, sha256, team))) => keys.push(ParsedKey {
                name: name.to_owned(),
                sha256,
                team,
                line: number,
            }),
            Ok(None) => {}
            Err(problem) => problems.push(format!("{path}:{number}: {problem}")),
        }
    }
    (keys, problems)
}

type Line<'a> = (&'a str, [u8; 32], Option<u16>);

fn parse_line<'a>(line: &'a str, teams: &[Team]) -> Result<Option<Line<'a>>, String> {
    let mut fields = line
        .split([' ', '\t'])
        .filter(|f| !f.is_empty())
        .take_while(|f| !f.starts_with('#'));
    let Some(name) = fields.next() else {
        return Ok(None);
    };
    check_name(name)?;
    let Some(hex) = fields.next() else {
        return Err(format!(
            "key `{name}` has no digest; write `{name} <sha256-hex>` (the digest of the key: `printf %s \"$KEY\" | sha256sum`)"
        ));
    };
    let sha256 = digest(hex).map_err(|why| {
        format!("the digest of key `{name}` {why}; write the 64 hex digits `printf %s \"$KEY\" | sha256sum` prints, never the key itself")
    })?;
    if sha256 == EMPTY_SHA256 {
        return Err(format!(
            "key `{name}` has the digest of an empty key; hash the real key with `printf %s \"$KEY\" | sha256sum`"
        ));
    }
    let mut team = None;
    for option in fields {
        match option.split_once('=') {
            Some(("team", _)) if team.is_some() => {
                return Err(format!("key `{name}` sets `team=` twice; keep one"));
            }
            Some(("team", value)) => team = Some(find_team(name, value, teams)?),
            _ => {
                return Err(format!(
                    "unexpected field `{}` after the digest of key `{name}`; the only option is `team=<team>` (start a comment with `#`)",
                    shown(option)
                ));
            }
        }
    }
    Ok(Some((name, sha256, team)))
}

fn check_name(name: &str) -> Result<(), String> {
    if name.len() > MAX_NAME {
        return Err(format!(
            "key name is {} bytes long; use at most {MAX_NAME}",
            name.len()
        ));
    }
    if name.contains('=') || name.chars().any(char::is_control) {
        return Err(format!(
            "key name `{}` contains `=` or a control character; a line starts with a name such as `ci-runner`",
            shown(name)
        ));
    }
    Ok(())
}

fn find_team(name: &str, value: &str, teams: &[Team]) -> Result<u16, String> {
    let found = teams
        .binary_search_by(|team| team.name.cmp(value))
        .ok()
        .and_then(|index| u16::try_from(index).ok());
    found.ok_or_else(|| {
        let known: Vec<&str> = teams.iter().map(|t| t.name).collect();
        let known = if known.is_empty() {
            "none is compiled (add it under `auth.teams` in security.yaml and build)".to_owned()
        } else {
            format!("compiled teams are `{}`", known.join("`, `"))
        };
        format!(
            "key `{name}` names team `{}`, which is not compiled in; {known}",
            shown(value)
        )
    })
}

/// 64 hex digits (either case) as bytes.
fn digest(hex: &str) -> Result<[u8; 32], String> {
    if hex.len() != 64 {
        return Err(format!("has {} characters, not 64", hex.chars().count()));
    }
    let mut out = [0u8; 32];
    for (slot, pair) in out.iter_mut().zip(hex.as_bytes().chunks(2)) {
        let (Some(high), Some(low)) = (nibble(pair.first()), nibble(pair.get(1))) else {
            return Err("contains a character that is not hexadecimal".to_owned());
        };
        *slot = high << 4 | low;
    }
    Ok(out)
}

fn nibble(byte: Option<&u8>) -> Option<u8> {
    let byte = *byte?;
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// At most 64 bytes of a field, for a problem line (a line may hold anything).
fn shown(field: &str) -> &str {
    let mut end = field.len().min(64);
    while !field.is_char_boundary(end) {
        end -= 1;
    }
    field.get(..end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::ModelAccess;

    static TEAMS: [Team; 2] = [
        Team {
            name: "alpha-team",
            models: ModelAccess::All,
            tools: ModelAccess::All,
            agents: ModelAccess::All,
        },
        Team {
            name: "beta-team",
            models: ModelAccess::All,
            tools: ModelAccess::All,
            agents: ModelAccess::All,
        },
    ];
    const D1: &str = "81be374e38d1f04fd2a7f3e337af1f42916964d3843f191a26a99d4bcf1ba5e4";

    fn one(line: &str) -> Result<Option<ParsedKey>, String> {
        let (keys, problems) = parse("/k", line, &TEAMS);
        match problems.first() {
            Some(problem) => Err(problem.clone()),
            None => Ok(keys.into_iter().next()),
        }
    }

    #[test]
    fn lines_with_names_digests_teams_and_comments() {
        let text = format!(
            "# header\n\n  a {D1}\nb\t{}  team=beta-team # who\n",
            D1.to_uppercase()
        );
        let (keys, problems) = parse("/k", &text, &TEAMS);
        assert_eq!(problems, Vec::<String>::new());
        assert_eq!(keys.len(), 2);
        assert_eq!(
            (keys[0].name.as_str(), keys[0].line, keys[0].team),
            ("a", 3, None)
        );
        assert_eq!(
            (keys[1].name.as_str(), keys[1].line, keys[1].team),
            ("b", 4, Some(1))
        );
        assert_eq!(keys[0].sha256, keys[1].sha256);
        assert_eq!(keys[0].sha256[..2], [0x81, 0xbe]);
    }

    #[test]
    fn every_problem_names_the_line_and_the_fix() {
        let cases = [
            ("a", "/k:1: key `a` has no digest"),
            (
                "a 81be",
                "/k:1: the digest of key `a` has 4 characters, not 64",
            ),
            (
                &format!("a {}", D1.replace('8', "g")),
                "/k:1: the digest of key `a` contains a character that is not hexadecimal",
            ),
            (
                &format!("a {D1} team=nope"),
                "/k:1: key `a` names team `nope`, which is not compiled in; compiled teams are `alpha-team`, `beta-team`",
            ),
            (
                &format!("a {D1} team=alpha-team team=beta-team"),
                "/k:1: key `a` sets `team=` twice",
            ),
            (
                &format!("a {D1} models=x"),
                "/k:1: unexpected field `models=x`",
            ),
            (&format!("a=b {D1}"), "/k:1: key name `a=b` contains `=`"),
            (
                "e e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                "/k:1: key `e` has the digest of an empty key",
            ),
        ];
        for (line, expected) in cases {
            let problem = one(line).unwrap_err();
            assert!(problem.starts_with(expected), "{line}: {problem}");
        }
        let (_, problems) = parse("/k", &format!("ok {D1}\nbad\n\nworse x"), &TEAMS);
        assert_eq!(problems.len(), 2);
        assert!(problems[0].starts_with("/k:2:") && problems[1].starts_with("/k:4:"));
    }

    #[test]
    fn blank_and_comment_lines_hold_nothing() {
        for line in ["", "   ", "\t", "# a b c", "  #x"] {
            assert_eq!(one(line), Ok(None), "{line:?}");
        }
    }
}
