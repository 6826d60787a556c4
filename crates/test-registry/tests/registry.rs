//! Each registry variant: push the demo fixture image, fetch it back over plain HTTP (or with
//! `skopeo inspect` for TLS), and check the digests.

#[path = "../../../fixtures/require.rs"]
mod require;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use sha2::{Digest, Sha256};
use test_registry::{Auth, Fault, Options, Proxy, Registry};

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

fn ready() -> bool {
    require::require(
        "docker-registry, skopeo, htpasswd and openssl (scripts/setup installs them)",
        Registry::available(),
    )
}

fn demo() -> PathBuf {
    require::workspace_root().join("fixtures/images/demo")
}

fn oci_src() -> String {
    format!("oci:{}:latest", demo().join("oci").display())
}

/// The demo layout's manifest digest, and its config and layer digests.
fn demo_digests() -> (String, Vec<String>) {
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(demo().join("oci/index.json")).unwrap()).unwrap();
    let manifest_digest = index["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let hex = manifest_digest.strip_prefix("sha256:").unwrap();
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(demo().join("oci/blobs/sha256").join(hex)).unwrap())
            .unwrap();
    let mut blobs = vec![manifest["config"]["digest"].as_str().unwrap().to_string()];
    for layer in manifest["layers"].as_array().unwrap() {
        blobs.push(layer["digest"].as_str().unwrap().to_string());
    }
    (manifest_digest, blobs)
}

fn sha256(data: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(data))
}

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A tiny HTTP/1.1 client: one request per connection, body read until the server closes.
fn http(host: &str, method: &str, target: &str, headers: &[(&str, &str)]) -> Response {
    let mut s = TcpStream::connect(host).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut req = format!("{method} {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (n, v) in headers {
        req.push_str(&format!("{n}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut r = BufReader::new(s);
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    let status = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    let mut headers = Vec::new();
    loop {
        line.clear();
        r.read_line(&mut line).unwrap();
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let (n, v) = l.split_once(':').unwrap();
        headers.push((n.trim().to_string(), v.trim().to_string()));
    }
    let mut body = Vec::new();
    if method != "HEAD" {
        // A cut body ends early: keep what arrived.
        let _ = r.read_to_end(&mut body);
    }
    Response {
        status,
        headers,
        body,
    }
}

fn basic(user: &str, password: &str) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let data = format!("{user}:{password}").into_bytes();
    let mut out = String::new();
    for c in data.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            out.push(if i <= c.len() {
                A[(n >> (18 - 6 * i)) as usize & 63] as char
            } else {
                '='
            });
        }
    }
    format!("Basic {out}")
}

