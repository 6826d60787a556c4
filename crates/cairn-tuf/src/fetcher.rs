//! How the updater reaches a repository. The network is a trait so that tests
//! run against an in-memory repository ([`MemoryFetcher`]) and the binaries
//! use HTTPS ([`HttpFetcher`], with the roots and plain-HTTP policy of
//! [`TlsOptions`]). Every fetch carries a byte limit: a fetcher must stop
//! reading past it (endless data attack).
//!
//! Files that do not depend on each other (the bins a batch of targets falls
//! in, the targets themselves) are handed over as one batch
//! ([`Fetcher::fetch_batch`]); [`HttpFetcher`] fetches a batch on a bounded
//! number of kept-alive connections at once. Fetching is all a fetcher does:
//! the updater checks what arrives, one file after another, in a fixed order.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// Why a fetch failed.
#[derive(Debug)]
pub enum FetchError {
    /// HTTP 403 or 404: the file does not exist (ends the root version walk).
    NotFound(u16),
    /// Any other HTTP error status.
    Status(u16),
    /// The body is longer than the limit.
    TooLarge,
    /// Connection, TLS, write or other transport error.
    Other(String),
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FetchError::NotFound(s) => write!(f, "not found (HTTP {s})"),
            FetchError::Status(s) => write!(f, "HTTP status {s}"),
            FetchError::TooLarge => f.write_str("body longer than allowed"),
            FetchError::Other(e) => f.write_str(e),
        }
    }
}

/// Where a fetched file of a batch goes.
pub trait Body: Write + Send {
    /// Called on the fetching thread once the whole file has arrived within
    /// its limit: work that depends on the bytes alone (parsing) runs there,
    /// beside the other fetches of the batch.
    fn complete(&mut self) {}
}

impl Body for Vec<u8> {}

/// One file of a batch: where from, at most how many bytes, and where to.
pub struct Request<'a> {
    pub url: String,
    pub max_length: u64,
    pub out: &'a mut dyn Body,
}

/// [`Fetcher::fetch_to`] of one request, then [`Body::complete`] if it succeeded.
fn fetch_request<F: Fetcher + ?Sized>(f: &F, req: &mut Request<'_>) -> Result<u64, FetchError> {
    let n = f.fetch_to(&req.url, req.max_length, req.out)?;
    req.out.complete();
    Ok(n)
}

/// A source of repository files.
pub trait Fetcher: Sync {
    /// Fetches `url` into memory, failing with [`FetchError::TooLarge`] as
    /// soon as more than `max_length` bytes arrive.
    fn fetch(&self, url: &str, max_length: u64) -> Result<Vec<u8>, FetchError>;

    /// Streams `url` into `out` under the same limit; returns bytes written.
    fn fetch_to(&self, url: &str, max_length: u64, out: &mut dyn Write) -> Result<u64, FetchError> {
        let data = self.fetch(url, max_length)?;
        out.write_all(&data)
            .map_err(|e| FetchError::Other(e.to_string()))?;
        Ok(data.len() as u64)
    }

