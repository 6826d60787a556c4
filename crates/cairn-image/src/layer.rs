//! Decoding one layer: the blob streams through digest checks and a decompressor into a tar
//! reader, and comes out as an ordered list of entries (additions, whiteouts, opaque
//! markers) plus the contents of the files that were asked for. Nothing touches the disk.

use crate::error::{Error, Result};
use crate::extract::{take, Digester, Found, Probe, Selection};
use crate::fs::{shorten, FileDigests, NodeKind, MAX_PATH_BYTES};
use crate::source::{LayerInfo, Verify};
use crate::store::Store;
use crate::{Limits, ScanOptions, ViewWarning, ViewWarningKind};
use sha2::Digest;
use std::io::{BufRead, BufReader, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

#[derive(Clone, Debug)]
pub(crate) enum Op {
    /// `.wh.NAME`: the path and everything under it is removed from lower layers.
    Whiteout,
    /// `.wh..wh..opq` in a directory: its lower-layer contents are hidden.
    Opaque,
    Add(Added),
}

/// One added path. Kept small (a layer may add millions): what few entries carry is in
/// `extra`.
#[derive(Clone, Debug)]
pub(crate) struct Added {
    pub kind: NodeKind,
    pub size: u64,
    pub mode: u32,
    pub extra: Option<Box<Extra>>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Extra {
    /// Target of a tar hard link (an image path), to be resolved against the view.
    pub hardlink: Option<Box<str>>,
    pub content: Option<Arc<[u8]>>,
    pub digests: Option<FileDigests>,
    /// What extractors found in this version of the file.
    pub facts: Found,
}

impl Extra {
    /// `None` when there is nothing to keep.
    pub fn boxed(self) -> Option<Box<Extra>> {
        let empty = self.hardlink.is_none()
            && self.content.is_none()
            && self.digests.is_none()
            && self.facts.is_empty();
        (!empty).then(|| Box::new(self))
    }

    /// `None` when there is nothing to keep.
    pub fn new(
        hardlink: Option<Box<str>>,
        content: Option<Arc<[u8]>>,
        digests: Option<FileDigests>,
    ) -> Option<Box<Extra>> {
        (hardlink.is_some() || content.is_some() || digests.is_some()).then(|| {
            Box::new(Extra {
                hardlink,
                content,
                digests,
                facts: Vec::new(),
            })
        })
    }
}

impl Added {
    pub fn new(kind: NodeKind, size: u64, mode: u32) -> Added {
        Added {
            kind,
            size,
            mode,
            extra: None,
        }
    }
}

/// A layer's entries in fixed-size chunks: applying them to the view frees each chunk as it
/// is done, instead of holding the whole list (and its growth slack) until the last entry,
/// so a layer of millions of entries never costs its list and its view at once.
#[derive(Clone, Debug, Default)]
pub(crate) struct Entries {
    chunks: Vec<Vec<Entry>>,
}

impl Entries {
    const CHUNK: usize = 16 * 1024;

    pub fn push(&mut self, e: Entry) {
        match self.chunks.last_mut() {
            Some(c) if c.len() < Self::CHUNK => c.push(e),
            _ => {
                let mut c = Vec::with_capacity(Self::CHUNK);
                c.push(e);
                self.chunks.push(c);
            }
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.chunks.iter().flatten()
    }

    pub fn into_chunks(self) -> Vec<Vec<Entry>> {
        self.chunks
    }
}

impl From<Vec<Entry>> for Entries {
    fn from(entries: Vec<Entry>) -> Entries {
        let mut out = Entries::default();
        for e in entries {
            out.push(e);
        }
        out
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub path: Box<str>,
    pub op: Op,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct LayerIndex {
    pub entries: Entries,
    /// Problems met: those marked `incomplete` may cost packages (a file a cataloger asked
    /// for could not be read whole); the others cost nothing a cataloger asked for.
    pub warnings: Vec<ViewWarning>,
    /// Directories deliberately not descended into (virtual filesystems, other mounts under
    /// `--one-file-system`), one line each, for `-v`.
    pub skipped: Vec<String>,
}

/// A reader that counts (and optionally hashes) what passes through it.
struct Tap<R> {
    inner: R,
    hasher: Option<Hasher>,
    count: u64,
    shared: Option<Arc<AtomicU64>>,
}

/// The hash a blob's digest names (sha256, or sha512), computed as the bytes stream by.
pub(crate) enum Hasher {
    Sha256(sha2::Sha256),
    Sha512(sha2::Sha512),
}

impl Hasher {
    pub fn for_digest(digest: &str) -> Hasher {
        if digest.starts_with("sha512:") {
            Hasher::Sha512(sha2::Sha512::new())
        } else {
            Hasher::Sha256(sha2::Sha256::new())
        }
    }

    pub fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(bytes),
            Hasher::Sha512(h) => h.update(bytes),
        }
    }

    /// The digest, `ALG:HEX`.
    pub fn finish(self) -> String {
        match self {
            Hasher::Sha256(h) => format!("sha256:{}", hex::encode(h.finalize())),
            Hasher::Sha512(h) => format!("sha512:{}", hex::encode(h.finalize())),
        }
    }
}

impl<R: Read> Read for Tap<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(h) = &mut self.hasher {
            h.update(&buf[..n]);
        }
        self.count += n as u64;
        if let Some(s) = &self.shared {
            s.fetch_add(n as u64, Ordering::Relaxed);
        }
        Ok(n)
    }
}

/// Guards the decompressed stream against bombs, using the compressed count seen so far.
struct Bounded<R> {
    inner: Tap<R>,
    compressed: Arc<AtomicU64>,
    /// Bytes of sparse files, which the tar reader expands past this guard: they count as
    /// decompressed bytes too.
    sparse: Arc<AtomicU64>,
    limits: Limits,
}

/// Why `out` bytes decompressed from `input` bytes are too many, if they are.
fn inflation(out: u64, input: u64, limits: &Limits) -> Option<String> {
    if out > limits.max_layer_bytes {
        return Some(format!(
            "decompressed size exceeds the limit of {} bytes",
            limits.max_layer_bytes
        ));
    }
    let input = input.max(1);
    if out > limits.bomb_floor && out / input > limits.max_ratio {
        return Some(format!(
            "decompression bomb: {out} bytes inflated from {input} (more than {}x)",
            limits.max_ratio
        ));
    }
    None
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let out = self
            .inner
            .count
            .saturating_add(self.sparse.load(Ordering::Relaxed));
        match inflation(out, self.compressed.load(Ordering::Relaxed), &self.limits) {
            Some(reason) => Err(std::io::Error::other(reason)),
            None => Ok(n),
        }
    }
}

