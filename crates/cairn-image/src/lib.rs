//! Container image sources and the layered filesystem view.
//!
//! This crate owns everything between a path the user typed and a merged view of the image's
//! filesystem: detecting the kind of source (docker-archive, OCI layout directory or archive,
//! root filesystem directory), reading manifests and configs, verifying blob digests,
//! decoding layers (tar, gzip, zstd) in parallel as streams, and applying them in order with
//! whiteouts and opaque directories. Every path keeps the full list of layers that wrote,
//! changed or removed it. Nothing is ever extracted to disk: file contents are kept in memory
//! only for the paths a caller asked for up front.
// The one exception is the call into ISA-L's inflate (`inflate::isal`, the `isal` feature).
#![deny(unsafe_code)]

mod blob;
mod cache;
pub mod declared;
mod error;
mod extract;
mod fs;
/// For fuzz targets only (feature `fuzzing`); compiled for this crate's tests too.
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
mod inflate;
mod layer;
mod limits;
mod manifest;
mod pattern;
mod registry;
mod reuse;
mod rootfs;
mod source;
mod store;
mod warning;

pub use error::{Error, Result};
pub use extract::{
    EntryReader, ExtractStats, Extractor, Fact, FactError, FactRef, FactResult, Probe, Uncharged,
};
pub use fs::{
    check_path, shorten, Change, ChangeKind, FileDigests, FsView, History, LayerStats, Node,
    NodeKind, Versions, MAX_LINK_HOPS, MAX_NAME_BYTES, MAX_PATH_BYTES,
};
pub use inflate::backend as gzip_backend;
pub use limits::Limits;
pub use pattern::{exclusions, PathPattern};
pub use registry::{client as registry_client, CacheOptions, RegistryOptions};
pub use reuse::LayerCache;
pub use source::{
    open, open_with, AttachedManifest, Image, LayerInfo, OpenOptions, Platform, SourceKind,
    SourceSpec, Step,
};
pub use store::{BlobStream, Store};
pub use warning::{ViewWarning, ViewWarningKind};

use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::Arc;

/// How far a scan has got, for a progress display: updated by the layer pass as it goes.
#[derive(Debug, Default)]
pub struct Progress {
    /// Stored (compressed) layer bytes read so far: pulled, for a registry image.
    pub bytes: AtomicU64,
    /// Layers completely decoded and checked.
    pub layers: AtomicUsize,
}

/// What a scan of an image should collect besides the file tree itself.
#[derive(Clone, Default)]
pub struct ScanOptions {
    /// Files whose contents are kept (every version, from every layer that wrote them).
    pub contents: Vec<PathPattern>,
    /// Compute SHA-1 and SHA-256 of every regular file (needed to list files in an SBOM).
    pub file_digests: bool,
    /// Bounds that protect against hostile layers.
    pub limits: Limits,
    /// Counts layer bytes read (pulled, for a registry) and layers decoded, for progress.
    pub progress: Option<Arc<Progress>>,
    /// How many layers are read at once; `None` is one per core. Reading a layer from a
    /// registry overlaps its download with its decoding, so more than one per core can pay
    /// on a slow link.
    pub jobs: Option<usize>,
    /// Paths left out of the scan (`--exclude`): a matching directory is not descended into
    /// (nor are its layer entries recorded), a matching file is not recorded.
    pub exclude: Vec<PathPattern>,
    /// For a root filesystem directory: do not descend into directories on another device
    /// than the root (`--one-file-system`). Images have one filesystem; it has no effect.
    pub one_file_system: bool,
    /// Catalogers' code run on the entries each chooses, inside the one pass over each
    /// layer ([`Extractor`]); what they find is asked of the view with [`FsView::facts`].
    pub extractors: Vec<Arc<dyn Extractor>>,
    /// Decoded layers shared with the other scans of this process: a layer found there (by
    /// both its digests, for the same questions) is not decoded again ([`LayerCache`]).
    pub layer_cache: Option<Arc<LayerCache>>,
}

impl ScanOptions {
    /// Whether an exclusion pattern matches `path` or one of the directories above it.
    pub(crate) fn excluded(&self, path: &str) -> bool {
        if self.exclude.is_empty() {
            return false;
        }
        let path = path.trim_matches('/');
        let ancestors = path.match_indices('/').map(|(i, _)| &path[..i]);
        ancestors
            .chain(std::iter::once(path))
            .any(|p| self.exclude.iter().any(|x| x.matches(p)))
    }
}
