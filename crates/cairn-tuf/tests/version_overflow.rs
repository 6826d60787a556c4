//! Versions and lengths at `u64::MAX`: metadata may carry any u64, and the
//! client must answer with a typed error or a normal result, never an
//! overflow panic (debug builds) or a wrapped number (release builds).

mod common;
use cairn_tuf::metadata::*;
use cairn_tuf::sign::sign_metadata;
use cairn_tuf::{Error, TrustedSet};
use common::*;

const MAX: u64 = u64::MAX;

/// The repository's root re-signed at `version`, as a client's trusted root.
fn root_at(repo: &mut TestRepo, version: u64) -> Vec<u8> {
    repo.root.version = nz(version);
    sign_metadata(&repo.root, &repo.signers_of("root"))
}

fn assert_overflow(e: &Error, role: &str) {
    match e {
        Error::VersionOverflow { role: r, version } => {
            assert_eq!((r.as_str(), *version), (role, MAX), "{e}");
        }
        e => panic!("expected a version overflow error, got {e}"),
    }
}

#[test]
fn trusted_root_at_u64_max_cannot_be_updated() {
    let mut repo = TestRepo::new();
    let root = root_at(&mut repo, MAX);
    let mut trusted = TrustedSet::new(&root, NOW).unwrap();
    // No N+1 exists, whatever bytes are offered.
    let e = trusted.update_root(&root).unwrap_err();
    assert_overflow(&e, "root");
    assert!(e.to_string().contains("18446744073709551615"), "{e}");
    assert_eq!(trusted.root().version(), MAX);
}

#[test]
fn refresh_with_a_trusted_root_at_u64_max_is_refused_without_fetching() {
    let mut repo = TestRepo::new();
    let root = root_at(&mut repo, MAX);
    let client = Client::new(&root);
    let e = client.refresh(&repo).unwrap_err();
    assert_overflow(&e, "root");
    // Not "0.root.json" (wrapped), nor anything else.
    assert_eq!(repo.fetcher.requests(), Vec::<String>::new());
    assert_eq!(client.version("root"), Some(MAX));
}

#[test]
fn root_rotation_up_to_u64_max_stops_there() {
    let mut repo = TestRepo::new();
    let root = root_at(&mut repo, MAX - 1);
    let client = Client::new(&root);
    // The repository publishes root MAX, signed by the same keys.
    repo.publish(&["root"]);
    assert_eq!(repo.root.version.get(), MAX);
    let e = client.refresh(&repo).unwrap_err();
    assert_overflow(&e, "root");
    // Root MAX was verified and trusted; nothing after it was asked for.
    assert_eq!(client.version("root"), Some(MAX));
    assert_eq!(
        repo.fetcher.requests(),
        [format!("{METADATA_URL}18446744073709551615.root.json")]
    );
}

#[test]
fn timestamp_at_u64_max_is_trusted_and_stays_the_newest() {
    let mut repo = TestRepo::new();
    let client = Client::new(&repo.root_v1());
    repo.timestamp.version = nz(MAX - 1);
    repo.publish(&["timestamp"]);
    client.refresh(&repo).unwrap();
    assert_eq!(client.version("timestamp"), Some(MAX));
    // The same version again is nothing new; an older one is a rollback.
    client.refresh(&repo).unwrap();
    repo.timestamp.version = nz(MAX - 2);
    repo.publish(&["timestamp"]);
    let e = client.refresh(&repo).unwrap_err();
    assert!(matches!(e, Error::Rollback { .. }), "{e}");
    assert_eq!(client.version("timestamp"), Some(MAX));
}

#[test]
fn snapshot_at_u64_max_is_fetched_by_its_version() {
    let mut repo = TestRepo::new();
    let client = Client::new(&repo.root_v1());
    repo.snapshot.version = nz(MAX - 1);
    repo.publish(&["snapshot", "timestamp"]);
    client.refresh(&repo).unwrap();
    assert_eq!(client.version("snapshot"), Some(MAX));
    assert!(repo
        .fetcher
        .requests()
        .contains(&format!("{METADATA_URL}18446744073709551615.snapshot.json")));
    // Once trusted, the local copy is used again.
    client.refresh(&repo).unwrap();
    assert_eq!(client.version("snapshot"), Some(MAX));
}

#[test]
fn targets_at_u64_max_are_fetched_and_used() {
    let mut repo = TestRepo::new();
    let client = Client::new(&repo.root_v1());
    repo.add_target("targets", "app.bin", b"contents");
    repo.targets.get_mut("targets").unwrap().version = nz(MAX - 1);
    repo.publish_with_snapshot(&["targets"]);
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        client.download(&repo, "app.bin", dir.path()).unwrap(),
        b"contents"
    );
    assert_eq!(client.version("targets"), Some(MAX));
}

#[test]
fn lengths_of_u64_max_are_a_length_mismatch() {
    // Snapshot listed in timestamp with length u64::MAX: it is fetched under
    // that limit and refused for its real length.
    let mut repo = TestRepo::new();
    let client = Client::new(&repo.root_v1());
    let mut meta = MetaFile::new(repo.snapshot.version);
    meta.length = Some(MAX);
    repo.timestamp.meta.insert("snapshot.json".into(), meta);
    repo.publish(&["timestamp"]);
    let e = client.refresh(&repo).unwrap_err();
    assert!(
        matches!(e, Error::LengthMismatch { expected: MAX, .. }),
        "{e}"
    );

    // A target listed with length u64::MAX.
    let mut repo = TestRepo::new();
    let client = Client::new(&repo.root_v1());
    repo.add_target("targets", "app.bin", b"contents");
    let t = repo.targets.get_mut("targets").unwrap();
    t.targets.get_mut("app.bin").unwrap().length = MAX;
    repo.publish_with_snapshot(&["targets"]);
    let dir = tempfile::tempdir().unwrap();
    let e = client.download(&repo, "app.bin", dir.path()).unwrap_err();
    assert!(
        matches!(e, Error::LengthMismatch { expected: MAX, .. }),
        "{e}"
    );
}
