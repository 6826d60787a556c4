//! The registry client: one per registry and repository, shared between
//! threads. Every request goes through [`Inner::execute`], which handles the
//! 401 challenge flow, rate limits and transient failures in one place.

use std::fmt;
use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use base64::Engine as _;
use reqwest::blocking::{Client as Http, RequestBuilder, Response};
use reqwest::header::{
    HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_RANGE, CONTENT_TYPE, RANGE, RETRY_AFTER,
    WWW_AUTHENTICATE,
};
use reqwest::StatusCode;
use serde::Deserialize;

use crate::challenge::{parse_challenges, Challenge};
use crate::credentials::{Credentials, Lookup, Secret};
use crate::digest::{parse_digest, verify};
use crate::error::{Error, Result};
use crate::reference::{is_valid_tag, Reference};
use crate::resume::{Resuming, Source};

/// The manifest media types asked for, in the `Accept` header.
pub const MANIFEST_MEDIA_TYPES: [&str; 4] = [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

/// The largest token-server response read.
const TOKEN_MAX: u64 = 1 << 20;
/// The largest error body read (for its message).
const ERROR_BODY_MAX: u64 = 64 << 10;
/// The longest `Retry-After` slept through once before giving up.
const RATE_LIMIT_WAIT_MAX: Duration = Duration::from_secs(10);

/// How the client connects and authenticates.
#[derive(Debug, Clone)]
pub struct Options {
    /// Plain HTTP for this registry. Only when asked: there is never a
    /// silent fallback from HTTPS.
    pub insecure: bool,
    /// Extra PEM root certificates (bundles allowed), trusted on top of the
    /// system roots.
    pub ca_files: Vec<PathBuf>,
    /// From `--username`/`--password-stdin`; wins over the docker config.
    pub credentials: Option<Credentials>,
    /// The docker `config.json` to read; `None` = `$DOCKER_CONFIG/config.json`,
    /// else `~/.docker/config.json`. A missing file means anonymous access.
    pub docker_config: Option<PathBuf>,
    /// A directory searched for `docker-credential-*` helpers before `PATH`
    /// (`None`: `PATH` only).
    pub helper_dir: Option<PathBuf>,
    /// Time to establish a connection. Default 30 s.
    pub connect_timeout: Duration,
    /// Idle timeout: for the response headers, and for each read of a body.
    /// Default 60 s.
    pub read_timeout: Duration,
    /// Resumes of a broken blob stream, and retries of transient failures
    /// (connection reset, 502/503/504) per request. Default 5.
    pub retries: u32,
    /// The `User-Agent` header.
    pub user_agent: String,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            insecure: false,
            ca_files: Vec::new(),
            credentials: None,
            docker_config: None,
            helper_dir: None,
            connect_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(60),
            retries: 5,
            user_agent: concat!("cairn-registry/", env!("CARGO_PKG_VERSION")).to_string(),
        }
    }
}

/// HTTP requests made so far by a [`Client`] (and its clones), by kind.
/// Every request counts, including one answered by a 401 challenge.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Requests {
    /// Requests to the manifest endpoint.
    pub manifests: u64,
    /// Requests to the blob endpoint that start a blob (not resumes).
    pub blobs: u64,
    /// Requests to the token server.
    pub tokens: u64,
    /// `Range` requests that resume a broken blob stream.
    pub resumes: u64,
    /// Requests that write (blob uploads, manifest `PUT`s) or list referrers.
    pub pushes: u64,
}

/// A fetched manifest (or index).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The bytes as served: digests are computed over exactly these.
    pub bytes: Vec<u8>,
    /// The `Content-Type` media type, parameters dropped.
    pub media_type: Option<String>,
    /// The `Docker-Content-Digest` header, as sent (not verified when the
    /// manifest was fetched by tag).
    pub digest: Option<String>,
}

/// A client for one repository of one registry. `Send + Sync`; clones share
/// the connection pool, the cached token and the request counters.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.inner.base)
            .field("repository", &self.inner.repository)
            .finish_non_exhaustive()
    }
}

pub(crate) struct Inner {
    http: Http,
    /// `https://host[:port]` (or `http://` when insecure).
    pub(crate) base: String,
    /// The registry as the reference names it (`docker.io`): for messages
    /// and the credential lookup.
    pub(crate) registry: String,
    pub(crate) repository: String,
    insecure: bool,
    retries: u32,
    explicit: Option<Credentials>,
    lookup: Lookup,
    auth: Mutex<AuthState>,
    counts: [AtomicU64; 5],
}

