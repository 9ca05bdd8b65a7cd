//! Lowering the `models` table: dense ids in name order, upstream names resolved to ids.

use crate::ir::{Model, ModelId, UpstreamId};
use crate::lower::Cx;
use crate::spec::UpstreamsFile;

/// Models sorted by name; `None` when an id overflows or a reference does not resolve.
pub(crate) fn lower(file: &UpstreamsFile, cx: &mut Cx<'_>) -> Option<Vec<Model>> {
    let upstream_names: Vec<&String> = file.upstreams.keys().collect();
    file.models
        .iter()
        .enumerate()
        .map(|(i, (name, m))| {
            let up = upstream_names.binary_search(&&m.upstream).ok()?;
            Some(Model {
                id: ModelId(cx.id16(i)?),
                name: name.clone(),
                upstream: UpstreamId(cx.id16(up)?),
                upstream_model: m.model.clone().unwrap_or_else(|| name.clone()),
            })
        })
        .collect()
}
