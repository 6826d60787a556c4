//! Delegation search (§5.6.7): pre-order depth-first order, terminating
//! delegations, cycles, diamonds, path patterns, hashed bins and TAP 15
//! succinct hash bins.

mod common;
use cairn_tuf::metadata::*;
use cairn_tuf::sign::Ed25519Signer;
use common::*;
use std::collections::BTreeMap;

fn role(name: &str, paths: &[&str], terminating: bool) -> DelegatedRole {
    DelegatedRole {
        name: name.into(),
        keyids: vec![],
        threshold: nz(1),
        terminating,
        paths: Some(paths.iter().map(|s| s.to_string()).collect()),
        path_hash_prefixes: None,
        unknown: Unknown::new(),
    }
}

/// Builds `edges` (delegator, role, paths, terminating), publishes, and
/// returns the delegated roles fetched while looking up `target`, in order.
fn visited(
    edges: &[(&str, &str, &[&str], bool)],
    target: &str,
) -> (Option<TargetFile>, Vec<String>) {
    let mut repo = TestRepo::new();
    let mut names = Vec::new();
    for (delegator, name, paths, terminating) in edges {
        repo.delegate(delegator, role(name, paths, *terminating));
        names.push(name.to_string());
    }
    names.push("targets".into());
    let refs: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
    repo.publish_with_snapshot(&refs);
    let client = Client::new(&repo.root_v1());
    let mut up = client.updater_at(&repo, NOW).unwrap();
    up.refresh().unwrap();
    repo.fetcher.clear_requests();
    let found = up.target_info(target).unwrap();
    let order = repo
        .fetcher
        .requests()
        .iter()
        .map(|u| {
            let file = u.rsplit('/').next().unwrap();
            let (_, rest) = file.split_once('.').unwrap();
            rest.trim_end_matches(".json").to_string()
        })
        .collect();
    (found, order)
}

#[test]
fn preorder_depth_first_order() {
    let (_, order) = visited(
        &[
            ("targets", "A", &["*"], false),
            ("targets", "B", &["*"], false),
            ("A", "C", &["*"], false),
            ("A", "D", &["*"], false),
        ],
        "missing",
    );
    assert_eq!(order, ["A", "C", "D", "B"]);
}

#[test]
fn terminating_delegation_stops_backtracking() {
    let (_, order) = visited(
        &[
            ("targets", "A", &["*"], false),
            ("targets", "B", &["*"], false),
            ("A", "C", &["*"], true),
            ("A", "D", &["*"], false),
        ],
        "missing",
    );
    assert_eq!(order, ["A", "C"]);
    // A terminating role's own delegations are still searched.
    let (_, order) = visited(
        &[
            ("targets", "A", &["*"], false),
            ("targets", "B", &["*"], false),
            ("A", "C", &["*"], true),
            ("C", "D", &["*"], false),
        ],
        "missing",
    );
    assert_eq!(order, ["A", "C", "D"]);
}

#[test]
fn cycles_are_visited_once() {
    let (_, order) = visited(
        &[
            ("targets", "A", &["*"], false),
            ("targets", "B", &["*"], false),
            ("B", "C", &["*"], false),
            ("C", "D", &["*"], false),
            ("D", "B", &["*"], false),
        ],
        "missing",
    );
    assert_eq!(order, ["A", "B", "C", "D"]);
}

#[test]
fn path_patterns_prune_the_search() {
    let edges: &[(&str, &str, &[&str], bool)] = &[
        ("targets", "A", &["*.doc", "*.md", "foo-?.tgz"], false),
        ("targets", "B", &["releases/*/*"], false),
        ("B", "C", &["releases/x/*"], false),
        ("B", "D", &["releases/y/*.zip"], false),
    ];
    assert_eq!(visited(edges, "README.md").1, ["A"]);
    assert_eq!(visited(edges, "releases/x/x_v1").1, ["B", "C"]);
    assert_eq!(visited(edges, "releases/z/z_v1.zip").1, ["B"]);
    // '*' does not match '/', matching is case-sensitive, '?' is one character.
    assert!(visited(edges, "releases/README.md").1.is_empty());
    assert!(visited(edges, "README.MD").1.is_empty());
    assert!(visited(edges, "foo-alpha.tgz").1.is_empty());
    assert_eq!(visited(edges, "foo-1.tgz").1, ["A"]);
}

