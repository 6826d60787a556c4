//! The repository side of TUF: a metadata editor.
//!
//! [`Repository`] holds a repository's metadata in memory and edits it: add
//! and remove targets, delegate, rotate keys, re-sign. It reads and writes
//! files only through a [`Store`] and signs only through a [`Keyring`] of
//! [`Signer`]s, so the same editor serves a directory, memory in tests, a key
//! file or (later) a KMS. Nothing is written until [`Repository::commit`],
//! and commit first resolves every key and checks every threshold, so a
//! missing key, a wrong passphrase or an unmet threshold leaves the
//! repository untouched.
//!
//! Layout (consistent snapshots, as clients fetch them): `metadata/N.root.json`,
//! `metadata/V.ROLE.json` for snapshot, targets and delegated roles, and the
//! unversioned `metadata/timestamp.json`; target files live under `targets/`
//! as `DIR/HASH.NAME` (see [`consistent_target_paths`]).
//!
//! Commits are incremental: only roles that changed get a new version and a
//! signature, then snapshot and timestamp. New versions are new files; the
//! only file replaced is `timestamp.json`, written last and atomically, so a
//! process killed mid-commit leaves the previous, complete repository state.
//!
//! Targets added are kept compact ([`TargetBatch`]: about 56 bytes plus the
//! path each) until the commit writes their role, and batches added with
//! [`Repository::add_batch`] are placed in their roles all at once, by one
//! pass over the delegations, which is what lets a repository of a million
//! targets build in little time and memory.

pub mod bins;
mod kept;
mod pending;
pub mod store;

pub use bins::{hashed_bins, BinLayout};
pub use pending::{check_target_path, ListError, TargetBatch};
pub use store::{DirStore, MemoryStore, Store};

use kept::Kept;
use pending::{PendingStore, Pick, Ref};

use crate::canonical;
use crate::keys::Key;
use crate::metadata::{
    DelegatedRole, DelegationIndex, Delegations, Envelope, Expires, Hashes, MetaFile, Role,
    RoleKeys, Root, Signature, Snapshot, SpecVersion, SuccinctRoles, TargetFile, Targets,
    Timestamp, Unknown, TOP_LEVEL_ROLES,
};
use crate::sign::{SignError, Signer};
use rayon::prelude::*;
use serde_json::Value;
use sha2::{Digest, Sha256, Sha512};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::num::NonZeroU64;
use std::sync::Arc;

/// Lookups among one role's delegations done by scanning them before an
/// index is built (hash tables over 16,384 bins cost more than a few scans).
const INDEX_AFTER: usize = 16;

/// Roles a commit encodes, signs and writes per task.
const ROLES_PER_TASK: usize = 16;

/// The first role `d` delegates `path` to, by scanning: an index into
/// `d.roles` or a bin number, as [`DelegationIndex::first_role_for_target`].
fn first_delegate_linear(d: &Delegations, path: &str) -> Option<u64> {
    if let Some(roles) = &d.roles {
        let mut hash = None;
        return roles
            .iter()
            .position(|r| r.is_delegated_path(path, &mut hash))
            .map(|i| i as u64);
    }
    d.succinct_roles.as_ref().map(|s| s.bin_for_target(path))
}

/// How many roles `d` delegates to (succinct bins count as many).
fn delegate_count(d: &Delegations) -> u64 {
    match (&d.roles, &d.succinct_roles) {
        (Some(r), _) => r.len() as u64,
        (None, Some(s)) => s.bin_count(),
        (None, None) => 0,
    }
}

/// `idxs` grouped by the child each goes to (`children`, beside them):
/// those that stay, and each child's in order. Many paths over a known
/// number of children are counted into place; a few go through a map.
fn group_by_child(
    idxs: Vec<usize>,
    children: &[Option<u64>],
    delegates: u64,
) -> (Vec<usize>, Vec<(u64, Vec<usize>)>) {
    let mut stay = Vec::new();
    if delegates <= 4 * idxs.len() as u64 {
        let mut counts = vec![0u32; delegates as usize];
        for c in children.iter().flatten() {
            counts[*c as usize] += 1;
        }
        let mut groups: Vec<Vec<usize>> = counts
            .iter()
            .map(|&n| Vec::with_capacity(n as usize))
            .collect();
        for (i, child) in idxs.into_iter().zip(children) {
            match child {
                Some(c) => groups[*c as usize].push(i),
                None => stay.push(i),
            }
        }
        let by_child = groups
            .into_iter()
            .enumerate()
            .filter(|(_, g)| !g.is_empty())
            .map(|(c, g)| (c as u64, g))
            .collect();
        return (stay, by_child);
    }
    let mut by_child: HashMap<u64, Vec<usize>, crate::metadata::FastHash> = HashMap::default();
    for (i, child) in idxs.into_iter().zip(children) {
        match child {
            Some(c) => by_child.entry(*c).or_default().push(i),
            None => stay.push(i),
        }
    }
    (stay, by_child.into_iter().collect())
}

/// Deepest chain of delegations followed to place a target (python-tuf's
/// client visits at most 32 roles).
pub const MAX_DELEGATION_DEPTH: usize = 32;
/// Longest target path accepted, in bytes.
pub const MAX_TARGET_PATH: usize = 4096;
/// Most roles visited while looking for the role that delegates to a name.
pub const MAX_ROLES_SEARCHED: usize = 100_000;
/// The snapshot size python-tuf and go-tuf clients accept by default when
/// timestamp does not list its length; `status` warns near it.
pub const CLIENT_SNAPSHOT_LIMIT: u64 = 2_000_000;

/// Why an edit or a commit failed.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Metadata(#[from] crate::Error),
    #[error("{role}: only {have} of the {threshold} signatures it needs can be made with the keys at hand (missing key ids: {missing}); nothing was written")]
    Threshold {
        role: String,
        have: usize,
        threshold: u64,
        missing: String,
    },
    #[error(transparent)]
    Sign(#[from] SignError),
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T> = std::result::Result<T, RepoError>;

fn invalid(msg: impl Into<String>) -> RepoError {
    RepoError::Invalid(msg.into())
}

fn io_err(path: &str) -> impl FnOnce(std::io::Error) -> RepoError + '_ {
    move |source| RepoError::Io {
        path: path.to_string(),
        source,
    }
}

/// Where the editor finds private keys, by key id.
pub trait Keyring {
    /// The signer for `keyid`, `Ok(None)` when this keyring does not hold it,
    /// an error when it holds it but cannot use it (a wrong passphrase).
    fn signer(&self, keyid: &str) -> std::result::Result<Option<Arc<dyn Signer>>, SignError>;
}

impl Keyring for HashMap<String, Arc<dyn Signer>> {
    fn signer(&self, keyid: &str) -> std::result::Result<Option<Arc<dyn Signer>>, SignError> {
        Ok(self.get(keyid).cloned())
    }
}

/// How long metadata stays valid after it is signed, per kind of role, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiry {
    pub root: i64,
    pub targets: i64,
    /// Delegated targets roles, bins included.
    pub delegated: i64,
    pub snapshot: i64,
    pub timestamp: i64,
}

const DAY: i64 = 86_400;

impl Default for Expiry {
    fn default() -> Self {
        Expiry {
            root: 365 * DAY,
            targets: 365 * DAY,
            delegated: 90 * DAY,
            snapshot: 7 * DAY,
            timestamp: DAY,
        }
    }
}

impl Expiry {
    fn of(&self, role: &str) -> i64 {
        match role {
            "root" => self.root,
            "targets" => self.targets,
            "snapshot" => self.snapshot,
            "timestamp" => self.timestamp,
            _ => self.delegated,
        }
    }

    /// Sets one kind's period; `kind` is a top-level role name or `delegated`.
    pub fn set(&mut self, kind: &str, seconds: i64) -> Result<()> {
        let slot = match kind {
            "root" => &mut self.root,
            "targets" => &mut self.targets,
            "delegated" | "bins" => &mut self.delegated,
            "snapshot" => &mut self.snapshot,
            "timestamp" => &mut self.timestamp,
            other => {
                return Err(invalid(format!(
                    "no role kind {other:?} (root, targets, delegated, snapshot, timestamp)"
                )))
            }
        };
        if seconds <= 0 || seconds > MAX_VALIDITY {
            return Err(invalid(format!(
                "the validity of {kind} must be positive and at most 100 years"
            )));
        }
        *slot = seconds;
        Ok(())
    }
}

/// Parses `30d`, `12h`, `90m`, `3600s`, `1y` (365 days) or `2w` into seconds.
pub fn parse_duration(s: &str) -> Option<i64> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = num.parse().ok()?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => DAY,
        "w" => 7 * DAY,
        "y" => 365 * DAY,
        _ => return None,
    };
    n.checked_mul(mult).filter(|&v| v > 0 && v <= MAX_VALIDITY)
}

/// The longest validity accepted (100 years): beyond year 9999 the TUF
/// timestamp format has no spelling that clients parse.
pub const MAX_VALIDITY: i64 = 100 * 365 * DAY;

