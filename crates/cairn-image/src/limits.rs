//! Every bound on work or memory that input can drive, in one place. A count or size read
//! from an image, a package database or a lock file that decides how much is allocated or
//! how long something runs is checked against one of these (or against one of the kernel's
//! own limits, [`crate::MAX_PATH_BYTES`], [`crate::MAX_NAME_BYTES`] and
//! [`crate::MAX_LINK_HOPS`]). The defaults are far above what real images need and far
//! below what would exhaust a scanning machine; `docs/limits.md` lists them with what
//! happens when each is hit.

/// Bounds that keep a hostile image from exhausting memory or time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest file whose contents a cataloger may receive; bigger ones are not read, with a
    /// warning (the SBOM is marked incomplete).
    pub max_content: u64,
    /// Total bytes of file contents kept for catalogers over the whole scan (every version
    /// of every requested file); past it, further contents are not kept, with a warning.
    pub max_kept_bytes: u64,
    /// Largest decompressed size of one layer (an error past it).
    pub max_layer_bytes: u64,
    /// Past `bomb_floor` decompressed bytes, a layer that inflates more than this many times
    /// its stored size is refused as a decompression bomb.
    pub max_ratio: u64,
    pub bomb_floor: u64,
    /// Most tar entries in one layer (an error past it).
    pub max_layer_entries: u64,
    /// Most distinct paths in the merged view, live and removed together (an error past
    /// it). This also bounds the `--files` listing.
    pub max_paths: u64,
    /// Most entries in an outer archive (docker-archive, OCI archive) (an error past it).
    pub max_archive_entries: u64,
    /// Largest JSON document read from an image (manifest, index, config) (an error past it).
    pub max_json: u64,
    /// Most layers in one image (an error past it).
    pub max_layers: usize,
    /// What one package database may list as owned files (files, bytes of paths); past
    /// it, its packages are still reported with their file lists marked truncated, and the
    /// SBOM is marked incomplete.
    pub owned_files_per_database: (u64, u64),
    /// The same over the whole scan (every database, every layer's version of it).
    pub owned_files_per_scan: (u64, u64),
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_content: 64 << 20,
            max_kept_bytes: 1 << 30,
            max_layer_bytes: 64 << 30,
            max_ratio: 100,
            bomb_floor: 256 << 20,
            max_layer_entries: 5_000_000,
            max_paths: 10_000_000,
            max_archive_entries: 1_000_000,
            max_json: 16 << 20,
            max_layers: 4096,
            owned_files_per_database: (1_000_000, 128 << 20),
            owned_files_per_scan: (3_000_000, 384 << 20),
        }
    }
}
