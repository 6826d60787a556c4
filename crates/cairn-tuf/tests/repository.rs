//! The repository editor, checked by the client: every repository state a
//! test commits is refreshed and searched by cairn's own updater, which
//! verifies every signature, version and hash the way the specification's
//! client workflow does.

use cairn_tuf::fetcher::MemoryFetcher;
use cairn_tuf::keys::Key;
use cairn_tuf::repo::*;
use cairn_tuf::sign::{Ed25519Signer, Signer};
use cairn_tuf::{Config, Updater};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// 2030-01-01T00:00:00Z.
const NOW: i64 = 1_893_456_000;
const BASE: &str = "https://repo.test/";

struct Keys {
    ring: HashMap<String, Arc<dyn Signer>>,
    next: u8,
}

impl Keys {
    fn new() -> Self {
        Keys {
            ring: HashMap::new(),
            next: 1,
        }
    }
    /// A new key, kept in the keyring.
    fn make(&mut self) -> Key {
        let s = Ed25519Signer::from_seed(&[self.next; 32]);
        self.next += 1;
        let k = s.public_key().clone();
        self.ring.insert(s.keyid().to_string(), Arc::new(s));
        k
    }
    /// A new key that the keyring does not hold (someone else's).
    fn elsewhere(&mut self) -> (Key, Arc<dyn Signer>) {
        let s = Ed25519Signer::from_seed(&[self.next; 32]);
        self.next += 1;
        (s.public_key().clone(), Arc::new(s))
    }
}

fn spec(keys: &mut Keys, bins: Option<BinLayout>) -> InitSpec {
    let mut k = BTreeMap::new();
    for role in ["root", "targets", "snapshot", "timestamp"] {
        k.insert(role.to_string(), vec![keys.make()]);
    }
    InitSpec {
        keys: k,
        thresholds: BTreeMap::new(),
        bins: bins.map(|b| (b, vec![keys.make()], 1)),
        snapshot_hashes: false,
    }
}

fn fetcher_of(store: &MemoryStore) -> MemoryFetcher {
    let f = MemoryFetcher::new();
    for (path, data) in store.files() {
        f.insert(format!("{BASE}{path}"), data);
    }
    f
}

fn client(store: &MemoryStore, dir: &std::path::Path) -> Updater<MemoryFetcher> {
    if !dir.join("root.json").exists() {
        std::fs::write(
            dir.join("root.json"),
            store.files()["metadata/1.root.json"].clone(),
        )
        .unwrap();
    }
    let mut up = Updater::with_reference_time(
        dir,
        &format!("{BASE}metadata"),
        fetcher_of(store),
        Config::default(),
        NOW + 3600,
    )
    .unwrap();
    up.refresh().unwrap();
    up
}

fn deleg(name: &str, path: &str, terminating: bool, key: Key) -> Delegation {
    Delegation {
        name: name.into(),
        paths: vec![path.into()],
        terminating,
        keys: vec![key],
        threshold: 1,
    }
}

fn target(i: usize) -> (String, NewTarget) {
    let data = format!("target {i}");
    (
        format!("files/{i}/t{i}.txt"),
        NewTarget::from_bytes(data.as_bytes()),
    )
}

#[test]
fn a_new_repository_with_targets_verifies_in_the_client() {
    let mut keys = Keys::new();
    let mut repo = Repository::init(MemoryStore::new(), spec(&mut keys, None), NOW).unwrap();
    repo.add_targets((0..10).map(target).collect(), None)
        .unwrap();
    let done = repo
        .commit(&keys.ring, NOW, &Expiry::default(), false)
        .unwrap();
    assert_eq!(done.roles["targets"], 1);
    assert_eq!((done.root, done.snapshot, done.timestamp), (Some(1), 1, 1));
    let files = repo.store().files();
    assert!(files.contains_key("metadata/1.targets.json"));
    assert!(files.contains_key("metadata/1.snapshot.json"));
    assert!(files.contains_key("metadata/timestamp.json"));
    let dir = tempfile::tempdir().unwrap();
    let mut up = client(repo.store(), dir.path());
    let (path, t) = target(7);
    let info = up.target_info(&path).unwrap().expect("listed");
    assert_eq!(info.length, t.length);
    assert_eq!(info.hashes.get("sha256"), Some(t.sha256_hex().as_str()));
    assert!(info.hashes.get("sha512").is_some());
    assert!(up.target_info("files/none").unwrap().is_none());
}

