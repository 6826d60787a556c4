//! Typed errors: each says what was wrong and where (page, slot, entry index, tag, offset), so
//! a caller can put it in a warning next to the file it was reading.

use crate::tag::TagType;

/// Why a database could not be read at all, or why one of its records was skipped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not an rpm database (no sqlite, Berkeley DB hash or NDB magic)")]
    UnknownFormat,
    #[error("sqlite rpmdb: {0}")]
    Sqlite(#[from] SqliteError),
    #[error("Berkeley DB rpmdb: {0}")]
    Bdb(#[from] BdbError),
    #[error("NDB rpmdb: {0}")]
    Ndb(#[from] NdbError),
    #[error("package record {record}: {source}")]
    Header {
        /// The database's own id for the record (sqlite `hnum`, BDB key, NDB package index).
        record: u32,
        #[source]
        source: HeaderError,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum SqliteError {
    #[error("the file is not an sqlite database (bad magic or shorter than its 100-byte header)")]
    NotADatabase,
    #[error("{0}")]
    Sqlite(#[from] rusqlite::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum BdbError {
    #[error("file of {len} bytes is too short for a metadata page")]
    TooShort { len: usize },
    #[error("bad hash magic {magic:#010x}")]
    BadMagic { magic: u32 },
    #[error("metadata page has type {page_type}, not hash metadata (8)")]
    NotHashMetadata { page_type: u8 },
    #[error("database is encrypted (algorithm {algorithm})")]
    Encrypted { algorithm: u8 },
    #[error("unsupported page size {page_size}")]
    BadPageSize { page_size: u32 },
    #[error("file is truncated: metadata says the last page is {last_page}, but {len} bytes hold only {pages} whole pages of {page_size}")]
    TruncatedPage {
        last_page: u32,
        pages: u32,
        page_size: u32,
        len: usize,
    },
    #[error("page {page}: {entries} index entries do not fit in a page of {page_size} bytes")]
    BadEntryCount {
        page: u32,
        entries: u16,
        page_size: u32,
    },
    #[error("page {page}, item {item}: offset {offset} lies outside the page")]
    ItemOutOfRange { page: u32, item: usize, offset: u16 },
    #[error("page {page}, item {item}: unsupported item type {item_type}")]
    UnsupportedItem {
        page: u32,
        item: usize,
        item_type: u8,
    },
    #[error("page {page}, item {item}: key of {len} bytes, expected a 4-byte record number")]
    BadKey { page: u32, item: usize, len: usize },
    #[error("record {record} at page {page}: overflow chain points to page {next}, beyond the last page {last_page}")]
    OverflowOutOfRange {
        record: u32,
        page: u32,
        next: u32,
        last_page: u32,
    },
    #[error("record {record}: overflow chain from page {start} comes back to page {page} (cycle)")]
    OverflowCycle { record: u32, start: u32, page: u32 },
    #[error("record {record}: overflow page {page} has page type {page_type}, not overflow (7)")]
    NotOverflowPage {
        record: u32,
        page: u32,
        page_type: u8,
    },
    #[error("record {record}: overflow page {page} claims {len} bytes, more than a page holds")]
    OverflowPageLength { record: u32, page: u32, len: u16 },
    #[error("record {record}: overflow chain from page {start} holds {actual} bytes, the entry says {expected}")]
    OverflowLength {
        record: u32,
        start: u32,
        expected: u32,
        actual: usize,
    },
    #[error("record {record} appears twice (second time on page {page})")]
    DuplicateRecord { record: u32, page: u32 },
}

#[derive(Debug, thiserror::Error)]
pub enum NdbError {
    #[error("file of {len} bytes is too short for the NDB header")]
    TooShort { len: usize },
    #[error("bad NDB header magic {magic:#010x} or version {version}")]
    BadHeader { magic: u32, version: u32 },
    #[error("slot page count {count} is zero or larger than the file of {len} bytes allows")]
    BadSlotPageCount { count: u32, len: usize },
    #[error("slot {slot}: bad magic {magic:#010x}")]
    BadSlotMagic { slot: usize, magic: u32 },
    #[error("package {pkg}: blob at block {block}, {blocks} blocks, lies outside the file of {len} bytes")]
    BlobOutOfRange {
        pkg: u32,
        block: u32,
        blocks: u32,
        len: usize,
    },
    #[error("package {pkg}: bad blob header (magic {magic:#010x}, package index {found})")]
    BadBlobHeader { pkg: u32, magic: u32, found: u32 },
    #[error("package {pkg}: blob of {blob_len} bytes does not fit its {blocks} blocks")]
    BlobTooLong {
        pkg: u32,
        blob_len: u32,
        blocks: u32,
    },
    #[error("package {pkg}: bad blob tail (magic {magic:#010x}, length {tail_len}, header says {blob_len})")]
    BadBlobTail {
        pkg: u32,
        magic: u32,
        tail_len: u32,
        blob_len: u32,
    },
    #[error("package {pkg}: Adler-32 checksum {actual:#010x}, the tail says {expected:#010x}")]
    Checksum {
        pkg: u32,
        expected: u32,
        actual: u32,
    },
    #[error("package {pkg} appears in two slots (second is slot {slot})")]
    DuplicatePackage { pkg: u32, slot: usize },
}

/// Why a header blob was rejected. `index` is the position in the blob's index, `tag` the
/// entry's tag number, offsets are into the data store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("blob of {len} bytes is shorter than the 8-byte il/dl preamble")]
    TooShort { len: usize },
    #[error("header has no index entries")]
    NoTags,
    #[error("index length {il} exceeds rpm's limit")]
    TooManyTags { il: u32 },
    #[error("data length {dl} exceeds rpm's limit")]
    DataTooLarge { dl: u32 },
    #[error("blob is {actual} bytes, but il {il} and dl {dl} make {expected}")]
    SizeMismatch {
        il: u32,
        dl: u32,
        expected: usize,
        actual: usize,
    },
    #[error("region tag {tag} has type {ty} and count {count}, expected BIN and 16")]
    BadRegionTag { tag: u32, ty: u32, count: u32 },
    #[error("region trailer offset {offset} lies outside the data store of {dl} bytes")]
    RegionTrailerOutOfRange { offset: i32, dl: usize },
    #[error(
        "region trailer has tag {tag}, type {ty}, count {count}: it does not close the region"
    )]
    BadRegionTrailer { tag: u32, ty: u32, count: u32 },
    #[error("region trailer offset {trailer_offset} does not describe a region within {il} index entries")]
    BadRegionSize { trailer_offset: i32, il: usize },
    #[error("entry {index}: tag {tag} is reserved")]
    BadTag { index: usize, tag: i32 },
    #[error("entry {index} (tag {tag}): unknown type {ty}")]
    BadType { index: usize, tag: u32, ty: u32 },
    #[error("entry {index} (tag {tag}): count is zero")]
    ZeroCount { index: usize, tag: u32 },
    #[error(
        "entry {index} (tag {tag}): offset {offset} lies outside the data store of {dl} bytes"
    )]
    OffsetOutOfRange {
        index: usize,
        tag: u32,
        offset: i32,
        dl: usize,
    },
    #[error("entry {index} (tag {tag}): {ty} data at offset {offset} is not aligned")]
    Misaligned {
        index: usize,
        tag: u32,
        ty: TagType,
        offset: usize,
    },
    #[error("entry {index} (tag {tag}): {count} {ty} elements at offset {offset} run past the data store")]
    DataOutOfRange {
        index: usize,
        tag: u32,
        ty: TagType,
        count: u32,
        offset: usize,
    },
    #[error("entry {index} (tag {tag}): data at offset {offset} starts before the previous entry's data ends at {previous_end}")]
    Overlap {
        index: usize,
        tag: u32,
        offset: usize,
        previous_end: usize,
    },
    #[error("entry {index} (tag {tag}): data overlaps the region trailer")]
    OverlapsTrailer { index: usize, tag: u32 },
    #[error("entries add up to {computed} bytes of data, the header says {dl}")]
    DataLengthMismatch { computed: usize, dl: usize },
    #[error("tag {tag} has type {found}, expected {expected}")]
    WrongType {
        tag: u32,
        expected: TagType,
        found: TagType,
    },
    #[error("required tag {tag} ({name}) is missing")]
    MissingTag { tag: u32, name: &'static str },
    #[error("file list is inconsistent: {0}")]
    FileList(String),
}