/// `now + seconds` as an expiry date, refused past 9999-12-31T23:59:59Z.
fn expiry_at(now: i64, seconds: i64) -> Result<Expires> {
    let t = now.saturating_add(seconds);
    if t > 253_402_300_799 {
        return Err(invalid(
            "an expiry date past the year 9999 cannot be written",
        ));
    }
    Ok(Expires::from_unix(t))
}

/// What a target is: its length and hashes, and optional `custom` data.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTarget {
    pub length: u64,
    pub sha256: [u8; 32],
    /// Boxed, like `custom`: a million targets from a list have neither,
    /// and the struct stays small to move.
    pub sha512: Option<Box<[u8; 64]>>,
    pub custom: Option<Box<Value>>,
}

impl NewTarget {
    /// Reads `r` to the end, hashing it with sha256 and sha512.
    pub fn from_reader(mut r: impl std::io::Read) -> std::io::Result<Self> {
        let mut s256 = Sha256::new();
        let mut s512 = Sha512::new();
        let mut buf = vec![0u8; 1 << 16];
        let mut length = 0u64;
        loop {
            let n = r.read(&mut buf)?;
            if n == 0 {
                break;
            }
            s256.update(&buf[..n]);
            s512.update(&buf[..n]);
            length += n as u64;
        }
        Ok(NewTarget {
            length,
            sha256: s256.finalize().into(),
            sha512: Some(Box::new(s512.finalize().into())),
            custom: None,
        })
    }

    /// A description of `data`.
    pub fn from_bytes(data: &[u8]) -> Self {
        Self::from_reader(data).expect("reading memory does not fail")
    }

    /// The hex sha256, which names the consistent-snapshot copy of the file.
    pub fn sha256_hex(&self) -> String {
        hex::encode(self.sha256)
    }
}

/// A delegated role name must be usable as one file name and one URL segment.
pub fn check_role_name(name: &str) -> std::result::Result<(), String> {
    if name.is_empty()
        || name.len() > 200
        || name.starts_with('.')
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    {
        return Err(format!(
            "role name {name:?} must be 1 to 200 characters of A-Z a-z 0-9 . _ - and not start with '.'"
        ));
    }
    if TOP_LEVEL_ROLES.contains(&name) {
        return Err(format!("{name:?} is a top-level role"));
    }
    Ok(())
}

/// The repository paths (under `targets/`) of a target's consistent
/// snapshot copies: `DIR/HASH.NAME`, one per listed hash (sha256 first).
pub fn consistent_target_paths(path: &str, t: &NewTarget) -> Vec<String> {
    let (dir, name) = match path.rsplit_once('/') {
        Some((d, n)) => (format!("{d}/"), n),
        None => (String::new(), path),
    };
    let mut out = vec![format!("targets/{dir}{}.{name}", hex::encode(t.sha256))];
    if let Some(h) = &t.sha512 {
        out.push(format!("targets/{dir}{}.{name}", hex::encode(h.as_slice())));
    }
    out
}

/// A role written by a commit: name, version, file length, file sha256.
type Written = (String, u64, u64, [u8; 32]);

/// A targets role (top-level or delegated) as the editor holds it.
struct Doc {
    /// The role; its `targets` are empty when they are `kept`.
    signed: Targets,
    /// The stored targets as the bytes they were signed as (see [`kept`]).
    kept: Kept,
    signatures: Vec<Signature>,
    /// The version stored in the repository, `None` for a new role.
    stored: Option<u64>,
    /// Must be re-signed at the next commit.
    dirty: bool,
    /// Targets added to this role, in the repository's [`PendingStore`].
    pending: Vec<Ref>,
}

impl Doc {
    fn new_empty(now: i64) -> Doc {
        Doc {
            signed: Targets {
                type_: "targets".into(),
                spec_version: SpecVersion::default(),
                version: NonZeroU64::MIN,
                expires: Expires::from_unix(now),
                targets: BTreeMap::new(),
                delegations: None,
                unknown: Unknown::new(),
            },
            kept: Kept::default(),
            signatures: Vec::new(),
            stored: None,
            dirty: true,
            pending: Vec::new(),
        }
    }

    fn changed(&self) -> bool {
        self.dirty || !self.pending.is_empty()
    }

    fn target_count(&self) -> usize {
        self.signed.targets.len() + self.kept.len() + self.pending.len()
    }
}

/// A new delegated role: the paths it is trusted for and its keys.
#[derive(Debug, Clone)]
pub struct Delegation {
    pub name: String,
    /// Shell-style patterns (`sboms/*/*`); `*` does not match `/`.
    pub paths: Vec<String>,
    /// Whether the search for a path this role matches stops here.
    pub terminating: bool,
    pub keys: Vec<Key>,
    pub threshold: u64,
}

/// Keys and thresholds of a new repository.
#[derive(Debug, Clone)]
pub struct InitSpec {
    /// Public keys of root, targets, snapshot and timestamp.
    pub keys: BTreeMap<String, Vec<Key>>,
    /// Thresholds of the top-level roles (1 when absent).
    pub thresholds: BTreeMap<String, u64>,
    /// Hash bins delegated from targets, with their keys and threshold.
    pub bins: Option<(BinLayout, Vec<Key>, u64)>,
    /// List lengths and hashes of targets metadata in snapshot (off by
    /// default: a large snapshot then exceeds clients' default limits).
    pub snapshot_hashes: bool,
}

/// The keys a commit signs with, found before anything is written.
struct Plan {
    changed: Vec<String>,
    rules: HashMap<String, (Vec<String>, u64)>,
    signers: HashMap<String, Arc<dyn Signer>>,
    below: Vec<String>,
}

/// What a commit wrote.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Committed {
    /// Targets roles written, with their new versions.
    pub roles: BTreeMap<String, u64>,
    pub root: Option<u64>,
    pub snapshot: u64,
    pub timestamp: u64,
    /// Roles written with fewer signatures than their threshold (`partial`).
    pub below_threshold: Vec<String>,
}

/// A repository's metadata, being edited.
pub struct Repository<S: Store> {
    store: S,
    root: Root,
    root_signatures: Vec<Signature>,
    root_stored: Option<u64>,
    /// The trusted root before this edit rotated keys: it signs the new root too.
    root_before: Option<Root>,
    root_dirty: bool,
    snapshot: Snapshot,
    snapshot_stored: Option<u64>,
    timestamp: Timestamp,
    timestamp_stored: Option<u64>,
    roles: HashMap<String, Doc>,
    /// Delegated role → the role that delegates to it, as far as known.
    parents: HashMap<String, String>,
    indexes: HashMap<String, DelegationIndex>,
    /// Every target added since the repository was opened, until commit.
    pending: PendingStore,
    /// Batches in `pending` not placed in a role yet, with the role they
    /// were added to when one was named.
    unplaced: Vec<(u32, Option<String>)>,
    rule_lookups: usize,
    snapshot_hashes: bool,
}

fn key_ids(keys: &[Key]) -> Result<Vec<(String, Key)>> {
    keys.iter()
        .map(|k| {
            k.key_id()
                .map(|id| (id, k.clone()))
                .map_err(|e| invalid(format!("key without a canonical form: {e}")))
        })
        .collect()
}

fn nonzero(n: u64, what: &str) -> Result<NonZeroU64> {
    NonZeroU64::new(n).ok_or_else(|| invalid(format!("{what}: threshold must be at least 1")))
}

fn role_file(name: &str, version: u64) -> String {
    format!("metadata/{version}.{name}.json")
}

