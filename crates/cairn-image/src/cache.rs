//! `--cache-dir`: a content-addressed cache of blobs in front of a slow store (a registry).
//!
//! A rescan of images that share base layers downloads only the layers it has not seen.
//! The cache holds a blob as `DIR/blobs/ALG/HEX`, named by its digest, and nothing else.
//! - **Never trusted without its digest.** A blob is written to a temporary file in
//!   `DIR/tmp` while it streams to the scan, hashed as it goes, and renamed into place only
//!   when the whole stream has arrived and hashes to its name. A cached copy is read back
//!   through the same streamed digest check as any blob (`layer.rs`); a copy that fails it
//!   is deleted ([`Store::rejected`]), so the next run fetches it again.
//! - **Safe under concurrent processes.** Temporary names are unique, the rename is atomic,
//!   two processes fetching one blob both rename a correct copy into place, and eviction
//!   tolerates files that another process removed first. A reader keeps an evicted file
//!   open until it is done with it.
//! - **Bounded.** After each blob is added, the least recently used blobs (by modification
//!   time, touched on every use) are removed until the cache is under its size, and
//!   temporary files older than a day (left by a process that died mid-download) go too.
//!
//! Manifests and configs are not cached: a tag's manifest must come from the registry each
//! time, and the rest are small.

use crate::error::{io_err, Result};
use crate::layer::Hasher;
use crate::source::split_digest;
use crate::store::{BlobStream, Store};
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

/// Where the cache is and how big it may grow.
#[derive(Clone, Debug)]
pub struct CacheOptions {
    pub dir: PathBuf,
    /// The most bytes of blobs kept; the least recently used go first past it.
    pub max_bytes: u64,
}

impl CacheOptions {
    /// The default bound: 20 GiB.
    pub const DEFAULT_MAX_BYTES: u64 = 20 << 30;
}

/// A store whose blobs are kept in the cache on their way to the scan.
#[derive(Debug)]
pub(crate) struct Cached {
    inner: Arc<dyn Store>,
    options: CacheOptions,
}

impl Cached {
    pub fn new(inner: Arc<dyn Store>, options: &CacheOptions) -> Result<Cached> {
        for sub in ["blobs", "tmp"] {
            let d = options.dir.join(sub);
            std::fs::create_dir_all(&d).map_err(io_err(&d))?;
        }
        Ok(Cached {
            inner,
            options: options.clone(),
        })
    }

    /// Where the blob `digest` is kept; `None` for a name that is not a digest.
    fn path(&self, digest: &str) -> Option<PathBuf> {
        let (alg, hex) = split_digest(digest).ok()?;
        Some(self.options.dir.join("blobs").join(alg).join(hex))
    }
}

impl Store for Cached {
    fn open(&self, name: &str, size: Option<u64>) -> Result<BlobStream<'_>> {
        let Some(path) = self.path(name) else {
            return self.inner.open(name, size);
        };
        // The use is what keeps it: least recently used goes first. A cache this process
        // may only read is still used.
        let cached = match File::options().read(true).write(true).open(&path) {
            Ok(f) => {
                let _ = f.set_modified(SystemTime::now());
                Ok(f)
            }
            Err(_) => File::open(&path),
        };
        if let Ok(f) = cached {
            return Ok(Box::new(std::io::BufReader::with_capacity(256 * 1024, f)));
        }
        let stream = self.inner.open(name, size)?;
        let tmp = self.options.dir.join("tmp");
        let Ok(file) = tempfile::Builder::new().prefix("blob-").tempfile_in(&tmp) else {
            // A cache that cannot be written to does not stop the scan.
            return Ok(stream);
        };
        Ok(Box::new(Tee {
            inner: stream,
            file: Some(file),
            hasher: Hasher::for_digest(name),
            digest: name.to_owned(),
            dest: path,
            cache: self.options.clone(),
        }))
    }

    fn read_small(&self, name: &str, limit: u64) -> Result<Vec<u8>> {
        self.inner.read_small(name, limit)
    }

    fn read_manifest(&self, digest: &str, limit: u64) -> Result<Vec<u8>> {
        self.inner.read_manifest(digest, limit)
    }

    fn remote(&self) -> bool {
        self.inner.remote()
    }

    fn rejected(&self, name: &str) {
        if let Some(p) = self.path(name) {
            let _ = std::fs::remove_file(p);
        }
        self.inner.rejected(name);
    }
}