#[derive(Default)]
struct AuthState {
    /// Bumped each time `header` changes, so that concurrent requests that
    /// all got a 401 fetch one new token, not one each.
    generation: u64,
    header: Option<HeaderValue>,
    /// The looked-up credentials, once looked up (on the first challenge).
    secret: Option<Option<Secret>>,
}

#[derive(Clone, Copy)]
pub(crate) enum Kind {
    Manifest = 0,
    Blob = 1,
    Token = 2,
    Resume = 3,
    Push = 4,
}

#[derive(Clone, Copy)]
pub(crate) enum Target<'a> {
    Manifest(&'a str),
    Blob(&'a str),
}

impl Client {
    /// A client for `reference`'s registry and repository (its tag and
    /// digest are not used). Reads the `ca_files`; credentials are looked up
    /// only when the registry first asks for them.
    pub fn new(reference: &Reference, options: &Options) -> Result<Client> {
        let mut certs = Vec::new();
        for path in &options.ca_files {
            let ca_err = |detail: String| Error::CaFile {
                path: path.display().to_string(),
                detail,
            };
            let mut pem = Vec::new();
            std::fs::File::open(path)
                .and_then(|f| f.take(16 << 20).read_to_end(&mut pem))
                .map_err(|e| ca_err(e.to_string()))?;
            let found = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| ca_err(format!("invalid PEM: {}", chain(&e))))?;
            if found.is_empty() {
                return Err(ca_err("holds no PEM certificate".into()));
            }
            certs.extend(found);
        }
        let mut builder = Http::builder()
            .user_agent(options.user_agent.as_str())
            .connect_timeout(options.connect_timeout)
            .timeout(options.read_timeout)
            .redirect(reqwest::redirect::Policy::limited(10))
            .https_only(!options.insecure);
        if !certs.is_empty() {
            builder = builder.tls_certs_merge(certs);
        }
        let http = builder.build().map_err(|e| Error::Setup(chain(&e)))?;
        let scheme = if options.insecure { "http" } else { "https" };
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base: format!("{scheme}://{}", reference.api_host()),
                registry: reference.registry.clone(),
                repository: reference.repository.clone(),
                insecure: options.insecure,
                retries: options.retries,
                explicit: options.credentials.clone(),
                lookup: Lookup {
                    config: options.docker_config.clone(),
                    helper_dir: options.helper_dir.clone(),
                },
                auth: Mutex::default(),
                counts: Default::default(),
            }),
        })
    }

    /// The registry (as the reference names it) this client talks to.
    pub fn registry(&self) -> &str {
        &self.inner.registry
    }

    /// The repository this client reads.
    pub fn repository(&self) -> &str {
        &self.inner.repository
    }

    /// `GET /v2/<repo>/manifests/<tag-or-digest>`, accepting OCI manifests
    /// and indexes and Docker schema 2 manifests and manifest lists
    /// ([`MANIFEST_MEDIA_TYPES`]). The body is refused past `limit` bytes
    /// (counted while reading). When `reference` is a digest, the bytes must
    /// hash to it.
    pub fn manifest(&self, reference: &str, limit: u64) -> Result<Manifest> {
        let inner = &*self.inner;
        let by_digest = reference.contains(':');
        if by_digest {
            parse_digest(reference)?;
        } else if !is_valid_tag(reference) {
            return Err(Error::InvalidReference {
                input: reference.chars().take(200).collect(),
                reason: "not a tag or a digest".into(),
            });
        }
        let target = Target::Manifest(reference);
        let url = format!(
            "{}/v2/{}/manifests/{reference}",
            inner.base, inner.repository
        );
        let what = format!("manifest {}", inner.describe(target));
        let accept = MANIFEST_MEDIA_TYPES.join(", ");
        let mut attempt = 0;
        loop {
            let resp = inner.execute(Kind::Manifest, target, &|http| {
                http.get(&url).header(ACCEPT, accept.as_str())
            })?;
            if resp.status() != StatusCode::OK {
                return Err(inner.status_error(resp, target));
            }
            let media_type = header_str(resp.headers(), CONTENT_TYPE.as_str())
                .and_then(|v| v.split(';').next())
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty());
            let digest = header_str(resp.headers(), "docker-content-digest")
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty());
            match inner.read_limited(resp, limit, &what) {
                Ok(bytes) => {
                    if by_digest {
                        verify(reference, &bytes, &what)?;
                    }
                    return Ok(Manifest {
                        bytes,
                        media_type,
                        digest,
                    });
                }
                Err(e) if e.is_transient() && attempt < inner.retries => {
                    attempt += 1;
                    backoff(attempt);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// `GET` a small blob (a config) whole: refused past `limit` bytes,
    /// verified against `digest`.
    pub fn blob_bytes(&self, digest: &str, limit: u64) -> Result<Vec<u8>> {
        let inner = &*self.inner;
        parse_digest(digest)?;
        let target = Target::Blob(digest);
        let url = inner.blob_url(digest);
        let what = format!("blob {}", inner.describe(target));
        let mut attempt = 0;
        loop {
            let resp = inner.execute(Kind::Blob, target, &|http| http.get(&url))?;
            if resp.status() != StatusCode::OK {
                return Err(inner.status_error(resp, target));
            }
            match inner.read_limited(resp, limit, &what) {
                Ok(bytes) => {
                    verify(digest, &bytes, &what)?;
                    return Ok(bytes);
                }
                Err(e) if e.is_transient() && attempt < inner.retries => {
                    attempt += 1;
                    backoff(attempt);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Opens a blob as a stream. Redirects (to blob storage) are followed;
    /// the `Authorization` header is not sent to another host. When the
    /// connection breaks (a read error, or EOF before `size`), the stream is
    /// reopened with `Range: bytes=N-` and continues, up to
    /// [`Options::retries`] times; a 206 must start at N, a 200 (Range
    /// ignored) has its first N bytes skipped. No byte past `size` is handed
    /// out. The caller verifies the digest of the whole stream.
    ///
    /// Errors while opening are returned here; errors while reading are
    /// `io::Error`s whose [`get_ref`](io::Error::get_ref) downcasts to
    /// [`Error`].
    pub fn blob(&self, digest: &str, size: Option<u64>) -> Result<BlobReader> {
        parse_digest(digest)?;
        let mut source = HttpSource {
            client: self.clone(),
            digest: digest.to_string(),
            size,
            opened: false,
        };
        let first = source.open(0)?;
        Ok(BlobReader {
            inner: Resuming::new(source, size, first, self.inner.retries),
        })
    }

    /// HTTP requests made so far by this client and its clones.
    pub fn requests(&self) -> Requests {
        let c = |k: Kind| self.inner.counts[k as usize].load(Ordering::Relaxed);
        Requests {
            manifests: c(Kind::Manifest),
            blobs: c(Kind::Blob),
            tokens: c(Kind::Token),
            resumes: c(Kind::Resume),
            pushes: c(Kind::Push),
        }
    }
}

/// A blob being streamed; see [`Client::blob`].
pub struct BlobReader {
    inner: Resuming<HttpSource>,
}

impl BlobReader {
    /// Bytes read so far.
    pub fn position(&self) -> u64 {
        self.inner.position()
    }

    /// How many times the stream was resumed.
    pub fn resumes(&self) -> u32 {
        self.inner.resumes()
    }
}

impl fmt::Debug for BlobReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlobReader")
            .field("position", &self.position())
            .field("resumes", &self.resumes())
            .finish_non_exhaustive()
    }
}

impl Read for BlobReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

struct HttpSource {
    client: Client,
    digest: String,
    size: Option<u64>,
    opened: bool,
}

impl Source for HttpSource {
    fn open(&mut self, pos: u64) -> Result<Box<dyn Read + Send>> {
        let inner = &*self.client.inner;
        let kind = if self.opened {
            Kind::Resume
        } else {
            Kind::Blob
        };
        self.opened = true;
        let target = Target::Blob(&self.digest);
        let url = inner.blob_url(&self.digest);
        let protocol = |detail: String| Error::Protocol {
            registry: inner.registry.clone(),
            detail: format!("blob {}: {detail}", inner.describe(target)),
        };
        let resp = inner.execute(kind, target, &|http| {
            let req = http.get(&url);
            if pos > 0 {
                req.header(RANGE, format!("bytes={pos}-"))
            } else {
                req
            }
        })?;
        match resp.status().as_u16() {
            200 => {
                if let (Some(size), Some(len)) = (self.size, resp.content_length()) {
                    if len != size {
                        return Err(protocol(format!(
                            "the registry sends {len} bytes, the descriptor says {size}"
                        )));
                    }
                }
                let mut body = resp;
                if pos > 0 {
                    // The server ignored Range: skip what was already read.
                    let skipped = io::copy(&mut (&mut body).take(pos), &mut io::sink())
                        .map_err(|e| inner.io_error(e, &format!("blob {}", self.digest)))?;
                    if skipped < pos {
                        return Err(Error::Transport {
                            host: inner.host(),
                            detail: format!(
                                "blob {}: the body ended at byte {skipped} while skipping to byte {pos}",
                                self.digest
                            ),
                        });
                    }
                }
                Ok(Box::new(body))
            }
            206 if pos > 0 => {
                let range = header_str(resp.headers(), CONTENT_RANGE.as_str()).unwrap_or("");
                let Some((start, total)) = parse_content_range(range) else {
                    return Err(protocol(format!(
                        "206 with an invalid Content-Range {range:?}"
                    )));
                };
                if start != pos {
                    return Err(protocol(format!(
                        "asked for bytes from {pos}, got Content-Range {range:?}"
                    )));
                }
                if let (Some(size), Some(total)) = (self.size, total) {
                    if size != total {
                        return Err(protocol(format!(
                            "Content-Range {range:?} says the blob has {total} bytes, the descriptor says {size}"
                        )));
                    }
                }
                Ok(Box::new(resp))
            }
            s if (200..300).contains(&s) => Err(protocol(format!("unexpected HTTP {s}"))),
            _ => Err(inner.status_error(resp, target)),
        }
    }

    fn describe(&self) -> (String, String) {
        let inner = &*self.client.inner;
        (
            format!("blob {}", inner.describe(Target::Blob(&self.digest))),
            inner.host(),
        )
    }
}

/// `bytes START-END/TOTAL` (TOTAL may be `*`): `(START, TOTAL)`.
fn parse_content_range(v: &str) -> Option<(u64, Option<u64>)> {
    let rest = v.trim().strip_prefix("bytes")?.trim_start();
    let (range, total) = rest.split_once('/')?;
    let (start, end) = range.split_once('-')?;
    let start: u64 = start.trim().parse().ok()?;
    let end: u64 = end.trim().parse().ok()?;
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse::<u64>().ok()?),
    };
    if end < start || total.is_some_and(|t| end >= t) {
        return None;
    }
    Some((start, total))
}

pub(crate) fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// A pause before the n-th retry: 100 ms doubling, at most 2 s.
pub(crate) fn backoff(attempt: u32) {
    let ms = 100u64.saturating_mul(1 << attempt.saturating_sub(1).min(5));
    std::thread::sleep(Duration::from_millis(ms.min(2000)));
}

/// The messages of an error and its sources, joined.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let m = s.to_string();
        if !out.contains(&m) {
            out.push_str(": ");
            out.push_str(&m);
        }
        source = s.source();
    }
    out
}