#[test]
fn hashed_bins_take_targets_and_one_add_resigns_one_bin() {
    let mut keys = Keys::new();
    let mut repo = Repository::init(
        MemoryStore::new(),
        spec(&mut keys, Some(BinLayout::Hashed(64))),
        NOW,
    )
    .unwrap();
    repo.add_targets((0..500).map(target).collect(), None)
        .unwrap();
    let first = repo
        .commit(&keys.ring, NOW, &Expiry::default(), false)
        .unwrap();
    assert_eq!(first.roles.len(), 65, "targets and every bin");
    let before = repo.store().files();
    let dir = tempfile::tempdir().unwrap();
    let mut up = client(repo.store(), dir.path());
    for i in [0, 99, 499] {
        let (path, _) = target(i);
        assert!(up.target_info(&path).unwrap().is_some(), "{path}");
    }

    // One more target: its bin, snapshot and timestamp, nothing else.
    let mut repo = Repository::open(MemoryStore::new_from(before.clone())).unwrap();
    let added: BTreeMap<String, usize> = repo
        .add_targets(vec![target(1000)], None)
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(added.len(), 1);
    let bin = added.keys().next().unwrap().clone();
    let done = repo
        .commit(&keys.ring, NOW + 60, &Expiry::default(), false)
        .unwrap();
    assert_eq!(done.roles, BTreeMap::from([(bin.clone(), 2)]));
    assert_eq!((done.root, done.snapshot, done.timestamp), (None, 2, 2));
    let after = repo.store().files();
    let new: Vec<&String> = after
        .keys()
        .filter(|k| before.get(*k) != after.get(*k))
        .collect();
    assert_eq!(
        new,
        [
            &format!("metadata/2.{bin}.json"),
            &"metadata/2.snapshot.json".to_string(),
            &"metadata/timestamp.json".to_string()
        ]
    );
    // The client, refreshed, finds old and new targets.
    let mut up = client(repo.store(), dir.path());
    assert!(up.target_info(&target(1000).0).unwrap().is_some());
    assert!(up.target_info(&target(3).0).unwrap().is_some());
}

#[test]
fn succinct_bins_verify_in_the_client() {
    let mut keys = Keys::new();
    let mut repo = Repository::init(
        MemoryStore::new(),
        spec(&mut keys, Some(BinLayout::Succinct(5))),
        NOW,
    )
    .unwrap();
    repo.add_targets((0..200).map(target).collect(), None)
        .unwrap();
    let done = repo
        .commit(&keys.ring, NOW, &Expiry::default(), false)
        .unwrap();
    assert_eq!(done.roles.len(), 33);
    assert!(done.roles.contains_key("bin-00") && done.roles.contains_key("bin-1f"));
    let dir = tempfile::tempdir().unwrap();
    let mut up = client(repo.store(), dir.path());
    for i in [0, 150, 199] {
        assert!(up.target_info(&target(i).0).unwrap().is_some());
    }
}

#[test]
fn nested_delegations_place_targets_in_the_deepest_role() {
    let mut keys = Keys::new();
    let mut repo = Repository::init(
        MemoryStore::new(),
        spec(&mut keys, Some(BinLayout::Hashed(16))),
        NOW,
    )
    .unwrap();
    let k1 = keys.make();
    repo.delegate("targets", deleg("sboms", "sboms/*/*", false, k1), NOW)
        .unwrap();
    let k2 = keys.make();
    repo.delegate(
        "sboms",
        deleg("sboms-sha256", "sboms/sha256/*", true, k2),
        NOW,
    )
    .unwrap();
    let placed: BTreeMap<String, usize> = repo
        .add_targets(
            vec![
                (
                    "sboms/sha256/abc.spdx.json".into(),
                    NewTarget::from_bytes(b"a"),
                ),
                ("sboms/other/x.json".into(), NewTarget::from_bytes(b"b")),
                ("elsewhere.txt".into(), NewTarget::from_bytes(b"c")),
            ],
            None,
        )
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(placed["sboms-sha256"], 1);
    assert_eq!(placed["sboms"], 1);
    assert_eq!(placed.len(), 3, "the third goes to a bin: {placed:?}");
    repo.commit(&keys.ring, NOW, &Expiry::default(), false)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut up = client(repo.store(), dir.path());
    for p in [
        "sboms/sha256/abc.spdx.json",
        "sboms/other/x.json",
        "elsewhere.txt",
    ] {
        assert!(up.target_info(p).unwrap().is_some(), "{p}");
    }
    // Removal goes through the same search.
    let mut repo = Repository::open(MemoryStore::new_from(repo.store().files())).unwrap();
    assert_eq!(
        repo.remove_target("sboms/sha256/abc.spdx.json")
            .unwrap()
            .as_deref(),
        Some("sboms-sha256")
    );
    assert_eq!(repo.remove_target("sboms/sha256/none").unwrap(), None);
    repo.commit(&keys.ring, NOW, &Expiry::default(), false)
        .unwrap();
    let mut up = client(repo.store(), dir.path());
    assert!(up
        .target_info("sboms/sha256/abc.spdx.json")
        .unwrap()
        .is_none());
    assert!(up.target_info("sboms/other/x.json").unwrap().is_some());
}

