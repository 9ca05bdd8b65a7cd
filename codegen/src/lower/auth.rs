//! Lowering `auth`: digests as bytes, API keys sorted by digest, teams by
//! name, and each team's and key's `models`, `tools` and `agents` patterns
//! resolved against the public model names, the tool names and the agent names into sets of ids (a
//! bit set, or "all").

use crate::diag::FileKind::Security as F;
use crate::ir::{ApiKey, Auth, JwksSource, Jwt, KeyFile, ModelAccess, Scope, Team};
use crate::lower::Cx;
use crate::parse::glob;
use crate::spec::auth::JwtSpec;
use crate::spec::{AgentsFile, AuthSpec, ToolsFile, UpstreamsFile};

/// API keys sorted by (digest, name), teams by name, and the admin digest.
pub(crate) fn lower(
    a: &AuthSpec,
    upstreams: &UpstreamsFile,
    (tools, agents): (&ToolsFile, &AgentsFile),
    cx: &mut Cx<'_>,
) -> Option<Auth> {
    let names: Vec<&str> = upstreams.models.keys().map(String::as_str).collect();
    let public = crate::spec::tools::public_tools(tools);
    let tool_names: Vec<&str> = public.iter().map(|(name, _)| name.as_str()).collect();
    let team_reach = |team: Option<&str>| {
        let list = team.and_then(|t| a.teams.get(t)?.models.as_deref());
        reach(list, &names)
    };
    let team_tools = |team: Option<&str>| {
        let list = team.and_then(|t| a.teams.get(t)?.tools.as_deref());
        reach(list, &tool_names)
    };
    let agent_names: Vec<&str> = agents.agents.keys().map(String::as_str).collect();
    let team_agents = |team: Option<&str>| {
        let list = team.and_then(|t| a.teams.get(t)?.agents.as_deref());
        reach(list, &agent_names)
    };
    let mut api_keys = a
        .api_keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let own = reach(k.models.as_deref(), &names);
            let team = team_reach(k.team.as_deref());
            let both: Vec<bool> = own.iter().zip(&team).map(|(x, y)| *x && *y).collect();
            let own_tools = reach(k.tools.as_deref(), &tool_names);
            let tools: Vec<bool> = own_tools
                .iter()
                .zip(team_tools(k.team.as_deref()))
                .map(|(x, y)| *x && y)
                .collect();
            let agents: Vec<bool> = reach(k.agents.as_deref(), &agent_names)
                .iter()
                .zip(team_agents(k.team.as_deref()))
                .map(|(x, y)| *x && y)
                .collect();
            Some(ApiKey {
                name: k.name.clone(),
                sha256: cx.value(F, &format!("/auth/api_keys/{i}/sha256"), &k.sha256)?,
                team: k.team.clone(),
                metadata: k
                    .metadata
                    .iter()
                    .map(|(name, value)| format!("{name}={value}"))
                    .collect::<Vec<_>>()
                    .join(","),
                team_index: k
                    .team
                    .as_ref()
                    .and_then(|t| a.teams.keys().position(|name| name == t))
                    .and_then(|at| u16::try_from(at).ok()),
                models: access(&both),
                tools: access(&tools),
                agents: access(&agents),
            })
        })
        .collect::<Option<Vec<_>>>()?;
    api_keys.sort_by(|x, y| (x.sha256, &x.name).cmp(&(y.sha256, &y.name)));
    let admin_key_sha256 = match &a.admin_key_sha256 {
        Some(d) => Some(cx.value(F, "/auth/admin_key_sha256", d)?),
        None => None,
    };
    let teams = a.teams.keys().map(|name| Team {
        name: name.clone(),
        models: access(&team_reach(Some(name))),
        tools: access(&team_tools(Some(name))),
        agents: access(&team_agents(Some(name))),
    });
    let key_files = a.key_files.iter().map(|f| KeyFile {
        path: f.path.clone(),
        optional: f.optional,
    });
    let jwt = match &a.jwt {
        Some(jwt) => Some(lower_jwt(jwt, &names, cx)?),
        None => None,
    };
    Some(Auth {
        api_keys,
        admin_key_sha256,
        teams: teams.collect(),
        key_files: key_files.collect(),
        jwt,
    })
}

/// `auth.jwt` with its defaults applied and each scope's models resolved.
fn lower_jwt(j: &JwtSpec, names: &[&str], cx: &mut Cx<'_>) -> Option<Jwt> {
    let jwks = match (&j.jwks.file, &j.jwks.url) {
        (Some(file), _) => JwksSource::File(file.clone()),
        (None, Some(url)) => JwksSource::Url {
            url: url.clone(),
            refresh_ms: cx.value_or(F, "/auth/jwt/jwks/refresh", j.jwks.refresh.as_ref(), "10m")?,
            timeout_ms: cx.value_or(F, "/auth/jwt/jwks/timeout", j.jwks.timeout.as_ref(), "2s")?,
            ca_file: j.jwks.ca_file.clone(),
        },
        (None, None) => return None,
    };
    let scopes = j.scopes.iter().map(|(name, scope)| Scope {
        name: name.clone(),
        models: access(&reach(Some(&scope.models), names)),
    });
    Some(Jwt {
        issuer: j.issuer.clone(),
        audiences: j.audience.list().into_iter().map(str::to_owned).collect(),
        jwks,
        algorithms: j.algorithms.clone(),
        leeway_ms: cx.value_or(F, "/auth/jwt/leeway", j.leeway.as_ref(), "30s")?,
        principal_claim: j
            .principal_claim
            .clone()
            .unwrap_or_else(|| "sub".to_owned()),
        team_claim: j.team_claim.clone(),
        scope_claim: j.scope_claim.clone().unwrap_or_else(|| "scope".to_owned()),
        scopes: scopes.collect(),
    })
}

/// Per model (in id order), whether `patterns` allow it; every model when absent.
pub(crate) fn reach(patterns: Option<&[String]>, names: &[&str]) -> Vec<bool> {
    match patterns {
        Some(p) => glob::reach(p, names),
        None => vec![true; names.len()],
    }
}

/// `All` when every model (or tool) is allowed, else the bit set (`ceil(n / 64)` words).
pub(crate) fn access(allowed: &[bool]) -> ModelAccess {
    if allowed.iter().all(|a| *a) {
        return ModelAccess::All;
    }
    let mut words = vec![0u64; allowed.len().div_ceil(64)];
    for (i, _) in allowed.iter().enumerate().filter(|(_, a)| **a) {
        words[i / 64] |= 1 << (i % 64);
    }
    ModelAccess::Only(words)
}

#[cfg(test)]
mod tests {
    use super::access;
    use crate::ir::ModelAccess;

    #[test]
    fn sets_are_all_or_dense_words() {
        assert_eq!(access(&[true, true]), ModelAccess::All);
        assert_eq!(access(&[true, false, true]), ModelAccess::Only(vec![0b101]));
        let mut many = vec![false; 65];
        many[64] = true;
        many[1] = true;
        assert_eq!(access(&many), ModelAccess::Only(vec![0b10, 0b1]));
        assert_eq!(access(&[false; 64]), ModelAccess::Only(vec![0]));
    }
}