impl<S: Store> Repository<S> {
    /// A new repository in `store`, which must hold no metadata yet. Nothing
    /// is written until [`Repository::commit`].
    pub fn init(store: S, spec: InitSpec, now: i64) -> Result<Self> {
        if !store
            .list("metadata")
            .map_err(io_err("metadata"))?
            .is_empty()
        {
            return Err(invalid(
                "the repository already holds metadata; init only creates new repositories",
            ));
        }
        let mut keys = BTreeMap::new();
        let mut roles = BTreeMap::new();
        for name in TOP_LEVEL_ROLES {
            let role_keys = spec.keys.get(name).map(Vec::as_slice).unwrap_or_default();
            let threshold = spec.thresholds.get(name).copied().unwrap_or(1);
            if (role_keys.len() as u64) < threshold {
                return Err(invalid(format!(
                    "{name}: threshold {threshold} but only {} keys",
                    role_keys.len()
                )));
            }
            let ids = key_ids(role_keys)?;
            roles.insert(
                name.to_string(),
                RoleKeys {
                    keyids: ids.iter().map(|(id, _)| id.clone()).collect(),
                    threshold: nonzero(threshold, name)?,
                    unknown: Unknown::new(),
                },
            );
            keys.extend(ids);
        }
        let root = Root {
            type_: "root".into(),
            spec_version: SpecVersion::default(),
            version: NonZeroU64::MIN,
            expires: Expires::from_unix(now),
            consistent_snapshot: Some(true),
            keys,
            roles,
            unknown: Unknown::new(),
        };
        root.validate().map_err(invalid)?;
        let mut repo = Repository {
            store,
            root,
            root_signatures: Vec::new(),
            root_stored: None,
            root_before: None,
            root_dirty: true,
            snapshot: Snapshot {
                type_: "snapshot".into(),
                spec_version: SpecVersion::default(),
                version: NonZeroU64::MIN,
                expires: Expires::from_unix(now),
                meta: BTreeMap::new(),
                unknown: Unknown::new(),
            },
            snapshot_stored: None,
            timestamp: Timestamp {
                type_: "timestamp".into(),
                spec_version: SpecVersion::default(),
                version: NonZeroU64::MIN,
                expires: Expires::from_unix(now),
                meta: BTreeMap::new(),
                unknown: Unknown::new(),
            },
            timestamp_stored: None,
            roles: HashMap::new(),
            parents: HashMap::new(),
            indexes: HashMap::new(),
            pending: PendingStore::default(),
            unplaced: Vec::new(),
            rule_lookups: 0,
            snapshot_hashes: spec.snapshot_hashes,
        };
        let mut top = Doc::new_empty(now);
        if let Some((layout, bin_keys, threshold)) = spec.bins {
            let layout = layout.check().map_err(invalid)?;
            if (bin_keys.len() as u64) < threshold {
                return Err(invalid(format!(
                    "bins: threshold {threshold} but only {} keys",
                    bin_keys.len()
                )));
            }
            let ids = key_ids(&bin_keys)?;
            let keyids: Vec<String> = ids.iter().map(|(id, _)| id.clone()).collect();
            let threshold = nonzero(threshold, "bins")?;
            let names: Vec<String>;
            let delegations = match layout {
                BinLayout::Hashed(n) => {
                    let bins = hashed_bins(n);
                    names = bins.iter().map(|(n, _)| n.clone()).collect();
                    Delegations {
                        keys: ids.into_iter().collect(),
                        roles: Some(
                            bins.into_iter()
                                .map(|(name, prefixes)| DelegatedRole {
                                    name,
                                    keyids: keyids.clone(),
                                    threshold,
                                    terminating: false,
                                    paths: None,
                                    path_hash_prefixes: Some(prefixes),
                                    unknown: Unknown::new(),
                                })
                                .collect(),
                        ),
                        succinct_roles: None,
                        unknown: Unknown::new(),
                    }
                }
                BinLayout::Succinct(bits) => {
                    let s = SuccinctRoles {
                        keyids,
                        threshold,
                        bit_length: bits,
                        name_prefix: "bin".into(),
                        unknown: Unknown::new(),
                    };
                    names = (0..s.bin_count()).map(|b| s.bin_name(b)).collect();
                    Delegations {
                        keys: ids.into_iter().collect(),
                        roles: None,
                        succinct_roles: Some(s),
                        unknown: Unknown::new(),
                    }
                }
            };
            top.signed.delegations = Some(delegations);
            for name in names {
                repo.parents.insert(name.clone(), "targets".into());
                repo.roles.insert(name, Doc::new_empty(now));
            }
        }
        repo.roles.insert("targets".into(), top);
        Ok(repo)
    }

    /// Opens the repository in `store`: its newest root, timestamp, snapshot
    /// and top-level targets. Delegated roles are read when needed.
    pub fn open(store: S) -> Result<Self> {
        // The newest root, found the way clients find it: version by version.
        let exists = |v: u64| -> Result<bool> {
            let path = role_file("root", v);
            Ok(store.read(&path).map_err(io_err(&path))?.is_some())
        };
        if !exists(1)? {
            return Err(invalid(
                "no metadata/1.root.json: not a repository (create one with init)",
            ));
        }
        let mut newest_root = 1u64;
        while exists(newest_root + 1)? {
            newest_root += 1;
        }
        let root: Stored<Root> = read_stored(&store, &role_file("root", newest_root))?;
        if !root.signed.consistent_snapshot() {
            return Err(invalid(
                "the repository does not use consistent snapshots, which this editor writes: clients would not fetch its files",
            ));
        }
        let ts: Stored<Timestamp> = read_stored(&store, "metadata/timestamp.json")?;
        let snap_version = ts.signed.snapshot_meta().version.get();
        let snap: Stored<Snapshot> = read_stored(&store, &role_file("snapshot", snap_version))?;
        let snapshot_hashes = snap
            .signed
            .meta
            .values()
            .any(|m| m.hashes.is_some() || m.length.is_some());
        let mut repo = Repository {
            store,
            root: root.signed,
            root_signatures: root.signatures,
            root_stored: Some(newest_root),
            root_before: None,
            root_dirty: false,
            snapshot: snap.signed,
            snapshot_stored: Some(snap_version),
            timestamp_stored: Some(ts.signed.version.get()),
            timestamp: ts.signed,
            roles: HashMap::new(),
            parents: HashMap::new(),
            indexes: HashMap::new(),
            pending: PendingStore::default(),
            unplaced: Vec::new(),
            rule_lookups: 0,
            snapshot_hashes,
        };
        repo.load(&["targets".to_string()])?;
        Ok(repo)
    }