// One decoder per layer stream: the size difference between variants does not matter.
#[allow(clippy::large_enum_variant)]
enum Decoder<R: BufRead> {
    Plain(R),
    Gzip(crate::inflate::GzipDecoder<R>),
    Zstd(zstd::stream::read::Decoder<'static, R>),
}

impl<R: BufRead> Read for Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Decoder::Plain(r) => r.read(buf),
            Decoder::Gzip(r) => r.read(buf),
            Decoder::Zstd(r) => r.read(buf),
        }
    }
}

impl<R: BufRead> Decoder<R> {
    fn into_inner(self) -> R {
        match self {
            Decoder::Plain(r) => r,
            Decoder::Gzip(r) => r.into_inner(),
            Decoder::Zstd(r) => r.finish(),
        }
    }
}

/// Compression by magic bytes; the media type is only a cross-check for unsupported kinds.
fn compression(
    magic: &[u8],
    media_type: Option<&str>,
) -> std::result::Result<&'static str, String> {
    if let Some(mt) = media_type {
        if mt.contains("encrypted") || mt.ends_with("+bzip2") || mt.ends_with("+xz") {
            return Err(format!("unsupported layer media type {mt}"));
        }
    }
    Ok(if magic.starts_with(&[0x1f, 0x8b]) {
        "gzip"
    } else if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        "zstd"
    } else {
        "tar"
    })
}

/// Whether `magic` starts a gzip or zstd stream.
pub(crate) fn is_compressed(magic: &[u8]) -> bool {
    compression(magic, None).is_ok_and(|k| k != "tar")
}

