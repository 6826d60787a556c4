//! The client workflow's I/O (specification §5), around [`TrustedSet`].
//!
//! The updater reads and writes the local metadata directory, fetches through
//! a [`Fetcher`], and decides what to load in which order; every trust
//! decision is the [`TrustedSet`]'s. Read [`Updater::refresh`] side by side
//! with §5.3–5.6 and [`Updater::target_info`] with §5.6.7.
//!
//! Local files: accepted metadata only, under unversioned names
//! (`root.json`, `timestamp.json`, `snapshot.json`, `targets.json`, and
//! delegated roles as `quote(name).json`), each written atomically (temporary
//! file in the same directory, then rename; root is also flushed to disk
//! first). A failed update therefore leaves the previously trusted files as
//! they were. Targets are written the same way, and only after their length
//! and hashes check.

use crate::config::Config;
use crate::error::{Error, Result};
use crate::fetcher::{FetchError, Fetcher};
use crate::metadata::{MultiHasher, Role, TargetFile};
use crate::trusted::{next_version, TrustedSet};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A TUF client for one repository and one local metadata directory.
pub struct Updater<F: Fetcher> {
    dir: PathBuf,
    metadata_base_url: String,
    fetcher: F,
    config: Config,
    trusted: TrustedSet,
}

impl<F: Fetcher> Updater<F> {
    /// §5.1–5.2: reads the clock once (the reference time for every expiry
    /// check of this update) and loads the trusted `root.json` from `dir`.
    pub fn new(dir: &Path, metadata_base_url: &str, fetcher: F, config: Config) -> Result<Self> {
        Self::with_reference_time(
            dir,
            metadata_base_url,
            fetcher,
            config,
            crate::time::now_unix(),
        )
    }

    /// Like [`Updater::new`] with an explicit reference time (Unix seconds).
    pub fn with_reference_time(
        dir: &Path,
        metadata_base_url: &str,
        fetcher: F,
        config: Config,
        reference_time: i64,
    ) -> Result<Self> {
        let root_path = dir.join("root.json");
        let data = std::fs::read(&root_path).map_err(|e| Error::io(&root_path, e))?;
        let trusted = TrustedSet::new(&data, reference_time)?;
        Ok(Updater {
            dir: dir.to_path_buf(),
            metadata_base_url: with_slash(metadata_base_url),
            fetcher,
            config,
            trusted,
        })
    }

    pub fn trusted(&self) -> &TrustedSet {
        &self.trusted
    }

    pub fn fetcher(&self) -> &F {
        &self.fetcher
    }

    /// §5.3–5.6: updates root, timestamp, snapshot and top-level targets.
    pub fn refresh(&mut self) -> Result<()> {
        self.load_root()?;
        self.load_timestamp()?;
        self.load_snapshot()?;
        self.load_targets("targets", "root")?;
        Ok(())
    }

    /// §5.3: fetch root N+1 until there is none, at most `max_root_rotations`.
    fn load_root(&mut self) -> Result<()> {
        let start_root = self.trusted.root().clone();
        let mut rotations = 0;
        loop {
            if rotations == self.config.max_root_rotations {
                // Stop: the remaining roots (if any) wait for the next update.
                break;
            }
            // N+1 of the root trusted now; a root at u64::MAX has none, and
            // is refused rather than wrapped round to "0.root.json".
            let version = next_version("root", self.trusted.root().version())?;
            // 5.3.2–5.3.3: fetch N+1.root.json, at most root_max_length bytes.
            let url = format!("{}{version}.root.json", self.metadata_base_url);
            let data = match self.fetcher.fetch(&url, self.config.root_max_length) {
                Ok(d) => d,
                Err(FetchError::NotFound(_)) => break,
                Err(e) => {
                    return Err(fetch_error(
                        &url,
                        &format!("root v{version}"),
                        e,
                        self.config.root_max_length,
                    ))
                }
            };
            // 5.3.4–5.3.8: verify and trust; 5.3.8 persist.
            self.trusted.update_root(&data)?;
            self.persist("root", &data)?;
            // 5.3.11, applied as soon as each root is persisted so that a
            // later failure in the chain cannot skip it.
            self.forget_if_rotated(&start_root)?;
            rotations += 1;
            // 5.3.9: repeat.
        }
        // 5.3.10 (final root not expired) is checked by update_timestamp.
        Ok(())
    }

