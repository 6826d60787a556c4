//! A repository simulator for cairn-tuf's tests, in the spirit of the
//! tuf-conformance suite's: metadata held as typed values, signed with
//! cairn's ed25519 signer on `publish`, served from a [`MemoryFetcher`].
#![allow(dead_code)]

use cairn_tuf::fetcher::MemoryFetcher;
use cairn_tuf::keys::Key;
use cairn_tuf::metadata::*;
use cairn_tuf::sign::{sign_metadata, Ed25519Signer};
use cairn_tuf::{Config, Updater};
use std::collections::BTreeMap;
use std::num::NonZeroU64;
use std::path::Path;

pub const METADATA_URL: &str = "https://repo.test/metadata/";
pub const TARGETS_URL: &str = "https://repo.test/targets/";
/// The reference time tests run at: 2030-01-01T00:00:00Z.
pub const NOW: i64 = 1_893_456_000;
pub const DAY: i64 = 86_400;

pub fn nz(v: u64) -> NonZeroU64 {
    NonZeroU64::new(v).unwrap()
}

pub struct TestRepo {
    pub fetcher: MemoryFetcher,
    pub root: Root,
    pub timestamp: Timestamp,
    pub snapshot: Snapshot,
    /// Targets metadata by role name ("targets" and delegated roles).
    pub targets: BTreeMap<String, Targets>,
    /// Signers by role name; a role is signed by all of its signers.
    pub signers: BTreeMap<String, Vec<Ed25519Signer>>,
    /// Latest published bytes per role.
    pub published: BTreeMap<String, Vec<u8>>,
    /// Target contents by target path.
    pub artifacts: BTreeMap<String, Vec<u8>>,
    next_seed: u8,
}

impl TestRepo {
    /// A repository with one key per top-level role, everything at version 1,
    /// published, expiring in 30 days from [`NOW`].
    pub fn new() -> Self {
        let expires = Expires::from_unix(NOW + 30 * DAY);
        let spec = SpecVersion::default();
        let mut repo = TestRepo {
            fetcher: MemoryFetcher::new(),
            root: Root {
                type_: "root".into(),
                spec_version: spec.clone(),
                version: nz(1),
                expires: expires.clone(),
                consistent_snapshot: Some(true),
                keys: BTreeMap::new(),
                roles: BTreeMap::new(),
                unknown: Unknown::new(),
            },
            timestamp: Timestamp {
                type_: "timestamp".into(),
                spec_version: spec.clone(),
                version: nz(1),
                expires: expires.clone(),
                meta: BTreeMap::from([("snapshot.json".to_string(), MetaFile::new(nz(1)))]),
                unknown: Unknown::new(),
            },
            snapshot: Snapshot {
                type_: "snapshot".into(),
                spec_version: spec.clone(),
                version: nz(1),
                expires: expires.clone(),
                meta: BTreeMap::from([("targets.json".to_string(), MetaFile::new(nz(1)))]),
                unknown: Unknown::new(),
            },
            targets: BTreeMap::from([("targets".to_string(), Self::empty_targets())]),
            signers: BTreeMap::new(),
            published: BTreeMap::new(),
            artifacts: BTreeMap::new(),
            next_seed: 1,
        };
        for role in TOP_LEVEL_ROLES {
            repo.root.roles.insert(
                role.into(),
                RoleKeys {
                    keyids: vec![],
                    threshold: nz(1),
                    unknown: Unknown::new(),
                },
            );
            let signer = repo.new_signer();
            repo.add_root_key(role, signer);
        }
        repo.publish_all();
        repo
    }

    pub fn empty_targets() -> Targets {
        Targets {
            type_: "targets".into(),
            spec_version: SpecVersion::default(),
            version: nz(1),
            expires: Expires::from_unix(NOW + 30 * DAY),
            targets: BTreeMap::new(),
            delegations: None,
            unknown: Unknown::new(),
        }
    }

    pub fn new_signer(&mut self) -> Ed25519Signer {
        let s = Ed25519Signer::from_seed(&[self.next_seed; 32]);
        self.next_seed += 1;
        s
    }

    /// Adds `signer`'s key to top-level `role` in root and signs `role` with it.
    pub fn add_root_key(&mut self, role: &str, signer: Ed25519Signer) {
        let keyid = signer.keyid().to_string();
        self.root
            .keys
            .insert(keyid.clone(), signer.public_key().clone());
        self.root.roles.get_mut(role).unwrap().keyids.push(keyid);
        self.signers.entry(role.into()).or_default().push(signer);
    }

