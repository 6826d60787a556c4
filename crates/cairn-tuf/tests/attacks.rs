//! The specification's threat list (§1.5.2), one or more tests per attack,
//! each run against the in-memory repository simulator.

mod common;
use cairn_tuf::metadata::*;
use cairn_tuf::sign::sign_metadata;
use cairn_tuf::Error;
use common::*;

fn fresh() -> (TestRepo, Client) {
    let repo = TestRepo::new();
    let client = Client::new(&repo.root_v1());
    (repo, client)
}

#[test]
fn a_clean_repository_refreshes_and_downloads() {
    let (mut repo, client) = fresh();
    repo.add_target("targets", "a/file.txt", b"contents");
    repo.publish_with_snapshot(&["targets"]);
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        client.download(&repo, "a/file.txt", dir.path()).unwrap(),
        b"contents"
    );
    for role in ["root", "timestamp", "snapshot", "targets"] {
        assert!(client.version(role).is_some(), "{role} persisted");
    }
}

#[test]
fn repositories_without_consistent_snapshots_use_plain_names() {
    let mut repo = TestRepo::new();
    repo.root.consistent_snapshot = Some(false);
    repo.publish(&["root"]);
    repo.add_target("targets", "a/file.txt", b"contents");
    repo.publish_with_snapshot(&["targets"]);
    let client = Client::new(&repo.root_v1());
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        client.download(&repo, "a/file.txt", dir.path()).unwrap(),
        b"contents"
    );
    let requests = repo.fetcher.requests();
    for url in [
        "metadata/snapshot.json",
        "metadata/targets.json",
        "targets/a/file.txt",
    ] {
        assert!(
            requests.iter().any(|u| u.ends_with(url)),
            "{url} in {requests:?}"
        );
    }
}

// Arbitrary software installation: a target the metadata does not vouch for.
#[test]
fn arbitrary_software_installation_wrong_target_content_is_refused() {
    let (mut repo, client) = fresh();
    repo.add_target("targets", "app.bin", b"good");
    repo.publish_with_snapshot(&["targets"]);
    // The mirror serves other bytes of the same length under the listed name.
    let tf = repo.targets["targets"].targets["app.bin"].clone();
    repo.serve_target("app.bin", &tf, b"evil");
    let dir = tempfile::tempdir().unwrap();
    let e = client.download(&repo, "app.bin", dir.path()).unwrap_err();
    assert!(matches!(e, Error::HashMismatch { .. }), "{e}");
    assert!(e.to_string().contains("hash mismatch"), "{e}");
    // Nothing, not even a partial file, is left in the target directory.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn arbitrary_software_installation_metadata_signed_by_wrong_key_is_refused() {
    let (mut repo, client) = fresh();
    client.refresh(&repo).unwrap();
    let before = client.snapshot_files();
    repo.add_target("targets", "app.bin", b"evil");
    let attacker = repo.new_signer();
    repo.targets.get_mut("targets").unwrap().version = nz(2);
    let bytes = sign_metadata(&repo.targets["targets"], &[&attacker]);
    repo.serve_raw("targets", bytes);
    repo.snapshot
        .meta
        .insert("targets.json".into(), MetaFile::new(nz(2)));
    repo.publish(&["snapshot", "timestamp"]);
    let e = client.refresh(&repo).unwrap_err();
    assert!(e.to_string().contains("threshold not met: 0 of 1"), "{e}");
    // Timestamp and snapshot moved on; targets stayed byte-for-byte.
    assert_eq!(
        client.snapshot_files()["targets.json"],
        before["targets.json"]
    );
    assert_eq!(client.version("snapshot"), Some(2));
}

