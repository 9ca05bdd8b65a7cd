//! `POST /security/refresh` (admin key required, off without one): reads
//! the key files (security.yaml `auth.key_files`) and a JWKS file
//! (`auth.jwt.jwks.file`) again and puts them in force at once, also for
//! connections already open; SIGHUP does the same. (A JWKS URL is fetched
//! in the background; the answer shows its status.) All or nothing: any problem in any file keeps the keys in
//! force and answers 500 `key_files_rejected` listing every problem as
//! `file:line: what; fix`. Compiled keys, teams and their models need a
//! new build.

use http::{Response, StatusCode};
use serde_json::json;

use super::ops::json_response;
use crate::body::ResponseBody;
use crate::error::GatewayError;
use crate::gateway::Gateway;
use crate::table::JwksSource;

/// What `POST /security/refresh` cannot change.
const STRUCTURAL: &str = "Compiled API keys, the admin key, teams, token settings and scopes and their models are compiled into this binary: change security.yaml, build, and deploy the new artifact.";

/// `POST /security/refresh`.
pub fn refresh(gateway: &Gateway) -> Result<Response<ResponseBody>, GatewayError> {
    let state = &gateway.auth;
    let set = state
        .reload_logged("refresh")
        .map_err(GatewayError::KeyFilesRejected)?;
    let files: Vec<_> = state
        .config
        .key_files
        .iter()
        .zip(set.files())
        .map(|(file, status)| {
            json!({
                "path": file.path,
                "optional": file.optional,
                "status": status.label(),
                "keys": status.keys(),
            })
        })
        .collect();
    let jwks = state.config.jwt.as_ref().map(|jwt| {
        let source = match jwt.jwks {
            JwksSource::File(path) => json!({ "file": path }),
            JwksSource::Url { url, .. } => json!({ "url": url }),
        };
        json!({
            "source": source,
            "keys": state.jwks.keys().map_or(0, |keys| keys.len()),
            "status": state.jwks.status(),
        })
    });
    let body = json!({
        "reloaded": true,
        "generation": state.generation(),
        "compiled_keys": state.config.api_keys.len(),
        "file_keys": set.len(),
        "files": files,
        "jwks": jwks,
        "structural_changes": STRUCTURAL,
    });
    Ok(json_response(StatusCode::OK, body.to_string()))
}
