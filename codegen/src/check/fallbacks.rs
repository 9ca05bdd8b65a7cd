//! Checks for `fallbacks` and `context_window_fallbacks`: every name is a
//! public model (with "did you mean"), no chain of fallbacks (both lists
//! together) leads back to where it started, and a fallback serves every
//! endpoint of the model falling back to it. [`cycles`] is the cycle finder.
//!
//! Reports only; names become ids in `lower/`.

use crate::diag::codes;
use crate::diag::suggest::{self, Reference};
use crate::diag::{Diagnostic, Diagnostics, FileKind::Upstreams as F, ptr};
use crate::spec::routing::defaults::ENDPOINTS;
use crate::spec::{EndpointSpec, ModelSpec, UpstreamsFile};

/// The two fallback lists, in the order their edges are walked.
const LISTS: [&str; 2] = ["fallbacks", "context_window_fallbacks"];

/// Every fallback check.
pub fn check(file: &UpstreamsFile, diags: &mut Diagnostics) {
    check_known(file, diags);
    check_cycles(file, diags);
    check_endpoints(file, diags);
}

/// A cycle found by [`cycles`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Cycle {
    /// The nodes along the cycle, its first node repeated at the end.
    pub path: Vec<usize>,
    /// The edge closing it: (from node, position in that node's edge list).
    pub closing: (usize, usize),
}

/// Every cycle of a directed graph once per closing edge (a depth-first
/// search in node order reports each back edge), so a graph without cycles
/// yields none and each cycle is named from where the search entered it.
/// `edges[n]` lists node `n`'s targets in order; repeated targets count once.
/// Iterative, so a long chain cannot overflow the stack.
pub(crate) fn cycles(edges: &[Vec<usize>]) -> Vec<Cycle> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnPath,
        Done,
    }
    let mut mark = vec![Mark::New; edges.len()];
    let mut found = Vec::new();
    for root in 0..edges.len() {
        if mark[root] != Mark::New {
            continue;
        }
        mark[root] = Mark::OnPath;
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        while let Some(&(node, next)) = stack.last() {
            let targets = edges.get(node).map_or(&[][..], Vec::as_slice);
            let Some(&to) = targets.get(next) else {
                mark[node] = Mark::Done;
                stack.pop();
                continue;
            };
            if let Some(top) = stack.last_mut() {
                top.1 += 1;
            }
            if targets[..next].contains(&to) {
                continue;
            }
            match mark.get(to) {
                Some(Mark::New) => {
                    mark[to] = Mark::OnPath;
                    stack.push((to, 0));
                }
                Some(Mark::OnPath) => {
                    let start = stack.iter().position(|(n, _)| *n == to).unwrap_or(0);
                    let mut path: Vec<usize> = stack[start..].iter().map(|(n, _)| *n).collect();
                    path.push(to);
                    found.push(Cycle {
                        path,
                        closing: (node, next),
                    });
                }
                Some(Mark::Done) | None => {}
            }
        }
    }
    found
}

/// Every fallback names a public model.
fn check_known(file: &UpstreamsFile, diags: &mut Diagnostics) {
    for (model, m) in &file.models {
        for (list, i, target) in fallback_edges(m) {
            if file.models.contains_key(target) {
                continue;
            }
            let from = format!("`{list}` of model `{model}`");
            let reference = Reference {
                code: codes::UNKNOWN_FALLBACK,
                file: F,
                from: &from,
                kind: "model",
                defined: "defined under `models`",
                known: "public models",
            };
            diags.push(suggest::unknown_reference(
                &reference,
                ptr(&["models", model, list, &i.to_string()]),
                target,
                file.models.keys().map(String::as_str),
            ));
        }
    }
}

/// No chain of fallbacks leads back to its start.
fn check_cycles(file: &UpstreamsFile, diags: &mut Diagnostics) {
    let names: Vec<&String> = file.models.keys().collect();
    let index = |name: &str| names.binary_search_by(|n| n.as_str().cmp(name)).ok();
    let mut edges = Vec::with_capacity(names.len());
    let mut written = Vec::with_capacity(names.len());
    for m in file.models.values() {
        let known: Vec<_> = fallback_edges(m)
            .filter_map(|(list, i, target)| Some((index(target)?, (list, i))))
            .collect();
        edges.push(known.iter().map(|(to, _)| *to).collect::<Vec<_>>());
        written.push(known.into_iter().map(|(_, at)| at).collect::<Vec<_>>());
    }
    for cycle in cycles(&edges) {
        let (from, position) = cycle.closing;
        let (Some(model), Some(&(list, i))) = (names.get(from), written[from].get(position)) else {
            continue;
        };
        let path: Vec<&str> = cycle
            .path
            .iter()
            .filter_map(|n| Some(names.get(*n)?.as_str()))
            .collect();
        let target = path.last().copied().unwrap_or_default();
        let message = format!("fallbacks form a cycle: `{}`", path.join(" -> "));
        let label = if path.len() == 2 {
            "falls back to itself".to_owned()
        } else {
            format!("closes the cycle back to `{target}`")
        };
        diags.push(
            Diagnostic::new(codes::FALLBACK_CYCLE, F, message)
                .at(ptr(&["models", model, list, &i.to_string()]))
                .label(label)
                .help(format!("remove `{target}` from `{list}` of model `{model}` (or another link of the cycle): a request failing at every model in it would go round until its deadline")),
        );
    }
}