    /// Replaces every key of top-level `role` by a new one.
    pub fn rotate_keys(&mut self, role: &str) {
        let signer = self.new_signer();
        self.root.roles.get_mut(role).unwrap().keyids.clear();
        self.signers.remove(role);
        self.add_root_key(role, signer);
    }

    /// Adds delegated role `role` under `delegator`, with a new key.
    pub fn delegate(&mut self, delegator: &str, role: DelegatedRole) {
        let signer = self.new_signer();
        let mut role = role;
        role.keyids = vec![signer.keyid().to_string()];
        let name = role.name.clone();
        let d = self.targets.get_mut(delegator).unwrap();
        let delegations = d.delegations.get_or_insert_with(|| Delegations {
            keys: BTreeMap::new(),
            roles: Some(vec![]),
            succinct_roles: None,
            unknown: Unknown::new(),
        });
        delegations
            .keys
            .insert(signer.keyid().into(), signer.public_key().clone());
        delegations.roles.as_mut().unwrap().push(role);
        self.signers.entry(name.clone()).or_default().push(signer);
        self.targets.entry(name).or_insert_with(Self::empty_targets);
    }

    /// Adds a target to `role` with `data` and serves it.
    pub fn add_target(&mut self, role: &str, path: &str, data: &[u8]) {
        let tf = TargetFile::from_data(data);
        self.targets
            .get_mut(role)
            .unwrap()
            .targets
            .insert(path.into(), tf.clone());
        self.artifacts.insert(path.into(), data.to_vec());
        self.serve_target(path, &tf, data);
    }

    /// Serves `data` at the URL where a client looks for `path` described by `tf`.
    pub fn serve_target(&self, path: &str, tf: &TargetFile, data: &[u8]) {
        let hash = &tf.hashes["sha256"];
        let url = match path.rsplit_once('/') {
            _ if !self.root.consistent_snapshot() => format!("{TARGETS_URL}{path}"),
            Some((d, n)) => format!("{TARGETS_URL}{d}/{hash}.{n}"),
            None => format!("{TARGETS_URL}{hash}.{path}"),
        };
        self.fetcher.insert(url, data.to_vec());
    }

    pub fn signers_of(&self, role: &str) -> Vec<&Ed25519Signer> {
        self.signers
            .get(role)
            .map(|v| v.iter().collect())
            .unwrap_or_default()
    }

    /// Signs and serves the current metadata of each role in `roles` (in
    /// order), bumping versions as a repository would and updating snapshot
    /// and timestamp meta. Root is served as `N.root.json`.
    pub fn publish(&mut self, roles: &[&str]) {
        for &role in roles {
            self.publish_one(role, true);
        }
    }

    fn publish_all(&mut self) {
        for role in ["root", "targets", "snapshot", "timestamp"] {
            self.publish_one(role, false);
        }
    }

    fn publish_one(&mut self, role: &str, bump: bool) {
        let bytes = match role {
            "root" => {
                if bump {
                    self.root.version = nz(self.root.version.get() + 1);
                }
                let mut signers = self.signers_of("root");
                // A new root must also be signed by the previous root's keys.
                if let Some(prev) = self.signers.get("prev-root") {
                    signers.extend(prev.iter());
                }
                let b = sign_metadata(&self.root, &signers);
                self.fetcher.insert(
                    format!("{METADATA_URL}{}.root.json", self.root.version),
                    b.clone(),
                );
                b
            }
            "timestamp" => {
                if bump {
                    self.timestamp.version = nz(self.timestamp.version.get() + 1);
                }
                let b = sign_metadata(&self.timestamp, &self.signers_of("timestamp"));
                self.fetcher
                    .insert(format!("{METADATA_URL}timestamp.json"), b.clone());
                b
            }
            "snapshot" => {
                if bump {
                    self.snapshot.version = nz(self.snapshot.version.get() + 1);
                }
                let b = sign_metadata(&self.snapshot, &self.signers_of("snapshot"));
                self.fetcher.insert(self.url_of("snapshot"), b.clone());
                self.timestamp
                    .meta
                    .insert("snapshot.json".into(), MetaFile::new(self.snapshot.version));
                b
            }
            name => {
                let md = self.targets.get_mut(name).unwrap();
                if bump {
                    md.version = nz(md.version.get() + 1);
                }
                let version = md.version;
                let b = sign_metadata(&self.targets[name], &self.signers_of(name));
                self.fetcher.insert(self.url_of(name), b.clone());
                self.snapshot
                    .meta
                    .insert(format!("{name}.json"), MetaFile::new(version));
                b
            }
        };
        self.published.insert(role.into(), bytes);
    }