/// Decompress a gzip or zstd stream into `out`, under the same bomb guard as a layer.
/// Returns the decompressed size.
pub(crate) fn decompress_to(
    input: impl Read,
    out: &mut impl std::io::Write,
    limits: &Limits,
) -> std::io::Result<u64> {
    let compressed = Arc::new(AtomicU64::new(0));
    let mut buffered = BufReader::with_capacity(
        256 * 1024,
        Tap {
            inner: input,
            hasher: None,
            count: 0,
            shared: Some(compressed.clone()),
        },
    );
    let magic = buffered.fill_buf()?.to_vec();
    let decoder = match compression(&magic, None) {
        Ok("gzip") => Decoder::Gzip(crate::inflate::GzipDecoder::new(buffered)),
        Ok("zstd") => Decoder::Zstd(zstd::stream::read::Decoder::with_buffer(buffered)?),
        _ => Decoder::Plain(buffered),
    };
    let mut bounded = Bounded {
        inner: Tap {
            inner: decoder,
            hasher: None,
            count: 0,
            shared: None,
        },
        compressed,
        sparse: Arc::default(),
        limits: limits.clone(),
    };
    std::io::copy(&mut bounded, out)
}

/// Whether `size` more bytes of contents may be kept, charging them to the scan's total.
pub(crate) fn may_keep(kept: &AtomicU64, size: u64, limits: &Limits) -> bool {
    let before = kept.fetch_add(size, Ordering::Relaxed);
    if before.saturating_add(size) <= limits.max_kept_bytes {
        return true;
    }
    kept.fetch_sub(size, Ordering::Relaxed);
    false
}

/// Whether a wanted file of `size` bytes may be kept: under the per-file content limit and
/// within the scan's total, which it is charged to. A file that may not is reported.
pub(crate) fn fits(
    size: u64,
    path: &str,
    layer: Option<usize>,
    opts: &ScanOptions,
    kept: &AtomicU64,
    index: &mut LayerIndex,
) -> bool {
    let limits = &opts.limits;
    let message = if size > limits.max_content {
        format!(
            "{size} bytes, over the {}-byte content limit; not read",
            limits.max_content
        )
    } else if !may_keep(kept, size, limits) {
        format!(
            "not read: the contents kept for catalogers reached the {}-byte limit",
            limits.max_kept_bytes
        )
    } else {
        return true;
    };
    index.warnings.push(ViewWarning {
        kind: ViewWarningKind::Limit,
        path: format!("/{path}"),
        layer,
        incomplete: true,
        message,
    });
    false
}

/// Decode one layer. `kept` counts the bytes of contents kept by every layer of the scan.
pub(crate) fn read_layer(
    store: &dyn Store,
    layer: &LayerInfo,
    opts: &ScanOptions,
    sel: &Selection,
    kept: &AtomicU64,
) -> Result<LayerIndex> {
    let blob = layer.blob.as_ref().ok_or_else(|| Error::Layer {
        layer: layer.index,
        digest: layer.id(),
        reason: "layer has no blob".into(),
    })?;
    let size = match &layer.verify {
        Verify::Blob { size, .. } => *size,
        _ => None,
    };
    read_layer_from(store.open(blob, size)?, layer, opts, sel, kept)
}

