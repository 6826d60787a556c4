//! Why an attestation could not be made, read or verified.

/// Errors of this crate. Each says what was refused and why.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A public key that cannot be read or is of an unsupported type.
    #[error("public key: {0}")]
    Key(String),
    /// The signer failed.
    #[error("signing failed: {0}")]
    Sign(String),
    /// A document that is not the JSON it should be.
    #[error("{what}: {detail}")]
    Malformed { what: &'static str, detail: String },
    /// Over a documented size or count limit.
    #[error("{what} is over the limit: {detail}")]
    TooLarge { what: &'static str, detail: String },
    /// No signature verifies with any trusted key.
    #[error("no signature verifies with {keys}: {detail}")]
    BadSignature { keys: String, detail: String },
    /// Verified, but not what was expected (payload type, subject, predicate).
    #[error("{0}")]
    Mismatch(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