fn is_rate_limited(status: StatusCode, headers: &HeaderMap) -> bool {
    if status == StatusCode::TOO_MANY_REQUESTS {
        return true;
    }
    if !(status.is_client_error() || status.is_server_error())
        || matches!(status.as_u16(), 401 | 404)
    {
        return false;
    }
    let remaining_zero = ["ratelimit-remaining", "x-ratelimit-remaining"]
        .iter()
        .filter_map(|h| header_str(headers, h))
        .any(|v| v.split(';').next().map(str::trim) == Some("0"));
    remaining_zero
        || (status == StatusCode::SERVICE_UNAVAILABLE
            && headers.keys().any(|k| {
                let k = k.as_str();
                k.starts_with("ratelimit-") || k.starts_with("x-ratelimit-")
            }))
}

/// The distribution error body: `{"errors":[{"code","message","detail"}]}`.
#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    errors: Vec<ErrorEntry>,
}

#[derive(Deserialize)]
struct ErrorEntry {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

/// What an error response said: its codes, and a one-line message.
struct Said {
    codes: Vec<String>,
    message: String,
}

fn read_error_body(resp: Response) -> Said {
    let mut body = Vec::new();
    let _ = resp.take(ERROR_BODY_MAX).read_to_end(&mut body);
    if let Ok(parsed) = serde_json::from_slice::<ErrorBody>(&body) {
        if !parsed.errors.is_empty() {
            let message = parsed
                .errors
                .iter()
                .map(|e| match (e.code.is_empty(), e.message.is_empty()) {
                    (_, false) => e.message.clone(),
                    (false, true) => e.code.clone(),
                    (true, true) => String::new(),
                })
                .filter(|m| !m.is_empty())
                .collect::<Vec<_>>()
                .join("; ");
            return Said {
                codes: parsed.errors.into_iter().map(|e| e.code).collect(),
                message: one_line(&message),
            };
        }
    }
    let text = String::from_utf8_lossy(&body);
    let text = text.trim();
    let looks_textual = !text.is_empty() && !text.starts_with('<') && !text.contains('\0');
    Said {
        codes: Vec::new(),
        message: if looks_textual {
            one_line(text)
        } else {
            String::new()
        },
    }
}

/// At most 300 characters, control characters replaced by spaces.
fn one_line(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(300)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if s.chars().count() > 300 {
        out.push('…');
    }
    out
}

/// `application/x-www-form-urlencoded`.
fn form_encode(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        let mut out = String::new();
        for b in s.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    out.push(char::from(b))
                }
                _ => out.push_str(&format!("%{b:02X}")),
            }
        }
        out
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[derive(Deserialize)]
struct TokenResponse {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
}

