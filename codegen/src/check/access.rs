//! Checks for who may use which model (security.yaml `auth.teams` and the
//! `models` lists of teams and API keys): every key's team is defined, no
//! list is empty, and, against the public models of upstreams.yaml, every
//! pattern matches some model, no pattern is hidden by the others of its
//! list, and every key reaches at least one model.
//!
//! Patterns are matched by `parse::glob`; the checks needing the models run
//! only when upstreams.yaml loaded, and every error points into
//! security.yaml. Reports only; the sets are built in `lower/auth.rs`.

use crate::diag::codes;
use crate::diag::suggest::{self, Reference};
use crate::diag::{Diagnostic, Diagnostics, FileKind::Security as F, ptr};
use crate::parse::{self, glob};
use crate::spec::{AuthSpec, UpstreamsFile};

/// Every access check; those needing the models only when upstreams.yaml loaded.
pub fn check(auth: &AuthSpec, upstreams: Option<&UpstreamsFile>, diags: &mut Diagnostics) {
    check_teams(auth, diags);
    let lists = model_lists(auth);
    for (at, owner, list) in &lists {
        if list.is_empty() {
            diags.push(empty_list(at, owner));
        }
    }
    let Some(upstreams) = upstreams else {
        return;
    };
    let names: Vec<&str> = upstreams.models.keys().map(String::as_str).collect();
    for (at, _, list) in &lists {
        check_patterns(at, list, &names, diags);
    }
    check_reach(auth, &names, diags);
}

/// Every `models` list with its pointer and owner: teams by name, then keys
/// in order, then JWT scopes by name.
fn model_lists(auth: &AuthSpec) -> Vec<(String, String, &[String])> {
    let teams = auth.teams.iter().filter_map(|(name, t)| {
        let list = t.models.as_deref()?;
        Some((
            ptr(&["auth", "teams", name, "models"]),
            format!("team `{name}`"),
            list,
        ))
    });
    let keys = auth.api_keys.iter().enumerate().filter_map(|(i, k)| {
        let list = k.models.as_deref()?;
        let at = format!("/auth/api_keys/{i}/models");
        Some((at, format!("API key `{}`", k.name), list))
    });
    let scopes = auth
        .jwt
        .iter()
        .flat_map(|jwt| &jwt.scopes)
        .map(|(name, s)| {
            let at = ptr(&["auth", "jwt", "scopes", name, "models"]);
            (at, format!("JWT scope `{name}`"), s.models.as_slice())
        });
    teams.chain(keys).chain(scopes).collect()
}

/// Every key's `team` is defined under `auth.teams`.
fn check_teams(auth: &AuthSpec, diags: &mut Diagnostics) {
    for (i, key) in auth.api_keys.iter().enumerate() {
        let Some(team) = key.team.as_deref() else {
            continue;
        };
        if auth.teams.contains_key(team) {
            continue;
        }
        let from = format!("API key `{}`", key.name);
        let reference = Reference {
            code: codes::UNKNOWN_TEAM,
            file: F,
            from: &from,
            kind: "team",
            defined: "defined under `auth.teams`",
            known: "defined teams",
        };
        diags.push(suggest::unknown_reference(
            &reference,
            format!("/auth/api_keys/{i}/team"),
            team,
            auth.teams.keys().map(String::as_str),
        ));
    }
}

pub(crate) fn empty_list(at: &str, owner: &str) -> Diagnostic {
    Diagnostic::new(
        codes::EMPTY_MODEL_LIST,
        F,
        format!("{owner} allows no model"),
    )
    .at(at)
    .label("empty `models` list")
    .help(
        "remove `models` to allow every model, or name the models allowed \
             (exact names or globs such as `gpt-*`)",
    )
}

/// Each pattern of one list matches some model and is not hidden by the others.
pub(crate) fn check_patterns(at: &str, list: &[String], names: &[&str], diags: &mut Diagnostics) {
    let sets: Vec<Vec<bool>> = list
        .iter()
        .map(|p| glob::reach(std::slice::from_ref(p), names))
        .collect();
    for (j, pattern) in list.iter().enumerate() {
        if !sets[j].contains(&true) {
            diags.push(unmatched(&format!("{at}/{j}"), pattern, names));
        }
    }
    for (j, by) in hidden(list, &sets) {
        diags.push(hidden_pattern(&format!("{at}/{j}"), list, j, &by));
    }
}

fn unmatched(at: &str, pattern: &str, names: &[&str]) -> Diagnostic {
    // Only valid names are ever suggested (an invalid one is reported by GW0106).
    let names: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| parse::name(n).is_ok())
        .collect();
    let known = format!("public models are {}", suggest::list(names.iter().copied()));
    let help = if glob::is_glob(pattern) {
        format!("{known} (`*` is any run of characters, `?` one character)")
    } else {
        format!(
            "{}{known}",
            suggest::did_you_mean(pattern, names.iter().copied())
        )
    };
    Diagnostic::new(
        codes::UNMATCHED_MODEL_PATTERN,
        F,
        format!("model pattern `{pattern}` matches no model"),
    )
    .at(at)
    .label("no public model in upstreams.yaml matches")
    .help(help)
}

