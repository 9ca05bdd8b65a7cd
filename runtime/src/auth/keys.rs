//! The live set of API keys read from key files (security.yaml
//! `auth.key_files`), replaced whole and lock-free on SIGHUP and on
//! `POST /security/refresh`.
//!
//! A load reads every file, parses it (`key_file.rs`) and checks the whole
//! set: no digest twice (across files, and against the compiled keys and
//! the admin key), no name twice (the same). A reload is all or nothing: any
//! problem keeps the set in force and returns every problem as
//! `file:line: what; fix`. At startup a required file that is missing or
//! unusable stops the gateway; an optional one is left out (logged) and the
//! others load. Each successful reload bumps a generation counter after the
//! swap; a connection's auth memo (`mod.rs`) compares it with one atomic
//! load, so a key removed from a file stops working at once, also on an
//! open keep-alive connection.
//!
//! Lookup is a binary search on the digest (sorted slice): its timing
//! depends only on how the SHA-256 of the presented value orders against
//! the stored digests, which says nothing usable about any key.

use std::io::Read as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arc_swap::ArcSwap;

use super::jwks::{self, JwksState};
use super::key_file::{self, ParsedKey};
use crate::table::{Auth, JwksSource, ModelAccess};

/// The JWKS file, when tokens are verified with keys from a file.
fn jwks_file(auth: &Auth) -> Option<&'static str> {
    match auth.jwt.as_ref().map(|jwt| jwt.jwks) {
        Some(JwksSource::File(path)) => Some(path),
        _ => None,
    }
}

/// A key read from a key file.
#[derive(Debug)]
pub struct FileKey {
    pub name: Box<str>,
    pub sha256: [u8; 32],
    /// Index into `Auth::teams`.
    pub team: Option<u16>,
    /// Its team's models (no team: every model).
    pub models: ModelAccess,
}

/// What one configured file gave at the last successful load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileStatus {
    Loaded {
        keys: usize,
    },
    /// Optional and absent: no keys.
    Missing,
    /// Optional and unusable at startup: left out (its problems).
    LeftOut(Vec<String>),
}

/// The keys from all files, sorted by digest, and each file's status.
#[derive(Debug, Default)]
pub struct KeySet {
    keys: Box<[Arc<FileKey>]>,
    files: Box<[FileStatus]>,
}

impl KeySet {
    /// Keys in force from files.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Parallel to `Auth::key_files`.
    pub fn files(&self) -> &[FileStatus] {
        &self.files
    }

    fn find(&self, digest: &[u8; 32]) -> Option<&Arc<FileKey>> {
        let at = self.keys.binary_search_by(|k| k.sha256.cmp(digest)).ok()?;
        self.keys.get(at)
    }
}

/// The compiled auth table with the live file keys and token keys.
pub struct AuthState {
    pub config: &'static Auth,
    set: ArcSwap<KeySet>,
    generation: AtomicU64,
    /// The identity provider's keys (unused without `auth.jwt`).
    pub jwks: JwksState,
}

/// Largest key file read (a line is under 400 bytes: 16 MiB is ~40,000 keys).
const MAX_FILE_BYTES: u64 = 16 << 20;

/// Why a load is being made: at startup optional files may be left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Startup,
    Reload,
}

impl AuthState {
    /// Reads the key files for startup; `Err` lists what stops the gateway.
    pub fn start(config: &'static Auth) -> Result<Self, Vec<String>> {
        let set = load(config, Mode::Startup)?;
        for (file, status) in config.key_files.iter().zip(set.files.iter()) {
            match status {
                FileStatus::LeftOut(problems) => tracing::error!(
                    event = "startup.key_file_left_out",
                    file = file.path,
                    ?problems,
                    "optional key file left out: its keys do not work until it is fixed and reloaded"
                ),
                status => tracing::info!(event = "startup.key_file", file = file.path, ?status),
            }
        }
        let jwks = JwksState::default();
        if let Some(path) = jwks_file(config) {
            match jwks::read_file(path) {
                Ok(keys) => jwks.install(keys, path),
                Err(why) => {
                    tracing::error!(event = "startup.jwks_unusable", %why, "bearer tokens are answered 503 until the file is fixed and reloaded");
                    jwks.failed(why);
                }
            }
        }
        Ok(Self {
            config,
            set: ArcSwap::from_pointee(set),
            generation: AtomicU64::new(0),
            jwks,
        })
    }