/// Decode one layer from its stored bytes, `input`; `layer` says how to check them.
pub(crate) fn read_layer_from(
    input: impl Read,
    layer: &LayerInfo,
    opts: &ScanOptions,
    sel: &Selection,
    kept: &AtomicU64,
) -> Result<LayerIndex> {
    let err = |reason: String| Error::Layer {
        layer: layer.index,
        digest: layer.id(),
        reason,
    };
    let compressed_count = Arc::new(AtomicU64::new(0));
    let (blob_hasher, diff_hasher) = match &layer.verify {
        Verify::Blob { digest, .. } => (Some(Hasher::for_digest(digest)), None),
        Verify::DiffId(d) => (None, Some(Hasher::for_digest(d))),
        Verify::None => (None, None),
    };
    let raw = Tap {
        inner: input,
        hasher: blob_hasher,
        count: 0,
        shared: Some(compressed_count.clone()),
    };
    let raw = ProgressTap {
        inner: raw,
        progress: opts.progress.clone(),
    };
    let mut buffered = BufReader::with_capacity(256 * 1024, raw);
    let magic = buffered
        .fill_buf()
        .map_err(|e| err(format!("read error: {e}")))?
        .to_vec();
    let kind = compression(&magic, layer.media_type.as_deref()).map_err(err)?;
    let decoder = match kind {
        "gzip" => Decoder::Gzip(crate::inflate::GzipDecoder::new(buffered)),
        "zstd" => Decoder::Zstd(
            zstd::stream::read::Decoder::with_buffer(buffered)
                .map_err(|e| err(format!("zstd: {e}")))?,
        ),
        _ => Decoder::Plain(buffered),
    };
    let decompressed = Arc::new(AtomicU64::new(0));
    let sparse = Arc::new(AtomicU64::new(0));
    let bounded = Bounded {
        inner: Tap {
            inner: decoder,
            hasher: diff_hasher,
            count: 0,
            shared: Some(decompressed.clone()),
        },
        compressed: compressed_count.clone(),
        sparse: sparse.clone(),
        limits: opts.limits.clone(),
    };
    let mut archive = tar::Archive::new(bounded);
    let mut index = LayerIndex::default();
    let entries = archive
        .entries()
        .map_err(|e| err(format!("not a tar stream: {e}")))?;
    let mut count: u64 = 0;
    for entry in entries {
        let mut entry =
            entry.map_err(|e| err(format!("corrupt or truncated tar ({kind}): {e}")))?;
        count += 1;
        if count > opts.limits.max_layer_entries {
            return Err(err(format!(
                "more than {} entries (the limit on entries per layer)",
                opts.limits.max_layer_entries
            )));
        }
        let raw_name = entry.path_bytes().into_owned();
        let long = |what: &str, r: String| err(format!("{what} {r}"));
        within_path_max(&raw_name).map_err(|r| long("entry name", r))?;
        let Some(path) = normalize_entry(&raw_name).map_err(|r| err(r.to_string()))? else {
            continue; // the layer root itself ("./")
        };
        within_path_max(path.as_bytes()).map_err(|r| long("entry name", r))?;
        let (parent, base) = match path.rsplit_once('/') {
            Some((p, b)) => (p.to_owned(), b),
            None => (String::new(), path.as_str()),
        };
        if base == ".wh..wh..opq" {
            index.entries.push(Entry {
                path: parent.into(),
                op: Op::Opaque,
            });
            continue;
        }
        if let Some(hidden) = base.strip_prefix(".wh.") {
            if hidden.is_empty() || hidden == "." || hidden == ".." {
                return Err(err(format!("invalid whiteout entry '{path}'")));
            }
            let target = if parent.is_empty() {
                hidden.to_owned()
            } else {
                format!("{parent}/{hidden}")
            };
            index.entries.push(Entry {
                path: target.into(),
                op: Op::Whiteout,
            });
            continue;
        }
        if opts.excluded(&path) {
            continue; // --exclude: the tar reader skips its data
        }
        let header = entry.header();
        let mode = header.mode().unwrap_or(0o644);
        let size = entry.size();
        let etype = header.entry_type();
        if etype == tar::EntryType::GNUSparse {
            // The tar reader makes a sparse file's holes itself, as zeros that never pass the
            // bomb guard: a header of 512 bytes can describe a terabyte of them, and reading
            // them (for digests or contents) would never end. Its whole size counts (the
            // data it stores, twice).
            let charged = sparse
                .fetch_add(size, Ordering::Relaxed)
                .saturating_add(size);
            let out = charged.saturating_add(decompressed.load(Ordering::Relaxed));
            let input = compressed_count.load(Ordering::Relaxed);
            if let Some(reason) = inflation(out, input, &opts.limits) {
                return Err(err(format!(
                    "sparse file /{} of {size} bytes: {reason}",
                    shorten(&path)
                )));
            }
        }
        let added = match etype {
            tar::EntryType::Directory => Added::new(NodeKind::Dir, 0, mode),
            tar::EntryType::Symlink => {
                let target = entry.link_name_bytes().unwrap_or_default();
                let link = |r| long(&format!("symbolic link /{}: target", shorten(&path)), r);
                within_path_max(&target).map_err(link)?;
                let target = String::from_utf8_lossy(&target).into_owned();
                within_path_max(target.as_bytes()).map_err(link)?;
                Added::new(NodeKind::Symlink(target.into()), 0, mode)
            }
            tar::EntryType::Link => {
                let target = entry
                    .link_name_bytes()
                    .map(|t| t.into_owned())
                    .unwrap_or_default();
                let link = |r| long(&format!("hard link /{}: target", shorten(&path)), r);
                within_path_max(&target).map_err(link)?;
                let target = normalize_entry(&target)
                    .map_err(|r| err(format!("hard link '{path}': {r}")))?
                    .ok_or_else(|| err(format!("hard link '{path}' points at the root")))?;
                within_path_max(target.as_bytes()).map_err(link)?;
                Added {
                    extra: Extra::new(Some(target.into()), None, None),
                    ..Added::new(NodeKind::File, 0, mode)
                }
            }
            tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => {
                let want = sel.wants_contents(&path);
                let keep = want && fits(size, &path, Some(layer.index), opts, kept, &mut index);
                let probe = Probe {
                    path: &path,
                    mode,
                    size,
                };
                let taken = take(&mut entry, probe, keep, opts, sel, kept).map_err(|e| {
                    err(format!(
                        "corrupt or truncated layer ({kind}) reading /{path}: {e}"
                    ))
                })?;
                Added {
                    extra: Extra {
                        hardlink: None,
                        content: taken.content.map(Arc::from),
                        digests: taken.digests,
                        facts: taken.facts,
                    }
                    .boxed(),
                    ..Added::new(NodeKind::File, size, mode)
                }
            }
            _ => Added::new(NodeKind::Other, 0, mode),
        };
        index.entries.push(Entry {
            path: path.into(),
            op: Op::Add(added),
        });
    }
    // Drain what follows the end-of-archive marker so the digests cover the whole stream.
    let mut bounded = archive.into_inner();
    std::io::copy(&mut bounded, &mut std::io::sink())
        .map_err(|e| err(format!("corrupt or truncated layer ({kind}): {e}")))?;
    let Tap {
        inner: decoder,
        hasher: diff_hasher,
        ..
    } = bounded.inner;
    let mut buffered = decoder.into_inner();
    std::io::copy(&mut buffered, &mut std::io::sink())
        .map_err(|e| err(format!("read error: {e}")))?;
    let raw = buffered.into_inner().inner;
    match &layer.verify {
        Verify::Blob { digest, size } => {
            let actual = raw.hasher.expect("hasher set for blob").finish();
            if let Some(size) = size {
                if *size != raw.count {
                    return Err(Error::SizeMismatch {
                        what: format!("layer {} ({digest})", layer.index),
                        expected: *size,
                        actual: raw.count,
                    });
                }
            }
            if actual != *digest {
                return Err(Error::DigestMismatch {
                    what: format!("layer {}", layer.index),
                    expected: digest.clone(),
                    actual,
                });
            }
        }
        Verify::DiffId(d) => {
            let actual = diff_hasher.expect("hasher set for diff id").finish();
            if actual != *d {
                return Err(Error::DigestMismatch {
                    what: format!("layer {} (uncompressed)", layer.index),
                    expected: d.clone(),
                    actual,
                });
            }
        }
        Verify::None => {}
    }
    Ok(index)
}

