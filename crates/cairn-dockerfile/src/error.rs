//! The one error type of the crate: every parse failure names the line it was found on.

use crate::{MAX_DOCKERFILE_BYTES, MAX_INSTRUCTIONS};

/// Why a Dockerfile could not be read or rewritten.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input is larger than [`MAX_DOCKERFILE_BYTES`].
    #[error("Dockerfile is {size} bytes, over the limit of {MAX_DOCKERFILE_BYTES}")]
    TooLarge {
        /// Size of the input in bytes.
        size: usize,
    },
    /// The input has more than [`MAX_INSTRUCTIONS`] instructions.
    #[error("line {line}: more than {MAX_INSTRUCTIONS} instructions")]
    TooManyInstructions {
        /// Line of the first instruction over the limit.
        line: usize,
    },
    /// The input bytes are not UTF-8.
    #[error("line {line}: Dockerfile is not valid UTF-8")]
    NotUtf8 {
        /// Line holding the first invalid byte.
        line: usize,
    },
    /// The file holds no instruction at all (BuildKit: "file with no instructions").
    #[error("file with no instructions")]
    Empty,
    /// `# escape=` names something other than `\` or `` ` ``.
    #[error("line {line}: invalid escape token {value:?} does not match ` or \\")]
    InvalidEscape {
        /// Line of the directive.
        line: usize,
        /// The value given.
        value: String,
    },
    /// A parser directive appears twice.
    #[error("line {line}: only one {name} parser directive can be used")]
    DuplicateDirective {
        /// Line of the second occurrence.
        line: usize,
        /// Directive name, lowercase.
        name: String,
    },
    /// A heredoc's terminator line never came.
    #[error("line {line}: unterminated heredoc {name:?}")]
    UnterminatedHeredoc {
        /// Line of the instruction that opened the heredoc.
        line: usize,
        /// The delimiter word.
        name: String,
    },
    /// An instruction's arguments do not have the shape BuildKit requires.
    #[error("line {line}: {message}")]
    Syntax {
        /// Line where the instruction starts.
        line: usize,
        /// What is wrong, in BuildKit's words where it has them.
        message: String,
    },
    /// A `$`-substitution cannot be expanded (bad `${...}`, missing `}`, unmatched quote).
    #[error("line {line}: {message}")]
    Substitution {
        /// Line where the instruction starts.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// An instruction other than `ARG` comes before the first `FROM`.
    #[error("line {line}: {keyword} before the first FROM (no build stage in current context)")]
    NoStage {
        /// Line of the instruction.
        line: usize,
        /// Its keyword, uppercase.
        keyword: String,
    },
    /// [`crate::lock`] was given text that is not the text the [`crate::Dockerfile`] was parsed from.
    #[error("the text given to lock is not the text the Dockerfile was parsed from")]
    TextMismatch,
}

impl Error {
    /// The 1-based line the error was found on, when it has one.
    pub fn line(&self) -> Option<usize> {
        match self {
            Error::TooManyInstructions { line }
            | Error::NotUtf8 { line }
            | Error::InvalidEscape { line, .. }
            | Error::DuplicateDirective { line, .. }
            | Error::UnterminatedHeredoc { line, .. }
            | Error::Syntax { line, .. }
            | Error::Substitution { line, .. }
            | Error::NoStage { line, .. } => Some(*line),
            Error::TooLarge { .. } | Error::Empty | Error::TextMismatch => None,
        }
    }
}