    /// Fetches every request of `batch` (each as [`Fetcher::fetch_to`] would),
    /// in any order or at once; returns one result per request, in order. The
    /// default fetches them one after another.
    fn fetch_batch(&self, batch: &mut [Request<'_>]) -> Vec<Result<u64, FetchError>> {
        batch.iter_mut().map(|r| fetch_request(self, r)).collect()
    }
}

/// How many requests [`HttpFetcher`] has in flight at once by default.
pub const DEFAULT_CONNECTIONS: usize = 8;
/// The most connections [`HttpFetcher::with_connections`] accepts.
pub const MAX_CONNECTIONS: usize = 64;

/// Time limits of [`HttpFetcher`]: the defence against slow retrieval, a
/// server (or man in the middle) that trickles bytes to stall updates.
#[derive(Debug, Clone, Copy)]
pub struct HttpTimeouts {
    /// To establish the connection.
    pub connect: Duration,
    /// From sending the request to the end of the response headers.
    pub response: Duration,
    /// For the whole body, however slowly it arrives.
    pub body: Duration,
}

impl Default for HttpTimeouts {
    fn default() -> Self {
        HttpTimeouts {
            connect: Duration::from_secs(30),
            response: Duration::from_secs(30),
            body: Duration::from_secs(300),
        }
    }
}

/// Where [`HttpFetcher`] gets the certificates it trusts, and whether it
/// speaks plain HTTP.
///
/// - With no `ca_file`, the system's roots: the PEM bundle and directory that
///   OpenSSL would use (on Debian `/etc/ssl/certs/ca-certificates.crt`;
///   `SSL_CERT_FILE` and `SSL_CERT_DIR` override them). Only if that store is
///   empty or unreadable does the fetcher fall back to the Mozilla roots
///   compiled into it (`webpki-roots`), so that a minimal container without
///   `ca-certificates` still reaches public repositories.
/// - With a `ca_file`, the certificates of that PEM file and nothing else: it
///   replaces the system roots (like `curl --cacert`), for a private
///   repository behind an organisation's CA.
/// - `http://` URLs are refused unless `allow_http` is set; that includes a
///   redirect from HTTPS to HTTP. TUF signatures are checked either way, but
///   plain HTTP lets anyone on the path withhold updates or watch what is
///   fetched.
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// A PEM bundle of CA certificates to trust instead of the system's roots.
    pub ca_file: Option<PathBuf>,
    /// Allow plain `http://` URLs.
    pub allow_http: bool,
}

/// Why [`TlsOptions`] could not be turned into a fetcher.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The CA file could not be read.
    #[error("reading CA file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The CA file holds no `BEGIN CERTIFICATE` block.
    #[error("CA file {} holds no certificate (expected PEM \"BEGIN CERTIFICATE\" blocks)", path.display())]
    NoCertificate { path: PathBuf },
    /// A certificate block of the CA file is not a usable trust anchor.
    #[error("CA file {}: {reason}", path.display())]
    Invalid { path: PathBuf, reason: String },
}

/// Reads the CA certificates of a PEM file: every `CERTIFICATE` block must be
/// a trust anchor rustls accepts, and there must be at least one.
fn read_ca_file(path: &Path) -> Result<Vec<ureq::tls::Certificate<'static>>, TlsError> {
    let pem = std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let invalid = |reason: String| TlsError::Invalid {
        path: path.to_path_buf(),
        reason,
    };
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        // Keys and other blocks do not belong in a CA bundle but do no harm.
        if let ureq::tls::PemItem::Certificate(c) = item.map_err(|e| invalid(e.to_string()))? {
            certs.push(c);
        }
    }
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            path: path.to_path_buf(),
        });
    }
    for (i, c) in certs.iter().enumerate() {
        rustls::RootCertStore::empty()
            .add(rustls::pki_types::CertificateDer::from(c.der()))
            .map_err(|e| invalid(format!("certificate {} is not a usable CA: {e}", i + 1)))?;
    }
    Ok(certs)
}

/// The system's roots (see [`TlsOptions`]), or the compiled-in Mozilla roots
/// when the system has none.
fn system_roots() -> ureq::tls::RootCerts {
    let found = rustls_native_certs::load_native_certs();
    let certs: Vec<_> = found
        .certs
        .iter()
        .map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned())
        .collect();
    if certs.is_empty() {
        ureq::tls::RootCerts::WebPki
    } else {
        ureq::tls::RootCerts::from(certs)
    }
}

/// HTTP(S) on a blocking `ureq` agent (rustls with aws-lc-rs), trusting the
/// roots [`TlsOptions`] describes.
pub struct HttpFetcher {
    agent: ureq::Agent,
    allow_http: bool,
    connections: usize,
}

impl HttpFetcher {
    /// A fetcher with [`HttpTimeouts::default`], the system's roots and no
    /// plain HTTP.
    pub fn new() -> Self {
        Self::with_timeouts(HttpTimeouts::default())
    }

