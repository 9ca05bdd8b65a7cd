//! URL building: placeholders percent-encoded as one path segment, never
//! reaching the authority; the other arguments in the query or the body;
//! the `url_env` override held to the allowlist.

use serde_json::json;

use super::{build, override_origin};
use crate::table::{HttpMethod, HttpTool, UrlPiece};

const fn tool(method: HttpMethod, query_arguments: bool) -> HttpTool {
    HttpTool {
        method,
        query_arguments,
        origin: "https://api.example.com",
        path: &[UrlPiece::Literal("/v1/items/"), UrlPiece::Arg("id")],
        query: "fixed=1",
        url_env: None,
        allow_hosts: &["api.example.com", "127.0.0.1"],
        allow_private: false,
        headers: &[],
        timeout_ms: 1000,
        max_response_bytes: 1024,
    }
}

static GET: HttpTool = tool(HttpMethod::Get, true);
static POST: HttpTool = tool(HttpMethod::Post, false);

fn url(arguments: serde_json::Value) -> String {
    build(GET.origin, &GET, &arguments)
        .map(|(url, _)| url)
        .unwrap()
}

#[test]
fn placeholders_are_encoded_as_one_segment() {
    assert_eq!(
        url(json!({"id": "a b/c?d#e"})),
        "https://api.example.com/v1/items/a%20b%2Fc%3Fd%23e?fixed=1"
    );
    assert_eq!(
        url(json!({"id": 42})),
        "https://api.example.com/v1/items/42?fixed=1"
    );
    assert_eq!(
        url(json!({"id": "é"})),
        "https://api.example.com/v1/items/%C3%A9?fixed=1"
    );
}

#[test]
fn no_argument_reaches_the_authority() {
    for evil in [
        "evil.com/..",
        "@evil.com",
        "user:pw@evil.com",
        "//evil.com",
        "..%2F..",
        "\\\\evil.com",
    ] {
        let built = url(json!({ "id": evil }));
        let uri: http::Uri = built.parse().unwrap();
        assert_eq!(uri.host(), Some("api.example.com"), "{evil} -> {built}");
        assert!(uri.path().starts_with("/v1/items/"), "{evil} -> {built}");
        assert_eq!(uri.path().matches('/').count(), 3, "{evil} -> {built}");
    }
    for dots in [".", "..", ""] {
        assert!(
            build(GET.origin, &GET, &json!({ "id": dots })).is_err(),
            "{dots:?}"
        );
    }
}

#[test]
fn other_arguments_go_to_the_query_or_the_body() {
    assert_eq!(
        url(json!({"id": "x", "q": "a&b=c", "n": 3})),
        "https://api.example.com/v1/items/x?fixed=1&n=3&q=a%26b%3Dc"
    );
    let (url, body) = build(POST.origin, &POST, &json!({"id": "x", "q": "a", "n": 3})).unwrap();
    assert_eq!(url, "https://api.example.com/v1/items/x?fixed=1");
    let body: serde_json::Value = serde_json::from_slice(&body.unwrap()).unwrap();
    assert_eq!(body, json!({"q": "a", "n": 3}));
}

#[test]
fn the_override_keeps_to_the_allowlist() {
    assert_eq!(
        override_origin(&GET, "https://api.example.com:8443/"),
        Ok("https://api.example.com:8443".to_owned())
    );
    for (value, why) in [
        ("http://127.0.0.1:9000", "private"),
        ("https://other.example.com", "allow_hosts"),
        ("https://api.example.com/path", "nothing more"),
        ("https://user@api.example.com", "nothing more"),
        ("ftp://api.example.com", "nothing more"),
    ] {
        let err = override_origin(&GET, value).unwrap_err();
        assert!(err.contains(why), "{value}: {err}");
    }
    let private = HttpTool {
        allow_private: true,
        ..tool(HttpMethod::Get, true)
    };
    assert!(override_origin(&private, "http://127.0.0.1:9000").is_ok());
}
