use std::path::PathBuf;

/// Everything that can go wrong while opening an image or reading its layers. Each variant
/// names the file, layer or entry at fault so that the message alone tells the user what to
/// look at.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}: no such file or directory")]
    NotFound(PathBuf),
    #[error("{path}: cannot tell what kind of image this is ({reason}); force it with a prefix such as docker-archive:, oci-dir:, oci-archive: or dir:")]
    UnknownKind { path: PathBuf, reason: String },
    #[error("{path}: a compressed archive that does not decompress: {reason}")]
    Decompress { path: PathBuf, reason: String },
    #[error("'{0}:' sources are not read by cairn (known prefixes: docker-archive, oci-dir, oci-archive, dir, registry); export the image with `docker save` or scan it from its registry")]
    UnknownPrefix(String),
    #[error("{file}: invalid JSON: {source}")]
    Json {
        file: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{file}: {reason}")]
    Manifest { file: String, reason: String },
    #[error("{0}: referenced by the manifest but missing from the image")]
    MissingBlob(String),
    #[error("{what}: digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        what: String,
        expected: String,
        actual: String,
    },
    #[error("{what}: size mismatch: manifest says {expected} bytes, blob has {actual}")]
    SizeMismatch {
        what: String,
        expected: u64,
        actual: u64,
    },
    #[error("no image for platform {wanted} (available: {available})")]
    NoPlatform { wanted: String, available: String },
    #[error("invalid platform '{0}': expected os/arch[/variant]")]
    BadPlatform(String),
    #[error("layer {layer} ({digest}): {reason}")]
    Layer {
        layer: usize,
        digest: String,
        reason: String,
    },
    #[error("{what}: more than {limit} (a limit that protects against hostile input)")]
    OverLimit { what: String, limit: u64 },
    #[error("{path}: {reason}")]
    Path { path: String, reason: String },
    /// The registry's own error (which names the registry and repository), boxed: it is
    /// large and rare.
    #[error("{error}")]
    Registry {
        reference: String,
        error: Box<cairn_registry::Error>,
    },
    #[error("{what}: {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge { what: String, size: u64, limit: u64 },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn io_err(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.into();
    move |source| Error::Io { path, source }
}