    /// A fetcher whose requests give up after `timeouts` (slow retrieval),
    /// with the system's roots and no plain HTTP.
    pub fn with_timeouts(timeouts: HttpTimeouts) -> Self {
        Self::build(system_roots(), false, timeouts)
    }

    /// A fetcher with `tls`'s roots and scheme policy; fails when the CA file
    /// cannot be read or holds no usable certificate.
    pub fn with_options(tls: &TlsOptions, timeouts: HttpTimeouts) -> Result<Self, TlsError> {
        let roots = match &tls.ca_file {
            Some(path) => ureq::tls::RootCerts::from(read_ca_file(path)?),
            None => system_roots(),
        };
        Ok(Self::build(roots, tls.allow_http, timeouts))
    }

    /// The same fetcher with at most `n` requests of a batch in flight at
    /// once (clamped to 1..=[`MAX_CONNECTIONS`]), each on its own kept-alive
    /// connection; 1 fetches a batch one file after another.
    pub fn with_connections(mut self, n: usize) -> Self {
        self.connections = n.clamp(1, MAX_CONNECTIONS);
        self
    }

    fn build(roots: ureq::tls::RootCerts, allow_http: bool, timeouts: HttpTimeouts) -> Self {
        let tls = ureq::tls::TlsConfig::builder()
            .provider(ureq::tls::TlsProvider::Rustls)
            .unversioned_rustls_crypto_provider(Arc::new(
                rustls::crypto::aws_lc_rs::default_provider(),
            ))
            .root_certs(roots)
            .build();
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // Also refuses a redirect to http:// when plain HTTP is not allowed.
            .https_only(!allow_http)
            .timeout_connect(Some(timeouts.connect))
            .timeout_recv_response(Some(timeouts.response))
            .timeout_recv_body(Some(timeouts.body))
            .max_redirects(5)
            // Keep every connection of a batch alive for the next one.
            .max_idle_connections(MAX_CONNECTIONS)
            .max_idle_connections_per_host(MAX_CONNECTIONS)
            .user_agent(concat!("cairn-tuf/", env!("CARGO_PKG_VERSION")))
            .tls_config(tls)
            .build();
        HttpFetcher {
            agent: ureq::Agent::new_with_config(config),
            allow_http,
            connections: DEFAULT_CONNECTIONS,
        }
    }

    fn open(&self, url: &str) -> Result<ureq::http::Response<ureq::Body>, FetchError> {
        if !self.allow_http && is_plain_http(url) {
            return Err(FetchError::Other(plain_http_refused(url)));
        }
        let resp = self
            .agent
            .get(url)
            .call()
            .map_err(|e| FetchError::Other(transport_error(url, e)))?;
        match resp.status().as_u16() {
            200..=299 => Ok(resp),
            s @ (403 | 404) => Err(FetchError::NotFound(s)),
            s => Err(FetchError::Status(s)),
        }
    }
}

/// Whether `url` starts with `scheme` (`"http://"`), in any case.
fn has_scheme(url: &str, scheme: &str) -> bool {
    url.get(..scheme.len())
        .is_some_and(|s| s.eq_ignore_ascii_case(scheme))
}

fn is_plain_http(url: &str) -> bool {
    has_scheme(url, "http://")
}

fn plain_http_refused(url: &str) -> String {
    format!("plain HTTP refused for {url}: pass --allow-http to allow it")
}

/// ureq's error, with a redirect to plain HTTP said as such, and rustls's
/// terse "invalid peer certificate: UnknownIssuer" explained (its expired and
/// name-mismatch errors already say what is wrong).
fn transport_error(url: &str, e: ureq::Error) -> String {
    if let ureq::Error::RequireHttpsOnly(to) = &e {
        return format!("{} (redirected from {url})", plain_http_refused(to));
    }
    let text = e.to_string();
    if text.contains("UnknownIssuer") {
        format!("{text} (the server's certificate is not issued by a trusted CA; see --ca-file)")
    } else {
        text
    }
}

impl Default for HttpFetcher {
    fn default() -> Self {
        Self::new()
    }
}