impl Inner {
    pub(crate) fn host(&self) -> String {
        self.base
            .split_once("://")
            .map_or(self.base.as_str(), |(_, h)| h)
            .to_string()
    }

    pub(crate) fn blob_url(&self, digest: &str) -> String {
        format!("{}/v2/{}/blobs/{digest}", self.base, self.repository)
    }

    pub(crate) fn describe(&self, target: Target) -> String {
        match target {
            Target::Manifest(r) if r.contains(':') => {
                format!("{}/{}@{r}", self.registry, self.repository)
            }
            Target::Manifest(r) => format!("{}/{}:{r}", self.registry, self.repository),
            Target::Blob(d) => format!("{}/{}@{d}", self.registry, self.repository),
        }
    }

    fn count(&self, kind: Kind) {
        self.counts[kind as usize].fetch_add(1, Ordering::Relaxed);
    }

    fn auth_state(&self) -> MutexGuard<'_, AuthState> {
        self.auth.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn had_credentials(&self) -> bool {
        matches!(self.auth_state().secret, Some(Some(_)))
    }

    fn unauthorized(&self, had_credentials: bool, detail: String) -> Error {
        let hint = if had_credentials {
            "check the username and password (or the docker login)".to_string()
        } else {
            format!(
                "pass --username and --password-stdin, or run `docker login {}`",
                self.registry
            )
        };
        Error::Unauthorized {
            registry: self.registry.clone(),
            repository: self.repository.clone(),
            had_credentials,
            hint,
            detail,
        }
    }