/// A blob streaming to the scan and, beside it, into a temporary file of the cache.
struct Tee<'a> {
    inner: BlobStream<'a>,
    /// `None` once the copy is abandoned (a write failed) or finished.
    file: Option<tempfile::NamedTempFile>,
    hasher: Hasher,
    digest: String,
    dest: PathBuf,
    cache: CacheOptions,
}

impl Tee<'_> {
    /// The whole blob has streamed: keep it if it is what its name says.
    fn finish(&mut self) {
        let Some(file) = self.file.take() else { return };
        let hasher = std::mem::replace(&mut self.hasher, Hasher::for_digest(&self.digest));
        if hasher.finish() != self.digest {
            return; // dropped with the temporary file; the scan reports the mismatch
        }
        if let Some(dir) = self.dest.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        if file.persist(&self.dest).is_ok() {
            evict(&self.cache);
        }
    }
}

impl Read for Tee<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 {
            self.finish();
            return Ok(0);
        }
        if let Some(f) = &mut self.file {
            self.hasher.update(&buf[..n]);
            if f.write_all(&buf[..n]).is_err() {
                self.file = None; // a full disk costs the copy, not the scan
            }
        }
        Ok(n)
    }
}

/// How old a temporary file must be before eviction takes it for the leftover of a process
/// that died mid-download (a live download writes to its file all the time).
const STALE_TEMP: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Remove the least recently used blobs until the cache is under its bound, and the
/// temporary files that dead processes left.
fn evict(cache: &CacheOptions) {
    if let Ok(dir) = std::fs::read_dir(cache.dir.join("tmp")) {
        for e in dir.flatten() {
            let stale = e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > STALE_TEMP);
            if stale {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    let mut blobs = Vec::new();
    let mut total = 0u64;
    for alg in ["sha256", "sha512"] {
        let Ok(dir) = std::fs::read_dir(cache.dir.join("blobs").join(alg)) else {
            continue;
        };
        for e in dir.flatten() {
            let Ok(meta) = e.metadata() else { continue };
            if !meta.is_file() {
                continue;
            }
            total += meta.len();
            let used = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            blobs.push((used, meta.len(), e.path()));
        }
    }
    blobs.sort();
    for (_, len, path) in blobs {
        if total <= cache.max_bytes {
            break;
        }
        if std::fs::remove_file(&path).is_ok() || !Path::new(&path).exists() {
            total = total.saturating_sub(len);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eviction_keeps_the_bound_and_clears_stale_downloads_only() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CacheOptions {
            dir: dir.path().to_owned(),
            max_bytes: 25,
        };
        let blobs = dir.path().join("blobs/sha256");
        let tmp = dir.path().join("tmp");
        std::fs::create_dir_all(&blobs).unwrap();
        std::fs::create_dir_all(&tmp).unwrap();
        let day = std::time::Duration::from_secs(24 * 3600);
        let now = SystemTime::now();
        let put = |path: PathBuf, len: usize, age: std::time::Duration| {
            std::fs::write(&path, vec![0u8; len]).unwrap();
            File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_modified(now - age)
                .unwrap();
            path
        };
        let oldest = put(blobs.join("a"), 10, 3 * day);
        let older = put(blobs.join("b"), 10, 2 * day);
        let newest = put(blobs.join("c"), 10, day / 2);
        let stale = put(tmp.join("blob-dead"), 5, 2 * day);
        let live = put(tmp.join("blob-live"), 5, std::time::Duration::from_secs(5));
        evict(&cache);
        assert!(!oldest.exists(), "least recently used goes first");
        assert!(
            older.exists() && newest.exists(),
            "20 bytes are under the bound of 25"
        );
        assert!(!stale.exists(), "a day-old download is a dead process's");
        assert!(live.exists(), "a download in progress is left alone");
    }
}
