//! The client against a tiny HTTP/1.1 server on 127.0.0.1 (a thread per
//! connection, one response per connection): challenge flows, rate limits,
//! broken and resumed blob streams, redirects, error bodies.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use cairn_registry::digest::{digest_of, Algorithm};
use cairn_registry::{Client, Credentials, Error, Options, Reference, Requests};

#[derive(Debug, Clone)]
struct Req {
    method: String,
    path: String,
    query: String,
    headers: HashMap<String, String>,
    body: Vec<u8>,
    /// The server's own address, for realms and redirects.
    server: SocketAddr,
}

impl Req {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

#[derive(Default)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// Send only this many body bytes (after a full Content-Length), then close.
    cut_at: Option<usize>,
    /// Pause this long before the rest of the body after `cut_at` bytes
    /// instead of closing.
    stall: Option<Duration>,
    /// No Content-Length: the body ends when the connection closes.
    close_delimited: bool,
}

impl Resp {
    fn new(status: u16) -> Resp {
        Resp {
            status,
            ..Resp::default()
        }
    }
    fn body(mut self, body: impl Into<Vec<u8>>) -> Resp {
        self.body = body.into();
        self
    }
    fn header(mut self, name: &str, value: impl Into<String>) -> Resp {
        self.headers.push((name.into(), value.into()));
        self
    }
}

type Handler = dyn Fn(&Req) -> Resp + Send + Sync;

struct Server {
    addr: SocketAddr,
    log: Arc<Mutex<Vec<Req>>>,
}

impl Server {
    fn start(handler: impl Fn(&Req) -> Resp + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let log2 = log.clone();
        std::thread::spawn(move || {
            // Bounded: no test makes this many connections.
            for stream in listener.incoming().take(500) {
                let Ok(stream) = stream else { continue };
                let handler = handler.clone();
                let log = log2.clone();
                std::thread::spawn(move || serve(stream, addr, &*handler, &log));
            }
        });
        Server { addr, log }
    }

    fn requests(&self) -> Vec<Req> {
        self.log.lock().unwrap().clone()
    }

    fn reference(&self, rest: &str) -> Reference {
        Reference::parse(&format!("{}/{rest}", self.addr)).unwrap()
    }
}

fn serve(stream: TcpStream, server: SocketAddr, handler: &Handler, log: &Mutex<Vec<Req>>) {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut out = stream;
    // A TLS ClientHello on this plain-HTTP server: answer as Go's net/http does.
    if reader
        .fill_buf()
        .map(|b| b.first() == Some(&0x16))
        .unwrap_or(false)
    {
        let _ = out.write_all(
            b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n",
        );
        return;
    }
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("").to_string();
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (target, String::new()),
    };
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 {
            return;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let req = Req {
        method,
        path,
        query,
        headers,
        body,
        server,
    };
    log.lock().unwrap().push(req.clone());
    let resp = handler(&req);
    let mut head = format!("HTTP/1.1 {} X\r\nConnection: close\r\n", resp.status);
    if !resp.close_delimited {
        head.push_str(&format!("Content-Length: {}\r\n", resp.body.len()));
    }
    for (k, v) in &resp.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = out.write_all(head.as_bytes());
    match resp.cut_at {
        Some(cut) => {
            let _ = out.write_all(&resp.body[..cut]);
            let _ = out.flush();
            if let Some(stall) = resp.stall {
                std::thread::sleep(stall);
                let _ = out.write_all(&resp.body[cut..]);
            }
        }
        None => {
            let _ = out.write_all(&resp.body);
        }
    }
    let _ = out.flush();
    let _ = out.shutdown(std::net::Shutdown::Both);
}

fn options() -> Options {
    Options {
        insecure: true,
        // Never read the developer's own docker config.
        docker_config: Some("/nonexistent/cairn-registry-test/config.json".into()),
        retries: 3,
        connect_timeout: Duration::from_secs(5),
        read_timeout: Duration::from_secs(5),
        ..Options::default()
    }
}

fn creds(u: &str, p: &str) -> Option<Credentials> {
    Some(Credentials {
        username: u.into(),
        password: p.into(),
    })
}

fn basic(u: &str, p: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
    )
}

const MANIFEST: &[u8] =
    br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}"#;
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

fn manifest_resp() -> Resp {
    Resp::new(200)
        .body(MANIFEST)
        .header("Content-Type", format!("{OCI_MANIFEST}; charset=utf-8"))
        .header(
            "Docker-Content-Digest",
            digest_of(Algorithm::Sha256, MANIFEST),
        )
}

fn blob_data(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 % 253) as u8).collect()
}

fn query_pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