// Rollback attacks: older metadata than trusted.
#[test]
fn rollback_of_timestamp_is_refused() {
    let (mut repo, client) = fresh();
    let old_ts = repo.published["timestamp"].clone();
    repo.publish(&["timestamp"]);
    client.refresh(&repo).unwrap();
    repo.serve_raw("timestamp", old_ts);
    let e = client.refresh(&repo).unwrap_err();
    assert!(matches!(e, Error::Rollback { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        "timestamp version 1 is older than trusted version 2: rollback refused"
    );
    assert_eq!(client.version("timestamp"), Some(2));
}

#[test]
fn rollback_of_snapshot_version_in_timestamp_is_refused() {
    let (mut repo, client) = fresh();
    repo.publish(&["snapshot", "timestamp"]);
    client.refresh(&repo).unwrap();
    // New timestamp pointing at the old snapshot.
    repo.timestamp
        .meta
        .insert("snapshot.json".into(), MetaFile::new(nz(1)));
    repo.publish(&["timestamp"]);
    let e = client.refresh(&repo).unwrap_err();
    assert!(e.to_string().contains("rollback refused"), "{e}");
    assert_eq!(client.version("timestamp"), Some(2));
}

#[test]
fn rollback_of_targets_version_in_snapshot_is_refused() {
    let (mut repo, client) = fresh();
    repo.publish_with_snapshot(&["targets"]);
    client.refresh(&repo).unwrap();
    assert_eq!(client.version("targets"), Some(2));
    repo.snapshot
        .meta
        .insert("targets.json".into(), MetaFile::new(nz(1)));
    repo.publish(&["snapshot", "timestamp"]);
    let e = client.refresh(&repo).unwrap_err();
    assert_eq!(
        e.to_string(),
        "targets version 1 is older than trusted version 2: rollback refused"
    );
    assert_eq!(client.version("snapshot"), Some(2));
}

#[test]
fn removal_of_a_role_from_snapshot_is_refused() {
    let (mut repo, client) = fresh();
    repo.delegate(
        "targets",
        DelegatedRole {
            name: "a".into(),
            keyids: vec![],
            threshold: nz(1),
            terminating: false,
            paths: Some(vec!["*".into()]),
            path_hash_prefixes: None,
            unknown: Unknown::new(),
        },
    );
    repo.publish_with_snapshot(&["a", "targets"]);
    client.refresh(&repo).unwrap();
    repo.snapshot.meta.remove("a.json");
    repo.publish(&["snapshot", "timestamp"]);
    let e = client.refresh(&repo).unwrap_err();
    assert!(matches!(e, Error::RemovedFromSnapshot { .. }), "{e}");
}

#[test]
fn rollback_of_root_is_refused() {
    let (mut repo, client) = fresh();
    // The repository serves root v1 again as "2.root.json".
    repo.publish(&["root"]);
    let v1 = repo.root_v1();
    repo.fetcher
        .insert(format!("{METADATA_URL}2.root.json"), v1);
    let e = client.refresh(&repo).unwrap_err();
    assert!(e.to_string().contains("rollback refused"), "{e}");
    assert_eq!(client.version("root"), Some(1));
}

// Fast-forward: an attacker-inflated version blocks updates until key rotation.
#[test]
fn fast_forward_recovery_after_timestamp_key_rotation() {
    let (mut repo, client) = fresh();
    repo.timestamp.version = nz(100);
    repo.publish(&["timestamp"]);
    client.refresh(&repo).unwrap();
    assert_eq!(client.version("timestamp"), Some(101));
    // Without rotation, going back to version 2 is a rollback.
    repo.timestamp.version = nz(1);
    repo.publish(&["timestamp"]);
    assert!(client.refresh(&repo).is_err());
    // §5.3.11: rotating the timestamp keys lets the client recover.
    repo.rotate_keys("timestamp");
    repo.publish(&["root"]);
    repo.timestamp.version = nz(1);
    repo.publish(&["timestamp"]);
    client.refresh(&repo).unwrap();
    assert_eq!(client.version("timestamp"), Some(2));
}

#[test]
fn fast_forward_recovery_after_snapshot_key_rotation() {
    let (mut repo, client) = fresh();
    repo.targets.get_mut("targets").unwrap().version = nz(50);
    repo.publish_with_snapshot(&["targets"]);
    client.refresh(&repo).unwrap();
    assert_eq!(client.version("targets"), Some(51));
    repo.rotate_keys("snapshot");
    repo.publish(&["root"]);
    repo.targets.get_mut("targets").unwrap().version = nz(1);
    repo.publish_with_snapshot(&["targets"]);
    client.refresh(&repo).unwrap();
    assert_eq!(client.version("targets"), Some(2));
}

// Indefinite freeze: expired metadata.
#[test]
fn freeze_expired_timestamp_is_refused() {
    let (repo, client) = fresh();
    client.refresh(&repo).unwrap();
    let e = client.refresh_at(&repo, NOW + 31 * DAY).unwrap_err();
    assert!(e.to_string().contains("freeze attack refused"), "{e}");
}

#[test]
fn freeze_each_expired_role_is_refused_by_name() {
    for role in ["root", "timestamp", "snapshot", "targets"] {
        let (mut repo, client) = fresh();
        let past = Expires::from_unix(NOW - DAY);
        match role {
            "root" => repo.root.expires = past,
            "timestamp" => repo.timestamp.expires = past,
            "snapshot" => repo.snapshot.expires = past,
            _ => repo.targets.get_mut("targets").unwrap().expires = past,
        }
        let roles: Vec<&str> = match role {
            "root" => vec!["root"],
            "timestamp" => vec!["timestamp"],
            "snapshot" => vec!["snapshot", "timestamp"],
            _ => vec!["targets", "snapshot", "timestamp"],
        };
        repo.publish(&roles);
        let e = client.refresh(&repo).unwrap_err();
        assert!(
            matches!(&e, Error::Expired { role: r, .. } if r == role),
            "{role}: {e}"
        );
        assert!(
            e.to_string().starts_with(&format!("{role} expired at")),
            "{e}"
        );
    }
}

#[test]
fn an_expired_intermediate_root_is_fine() {
    let (mut repo, client) = fresh();
    repo.root.expires = Expires::from_unix(NOW - DAY);
    repo.publish(&["root"]);
    repo.root.expires = Expires::from_unix(NOW + DAY);
    repo.publish(&["root"]);
    client.refresh(&repo).unwrap();
    assert_eq!(client.version("root"), Some(3));
}

// Endless data: every file has a byte limit.
#[test]
fn endless_data_in_each_file_is_refused() {
    let cfg = cairn_tuf::Config::default();
    let (mut repo, client) = fresh();
    // Unlisted root: bounded by root_max_length.
    repo.fetcher.insert(
        format!("{METADATA_URL}2.root.json"),
        vec![b' '; cfg.root_max_length as usize + 1],
    );
    let e = client.refresh(&repo).unwrap_err();
    assert!(e.to_string().contains("endless data attack refused"), "{e}");
    repo.fetcher.remove(&format!("{METADATA_URL}2.root.json"));
    // Unlisted timestamp: bounded by timestamp_max_length.
    repo.serve_raw(
        "timestamp",
        vec![b' '; cfg.timestamp_max_length as usize + 1],
    );
    let e = client.refresh(&repo).unwrap_err();
    assert!(matches!(e, Error::TooLarge { .. }), "{e}");
    // Snapshot longer than the length timestamp lists.
    repo.publish(&["timestamp"]);
    let snap = repo.published["snapshot"].clone();
    repo.timestamp.meta.get_mut("snapshot.json").unwrap().length = Some(snap.len() as u64 - 1);
    repo.publish(&["timestamp"]);
    let e = client.refresh(&repo).unwrap_err();
    assert!(matches!(e, Error::TooLarge { .. }), "{e}");
}

#[test]
fn endless_data_in_a_target_is_refused() {
    let (mut repo, client) = fresh();
    repo.add_target("targets", "t", b"short");
    repo.publish_with_snapshot(&["targets"]);
    let tf = repo.targets["targets"].targets["t"].clone();
    repo.serve_target("t", &tf, &vec![b'x'; 1 << 20]);
    let dir = tempfile::tempdir().unwrap();
    let e = client.download(&repo, "t", dir.path()).unwrap_err();
    assert!(e.to_string().contains("endless data attack refused"), "{e}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

// Mix-and-match: metadata versions that do not belong together.
#[test]
fn mix_and_match_snapshot_version_is_refused() {
    let (mut repo, client) = fresh();
    // Timestamp lists snapshot v2 but "2.snapshot.json" holds version 3.
    repo.snapshot.version = nz(2);
    repo.publish(&["snapshot"]);
    let v3 = repo.published["snapshot"].clone();
    repo.fetcher
        .insert(format!("{METADATA_URL}2.snapshot.json"), v3);
    repo.timestamp
        .meta
        .insert("snapshot.json".into(), MetaFile::new(nz(2)));
    repo.publish(&["timestamp"]);
    let e = client.refresh(&repo).unwrap_err();
    assert!(e.to_string().contains("mix-and-match refused"), "{e}");
    assert_eq!(client.version("snapshot"), None);
}

#[test]
fn mix_and_match_targets_version_is_refused() {
    let (mut repo, client) = fresh();
    repo.publish(&["targets"]);
    let v2 = repo.published["targets"].clone();
    repo.fetcher
        .insert(format!("{METADATA_URL}1.targets.json"), v2);
    repo.snapshot
        .meta
        .insert("targets.json".into(), MetaFile::new(nz(1)));
    repo.publish(&["snapshot", "timestamp"]);
    let e = client.refresh(&repo).unwrap_err();
    assert!(matches!(e, Error::VersionMismatch { .. }), "{e}");
}

// Malicious mirrors: metadata that does not match the listed hashes.
#[test]
fn malicious_mirror_snapshot_hash_mismatch_is_refused() {
    let (mut repo, client) = fresh();
    let snap = repo.published["snapshot"].clone();
    let mut m = MetaFile::new(nz(1));
    m.hashes = Some(
        [("sha256".to_string(), "00".repeat(32))]
            .into_iter()
            .collect(),
    );
    m.length = Some(snap.len() as u64);
    repo.timestamp.meta.insert("snapshot.json".into(), m);
    repo.publish(&["timestamp"]);
    let e = client.refresh(&repo).unwrap_err();
    assert!(e.to_string().contains("malicious mirror"), "{e}");
}

#[test]
fn unknown_hash_algorithm_means_the_file_cannot_be_checked() {
    let (mut repo, client) = fresh();
    let data = b"x".to_vec();
    let mut tf = TargetFile::from_data(&data);
    let h = tf.hashes.remove("sha256").unwrap();
    tf.hashes.insert("md5-ish".into(), h);
    repo.targets
        .get_mut("targets")
        .unwrap()
        .targets
        .insert("t".into(), tf);
    repo.publish_with_snapshot(&["targets"]);
    let dir = tempfile::tempdir().unwrap();
    let e = client.download(&repo, "t", dir.path()).unwrap_err();
    assert!(matches!(e, Error::UnsupportedHash { .. }), "{e}");
}

// Key compromise below threshold.
#[test]
fn compromised_key_below_threshold_is_not_enough() {
    let (mut repo, client) = fresh();
    let second = repo.new_signer();
    repo.add_root_key("snapshot", second);
    repo.root.roles.get_mut("snapshot").unwrap().threshold = nz(2);
    repo.publish(&["root", "snapshot", "timestamp"]);
    client.refresh(&repo).unwrap();
    // The attacker holds one of the two snapshot keys.
    let only_one = repo.signers["snapshot"].first().unwrap();
    repo.snapshot.version = nz(repo.snapshot.version.get() + 1);
    let bytes = sign_metadata(&repo.snapshot, &[only_one]);
    repo.serve_raw("snapshot", bytes);
    repo.timestamp
        .meta
        .insert("snapshot.json".into(), MetaFile::new(repo.snapshot.version));
    repo.publish(&["timestamp"]);
    let e = client.refresh(&repo).unwrap_err();
    assert_eq!(
        e.to_string(),
        "snapshot: threshold not met: 1 of 2 signatures (by root); arbitrary software installation refused"
    );
}

#[test]
fn duplicated_signatures_do_not_reach_a_threshold() {
    let (mut repo, client) = fresh();
    repo.root.roles.get_mut("snapshot").unwrap().threshold = nz(2);
    repo.publish(&["root", "snapshot", "timestamp"]);
    // Duplicate the one valid signature entry.
    let mut v: serde_json::Value = serde_json::from_slice(&repo.published["snapshot"]).unwrap();
    let sig = v["signatures"][0].clone();
    v["signatures"].as_array_mut().unwrap().push(sig);
    repo.serve_raw("snapshot", serde_json::to_vec(&v).unwrap());
    let e = client.refresh(&repo).unwrap_err();
    assert!(matches!(e, Error::DuplicateSignature { .. }), "{e}");
}

#[test]
fn root_rotation_needs_both_old_and_new_thresholds() {
    let (mut repo, client) = fresh();
    // New root with only the new key, signed only by the new key.
    repo.rotate_keys("root");
    repo.publish(&["root"]);
    let e = client.refresh(&repo).unwrap_err();
    assert!(e.to_string().contains("by trusted root"), "{e}");
    assert_eq!(client.version("root"), Some(1));
    // Cross-signed by the old key too: accepted.
    // The simulator's keys come from sequential seeds: seed 1 is the first root key.
    let old_signer = cairn_tuf::sign::Ed25519Signer::from_seed(&[1; 32]);
    let bytes = sign_metadata(&repo.root, &[&repo.signers["root"][0], &old_signer]);
    repo.serve_raw("root", bytes);
    client.refresh(&repo).unwrap();
    assert_eq!(client.version("root"), Some(2));
}

#[test]
fn root_rotation_stops_at_the_limit() {
    let (mut repo, client) = fresh();
    for _ in 0..5 {
        repo.publish(&["root"]);
    }
    let cfg = cairn_tuf::Config {
        max_root_rotations: 3,
        ..Default::default()
    };
    let mut up = cairn_tuf::Updater::with_reference_time(
        client.path(),
        METADATA_URL,
        repo.fetcher.clone(),
        cfg,
        NOW,
    )
    .unwrap();
    up.refresh().unwrap();
    assert_eq!(client.version("root"), Some(4));
    client.refresh(&repo).unwrap();
    assert_eq!(client.version("root"), Some(6));
}

#[test]
fn wrong_metadata_type_is_refused() {
    let (mut repo, client) = fresh();
    // Serve the snapshot bytes as the timestamp.
    let snap = repo.published["snapshot"].clone();
    repo.serve_raw("timestamp", snap);
    let e = client.refresh(&repo).unwrap_err();
    assert!(matches!(e, Error::WrongType { .. }), "{e}");
    repo.publish(&["timestamp"]);
    client.refresh(&repo).unwrap();
}

#[test]
fn failed_update_leaves_trusted_files_byte_for_byte() {
    let (mut repo, client) = fresh();
    repo.add_target("targets", "x", b"1");
    repo.publish_with_snapshot(&["targets"]);
    client.refresh(&repo).unwrap();
    let before = client.snapshot_files();
    // Valid root v2 but a broken targets: root and timestamp/snapshot may move,
    // targets must not.
    repo.publish(&["targets"]);
    repo.serve_raw("targets", b"{\"signed\": {}, \"signatures\": []}".to_vec());
    repo.publish(&["snapshot", "timestamp"]);
    assert!(client.refresh(&repo).is_err());
    let after = client.snapshot_files();
    assert_eq!(before["targets.json"], after["targets.json"]);
    assert_eq!(before["root.json"], after["root.json"]);
    // A broken timestamp leaves everything as it was.
    let before = client.snapshot_files();
    repo.serve_raw("timestamp", b"not json".to_vec());
    assert!(client.refresh(&repo).is_err());
    assert_eq!(client.snapshot_files(), before);
}

#[test]
fn delegated_role_not_in_snapshot_is_never_fetched() {
    let (mut repo, client) = fresh();
    repo.delegate("targets", role_d());
    repo.publish(&["d", "targets"]);
    repo.snapshot.meta.remove("d.json");
    repo.publish(&["snapshot", "timestamp"]);
    client.refresh(&repo).unwrap();
    repo.fetcher.clear_requests();
    let mut up = client.updater_at(&repo, NOW).unwrap();
    up.refresh().unwrap();
    let e = up.target_info("d/x").unwrap_err();
    assert!(e.to_string().contains("extraneous metadata refused"), "{e}");
    assert!(!repo
        .fetcher
        .requests()
        .iter()
        .any(|u| u.contains(".d.json")));
}

/// Regression: the 5.3.11 deletion must happen even when a later root in the
/// chain fails, or a fast-forwarded timestamp still signed by a key that
/// stayed in the new root would keep blocking the recovered repository.
#[test]
fn fast_forward_recovery_survives_a_broken_root_later_in_the_chain() {
    let (mut repo, client) = fresh();
    repo.timestamp.version = nz(100);
    repo.publish(&["timestamp"]);
    client.refresh(&repo).unwrap();
    // Root v2 adds a timestamp key (the old one stays); root v3 is garbage.
    let extra = repo.new_signer();
    repo.add_root_key("timestamp", extra);
    repo.publish(&["root"]);
    repo.fetcher
        .insert(format!("{METADATA_URL}3.root.json"), b"garbage".to_vec());
    assert!(client.refresh(&repo).is_err());
    assert_eq!(client.version("root"), Some(2));
    assert_eq!(client.version("timestamp"), None, "deleted by 5.3.11");
    // The repository recovers with timestamp version 2.
    repo.fetcher.remove(&format!("{METADATA_URL}3.root.json"));
    repo.timestamp.version = nz(1);
    repo.publish(&["timestamp"]);
    client.refresh(&repo).unwrap();
    assert_eq!(client.version("timestamp"), Some(2));
}

/// The state machine refuses out-of-order loading (a caller bug, never data).
#[test]
fn trusted_set_enforces_the_workflow_order() {
    let repo = TestRepo::new();
    let mut set = cairn_tuf::TrustedSet::new(&repo.root_v1(), NOW).unwrap();
    let snap = repo.published["snapshot"].clone();
    let targets = repo.published["targets"].clone();
    assert!(matches!(
        set.update_snapshot(&snap, false),
        Err(Error::Order(_))
    ));
    assert!(matches!(set.update_targets(&targets), Err(Error::Order(_))));
    set.update_timestamp(&repo.published["timestamp"]).unwrap();
    let root2 = repo.root_v1();
    assert!(matches!(set.update_root(&root2), Err(Error::Order(_))));
    set.update_snapshot(&snap, false).unwrap();
    set.update_targets(&targets).unwrap();
    assert!(matches!(
        set.update_snapshot(&snap, false),
        Err(Error::Order(_))
    ));
    assert!(matches!(
        set.update_delegated_targets(&targets, "x", "nobody"),
        Err(Error::NotInSnapshot { .. })
    ));
}

/// Extraneous dependencies / wrong software installation: a role can only
/// vouch for the paths it was delegated. A target it lists outside them is
/// invisible, whatever its signatures.
#[test]
fn a_role_cannot_vouch_for_paths_outside_its_delegation() {
    let (mut repo, client) = fresh();
    repo.delegate(
        "targets",
        DelegatedRole {
            name: "team-a".into(),
            keyids: vec![],
            threshold: nz(1),
            terminating: false,
            paths: Some(vec!["a/*".into()]),
            path_hash_prefixes: None,
            unknown: Unknown::new(),
        },
    );
    repo.add_target("team-a", "a/tool", b"fine");
    repo.add_target("team-a", "b/dependency", b"extraneous");
    repo.publish_with_snapshot(&["team-a", "targets"]);
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        client.download(&repo, "a/tool", dir.path()).unwrap(),
        b"fine"
    );
    let e = client
        .download(&repo, "b/dependency", dir.path())
        .unwrap_err();
    assert!(matches!(e, Error::TargetNotFound(_)), "{e}");
}

/// Delegated metadata is parsed on the thread that fetched it, ahead of the
/// checks: bytes that do not match the hashes snapshot lists are still
/// refused as a malicious mirror, not as the parse error they also are, and
/// nothing is persisted. Looked up alone and in a batch.
#[test]
fn delegated_role_parsed_ahead_is_checked_against_snapshot_hashes_first() {
    let (mut repo, client) = fresh();
    repo.delegate("targets", role_d());
    repo.add_target("d", "d/x", b"x");
    repo.publish(&["d", "targets"]);
    let good = repo.published["d"].clone();
    let mut m = MetaFile::new(repo.targets["d"].version);
    m.length = Some(good.len() as u64);
    m.hashes = Some(
        [("sha256".to_string(), sha256_hex(&good))]
            .into_iter()
            .collect(),
    );
    repo.snapshot.meta.insert("d.json".into(), m);
    repo.publish(&["snapshot", "timestamp"]);
    let mut garbage = b"{not json".to_vec();
    garbage.resize(good.len(), b' ');
    repo.serve_raw("d", garbage);
    for batch in [&["d/x"][..], &["d/x", "d/y", "other"][..]] {
        let mut up = client.updater_at(&repo, NOW).unwrap();
        let e = up.target_infos(batch).unwrap_err();
        assert!(e.to_string().contains("malicious mirror"), "{e}");
        assert!(!client.path().join("d.json").exists());
    }
    repo.serve_raw("d", good);
    let mut up = client.updater_at(&repo, NOW).unwrap();
    assert!(up.target_info("d/x").unwrap().is_some());
}

/// Role "d", delegated the paths `d/*` (its key is added by `TestRepo::delegate`).
fn role_d() -> DelegatedRole {
    DelegatedRole {
        name: "d".into(),
        keyids: vec![],
        threshold: nz(1),
        terminating: false,
        paths: Some(vec!["d/*".into()]),
        path_hash_prefixes: None,
        unknown: Unknown::new(),
    }
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}