    pub fn store(&self) -> &S {
        &self.store
    }
    pub fn root(&self) -> &Root {
        &self.root
    }
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }
    pub fn timestamp(&self) -> &Timestamp {
        &self.timestamp
    }
    /// Whether snapshot lists lengths and hashes of targets metadata.
    pub fn snapshot_lists_hashes(&self) -> bool {
        self.snapshot_hashes
    }

    /// Reads the named roles that are not in memory yet (in parallel).
    fn load(&mut self, names: &[String]) -> Result<()> {
        let missing: BTreeSet<&String> = names
            .iter()
            .filter(|n| !self.roles.contains_key(n.as_str()))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let snapshot = &self.snapshot;
        let store = &self.store;
        let read = |name: &String| -> Result<(String, Doc)> {
            let meta = snapshot
                .meta
                .get(&format!("{name}.json"))
                .ok_or_else(|| invalid(format!("role {name:?} is not listed in snapshot")))?;
            let version = meta.version.get();
            let (env, kept) = read_targets(store, &role_file(name, version))?;
            Ok((
                name.clone(),
                Doc {
                    signed: env.signed,
                    kept,
                    signatures: env.signatures,
                    stored: Some(version),
                    dirty: false,
                    pending: Vec::new(),
                },
            ))
        };
        // One role (the common case of a small commit) is read on this
        // thread: a pool thread would start a fresh heap arena for it.
        let loaded: Vec<(String, Doc)> = if missing.len() == 1 {
            missing.into_iter().map(read).collect::<Result<_>>()?
        } else {
            missing.into_par_iter().map(read).collect::<Result<_>>()?
        };
        self.roles.extend(loaded);
        Ok(())
    }

    fn doc(&self, name: &str) -> &Doc {
        &self.roles[name]
    }

    fn index(&mut self, name: &str) -> Option<&DelegationIndex> {
        let d = self.roles.get(name)?.signed.delegations.as_ref()?;
        if !self.indexes.contains_key(name) {
            self.indexes
                .insert(name.to_string(), DelegationIndex::new(d));
        }
        self.indexes.get(name)
    }

    /// The role each path goes to, as groups of indices into `paths`:
    /// follow the delegations from targets, each time to the first role
    /// trusted for the path, down to a role that delegates it no further.
    /// Loads the roles on the way, level by level, in parallel.
    fn place(&mut self, paths: &[&str]) -> Result<Vec<(String, Vec<usize>)>> {
        let mut placed = Vec::new();
        let mut level: Vec<(String, Vec<usize>)> =
            vec![("targets".to_string(), (0..paths.len()).collect())];
        for _depth in 0..=MAX_DELEGATION_DEPTH {
            let missing: Vec<String> = level
                .iter()
                .filter(|(n, _)| !self.roles.contains_key(n))
                .map(|(n, _)| n.clone())
                .collect();
            self.load(&missing)?;
            let mut next: Vec<(String, Vec<usize>)> = Vec::new();
            for (role, idxs) in level {
                let Some(d) = self.roles[&role].signed.delegations.as_ref() else {
                    placed.push((role, idxs));
                    continue;
                };
                // A few paths are matched by scanning the delegations, many
                // through the index (built once per role).
                let children: Vec<Option<u64>> =
                    if idxs.len() <= INDEX_AFTER && !self.indexes.contains_key(&role) {
                        idxs.iter()
                            .map(|&i| first_delegate_linear(d, paths[i]))
                            .collect()
                    } else {
                        let index = self
                            .indexes
                            .entry(role.clone())
                            .or_insert_with(|| DelegationIndex::new(d));
                        let index = &*index;
                        idxs.par_iter()
                            .with_min_len(4096)
                            .map(|&i| index.first_role_for_target(d, paths[i]))
                            .collect()
                    };
                let (stay, by_child) = group_by_child(idxs, &children, delegate_count(d));
                drop(children);
                if !stay.is_empty() {
                    placed.push((role.clone(), stay));
                }
                for (c, idxs) in by_child {
                    let child = DelegationIndex::delegate_name(d, c);
                    if !self.parents.contains_key(&child) {
                        self.parents.insert(child.clone(), role.clone());
                    }
                    next.push((child, idxs));
                }
            }
            if next.is_empty() {
                return Ok(placed);
            }
            level = next;
        }
        Err(invalid(format!(
            "delegations nest deeper than {MAX_DELEGATION_DEPTH} roles"
        )))
    }

    /// The role that delegates to `name`.
    fn delegator(&mut self, name: &str) -> Result<String> {
        if TOP_LEVEL_ROLES.contains(&name) {
            return Err(invalid(format!("{name} is a top-level role")));
        }
        if let Some(p) = self.parents.get(name) {
            return Ok(p.clone());
        }
        let mut queue = std::collections::VecDeque::from(["targets".to_string()]);
        let mut visited = 0usize;
        while let Some(role) = queue.pop_front() {
            visited += 1;
            if visited > MAX_ROLES_SEARCHED {
                break;
            }
            self.load(std::slice::from_ref(&role))?;
            let Some(d) = &self.doc(&role).signed.delegations else {
                continue;
            };
            if d.rule(name).is_some() {
                self.parents.insert(name.to_string(), role.clone());
                return Ok(role);
            }
            // Bins delegate by hash and are searched last of all: only
            // roles delegated by path patterns are followed.
            for r in d.roles.iter().flatten().filter(|r| r.paths.is_some()) {
                queue.push_back(r.name.clone());
            }
        }
        Err(invalid(format!("no role delegates to {name:?}")))
    }

    /// Keys and threshold that sign `name`, from its delegator as edited.
    fn rule_for(&mut self, name: &str) -> Result<(Vec<String>, u64, BTreeMap<String, Key>)> {
        if TOP_LEVEL_ROLES.contains(&name) {
            let r = self.root.roles.get(name).expect("validated root");
            let keys = r
                .keyids
                .iter()
                .filter_map(|id| Some((id.clone(), self.root.keys.get(id)?.clone())))
                .collect();
            return Ok((r.keyids.clone(), r.threshold.get(), keys));
        }
        let parent = self.delegator(name)?;
        self.load(std::slice::from_ref(&parent))?;
        // A few lookups scan the delegations; many (a commit of thousands
        // of bins) build the index once.
        self.rule_lookups += 1;
        if self.rule_lookups > INDEX_AFTER {
            self.index(&parent);
        }
        let d = self
            .doc(&parent)
            .signed
            .delegations
            .as_ref()
            .expect("delegates");
        let rule = match self.indexes.get(&parent) {
            Some(ix) => ix.rule(d, name),
            None => d.rule(name),
        }
        .ok_or_else(|| invalid(format!("{parent} does not delegate to {name}")))?;
        let keys = rule
            .keyids
            .iter()
            .filter_map(|id| Some((id.clone(), rule.keys.get(id)?.clone())))
            .collect();
        Ok((rule.keyids.to_vec(), rule.threshold, keys))
    }

    /// Adds (or replaces) targets. Each goes to `role` when given, else to
    /// the role the delegations choose for its path. Returns how many went
    /// to each role (each role once, in no particular order).
    pub fn add_targets(
        &mut self,
        targets: Vec<(String, NewTarget)>,
        role: Option<&str>,
    ) -> Result<Vec<(String, usize)>> {
        if targets.is_empty() {
            return Ok(Vec::new());
        }
        self.settle()?;
        let mut batch = TargetBatch::new();
        for (path, t) in targets {
            batch.push(&path, t).map_err(invalid)?;
        }
        self.add_batch(batch, role)?;
        let mut counts: HashMap<String, usize> = HashMap::new();
        for (r, n) in self.settle()? {
            *counts.entry(r).or_default() += n;
        }
        Ok(counts.into_iter().collect())
    }

    /// Adds (or replaces) a batch of targets, as [`Repository::add_targets`],
    /// but places them only when needed: all batches added one after another
    /// are placed together, by one pass over the delegations at commit, which
    /// is what makes a list of a million targets cheap to add block by block.
    /// Returns how many targets the batch holds.
    pub fn add_batch(&mut self, batch: TargetBatch, role: Option<&str>) -> Result<usize> {
        if let Some(r) = role {
            if r != "targets" {
                self.delegator(r)?;
            }
        }
        let n = batch.len();
        if n == 0 {
            return Ok(0);
        }
        let b = self.pending.add(batch).map_err(invalid)?;
        self.unplaced.push((b, role.map(str::to_string)));
        Ok(n)
    }

    /// Places the batches added since the last placement, in the order
    /// added: one for a named role goes to it, the others (each run of them
    /// together) where the delegations say. Returns how many targets went to
    /// each role, a role once per run.
    fn settle(&mut self) -> Result<Vec<(String, usize)>> {
        let unplaced = std::mem::take(&mut self.unplaced);
        let mut counts = Vec::new();
        let mut i = 0;
        while i < unplaced.len() {
            if let (b, Some(role)) = &unplaced[i] {
                self.load(std::slice::from_ref(role))?;
                let refs: Vec<Ref> = self.pending.refs(*b).collect();
                counts.push((role.clone(), refs.len()));
                let doc = self.roles.get_mut(role).expect("loaded");
                doc.pending.extend(refs);
                i += 1;
                continue;
            }
            let run = unplaced[i..]
                .iter()
                .position(|(_, r)| r.is_some())
                .map_or(unplaced.len(), |k| i + k);
            let batches: Vec<u32> = unplaced[i..run].iter().map(|(b, _)| *b).collect();
            counts.extend(self.place_batches(&batches)?);
            i = run;
        }
        Ok(counts)
    }

    /// Places every target of `batches` in one pass over the delegations.
    fn place_batches(&mut self, batches: &[u32]) -> Result<Vec<(String, usize)>> {
        // The store is moved out while placement (which loads roles) runs.
        let store = std::mem::take(&mut self.pending);
        let result = self.place_from(&store, batches);
        self.pending = store;
        result
    }

    fn place_from(
        &mut self,
        store: &PendingStore,
        batches: &[u32],
    ) -> Result<Vec<(String, usize)>> {
        let refs: Vec<Ref> = batches.iter().flat_map(|&b| store.refs(b)).collect();
        let groups = {
            let paths: Vec<&str> = batches
                .iter()
                .flat_map(|&b| store.batch(b).paths())
                .collect();
            self.place(&paths)?
        };
        let counts: Vec<(String, usize)> = groups
            .iter()
            .map(|(r, idxs)| (r.clone(), idxs.len()))
            .collect();
        // A role reached along two delegation paths is placed twice.
        let mut by_role: HashMap<&str, Vec<&[usize]>> = HashMap::with_capacity(groups.len());
        for (r, idxs) in &groups {
            by_role.entry(r.as_str()).or_default().push(idxs);
        }
        let mut work: Vec<(&mut Doc, Vec<&[usize]>)> = self
            .roles
            .iter_mut()
            .filter_map(|(name, doc)| Some((doc, by_role.remove(name.as_str())?)))
            .collect();
        if !by_role.is_empty() {
            return Err(invalid("a role placed for a target is not loaded"));
        }
        // Roles are filled in parallel (a bulk add spreads over thousands of
        // bins), each with its targets in the order they were added.
        let refs = &refs;
        work.par_iter_mut()
            .with_min_len(64)
            .for_each(|(doc, parts)| {
                // Each part is in order already; only a role placed twice
                // needs its parts merged.
                if let [only] = parts.as_slice() {
                    doc.pending.extend(only.iter().map(|&i| refs[i]));
                } else {
                    let mut idxs: Vec<usize> =
                        parts.iter().flat_map(|p| p.iter().copied()).collect();
                    idxs.sort_unstable();
                    doc.pending.extend(idxs.into_iter().map(|i| refs[i]));
                }
            });
        Ok(counts)
    }

    /// Removes a target; returns the role it was removed from, `None` when
    /// no role listed it.
    pub fn remove_target(&mut self, path: &str) -> Result<Option<String>> {
        check_target_path(path).map_err(invalid)?;
        self.settle()?;
        let role = self.place(&[path])?.remove(0).0;
        // The placed role is the one a new target would go to; an existing
        // one may sit in a role above it on the way.
        let mut chain = vec![role.clone()];
        let mut r = role;
        while let Some(p) = self.parents.get(&r) {
            chain.push(p.clone());
            r = p.clone();
        }
        for name in chain {
            let doc = self.roles.get_mut(&name).expect("loaded on the way");
            let before = doc.pending.len();
            let store = &self.pending;
            doc.pending.retain(|&r| store.path(r) != path);
            let had = doc.signed.targets.remove(path).is_some()
                | doc.kept.remove(path)
                | (doc.pending.len() != before);
            if had {
                doc.dirty = true;
                return Ok(Some(name));
            }
        }
        Ok(None)
    }

    /// Delegates `d.paths` (shell-style patterns) from role `from` to a new
    /// role. Pattern delegations go before any hash bins of `from`, so that
    /// they are searched first.
    pub fn delegate(&mut self, from: &str, d: Delegation, now: i64) -> Result<()> {
        // Targets added before go where the delegations said when they were.
        self.settle()?;
        let Delegation {
            name,
            paths,
            terminating,
            keys,
            threshold,
        } = d;
        let (name, keys) = (name.as_str(), keys.as_slice());
        check_role_name(name).map_err(invalid)?;
        if paths.is_empty() {
            return Err(invalid("a delegation needs at least one path pattern"));
        }
        if self.snapshot.meta.contains_key(&format!("{name}.json")) || self.roles.contains_key(name)
        {
            return Err(invalid(format!("role {name:?} already exists")));
        }
        if (keys.len() as u64) < threshold {
            return Err(invalid(format!(
                "{name}: threshold {threshold} but only {} keys",
                keys.len()
            )));
        }
        if from != "targets" {
            self.delegator(from)?;
        }
        self.load(&[from.to_string()])?;
        let ids = key_ids(keys)?;
        let threshold = nonzero(threshold, name)?;
        let doc = self.roles.get_mut(from).expect("loaded");
        let d = doc.signed.delegations.get_or_insert_with(|| Delegations {
            keys: BTreeMap::new(),
            roles: Some(Vec::new()),
            succinct_roles: None,
            unknown: Unknown::new(),
        });
        let Some(roles) = d.roles.as_mut() else {
            return Err(invalid(format!(
                "{from} delegates to succinct hash bins, which cannot be mixed with other delegations"
            )));
        };
        let at = roles
            .iter()
            .position(|r| r.path_hash_prefixes.is_some())
            .unwrap_or(roles.len());
        roles.insert(
            at,
            DelegatedRole {
                name: name.to_string(),
                keyids: ids.iter().map(|(id, _)| id.clone()).collect(),
                threshold,
                terminating,
                paths: Some(paths),
                path_hash_prefixes: None,
                unknown: Unknown::new(),
            },
        );
        d.keys.extend(ids);
        doc.dirty = true;
        self.indexes.remove(from);
        self.parents.insert(name.to_string(), from.to_string());
        self.roles.insert(name.to_string(), Doc::new_empty(now));
        Ok(())
    }

    /// Replaces keys of `role`: `remove` key ids go (all of them when
    /// `remove` is `None`), `add` keys come in, and the threshold becomes
    /// `threshold` when given. A top-level role's keys change in a new root
    /// (signed by the old and the new root keys); a delegated role's in its
    /// delegator, and roles of that delegator that share exactly the same
    /// keys (hash bins) rotate with it. Every role whose keys changed is
    /// re-signed at the next commit. Returns the roles rotated.
    pub fn rotate(
        &mut self,
        role: &str,
        remove: Option<&[String]>,
        add: &[Key],
        threshold: Option<u64>,
    ) -> Result<Vec<String>> {
        let added = key_ids(add)?;
        let apply = |keyids: &mut Vec<String>, th: &mut NonZeroU64| -> Result<()> {
            match remove {
                None => keyids.clear(),
                Some(ids) => {
                    for id in ids {
                        if !keyids.contains(id) {
                            return Err(invalid(format!("{role} has no key {id}")));
                        }
                    }
                    keyids.retain(|k| !ids.contains(k));
                }
            }
            for (id, _) in &added {
                if !keyids.contains(id) {
                    keyids.push(id.clone());
                }
            }
            if let Some(t) = threshold {
                *th = nonzero(t, role)?;
            }
            if (keyids.len() as u64) < th.get() {
                return Err(invalid(format!(
                    "{role}: threshold {} but {} keys after rotation",
                    th.get(),
                    keyids.len()
                )));
            }
            Ok(())
        };
        if TOP_LEVEL_ROLES.contains(&role) {
            if self.root_before.is_none() {
                self.root_before = Some(self.root.clone());
            }
            let entry = self.root.roles.get_mut(role).expect("validated root");
            apply(&mut entry.keyids, &mut entry.threshold)?;
            self.root.keys.extend(added);
            let used: BTreeSet<String> = self
                .root
                .roles
                .values()
                .flat_map(|r| r.keyids.iter().cloned())
                .collect();
            self.root.keys.retain(|id, _| used.contains(id));
            self.root_dirty = true;
            if role == "targets" {
                self.roles.get_mut("targets").expect("loaded").dirty = true;
            }
            return Ok(vec![role.to_string()]);
        }
        let parent = self.delegator(role)?;
        let doc = self.roles.get_mut(&parent).expect("loaded");
        let d = doc.signed.delegations.as_mut().expect("delegates");
        let mut rotated = Vec::new();
        if let Some(s) = d.succinct_roles.as_mut() {
            apply(&mut s.keyids, &mut s.threshold)?;
            rotated = (0..s.bin_count()).map(|b| s.bin_name(b)).collect();
        } else if let Some(roles) = d.roles.as_mut() {
            let old = roles
                .iter()
                .find(|r| r.name == role)
                .map(|r| r.keyids.clone())
                .ok_or_else(|| invalid(format!("{parent} does not delegate to {role}")))?;
            for r in roles.iter_mut().filter(|r| r.keyids == old) {
                apply(&mut r.keyids, &mut r.threshold)?;
                rotated.push(r.name.clone());
            }
        }
        d.keys.extend(added);
        let used: BTreeSet<String> = d
            .roles
            .iter()
            .flatten()
            .flat_map(|r| r.keyids.iter().cloned())
            .chain(
                d.succinct_roles
                    .iter()
                    .flat_map(|s| s.keyids.iter().cloned()),
            )
            .collect();
        d.keys.retain(|id, _| used.contains(id));
        doc.dirty = true;
        self.indexes.remove(&parent);
        for r in &rotated {
            self.parents.insert(r.clone(), parent.clone());
        }
        self.load(&rotated)?;
        for r in &rotated {
            self.roles.get_mut(r).expect("loaded").dirty = true;
        }
        Ok(rotated)
    }

    /// Marks `role` to be re-signed (with a new version and expiry) at the
    /// next commit. Snapshot and timestamp are re-signed by every commit.
    pub fn touch(&mut self, role: &str) -> Result<()> {
        match role {
            "root" => {
                self.root_dirty = true;
                Ok(())
            }
            "snapshot" | "timestamp" => Ok(()),
            _ => {
                if role != "targets" {
                    self.delegator(role)?;
                }
                self.load(&[role.to_string()])?;
                self.roles.get_mut(role).expect("loaded").dirty = true;
                Ok(())
            }
        }
    }

    /// Resolves every key the next commit needs and checks every
    /// threshold, writing nothing: what a caller runs before it copies
    /// target files, so that a missing key or a wrong passphrase leaves the
    /// repository as it was. (A keyring that caches keys decrypts them once.)
    pub fn check_keys(&mut self, keyring: &dyn Keyring, partial: bool) -> Result<()> {
        self.plan(keyring, partial).map(|_| ())
    }

    fn plan(&mut self, keyring: &dyn Keyring, partial: bool) -> Result<Plan> {
        self.settle()?;
        let mut changed: Vec<String> = self
            .roles
            .iter()
            .filter(|(_, d)| d.changed())
            .map(|(n, _)| n.clone())
            .collect();
        changed.sort();
        // Every role to sign, with the keys that sign it.
        let mut plans: Vec<(String, Vec<String>, u64)> = Vec::new();
        let mut rules: HashMap<String, (Vec<String>, u64)> = HashMap::new();
        for name in &changed {
            let (ids, th, _) = self.rule_for(name)?;
            rules.insert(name.clone(), (ids.clone(), th));
            plans.push((name.clone(), ids, th));
        }
        if self.root_dirty {
            if let Some(before) = &self.root_before {
                let r = &before.roles["root"];
                plans.push((
                    "root (previous keys)".into(),
                    r.keyids.clone(),
                    r.threshold.get(),
                ));
            }
            let r = &self.root.roles["root"];
            plans.push(("root".into(), r.keyids.clone(), r.threshold.get()));
        }
        for name in ["snapshot", "timestamp"] {
            let r = &self.root.roles[name];
            plans.push((name.into(), r.keyids.clone(), r.threshold.get()));
        }
        let mut signers: HashMap<String, Arc<dyn Signer>> = HashMap::new();
        let mut below = Vec::new();
        for (role, ids, threshold) in &plans {
            let mut have = 0usize;
            let mut missing = Vec::new();
            for id in ids {
                if signers.contains_key(id) {
                    have += 1;
                    continue;
                }
                match keyring.signer(id)? {
                    Some(s) => {
                        if s.keyid() != id {
                            return Err(invalid(format!(
                                "the keyring's key for {id} has key id {}",
                                s.keyid()
                            )));
                        }
                        signers.insert(id.clone(), s);
                        have += 1;
                    }
                    None => missing.push(id.clone()),
                }
            }
            if (have as u64) < *threshold {
                if !partial || ["snapshot", "timestamp"].contains(&role.as_str()) {
                    return Err(RepoError::Threshold {
                        role: role.clone(),
                        have,
                        threshold: *threshold,
                        missing: missing.join(", "),
                    });
                }
                below.push(role.clone());
            }
        }
        Ok(Plan {
            changed,
            rules,
            signers,
            below,
        })
    }

    /// Signs and writes every changed role, then a new snapshot and
    /// timestamp. Every key is resolved and every threshold checked before
    /// the first write; with `partial`, a role is written with the
    /// signatures that can be made (for others to add theirs with
    /// [`add_signature`]) instead of failing.
    pub fn commit(
        &mut self,
        keyring: &dyn Keyring,
        now: i64,
        expiry: &Expiry,
        partial: bool,
    ) -> Result<Committed> {
        let Plan {
            changed,
            rules,
            signers,
            below,
        } = self.plan(keyring, partial)?;
        let sign = |bytes: &[u8], ids: &[String]| -> Result<Vec<Signature>> {
            ids.iter()
                .filter_map(|id| signers.get(id))
                .map(|s| {
                    Ok(Signature {
                        keyid: s.keyid().to_string(),
                        sig: hex::encode(s.sign(bytes)?),
                        unknown: Unknown::new(),
                    })
                })
                .collect()
        };

        // Targets roles, in parallel; each is a new file.
        let mut docs: Vec<(String, Doc)> = changed
            .iter()
            .map(|n| {
                (
                    n.clone(),
                    self.roles.remove(n).expect("changed roles are loaded"),
                )
            })
            .collect();
        let store = &self.store;
        let pending = &self.pending;
        let snapshot_hashes = self.snapshot_hashes;
        // Encoding, signing and writing run on every core, a few roles per
        // task: one task per role would wake a thread per file.
        let write_role = |name: &String, doc: &mut Doc| -> Result<Written> {
            let version = doc.stored.map_or(Some(1), |v| v.checked_add(1));
            let version = version
                .and_then(NonZeroU64::new)
                .ok_or_else(|| invalid(format!("{name}: version overflow")))?;
            doc.signed.version = version;
            doc.signed.expires = expiry_at(now, expiry.of(name))?;
            let new = pending.sorted_unique(&doc.pending);
            let bytes = encode_targets(&doc.signed, &doc.kept, &new, pending)
                .map_err(|e| invalid(format!("{name}: {e}")))?;
            drop(new);
            doc.pending = Vec::new();
            let (ids, _) = &rules[name];
            let sigs = sign(&bytes, ids)?;
            let file = envelope_bytes(&sigs, &bytes);
            drop(bytes);
            let sha256: [u8; 32] = if snapshot_hashes {
                Sha256::digest(&file).into()
            } else {
                [0; 32]
            };
            let path = role_file(name, version.get());
            store.write_new(&path, &file).map_err(io_err(&path))?;
            Ok((name.clone(), version.get(), file.len() as u64, sha256))
        };
        let written: Result<Vec<Vec<Written>>> = docs
            .par_chunks_mut(ROLES_PER_TASK)
            .map(|chunk| {
                chunk
                    .iter_mut()
                    .map(|(name, doc)| write_role(name, doc))
                    .collect()
            })
            .collect();
        let written: Vec<Written> = written?.into_iter().flatten().collect();
        // Every role that held new targets is written: none refers to them now.
        self.pending.clear();
        // Written roles are read again when needed. Freeing thousands of
        // parsed bins takes a while: it happens off this thread.
        rayon::spawn(move || drop(docs));
        let mut done = Committed {
            below_threshold: below,
            ..Committed::default()
        };
        for (name, version, length, sha256) in written {
            let mut meta = MetaFile::new(NonZeroU64::new(version).expect("non-zero"));
            if self.snapshot_hashes {
                meta.length = Some(length);
                let mut h = Hashes::default();
                h.insert("sha256".into(), hex::encode(sha256));
                meta.hashes = Some(h);
            }
            self.snapshot.meta.insert(format!("{name}.json"), meta);
            done.roles.insert(name, version);
        }

        // Snapshot.
        let snap_version = next_version(self.snapshot_stored, "snapshot")?;
        self.snapshot.version = snap_version;
        self.snapshot.expires = expiry_at(now, expiry.snapshot)?;
        let bytes = encode_snapshot(&self.snapshot).map_err(|e| invalid(e.to_string()))?;
        let snap_file = envelope_bytes(&sign(&bytes, &self.root.roles["snapshot"].keyids)?, &bytes);
        let snap_path = role_file("snapshot", snap_version.get());
        self.store
            .write_new(&snap_path, &snap_file)
            .map_err(io_err(&snap_path))?;
        self.snapshot_stored = Some(snap_version.get());
        done.snapshot = snap_version.get();

        // Root, as late as possible: clients see a new root as soon as it is
        // written, so it goes right before the timestamp that matches it.
        if self.root_dirty {
            let version = next_version(self.root_stored, "root")?;
            self.root.version = version;
            self.root.expires = expiry_at(now, expiry.root)?;
            self.root.validate().map_err(invalid)?;
            let bytes = canonical::to_canonical(&self.root).map_err(|e| invalid(e.to_string()))?;
            let mut ids: Vec<String> = self.root.roles["root"].keyids.clone();
            if let Some(before) = &self.root_before {
                for id in &before.roles["root"].keyids {
                    if !ids.contains(id) {
                        ids.push(id.clone());
                    }
                }
            }
            let sigs = sign(&bytes, &ids)?;
            let path = role_file("root", version.get());
            self.store
                .write_durable(&path, &envelope_bytes(&sigs, &bytes))
                .map_err(io_err(&path))?;
            self.root_signatures = sigs;
            self.root_stored = Some(version.get());
            self.root_before = None;
            self.root_dirty = false;
            done.root = Some(version.get());
        }

        // Timestamp, last: it makes the new state visible.
        let ts_version = next_version(self.timestamp_stored, "timestamp")?;
        let mut snap_meta = MetaFile::new(snap_version);
        snap_meta.length = Some(snap_file.len() as u64);
        let mut h = Hashes::default();
        h.insert("sha256".into(), hex::encode(Sha256::digest(&snap_file)));
        snap_meta.hashes = Some(h);
        self.timestamp
            .meta
            .insert("snapshot.json".into(), snap_meta);
        self.timestamp.version = ts_version;
        self.timestamp.expires = expiry_at(now, expiry.timestamp)?;
        let bytes = canonical::to_canonical(&self.timestamp).map_err(|e| invalid(e.to_string()))?;
        let ts_file = envelope_bytes(&sign(&bytes, &self.root.roles["timestamp"].keyids)?, &bytes);
        self.store
            .write_durable("metadata/timestamp.json", &ts_file)
            .map_err(io_err("metadata/timestamp.json"))?;
        self.timestamp_stored = Some(ts_version.get());
        done.timestamp = ts_version.get();
        Ok(done)
    }

    /// The state of every role: versions, expiry, signatures against
    /// thresholds, target counts. Reads every delegated role.
    pub fn status(&mut self) -> Result<Status> {
        self.settle()?;
        let mut names: Vec<String> = self
            .snapshot
            .meta
            .keys()
            .filter_map(|k| k.strip_suffix(".json"))
            .filter(|n| *n != "targets")
            .map(str::to_string)
            .collect();
        names.sort();
        self.load(&names)?;
        let mut roles = Vec::new();
        let root_bytes = canonical::to_canonical(&self.root).map_err(|e| invalid(e.to_string()))?;
        roles.push(RoleStatus::of(
            "root",
            self.root.version.get(),
            &self.root.expires,
            count_valid(&self.root, "root", &root_bytes, &self.root_signatures),
            self.root.roles["root"].threshold.get(),
            None,
        ));
        for name in std::iter::once("targets".to_string()).chain(names) {
            let doc = self.doc(&name);
            let bytes = encode_targets(&doc.signed, &doc.kept, &[], &self.pending)
                .map_err(|e| invalid(format!("{name}: {e}")))?;
            let count = doc.target_count();
            let (ids, th, keys) = self.rule_for(&name)?;
            let doc = self.doc(&name);
            let valid = ids
                .iter()
                .filter(|id| {
                    let (Some(k), Some(s)) = (
                        keys.get(*id),
                        doc.signatures.iter().find(|s| &s.keyid == *id),
                    ) else {
                        return false;
                    };
                    k.verify(&bytes, &s.sig).is_ok()
                })
                .count();
            roles.push(RoleStatus::of(
                &name,
                doc.signed.version.get(),
                &doc.signed.expires,
                valid,
                th,
                Some(count),
            ));
        }
        let snapshot_length = self
            .timestamp
            .snapshot_meta()
            .length
            .map(Ok)
            .unwrap_or_else(|| {
                let path = role_file("snapshot", self.snapshot.version.get());
                self.store
                    .read(&path)
                    .map_err(io_err(&path))
                    .map(|b| b.map_or(0, |b| b.len() as u64))
            })?;
        Ok(Status {
            roles,
            snapshot_version: self.snapshot.version.get(),
            snapshot_expires: self.snapshot.expires.clone(),
            snapshot_length,
            timestamp_version: self.timestamp.version.get(),
            timestamp_expires: self.timestamp.expires.clone(),
            snapshot_lists_hashes: self.snapshot_hashes,
        })
    }
}