    /// §5.3.11: if the timestamp or snapshot keys changed since `start_root`,
    /// delete the trusted timestamp and snapshot, so that versions an attacker
    /// fast-forwarded with the old keys do not block the recovered repository.
    fn forget_if_rotated(&self, start_root: &crate::metadata::Root) -> Result<()> {
        let new_root = self.trusted.root();
        let rotated = |role: &str| {
            let a: BTreeSet<&String> = start_root.roles[role].keyids.iter().collect();
            let b: BTreeSet<&String> = new_root.roles[role].keyids.iter().collect();
            a != b
        };
        if rotated("timestamp") || rotated("snapshot") {
            self.remove_local("timestamp")?;
            self.remove_local("snapshot")?;
        }
        Ok(())
    }

    /// §5.4: timestamp. The local copy (if it verifies) is the rollback
    /// baseline; the remote one is always fetched.
    fn load_timestamp(&mut self) -> Result<()> {
        if let Some(data) = self.read_local("timestamp") {
            // Errors here are fine: the local copy may be expired or stale.
            let _ = self.trusted.update_timestamp(&data);
        }
        let url = format!("{}timestamp.json", self.metadata_base_url);
        let limit = self.config.timestamp_max_length;
        let data = self
            .fetcher
            .fetch(&url, limit)
            .map_err(|e| fetch_error(&url, "timestamp", e, limit))?;
        match self.trusted.update_timestamp(&data) {
            Ok(_) => self.persist("timestamp", &data),
            // Same version as trusted: keep the local file, nothing new.
            Err(Error::EqualVersion { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// §5.5: snapshot. A valid local copy of the version timestamp lists is
    /// used as is; otherwise it is fetched (as `V.snapshot.json` with
    /// consistent snapshots).
    fn load_snapshot(&mut self) -> Result<()> {
        if let Some(data) = self.read_local("snapshot") {
            if self.trusted.update_snapshot(&data, true).is_ok() {
                return Ok(());
            }
        }
        let ts = self
            .trusted
            .timestamp()
            .ok_or(Error::Order("no timestamp"))?;
        let meta = ts.snapshot_meta();
        let limit = meta.length.unwrap_or(self.config.snapshot_max_length);
        let url = if self.trusted.root().consistent_snapshot() {
            format!("{}{}.snapshot.json", self.metadata_base_url, meta.version)
        } else {
            format!("{}snapshot.json", self.metadata_base_url)
        };
        let data = self
            .fetcher
            .fetch(&url, limit)
            .map_err(|e| fetch_error(&url, "snapshot", e, limit))?;
        self.trusted.update_snapshot(&data, false)?;
        self.persist("snapshot", &data)
    }

    /// §5.6: targets metadata of `role` as delegated by `delegator`: from the
    /// trusted set if already loaded (re-verified for this delegator), else
    /// the local copy if it is the version snapshot lists, else fetched.
    fn load_targets(&mut self, role: &str, delegator: &str) -> Result<()> {
        if self.trusted.cached_targets_for(role, delegator)?.is_some() {
            return Ok(());
        }
        if let Some(data) = self.read_local(role) {
            if self
                .trusted
                .update_delegated_targets(&data, role, delegator)
                .is_ok()
            {
                return Ok(());
            }
        }
        let snap = self.trusted.snapshot().ok_or(Error::Order("no snapshot"))?;
        // Only roles listed in snapshot are fetched at all.
        let meta = snap
            .meta
            .get(&format!("{role}.json"))
            .ok_or_else(|| Error::NotInSnapshot { role: role.into() })?;
        let limit = meta.length.unwrap_or(self.config.targets_max_length);
        let url = if self.trusted.root().consistent_snapshot() {
            format!(
                "{}{}.{}.json",
                self.metadata_base_url,
                meta.version,
                quote(role)
            )
        } else {
            format!("{}{}.json", self.metadata_base_url, quote(role))
        };
        let data = self
            .fetcher
            .fetch(&url, limit)
            .map_err(|e| fetch_error(&url, role, e, limit))?;
        self.trusted
            .update_delegated_targets(&data, role, delegator)?;
        self.persist(role, &data)
    }

    /// §5.6.7: the target's description from the most trusted role that
    /// lists it, found by pre-order depth-first search of the delegations,
    /// visiting each role at most once and at most `max_delegations` roles.
    /// Refreshes first if top-level targets are not loaded yet.
    pub fn target_info(&mut self, target_path: &str) -> Result<Option<TargetFile>> {
        if self.trusted.targets("targets").is_none() {
            self.refresh()?;
        }
        let mut stack: Vec<(String, String)> = vec![("targets".into(), "root".into())];
        let mut visited: BTreeSet<String> = BTreeSet::new();
        while let Some((role, delegator)) = stack.pop() {
            // 5.6.7.1: at most max_delegations roles (bandwidth and time)...
            if visited.len() >= self.config.max_delegations {
                break;
            }
            // ...and a role already visited is skipped (cycles).
            if visited.contains(&role) {
                continue;
            }
            // Metadata that cannot be fetched or verified ends the search.
            self.load_targets(&role, &delegator)?;
            let targets = self.trusted.targets(&role).expect("load_targets loaded it");
            if let Some(t) = targets.targets.get(target_path) {
                return Ok(Some(t.clone()));
            }
            visited.insert(role.clone());
            // 5.6.7.2: the delegations that cover this path, in order.
            let mut children = Vec::new();
            for (child, terminating) in self.trusted.roles_for_target(&role, target_path) {
                children.push((child, role.clone()));
                if terminating {
                    // 5.6.7.2.1: a terminating delegation ends backtracking.
                    stack.clear();
                    break;
                }
            }
            stack.extend(children.into_iter().rev());
        }
        Ok(None)
    }

    /// §5.7: downloads `target_path` described by `info` from
    /// `target_base_url` to `dest`. The file is streamed into a temporary file
    /// beside `dest`, at most `info.length` bytes, and renamed into place only
    /// when length and every hash match.
    pub fn download_target(
        &self,
        target_path: &str,
        info: &TargetFile,
        target_base_url: &str,
        dest: &Path,
    ) -> Result<()> {
        let base = with_slash(target_base_url);
        let url_path =
            if self.trusted.root().consistent_snapshot() && self.config.prefix_targets_with_hash {
                let (_, hash) = info
                    .hashes
                    .iter()
                    .next()
                    .ok_or_else(|| Error::schema(target_path, "target has no hashes"))?;
                match target_path.rsplit_once('/') {
                    Some((dir, name)) => format!("{dir}/{hash}.{name}"),
                    None => format!("{hash}.{target_path}"),
                }
            } else {
                target_path.to_string()
            };
        let url = format!("{base}{}", quote_path(&url_path));
        let parent = dest.parent().unwrap_or(Path::new("."));
        let mut tmp = tempfile::NamedTempFile::new_in(parent).map_err(|e| Error::io(parent, e))?;
        let mut hasher = MultiHasher::new(target_path, &info.hashes)?;
        let mut w = HashWriter {
            hasher: &mut hasher,
            inner: tmp.as_file_mut(),
            written: 0,
        };
        self.fetcher
            .fetch_to(&url, info.length, &mut w)
            .map_err(|e| fetch_error(&url, target_path, e, info.length))?;
        let written = w.written;
        if written != info.length {
            return Err(Error::LengthMismatch {
                what: target_path.into(),
                expected: info.length,
                found: written,
            });
        }
        hasher.finish()?;
        tmp.persist(dest).map_err(|e| Error::io(dest, e.error))?;
        Ok(())
    }

    fn local_path(&self, role: &str) -> PathBuf {
        self.dir.join(format!("{}.json", quote(role)))
    }

    fn read_local(&self, role: &str) -> Option<Vec<u8>> {
        std::fs::read(self.local_path(role)).ok()
    }

    fn remove_local(&self, role: &str) -> Result<()> {
        let path = self.local_path(role);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io(&path, e)),
        }
    }

    /// Writes accepted metadata atomically. Only root is also flushed to
    /// disk before the rename: it is the trust anchor, and losing it would
    /// need a new out-of-band root. Any other file lost or torn by a power
    /// cut fails verification next time and is fetched again.
    fn persist(&self, role: &str, data: &[u8]) -> Result<()> {
        let path = self.local_path(role);
        if role == "root" {
            write_atomic(&path, data)
        } else {
            write_replace(&path, data, false)
        }
    }
}

/// The local file name of a target: the target path percent-encoded into
/// one file name inside `target_dir`.
pub fn target_file_path(target_dir: &Path, target_path: &str) -> PathBuf {
    target_dir.join(quote(target_path))
}

/// Whether `path` already holds exactly `info`'s content.
pub fn is_cached(info: &TargetFile, path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    if !meta.is_file() || meta.len() != info.length {
        return false;
    }
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    let Ok(mut hasher) = MultiHasher::new("cached target", &info.hashes) else {
        return false;
    };
    let mut w = HashWriter {
        hasher: &mut hasher,
        inner: std::io::sink(),
        written: 0,
    };
    std::io::copy(&mut file, &mut w).is_ok() && hasher.finish().is_ok()
}

/// Writes `data` to `path` through a temporary file in the same directory,
/// flushed to disk, then a rename: readers see either the old or the new
/// file, never a mix, even after a power cut.
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    write_replace(path, data, true)
}

fn write_replace(path: &Path, data: &[u8], sync: bool) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io(dir, e))?;
    tmp.write_all(data).map_err(|e| Error::io(path, e))?;
    if sync {
        tmp.as_file().sync_all().map_err(|e| Error::io(path, e))?;
    }
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