struct ProgressTap<R> {
    inner: R,
    progress: Option<Arc<crate::Progress>>,
}

impl<R: Read> Read for ProgressTap<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(p) = &self.progress {
            p.bytes.fetch_add(n as u64, Ordering::Relaxed);
        }
        Ok(n)
    }
}

/// Read an entry's bytes, keeping them if asked and hashing them if asked.
pub(crate) fn read_entry(
    r: &mut impl Read,
    keep: bool,
    digest: bool,
) -> std::io::Result<(Option<Vec<u8>>, Option<FileDigests>)> {
    read_entry_into(r, keep, digest.then(Digester::default))
}

/// [`read_entry`] through a digester that may already hold the entry's first bytes.
pub(crate) fn read_entry_into(
    r: &mut dyn Read,
    keep: bool,
    mut digester: Option<Digester>,
) -> std::io::Result<(Option<Vec<u8>>, Option<FileDigests>)> {
    let mut kept = keep.then(Vec::new);
    let mut buf = [0u8; 64 * 1024];
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            break;
        }
        if let Some(k) = &mut kept {
            k.extend_from_slice(&buf[..n]);
        }
        if let Some(d) = &mut digester {
            d.update(&buf[..n]);
        }
    }
    Ok((kept, digester.map(Digester::finish)))
}