    fn rate_limited(&self, resp: Response) -> Error {
        let retry_after = header_str(resp.headers(), RETRY_AFTER.as_str()).map(one_line);
        let mut detail = read_error_body(resp).message;
        if detail.is_empty() {
            detail = "HTTP 429".into();
        }
        Error::RateLimited {
            registry: self.registry.clone(),
            retry_after,
            detail,
        }
    }

    /// Sends the request `make` builds, with the current authorization,
    /// handling 401 (challenge, then one retry), rate limits (one short
    /// wait at most) and transient failures (bounded retries). Returns any
    /// other response, success or not, for the caller to interpret.
    pub(crate) fn execute(
        &self,
        kind: Kind,
        target: Target,
        make: &dyn Fn(&Http) -> RequestBuilder,
    ) -> Result<Response> {
        let mut authenticated = false;
        let mut waited = false;
        let mut transient = 0;
        for _ in 0..16 {
            let (generation, header) = {
                let state = self.auth_state();
                (state.generation, state.header.clone())
            };
            let mut req = make(&self.http);
            if let Some(header) = header {
                req = req.header(AUTHORIZATION, header);
            }
            self.count(kind);
            let resp = match req.send() {
                Ok(resp) => resp,
                Err(e) => {
                    let err = self.transport_error(&e);
                    if matches!(err, Error::Transport { .. }) && transient < self.retries {
                        transient += 1;
                        backoff(transient);
                        continue;
                    }
                    return Err(err);
                }
            };
            let status = resp.status();
            if status == StatusCode::UNAUTHORIZED {
                if authenticated {
                    let detail = read_error_body(resp).message;
                    return Err(self.unauthorized(self.had_credentials(), detail));
                }
                authenticated = true;
                self.authenticate(generation, resp)?;
                continue;
            }
            if is_rate_limited(status, resp.headers()) {
                let wait = header_str(resp.headers(), RETRY_AFTER.as_str())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs)
                    .filter(|d| *d <= RATE_LIMIT_WAIT_MAX);
                match wait {
                    Some(wait) if !waited => {
                        waited = true;
                        std::thread::sleep(wait);
                        continue;
                    }
                    _ => return Err(self.rate_limited(resp)),
                }
            }
            if matches!(status.as_u16(), 502..=504) && transient < self.retries {
                transient += 1;
                backoff(transient);
                continue;
            }
            return Ok(resp);
        }
        Err(Error::Protocol {
            registry: self.registry.clone(),
            detail: format!("{}: too many attempts", self.describe(target)),
        })
    }

    /// Answers a 401: picks the Bearer (else Basic) challenge and sets the
    /// authorization for the next request, unless another request already
    /// did since `generation`.
    fn authenticate(&self, generation: u64, resp: Response) -> Result<()> {
        let challenges = parse_challenges(
            resp.headers()
                .get_all(WWW_AUTHENTICATE)
                .iter()
                .filter_map(|v| v.to_str().ok()),
        );
        let mut state = self.auth_state();
        if state.generation != generation {
            return Ok(());
        }
        let secret = match &state.secret {
            Some(secret) => secret.clone(),
            None => {
                let secret = match &self.explicit {
                    Some(c) => Some(Secret::Basic(c.clone())),
                    None => self.lookup.find(&self.registry)?,
                };
                state.secret = Some(secret.clone());
                secret
            }
        };
        let bearer = challenges.iter().find(|c| c.scheme == "bearer");
        let basic = challenges.iter().any(|c| c.scheme == "basic");
        let header = if let Some(challenge) = bearer {
            drop(resp);
            self.fetch_token(challenge, secret.as_ref())?
        } else if basic {
            match &secret {
                Some(Secret::Basic(c)) => basic_header(c)?,
                Some(Secret::IdentityToken(_)) => {
                    return Err(self.unauthorized(
                        false,
                        "the registry asks for Basic authentication and the docker config holds only an identity token".into(),
                    ))
                }
                None => return Err(self.unauthorized(false, read_error_body(resp).message)),
            }
        } else {
            let said = read_error_body(resp).message;
            let detail = if said.is_empty() {
                "401 without a Bearer or Basic challenge".to_string()
            } else {
                format!("401 without a Bearer or Basic challenge: {said}")
            };
            return Err(self.unauthorized(secret.is_some(), detail));
        };
        state.generation += 1;
        state.header = Some(header);
        Ok(())
    }

    /// The token flow of the distribution spec: GET realm?service&scope (with
    /// Basic credentials if any), or the OAuth2 refresh-token POST for an
    /// identity token. Returns the `Authorization: Bearer` value.
    fn fetch_token(&self, challenge: &Challenge, secret: Option<&Secret>) -> Result<HeaderValue> {
        let realm = challenge
            .param("realm")
            .filter(|r| !r.is_empty())
            .ok_or_else(|| Error::Protocol {
                registry: self.registry.clone(),
                detail: "Bearer challenge without a realm".into(),
            })?;
        let token_err = |detail: String| Error::Token {
            realm: one_line(realm),
            detail,
        };
        let mut url =
            reqwest::Url::parse(realm).map_err(|e| token_err(format!("invalid realm URL: {e}")))?;
        match url.scheme() {
            "https" => {}
            "http" if self.insecure => {}
            "http" => {
                return Err(token_err(
                    "the token realm is plain HTTP: refusing it for an HTTPS registry".into(),
                ))
            }
            other => return Err(token_err(format!("unsupported realm scheme {other:?}"))),
        }
        let service = challenge.param("service").filter(|s| !s.is_empty());
        let default_scope = format!("repository:{}:pull", self.repository);
        let scopes: Vec<&str> = match challenge.param("scope").filter(|s| !s.trim().is_empty()) {
            Some(s) => s.split(' ').filter(|s| !s.is_empty()).collect(),
            None => vec![default_scope.as_str()],
        };
        self.count(Kind::Token);
        let oauth = matches!(secret, Some(Secret::IdentityToken(_)));
        let sent = match secret {
            Some(Secret::IdentityToken(refresh)) => {
                let scope = scopes.join(" ");
                let mut form = vec![("grant_type", "refresh_token")];
                if let Some(service) = service {
                    form.push(("service", service));
                }
                form.push(("scope", &scope));
                form.push(("client_id", "cairn"));
                form.push(("refresh_token", refresh));
                self.http
                    .post(url)
                    .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(form_encode(&form))
                    .send()
            }
            other => {
                {
                    let mut query = url.query_pairs_mut();
                    if let Some(service) = service {
                        query.append_pair("service", service);
                    }
                    for scope in &scopes {
                        query.append_pair("scope", scope);
                    }
                }
                let mut req = self.http.get(url);
                if let Some(Secret::Basic(c)) = other {
                    req = req.basic_auth(&c.username, Some(&c.password));
                }
                req.send()
            }
        };
        let resp = sent.map_err(|e| {
            let e = self.transport_error(&e);
            if oauth {
                token_err(format!("the OAuth2 refresh-token POST failed: {e}"))
            } else {
                e
            }
        })?;
        let status = resp.status();
        if !status.is_success() {
            if is_rate_limited(status, resp.headers()) {
                return Err(self.rate_limited(resp));
            }
            let said = read_error_body(resp).message;
            let said = if said.is_empty() {
                String::new()
            } else {
                format!(": {said}")
            };
            if matches!(status.as_u16(), 401 | 403) {
                return Err(self.unauthorized(
                    secret.is_some(),
                    format!("the token server answered HTTP {}{said}", status.as_u16()),
                ));
            }
            return Err(token_err(if oauth {
                format!(
                    "the OAuth2 refresh-token POST answered HTTP {}{said} (the registry may not take identity tokens: try --username and --password-stdin)",
                    status.as_u16()
                )
            } else {
                format!("HTTP {}{said}", status.as_u16())
            }));
        }
        let body = self.read_limited(resp, TOKEN_MAX, "token response")?;
        let parsed: TokenResponse = serde_json::from_slice(&body)
            .map_err(|e| token_err(format!("the response is not token JSON: {e}")))?;
        let token = parsed
            .token
            .filter(|t| !t.is_empty())
            .or(parsed.access_token.filter(|t| !t.is_empty()))
            .ok_or_else(|| token_err("the response holds no token".into()))?;
        let mut header = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| token_err("the token is not a valid header value".into()))?;
        header.set_sensitive(true);
        Ok(header)
    }

    /// Reads a body whole, refusing it past `limit` bytes.
    pub(crate) fn read_limited(&self, resp: Response, limit: u64, what: &str) -> Result<Vec<u8>> {
        let too_large = || Error::TooLarge {
            what: what.to_string(),
            limit,
        };
        if resp.content_length().is_some_and(|len| len > limit) {
            return Err(too_large());
        }
        let mut out = Vec::new();
        resp.take(limit.saturating_add(1))
            .read_to_end(&mut out)
            .map_err(|e| self.io_error(e, what))?;
        if out.len() as u64 > limit {
            return Err(too_large());
        }
        Ok(out)
    }

    pub(crate) fn io_error(&self, e: io::Error, what: &str) -> Error {
        let host = self.host();
        if e.kind() == io::ErrorKind::TimedOut {
            return Error::Timeout {
                host,
                during: format!("reading {what}"),
            };
        }
        Error::Transport {
            host,
            detail: format!("reading {what}: {}", chain(&e)),
        }
    }

    /// Classifies a reqwest failure: TLS (with the plain-HTTP hint), timeout,
    /// connection, or other transport error.
    fn transport_error(&self, e: &reqwest::Error) -> Error {
        let host = e
            .url()
            .and_then(|u| {
                u.host_str().map(|h| match u.port() {
                    Some(p) => format!("{h}:{p}"),
                    None => h.to_string(),
                })
            })
            .unwrap_or_else(|| self.host());
        let detail = chain(e);
        let lower = detail.to_ascii_lowercase();
        if lower.contains("invalidcontenttype")
            || lower.contains("corrupt message")
            || lower.contains("wrong version number")
        {
            return Error::Tls {
                host,
                detail,
                plain_http: true,
            };
        }
        if e.is_timeout() {
            let during = if e.is_connect() {
                "connecting"
            } else {
                "waiting for the response"
            };
            return Error::Timeout {
                host,
                during: during.into(),
            };
        }
        if ["certificate", "tls", "handshake", "unknownissuer", "peer"]
            .iter()
            .any(|w| lower.contains(w))
        {
            return Error::Tls {
                host,
                detail,
                plain_http: false,
            };
        }
        if e.is_connect() {
            return Error::Connect { host, detail };
        }
        Error::Transport { host, detail }
    }

    /// The error for a non-success response the caller does not handle.
    pub(crate) fn status_error(&self, resp: Response, target: Target) -> Error {
        let status = resp.status().as_u16();
        let url = resp.url().to_string();
        let said = read_error_body(resp);
        let reference = self.describe(target);
        match status {
            404 => {
                let kind = match said.codes.first().map(String::as_str) {
                    Some("MANIFEST_UNKNOWN") => "manifest unknown",
                    Some("BLOB_UNKNOWN") => "blob unknown",
                    Some("NAME_UNKNOWN") => "repository unknown",
                    _ => match target {
                        Target::Manifest(_) => "manifest unknown",
                        Target::Blob(_) => "blob unknown",
                    },
                };
                let detail = if said.message.eq_ignore_ascii_case(kind) {
                    String::new()
                } else {
                    said.message
                };
                Error::NotFound {
                    kind: kind.into(),
                    reference,
                    detail,
                }
            }
            403 => Error::Denied {
                registry: self.registry.clone(),
                what: reference,
                detail: said.message,
            },
            _ => Error::Status {
                registry: self.registry.clone(),
                status,
                url,
                detail: said.message,
            },
        }
    }
}

