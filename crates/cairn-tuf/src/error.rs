//! Typed errors. Every message names what was wrong and, for a refused update,
//! the attack that the check defends against, so that a user reading
//! "rollback refused" knows the repository (or a mirror) served something
//! older than what was already trusted.

use thiserror::Error;

/// Everything that can go wrong while loading, verifying or fetching TUF data.
#[derive(Debug, Error)]
pub enum Error {
    /// The bytes are not acceptable JSON (syntax, duplicate keys, nesting).
    #[error("{what}: invalid JSON: {reason}")]
    Json { what: String, reason: String },

    /// The JSON does not match the TUF schema.
    #[error("{what}: invalid metadata: {reason}")]
    Schema { what: String, reason: String },

    /// `signed._type` is not the role that was expected.
    #[error("{what}: expected {expected} metadata, found \"{found}\"")]
    WrongType {
        what: String,
        expected: String,
        found: String,
    },

    /// The `signatures` list holds two entries with the same key id.
    #[error("{role}: duplicate signature key id {keyid}: signature threshold trick refused")]
    DuplicateSignature { role: String, keyid: String },

    /// Fewer valid signatures than the role's threshold.
    #[error("{role}: threshold not met: {valid} of {threshold} signatures (by {signer}); arbitrary software installation refused")]
    ThresholdNotMet {
        role: String,
        signer: String,
        valid: usize,
        threshold: u64,
    },

    /// A new root must be exactly the trusted version plus one.
    #[error("root version {found} is not the expected {expected}: root rotation must go one version at a time")]
    RootVersion { expected: u64, found: u64 },

    /// Trusted metadata at the largest version there is: no newer version can
    /// exist, so it cannot be updated (a root there can never be rotated).
    #[error("{role} version {version} is the largest possible: no newer {role} can follow, update refused")]
    VersionOverflow { role: String, version: u64 },

    /// Metadata older than what is already trusted.
    #[error("{role} version {new} is older than trusted version {trusted}: rollback refused")]
    Rollback {
        role: String,
        new: u64,
        trusted: u64,
    },

    /// A role trusted in the previous snapshot disappeared from the new one.
    #[error(
        "{role} is listed in the trusted snapshot but missing from the new one: rollback refused"
    )]
    RemovedFromSnapshot { role: String },

    /// Same version as trusted: not an attack, the update simply has nothing new.
    #[error("{role} version {version} is already trusted")]
    EqualVersion { role: String, version: u64 },

    /// Metadata whose expiry is not after the reference time.
    #[error("{role} expired at {expires}: freeze attack refused")]
    Expired { role: String, expires: String },

    /// Version in the metadata differs from the one the referring metadata lists.
    #[error("{role} version {found} does not match version {expected} listed in {listed_in}: mix-and-match refused")]
    VersionMismatch {
        role: String,
        listed_in: String,
        expected: u64,
        found: u64,
    },

    /// Downloaded bytes do not have the length the metadata lists.
    #[error("{what}: length {found} does not match the {expected} bytes listed: malicious mirror refused")]
    LengthMismatch {
        what: String,
        expected: u64,
        found: u64,
    },

    /// Downloaded bytes do not have the hash the metadata lists.
    #[error("{what}: {algorithm} hash mismatch: malicious mirror or tampered file refused")]
    HashMismatch { what: String, algorithm: String },

    /// A hash algorithm this client cannot compute: the file cannot be checked.
    #[error("{what}: unsupported hash algorithm \"{algorithm}\": cannot verify the file")]
    UnsupportedHash { what: String, algorithm: String },

    /// A file larger than allowed.
    #[error("{what}: more than {limit} bytes: endless data attack refused")]
    TooLarge { what: String, limit: u64 },

    /// A delegated role that the snapshot does not list.
    #[error("{role} is not listed in snapshot: extraneous metadata refused")]
    NotInSnapshot { role: String },

    /// A delegator does not delegate to this role.
    #[error("{delegator} does not delegate to {role}")]
    NotDelegated { role: String, delegator: String },

    /// The metadata server answered with an error or could not be reached.
    #[error("fetching {url}: {reason}")]
    Fetch { url: String, reason: String },

    /// The requested target is not listed by any role that may list it.
    #[error("target {0:?} not found in trusted metadata")]
    TargetNotFound(String),

    /// Local file system errors (metadata cache, target directory).
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },

    /// Metadata loaded in the wrong order (a programming error in the caller).
    #[error("metadata loaded out of order: {0}")]
    Order(&'static str),

    /// A key that cannot be used (bad encoding, unsupported type).
    #[error("key {keyid}: {reason}")]
    Key { keyid: String, reason: String },
}

impl Error {
    pub(crate) fn schema(what: &str, reason: impl std::fmt::Display) -> Self {
        Error::Schema {
            what: what.to_string(),
            reason: reason.to_string(),
        }
    }

    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Error::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