/// Copies at most `max_length` bytes of `reader` to `out`; one byte more is an error.
fn copy_limited(
    reader: impl Read,
    max_length: u64,
    out: &mut dyn Write,
) -> Result<u64, FetchError> {
    let mut limited = reader.take(max_length.saturating_add(1));
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = limited
            .read(&mut buf)
            .map_err(|e| FetchError::Other(e.to_string()))?;
        if n == 0 {
            return Ok(total);
        }
        total += n as u64;
        if total > max_length {
            return Err(FetchError::TooLarge);
        }
        out.write_all(&buf[..n])
            .map_err(|e| FetchError::Other(e.to_string()))?;
    }
}

impl Fetcher for HttpFetcher {
    fn fetch(&self, url: &str, max_length: u64) -> Result<Vec<u8>, FetchError> {
        let mut out = Vec::new();
        self.fetch_to(url, max_length, &mut out)?;
        Ok(out)
    }

    fn fetch_to(&self, url: &str, max_length: u64, out: &mut dyn Write) -> Result<u64, FetchError> {
        let mut resp = self.open(url)?;
        if let Some(len) = resp
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
        {
            if len > max_length {
                return Err(FetchError::TooLarge);
            }
        }
        let reader = resp.body_mut().with_config().limit(u64::MAX).reader();
        copy_limited(reader, max_length, out)
    }

    /// Up to `connections` worker threads take the next request of the batch
    /// until none is left; each result lands at its request's index.
    fn fetch_batch(&self, batch: &mut [Request<'_>]) -> Vec<Result<u64, FetchError>> {
        let workers = self.connections.min(batch.len());
        if workers <= 1 {
            return batch.iter_mut().map(|r| fetch_request(self, r)).collect();
        }
        let mut results: Vec<Option<Result<u64, FetchError>>> =
            std::iter::repeat_with(|| None).take(batch.len()).collect();
        let queue = Mutex::new(batch.iter_mut().zip(results.iter_mut()));
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| loop {
                    let next = queue.lock().unwrap_or_else(PoisonError::into_inner).next();
                    let Some((req, slot)) = next else { break };
                    *slot = Some(fetch_request(self, req));
                });
            }
        });
        results
            .into_iter()
            .map(|r| r.expect("every request of the batch was taken by a worker"))
            .collect()
    }
}

/// A repository on the local file system, addressed by `file://` URLs
/// (percent-encoded bytes in the URL are decoded to find the file).
#[derive(Clone, Copy, Default)]
pub struct FileFetcher;

impl FileFetcher {
    fn path(url: &str) -> Result<std::path::PathBuf, FetchError> {
        let rest = url
            .strip_prefix("file://")
            .ok_or_else(|| FetchError::Other(format!("not a file:// URL: {url}")))?;
        let mut bytes = Vec::with_capacity(rest.len());
        let raw = rest.as_bytes();
        let mut i = 0;
        while i < raw.len() {
            if raw[i] == b'%' && i + 2 < raw.len() {
                let hex = [raw[i + 1], raw[i + 2]];
                if hex.iter().all(u8::is_ascii_hexdigit) {
                    let s = std::str::from_utf8(&hex).expect("ASCII");
                    bytes.push(u8::from_str_radix(s, 16).expect("hex digits"));
                    i += 3;
                    continue;
                }
            }
            bytes.push(raw[i]);
            i += 1;
        }
        use std::os::unix::ffi::OsStringExt;
        Ok(std::ffi::OsString::from_vec(bytes).into())
    }
}

impl Fetcher for FileFetcher {
    fn fetch(&self, url: &str, max_length: u64) -> Result<Vec<u8>, FetchError> {
        let mut out = Vec::new();
        self.fetch_to(url, max_length, &mut out)?;
        Ok(out)
    }

    fn fetch_to(&self, url: &str, max_length: u64, out: &mut dyn Write) -> Result<u64, FetchError> {
        let path = Self::path(url)?;
        let file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(FetchError::NotFound(404))
            }
            Err(e) => return Err(FetchError::Other(format!("{}: {e}", path.display()))),
        };
        copy_limited(file, max_length, out)
    }
}