/// A tar entry name or link name of `PATH_MAX` bytes or more is refused, as read (before
/// it is normalized: splitting a hostile name of megabytes into its segments cost eight
/// times its size) and as kept (each byte that is not UTF-8 is kept as three): no Linux
/// system could use it.
fn within_path_max(name: &[u8]) -> std::result::Result<(), String> {
    if name.len() < MAX_PATH_BYTES {
        return Ok(());
    }
    Err(format!(
        "'{}…' of {} bytes is over the kernel's {MAX_PATH_BYTES}-byte limit",
        String::from_utf8_lossy(&name[..64]),
        name.len()
    ))
}

/// Normalize a tar entry name to an image path without a leading `/`. Names that are
/// absolute or that climb above the image root are refused: no image builder writes them,
/// and a consumer that extracted them would write outside its target.
pub(crate) fn normalize_entry(raw: &[u8]) -> std::result::Result<Option<String>, String> {
    let name = String::from_utf8_lossy(raw);
    if name.starts_with('/') {
        return Err(format!(
            "entry name '{name}' is absolute (path traversal refused)"
        ));
    }
    let mut parts: Vec<&str> = Vec::new();
    for seg in name.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(format!(
                        "entry name '{name}' climbs out of the image root (path traversal refused)"
                    ));
                }
            }
            s => parts.push(s),
        }
    }
    Ok((!parts.is_empty()).then(|| parts.join("/")))
}

#[cfg(test)]
mod tests {
    use super::normalize_entry;

    #[test]
    fn names_are_normalized_inside_the_root() {
        assert_eq!(
            normalize_entry(b"./etc/passwd").unwrap().as_deref(),
            Some("etc/passwd")
        );
        assert_eq!(
            normalize_entry(b"usr//lib/./x").unwrap().as_deref(),
            Some("usr/lib/x")
        );
        assert_eq!(normalize_entry(b"a/../b").unwrap().as_deref(), Some("b"));
        assert_eq!(normalize_entry(b"./").unwrap(), None);
    }

    #[test]
    fn traversal_and_absolute_names_are_refused() {
        assert!(normalize_entry(b"../etc/passwd")
            .unwrap_err()
            .contains("path traversal"));
        assert!(normalize_entry(b"a/../../x").is_err());
        assert!(normalize_entry(b"/etc/passwd")
            .unwrap_err()
            .contains("absolute"));
    }
}

#[cfg(test)]
mod path_max_tests {
    use crate::fuzzing::{scan_layer_bytes, small_limits};
    use std::time::{Duration, Instant};

    fn layer(kind: tar::EntryType, name: &str, target: Option<&str>) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(0o644);
        h.set_size(0);
        match target {
            Some(t) => b.append_link(&mut h, name, t).unwrap(),
            None => b.append_data(&mut h, name, std::io::empty()).unwrap(),
        }
        b.into_inner().unwrap()
    }

    /// A name no Linux system could have was kept as a path (the class of the fuzzer's
    /// finding below).
    #[test]
    fn a_gnu_long_name_over_path_max_is_refused() {
        let name = format!("opt/{}/file", "n/".repeat(2100));
        let err = scan_layer_bytes(
            &layer(tar::EntryType::Regular, &name, None),
            &small_limits(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("entry name") && err.contains("4096-byte"),
            "{err}"
        );
        assert!(err.len() < 400, "the message quotes the name whole");
        let ok = format!("opt/{}", "n/".repeat(2040));
        assert!(
            scan_layer_bytes(&layer(tar::EntryType::Regular, &ok, None), &small_limits()).is_ok()
        );
    }

    #[test]
    fn link_targets_over_path_max_are_refused() {
        let far = format!("/{}", "t/".repeat(2100));
        for kind in [tar::EntryType::Symlink, tar::EntryType::Link] {
            let err = scan_layer_bytes(&layer(kind, "l", Some(&far[1..])), &small_limits())
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("link /l: target") && err.contains("4096-byte"),
                "{err}"
            );
        }
    }

    /// The `layer` fuzz target's finding: a GNU long name of 3,813 bytes, some of them not
    /// UTF-8, was kept as a path of 4,159 bytes (each invalid byte becomes U+FFFD, three
    /// bytes), past the path limit.
    #[test]
    fn a_name_under_path_max_that_is_not_utf8_is_refused_when_it_grows_past_it() {
        let mut name = vec![b'n'; 3000];
        name.extend_from_slice(&[0xff; 600]);
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(0);
        h.set_mode(0o644);
        let mut b = tar::Builder::new(Vec::new());
        // A GNU long name entry carries the raw bytes.
        let mut long = tar::Header::new_gnu();
        long.set_entry_type(tar::EntryType::GNULongName);
        long.as_gnu_mut().unwrap().name[..13].copy_from_slice(b"././@LongLink");
        long.set_size(name.len() as u64);
        long.set_cksum();
        b.append(&long, &name[..]).unwrap();
        h.set_path("placeholder").unwrap();
        h.set_cksum();
        b.append(&h, std::io::empty()).unwrap();
        let err = scan_layer_bytes(&b.into_inner().unwrap(), &small_limits())
            .unwrap_err()
            .to_string();
        assert!(err.contains("of 4800 bytes"), "{err}");
    }

    /// A megabyte name of `a/a/a/…` cost 8 MB of segments before it was ever refused.
    #[test]
    fn a_megabyte_name_is_refused_before_it_is_split() {
        let name = "a/".repeat(1 << 19);
        let bytes = layer(tar::EntryType::Regular, &name, None);
        let limits = crate::Limits {
            max_layer_bytes: 4 << 20,
            ..small_limits()
        };
        let start = Instant::now();
        let err = scan_layer_bytes(&bytes, &limits).unwrap_err().to_string();
        assert!(err.contains("of 1048576 bytes"), "{err}");
        assert!(start.elapsed() < Duration::from_secs(2));
    }
}