#[test]
fn max_delegations_bounds_the_search() {
    let mut edges: Vec<(String, String)> = vec![("targets".into(), "r0".into())];
    for i in 0..40 {
        edges.push((format!("r{i}"), format!("r{}", i + 1)));
    }
    let e: Vec<(&str, &str, &[&str], bool)> = edges
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str(), &["*"][..], false))
        .collect();
    let (found, order) = visited(&e, "missing");
    assert!(found.is_none());
    // 32 roles in all, top-level targets included.
    assert_eq!(order.len(), 31);
}

/// Diamond: "release" is delegated by parent-a (for team-a/*) and parent-b
/// (for team-b/*), with a different key in each delegation. The metadata is
/// signed only with parent-a's key: valid through A, invalid through B.
fn diamond_repo() -> TestRepo {
    let mut repo = TestRepo::new();
    repo.delegate("targets", role("parent-a", &["team-a/*"], false));
    repo.delegate("targets", role("parent-b", &["team-b/*"], false));
    repo.delegate("parent-a", role("release", &["team-a/*"], false));
    repo.delegate("parent-b", role("release", &["team-b/*"], false));
    // Keep only parent-a's key for release.
    repo.signers.get_mut("release").unwrap().truncate(1);
    repo.add_target("release", "team-a/ok", b"trusted A");
    repo.add_target("release", "team-b/evil", b"malicious B");
    repo.publish_with_snapshot(&["release", "parent-a", "parent-b", "targets"]);
    repo
}

#[test]
fn diamond_role_is_verified_against_each_delegator() {
    let repo = diamond_repo();
    let client = Client::new(&repo.root_v1());
    let mut up = client.updater_at(&repo, NOW).unwrap();
    up.refresh().unwrap();
    assert!(up.target_info("team-a/ok").unwrap().is_some());
    let e = up.target_info("team-b/evil").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("release: threshold not met: 0 of 1 signatures (by parent-b)"),
        "{e}"
    );
    // A fresh updater reading release.json from the cache is no more trusting.
    let mut up = client.updater_at(&repo, NOW).unwrap();
    up.refresh().unwrap();
    assert!(up.target_info("team-b/evil").is_err());
}

#[test]
fn unusual_role_names_are_quoted_in_urls_and_file_names() {
    let mut repo = TestRepo::new();
    let names = ["../escape", "a/b", "?", "#"];
    for name in names {
        repo.delegate("targets", role(name, &["*"], false));
    }
    repo.publish_with_snapshot(&[names.as_slice(), &["targets"]].concat());
    let client = Client::new(&repo.root_v1());
    let mut up = client.updater_at(&repo, NOW).unwrap();
    assert!(up.target_info("missing").unwrap().is_none());
    let mut files: Vec<String> = client.snapshot_files().into_keys().collect();
    files.sort();
    assert_eq!(
        files,
        [
            "%23.json",
            "%3F.json",
            "..%2Fescape.json",
            "a%2Fb.json",
            "root.json",
            "snapshot.json",
            "targets.json",
            "timestamp.json"
        ]
    );
    assert!(repo
        .fetcher
        .requests()
        .contains(&format!("{METADATA_URL}2...%2Fescape.json")));
}