    /// Reads every key file again and swaps the set in: all or nothing.
    /// `Err` holds every problem; the set in force is then unchanged. A
    /// JWKS file is read again too, on its own: a problem there keeps the
    /// JWKS in force (and is in `Err`), whatever the key files did.
    pub fn reload(&self) -> Result<Arc<KeySet>, Vec<String>> {
        let loaded = load(self.config, Mode::Reload);
        let jwks = jwks_file(self.config).map(|path| (path, jwks::read_file(path)));
        let mut problems = Vec::new();
        let mut changed = false;
        match jwks {
            Some((path, Ok(keys))) => {
                self.jwks.install(keys, path);
                changed = true;
            }
            Some((_, Err(why))) => problems.push(format!("{why} (the JWKS in force is kept)")),
            None => {}
        }
        let set = match loaded {
            Ok(set) => {
                let set = Arc::new(set);
                self.set.store(Arc::clone(&set));
                changed = true;
                Some(set)
            }
            Err(mut key_problems) => {
                key_problems.append(&mut problems);
                problems = key_problems;
                None
            }
        };
        if changed {
            self.bump();
        }
        match set {
            Some(set) if problems.is_empty() => Ok(set),
            _ => Err(problems),
        }
    }

    /// Marks every connection's memo of a reloadable caller stale.
    pub fn bump(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Bumped after every successful reload (after the swap).
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The set in force.
    #[cfg(test)]
    pub fn current(&self) -> Arc<KeySet> {
        self.set.load_full()
    }

    /// Whether no key of any kind is configured: the API is open.
    /// Whether `error` could go away by waiting for keys from a JWKS URL
    /// (no document yet, or an unknown `kid`): only then is the waiting
    /// path (`ConnectionAuth::authenticate_waiting`) worth its future.
    pub fn may_wait(&self, error: &crate::error::GatewayError) -> bool {
        use crate::error::GatewayError;
        let url = matches!(
            self.config.jwt.as_ref().map(|j| &j.jwks),
            Some(crate::table::JwksSource::Url { .. })
        );
        url && matches!(
            error,
            GatewayError::JwksUnavailable(_)
                | GatewayError::InvalidToken {
                    problem: super::TokenProblem::UnknownKey,
                    ..
                }
        )
    }

    pub fn is_open(&self) -> bool {
        let auth = self.config;
        auth.api_keys.is_empty()
            && auth.admin_key_sha256.is_none()
            && auth.key_files.is_empty()
            && auth.jwt.is_none()
    }

    /// The file key with this digest, if one is in force.
    pub fn find(&self, digest: &[u8; 32]) -> Option<Arc<FileKey>> {
        self.set.load().find(digest).cloned()
    }
}

/// One file as read: absent, its keys, or its problems.
enum FileRead {
    Missing,
    Keys(Vec<ParsedKey>),
    Failed(Vec<String>),
}

impl FileRead {
    fn keys(&self) -> &[ParsedKey] {
        match self {
            Self::Keys(keys) => keys,
            _ => &[],
        }
    }
}

/// Reads, parses and checks every file. At startup an optional file with
/// problems is left out and the check runs again without it.
fn load(auth: &'static Auth, mode: Mode) -> Result<KeySet, Vec<String>> {
    let mut read: Vec<FileRead> = auth
        .key_files
        .iter()
        .map(|file| read_file(auth, file.path, file.optional))
        .collect();
    loop {
        let repeated = duplicates(auth, &read);
        let mut fatal = Vec::new();
        let mut left_out = false;
        for ((file, read), repeated) in auth.key_files.iter().zip(&mut read).zip(repeated) {
            let problems = match read {
                FileRead::Failed(problems) => problems.clone(),
                _ if repeated.is_empty() => continue,
                _ => repeated,
            };
            if mode == Mode::Startup && file.optional {
                left_out = !matches!(read, FileRead::Failed(_)) || left_out;
            } else {
                fatal.extend(problems.iter().cloned());
            }
            *read = FileRead::Failed(problems);
        }
        if !fatal.is_empty() {
            return Err(fatal);
        }
        // Leaving a file out may clear another's repeats: check again.
        if !left_out {
            return Ok(assemble(auth, read));
        }
    }
}

fn read_file(auth: &Auth, path: &str, optional: bool) -> FileRead {
    let text = match read_text(path) {
        Ok(Some(text)) => text,
        Ok(None) if optional => return FileRead::Missing,
        Ok(None) => {
            return FileRead::Failed(vec![format!(
                "{path}: not found; create it (an empty file holds no keys) or mark it `optional: true` under `auth.key_files` in security.yaml"
            )]);
        }
        Err(problem) => return FileRead::Failed(vec![format!("{path}: {problem}")]),
    };
    let (keys, problems) = key_file::parse(path, &text, auth.teams);
    if problems.is_empty() {
        FileRead::Keys(keys)
    } else {
        FileRead::Failed(problems)
    }
}

/// The file's text; `None` when it does not exist.
fn read_text(path: &str) -> Result<Option<String>, String> {
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => {
            return Err(format!(
                "cannot be opened ({error}); make it readable by the gateway's user"
            ));
        }
    };
    let mut text = String::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|error| format!("cannot be read ({error}); a key file is UTF-8 text"))?;
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(format!(
            "is larger than {} MiB; split its keys over several files",
            MAX_FILE_BYTES >> 20
        ));
    }
    Ok(Some(text))
}