#[cfg(test)]
mod sparse_tests {
    use crate::fuzzing::{keep_everything, scan_layer_bytes, scan_layers, small_limits};
    use std::time::{Duration, Instant};

    /// One GNU sparse header: `real` bytes of file, all hole but `data` at its end.
    fn sparse_layer(real: u64, data: &[u8]) -> Vec<u8> {
        let mut h = tar::Header::new_gnu();
        h.set_path("sparse.img").unwrap();
        h.set_entry_type(tar::EntryType::GNUSparse);
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        let gnu = h.as_gnu_mut().unwrap();
        gnu.sparse[0].set_offset(real - data.len() as u64);
        gnu.sparse[0].set_length(data.len() as u64);
        gnu.set_real_size(real);
        h.set_cksum();
        let mut b = tar::Builder::new(Vec::new());
        b.append(&h, data).unwrap();
        b.into_inner().unwrap()
    }

    /// A 2 KB layer whose one sparse file is a terabyte of hole: reading it (for its
    /// digests, or its contents) produced the hole's zeros without end, since they come from
    /// the tar reader and not through the decompressed stream the bomb guard counts.
    #[test]
    fn a_terabyte_sparse_file_in_one_header_is_a_bomb() {
        let layer = sparse_layer(1 << 40, &[b'x'; 512]);
        assert_eq!(layer.len(), 2048);
        let start = Instant::now();
        for opts in [
            keep_everything(&small_limits()),
            crate::ScanOptions::default(),
        ] {
            let err = scan_layers(&[&layer], &opts).unwrap_err().to_string();
            assert!(
                err.contains("sparse file /sparse.img of 1099511627776 bytes")
                    && err.contains("exceeds the limit"),
                "{err}"
            );
        }
        assert!(start.elapsed() < Duration::from_secs(5));
    }

    /// Under the size limit, past the bomb floor: 300 MiB from a 2 KB layer is a bomb.
    #[test]
    fn a_300_mib_sparse_file_in_one_header_is_a_bomb() {
        let layer = sparse_layer(300 << 20, &[b'x'; 512]);
        let err = scan_layers(&[&layer], &crate::ScanOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("decompression bomb"), "{err}");
    }

    /// A small sparse file is read whole, holes as zeros.
    #[test]
    fn a_small_sparse_file_is_read_with_its_holes() {
        let limits = small_limits();
        let view = scan_layer_bytes(&sparse_layer(2048, &[b'x'; 512]), &limits).unwrap();
        let c = view.read("/sparse.img").unwrap().unwrap();
        assert_eq!(c.len(), 2048);
        assert!(c[..1536].iter().all(|&b| b == 0) && c[1536..].iter().all(|&b| b == b'x'));
        crate::fuzzing::assert_within_limits(&view, &limits);
    }
}