#[test]
fn hashed_bins_by_path_hash_prefixes() {
    let mut repo = TestRepo::new();
    let key = Ed25519Signer::from_seed(&[200; 32]);
    let mut roles = Vec::new();
    for i in 0..16u8 {
        let name = format!("bin-{i:x}");
        let mut r = role(&name, &[], false);
        r.paths = None;
        r.path_hash_prefixes = Some(vec![format!("{i:x}")]);
        r.keyids = vec![key.keyid().into()];
        roles.push(r);
        repo.targets.insert(name.clone(), TestRepo::empty_targets());
        repo.signers
            .insert(name, vec![Ed25519Signer::from_seed(&[200; 32])]);
    }
    repo.targets.get_mut("targets").unwrap().delegations = Some(Delegations {
        keys: BTreeMap::from([(key.keyid().to_string(), key.public_key().clone())]),
        roles: Some(roles),
        succinct_roles: None,
        unknown: Unknown::new(),
    });
    let mut names = Vec::new();
    for i in 0..64 {
        let path = format!("files/{i}.txt");
        let digit = &sha256_hex(path.as_bytes())[..1];
        let bin = format!("bin-{digit}");
        repo.add_target(&bin, &path, path.as_bytes());
        names.push((path, bin));
    }
    let bins: Vec<String> = (0..16).map(|i| format!("bin-{i:x}")).collect();
    let mut refs: Vec<&str> = bins.iter().map(|s| s.as_str()).collect();
    refs.push("targets");
    repo.publish_with_snapshot(&refs);
    let client = Client::new(&repo.root_v1());
    let dir = tempfile::tempdir().unwrap();
    // All 64 looked up and downloaded as one batch: each bin fetched once.
    {
        let batch_dir = tempfile::tempdir().unwrap();
        let client = Client::new(&repo.root_v1());
        let mut up = client.updater_at(&repo, NOW).unwrap();
        up.refresh().unwrap();
        repo.fetcher.clear_requests();
        let paths: Vec<&str> = names.iter().map(|(p, _)| p.as_str()).collect();
        let infos: Vec<TargetFile> = up
            .target_infos(&paths)
            .unwrap()
            .into_iter()
            .map(Option::unwrap)
            .collect();
        let bins_fetched = roles_requested(&repo.fetcher.requests());
        let distinct: std::collections::BTreeSet<&String> = bins_fetched.iter().collect();
        let needed: std::collections::BTreeSet<&String> = names.iter().map(|(_, b)| b).collect();
        assert_eq!(bins_fetched.len(), distinct.len());
        assert_eq!(distinct, needed);
        let (dests, done) = download_all(&up, batch_dir.path(), &paths, &infos);
        done.unwrap();
        for (p, dest) in paths.iter().zip(&dests) {
            assert_eq!(std::fs::read(dest).unwrap(), p.as_bytes());
        }
        // A target served with other bytes fails the batch and is not written.
        let tampered = 37;
        repo.serve_target(paths[tampered], &infos[tampered], b"files/37.tx!");
        let again = tempfile::tempdir().unwrap();
        let (dests, done) = download_all(&up, again.path(), &paths, &infos);
        let e = done.unwrap_err();
        assert!(e.to_string().contains("files/37.txt"), "{e}");
        assert!(!dests[tampered].exists());
        repo.serve_target(
            paths[tampered],
            &infos[tampered],
            paths[tampered].as_bytes(),
        );
    }
    for (path, bin) in names.iter().take(10) {
        repo.fetcher.clear_requests();
        assert_eq!(
            client.download(&repo, path, dir.path()).unwrap(),
            path.as_bytes()
        );
        // Only the right bin is ever fetched.
        assert!(repo
            .fetcher
            .requests()
            .iter()
            .filter(|u| u.contains(".bin-"))
            .all(|u| u.ends_with(&format!(".{bin}.json"))));
    }
}

#[test]
fn succinct_hash_bins() {
    let mut repo = TestRepo::new();
    let key = Ed25519Signer::from_seed(&[201; 32]);
    let succinct = SuccinctRoles {
        keyids: vec![key.keyid().into()],
        threshold: nz(1),
        bit_length: 5,
        name_prefix: "bins".into(),
        unknown: Unknown::new(),
    };
    for b in 0..succinct.bin_count() {
        let name = succinct.bin_name(b);
        repo.targets.insert(name.clone(), TestRepo::empty_targets());
        repo.signers
            .insert(name, vec![Ed25519Signer::from_seed(&[201; 32])]);
    }
    let mut placed = Vec::new();
    for i in 0..40 {
        let path = format!("pkg/{i}.tar");
        let bin = succinct.role_for_target(&path);
        repo.add_target(&bin, &path, format!("data {i}").as_bytes());
        placed.push((path, bin));
    }
    repo.targets.get_mut("targets").unwrap().delegations = Some(Delegations {
        keys: BTreeMap::from([(key.keyid().to_string(), key.public_key().clone())]),
        roles: None,
        succinct_roles: Some(succinct.clone()),
        unknown: Unknown::new(),
    });
    let bins: Vec<String> = (0..succinct.bin_count())
        .map(|b| succinct.bin_name(b))
        .collect();
    let mut refs: Vec<&str> = bins.iter().map(|s| s.as_str()).collect();
    refs.push("targets");
    repo.publish_with_snapshot(&refs);
    let client = Client::new(&repo.root_v1());
    let dir = tempfile::tempdir().unwrap();
    for (path, bin) in placed.iter().take(8) {
        repo.fetcher.clear_requests();
        let i: usize = path[4..path.len() - 4].parse().unwrap();
        assert_eq!(
            client.download(&repo, path, dir.path()).unwrap(),
            format!("data {i}").as_bytes()
        );
        assert!(repo
            .fetcher
            .requests()
            .iter()
            .any(|u| u.ends_with(&format!(".{bin}.json"))));
    }
    // A target listed in the wrong bin is not found: the bin is not trusted for it.
    let (path, bin) = &placed[0];
    let other = bins.iter().find(|b| *b != bin).unwrap().clone();
    repo.add_target(&other, "pkg/elsewhere", b"x");
    let right = succinct.role_for_target("pkg/elsewhere");
    assert_ne!(right, other, "pick a path that hashes elsewhere");
    repo.publish_with_snapshot(&[other.as_str()]);
    let mut up = client.updater_at(&repo, NOW).unwrap();
    assert!(up.target_info("pkg/elsewhere").unwrap().is_none());
    assert!(up.target_info(path).unwrap().is_some());
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(data))
}