/// Who holds a digest or a name first.
#[derive(Clone, Copy)]
enum Origin {
    Compiled(&'static str),
    Admin,
    File { file: usize, line: usize },
}

/// One digest and name and who holds them.
type Claim<'a> = (&'a [u8; 32], &'a str, Origin);

/// Per file (parallel to `read`), its lines that repeat a digest or a name
/// held before them: by a compiled key, the admin key, an earlier file or
/// an earlier line. Failed files take no part.
fn duplicates(auth: &Auth, read: &[FileRead]) -> Vec<Vec<String>> {
    let mut claims: Vec<Claim<'_>> = auth
        .api_keys
        .iter()
        .map(|k| (&k.sha256, k.name, Origin::Compiled(k.name)))
        .collect();
    if let Some(admin) = &auth.admin_key_sha256 {
        claims.push((admin, "", Origin::Admin));
    }
    for (file, read) in read.iter().enumerate() {
        for key in read.keys() {
            let origin = Origin::File {
                file,
                line: key.line,
            };
            claims.push((&key.sha256, key.name.as_str(), origin));
        }
    }
    let mut problems: Vec<Vec<(usize, String)>> = vec![Vec::new(); read.len()];
    let by_digest = repeats(&claims, |c| c.0.as_slice());
    let by_name = repeats(&claims, |c| c.1.as_bytes());
    for (first, again) in by_digest {
        push(
            auth,
            &mut problems,
            claims[first].2,
            claims[again].2,
            "repeats the digest of".to_owned(),
        );
    }
    for (first, again) in by_name {
        let ((digest, name, origin), earlier) = (claims[again], claims[first]);
        if !name.is_empty() && digest != earlier.0 {
            push(
                auth,
                &mut problems,
                earlier.2,
                origin,
                format!("repeats the key name `{name}` of"),
            );
        }
    }
    problems
        .into_iter()
        .map(|mut list| {
            list.sort_by_key(|(line, _)| *line);
            list.into_iter().map(|(_, problem)| problem).collect()
        })
        .collect()
}

/// Pairs (first holder, later holder) of equal keys, in claim order.
fn repeats<'a>(claims: &[Claim<'a>], key: impl Fn(&Claim<'a>) -> &'a [u8]) -> Vec<(usize, usize)> {
    let mut order: Vec<usize> = (0..claims.len()).collect();
    order.sort_by(|&a, &b| key(&claims[a]).cmp(key(&claims[b])).then(a.cmp(&b)));
    let mut pairs = Vec::new();
    let mut group = None::<usize>;
    for pair in order.windows(2) {
        let &[before, after] = pair else {
            continue;
        };
        if key(&claims[before]) == key(&claims[after]) {
            let first = *group.get_or_insert(before);
            pairs.push((first, after));
        } else {
            group = None;
        }
    }
    pairs.sort_by_key(|&(_, again)| again);
    pairs
}