fn count_valid(root: &Root, role: &str, bytes: &[u8], sigs: &[Signature]) -> usize {
    let r = &root.roles[role];
    r.keyids
        .iter()
        .filter(|id| {
            let (Some(k), Some(s)) = (root.keys.get(*id), sigs.iter().find(|s| &s.keyid == *id))
            else {
                return false;
            };
            k.verify(bytes, &s.sig).is_ok()
        })
        .count()
}

fn next_version(stored: Option<u64>, role: &str) -> Result<NonZeroU64> {
    stored
        .map_or(Some(1), |v| v.checked_add(1))
        .and_then(NonZeroU64::new)
        .ok_or_else(|| invalid(format!("{role}: version overflow")))
}

/// One role in [`Status`].
#[derive(Debug, Clone, PartialEq)]
pub struct RoleStatus {
    pub name: String,
    pub version: u64,
    pub expires: Expires,
    pub valid_signatures: usize,
    pub threshold: u64,
    /// Targets listed (targets roles only).
    pub targets: Option<usize>,
}

impl RoleStatus {
    fn of(
        name: &str,
        version: u64,
        expires: &Expires,
        valid_signatures: usize,
        threshold: u64,
        targets: Option<usize>,
    ) -> Self {
        RoleStatus {
            name: name.to_string(),
            version,
            expires: expires.clone(),
            valid_signatures,
            threshold,
            targets,
        }
    }