/// Downloads `paths` (described by `infos`) into `dir` as one batch; returns
/// their files and the outcome.
fn download_all(
    up: &cairn_tuf::Updater<cairn_tuf::fetcher::MemoryFetcher>,
    dir: &std::path::Path,
    paths: &[&str],
    infos: &[TargetFile],
) -> (Vec<std::path::PathBuf>, cairn_tuf::Result<()>) {
    let dests: Vec<std::path::PathBuf> = paths
        .iter()
        .map(|p| cairn_tuf::updater::target_file_path(dir, p))
        .collect();
    let downloads: Vec<cairn_tuf::updater::Download<'_>> = paths
        .iter()
        .zip(infos)
        .zip(&dests)
        .map(|((p, info), dest)| cairn_tuf::updater::Download {
            target_path: p,
            info,
            dest,
        })
        .collect();
    let done = up.download_targets(&downloads, TARGETS_URL);
    (dests, done)
}

/// The roles of metadata URLs among `requests`, in order.
fn roles_requested(requests: &[String]) -> Vec<String> {
    requests
        .iter()
        .filter(|u| u.starts_with(METADATA_URL))
        .map(|u| {
            let file = u.rsplit('/').next().unwrap();
            let (_, rest) = file.split_once('.').unwrap();
            rest.trim_end_matches(".json").to_string()
        })
        .collect()
}

/// A batch of searches (`target_infos`) answers each path as a search of its
/// own would, and fetches the union of the roles those searches fetch, each
/// once: terminating delegations, cycles, diamonds and missing paths alike.
#[test]
fn batched_searches_match_searches_one_by_one() {
    let mut repo = TestRepo::new();
    repo.delegate("targets", role("A", &["a/*", "shared/*"], false));
    repo.delegate("targets", role("T", &["t/*"], true));
    repo.delegate("targets", role("B", &["*"], false));
    repo.delegate("A", role("C", &["a/*"], false));
    repo.delegate("B", role("C", &["*"], false));
    repo.delegate("C", role("A", &["*"], false));
    repo.delegate("T", role("U", &["t/*"], false));
    repo.add_target("A", "a/1", b"a1");
    repo.add_target("C", "a/2", b"a2");
    repo.add_target("B", "shared/x", b"from B");
    repo.add_target("A", "shared/x", b"from A");
    repo.add_target("U", "t/1", b"t1");
    repo.add_target("B", "t/2", b"never: T is terminating");
    repo.add_target("C", "other", b"c");
    repo.publish_with_snapshot(&["A", "B", "C", "T", "U", "targets"]);
    let paths = [
        "a/1", "a/2", "shared/x", "t/1", "t/2", "other", "missing", "a/1",
    ];

    let mut expected = Vec::new();
    let mut union = std::collections::BTreeSet::new();
    for path in paths {
        let client = Client::new(&repo.root_v1());
        let mut up = client.updater_at(&repo, NOW).unwrap();
        up.refresh().unwrap();
        repo.fetcher.clear_requests();
        expected.push(up.target_info(path).unwrap());
        union.extend(roles_requested(&repo.fetcher.requests()));
    }
    assert_eq!(
        expected[2].as_ref().unwrap(),
        &TargetFile::from_data(b"from A")
    );
    assert!(expected[4].is_none());

    let client = Client::new(&repo.root_v1());
    let mut up = client.updater_at(&repo, NOW).unwrap();
    up.refresh().unwrap();
    repo.fetcher.clear_requests();
    assert_eq!(up.target_infos(&paths).unwrap(), expected);
    let fetched = roles_requested(&repo.fetcher.requests());
    let distinct: std::collections::BTreeSet<String> = fetched.iter().cloned().collect();
    assert_eq!(
        fetched.len(),
        distinct.len(),
        "a role fetched twice: {fetched:?}"
    );
    assert_eq!(distinct, union);
}

/// A role of the batch that fails verification fails the whole batch: the
/// diamond's two paths looked up together.
#[test]
fn a_batch_fails_on_any_role_that_does_not_verify() {
    let repo = diamond_repo();
    let client = Client::new(&repo.root_v1());
    let mut up = client.updater_at(&repo, NOW).unwrap();
    let e = up.target_infos(&["team-a/ok", "team-b/evil"]).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("release: threshold not met: 0 of 1 signatures (by parent-b)"),
        "{e}"
    );
}