    /// Publishes `roles` then snapshot and timestamp.
    pub fn publish_with_snapshot(&mut self, roles: &[&str]) {
        let mut all: Vec<&str> = roles.to_vec();
        all.extend(["snapshot", "timestamp"]);
        self.publish(&all);
    }

    /// The URL a role's current version is served at.
    pub fn url_of(&self, role: &str) -> String {
        match role {
            "root" => format!("{METADATA_URL}{}.root.json", self.root.version),
            "timestamp" => format!("{METADATA_URL}timestamp.json"),
            "snapshot" if !self.root.consistent_snapshot() => {
                format!("{METADATA_URL}snapshot.json")
            }
            "snapshot" => format!("{METADATA_URL}{}.snapshot.json", self.snapshot.version),
            name if !self.root.consistent_snapshot() => {
                format!("{METADATA_URL}{}.json", cairn_tuf::updater::quote(name))
            }
            name => format!(
                "{METADATA_URL}{}.{}.json",
                self.targets[name].version,
                cairn_tuf::updater::quote(name)
            ),
        }
    }

    /// Replaces what is served for `role`'s current version.
    pub fn serve_raw(&self, role: &str, bytes: Vec<u8>) {
        self.fetcher.insert(self.url_of(role), bytes);
    }

    /// Root v1 bytes as a client would be initialized with.
    pub fn root_v1(&self) -> Vec<u8> {
        self.fetcher
            .fetch_for_test(&format!("{METADATA_URL}1.root.json"))
            .expect("root v1 published")
    }
}

pub trait FetchForTest {
    fn fetch_for_test(&self, url: &str) -> Option<Vec<u8>>;
}

impl FetchForTest for MemoryFetcher {
    fn fetch_for_test(&self, url: &str) -> Option<Vec<u8>> {
        use cairn_tuf::fetcher::Fetcher;
        self.fetch(url, u64::MAX).ok()
    }
}

/// A client directory initialized with `root` bytes.
pub struct Client {
    pub dir: tempfile::TempDir,
}

impl Client {
    pub fn new(root: &[u8]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("root.json"), root).unwrap();
        Client { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn updater_at(
        &self,
        repo: &TestRepo,
        now: i64,
    ) -> cairn_tuf::Result<Updater<MemoryFetcher>> {
        Updater::with_reference_time(
            self.path(),
            METADATA_URL,
            repo.fetcher.clone(),
            Config::default(),
            now,
        )
    }

    pub fn refresh(&self, repo: &TestRepo) -> cairn_tuf::Result<()> {
        self.refresh_at(repo, NOW)
    }

    pub fn refresh_at(&self, repo: &TestRepo, now: i64) -> cairn_tuf::Result<()> {
        self.updater_at(repo, now)?.refresh()
    }

    /// Version of the locally trusted file of `role`, if any.
    pub fn version(&self, role: &str) -> Option<u64> {
        let bytes = std::fs::read(
            self.path()
                .join(format!("{}.json", cairn_tuf::updater::quote(role))),
        )
        .ok()?;
        let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
        v["signed"]["version"].as_u64()
    }

    /// Every file in the metadata directory with its bytes.
    pub fn snapshot_files(&self) -> BTreeMap<String, Vec<u8>> {
        std::fs::read_dir(self.path())
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect()
    }

    /// Resolves and downloads `target` into `dir`, returning the bytes.
    pub fn download(
        &self,
        repo: &TestRepo,
        target: &str,
        dir: &Path,
    ) -> cairn_tuf::Result<Vec<u8>> {
        let mut up = self.updater_at(repo, NOW)?;
        up.refresh()?;
        let info = up
            .target_info(target)?
            .ok_or_else(|| cairn_tuf::Error::TargetNotFound(target.into()))?;
        let dest = cairn_tuf::updater::target_file_path(dir, target);
        up.download_target(target, &info, TARGETS_URL, &dest)?;
        Ok(std::fs::read(dest).unwrap())
    }
}

pub fn ed_key(signer: &Ed25519Signer) -> Key {
    signer.public_key().clone()
}
