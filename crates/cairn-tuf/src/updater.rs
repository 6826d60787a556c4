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
use crate::fetcher::{Body, FetchError, Fetcher, Request};
use crate::metadata::{MultiHasher, Role, TargetFile};
use crate::trusted::{next_version, ParsedTargets, TrustedSet};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The most files [`Updater::target_infos`] and [`Updater::download_targets`]
/// hand to the fetcher in one batch (also the most target files open at once).
pub const MAX_BATCH_FILES: usize = 64;
/// The most bytes, by their limits, of the metadata files of one batch of
/// [`Updater::target_infos`] (at least one file per batch whatever its limit).
pub const MAX_BATCH_BYTES: u64 = 256 << 20;

/// One target for [`Updater::download_targets`]: its path, its trusted
/// description (from [`Updater::target_info`]) and the file to write.
#[derive(Debug, Clone, Copy)]
pub struct Download<'a> {
    pub target_path: &'a str,
    pub info: &'a TargetFile,
    pub dest: &'a Path,
}

/// Where to fetch a role's metadata, and its byte limit.
struct MetaFetch {
    url: String,
    limit: u64,
}

/// Fetches one batch of roles' metadata, each parsed where it was fetched.
fn fetch_metadata<'b, F: Fetcher + ?Sized>(
    fetcher: &F,
    batch: &'b [(String, String, MetaFetch)],
) -> Vec<(Result<u64, FetchError>, MetaBody<'b>)> {
    let mut bodies: Vec<MetaBody<'b>> = batch
        .iter()
        .map(|(role, _, _)| MetaBody {
            role,
            data: Vec::new(),
            parsed: None,
        })
        .collect();
    let mut requests: Vec<Request<'_>> = batch
        .iter()
        .zip(bodies.iter_mut())
        .map(|((_, _, f), body)| Request {
            url: f.url.clone(),
            max_length: f.limit,
            out: body,
        })
        .collect();
    let results = fetcher.fetch_batch(&mut requests);
    drop(requests);
    results.into_iter().zip(bodies).collect()
}

/// A role's metadata as it is fetched, parsed on the fetching thread
/// ([`Body::complete`]).
struct MetaBody<'r> {
    role: &'r str,
    data: Vec<u8>,
    parsed: Option<ParsedTargets>,
}

impl Write for MetaBody<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.data.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Body for MetaBody<'_> {
    fn complete(&mut self) {
        let data = std::mem::take(&mut self.data);
        self.parsed = Some(ParsedTargets::parse(self.role, data));
    }
}

/// One target's delegation search (§5.6.7): roles still to visit (with
/// their delegators), roles visited, and what was found.
struct Search {
    path: String,
    stack: Vec<(String, String)>,
    visited: BTreeSet<String>,
    found: Option<TargetFile>,
}

