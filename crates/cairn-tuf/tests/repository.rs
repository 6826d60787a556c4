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

/// A repository of 16 hashed bins holding targets `0..n`, committed.
fn committed_bins(n: usize) -> (Keys, Repository<MemoryStore>) {
    let mut keys = Keys::new();
    let mut repo = Repository::init(
        MemoryStore::new(),
        spec(&mut keys, Some(BinLayout::Hashed(16))),
        NOW,
    )
    .unwrap();
    repo.add_targets((0..n).map(target).collect(), None)
        .unwrap();
    repo.commit(&keys.ring, NOW, &Expiry::default(), false)
        .unwrap();
    (keys, repo)
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

/// Bins this editor wrote are re-signed from the bytes they hold; bins
/// another tool wrote (pretty-printed, so not in canonical form) are parsed
/// instead. Either way the new bin keeps every old target, replaces a target
/// given again, and verifies.
#[test]
fn bins_written_by_another_tool_are_edited_like_our_own() {
    let (keys, repo) = committed_bins(200);
    for pretty in [false, true] {
        let mut files = repo.store().files();
        if pretty {
            for (path, data) in files.iter_mut() {
                if path.starts_with("metadata/1.") && !path.contains("root") {
                    let v: serde_json::Value = serde_json::from_slice(data).unwrap();
                    *data = serde_json::to_vec_pretty(&v).unwrap();
                }
            }
        }
        let mut edit = Repository::open(MemoryStore::new_from(files)).unwrap();
        let changed = NewTarget::from_bytes(b"target 3, changed");
        edit.add_targets(
            vec![
                target(1000),
                ("files/3/t3.txt".to_string(), changed.clone()),
            ],
            None,
        )
        .unwrap();
        edit.commit(&keys.ring, NOW + 60, &Expiry::default(), false)
            .unwrap();
        let status = edit.status().unwrap();
        assert!(
            status.roles.iter().all(|r| !r.lacks_signatures()),
            "pretty: {pretty}"
        );
        let listed: usize = status.roles.iter().filter_map(|r| r.targets).sum();
        assert_eq!(listed, 201, "pretty: {pretty}");
        let dir = tempfile::tempdir().unwrap();
        let mut up = client(edit.store(), dir.path());
        for i in (0..200).chain([1000]) {
            assert!(up.target_info(&target(i).0).unwrap().is_some(), "{i}");
        }
        let info = up.target_info("files/3/t3.txt").unwrap().unwrap();
        assert_eq!(
            info.hashes.get("sha256"),
            Some(changed.sha256_hex().as_str())
        );
    }
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
fn batches_are_placed_together_and_keep_the_order_they_were_added_in() {
    let mut keys = Keys::new();
    let mut repo = Repository::init(
        MemoryStore::new(),
        spec(&mut keys, Some(BinLayout::Hashed(16))),
        NOW,
    )
    .unwrap();
    let list = |lines: &[(&str, &[u8])]| {
        let text: String = lines
            .iter()
            .map(|(p, data)| {
                let t = NewTarget::from_bytes(data);
                format!("{p}\t{}\t{}\n", t.length, t.sha256_hex())
            })
            .collect();
        TargetBatch::parse_list(text.as_bytes(), "", None).unwrap()
    };
    let first = list(&[
        ("a.txt", b"old"),
        ("sboms/x.json", b"x"),
        ("gone.txt", b"g"),
    ]);
    assert_eq!(repo.add_batch(first, None).unwrap(), 3);
    // A later batch replaces a path of an earlier one, and so does a later
    // add through add_targets, whichever way it is placed.
    repo.add_batch(list(&[("a.txt", b"newer")]), None).unwrap();
    repo.add_targets(vec![("b.txt".into(), NewTarget::from_bytes(b"b1"))], None)
        .unwrap();
    repo.add_batch(list(&[("b.txt", b"b2")]), None).unwrap();
    // Removal sees targets not placed yet.
    assert!(repo.remove_target("gone.txt").unwrap().is_some());
    // A delegation made now does not move targets added before it.
    let k = keys.make();
    repo.delegate("targets", deleg("sboms", "sboms/*", false, k), NOW)
        .unwrap();
    repo.add_batch(list(&[("sboms/y.json", b"y")]), None)
        .unwrap();
    let done = repo
        .commit(&keys.ring, NOW, &Expiry::default(), false)
        .unwrap();
    assert!(done.roles.contains_key("sboms"));
    let dir = tempfile::tempdir().unwrap();
    let mut up = client(repo.store(), dir.path());
    let sha = |data: &[u8]| NewTarget::from_bytes(data).sha256_hex();
    let info = up.target_info("a.txt").unwrap().unwrap();
    assert_eq!(info.hashes.get("sha256"), Some(sha(b"newer").as_str()));
    let info = up.target_info("b.txt").unwrap().unwrap();
    assert_eq!(info.hashes.get("sha256"), Some(sha(b"b2").as_str()));
    assert!(up.target_info("gone.txt").unwrap().is_none());
    assert!(up.target_info("sboms/y.json").unwrap().is_some());
    // sboms/x.json went to a bin before the delegation existed; a client
    // searching the new delegation first does not find it there.
    let files = repo.store().files();
    let sboms = String::from_utf8(files["metadata/1.sboms.json"].clone()).unwrap();
    assert!(sboms.contains("sboms/y.json") && !sboms.contains("sboms/x.json"));
    // Nothing is pending after the commit: a second commit re-signs no role.
    let again = repo
        .commit(&keys.ring, NOW, &Expiry::default(), false)
        .unwrap();
    assert!(again.roles.is_empty());
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
    let (mut keys, repo) = committed_bins(40);
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
fn list_lines_and_durations_are_checked() {
    let h = "a".repeat(64);
    let ok = format!("a/b.txt\t12\t{h}\n");
    assert_eq!(
        TargetBatch::parse_list(ok.as_bytes(), "", None)
            .unwrap()
            .len(),
        1
    );
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
        let text = format!("{ok}{bad}\n");
        let e = TargetBatch::parse_list(text.as_bytes(), "", None).unwrap_err();
        assert_eq!(e.line, 2, "{bad:?}");
    }
    assert_eq!(parse_duration("30d"), Some(30 * 86_400));
    assert_eq!(parse_duration("12h"), Some(12 * 3600));
    assert_eq!(parse_duration("0d"), None);
    assert_eq!(parse_duration("d"), None);
    assert_eq!(parse_duration("99999999999999999y"), None);
}