/// Patterns (by index) whose every model another kept pattern matches, with
/// the indexes of the kept patterns that cover them. Exact names are dropped
/// before globs (`gpt-4o` beside `gpt-*` is the one reported, whatever the
/// models), later patterns before earlier ones (of two equal patterns the
/// second is reported), and removing every reported pattern leaves the
/// list's reach unchanged.
fn hidden(list: &[String], sets: &[Vec<bool>]) -> Vec<(usize, Vec<usize>)> {
    let mut kept: Vec<bool> = sets.iter().map(|s| s.contains(&true)).collect();
    let mut order: Vec<usize> = (0..sets.len()).rev().collect();
    order.sort_by_key(|&j| glob::is_glob(&list[j]));
    let mut out = Vec::new();
    for j in order {
        if !kept[j] {
            continue;
        }
        let others: Vec<usize> = (0..sets.len()).filter(|&k| k != j && kept[k]).collect();
        let models = || (0..sets[j].len()).filter(|&m| sets[j][m]);
        if models().all(|m| others.iter().any(|&k| sets[k][m])) {
            kept[j] = false;
            let by = others.into_iter().filter(|&k| models().any(|m| sets[k][m]));
            out.push((j, by.collect()));
        }
    }
    out.sort();
    out
}

fn hidden_pattern(at: &str, list: &[String], j: usize, by: &[usize]) -> Diagnostic {
    let by = suggest::list(by.iter().map(|&k| list[k].as_str()));
    let pattern = &list[j];
    Diagnostic::new(
        codes::HIDDEN_MODEL_PATTERN,
        F,
        format!("model pattern `{pattern}` is hidden by {by}"),
    )
    .at(at)
    .label(format!("every model it matches is matched by {by}"))
    .help(format!(
        "remove `{pattern}`: the list allows the same models without it"
    ))
}

/// Every key whose own and team lists each reach some model reaches one both allow.
fn check_reach(auth: &AuthSpec, names: &[&str], diags: &mut Diagnostics) {
    for (i, key) in auth.api_keys.iter().enumerate() {
        let (Some(own), Some(team)) = (key.models.as_deref(), key.team.as_deref()) else {
            continue;
        };
        let Some(team_list) = auth.teams.get(team).and_then(|t| t.models.as_deref()) else {
            continue;
        };
        let (mine, theirs) = (glob::reach(own, names), glob::reach(team_list, names));
        let both = mine.iter().zip(&theirs).any(|(a, b)| *a && *b);
        if both || !mine.contains(&true) || !theirs.contains(&true) {
            continue;
        }
        let allowed = names
            .iter()
            .zip(&theirs)
            .filter(|(_, t)| **t)
            .map(|(n, _)| *n);
        diags.push(
            Diagnostic::new(
                codes::KEY_REACHES_NOTHING,
                F,
                format!("API key `{}` reaches no model", key.name),
            )
            .at(format!("/auth/api_keys/{i}/models"))
            .label(format!("no model here is allowed by team `{team}`"))
            .help(format!(
                "team `{team}` allows {}; name one of them, or give the key another team",
                suggest::list(allowed)
            )),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::hidden;

    /// `check(patterns, expect)`: which patterns are hidden (over three models), and by which.
    fn check(patterns: &[&str], expect: &[(usize, &[usize])]) {
        let names = ["claude", "gpt-4o", "gpt-4o-mini"];
        let list: Vec<String> = patterns.iter().map(|p| (*p).to_owned()).collect();
        let sets: Vec<Vec<bool>> = list
            .iter()
            .map(|p| crate::parse::glob::reach(std::slice::from_ref(p), &names))
            .collect();
        let want: Vec<(usize, Vec<usize>)> =
            expect.iter().map(|(j, by)| (*j, by.to_vec())).collect();
        assert_eq!(hidden(&list, &sets), want, "{patterns:?}");
    }

    #[test]
    fn hidden_patterns() {
        check(&["gpt-4o", "gpt-*"], &[(0, &[1])]);
        check(&["gpt-*", "gpt-4o"], &[(1, &[0])]);
        check(&["gpt-4o", "gpt-4o-mini", "gpt-*"], &[(0, &[2]), (1, &[2])]);
        check(&["gpt-*", "gpt*"], &[(1, &[0])]);
        check(&["claude", "claude"], &[(1, &[0])]);
        check(&["*", "gpt-*", "claude"], &[(1, &[0]), (2, &[0])]);
        check(&["gpt-4o", "claude", "nothing"], &[]);
        check(&["gpt-4o?*", "gpt-4o"], &[]);
    }
}