impl Search {
    fn new(path: &str) -> Self {
        Search {
            path: path.to_string(),
            stack: vec![("targets".into(), "root".into())],
            visited: BTreeSet::new(),
            found: None,
        }
    }
}

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
        let Some(fetch) = self.targets_to_fetch(role, delegator)? else {
            return Ok(());
        };
        let data = self
            .fetcher
            .fetch(&fetch.url, fetch.limit)
            .map_err(|e| fetch_error(&fetch.url, role, e, fetch.limit))?;
        self.accept_targets(role, delegator, &data)
    }

    /// The first half of [`Updater::load_targets`]: `None` when `role` is
    /// loaded (from the trusted set or the local copy), else what to fetch.
    fn targets_to_fetch(&mut self, role: &str, delegator: &str) -> Result<Option<MetaFetch>> {
        if self.trusted.cached_targets_for(role, delegator)?.is_some() {
            return Ok(None);
        }
        if let Some(data) = self.read_local(role) {
            if self
                .trusted
                .update_delegated_targets(&data, role, delegator)
                .is_ok()
            {
                return Ok(None);
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
        Ok(Some(MetaFetch { url, limit }))
    }

    /// The second half: verify fetched `data` as `role` for `delegator`, and
    /// keep it.
    fn accept_targets(&mut self, role: &str, delegator: &str, data: &[u8]) -> Result<()> {
        self.trusted
            .update_delegated_targets(data, role, delegator)?;
        self.persist(role, data)
    }

    /// §5.6.7: the target's description from the most trusted role that
    /// lists it, found by pre-order depth-first search of the delegations,
    /// visiting each role at most once and at most `max_delegations` roles.
    /// Refreshes first if top-level targets are not loaded yet.
    pub fn target_info(&mut self, target_path: &str) -> Result<Option<TargetFile>> {
        Ok(self.target_infos(&[target_path])?.pop().flatten())
    }

    /// [`Updater::target_info`] for each of `target_paths`, in order, with the
    /// metadata the searches need fetched together: the searches advance in
    /// step, and each step's roles that none has loaded yet are fetched as one
    /// batch ([`Fetcher::fetch_batch`]), then verified and trusted one after
    /// another in the order the searches asked for them. Each search visits
    /// the roles, in the order, that [`Updater::target_info`] alone would; a
    /// role that cannot be fetched or verified fails the whole call.
    ///
    /// A step's batch holds at most [`MAX_BATCH_FILES`] files and at most
    /// [`MAX_BATCH_BYTES`] of byte limits, so unverified metadata in memory
    /// stays bounded whatever the repository lists.
    pub fn target_infos<S: AsRef<str>>(
        &mut self,
        target_paths: &[S],
    ) -> Result<Vec<Option<TargetFile>>> {
        if self.trusted.targets("targets").is_none() {
            self.refresh()?;
        }
        let mut searches: Vec<Search> = target_paths
            .iter()
            .map(|p| Search::new(p.as_ref()))
            .collect();
        loop {
            // Advance every search until it needs a role nobody has loaded.
            let mut needed: Vec<(String, String)> = Vec::new();
            let mut queued: BTreeSet<String> = BTreeSet::new();
            for search in &mut searches {
                if let Some((role, delegator)) = self.advance(search)? {
                    if queued.insert(role.clone()) {
                        needed.push((role, delegator));
                    }
                }
            }
            if needed.is_empty() {
                break;
            }
            // Local copies first; the rest is fetched in bounded batches.
            let mut to_fetch: Vec<(String, String, MetaFetch)> = Vec::new();
            for (role, delegator) in needed {
                if let Some(fetch) = self.targets_to_fetch(&role, &delegator)? {
                    to_fetch.push((role, delegator, fetch));
                }
            }
            self.fetch_and_accept(&to_fetch)?;
        }
        Ok(searches.into_iter().map(|s| s.found).collect())
    }

    /// Fetches `to_fetch` in batches (at most [`MAX_BATCH_FILES`] files and
    /// [`MAX_BATCH_BYTES`] of limits each) and accepts each role in order. With
    /// more than one batch, a thread fetches (and parses) the next batch while
    /// this one checks the last: the checks stay in order on this thread.
    fn fetch_and_accept(&mut self, to_fetch: &[(String, String, MetaFetch)]) -> Result<()> {
        let mut batches = Vec::new();
        let mut rest = to_fetch;
        while !rest.is_empty() {
            let mut n = 0;
            let mut bytes = 0u64;
            while n < rest.len() && n < MAX_BATCH_FILES {
                bytes = bytes.saturating_add(rest[n].2.limit);
                if n > 0 && bytes > MAX_BATCH_BYTES {
                    break;
                }
                n += 1;
            }
            let (batch, tail) = rest.split_at(n);
            batches.push(batch);
            rest = tail;
        }
        let fetcher = &self.fetcher;
        let trusted = &mut self.trusted;
        let dir = self.dir.as_path();
        let accept = |trusted: &mut TrustedSet,
                      batch: &[(String, String, MetaFetch)],
                      fetched: Vec<(Result<u64, FetchError>, MetaBody<'_>)>|
         -> Result<()> {
            for ((role, delegator, f), (result, body)) in batch.iter().zip(fetched) {
                result.map_err(|e| fetch_error(&f.url, role, e, f.limit))?;
                let mut parsed = body
                    .parsed
                    .unwrap_or_else(|| ParsedTargets::parse(role, body.data));
                trusted.update_parsed_targets(&mut parsed, delegator)?;
                persist_in(dir, role, parsed.data())?;
            }
            Ok(())
        };
        match batches[..] {
            [] => return Ok(()),
            [batch] => return accept(trusted, batch, fetch_metadata(fetcher, batch)),
            _ => {}
        }
        std::thread::scope(|s| {
            let (tx, rx) = std::sync::mpsc::sync_channel(1);
            let producer = batches.clone();
            s.spawn(move || {
                for batch in producer {
                    // The receiver is gone when a check failed: stop fetching.
                    if tx.send(fetch_metadata(fetcher, batch)).is_err() {
                        break;
                    }
                }
            });
            for (batch, fetched) in batches.iter().zip(rx) {
                accept(trusted, batch, fetched)?;
            }
            Ok(())
        })
    }

    /// Runs `search` (§5.6.7) as far as the loaded roles take it; returns the
    /// role (and its delegator) it needs next, or `None` when it is over.
    fn advance(&mut self, search: &mut Search) -> Result<Option<(String, String)>> {
        while let Some((role, delegator)) = search.stack.last() {
            // 5.6.7.1: at most max_delegations roles (bandwidth and time)...
            if search.visited.len() >= self.config.max_delegations {
                search.stack.clear();
                break;
            }
            // ...and a role already visited is skipped (cycles).
            if search.visited.contains(role) {
                search.stack.pop();
                continue;
            }
            // Metadata that cannot be verified for this delegator ends the search.
            let Some(targets) = self.trusted.cached_targets_for(role, delegator)? else {
                return Ok(Some((role.clone(), delegator.clone())));
            };
            if let Some(t) = targets.targets.get(&search.path) {
                search.found = Some(t.clone());
                search.stack.clear();
                break;
            }
            let (role, _) = search.stack.pop().expect("just looked at it");
            // 5.6.7.2: the delegations that cover this path, in order.
            let mut children = Vec::new();
            for (child, terminating) in self.trusted.roles_for_target(&role, &search.path) {
                children.push((child, role.clone()));
                if terminating {
                    // 5.6.7.2.1: a terminating delegation ends backtracking.
                    search.stack.clear();
                    break;
                }
            }
            search.visited.insert(role);
            search.stack.extend(children.into_iter().rev());
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
        self.download_targets(
            &[Download {
                target_path,
                info,
                dest,
            }],
            target_base_url,
        )
    }

    /// [`Updater::download_target`] for each of `downloads`, fetched as
    /// batches of at most [`MAX_BATCH_FILES`] ([`Fetcher::fetch_batch`]). Each
    /// file is written, checked (length and every hash) and renamed into place
    /// on the thread that fetched it, on its own: one that fails leaves no file
    /// at its `dest`. The first failure, in the order given, is returned once
    /// its batch is over, and later batches are not fetched.
    pub fn download_targets(
        &self,
        downloads: &[Download<'_>],
        target_base_url: &str,
    ) -> Result<()> {
        let base = with_slash(target_base_url);
        for chunk in downloads.chunks(MAX_BATCH_FILES) {
            let mut urls = Vec::with_capacity(chunk.len());
            let mut bodies = Vec::with_capacity(chunk.len());
            for d in chunk {
                urls.push(format!("{base}{}", quote_path(&self.target_url_path(d)?)));
                bodies.push(TargetBody {
                    download: d,
                    hasher: Some(MultiHasher::new(d.target_path, &d.info.hashes)?),
                    tmp: None,
                    written: 0,
                    outcome: None,
                });
            }
            let mut batch: Vec<Request<'_>> = urls
                .iter()
                .zip(chunk)
                .zip(bodies.iter_mut())
                .map(|((url, d), out)| Request {
                    url: url.clone(),
                    max_length: d.info.length,
                    out,
                })
                .collect();
            let results = self.fetcher.fetch_batch(&mut batch);
            drop(batch);
            for (((d, url), result), body) in chunk.iter().zip(&urls).zip(results).zip(bodies) {
                result.map_err(|e| fetch_error(url, d.target_path, e, d.info.length))?;
                body.outcome
                    .unwrap_or(Err(Error::Order("target body not completed")))?;
            }
        }
        Ok(())
    }

    /// The path of `d`'s target under the targets URL: `DIR/HASH.NAME` with
    /// consistent snapshots (§5.7.2), else the target path itself.
    fn target_url_path(&self, d: &Download<'_>) -> Result<String> {
        if self.trusted.root().consistent_snapshot() && self.config.prefix_targets_with_hash {
            let (_, hash) = d
                .info
                .hashes
                .iter()
                .next()
                .ok_or_else(|| Error::schema(d.target_path, "target has no hashes"))?;
            Ok(match d.target_path.rsplit_once('/') {
                Some((dir, name)) => format!("{dir}/{hash}.{name}"),
                None => format!("{hash}.{}", d.target_path),
            })
        } else {
            Ok(d.target_path.to_string())
        }
    }

    fn local_path(&self, role: &str) -> PathBuf {
        local_path_in(&self.dir, role)
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

    fn persist(&self, role: &str, data: &[u8]) -> Result<()> {
        persist_in(&self.dir, role, data)
    }
}

/// The local file of `role`'s metadata in `dir`.
fn local_path_in(dir: &Path, role: &str) -> PathBuf {
    dir.join(format!("{}.json", quote(role)))
}

/// Writes accepted metadata atomically. Only root is also flushed to disk
/// before the rename: it is the trust anchor, and losing it would need a new
/// out-of-band root. Any other file lost or torn by a power cut fails
/// verification next time and is fetched again.
fn persist_in(dir: &Path, role: &str, data: &[u8]) -> Result<()> {
    let path = local_path_in(dir, role);
    if role == "root" {
        write_atomic(&path, data)
    } else {
        write_replace(&path, data, false)
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

/// A target as it is fetched: into a temporary file beside its destination
/// (made on first write, on the fetching thread), hashed on the way, and on
/// completion checked and renamed into place ([`Body::complete`]).
struct TargetBody<'d> {
    download: &'d Download<'d>,
    hasher: Option<MultiHasher<'d>>,
    tmp: Option<tempfile::NamedTempFile>,
    written: u64,
    outcome: Option<Result<()>>,
}

impl TargetBody<'_> {
    fn file(&mut self) -> std::io::Result<&mut std::fs::File> {
        if self.tmp.is_none() {
            let parent = self.download.dest.parent().unwrap_or(Path::new("."));
            self.tmp = Some(tempfile::NamedTempFile::new_in(parent)?);
        }
        Ok(self.tmp.as_mut().expect("just made").as_file_mut())
    }

    fn finish(&mut self) -> Result<()> {
        let d = self.download;
        let parent = d.dest.parent().unwrap_or(Path::new("."));
        self.file().map_err(|e| Error::io(parent, e))?;
        if self.written != d.info.length {
            return Err(Error::LengthMismatch {
                what: d.target_path.into(),
                expected: d.info.length,
                found: self.written,
            });
        }
        self.hasher
            .take()
            .ok_or(Error::Order("target completed twice"))?
            .finish()?;
        let tmp = self.tmp.take().expect("made above");
        tmp.persist(d.dest)
            .map_err(|e| Error::io(d.dest, e.error))?;
        Ok(())
    }
}

impl Write for TargetBody<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file()?.write(buf)?;
        if let Some(h) = self.hasher.as_mut() {
            h.update(&buf[..n]);
        }
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.file()?.flush()
    }
}

impl Body for TargetBody<'_> {
    fn complete(&mut self) {
        self.outcome = Some(self.finish());
    }
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