#[test]
fn a_missing_key_or_unmet_threshold_writes_nothing() {
    let mut keys = Keys::new();
    let mut s = spec(&mut keys, None);
    let (other, other_signer) = keys.elsewhere();
    s.keys.get_mut("root").unwrap().push(other);
    s.thresholds.insert("root".into(), 2);
    let store = MemoryStore::new();
    let mut repo = Repository::init(store, s, NOW).unwrap();
    let err = repo
        .commit(&keys.ring, NOW, &Expiry::default(), false)
        .unwrap_err();
    assert!(
        matches!(err, RepoError::Threshold { ref role, have: 1, threshold: 2, .. } if role == "root"),
        "{err}"
    );
    assert!(repo.store().files().is_empty(), "nothing written");

    // Partial: one signature now, the second added later by its holder.
    let done = repo
        .commit(&keys.ring, NOW, &Expiry::default(), true)
        .unwrap();
    assert_eq!(done.below_threshold, ["root"]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("root.json"),
        repo.store().files()["metadata/1.root.json"].clone(),
    )
    .unwrap();
    assert!(
        cairn_tuf::TrustedSet::new(&repo.store().files()["metadata/1.root.json"], NOW).is_err(),
        "a root below its threshold is refused"
    );
    let mut repo = Repository::open(MemoryStore::new_from(repo.store().files())).unwrap();
    let ids = signing_keyids(&mut repo, "root").unwrap();
    let before = repo.store().files()["metadata/1.root.json"].clone();
    add_signature::<cairn_tuf::metadata::Root>(
        repo.store(),
        "metadata/1.root.json",
        &ids,
        other_signer.as_ref(),
    )
    .unwrap();
    let after = repo.store().files()["metadata/1.root.json"].clone();
    assert_ne!(before, after);
    let mut repo = Repository::open(MemoryStore::new_from(repo.store().files())).unwrap();
    let st = repo.status().unwrap();
    assert!(st.roles.iter().all(|r| !r.lacks_signatures()), "{st:?}");
    let _ = client(repo.store(), tempfile::tempdir().unwrap().path());
    // A key the role does not list cannot sign it.
    let (_, stranger) = keys.elsewhere();
    assert!(add_signature::<cairn_tuf::metadata::Root>(
        repo.store(),
        "metadata/1.root.json",
        &ids,
        stranger.as_ref()
    )
    .is_err());
}

#[test]
fn rotating_keys_makes_the_old_key_useless() {
    let mut keys = Keys::new();
    let mut repo = Repository::init(
        MemoryStore::new(),
        spec(&mut keys, Some(BinLayout::Hashed(16))),
        NOW,
    )
    .unwrap();
    repo.add_targets((0..40).map(target).collect(), None)
        .unwrap();
    repo.commit(&keys.ring, NOW, &Expiry::default(), false)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    client(repo.store(), dir.path());

    // Rotate the bins' key: every bin and targets are re-signed.
    let mut repo = Repository::open(MemoryStore::new_from(repo.store().files())).unwrap();
    let new_bin_key = keys.make();
    let rotated = repo
        .rotate("0", None, std::slice::from_ref(&new_bin_key), None)
        .unwrap();
    assert_eq!(rotated.len(), 16);
    // And the timestamp key, in a new root signed by the root keys.
    let new_ts = keys.make();
    repo.rotate("timestamp", None, std::slice::from_ref(&new_ts), None)
        .unwrap();
    let done = repo
        .commit(&keys.ring, NOW, &Expiry::default(), false)
        .unwrap();
    assert_eq!(done.root, Some(2));
    assert_eq!(done.roles.len(), 17);
    let mut up = client(repo.store(), dir.path());
    assert_eq!(up.trusted().root().version.get(), 2);
    assert!(up.trusted().root().roles["timestamp"]
        .keyids
        .contains(&new_ts.key_id().unwrap()));
    assert!(up.target_info(&target(5).0).unwrap().is_some());
}

#[test]
fn a_million_entry_list_line_parser_refuses_bad_lines() {
    let h = "a".repeat(64);
    assert!(parse_list_line(&format!("a/b.txt\t12\t{h}")).is_ok());
    for bad in [
        format!("/abs\t1\t{h}"),
        format!("a/../b\t1\t{h}"),
        format!("a//b\t1\t{h}"),
        format!("a\t-1\t{h}"),
        format!("a\t1\t{}", "A".repeat(64)),
        format!("a\t1\t{h}\textra"),
        "a\t1".to_string(),
        format!("a\u{7}b\t1\t{h}"),
    ] {
        assert!(parse_list_line(&bad).is_err(), "{bad:?}");
    }
    assert_eq!(parse_duration("30d"), Some(30 * 86_400));
    assert_eq!(parse_duration("12h"), Some(12 * 3600));
    assert_eq!(parse_duration("0d"), None);
    assert_eq!(parse_duration("d"), None);
    assert_eq!(parse_duration("99999999999999999y"), None);
}