struct HashWriter<'h, 'a, W: Write> {
    hasher: &'h mut MultiHasher<'a>,
    inner: W,
    written: u64,
}

impl<W: Write> Write for HashWriter<'_, '_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn fetch_error(url: &str, what: &str, e: FetchError, limit: u64) -> Error {
    match e {
        FetchError::TooLarge => Error::TooLarge {
            what: what.into(),
            limit,
        },
        e => Error::Fetch {
            url: url.into(),
            reason: e.to_string(),
        },
    }
}

fn with_slash(url: &str) -> String {
    if url.ends_with('/') {
        url.to_string()
    } else {
        format!("{url}/")
    }
}

/// Percent-encodes everything but `A-Za-z0-9_.-~`, like Python's
/// `urllib.parse.quote(name, safe="")`: role names become one URL segment
/// and one file name, whatever they contain (`/`, `..`, `?`, `#`).
pub fn quote(s: &str) -> String {
    quote_with(s, b"")
}

/// Like [`quote`] but keeps `/`, for target paths inside URLs.
pub fn quote_path(s: &str) -> String {
    quote_with(s, b"/")
}

fn quote_with(s: &str, safe: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || b"_.-~".contains(&b) || safe.contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_matches_python() {
        assert_eq!(quote("../delegatedrole"), "..%2Fdelegatedrole");
        assert_eq!(quote("?"), "%3F");
        assert_eq!(quote("#"), "%23");
        assert_eq!(quote("a b~c"), "a%20b~c");
        assert_eq!(quote("é"), "%C3%A9");
        assert_eq!(quote_path("a/b c"), "a/b%20c");
    }
}