fn push(
    auth: &Auth,
    problems: &mut [Vec<(usize, String)>],
    first: Origin,
    again: Origin,
    what: String,
) {
    let Origin::File { file, line } = again else {
        return;
    };
    if let (Some(list), Some(key_file)) = (problems.get_mut(file), auth.key_files.get(file)) {
        let problem = format!("{}:{line}: {what} {}", key_file.path, describe(auth, first));
        list.push((line, problem));
    }
}

fn describe(auth: &Auth, origin: Origin) -> String {
    match origin {
        Origin::Compiled(name) => format!(
            "the compiled key `{name}`; every key must be distinct: drop this line (that key is compiled in) or rotate one of the keys"
        ),
        Origin::Admin => {
            "the admin key; the admin key must not also be an API key line: rotate one of them"
                .to_owned()
        }
        Origin::File { file, line } => {
            let path = auth.key_files.get(file).map_or("?", |f| f.path);
            format!(
                "{path}:{line}; every key and name must be distinct: remove one of the lines, or rename or rotate one key"
            )
        }
    }
}

fn assemble(auth: &Auth, read: Vec<FileRead>) -> KeySet {
    let mut keys = Vec::new();
    let mut files = Vec::with_capacity(read.len());
    for read in read {
        files.push(match read {
            FileRead::Missing => FileStatus::Missing,
            FileRead::Failed(problems) => FileStatus::LeftOut(problems),
            FileRead::Keys(parsed) => {
                let count = parsed.len();
                keys.extend(parsed.into_iter().map(|key| {
                    let models = key
                        .team
                        .and_then(|t| auth.teams.get(usize::from(t)))
                        .map_or(ModelAccess::All, |team| team.models);
                    Arc::new(FileKey {
                        name: key.name.into(),
                        sha256: key.sha256,
                        team: key.team,
                        models,
                    })
                }));
                FileStatus::Loaded { keys: count }
            }
        });
    }
    keys.sort_by_key(|key| key.sha256);
    KeySet {
        keys: keys.into(),
        files: files.into(),
    }
}

impl AuthState {
    /// [`AuthState::reload`], logged: `security.reloaded` with the count per
    /// file, or `security.reload_refused` with every problem. `trigger`
    /// says what asked (`sighup`, `refresh`).
    pub fn reload_logged(&self, trigger: &'static str) -> Result<Arc<KeySet>, Vec<String>> {
        let result = self.reload();
        match &result {
            Ok(set) => {
                let files: Vec<String> = self
                    .config
                    .key_files
                    .iter()
                    .zip(set.files())
                    .map(|(file, status)| format!("{}: {}", file.path, status.describe()))
                    .collect();
                tracing::info!(
                    event = "security.reloaded",
                    trigger,
                    generation = self.generation(),
                    file_keys = set.len(),
                    ?files,
                    "key files reloaded"
                );
            }
            Err(problems) => tracing::error!(
                event = "security.reload_refused",
                trigger,
                generation = self.generation(),
                ?problems,
                "key files not reloaded: the keys in force are unchanged"
            ),
        }
        result
    }
}

impl FileStatus {
    /// `loaded`, `missing` or `left_out`.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Loaded { .. } => "loaded",
            Self::Missing => "missing",
            Self::LeftOut(_) => "left_out",
        }
    }

    /// Keys in force from this file.
    pub fn keys(&self) -> usize {
        match self {
            Self::Loaded { keys } => *keys,
            _ => 0,
        }
    }

    fn describe(&self) -> String {
        match self {
            Self::Loaded { keys } => format!("{keys} keys"),
            Self::Missing => "missing (optional: no keys)".to_owned(),
            Self::LeftOut(problems) => format!("left out: {}", problems.join("; ")),
        }
    }
}