/// GETs the demo manifest and every blob from `repo` on `host` with `auth` (an Authorization
/// value), checking each digest.
fn fetch_demo(host: &str, repo: &str, auth: Option<&str>) {
    let (manifest_digest, blobs) = demo_digests();
    let mut headers = vec![("Accept", OCI_MANIFEST)];
    if let Some(auth) = auth {
        headers.push(("Authorization", auth));
    }
    let r = http(
        host,
        "GET",
        &format!("/v2/{repo}/manifests/latest"),
        &headers,
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(
        r.header("Docker-Content-Digest"),
        Some(manifest_digest.as_str())
    );
    assert_eq!(sha256(&r.body), manifest_digest);
    for blob in blobs {
        let r = http(host, "GET", &format!("/v2/{repo}/blobs/{blob}"), &headers);
        assert_eq!(r.status, 200, "blob {blob}");
        assert_eq!(sha256(&r.body), blob);
    }
}

#[test]
fn anonymous_plain_http() {
    if !ready() {
        return;
    }
    let registry = Registry::start(Options::default());
    assert!(registry.ca_file.is_none());
    assert_eq!(http(&registry.host, "GET", "/v2/", &[]).status, 200);
    registry.push(&oci_src(), "demo:latest", false);
    fetch_demo(&registry.host, "demo", None);

    // `all` passes --all; a single-image source copies as itself.
    registry.push(&oci_src(), "all/demo:latest", true);
    fetch_demo(&registry.host, "all/demo", None);

    // A docker-archive source lands as a Docker schema 2 manifest.
    let archive = format!(
        "docker-archive:{}",
        demo().join("docker-archive.tar").display()
    );
    registry.push(&archive, "archive:latest", false);
    let accept = "application/vnd.docker.distribution.manifest.v2+json";
    let r = http(
        &registry.host,
        "GET",
        "/v2/archive/manifests/latest",
        &[("Accept", accept)],
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Content-Type"), Some(accept));
    assert_eq!(
        r.header("Docker-Content-Digest"),
        Some(sha256(&r.body).as_str())
    );

    // blob_path is the blob's file on disk: tampering with it shows in what the registry serves.
    let (_, blobs) = demo_digests();
    let config = &blobs[0];
    let path = registry.blob_path(config);
    assert_eq!(sha256(&std::fs::read(&path).unwrap()), *config);
    std::fs::write(&path, b"tampered").unwrap();
    let r = http(
        &registry.host,
        "GET",
        &format!("/v2/demo/blobs/{config}"),
        &[],
    );
    assert_eq!(r.body, b"tampered");
}

#[test]
fn basic_auth() {
    if !ready() {
        return;
    }
    let registry = Registry::start(Options {
        auth: Auth::Basic {
            user: "user".into(),
            password: "pass".into(),
        },
        tls: false,
    });
    let r = http(&registry.host, "GET", "/v2/", &[]);
    assert_eq!(r.status, 401);
    assert_eq!(
        r.header("WWW-Authenticate"),
        Some("Basic realm=\"cairn-test\"")
    );
    let wrong = basic("user", "wrong");
    let r = http(&registry.host, "GET", "/v2/", &[("Authorization", &wrong)]);
    assert_eq!(r.status, 401);
    let good = basic("user", "pass");
    let r = http(&registry.host, "GET", "/v2/", &[("Authorization", &good)]);
    assert_eq!(r.status, 200);

    registry.push(&oci_src(), "demo:latest", false);
    fetch_demo(&registry.host, "demo", Some(&good));
    let r = http(&registry.host, "GET", "/v2/demo/manifests/latest", &[]);
    assert_eq!(r.status, 401);
}

/// The `key="value"` parameters of a `Bearer` challenge.
fn challenge_param(challenge: &str, key: &str) -> String {
    let rest = challenge.strip_prefix("Bearer ").unwrap();
    rest.split(',')
        .find_map(|kv| kv.trim().strip_prefix(&format!("{key}=")))
        .unwrap()
        .trim_matches('"')
        .to_string()
}

#[test]
fn token_auth() {
    if !ready() {
        return;
    }
    let registry = Registry::start(Options {
        auth: Auth::Token {
            user: "user".into(),
            password: "pass".into(),
        },
        tls: false,
    });
    registry.push(&oci_src(), "demo:latest", false);
    let issued_by_push = registry.tokens_issued();
    assert!(issued_by_push >= 1, "skopeo got no token");

    let r = http(&registry.host, "GET", "/v2/demo/manifests/latest", &[]);
    assert_eq!(r.status, 401);
    let challenge = r.header("WWW-Authenticate").unwrap().to_string();
    let realm = challenge_param(&challenge, "realm");
    let token_host = registry.token_host().unwrap();
    assert_eq!(realm, format!("http://{token_host}/token"));
    assert_eq!(challenge_param(&challenge, "service"), "test-registry");
    assert_eq!(challenge_param(&challenge, "scope"), "repository:demo:pull");

    let target = "/token?service=test-registry&scope=repository%3Ademo%3Apull";
    let r = http(token_host, "GET", target, &[]);
    assert_eq!(r.status, 401, "no credentials, no token");
    let r = http(
        token_host,
        "GET",
        target,
        &[("Authorization", &basic("user", "x"))],
    );
    assert_eq!(r.status, 401, "wrong credentials, no token");
    assert_eq!(registry.tokens_issued(), issued_by_push);

    let r = http(
        token_host,
        "GET",
        target,
        &[("Authorization", &basic("user", "pass"))],
    );
    assert_eq!(r.status, 200);
    let answer: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(answer["expires_in"], 300);
    assert_eq!(answer["token"], answer["access_token"]);
    assert_eq!(registry.tokens_issued(), issued_by_push + 1);
    let bearer = format!("Bearer {}", answer["token"].as_str().unwrap());
    fetch_demo(&registry.host, "demo", Some(&bearer));

    // A pull token for one repository does not open another.
    let r = http(
        &registry.host,
        "GET",
        "/v2/other/manifests/latest",
        &[("Authorization", &bearer)],
    );
    assert_eq!(r.status, 401);
}

#[test]
fn tls() {
    if !ready() {
        return;
    }
    let registry = Registry::start(Options {
        auth: Auth::Anonymous,
        tls: true,
    });
    let ca = registry.ca_file.clone().unwrap();
    assert!(std::fs::read_to_string(&ca)
        .unwrap()
        .contains("BEGIN CERTIFICATE"));
    assert!(registry.url().starts_with("https://"));
    registry.push(&oci_src(), "demo:latest", false);

    let (manifest_digest, _) = demo_digests();
    let out = Command::new("skopeo")
        .arg("inspect")
        .arg("--cert-dir")
        .arg(registry.cert_dir().unwrap())
        .arg(format!("docker://{}/demo:latest", registry.host))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "skopeo inspect: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let inspect: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(inspect["Digest"], manifest_digest.as_str());

    // Verification against the system roots alone fails: the CA is the test's own.
    let out = Command::new("skopeo")
        .args(["inspect", "--raw"])
        .arg(format!("docker://{}/demo:latest", registry.host))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("certificate"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Plain HTTP on the TLS port gets Go's 400.
    let r = http(&registry.host, "GET", "/v2/", &[]);
    assert_eq!(r.status, 400);
}

#[test]
fn proxy_rate_limit() {
    if !ready() {
        return;
    }
    let registry = Registry::start(Options::default());
    registry.push(&oci_src(), "demo:latest", false);
    let proxy = Proxy::start(
        &registry,
        Fault::RateLimit {
            path_contains: "/manifests/".into(),
        },
    );
    let r = http(&proxy.host, "GET", "/v2/demo/manifests/latest", &[]);
    assert_eq!(r.status, 429);
    assert_eq!(r.header("Retry-After"), Some("1"));
    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body["errors"][0]["code"], "TOOMANYREQUESTS");

    let (_, blobs) = demo_digests();
    let r = http(
        &proxy.host,
        "GET",
        &format!("/v2/demo/blobs/{}", blobs[0]),
        &[],
    );
    assert_eq!(r.status, 200);
    assert_eq!(sha256(&r.body), blobs[0]);
    assert_eq!(
        proxy.requests(),
        vec![
            "GET /v2/demo/manifests/latest 429".to_string(),
            format!("GET /v2/demo/blobs/{} 200", blobs[0]),
        ]
    );
}

#[test]
fn proxy_cut_body_then_range() {
    if !ready() {
        return;
    }
    let registry = Registry::start(Options::default());
    registry.push(&oci_src(), "demo:latest", false);
    let (_, blobs) = demo_digests();
    // The biggest blob.
    let blob = blobs
        .iter()
        .max_by_key(|b| std::fs::metadata(registry.blob_path(b)).unwrap().len())
        .unwrap()
        .clone();
    let size = std::fs::metadata(registry.blob_path(&blob)).unwrap().len();
    let cut = size / 3;
    assert!(cut > 0);
    let proxy = Proxy::start(
        &registry,
        Fault::CutBody {
            path_contains: format!("/blobs/{blob}"),
            after_bytes: cut,
            times: 1,
        },
    );
    let path = format!("/v2/demo/blobs/{blob}");
    let first = http(&proxy.host, "GET", &path, &[]);
    assert_eq!(first.status, 200);
    assert_eq!(
        first.header("Content-Length"),
        Some(size.to_string().as_str())
    );
    assert_eq!(first.body.len() as u64, cut, "the body is cut");

    let range = format!("bytes={cut}-");
    let rest = http(&proxy.host, "GET", &path, &[("Range", &range)]);
    assert_eq!(rest.status, 206);
    assert_eq!(
        rest.header("Content-Range"),
        Some(format!("bytes {cut}-{}/{size}", size - 1).as_str())
    );
    let whole = [first.body, rest.body].concat();
    assert_eq!(sha256(&whole), blob);

    // `times` is spent: the next GET is whole.
    let again = http(&proxy.host, "GET", &path, &[]);
    assert_eq!(sha256(&again.body), blob);
    assert_eq!(
        proxy.requests(),
        vec![
            format!("GET {path} 200"),
            format!("GET {path} range={range} 206"),
            format!("GET {path} 200"),
        ]
    );
}

#[test]
fn proxy_passes_a_push_through() {
    if !ready() {
        return;
    }
    let registry = Registry::start(Options::default());
    let proxy = Proxy::start(&registry, Fault::None);

    // The upload's Location names the proxy, not the registry.
    let r = http(
        &proxy.host,
        "POST",
        "/v2/probe/blobs/uploads/",
        &[("Content-Length", "0")],
    );
    assert_eq!(r.status, 202);
    let location = r.header("Location").unwrap();
    assert!(
        location.starts_with(&format!("http://{}/", proxy.host)),
        "{location}"
    );

    // skopeo pushes through it: uploads (PATCH/PUT bodies) stream upstream.
    let out = Command::new("skopeo")
        .args([
            "--insecure-policy",
            "copy",
            "--preserve-digests",
            "--dest-tls-verify=false",
        ])
        .arg(oci_src())
        .arg(format!("docker://{}/demo:latest", proxy.host))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\nproxy saw {:#?}",
        String::from_utf8_lossy(&out.stderr),
        proxy.requests()
    );
    fetch_demo(&registry.host, "demo", None);
    fetch_demo(&proxy.host, "demo", None);
    let requests = proxy.requests();
    assert!(requests
        .iter()
        .any(|r| r.starts_with("PUT /v2/demo/manifests/latest ")));
    assert!(
        requests.iter().all(|r| !r.ends_with(" 500")),
        "{requests:#?}"
    );
}