/// A fallback serves every endpoint the model falling back to it serves.
fn check_endpoints(file: &UpstreamsFile, diags: &mut Diagnostics) {
    for (model, m) in &file.models {
        let serves = endpoints(m);
        for (list, i, target) in fallback_edges(m) {
            let Some(t) = file.models.get(target) else {
                continue;
            };
            let theirs = endpoints(t);
            let Some(missing) = serves.iter().find(|e| !theirs.contains(e)) else {
                continue;
            };
            let word = endpoint_word(*missing);
            diags.push(
                Diagnostic::new(
                    codes::FALLBACK_ENDPOINTS,
                    F,
                    format!("model `{model}` falls back to `{target}`, which does not serve `{word}`"),
                )
                .at(ptr(&["models", model, list, &i.to_string()]))
                .label(format!("`{model}` serves `{word}`, `{target}` does not"))
                .help(format!("add `{word}` to `endpoints` of model `{target}`, remove it from `{model}`'s, or fall back to a model serving it")),
            );
        }
    }
}

/// (list, position, target) for each fallback of `m`, `fallbacks` first.
fn fallback_edges(m: &ModelSpec) -> impl Iterator<Item = (&'static str, usize, &str)> {
    let [plain, window] = LISTS;
    let plain_edges = m
        .fallbacks
        .iter()
        .enumerate()
        .map(move |(i, t)| (plain, i, t.as_str()));
    let window_edges = m
        .context_window_fallbacks
        .iter()
        .enumerate()
        .map(move |(i, t)| (window, i, t.as_str()));
    plain_edges.chain(window_edges)
}

/// The endpoints a model serves (both when `endpoints` is absent).
fn endpoints(m: &ModelSpec) -> &[EndpointSpec] {
    m.endpoints.as_deref().unwrap_or(ENDPOINTS)
}

/// The YAML word for an endpoint.
fn endpoint_word(e: EndpointSpec) -> &'static str {
    match e {
        EndpointSpec::ChatCompletions => "chat_completions",
        EndpointSpec::Messages => "messages",
    }
}

#[cfg(test)]
mod tests {
    use super::{Cycle, cycles};

    fn found(edges: &[&[usize]]) -> Vec<(Vec<usize>, (usize, usize))> {
        let edges: Vec<Vec<usize>> = edges.iter().map(|e| e.to_vec()).collect();
        cycles(&edges)
            .into_iter()
            .map(|Cycle { path, closing }| (path, closing))
            .collect()
    }

    #[test]
    fn finds_each_cycle_once_at_its_closing_edge() {
        // a -> a
        assert_eq!(found(&[&[0]]), [(vec![0, 0], (0, 0))]);
        // a -> b -> a
        assert_eq!(found(&[&[1], &[0]]), [(vec![0, 1, 0], (1, 0))]);
        // a -> b -> c -> a, entered from b's side too
        assert_eq!(found(&[&[1], &[2], &[0]]), [(vec![0, 1, 2, 0], (2, 0))]);
        // a repeated edge (both lists naming the same model) counts once
        assert_eq!(found(&[&[1, 1], &[0, 0]]), [(vec![0, 1, 0], (1, 0))]);
        // two cycles sharing a -> b: a -> b -> a and a -> b -> c -> a
        assert_eq!(
            found(&[&[1], &[0, 2], &[0]]),
            [(vec![0, 1, 0], (1, 0)), (vec![0, 1, 2, 0], (2, 0))]
        );
        // a cycle not through the first node: d -> b -> c -> b
        assert_eq!(found(&[&[], &[2], &[1], &[1]]), [(vec![1, 2, 1], (2, 0))]);
    }

    #[test]
    fn acyclic_graphs_have_none() {
        assert!(found(&[]).is_empty());
        assert!(found(&[&[1, 2], &[2], &[]]).is_empty());
        // a diamond: a -> b -> d, a -> c -> d
        assert!(found(&[&[1, 2], &[3], &[3], &[]]).is_empty());
        // a long chain does not overflow the stack
        let chain: Vec<Vec<usize>> = (0..100_000).map(|i| vec![i + 1]).chain([vec![]]).collect();
        assert!(cycles(&chain).is_empty());
        // out-of-range targets are ignored
        assert!(found(&[&[7]]).is_empty());
    }
}
