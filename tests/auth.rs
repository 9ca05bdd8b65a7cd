//! Key files (issue 12, principals): API keys read from a file at run time,
//! rotated without a build by reloading on `POST /security/refresh` or
//! SIGHUP; a bad file is refused whole and the keys in force stay; every
//! denial in the caller's protocol shape; the client's key never reaches
//! the upstream.
//!
//! Test config: `auth.key_files: [{ path: /tmp/gateway-test-env/api-keys,
//! optional: true }]` and `auth.jwt.jwks.file: /tmp/gateway-test-env/jwks.json`.
//! Every gateway of the test run reads those files, so the tests here and in
//! `jwt.rs` hold an exclusive lock on a file next to them (across test
//! processes too) while they write them; other tests' gateways start with
//! or without them and never use them.

use std::fs::File;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use sha2::{Digest, Sha256};

use crate::support::*;

const DIR: &str = "/tmp/gateway-test-env";
pub const KEY_FILE: &str = "/tmp/gateway-test-env/api-keys";
pub const JWKS_FILE: &str = "/tmp/gateway-test-env/jwks.json";

/// Holds the key file and the JWKS file for one test: an exclusive `flock`
/// on a file beside them.
pub struct KeyFileLock(File);

/// Takes the lock and writes a JWKS file (a reload reads it too, and
/// refuses a missing one).
pub fn lock_key_file() -> KeyFileLock {
    std::fs::create_dir_all(DIR).unwrap();
    let lock = File::create(format!("{DIR}/api-keys.lock")).unwrap();
    lock.lock().unwrap();
    let lock = KeyFileLock(lock);
    lock.write_jwks(&crate::jwt::jwks(&[&crate::jwt::Signer::ed25519("unused")]));
    lock
}

/// Replaces `path` atomically (a gateway reading meanwhile sees the old or
/// the new file, never half of one).
fn replace(path: &str, text: &str) {
    let temporary = format!("{path}.{}.tmp", std::process::id());
    std::fs::write(&temporary, text).unwrap();
    std::fs::rename(&temporary, path).unwrap();
}

impl KeyFileLock {
    pub fn write(&self, text: &str) {
        replace(KEY_FILE, text);
    }

    pub fn write_jwks(&self, text: &str) {
        replace(JWKS_FILE, text);
    }

    pub fn remove_jwks(&self) {
        let _ = std::fs::remove_file(JWKS_FILE);
    }
}

impl Drop for KeyFileLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(KEY_FILE);
        let _ = std::fs::remove_file(JWKS_FILE);
        let _ = self.0.unlock();
    }
}

