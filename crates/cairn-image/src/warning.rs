//! Problems met while reading an image that do not stop the scan.

/// What kind of problem.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ViewWarningKind {
    /// A limit in [`crate::Limits`] was reached; what is past it was not read.
    Limit,
    /// A hard link to a path that does not exist.
    Link,
    /// A file or directory of a root filesystem could not be read.
    Unreadable,
    /// A path over the kernel's limits.
    InvalidPath,
}

/// A problem with one path of one layer (`layer` is `None` for a root filesystem directory).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ViewWarning {
    pub kind: ViewWarningKind,
    /// Absolute path in the image.
    pub path: String,
    pub layer: Option<usize>,
    /// Whether contents a cataloger asked for are missing because of it (the SBOM is then
    /// incomplete).
    pub incomplete: bool,
    pub message: String,
}