    pub fn lacks_signatures(&self) -> bool {
        (self.valid_signatures as u64) < self.threshold
    }
}

/// What `cairn tuf status` reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    /// Root, targets, then delegated roles by name.
    pub roles: Vec<RoleStatus>,
    pub snapshot_version: u64,
    pub snapshot_expires: Expires,
    /// Size of the current snapshot file, which clients limit.
    pub snapshot_length: u64,
    pub timestamp_version: u64,
    pub timestamp_expires: Expires,
    pub snapshot_lists_hashes: bool,
}

/// The bytes of one of the repository's files, which must exist.
fn read_file(store: &impl Store, path: &str) -> Result<Vec<u8>> {
    store
        .read(path)
        .map_err(io_err(path))?
        .ok_or_else(|| invalid(format!("{path} is missing from the repository")))
}

fn read_envelope<T: Role>(store: &impl Store, path: &str) -> Result<Envelope<T>> {
    Ok(Envelope::from_bytes(path, &read_file(store, path)?)?)
}

/// A metadata file of the repository, as the editor reads it.
#[derive(serde::Deserialize)]
#[serde(bound = "T: Role")]
struct Stored<T> {
    signatures: Vec<Signature>,
    signed: T,
}

/// Reads one of the repository's own metadata files for editing: typed and
/// validated, but not canonicalized (the editor never verifies what it
/// reads; `status` and clients do). Several times faster than
/// [`Envelope::from_bytes`] on large targets and snapshot files.
fn read_stored<T: Role>(store: &impl Store, path: &str) -> Result<Stored<T>> {
    parse_stored(path, &read_file(store, path)?)
}