fn sha256_hex(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A key unique to this test process (so leftovers of another run never match).
fn key(tag: &str) -> String {
    format!("gw-file-key-{tag}-{}", std::process::id())
}

fn line(name: &str, key: &str, options: &str) -> String {
    format!("{name} {} {options}\n", sha256_hex(key))
}

pub const CHAT: &str = r#"{"model":"echo","messages":[{"role":"user","content":"hi"}]}"#;
pub const MESSAGES: &str =
    r#"{"model":"demo","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}"#;

pub async fn chat_with(addr: SocketAddr, headers: &[(&str, &str)]) -> Reply {
    send(addr, "POST", "/v1/chat/completions", headers, CHAT).await
}

pub async fn chat_as(addr: SocketAddr, key: &str) -> Reply {
    let bearer = format!("Bearer {key}");
    chat_with(addr, &[("authorization", &bearer)]).await
}

pub async fn refresh(addr: SocketAddr, key: Option<&str>) -> Reply {
    let bearer = key.map(|k| format!("Bearer {k}"));
    let headers: Vec<(&str, &str)> = bearer
        .iter()
        .map(|b| ("authorization", b.as_str()))
        .collect();
    send(addr, "POST", "/security/refresh", &headers, Bytes::new()).await
}

/// One HTTP/1.1 connection kept open across requests.
pub struct KeepAlive {
    addr: SocketAddr,
    sender: SendRequest<Full<Bytes>>,
}

impl KeepAlive {
    pub async fn open(addr: SocketAddr) -> Self {
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(connection);
        Self { addr, sender }
    }

    pub async fn chat_as(&mut self, key: &str) -> Reply {
        let request = http::Request::post("/v1/chat/completions")
            .header("host", self.addr.to_string())
            .header("authorization", format!("Bearer {key}"))
            .body(Full::new(Bytes::from(CHAT)))
            .unwrap();
        // The connection takes the next request once it has finished the last.
        tokio::time::timeout(LIMIT, self.sender.ready())
            .await
            .expect("connection ready in time")
            .unwrap_or_else(|error| panic!("the kept-alive connection broke: {error:?}"));
        let response = tokio::time::timeout(LIMIT, self.sender.send_request(request))
            .await
            .expect("answer in time")
            .unwrap_or_else(|error| panic!("the kept-alive connection broke: {error:?}"));
        collect(response).await
    }
}

/// The key in force for the clients of the rotation test.
struct Rotation {
    use_new: AtomicBool,
    stop: AtomicBool,
    with_new: AtomicUsize,
    failures: std::sync::Mutex<Vec<String>>,
}

/// Sends chat completions on one kept-alive connection until told to stop
/// (at most 3,000 requests or 30 s), with the old key until switched.
async fn client(addr: SocketAddr, old: String, new: String, rotation: Arc<Rotation>) -> usize {
    let mut connection = KeepAlive::open(addr).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut sent = 0;
    while !rotation.stop.load(Ordering::Acquire) && sent < 3_000 && Instant::now() < deadline {
        let switched = rotation.use_new.load(Ordering::Acquire);
        let reply = connection.chat_as(if switched { &new } else { &old }).await;
        sent += 1;
        if reply.status != 200 {
            let which = if switched { "new" } else { "old" };
            let failure = format!("{which} key: {} {}", reply.status, reply.text());
            rotation.failures.lock().unwrap().push(failure);
        } else if switched {
            rotation.with_new.fetch_add(1, Ordering::Relaxed);
        }
    }
    sent
}

/// Waits (bounded) until `done` holds, polling.
async fn until(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_rotation_drops_no_request() {
    let file = lock_key_file();
    let (old, new) = (key("old"), key("new"));
    file.write(&format!(
        "# rotation test\n{}",
        line("rotating-old", &old, "")
    ));
    let upstream = MockUpstream::start().await;
    let gateway = Gateway::start(&standard_env(&upstream.base_url()));
    let addr = gateway.addr;
    let mut watcher = KeepAlive::open(addr).await;
    assert_eq!(watcher.chat_as(&old).await.status, 200);

    let rotation = Arc::new(Rotation {
        use_new: AtomicBool::new(false),
        stop: AtomicBool::new(false),
        with_new: AtomicUsize::new(0),
        failures: Default::default(),
    });
    let clients: Vec<_> = (0..2)
        .map(|_| tokio::spawn(client(addr, old.clone(), new.clone(), rotation.clone())))
        .collect();
    let served = || upstream.requests().len();
    until("traffic with the old key", || served() >= 20).await;

    // 1. Add the new key beside the old one and reload.
    file.write(&(line("rotating-old", &old, "") + &line("rotating-new", &new, "")));
    let answer = refresh(addr, Some(ADMIN_KEY)).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let json = answer.json();
    assert_eq!(json["files"][0]["path"], KEY_FILE, "{json}");
    assert_eq!(json["files"][0]["status"], "loaded", "{json}");
    assert_eq!(json["files"][0]["keys"], 2, "{json}");
    assert_eq!(json["file_keys"], 2, "{json}");
    let before = served();
    until("more traffic after the reload", || served() >= before + 20).await;

    // 2. Switch the clients to the new key.
    rotation.use_new.store(true, Ordering::Release);
    until("traffic with the new key", || {
        rotation.with_new.load(Ordering::Relaxed) >= 20
    })
    .await;

    // 3. Remove the old key and reload: it fails at once, also on a connection
    // that authenticated with it before (used just now, so the gateway's idle
    // limit for a keep-alive connection cannot close it meanwhile).
    assert_eq!(watcher.chat_as(&old).await.status, 200);
    file.write(&line("rotating-new", &new, ""));
    let answer = refresh(addr, Some(ADMIN_KEY)).await;
    assert_eq!(answer.json()["files"][0]["keys"], 1, "{}", answer.text());
    let denied = watcher.chat_as(&old).await;
    denied.assert_error(401, "invalid_api_key");
    chat_as(addr, &old)
        .await
        .assert_error(401, "invalid_api_key");
    let before = rotation.with_new.load(Ordering::Relaxed);
    until("more traffic with the new key", || {
        rotation.with_new.load(Ordering::Relaxed) >= before + 20
    })
    .await;

    rotation.stop.store(true, Ordering::Release);
    let mut sent = 0;
    for client in clients {
        sent += client.await.unwrap();
    }
    let failures = rotation.failures.lock().unwrap().clone();
    assert!(
        failures.is_empty(),
        "{} of {sent} failed: {failures:?}",
        failures.len()
    );
    assert!(gateway.logs().contains(r#""event":"security.reloaded""#));
    let metrics = get(addr, "/metrics", Some(ADMIN_KEY)).await.text();
    assert!(
        metrics.contains(r#"gateway_auth_failures_total{reason="invalid_key"} 2"#),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_the_key_files() {
    let file = lock_key_file();
    let (first, second) = (key("hup-1"), key("hup-2"));
    file.write(&line("hup-first", &first, ""));
    let upstream = MockUpstream::start().await;
    let gateway = Gateway::start(&standard_env(&upstream.base_url()));
    assert_eq!(chat_as(gateway.addr, &first).await.status, 200);
    chat_as(gateway.addr, &second)
        .await
        .assert_error(401, "invalid_api_key");

    file.write(&line("hup-second", &second, ""));
    gateway.signal("HUP");
    gateway.wait_for_log(r#""trigger":"sighup""#, Duration::from_secs(10));
    assert_eq!(chat_as(gateway.addr, &second).await.status, 200);
    chat_as(gateway.addr, &first)
        .await
        .assert_error(401, "invalid_api_key");
    assert!(gateway.logs().contains(r#""event":"security.reloaded""#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_key_file_is_refused_and_the_keys_in_force_stay() {
    let file = lock_key_file();
    let good = key("good");
    file.write(&line("kept", &good, ""));
    let upstream = MockUpstream::start().await;
    let gateway = Gateway::start(&standard_env(&upstream.base_url()));
    assert_eq!(chat_as(gateway.addr, &good).await.status, 200);

    let bad = line("kept", &good, "")
        + "broken 12ab\n"
        + &line("stranger", &key("stranger"), "team=no-such-team")
        + &line("copy", CLIENT_KEY, "");
    file.write(&bad);
    let answer = refresh(gateway.addr, Some(ADMIN_KEY)).await;
    answer.assert_error(500, "key_files_rejected");
    let message = answer.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    for expected in [
        "stays in force as it was",
        &format!("{KEY_FILE}:2: the digest of key `broken` has 4 characters, not 64"),
        &format!(
            "{KEY_FILE}:3: key `stranger` names team `no-such-team`, which is not compiled in; compiled teams are `restricted-team`"
        ),
    ] {
        assert!(message.contains(expected), "no `{expected}` in: {message}");
    }
    assert_eq!(chat_as(gateway.addr, &good).await.status, 200);

    // Fix the parse errors: the repeat of a compiled key is refused too.
    file.write(&(line("kept", &good, "") + &line("copy", CLIENT_KEY, "")));
    let message =
        refresh(gateway.addr, Some(ADMIN_KEY)).await.json()["error"]["message"].to_string();
    assert!(
        message.contains(&format!(
            "{KEY_FILE}:2: repeats the digest of the compiled key `test-client`"
        )),
        "{message}"
    );
    // SIGHUP refuses it the same way, and the process lives on.
    gateway.signal("HUP");
    gateway.wait_for_log(r#""trigger":"sighup""#, Duration::from_secs(10));
    let logs = gateway.logs();
    assert!(
        logs.contains(r#""event":"security.reload_refused""#),
        "{logs}"
    );
    assert_eq!(chat_as(gateway.addr, &good).await.status, 200);

    file.write(&line("kept", &good, ""));
    assert_eq!(refresh(gateway.addr, Some(ADMIN_KEY)).await.status, 200);
}

/// Request headers as owned values.
type Headers = Vec<(&'static str, String)>;

/// Asserts an Anthropic-shaped error with this status and `error.type`.
pub fn assert_anthropic_error(reply: &Reply, status: u16, kind: &str) {
    assert_eq!(reply.status, status, "{}", reply.text());
    let json = reply.json();
    assert_eq!(json["type"], "error", "{json}");
    assert_eq!(json["error"]["type"], kind, "{json}");
    assert!(
        json["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
    assert!(reply.headers.contains_key("x-request-id"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_denial_in_the_callers_shape_and_no_key_upstream() {
    let file = lock_key_file();
    let (member, revoked) = (key("member"), key("revoked"));
    file.write(&(line("member", &member, "team=restricted-team") + &line("revoked", &revoked, "")));
    let upstream = MockUpstream::start().await;
    let gateway = Gateway::start(&standard_env(&upstream.base_url()));
    let addr = gateway.addr;

    // A file key works in both protocols; its team bounds its models.
    let member_bearer = format!("Bearer {member}");
    assert_eq!(
        chat_with(addr, &[("authorization", &member_bearer)])
            .await
            .status,
        200
    );
    let anthropic = |key: &str| -> Headers {
        vec![
            ("x-api-key", key.to_owned()),
            ("anthropic-version", "2023-06-01".to_owned()),
        ]
    };
    let messages = |headers: Headers, path: &'static str| async move {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        send(addr, "POST", path, &headers, MESSAGES).await
    };
    assert_eq!(
        messages(anthropic(&member), "/v1/messages").await.status,
        200
    );
    let other = r#"{"model":"secured-model","messages":[{"role":"user","content":"hi"}]}"#;
    send(
        addr,
        "POST",
        "/v1/chat/completions",
        &[("authorization", &member_bearer)],
        other,
    )
    .await
    .assert_error(403, "model_not_allowed");

    // Revoke one key; then each way of not proving a key, in each shape.
    file.write(&line("member", &member, "team=restricted-team"));
    assert_eq!(refresh(addr, Some(ADMIN_KEY)).await.status, 200);
    let revoked_bearer = format!("Bearer {revoked}");
    let cases: [(&str, Headers, &str, &str); 5] = [
        ("no key", vec![], "/v1/chat/completions", "missing_api_key"),
        (
            "wrong key",
            vec![("authorization", "Bearer nope".into())],
            "/v1/chat/completions",
            "invalid_api_key",
        ),
        (
            "revoked key",
            vec![("authorization", revoked_bearer.clone())],
            "/v1/chat/completions",
            "invalid_api_key",
        ),
        (
            "api-key header",
            vec![("api-key", member.clone())],
            "/v1/chat/completions",
            "missing_api_key",
        ),
        (
            "query key",
            vec![],
            "/v1/chat/completions?key=MEMBER",
            "missing_api_key",
        ),
    ];
    for (what, headers, path, code) in &cases {
        let path = path.replace("MEMBER", &member);
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let reply = send(addr, "POST", &path, &headers, CHAT).await;
        assert_eq!(reply.status, 401, "{what}: {}", reply.text());
        reply.assert_error(401, code);
        // The same on the Anthropic route, in Anthropic's shape.
        let path = path.replace("/v1/chat/completions", "/v1/messages");
        let mut headers = headers.clone();
        headers.push(("anthropic-version", "2023-06-01"));
        let reply = send(addr, "POST", &path, &headers, MESSAGES).await;
        assert_anthropic_error(&reply, 401, "authentication_error");
    }
    assert_anthropic_error(
        &messages(anthropic(&revoked), "/v1/messages").await,
        401,
        "authentication_error",
    );

    // Only the admin key may reload, as on the other admin endpoints.
    refresh(addr, None)
        .await
        .assert_error(401, "admin_key_required");
    refresh(addr, Some(CLIENT_KEY))
        .await
        .assert_error(401, "admin_key_required");
    refresh(addr, Some(&member))
        .await
        .assert_error(401, "admin_key_required");
    send(addr, "GET", "/security/refresh", &[], Bytes::new())
        .await
        .assert_error(405, "method_not_allowed");

    // The client's key never reaches the upstream, by either header.
    assert_eq!(chat_with(addr, &[("x-api-key", &member)]).await.status, 200);
    let requests = upstream.requests();
    assert_eq!(
        requests.len(),
        2,
        "only the allowed chat requests went upstream"
    );
    for request in &requests {
        for (name, value) in &request.headers {
            let value = String::from_utf8_lossy(value.as_bytes());
            assert!(!value.contains(&member), "{name}: {value}");
        }
        assert!(!String::from_utf8_lossy(&request.body).contains(&member));
    }
    let metrics = get(addr, "/metrics", Some(ADMIN_KEY)).await.text();
    for expected in [
        r#"gateway_auth_failures_total{reason="missing_key"} 6"#,
        r#"gateway_auth_failures_total{reason="invalid_key"} 5"#,
        r#"gateway_auth_failures_total{reason="admin_key_required"} 3"#,
        r#"gateway_auth_failures_total{reason="model_not_allowed"} 1"#,
    ] {
        assert!(metrics.contains(expected), "no `{expected}` in:\n{metrics}");
    }
    drop(file);
}
