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
#[test]
fn diamond_role_is_verified_against_each_delegator() {
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