/// [`read_stored`] of bytes already read.
fn parse_stored<T: Role>(path: &str, bytes: &[u8]) -> Result<Stored<T>> {
    let stored: Stored<T> =
        serde_json::from_slice(bytes).map_err(|e| crate::Error::schema(path, e))?;
    checked(path, stored)
}

/// `stored`, once its type and schema are checked.
fn checked<T: Role>(path: &str, stored: Stored<T>) -> Result<Stored<T>> {
    if stored.signed.type_field() != T::TYPE {
        return Err(crate::Error::WrongType {
            what: path.into(),
            expected: T::TYPE.into(),
            found: stored.signed.type_field().to_string(),
        }
        .into());
    }
    stored
        .signed
        .validate()
        .map_err(|e| crate::Error::schema(path, e))?;
    Ok(stored)
}

/// Reads a stored targets role for editing: its entries kept as bytes when
/// the file is canonical (see [`kept`]), parsed otherwise.
fn read_targets(store: &impl Store, path: &str) -> Result<(Stored<Targets>, Kept)> {
    match kept::read(read_file(store, path)?) {
        Ok((stored, kept)) => Ok((checked(path, stored)?, kept)),
        Err(bytes) => Ok((parse_stored(path, &bytes)?, Kept::default())),
    }
}

/// A metadata file: signatures, and the canonical `signed` bytes as they are.
fn envelope_bytes(signatures: &[Signature], signed: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(signed.len() + 160 * signatures.len() + 32);
    out.extend_from_slice(b"{\"signatures\":[");
    for (i, s) in signatures.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        if s.unknown.is_empty() {
            out.extend_from_slice(b"{\"keyid\":");
            canonical::encode_str(&s.keyid, &mut out);
            out.extend_from_slice(b",\"sig\":");
            canonical::encode_str(&s.sig, &mut out);
            out.push(b'}');
        } else {
            let c = canonical::to_canonical(s).expect("signatures are strings");
            push_json_safe(&mut out, &c);
        }
    }
    out.extend_from_slice(b"],\"signed\":");
    push_json_safe(&mut out, signed);
    out.extend_from_slice(b"}\n");
    out
}

/// Canonical JSON written as a file: the same bytes, except that control
/// characters (which the canonical form leaves raw inside strings, and which
/// JSON parsers refuse) are written as `\u00XX` escapes. Canonical bytes
/// have no whitespace outside strings, so every control character is inside
/// one, and the file parses back to the very value that was signed.
fn push_json_safe(out: &mut Vec<u8>, canonical: &[u8]) {
    // Checked a block at a time, without an early exit, so that the check
    // compiles to vector instructions.
    let has_control = canonical
        .chunks(64)
        .any(|c| c.iter().fold(false, |any, &b| any | (b < 0x20)));
    if !has_control {
        out.extend_from_slice(canonical);
        return;
    }
    for &b in canonical {
        if b < 0x20 {
            out.extend_from_slice(format!("\\u{b:04x}").as_bytes());
        } else {
            out.push(b);
        }
    }
}

/// `Targets` without its `targets` map, borrowed: the rest of the role goes
/// through serde, the (large) map is encoded directly.
#[derive(serde::Serialize)]
struct TargetsShell<'a> {
    #[serde(rename = "_type")]
    type_: &'a str,
    spec_version: &'a SpecVersion,
    version: NonZeroU64,
    expires: &'a Expires,
    #[serde(skip_serializing_if = "Option::is_none")]
    delegations: Option<&'a Delegations>,
    #[serde(flatten)]
    unknown: &'a Unknown,
}

/// `Snapshot` without its `meta` map, borrowed.
#[derive(serde::Serialize)]
struct SnapshotShell<'a> {
    #[serde(rename = "_type")]
    type_: &'a str,
    spec_version: &'a SpecVersion,
    version: NonZeroU64,
    expires: &'a Expires,
    #[serde(flatten)]
    unknown: &'a Unknown,
}

/// Encodes an object whose fields come from `shell` plus one more, `key`,
/// written by `write` (keys in canonical order).
fn encode_with(
    shell: impl serde::Serialize,
    key: &str,
    write: impl FnOnce(&mut Vec<u8>) -> serde_json::Result<()>,
    capacity: usize,
) -> serde_json::Result<Vec<u8>> {
    let Value::Object(mut top) = serde_json::to_value(shell)? else {
        unreachable!("a struct serializes to an object")
    };
    top.insert(key.to_string(), Value::Null);
    let mut out = Vec::with_capacity(capacity);
    let mut write = Some(write);
    out.push(b'{');
    for (i, (k, v)) in top.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        canonical::encode_str(k, &mut out);
        out.push(b':');
        if k == key {
            (write.take().expect("one key"))(&mut out)?;
        } else {
            canonical::encode(v, &mut out)?;
        }
    }
    out.push(b'}');
    Ok(out)
}

/// The canonical form of a `hashes` object (sorted by algorithm already).
fn encode_hashes(hashes: &Hashes, out: &mut Vec<u8>) {
    out.push(b'{');
    for (i, (alg, digest)) in hashes.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        canonical::encode_str(alg, out);
        out.push(b':');
        canonical::encode_str(digest, out);
    }
    out.push(b'}');
}

/// The canonical form of one `targets` entry.
fn encode_target_file(t: &TargetFile, out: &mut Vec<u8>) -> serde_json::Result<()> {
    use std::io::Write;
    if !t.unknown.is_empty() {
        return canonical::encode(&serde_json::to_value(t)?, out);
    }
    out.push(b'{');
    if let Some(c) = &t.custom {
        out.extend_from_slice(b"\"custom\":");
        canonical::encode(c, out)?;
        out.push(b',');
    }
    out.extend_from_slice(b"\"hashes\":");
    encode_hashes(&t.hashes, out);
    write!(out, ",\"length\":{}}}", t.length).expect("writing to memory");
    Ok(())
}

/// The canonical form of one snapshot or timestamp `meta` entry.
fn encode_meta_file(m: &MetaFile, out: &mut Vec<u8>) -> serde_json::Result<()> {
    use std::io::Write;
    if !m.unknown.is_empty() {
        return canonical::encode(&serde_json::to_value(m)?, out);
    }
    out.push(b'{');
    if let Some(h) = &m.hashes {
        out.extend_from_slice(b"\"hashes\":");
        encode_hashes(h, out);
        out.push(b',');
    }
    if let Some(l) = m.length {
        write!(out, "\"length\":{l},").expect("writing to memory");
    }
    write!(out, "\"version\":{}}}", m.version).expect("writing to memory");
    Ok(())
}

