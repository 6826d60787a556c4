//! Typed errors. Every message names the registry (or the reference) it is
//! about and, where the user can do something, says what: log in, pass
//! `--insecure` for a plain-HTTP registry, wait for a rate limit.

use thiserror::Error;

/// Everything that can go wrong while parsing a reference, finding
/// credentials or talking to a registry.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// The image reference does not follow the distribution grammar.
    #[error("invalid image reference {input:?}: {reason}")]
    InvalidReference { input: String, reason: String },

    /// A digest (of a manifest or blob) is not `sha256:<64 hex>` or
    /// `sha512:<128 hex>`.
    #[error("invalid digest {digest:?}: expected sha256:<64 lowercase hex> or sha512:<128 lowercase hex>")]
    InvalidDigest { digest: String },

    /// The registry answered 401 and the challenge flow did not get us in:
    /// either we had no credentials, or they were refused.
    #[error("{registry} requires authentication for {repository}{}: {hint}{}",
        if *.had_credentials { " and refused the credentials given" } else { "" },
        detail_suffix(.detail))]
    Unauthorized {
        registry: String,
        repository: String,
        /// Whether credentials were sent (and refused).
        had_credentials: bool,
        /// What the user can do about it.
        hint: String,
        /// The registry's own message, if it sent one.
        detail: String,
    },

    /// The registry answered 403.
    #[error("{registry} denied access to {what}{}", detail_suffix(.detail))]
    Denied {
        registry: String,
        what: String,
        detail: String,
    },

    /// The registry's pull rate limit (429, or a 503 carrying rate-limit headers).
    #[error("{registry} refused the request: the registry's pull rate limit was reached{}{}",
        .retry_after.as_ref().map(|r| format!(" (retry after {r})")).unwrap_or_default(),
        detail_suffix(.detail))]
    RateLimited {
        registry: String,
        /// The `Retry-After` header as sent (seconds or an HTTP date).
        retry_after: Option<String>,
        detail: String,
    },

    /// 404: `manifest unknown: docker.io/library/nginx:nosuch`.
    #[error("{kind}: {reference}{}", detail_suffix(.detail))]
    NotFound {
        /// `manifest unknown` or `blob unknown`.
        kind: String,
        /// The full reference (or `registry/repository@digest` for a blob).
        reference: String,
        /// The registry's error message, if any.
        detail: String,
    },

    /// Any other unexpected HTTP status.
    #[error("{registry}: HTTP {status} for {url}{}", detail_suffix(.detail))]
    Status {
        registry: String,
        status: u16,
        url: String,
        detail: String,
    },

    /// TLS handshake or certificate failure.
    #[error("TLS connection to {host} failed: {detail}{}", tls_hint(*.plain_http, .detail))]
    Tls {
        host: String,
        detail: String,
        /// The failure looks like the server answered in plain HTTP.
        plain_http: bool,
    },

    /// The TCP connection could not be made (refused, no route, DNS).
    #[error("cannot connect to {host}: {detail}")]
    Connect { host: String, detail: String },

    /// Connecting or waiting for data took longer than the configured timeout.
    #[error("{host}: timed out {during}")]
    Timeout { host: String, during: String },

    /// Any other transport failure (connection reset, malformed HTTP).
    #[error("{host}: {detail}")]
    Transport { host: String, detail: String },

    /// A response body was larger than the caller's limit.
    #[error("{what} is larger than the limit of {limit} bytes")]
    TooLarge { what: String, limit: u64 },

    /// Bytes did not hash to the digest they were fetched by.
    #[error("{what}: digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        what: String,
        expected: String,
        actual: String,
    },

    /// The token server could not give us a token.
    #[error("token server {realm}: {detail}")]
    Token { realm: String, detail: String },

    /// Reading the docker config or running a credential helper failed.
    #[error("credentials for {registry}: {detail}")]
    Credentials { registry: String, detail: String },

    /// A `--ca-file` could not be read or holds no usable certificate.
    #[error("CA file {path}: {detail}")]
    CaFile { path: String, detail: String },

    /// The registry broke the protocol (bad Content-Range, body shorter
    /// than its size, unusable challenge...).
    #[error("{registry}: {detail}")]
    Protocol { registry: String, detail: String },

    /// Building the HTTP client failed.
    #[error("cannot set up the HTTP client: {0}")]
    Setup(String),
}

fn tls_hint(plain_http: bool, detail: &str) -> &'static str {
    if plain_http {
        "; if this registry serves plain HTTP, pass --insecure"
    } else if detail.to_ascii_lowercase().contains("certificate") {
        "; if the registry's certificate comes from a private CA, pass --ca-file"
    } else {
        ""
    }
}

fn detail_suffix(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(" ({detail})")
    }
}

impl Error {
    /// Whether retrying the same request later might succeed (rate limits,
    /// timeouts, broken connections, 5xx).
    pub fn is_transient(&self) -> bool {
        match self {
            Error::RateLimited { .. } | Error::Timeout { .. } | Error::Transport { .. } => true,
            Error::Status { status, .. } => matches!(status, 500 | 502 | 503 | 504),
            _ => false,
        }
    }
}

/// `Result` with this crate's [`Error`](enum@Error).
pub type Result<T, E = Error> = std::result::Result<T, E>;