/// A registry that wants `Bearer tok<N>` where N is `valid`'s value, and
/// a token server issuing `tok1`, `tok2`, … (requiring `token_auth` as the
/// Authorization header when set).
fn bearer_registry(
    valid: Arc<AtomicU64>,
    issued: Arc<AtomicU64>,
    token_auth: Option<String>,
    blob: Vec<u8>,
) -> Server {
    Server::start(move |req| {
        if req.path == "/token" {
            if let Some(want) = &token_auth {
                if req.header("authorization") != Some(want.as_str()) {
                    return Resp::new(401).body(r#"{"details":"bad credentials"}"#);
                }
            }
            let n = issued.fetch_add(1, Ordering::SeqCst) + 1;
            return Resp::new(200).body(format!(r#"{{"token":"tok{n}","expires_in":300}}"#));
        }
        let want = format!("Bearer tok{}", valid.load(Ordering::SeqCst));
        if req.header("authorization") != Some(want.as_str()) {
            return Resp::new(401)
                .header(
                    "WWW-Authenticate",
                    format!(
                        r#"Bearer realm="http://{}/token",service="test-registry",scope="repository:app:pull""#,
                        req.server
                    ),
                )
                .body(r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#);
        }
        if req.path == "/v2/app/manifests/v1" {
            return manifest_resp();
        }
        if req.path.starts_with("/v2/app/blobs/") {
            return Resp::new(200).body(blob.clone());
        }
        Resp::new(404)
    })
}

#[test]
fn bearer_token_flow_reuses_the_token() {
    let blob = blob_data(5000);
    let digest = digest_of(Algorithm::Sha256, &blob);
    let valid = Arc::new(AtomicU64::new(1));
    let issued = Arc::new(AtomicU64::new(0));
    let server = bearer_registry(valid, issued, Some(basic("alice", "s3cret")), blob.clone());
    let reference = server.reference("app:v1");
    let mut opts = options();
    opts.credentials = creds("alice", "s3cret");
    let client = Client::new(&reference, &opts).unwrap();

    let m = client.manifest(reference.manifest_ref(), 1 << 20).unwrap();
    assert_eq!(m.bytes, MANIFEST);
    assert_eq!(m.media_type.as_deref(), Some(OCI_MANIFEST));
    assert_eq!(m.digest, Some(digest_of(Algorithm::Sha256, MANIFEST)));
    assert_eq!(client.blob_bytes(&digest, 1 << 20).unwrap(), blob);
    let mut streamed = Vec::new();
    client
        .blob(&digest, Some(blob.len() as u64))
        .unwrap()
        .read_to_end(&mut streamed)
        .unwrap();
    assert_eq!(streamed, blob);
    assert_eq!(
        client.requests(),
        Requests {
            manifests: 2, // the anonymous one answered by the challenge, then with the token
            blobs: 2,
            tokens: 1,
            resumes: 0,
            pushes: 0
        }
    );

    let log = server.requests();
    let token_req = log.iter().find(|r| r.path == "/token").unwrap();
    assert_eq!(token_req.method, "GET");
    assert_eq!(
        query_pairs(&token_req.query),
        vec![
            ("service".into(), "test-registry".into()),
            ("scope".into(), "repository:app:pull".into())
        ]
    );
    let manifest_req = log
        .iter()
        .rfind(|r| r.path == "/v2/app/manifests/v1")
        .unwrap();
    let accept = manifest_req.header("accept").unwrap();
    for t in cairn_registry::MANIFEST_MEDIA_TYPES {
        assert!(accept.contains(t), "{accept}");
    }
}

#[test]
fn a_rejected_cached_token_is_refreshed_once() {
    let valid = Arc::new(AtomicU64::new(1));
    let issued = Arc::new(AtomicU64::new(0));
    let server = bearer_registry(valid.clone(), issued, None, Vec::new());
    let reference = server.reference("app:v1");
    let client = Client::new(&reference, &options()).unwrap();
    client.manifest("v1", 1 << 20).unwrap();
    assert_eq!(client.requests().tokens, 1);
    // The token expires: the next request gets a 401, fetches tok2, retries.
    valid.store(2, Ordering::SeqCst);
    client.manifest("v1", 1 << 20).unwrap();
    assert_eq!(client.requests().tokens, 2);
    assert_eq!(client.requests().manifests, 4);
    // A registry that never accepts the token: one refresh, then an error.
    valid.store(99, Ordering::SeqCst);
    let e = client.manifest("v1", 1 << 20).unwrap_err();
    assert!(matches!(e, Error::Unauthorized { .. }), "{e:?}");
    assert_eq!(client.requests().tokens, 3);
}

#[test]
fn concurrent_streams_share_one_token() {
    let blob = blob_data(20000);
    let digest = digest_of(Algorithm::Sha256, &blob);
    let valid = Arc::new(AtomicU64::new(1));
    let issued = Arc::new(AtomicU64::new(0));
    let server = bearer_registry(valid, issued, None, blob.clone());
    let client = Client::new(&server.reference("app:v1"), &options()).unwrap();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let client = client.clone();
            let digest = digest.clone();
            std::thread::spawn(move || {
                let mut out = Vec::new();
                client
                    .blob(&digest, None)
                    .unwrap()
                    .read_to_end(&mut out)
                    .unwrap();
                out
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), blob);
    }
    assert_eq!(client.requests().tokens, 1);
}

#[test]
fn anonymous_401_says_how_to_log_in() {
    // The token server hands out anonymous tokens the registry never accepts.
    let valid = Arc::new(AtomicU64::new(0));
    let issued = Arc::new(AtomicU64::new(0));
    let server = bearer_registry(valid, issued, None, Vec::new());
    let reference = server.reference("app:v1");
    let client = Client::new(&reference, &options()).unwrap();
    let e = client.manifest("v1", 1 << 20).unwrap_err();
    let msg = e.to_string();
    assert!(
        matches!(
            e,
            Error::Unauthorized {
                had_credentials: false,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(msg.contains("requires authentication"), "{msg}");
    assert!(msg.contains("--username and --password-stdin"), "{msg}");
    assert!(msg.contains("docker login"), "{msg}");
    assert!(msg.contains("authentication required"), "{msg}");
}

#[test]
fn token_server_rejecting_credentials() {
    let valid = Arc::new(AtomicU64::new(1));
    let issued = Arc::new(AtomicU64::new(0));
    let server = bearer_registry(valid, issued, Some(basic("alice", "right")), Vec::new());
    let mut opts = options();
    opts.credentials = creds("alice", "wrong");
    let client = Client::new(&server.reference("app:v1"), &opts).unwrap();
    let e = client.manifest("v1", 1 << 20).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Unauthorized {
                had_credentials: true,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("refused the credentials"), "{e}");
}

fn basic_registry() -> Server {
    Server::start(|req| {
        if req.header("authorization") != Some(basic("bob", "pw").as_str()) {
            return Resp::new(401).header("WWW-Authenticate", r#"Basic realm="Registry Realm""#);
        }
        manifest_resp()
    })
}

#[test]
fn basic_challenge() {
    let server = basic_registry();
    let reference = server.reference("app:v1");
    let mut opts = options();
    opts.credentials = creds("bob", "pw");
    let client = Client::new(&reference, &opts).unwrap();
    assert_eq!(client.manifest("v1", 1 << 20).unwrap().bytes, MANIFEST);
    client.manifest("v1", 1 << 20).unwrap();
    assert_eq!(
        client.requests(),
        Requests {
            manifests: 3,
            ..Requests::default()
        },
        "the Basic header is reused"
    );

    let client = Client::new(&reference, &options()).unwrap();
    let e = client.manifest("v1", 1 << 20).unwrap_err();
    assert!(matches!(e, Error::Unauthorized { .. }), "{e:?}");
    assert!(e.to_string().contains("docker login"), "{e}");
    assert_eq!(client.requests().manifests, 1);

    opts.credentials = creds("bob", "nope");
    let client = Client::new(&reference, &opts).unwrap();
    let e = client.manifest("v1", 1 << 20).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Unauthorized {
                had_credentials: true,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn docker_config_and_credential_helper_credentials() {
    use std::os::unix::fs::PermissionsExt;
    let server = basic_registry();
    let reference = server.reference("app:v1");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(
        &config,
        format!(
            r#"{{"auths":{{"http://{}/v1/":{{"auth":"{}"}}}}}}"#,
            server.addr,
            base64::engine::general_purpose::STANDARD.encode("bob:pw")
        ),
    )
    .unwrap();
    let mut opts = options();
    opts.docker_config = Some(config.clone());
    let client = Client::new(&reference, &opts).unwrap();
    client.manifest("v1", 1 << 20).unwrap();

    // A credsStore helper found in helper_dir.
    std::fs::write(&config, r#"{"credsStore":"test"}"#).unwrap();
    let helper = dir.path().join("docker-credential-test");
    std::fs::write(
        &helper,
        "#!/bin/sh\nread server\necho \"{\\\"Username\\\":\\\"bob\\\",\\\"Secret\\\":\\\"pw\\\",\\\"ServerURL\\\":\\\"$server\\\"}\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    opts.helper_dir = Some(dir.path().to_path_buf());
    let client = Client::new(&reference, &opts).unwrap();
    client.manifest("v1", 1 << 20).unwrap();

    // Explicit credentials win over the config.
    opts.credentials = creds("bob", "wrong");
    let client = Client::new(&reference, &opts).unwrap();
    assert!(client.manifest("v1", 1 << 20).is_err());
}

#[test]
fn identity_token_uses_the_oauth2_post() {
    let server = Server::start(|req| {
        if req.path == "/token" {
            if req.method != "POST" {
                return Resp::new(405);
            }
            let form = String::from_utf8_lossy(&req.body).to_string();
            if !form.contains("refresh_token=refresh-123") {
                return Resp::new(401);
            }
            return Resp::new(200)
                .body(r#"{"access_token":"fresh","scope":"repository:app:pull"}"#);
        }
        if req.header("authorization") != Some("Bearer fresh") {
            return Resp::new(401).header(
                "WWW-Authenticate",
                format!(
                    r#"Bearer realm="http://{}/token",service="svc""#,
                    req.server
                ),
            );
        }
        manifest_resp()
    });
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(
        &config,
        format!(
            r#"{{"auths":{{"{}":{{"identitytoken":"refresh-123"}}}}}}"#,
            server.addr
        ),
    )
    .unwrap();
    let mut opts = options();
    opts.docker_config = Some(config.clone());
    let client = Client::new(&server.reference("app:v1"), &opts).unwrap();
    client.manifest("v1", 1 << 20).unwrap();
    let log = server.requests();
    let post = log.iter().find(|r| r.path == "/token").unwrap();
    assert_eq!(
        post.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let mut form = query_pairs(&String::from_utf8_lossy(&post.body));
    form.sort();
    assert_eq!(
        form,
        vec![
            ("client_id".into(), "cairn".into()),
            ("grant_type".into(), "refresh_token".into()),
            ("refresh_token".into(), "refresh-123".into()),
            ("scope".into(), "repository:app:pull".into()),
            ("service".into(), "svc".into()),
        ]
    );

    // A token server that refuses the POST: the error says so.
    std::fs::write(
        &config,
        format!(
            r#"{{"auths":{{"{}":{{"identitytoken":"other"}}}}}}"#,
            server.addr
        ),
    )
    .unwrap();
    let client = Client::new(&server.reference("app:v1"), &opts).unwrap();
    let e = client.manifest("v1", 1 << 20).unwrap_err().to_string();
    assert!(e.contains("token server answered HTTP 401"), "{e}");
}

#[test]
fn identity_token_post_refused_names_oauth2() {
    let server = Server::start(|req| {
        if req.path == "/token" {
            return Resp::new(405).body("method not allowed");
        }
        Resp::new(401).header(
            "WWW-Authenticate",
            format!(r#"Bearer realm="http://{}/token""#, req.server),
        )
    });
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(
        &config,
        format!(
            r#"{{"auths":{{"{}":{{"identitytoken":"x"}}}}}}"#,
            server.addr
        ),
    )
    .unwrap();
    let mut opts = options();
    opts.docker_config = Some(config);
    let client = Client::new(&server.reference("app:v1"), &opts).unwrap();
    let e = client.manifest("v1", 1 << 20).unwrap_err();
    assert!(matches!(e, Error::Token { .. }), "{e:?}");
    assert!(e.to_string().contains("OAuth2 refresh-token POST"), "{e}");
}

#[test]
fn rate_limits() {
    let hits = Arc::new(AtomicU64::new(0));
    let h = hits.clone();
    let server = Server::start(move |req| {
        match req.path.as_str() {
            // First a short Retry-After, then success.
            "/v2/short/manifests/v1" => {
                if h.fetch_add(1, Ordering::SeqCst) == 0 {
                    Resp::new(429).header("Retry-After", "1")
                } else {
                    manifest_resp()
                }
            }
            "/v2/long/manifests/v1" => Resp::new(429)
                .header("Retry-After", "3600")
                .header("ratelimit-remaining", "0;w=21600")
                .body(r#"{"errors":[{"code":"TOOMANYREQUESTS","message":"You have reached your pull rate limit."}]}"#),
            "/v2/hub503/manifests/v1" => Resp::new(503).header("RateLimit-Limit", "100;w=21600"),
            _ => Resp::new(404),
        }
    });
    let client = Client::new(&server.reference("short:v1"), &options()).unwrap();
    let t = std::time::Instant::now();
    client.manifest("v1", 1 << 20).unwrap();
    assert!(t.elapsed() >= Duration::from_millis(900));
    assert_eq!(client.requests().manifests, 2);

    let client = Client::new(&server.reference("long:v1"), &options()).unwrap();
    let t = std::time::Instant::now();
    let e = client.manifest("v1", 1 << 20).unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(5), "no long sleep");
    let msg = e.to_string();
    match &e {
        Error::RateLimited { retry_after, .. } => {
            assert_eq!(retry_after.as_deref(), Some("3600"))
        }
        other => panic!("{other:?}"),
    }
    assert!(msg.contains("pull rate limit"), "{msg}");
    assert!(msg.contains("You have reached"), "{msg}");
    assert!(!msg.contains("not found"), "{msg}");
    assert_eq!(client.requests().manifests, 1);

    let client = Client::new(&server.reference("hub503:v1"), &options()).unwrap();
    let e = client.manifest("v1", 1 << 20).unwrap_err();
    assert!(
        matches!(
            e,
            Error::RateLimited {
                retry_after: None,
                ..
            }
        ),
        "{e:?}"
    );
}

/// Serves `data` at any blob path; the first GET (no Range) is cut after
/// `cut` bytes; a Range request is answered by `range` (the default: a
/// correct 206).
fn flaky_blob_server(
    data: Vec<u8>,
    cut: usize,
    range: impl Fn(u64, &[u8]) -> Resp + Send + Sync + 'static,
) -> Server {
    Server::start(move |req| match req.header("range") {
        None => Resp {
            cut_at: Some(cut),
            ..Resp::new(200).body(data.clone())
        },
        Some(r) => {
            let start: u64 = r
                .strip_prefix("bytes=")
                .and_then(|r| r.strip_suffix('-'))
                .and_then(|n| n.parse().ok())
                .unwrap();
            range(start, &data)
        }
    })
}

fn partial(start: u64, data: &[u8]) -> Resp {
    Resp::new(206)
        .header(
            "Content-Range",
            format!("bytes {start}-{}/{}", data.len() - 1, data.len()),
        )
        .body(data[start as usize..].to_vec())
}

#[test]
fn a_cut_blob_stream_is_resumed_with_range() {
    let data = blob_data(100_000);
    let digest = digest_of(Algorithm::Sha256, &data);
    let server = flaky_blob_server(data.clone(), 30_000, partial);
    let client = Client::new(&server.reference("app"), &options()).unwrap();
    for size in [Some(data.len() as u64), None] {
        let mut reader = client.blob(&digest, size).unwrap();
        let mut out = Vec::new();
        reader.read_to_end(&mut out).unwrap();
        assert_eq!(out.len(), data.len());
        assert!(out == data, "resumed stream differs");
        assert_eq!(reader.resumes(), 1);
    }
    assert_eq!(
        client.requests(),
        Requests {
            blobs: 2,
            resumes: 2,
            ..Requests::default()
        }
    );
    let log = server.requests();
    let ranges: Vec<_> = log.iter().filter_map(|r| r.header("range")).collect();
    assert_eq!(ranges, vec!["bytes=30000-", "bytes=30000-"]);
}

#[test]
fn a_stalled_stream_times_out_and_resumes() {
    let data = blob_data(50_000);
    let digest = digest_of(Algorithm::Sha256, &data);
    let d = data.clone();
    let server = Server::start(move |req| match req.header("range") {
        None => Resp {
            cut_at: Some(10_000),
            stall: Some(Duration::from_secs(3)),
            ..Resp::new(200).body(d.clone())
        },
        Some(_) => partial(10_000, &d),
    });
    let mut opts = options();
    opts.read_timeout = Duration::from_millis(500);
    let client = Client::new(&server.reference("app"), &opts).unwrap();
    let mut out = Vec::new();
    let mut reader = client.blob(&digest, Some(data.len() as u64)).unwrap();
    reader.read_to_end(&mut out).unwrap();
    assert!(out == data);
    assert_eq!(reader.resumes(), 1);
}

#[test]
fn a_server_ignoring_range_is_skipped_into() {
    let data = blob_data(100_000);
    let digest = digest_of(Algorithm::Sha256, &data);
    let server = flaky_blob_server(data.clone(), 12_345, |_, data| {
        Resp::new(200).body(data.to_vec())
    });
    let client = Client::new(&server.reference("app"), &options()).unwrap();
    let mut out = Vec::new();
    let mut reader = client.blob(&digest, Some(data.len() as u64)).unwrap();
    reader.read_to_end(&mut out).unwrap();
    assert!(out == data);
    assert_eq!(client.requests().resumes, 1);
}

#[test]
fn a_wrong_content_range_is_an_error() {
    let data = blob_data(100_000);
    let digest = digest_of(Algorithm::Sha256, &data);
    let server = flaky_blob_server(data.clone(), 30_000, |start, data| partial(start - 1, data));
    let client = Client::new(&server.reference("app"), &options()).unwrap();
    let mut reader = client.blob(&digest, Some(data.len() as u64)).unwrap();
    let e = reader.read_to_end(&mut Vec::new()).unwrap_err();
    let inner = e.get_ref().and_then(|e| e.downcast_ref::<Error>()).unwrap();
    assert!(matches!(inner, Error::Protocol { .. }), "{inner:?}");
    assert!(e.to_string().contains("asked for bytes from 30000"), "{e}");
}

#[test]
fn every_resume_breaking_gives_up_after_the_retries() {
    let data = blob_data(100_000);
    let digest = digest_of(Algorithm::Sha256, &data);
    let server = flaky_blob_server(data.clone(), 1000, |start, data| Resp {
        cut_at: Some(1000),
        ..partial(start, data)
    });
    let client = Client::new(&server.reference("app"), &options()).unwrap();
    let mut reader = client.blob(&digest, Some(data.len() as u64)).unwrap();
    let mut out = Vec::new();
    let e = reader.read_to_end(&mut out).unwrap_err();
    assert_eq!(out.len(), 4000);
    assert!(out[..] == data[..4000]);
    assert!(e.to_string().contains("gave up after 3 resumes"), "{e}");
    assert_eq!(client.requests().resumes, 3);
}

#[test]
fn a_blob_longer_than_its_descriptor_is_refused() {
    let data = blob_data(1000);
    let digest = digest_of(Algorithm::Sha256, &data);
    let d = data.clone();
    let server = Server::start(move |_| Resp::new(200).body(d.clone()));
    let client = Client::new(&server.reference("app"), &options()).unwrap();
    let e = client.blob(&digest, Some(999)).unwrap_err();
    assert!(matches!(e, Error::Protocol { .. }), "{e:?}");
    // Close-delimited (no Content-Length): cut at the descriptor's size.
    let d = data.clone();
    let server = Server::start(move |_| Resp {
        close_delimited: true,
        ..Resp::new(200).body(d.clone())
    });
    let client = Client::new(&server.reference("app"), &options()).unwrap();
    let mut out = Vec::new();
    client
        .blob(&digest, Some(600))
        .unwrap()
        .read_to_end(&mut out)
        .unwrap();
    assert_eq!(out, &data[..600]);
}

#[test]
fn blob_redirects_do_not_carry_the_authorization_header() {
    let data = blob_data(10_000);
    let digest = digest_of(Algorithm::Sha256, &data);
    let d = data.clone();
    let storage = Server::start(move |req| {
        if req.path == "/storage/blob" {
            Resp::new(200).body(d.clone())
        } else {
            Resp::new(404)
        }
    });
    let storage_addr = storage.addr;
    let registry = Server::start(move |req| {
        if req.header("authorization") != Some(basic("bob", "pw").as_str()) {
            return Resp::new(401).header("WWW-Authenticate", r#"Basic realm="r""#);
        }
        Resp::new(307).header(
            "Location",
            format!("http://{storage_addr}/storage/blob?sig=abc"),
        )
    });
    let mut opts = options();
    opts.credentials = creds("bob", "pw");
    let client = Client::new(&registry.reference("app"), &opts).unwrap();
    let mut out = Vec::new();
    client
        .blob(&digest, Some(data.len() as u64))
        .unwrap()
        .read_to_end(&mut out)
        .unwrap();
    assert!(out == data);
    assert_eq!(client.blob_bytes(&digest, 1 << 20).unwrap(), data);
    let got = storage.requests();
    assert_eq!(got.len(), 2);
    for r in &got {
        assert_eq!(r.query, "sig=abc");
        assert!(
            r.header("authorization").is_none(),
            "Authorization leaked to the storage host: {r:?}"
        );
    }
    assert!(registry
        .requests()
        .iter()
        .any(|r| r.header("authorization").is_some()));
}

#[test]
fn not_found_and_other_statuses() {
    let server = Server::start(|req| {
        match req.path.as_str() {
        "/v2/app/manifests/nosuch" => Resp::new(404).body(
            r#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"nosuch"}}]}"#,
        ),
        "/v2/gone/manifests/v1" => Resp::new(404).body(
            r#"{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}"#,
        ),
        "/v2/secret/manifests/v1" => Resp::new(403).body(
            r#"{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}"#,
        ),
        "/v2/broken/manifests/v1" => Resp::new(500).body("database on fire"),
        "/v2/busy/manifests/v1" => Resp::new(503),
        _ => Resp::new(404).body("<html>not here</html>"),
    }
    });
    let host = server.addr;
    let err = |repo: &str, r: &str| {
        let client = Client::new(&server.reference(repo), &options()).unwrap();
        (client.manifest(r, 1 << 20).unwrap_err(), client)
    };
    let (e, _) = err("app", "nosuch");
    assert!(matches!(e, Error::NotFound { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!("manifest unknown: {host}/app:nosuch")
    );
    let (e, _) = err("gone", "v1");
    assert_eq!(
        e.to_string(),
        format!("repository unknown: {host}/gone:v1 (repository name not known to registry)")
    );
    let d = format!("sha256:{}", "0".repeat(64));
    let (e, _) = err("other", &d);
    assert_eq!(e.to_string(), format!("manifest unknown: {host}/other@{d}"));
    let client = Client::new(&server.reference("other"), &options()).unwrap();
    let e = client.blob(&d, None).unwrap_err();
    assert_eq!(e.to_string(), format!("blob unknown: {host}/other@{d}"));
    let (e, _) = err("secret", "v1");
    assert!(matches!(e, Error::Denied { .. }), "{e:?}");
    assert!(e.to_string().contains("requested access"), "{e}");
    let (e, _) = err("broken", "v1");
    assert!(matches!(e, Error::Status { status: 500, .. }), "{e:?}");
    assert!(e.to_string().contains("database on fire"), "{e}");
    let (e, client) = err("busy", "v1");
    assert!(matches!(e, Error::Status { status: 503, .. }), "{e:?}");
    assert_eq!(client.requests().manifests, 4, "503 retried 3 times");
}

#[test]
fn sizes_and_digests_are_checked() {
    let big = vec![b'x'; 5000];
    let b = big.clone();
    let server = Server::start(move |req| match req.path.as_str() {
        "/v2/app/manifests/big" => Resp::new(200).body(b.clone()),
        "/v2/app/manifests/stream" => Resp {
            close_delimited: true,
            ..Resp::new(200).body(b.clone())
        },
        _ => manifest_resp(),
    });
    let client = Client::new(&server.reference("app"), &options()).unwrap();
    for tag in ["big", "stream"] {
        let e = client.manifest(tag, 4096).unwrap_err();
        assert!(matches!(e, Error::TooLarge { limit: 4096, .. }), "{e:?}");
    }
    assert_eq!(client.manifest("stream", 5000).unwrap().bytes, big);
    let good = digest_of(Algorithm::Sha256, MANIFEST);
    assert_eq!(client.manifest(&good, 4096).unwrap().bytes, MANIFEST);
    let good512 = digest_of(Algorithm::Sha512, MANIFEST);
    client.manifest(&good512, 4096).unwrap();
    let wrong = digest_of(Algorithm::Sha256, b"other");
    let e = client.manifest(&wrong, 4096).unwrap_err();
    assert!(matches!(e, Error::DigestMismatch { .. }), "{e:?}");
    let e = client.blob_bytes(&wrong, 4096).unwrap_err();
    assert!(matches!(e, Error::DigestMismatch { .. }), "{e:?}");
    for bad in ["../../etc", "sha256:zz", "a b"] {
        assert!(client.manifest(bad, 4096).is_err(), "{bad}");
    }
    assert!(client.blob("sha256:short", None).is_err());
}

#[test]
fn tls_to_a_plain_http_server_suggests_insecure() {
    let server = Server::start(|_| manifest_resp());
    let mut opts = options();
    opts.insecure = false;
    let client = Client::new(&server.reference("app"), &opts).unwrap();
    let e = client.manifest("v1", 4096).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Tls {
                plain_http: true,
                ..
            }
        ),
        "{e:?}"
    );
    let msg = e.to_string();
    assert!(msg.contains(&server.addr.to_string()), "{msg}");
    assert!(msg.contains("pass --insecure"), "{msg}");
}

#[test]
fn connection_refused_names_the_host() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let reference = Reference::parse(&format!("127.0.0.1:{port}/app")).unwrap();
    let client = Client::new(&reference, &options()).unwrap();
    let e = client.manifest("latest", 4096).unwrap_err();
    assert!(matches!(e, Error::Connect { .. }), "{e:?}");
    assert!(e.to_string().contains(&format!("127.0.0.1:{port}")), "{e}");
}

#[test]
fn ca_files_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let reference = Reference::parse("registry.example.com/app").unwrap();
    let mut opts = options();
    opts.ca_files = vec![dir.path().join("missing.pem")];
    assert!(matches!(
        Client::new(&reference, &opts),
        Err(Error::CaFile { .. })
    ));
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "no certificates here\n").unwrap();
    opts.ca_files = vec![empty];
    let e = Client::new(&reference, &opts).unwrap_err();
    assert!(e.to_string().contains("no PEM certificate"), "{e}");
}

#[test]
fn a_redirected_blob_resumes_through_a_fresh_redirect_with_range() {
    let data = blob_data(60_000);
    let digest = digest_of(Algorithm::Sha256, &data);
    let d = data.clone();
    let storage = Server::start(move |req| match req.header("range") {
        None => Resp {
            cut_at: Some(25_000),
            ..Resp::new(200).body(d.clone())
        },
        Some(r) => {
            assert_eq!(r, "bytes=25000-");
            partial(25_000, &d)
        }
    });
    let storage_addr = storage.addr;
    let registry = Server::start(move |_| {
        Resp::new(307).header("Location", format!("http://{storage_addr}/storage/blob"))
    });
    let client = Client::new(&registry.reference("app"), &options()).unwrap();
    let mut out = Vec::new();
    let mut reader = client.blob(&digest, Some(data.len() as u64)).unwrap();
    reader.read_to_end(&mut out).unwrap();
    assert!(out == data);
    assert_eq!(reader.resumes(), 1);
    // The resume went back to the registry (for a fresh redirect), and the
    // Range header followed the redirect to the storage host.
    let at_registry: Vec<_> = registry
        .requests()
        .iter()
        .map(|r| r.header("range").map(str::to_string))
        .collect();
    assert_eq!(at_registry, vec![None, Some("bytes=25000-".to_string())]);
    assert_eq!(storage.requests().len(), 2);
}

/// A registry that has the OCI 1.1 referrers API (as the distribution specification
/// describes it: `OCI-Subject` on a manifest PUT with a subject, `GET /referrers/<digest>`
/// answering an index): blobs and manifests kept in memory.
fn referrers_registry() -> Server {
    let blobs: Arc<Mutex<HashMap<String, Vec<u8>>>> = Arc::default();
    // Reference (digest or tag) → (media type, bytes).
    type Manifests = Mutex<HashMap<String, (String, Vec<u8>)>>;
    let manifests: Arc<Manifests> = Arc::default();
    Server::start(move |r| {
        let sha = |b: &[u8]| digest_of(Algorithm::Sha256, b);
        let path = r.path.strip_prefix("/v2/app/").unwrap_or("");
        match (r.method.as_str(), path.split_once('/')) {
            ("HEAD", Some(("blobs", d))) => Resp::new(if blobs.lock().unwrap().contains_key(d) {
                200
            } else {
                404
            }),
            ("POST", Some(("blobs", "uploads/"))) => {
                Resp::new(202).header("Location", "/v2/app/blobs/uploads/u1")
            }
            ("PUT", Some(("blobs", "uploads/u1"))) => {
                let want = query_pairs(&r.query)
                    .into_iter()
                    .find(|(k, _)| k == "digest")
                    .map(|(_, v)| v)
                    .unwrap_or_default();
                if sha(&r.body) != want {
                    return Resp::new(400).body(r#"{"errors":[{"code":"DIGEST_INVALID"}]}"#);
                }
                blobs.lock().unwrap().insert(want, r.body.clone());
                Resp::new(201)
            }
            ("PUT", Some(("manifests", reference))) => {
                let digest = sha(&r.body);
                let mt = r.header("content-type").unwrap_or("").to_string();
                let m: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
                let mut store = manifests.lock().unwrap();
                store.insert(digest.clone(), (mt.clone(), r.body.clone()));
                store.insert(reference.to_string(), (mt, r.body.clone()));
                let mut resp = Resp::new(201).header("Docker-Content-Digest", digest);
                if let Some(s) = m["subject"]["digest"].as_str() {
                    resp = resp.header("OCI-Subject", s);
                }
                resp
            }
            ("GET", Some(("manifests", reference))) => {
                match manifests.lock().unwrap().get(reference) {
                    Some((mt, body)) => Resp::new(200)
                        .header("Content-Type", mt.as_str())
                        .header("Docker-Content-Digest", sha(body))
                        .body(body.clone()),
                    None => Resp::new(404).body(r#"{"errors":[{"code":"MANIFEST_UNKNOWN"}]}"#),
                }
            }
            ("GET", Some(("referrers", subject))) => {
                let store = manifests.lock().unwrap();
                let mut list: Vec<serde_json::Value> = store
                    .iter()
                    .filter(|(k, _)| k.starts_with("sha256:"))
                    .filter_map(|(k, (mt, body))| {
                        let m: serde_json::Value = serde_json::from_slice(body).ok()?;
                        (m["subject"]["digest"] == subject).then(|| {
                            serde_json::json!({"mediaType": mt, "digest": k, "size": body.len(),
                                "artifactType": m["artifactType"]})
                        })
                    })
                    .collect();
                list.sort_by_key(|d| d["digest"].as_str().unwrap().to_string());
                Resp::new(200)
                    .header("Content-Type", "application/vnd.oci.image.index.v1+json")
                    .body(
                        serde_json::to_vec(&serde_json::json!({
                            "schemaVersion": 2,
                            "mediaType": "application/vnd.oci.image.index.v1+json",
                            "manifests": list
                        }))
                        .unwrap(),
                    )
            }
            _ => Resp::new(404),
        }
    })
}

#[test]
fn a_referrer_goes_through_the_referrers_api_when_the_registry_has_it() {
    let server = referrers_registry();
    let r = Reference::parse(&format!("{}/app:1", server.addr)).unwrap();
    let client = Client::new(&r, &options()).unwrap();
    let subject_body = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#;
    let subject = client
        .put_manifest(
            "1",
            "application/vnd.oci.image.manifest.v1+json",
            subject_body,
        )
        .unwrap();
    assert_eq!(subject.subject_indexed, None);
    assert_eq!(
        client.referrers(&subject.digest).unwrap(),
        cairn_registry::Referrers {
            via: cairn_registry::ReferrersVia::Api,
            descriptors: vec![]
        }
    );
    let empty = client.push_blob(b"{}").unwrap();
    assert_eq!(
        client.push_blob(b"{}").unwrap(),
        empty,
        "a blob it has is not uploaded again"
    );
    let doc = client.push_blob(b"{\"bomFormat\":\"CycloneDX\"}").unwrap();
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": "application/vnd.cyclonedx+json",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty, "size": 2},
        "layers": [{"mediaType": "application/vnd.cyclonedx+json", "digest": doc, "size": 24}],
        "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": subject.digest, "size": subject_body.len()},
    }))
    .unwrap();
    let mut desc =
        cairn_registry::Descriptor::of("application/vnd.oci.image.manifest.v1+json", &manifest);
    desc.artifact_type = Some("application/vnd.cyclonedx+json".into());
    let via = client.attach(&subject.digest, &manifest, &desc).unwrap();
    assert_eq!(via, cairn_registry::ReferrersVia::Api);
    let listed = client.referrers(&subject.digest).unwrap();
    assert_eq!(listed.via, cairn_registry::ReferrersVia::Api);
    assert_eq!(listed.descriptors.len(), 1);
    assert_eq!(listed.descriptors[0].digest, desc.digest);
    assert_eq!(
        listed.descriptors[0].artifact_type.as_deref(),
        Some("application/vnd.cyclonedx+json")
    );
    // The registry indexed it: the fallback tag was never written.
    let tag = cairn_registry::fallback_tag(&subject.digest).unwrap();
    assert!(
        !server
            .requests()
            .iter()
            .any(|r| r.method == "PUT" && r.path.ends_with(&tag)),
        "the sha256-<hex> tag was written though the registry has the API"
    );
    assert_eq!(tag.len(), 71);
    assert!(client.requests().pushes >= 6);
}