/// The canonical bytes of snapshot metadata.
fn encode_snapshot(snap: &Snapshot) -> serde_json::Result<Vec<u8>> {
    let shell = SnapshotShell {
        type_: &snap.type_,
        spec_version: &snap.spec_version,
        version: snap.version,
        expires: &snap.expires,
        unknown: &snap.unknown,
    };
    encode_with(
        shell,
        "meta",
        |out| {
            out.push(b'{');
            for (i, (name, m)) in snap.meta.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                canonical::encode_str(name, out);
                out.push(b':');
                encode_meta_file(m, out)?;
            }
            out.push(b'}');
            Ok(())
        },
        snap.meta.len() * 40 + 256,
    )
}

/// The canonical bytes of `signed` with the `pending` targets of `store`
/// merged into its targets (a pending entry replaces a listed one of the
/// same path). `pending` must be sorted and unique by path
/// ([`PendingStore::sorted_unique`]).
fn encode_targets(
    signed: &Targets,
    kept: &Kept,
    pending: &[Pick<'_>],
    store: &PendingStore,
) -> serde_json::Result<Vec<u8>> {
    enum Listed<'a> {
        Parsed(&'a TargetFile),
        /// `"PATH":{...}`, canonical already.
        Kept(&'a [u8]),
    }
    // A role's targets are parsed or kept, never both.
    debug_assert!(signed.targets.is_empty() || kept.is_empty());
    let shell = TargetsShell {
        type_: &signed.type_,
        spec_version: &signed.spec_version,
        version: signed.version,
        expires: &signed.expires,
        delegations: signed.delegations.as_ref(),
        unknown: &signed.unknown,
    };
    let capacity = (signed.targets.len() + pending.len()) * 160 + kept.size() + 256;
    encode_with(
        shell,
        "targets",
        |out| {
            out.push(b'{');
            let mut listed = signed
                .targets
                .iter()
                .map(|(k, v)| (k.as_str(), Listed::Parsed(v)))
                .chain(kept.iter().map(|(k, v)| (k, Listed::Kept(v))))
                .peekable();
            let mut new = pending.iter().peekable();
            let mut first = true;
            loop {
                let take_new = match (listed.peek(), new.peek()) {
                    (None, None) => break,
                    (Some(_), None) => false,
                    (None, Some(_)) => true,
                    (Some((lk, _)), Some(e)) => {
                        let np = e.path;
                        if *lk == np {
                            listed.next(); // replaced by the new entry
                            true
                        } else {
                            np < *lk
                        }
                    }
                };
                if !first {
                    out.push(b',');
                }
                first = false;
                if take_new {
                    let e = new.next().expect("peeked");
                    canonical::encode_str(e.path, out);
                    out.push(b':');
                    store.encode(e, out)?;
                } else {
                    match listed.next().expect("peeked") {
                        (lk, Listed::Parsed(lv)) => {
                            canonical::encode_str(lk, out);
                            out.push(b':');
                            encode_target_file(lv, out)?;
                        }
                        (_, Listed::Kept(entry)) => out.extend_from_slice(entry),
                    }
                }
            }
            out.push(b'}');
            Ok(())
        },
        capacity,
    )
}

/// Adds `signer`'s signature to the metadata file at `path` (in `store`)
/// without touching its `signed` part, so signatures already there stay
/// valid. The key must be one the role lists; `rule` gives the role's key
/// ids. Returns false when the file already carried this key's signature
/// (it is then replaced by a fresh one over the same bytes).
pub fn add_signature<T: Role>(
    store: &impl Store,
    path: &str,
    rule_keyids: &[String],
    signer: &dyn Signer,
) -> Result<bool> {
    let env: Envelope<T> = read_envelope(store, path)?;
    if !rule_keyids.iter().any(|id| id == signer.keyid()) {
        return Err(invalid(format!(
            "key {} is not one of the keys that sign {path}",
            signer.keyid()
        )));
    }
    let sig = Signature {
        keyid: signer.keyid().to_string(),
        sig: hex::encode(signer.sign(&env.signed_bytes)?),
        unknown: Unknown::new(),
    };
    let mut sigs = env.signatures;
    let new = !sigs.iter().any(|s| s.keyid == sig.keyid);
    sigs.retain(|s| s.keyid != sig.keyid);
    sigs.push(sig);
    let file = envelope_bytes(&sigs, &env.signed_bytes);
    store.write(path, &file).map_err(io_err(path))?;
    Ok(new)
}

/// The key ids that sign `role` in `repo`, for [`add_signature`].
/// For root, the keys of the previous root count too: a rotated root needs
/// the thresholds of both (§5.3.4).
pub fn signing_keyids<S: Store>(repo: &mut Repository<S>, role: &str) -> Result<Vec<String>> {
    let mut ids = repo.rule_for(role)?.0;
    let v = repo.root.version.get();
    if role == "root" && v > 1 {
        let prev: Stored<Root> = read_stored(&repo.store, &role_file("root", v - 1))?;
        for id in &prev.signed.roles["root"].keyids {
            if !ids.contains(id) {
                ids.push(id.clone());
            }
        }
    }
    Ok(ids)
}

/// The keys and threshold that sign `role` now.
pub fn signing_rule<S: Store>(repo: &mut Repository<S>, role: &str) -> Result<(Vec<String>, u64)> {
    let (ids, threshold, _) = repo.rule_for(role)?;
    Ok((ids, threshold))
}

/// The metadata file that holds `role`'s current version.
pub fn current_file<S: Store>(repo: &Repository<S>, role: &str) -> Result<String> {
    Ok(match role {
        "root" => role_file("root", repo.root.version.get()),
        "timestamp" => "metadata/timestamp.json".into(),
        "snapshot" => role_file("snapshot", repo.snapshot.version.get()),
        _ => {
            let meta = repo
                .snapshot
                .meta
                .get(&format!("{role}.json"))
                .ok_or_else(|| invalid(format!("role {role:?} is not listed in snapshot")))?;
            role_file(role, meta.version.get())
        }
    })
}

impl TargetFile {
    /// The `targets` entry for `t`.
    pub fn from_new(t: &NewTarget) -> Self {
        let mut hashes = Hashes::default();
        hashes.insert("sha256".into(), hex::encode(t.sha256));
        if let Some(h) = &t.sha512 {
            hashes.insert("sha512".into(), hex::encode(h.as_slice()));
        }
        TargetFile {
            length: t.length,
            hashes,
            custom: t.custom.as_deref().cloned(),
            unknown: Unknown::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The direct encoders write exactly the generic canonical form.
    #[test]
    fn direct_encoding_is_the_canonical_form() {
        let mut t = Doc::new_empty(1_900_000_000).signed;
        let mut a = TargetFile::from_new(&NewTarget::from_bytes(b"a"));
        a.custom = Some(serde_json::json!({"z": [1, "x\ny"], "a": {"q\"": true}}));
        t.targets.insert("dir/a".into(), a);
        let mut b = TargetFile::from_data(b"b");
        b.unknown.insert("x-extra".into(), serde_json::json!(7));
        t.targets.insert("b é".into(), b);
        t.unknown
            .insert("custom-top".into(), serde_json::json!("v"));
        let mut store = PendingStore::default();
        let mut batch = TargetBatch::new();
        let mut n = NewTarget::from_bytes(b"n");
        n.custom = Some(Box::new(serde_json::json!({"k": 1})));
        batch.push("dir/a", n.clone()).unwrap();
        batch.push("c", NewTarget::from_bytes(b"c")).unwrap();
        let b = store.add(batch).unwrap();
        let refs: Vec<Ref> = store.refs(b).collect();
        let got =
            encode_targets(&t, &Kept::default(), &store.sorted_unique(&refs), &store).unwrap();
        t.targets.insert("dir/a".into(), TargetFile::from_new(&n));
        let mut c = TargetFile::from_new(&NewTarget::from_bytes(b"c"));
        c.custom = None;
        t.targets.insert("c".into(), c);
        assert_eq!(
            String::from_utf8(got).unwrap(),
            String::from_utf8(canonical::to_canonical(&t).unwrap()).unwrap()
        );

        let mut snap = Snapshot {
            type_: "snapshot".into(),
            spec_version: SpecVersion::default(),
            version: NonZeroU64::new(3).unwrap(),
            expires: Expires::from_unix(1_900_000_000),
            meta: BTreeMap::new(),
            unknown: Unknown::new(),
        };
        snap.meta
            .insert("targets.json".into(), MetaFile::new(NonZeroU64::MIN));
        let mut m = MetaFile::new(NonZeroU64::new(9).unwrap());
        m.length = Some(12);
        let mut h = Hashes::default();
        h.insert("sha256".into(), "ab".into());
        m.hashes = Some(h);
        snap.meta.insert("0000-0003.json".into(), m);
        let mut odd = MetaFile::new(NonZeroU64::MIN);
        odd.unknown.insert("x".into(), serde_json::json!(null));
        snap.meta.insert("odd.json".into(), odd);
        assert_eq!(
            encode_snapshot(&snap).unwrap(),
            canonical::to_canonical(&snap).unwrap()
        );
        // Control characters are escaped in files, and the file parses back
        // to the signed value.
        let file = envelope_bytes(&[], b"{\"a\":\"x\ny\"}");
        let v: Value = serde_json::from_slice(&file).unwrap();
        assert_eq!(v["signed"]["a"], "x\ny");
    }
}