/// `http://`, `https://` and `file://` URLs, each to its fetcher. `file://`
/// is always allowed; `http://` only as [`TlsOptions::allow_http`] says.
#[derive(Default)]
pub struct DefaultFetcher {
    http: std::sync::OnceLock<HttpFetcher>,
}

impl DefaultFetcher {
    /// With [`HttpFetcher::new`] (system roots, no plain HTTP), made on first use.
    pub fn new() -> Self {
        Self::default()
    }

    /// With `tls`'s roots and scheme policy; the CA file is read now, so that
    /// a bad one fails before any fetch.
    pub fn with_tls(tls: &TlsOptions) -> Result<Self, TlsError> {
        let http = HttpFetcher::with_options(tls, HttpTimeouts::default())?;
        Ok(DefaultFetcher {
            http: std::sync::OnceLock::from(http),
        })
    }
}

impl Fetcher for DefaultFetcher {
    fn fetch(&self, url: &str, max_length: u64) -> Result<Vec<u8>, FetchError> {
        let mut out = Vec::new();
        self.fetch_to(url, max_length, &mut out)?;
        Ok(out)
    }

    fn fetch_to(&self, url: &str, max_length: u64, out: &mut dyn Write) -> Result<u64, FetchError> {
        if url.starts_with("file://") {
            FileFetcher.fetch_to(url, max_length, out)
        } else if is_plain_http(url) || has_scheme(url, "https://") {
            self.http
                .get_or_init(HttpFetcher::new)
                .fetch_to(url, max_length, out)
        } else {
            Err(FetchError::Other(format!("unsupported URL scheme: {url}")))
        }
    }

    /// A batch of only HTTP(S) URLs goes to the HTTP fetcher's connections;
    /// anything else is fetched one file after another.
    fn fetch_batch(&self, batch: &mut [Request<'_>]) -> Vec<Result<u64, FetchError>> {
        if batch
            .iter()
            .all(|r| is_plain_http(&r.url) || has_scheme(&r.url, "https://"))
        {
            self.http.get_or_init(HttpFetcher::new).fetch_batch(batch)
        } else {
            batch.iter_mut().map(|r| fetch_request(self, r)).collect()
        }
    }
}

/// An in-memory repository: URL → bytes. Records every URL requested, so
/// tests can assert what the client fetched.
#[derive(Clone, Default)]
pub struct MemoryFetcher {
    inner: Arc<Mutex<MemoryInner>>,
}

#[derive(Default)]
struct MemoryInner {
    files: BTreeMap<String, Vec<u8>>,
    requests: Vec<String>,
}

impl MemoryFetcher {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn insert(&self, url: impl Into<String>, data: impl Into<Vec<u8>>) {
        self.inner
            .lock()
            .expect("not poisoned")
            .files
            .insert(url.into(), data.into());
    }
    pub fn remove(&self, url: &str) {
        self.inner.lock().expect("not poisoned").files.remove(url);
    }
    /// URLs requested so far, in order.
    pub fn requests(&self) -> Vec<String> {
        self.inner.lock().expect("not poisoned").requests.clone()
    }
    /// Every served file: URL → bytes.
    pub fn files(&self) -> BTreeMap<String, Vec<u8>> {
        self.inner.lock().expect("not poisoned").files.clone()
    }
    pub fn clear_requests(&self) {
        self.inner.lock().expect("not poisoned").requests.clear();
    }
}

impl Fetcher for MemoryFetcher {
    fn fetch(&self, url: &str, max_length: u64) -> Result<Vec<u8>, FetchError> {
        let mut inner = self.inner.lock().expect("not poisoned");
        inner.requests.push(url.to_string());
        let data = inner.files.get(url).ok_or(FetchError::NotFound(404))?;
        if data.len() as u64 > max_length {
            return Err(FetchError::TooLarge);
        }
        Ok(data.clone())
    }
}
