//! Lowering `auth`: digests as bytes, API keys sorted by digest.

use crate::diag::FileKind::Security as F;
use crate::ir::{ApiKey, Auth};
use crate::lower::Cx;
use crate::spec::AuthSpec;

/// API keys sorted by (digest, name) and the admin digest.
pub(crate) fn lower(a: &AuthSpec, cx: &mut Cx<'_>) -> Option<Auth> {
    let mut api_keys = a
        .api_keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            Some(ApiKey {
                name: k.name.clone(),
                sha256: cx.value(F, &format!("/auth/api_keys/{i}/sha256"), &k.sha256)?,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    api_keys.sort_by(|x, y| (x.sha256, &x.name).cmp(&(y.sha256, &y.name)));
    let admin_key_sha256 = match &a.admin_key_sha256 {
        Some(d) => Some(cx.value(F, "/auth/admin_key_sha256", d)?),
        None => None,
    };
    Some(Auth {
        api_keys,
        admin_key_sha256,
    })
}
