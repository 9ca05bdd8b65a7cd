//! The JWKS fetcher against a loopback HTTPS server whose certificate is
//! signed by a CA made at test time with `openssl` (a private identity
//! provider): trusted through `ca_file`, refused with the web PKI roots;
//! a failed fetch keeps the keys in force; forced refreshes are rate-limited.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::pem::PemObject as _;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::*;

const JWKS: &str = r#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#;

fn openssl(dir: &Path, args: &[&str]) {
    let status = std::process::Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl");
    assert!(status.success(), "openssl {args:?}");
}

/// A CA and a server certificate for `localhost` signed by it, in a fresh directory.
fn certificates(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gateway-jwks-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let ca = [
        &["req", "-x509"][..],
        &ec,
        &[
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "1",
            "-subj",
            "/CN=test idp CA",
        ],
    ]
    .concat();
    openssl(&dir, &ca);
    let csr = [
        &["req"][..],
        &ec,
        &[
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
    ]
    .concat();
    openssl(&dir, &csr);
    std::fs::write(dir.join("san.ext"), "subjectAltName=DNS:localhost\n").unwrap();
    openssl(
        &dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "1",
            "-extfile",
            "san.ext",
        ],
    );
    dir
}

/// Serves `body` over HTTPS on a loopback port, counting requests.
async fn serve(
    dir: &Path,
    body: Arc<std::sync::atomic::AtomicBool>,
    served: Arc<AtomicUsize>,
) -> u16 {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(dir.join("server.pem"))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let key = PrivateKeyDer::from_pem_file(dir.join("server.key")).unwrap();
    let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (acceptor, body, served) = (acceptor.clone(), body.clone(), served.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    return;
                };
                let mut head = vec![0; 4096];
                let _ = tls.read(&mut head).await;
                served.fetch_add(1, Ordering::SeqCst);
                let text = if body.load(Ordering::SeqCst) {
                    JWKS
                } else {
                    "{\"keys\": 3}"
                };
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
                    text.len()
                );
                let _ = tls.write_all(answer.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    port
}

fn leak<T>(value: T) -> &'static T {
    Box::leak(Box::new(value))
}

#[tokio::test]
async fn fetches_from_a_private_ca_and_keeps_keys_when_a_fetch_fails() {
    let dir = certificates("private");
    let good = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let served = Arc::new(AtomicUsize::new(0));
    let port = serve(&dir, good.clone(), served.clone()).await;
    let url: &'static str = Box::leak(format!("https://localhost:{port}/jwks").into_boxed_str());
    let ca: &'static str = Box::leak(
        dir.join("ca.pem")
            .to_string_lossy()
            .into_owned()
            .into_boxed_str(),
    );

    let state = leak(JwksState::default());
    let loads = leak(AtomicUsize::new(0));
    let timing = (Duration::from_secs(3600), Duration::from_secs(5));
    spawn_fetcher(state, url, timing, Some(ca), || {
        loads.fetch_add(1, Ordering::SeqCst);
    });
    state.wait_loaded(Duration::from_secs(10)).await;
    let keys = state.keys().expect("keys fetched through the private CA");
    assert_eq!(keys[0].kid.as_deref(), Some("k1"));
    assert_eq!(loads.load(Ordering::SeqCst), 1);

    // The provider now serves garbage: a forced fetch fails and the keys stay.
    good.store(false, Ordering::SeqCst);
    assert!(
        !state.force_refresh(Duration::from_secs(5)).await,
        "a failed fetch is no new document"
    );
    assert_eq!(served.load(Ordering::SeqCst), 2);
    assert!(state.keys().is_some());
    // A second forced fetch within the rate limit does not reach the provider.
    assert!(!state.force_refresh(Duration::from_secs(1)).await);
    assert_eq!(served.load(Ordering::SeqCst), 2);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn a_private_ca_is_not_trusted_without_ca_file() {
    let dir = certificates("public");
    let served = Arc::new(AtomicUsize::new(0));
    let port = serve(&dir, Arc::new(true.into()), served.clone()).await;
    let url: &'static str = Box::leak(format!("https://localhost:{port}/jwks").into_boxed_str());
    let state = leak(JwksState::default());
    spawn_fetcher(
        state,
        url,
        (Duration::from_secs(3600), Duration::from_secs(5)),
        None,
        || {},
    );
    state.wait_loaded(Duration::from_secs(2)).await;
    assert!(state.keys().is_none());
    let status = state.status();
    assert!(
        status.starts_with(&format!("fetching {url} failed:")),
        "{status}"
    );
    assert_eq!(
        served.load(Ordering::SeqCst),
        0,
        "the handshake failed before any request"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
