//! Unit tests of authentication: compiled keys, the admin key, the
//! connection memo, and key files loaded, reloaded and refused.

use std::sync::atomic::{AtomicUsize, Ordering};

use http::HeaderMap;
use sha2::{Digest, Sha256};

use super::keys::FileStatus;
use super::*;
use crate::table::{KeyFile, ModelAccess, Team};
use crate::testing::{API_KEYS, CONFIG};

fn headers(authorization: Option<&str>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Some(value) = authorization {
        headers.insert(http::header::AUTHORIZATION, value.parse().unwrap());
    }
    headers
}

fn hex(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn leak<T>(value: T) -> &'static T {
    Box::leak(Box::new(value))
}

/// A fresh path under the temp directory, unique to this process and call.
fn temp_path(tag: &str) -> &'static str {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!(
        "gateway-auth-unit-{}-{tag}-{n}.keys",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&path);
    Box::leak(path.to_string_lossy().into_owned().into_boxed_str())
}

static TEAMS: [Team; 1] = [Team {
    name: "narrow",
    models: ModelAccess::Only(&[0b10]),
    tools: ModelAccess::All,
    agents: ModelAccess::All,
}];

/// The unit config's keys, an admin key, the team `narrow` (model 1 only) and `files`.
fn auth_with(files: &[(&'static str, bool)]) -> &'static Auth {
    let key_files: Vec<KeyFile> = files
        .iter()
        .map(|&(path, optional)| KeyFile { path, optional })
        .collect();
    leak(Auth {
        api_keys: &API_KEYS,
        admin_key_sha256: Some(Sha256::digest(b"admin").into()),
        teams: &TEAMS,
        key_files: Box::leak(key_files.into_boxed_slice()),
        jwt: None,
    })
}

fn state(auth: &'static Auth) -> AuthState {
    AuthState::start(auth).unwrap()
}

#[test]
fn accepts_configured_key_and_rejects_others() {
    let state = state(&CONFIG.auth);
    let check = |value: Option<&str>| authenticate(&state, &headers(value));
    let unit = Caller::Key {
        index: 0,
        key: &API_KEYS[0],
    };
    assert_eq!(check(Some("Bearer unit-key")), Ok(unit.clone()));
    assert_eq!(check(Some("bearer unit-key")), Ok(unit.clone()));
    assert_eq!(
        check(Some("Bearer wrong")),
        Err(GatewayError::InvalidApiKey)
    );
    assert_eq!(
        check(Some("Basic dW5pdC1rZXk=")),
        Err(GatewayError::MissingApiKey)
    );
    assert_eq!(check(Some("Bearer ")), Err(GatewayError::MissingApiKey));
    assert_eq!(check(None), Err(GatewayError::MissingApiKey));
    let mut anthropic = HeaderMap::new();
    anthropic.insert(X_API_KEY, "unit-key".parse().unwrap());
    assert_eq!(authenticate(&state, &anthropic), Ok(unit.clone()));
    anthropic.insert(X_API_KEY, "wrong".parse().unwrap());
    assert_eq!(
        authenticate(&state, &anthropic),
        Err(GatewayError::InvalidApiKey)
    );
    assert_eq!(
        (unit.name(), unit.key_index(), unit.team_index()),
        ("unit", Some(0), None)
    );
}

#[test]
fn a_connection_remembers_only_the_key_that_authenticated() {
    let state = state(&CONFIG.auth);
    let connection = ConnectionAuth::default();
    let good = headers(Some("Bearer unit-key"));
    let first = connection.authenticate(&state, &good).unwrap();
    assert_eq!(connection.authenticate(&state, &good).unwrap(), first);
    // A different (wrong) key on the same connection is checked in full.
    assert_eq!(
        connection.authenticate(&state, &headers(Some("Bearer nope"))),
        Err(GatewayError::InvalidApiKey)
    );
    assert_eq!(
        connection.authenticate(&state, &headers(None)),
        Err(GatewayError::MissingApiKey)
    );
    assert_eq!(connection.authenticate(&state, &good).unwrap(), first);
}

#[test]
fn open_when_no_keys_configured() {
    let auth = leak(Auth {
        api_keys: &[],
        admin_key_sha256: None,
        teams: &[],
        key_files: &[],
        jwt: None,
    });
    let state = state(auth);
    assert_eq!(authenticate(&state, &headers(None)), Ok(Caller::Anonymous));
    let files = leak(Auth {
        key_files: Box::leak(Box::new([KeyFile {
            path: temp_path("open"),
            optional: true,
        }])),
        ..Auth {
            api_keys: &[],
            admin_key_sha256: None,
            teams: &[],
            key_files: &[],
            jwt: None,
        }
    });
    assert_eq!(
        authenticate(&AuthState::start(files).unwrap(), &headers(None)),
        Err(GatewayError::MissingApiKey),
        "a key file, even absent, closes the API"
    );
}

#[test]
fn admin_key_works_on_api_and_guards_metrics() {
    let auth = auth_with(&[]);
    let state = state(auth);
    assert_eq!(
        authenticate(&state, &headers(Some("Bearer admin"))),
        Ok(Caller::Admin)
    );
    assert_eq!(
        authenticate_admin(auth, &headers(Some("Bearer admin"))),
        Ok(())
    );
    assert_eq!(
        authenticate_admin(auth, &headers(Some("Bearer other"))),
        Err(GatewayError::AdminKeyRequired)
    );
    assert_eq!(authenticate_admin(&CONFIG.auth, &headers(None)), Ok(()));
}

#[test]
fn file_keys_carry_their_team_and_stop_at_once_when_removed() {
    let path = temp_path("rotate");
    std::fs::write(
        path,
        format!(
            "# rotation\nold-key {}\nnarrow-key {} team=narrow\n",
            hex("old"),
            hex("narrow")
        ),
    )
    .unwrap();
    let state = state(auth_with(&[(path, false)]));
    let connection = ConnectionAuth::default();
    let old = connection
        .authenticate(&state, &headers(Some("Bearer old")))
        .unwrap();
    assert_eq!(
        (old.name(), old.team_index(), old.key_index()),
        ("old-key", None, None)
    );
    assert!(old.may_use(ModelId(0)) && old.may_use(ModelId(1)));
    let narrow = authenticate(&state, &headers(Some("Bearer narrow"))).unwrap();
    assert_eq!(narrow.team_index(), Some(0));
    assert!(!narrow.may_use(ModelId(0)) && narrow.may_use(ModelId(1)));

    std::fs::write(path, format!("new-key {}\n", hex("new"))).unwrap();
    let before = state.generation();
    let set = state.reload().unwrap();
    assert_eq!(set.files(), &[FileStatus::Loaded { keys: 1 }]);
    assert_eq!(state.generation(), before + 1);
    assert_eq!(
        connection.authenticate(&state, &headers(Some("Bearer old"))),
        Err(GatewayError::InvalidApiKey),
        "the memo of a removed key is stale on the open connection"
    );
    let new = connection.authenticate(&state, &headers(Some("Bearer new")));
    assert_eq!(new.map(|c| c.name().to_owned()), Ok("new-key".to_owned()));
    let _ = std::fs::remove_file(path);
}

#[test]
fn a_bad_reload_keeps_the_keys_in_force() {
    let path = temp_path("bad");
    std::fs::write(path, format!("good {}\n", hex("good"))).unwrap();
    let state = state(auth_with(&[(path, false)]));
    let generation = state.generation();
    std::fs::write(
        path,
        format!(
            "good {}\nbroken 12ab\nstranger {} team=nobody\n",
            hex("good"),
            hex("s")
        ),
    )
    .unwrap();
    let problems = state.reload().unwrap_err();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].starts_with(&format!("{path}:2: the digest of key `broken`")));
    assert!(problems[1].starts_with(&format!("{path}:3: key `stranger` names team `nobody`")));
    assert_eq!(state.generation(), generation);
    assert!(authenticate(&state, &headers(Some("Bearer good"))).is_ok());
    std::fs::remove_file(path).unwrap();
    let missing = state.reload().unwrap_err();
    assert_eq!(missing.len(), 1);
    assert!(missing[0].starts_with(&format!("{path}: not found; create it")));
    assert!(authenticate(&state, &headers(Some("Bearer good"))).is_ok());
}

#[test]
fn repeated_digests_and_names_are_refused_with_the_first_holder() {
    let (one, two) = (temp_path("dup-1"), temp_path("dup-2"));
    std::fs::write(one, format!("a {}\nb {}\n", hex("a"), hex("b"))).unwrap();
    std::fs::write(
        two,
        format!(
            "c {}\na {}\nunit {}\nadmin-too {}\nd {}\n",
            hex("a"),
            hex("a2"),
            hex("u2"),
            hex("admin"),
            hex("unit-key")
        ),
    )
    .unwrap();
    let state = state(auth_with(&[(one, false), (two, true)]));
    // At startup the optional second file is left out; the first loads.
    let set = state.current();
    assert_eq!(set.files()[0], FileStatus::Loaded { keys: 2 });
    let FileStatus::LeftOut(problems) = &set.files()[1] else {
        panic!("{:?}", set.files());
    };
    let expected = [
        format!("{two}:1: repeats the digest of {one}:1;"),
        format!("{two}:2: repeats the key name `a` of {one}:1;"),
        format!("{two}:3: repeats the key name `unit` of the compiled key `unit`;"),
        format!("{two}:4: repeats the digest of the admin key;"),
        format!("{two}:5: repeats the digest of the compiled key `unit`;"),
    ];
    assert_eq!(problems.len(), expected.len(), "{problems:?}");
    for (problem, expected) in problems.iter().zip(&expected) {
        assert!(problem.starts_with(expected.as_str()), "{problem}");
    }
    // A reload refuses the whole set.
    assert_eq!(state.reload().unwrap_err().len(), expected.len());
    assert!(authenticate(&state, &headers(Some("Bearer b"))).is_ok());
    for path in [one, two] {
        std::fs::remove_file(path).unwrap();
    }
}

#[test]
fn startup_needs_required_files_and_skips_absent_optional_ones() {
    let (required, optional) = (temp_path("required"), temp_path("optional"));
    let problems = AuthState::start(auth_with(&[(required, false)]))
        .err()
        .unwrap();
    assert_eq!(problems.len(), 1);
    assert!(problems[0].starts_with(&format!("{required}: not found")));
    std::fs::write(optional, "bad-line\n").unwrap();
    let problems = AuthState::start(auth_with(&[(optional, false)]))
        .err()
        .unwrap();
    assert!(problems[0].starts_with(&format!("{optional}:1: key `bad-line` has no digest")));
    std::fs::remove_file(optional).unwrap();
    let state = state(auth_with(&[(optional, true)]));
    assert_eq!(state.current().files(), &[FileStatus::Missing]);
    assert_eq!(state.current().len(), 0);
}

#[test]
fn tools_follow_the_key_or_the_team() {
    use crate::table::{ApiKey, ToolId};
    static TOOL_TEAMS: [Team; 1] = [Team {
        name: "ops",
        models: ModelAccess::All,
        tools: ModelAccess::Only(&[0b01]),
        agents: ModelAccess::All,
    }];
    static KEY: ApiKey = ApiKey {
        name: "k",
        sha256: [7; 32],
        team: Some("ops"),
        team_index: Some(0),
        models: ModelAccess::All,
        tools: ModelAccess::Only(&[0b10]),
        agents: ModelAccess::All,
        metadata: "",
    };
    let auth = leak(Auth {
        api_keys: std::slice::from_ref(&KEY),
        admin_key_sha256: None,
        teams: &TOOL_TEAMS,
        key_files: &[],
        jwt: None,
    });
    let file_key = |team: Option<u16>| {
        Caller::FileKey(std::sync::Arc::new(super::FileKey {
            name: "f".into(),
            sha256: [8; 32],
            team,
            models: ModelAccess::All,
        }))
    };
    let (first, second) = (ToolId(0), ToolId(1));
    let key = Caller::Key {
        index: 0,
        key: &KEY,
    };
    assert!(!key.may_use_tool(auth, first) && key.may_use_tool(auth, second));
    let team = file_key(Some(0));
    assert!(team.may_use_tool(auth, first) && !team.may_use_tool(auth, second));
    let no_team = file_key(None);
    assert!(no_team.may_use_tool(auth, first) && no_team.may_use_tool(auth, second));
    assert!(Caller::Admin.may_use_tool(auth, second));
    assert!(Caller::Anonymous.may_use_tool(auth, second));
}
