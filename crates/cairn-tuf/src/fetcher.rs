//! How the updater reaches a repository. The network is a trait so that tests
//! run against an in-memory repository ([`MemoryFetcher`]) and the binaries
//! use HTTP ([`HttpFetcher`]). Every fetch carries a byte limit: a fetcher
//! must stop reading past it (endless data attack).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
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

/// A source of repository files.
pub trait Fetcher {
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
}

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

/// HTTP(S) on a blocking `ureq` agent (rustls with aws-lc-rs, webpki roots).
pub struct HttpFetcher {
    agent: ureq::Agent,
}

impl HttpFetcher {
    /// A fetcher with [`HttpTimeouts::default`].
    pub fn new() -> Self {
        Self::with_timeouts(HttpTimeouts::default())
    }

    /// A fetcher whose requests give up after `timeouts` (slow retrieval).
    pub fn with_timeouts(timeouts: HttpTimeouts) -> Self {
        let tls = ureq::tls::TlsConfig::builder()
            .provider(ureq::tls::TlsProvider::Rustls)
            .unversioned_rustls_crypto_provider(Arc::new(
                rustls::crypto::aws_lc_rs::default_provider(),
            ))
            .build();
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(timeouts.connect))
            .timeout_recv_response(Some(timeouts.response))
            .timeout_recv_body(Some(timeouts.body))
            .max_redirects(5)
            .user_agent(concat!("cairn-tuf/", env!("CARGO_PKG_VERSION")))
            .tls_config(tls)
            .build();
        HttpFetcher {
            agent: ureq::Agent::new_with_config(config),
        }
    }

    fn open(&self, url: &str) -> Result<ureq::http::Response<ureq::Body>, FetchError> {
        let resp = self
            .agent
            .get(url)
            .call()
            .map_err(|e| FetchError::Other(e.to_string()))?;
        match resp.status().as_u16() {
            200..=299 => Ok(resp),
            s @ (403 | 404) => Err(FetchError::NotFound(s)),
            s => Err(FetchError::Status(s)),
        }
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

/// `http://`, `https://` and `file://` URLs, each to its fetcher.
#[derive(Default)]
pub struct DefaultFetcher {
    http: std::sync::OnceLock<HttpFetcher>,
}

impl DefaultFetcher {
    pub fn new() -> Self {
        Self::default()
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
        } else if url.starts_with("http://") || url.starts_with("https://") {
            self.http
                .get_or_init(HttpFetcher::new)
                .fetch_to(url, max_length, out)
        } else {
            Err(FetchError::Other(format!("unsupported URL scheme: {url}")))
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