fn basic_header(c: &Credentials) -> Result<HeaderValue> {
    let encoded =
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", c.username, c.password));
    let mut header = HeaderValue::from_str(&format!("Basic {encoded}"))
        .map_err(|_| Error::Setup("credentials do not fit in a header".into()))?;
    header.set_sensitive(true);
    Ok(header)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges() {
        assert_eq!(
            parse_content_range("bytes 100-199/200"),
            Some((100, Some(200)))
        );
        assert_eq!(parse_content_range("bytes 5-9/*"), Some((5, None)));
        assert_eq!(parse_content_range(" bytes  0-0/1 "), Some((0, Some(1))));
        for bad in [
            "",
            "bytes",
            "bytes 100-199",
            "bytes 200-100/300",
            "bytes 100-200/200",
            "items 0-1/2",
            "bytes a-b/c",
            "bytes -5/10",
        ] {
            assert_eq!(parse_content_range(bad), None, "{bad}");
        }
    }

    #[test]
    fn rate_limit_detection() {
        let mut h = HeaderMap::new();
        assert!(is_rate_limited(StatusCode::TOO_MANY_REQUESTS, &h));
        assert!(!is_rate_limited(StatusCode::SERVICE_UNAVAILABLE, &h));
        h.insert("ratelimit-limit", HeaderValue::from_static("100;w=21600"));
        assert!(is_rate_limited(StatusCode::SERVICE_UNAVAILABLE, &h));
        assert!(!is_rate_limited(StatusCode::OK, &h));
        let mut h = HeaderMap::new();
        h.insert("ratelimit-remaining", HeaderValue::from_static("0;w=21600"));
        assert!(is_rate_limited(StatusCode::FORBIDDEN, &h));
        assert!(!is_rate_limited(StatusCode::OK, &h));
        assert!(!is_rate_limited(StatusCode::NOT_FOUND, &h));
    }

    #[test]
    fn form_encoding() {
        assert_eq!(
            form_encode(&[
                ("a", "b c"),
                ("scope", "repository:x/y:pull"),
                ("t", "a+b=&")
            ]),
            "a=b%20c&scope=repository%3Ax%2Fy%3Apull&t=a%2Bb%3D%26"
        );
    }

    #[test]
    fn client_is_send_sync_and_reader_is_send() {
        fn send_sync<T: Send + Sync + 'static>() {}
        fn send<T: Send + 'static>() {}
        send_sync::<Client>();
        send::<BlobReader>();
    }
}
