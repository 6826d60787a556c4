/// Why an executable's build information could not be read. Each names the offset or the
/// bound concerned.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("read error: {0}")]
    Io(std::io::Error),
    #[error("the file ends early, at offset {offset}")]
    Truncated { offset: u64 },
    #[error("{len} bytes at offset {offset} are outside the file")]
    OutOfBounds { offset: u64, len: u64 },
    #[error("needs offset {offset}, behind {position}, in a one-pass read")]
    Backwards { offset: u64, position: u64 },
    #[error("{what} of {size} bytes, over the {limit}-byte limit")]
    TooLarge {
        what: &'static str,
        size: u64,
        limit: u64,
    },
    #[error("malformed {format} headers: {reason}")]
    Headers {
        format: &'static str,
        reason: String,
    },
    #[error("malformed Go build info at offset {offset}: {reason}")]
    Go { offset: u64, reason: String },
    #[error("Go build info at offset {offset} is in the pre-Go 1.18 format, whose strings lie earlier in the file than a one-pass read can return to")]
    GoPointers { offset: u64 },
    #[error("malformed cargo-auditable data at offset {offset}: {reason}")]
    Rust { offset: u64, reason: String },
}

impl Error {
    /// Whether the file is over one of the [`crate::Limits`] (rather than damaged).
    pub fn over_limit(&self) -> bool {
        matches!(self, Error::TooLarge { .. })
    }
}
