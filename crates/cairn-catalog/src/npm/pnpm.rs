//! `pnpm-lock.yaml`, lockfileVersion 5.x (`/name/1.2.3_peer@1.0.0` keys), 6.x
//! (`/name@1.2.3(peer@1.0.0)`) and 9.x (`name@1.2.3` in `packages`, with peer variants and
//! dependencies in `snapshots`). A dependency `name: version` is looked up as the key the
//! version writes it under; pnpm's peer variants of one package are one package. Dev-ness
//! is the entry's `dev:` field where written (5.x, 6.x), else reachability from the
//! importers' `devDependencies` and nothing else. `link:` and `file:` dependencies (the
//! project's own workspaces and directories) are not packages of the lock.

use super::lock::{dev_by_reach, split_spec, Builder, Entry, Lock};
use super::tree::{NodeRef, Syntax, Tree};
use std::collections::HashMap;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Keys {
    /// `/name/version`
    V5,
    /// `/name@version`
    V6,
    /// `name@version`
    V9,
}

pub(crate) fn parse(text: &str) -> Result<Lock, String> {
    let tree = Tree::parse(text, Syntax::Yaml)?;
    let root = tree.root();
    let version = root.str("lockfileVersion").unwrap_or("");
    let major: u32 = version
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .ok_or_else(|| format!("no lockfileVersion I know: {version:?}"))?;
    let keys = match major {
        0..=5 => Keys::V5,
        6..=8 => Keys::V6,
        _ => Keys::V9,
    };
    let mut b = Builder::new(format!("pnpm-lock.yaml v{version}"), true);
    // Every key a dependency may name → entry.
    let mut at: HashMap<String, usize> = HashMap::new();
    let mut explicit_dev: Vec<Option<bool>> = Vec::new();
    let mut with_deps: Vec<(NodeRef, usize)> = Vec::new();
    if let Some(packages) = root.get("packages") {
        for p in packages.children() {
            let key = p.key();
            // Fields first (written for tarball, git and local packages), else the key.
            let from_key = name_version(key, keys);
            let parsed = p
                .str("name")
                .or(from_key.map(|(n, _)| n))
                .or_else(|| key_name(key, keys))
                .zip(p.str("version").or(from_key.map(|(_, v)| v)));
            let Some((name, version)) = parsed else {
                if !key.starts_with("file:") && !key.starts_with("link:") {
                    b.problem(
                        format!("package {key:?}: no name and version"),
                        Some(p.lines()),
                        false,
                    );
                }
                continue;
            };
            let resolution = p.get("resolution");
            let entry = Entry {
                name: name.to_owned(),
                version: version.to_owned(),
                dev: p.str("dev") == Some("true"),
                optional: p.str("optional") == Some("true"),
                lines: Some(p.lines()),
                resolved: resolution.and_then(|r| r.str("tarball")).map(str::to_owned),
                integrity: resolution
                    .and_then(|r| r.str("integrity"))
                    .map(str::to_owned),
                ..Entry::default()
            };
            let Some(i) = b.add(entry) else { continue };
            if explicit_dev.len() <= i {
                explicit_dev.resize(i + 1, None);
            }
            let dev = p.str("dev").map(|d| d == "true");
            explicit_dev[i] = match (explicit_dev[i], dev) {
                (Some(a), Some(b)) => Some(a && b),
                (a, b) => a.or(b),
            };
            at.insert(key.to_owned(), i);
            if keys != Keys::V9 {
                with_deps.push((p, i));
            }
        }
    }
    if keys == Keys::V9 {
        if let Some(snapshots) = root.get("snapshots") {
            for s in snapshots.children() {
                let key = s.key();
                let base = strip_peers(key);
                if let Some(&i) = at.get(key).or_else(|| at.get(base)) {
                    at.insert(key.to_owned(), i);
                    if s.str("optional") == Some("true") {
                        b.lock.entries[i].optional = true;
                    }
                    with_deps.push((s, i));
                }
            }
        }
    }
    for (node, i) in with_deps {
        for kind in ["dependencies", "optionalDependencies"] {
            let Some(deps) = node.get(kind) else { continue };
            for d in deps.children().take(super::manifest::MAX_DEPENDENCIES) {
                if let Some(j) = lookup(&at, keys, d.key(), d.value().unwrap_or("")) {
                    b.edge(i, j);
                }
            }
        }
    }
    let mut lock = b.finish();
    // Roots: every importer (or, before importers, the document itself).
    let (mut prod, mut dev) = (Vec::new(), Vec::new());
    let importers: Vec<NodeRef> = match root.get("importers") {
        Some(i) => i.children().collect(),
        None => vec![root],
    };
    for imp in importers {
        for kind in ["dependencies", "optionalDependencies", "devDependencies"] {
            let Some(deps) = imp.get(kind) else { continue };
            let out = if kind == "devDependencies" {
                &mut dev
            } else {
                &mut prod
            };
            for d in deps.children().take(super::manifest::MAX_DEPENDENCIES) {
                // 5.x: `name: version`; 6.x and 9.x: `name: {specifier, version}`.
                let v = d.value().or_else(|| d.str("version")).unwrap_or("");
                out.extend(lookup(&at, keys, d.key(), v));
            }
        }
    }
    let reached = dev_by_reach(&lock.entries, &prod, &dev);
    for (i, e) in lock.entries.iter_mut().enumerate() {
        e.dev = explicit_dev.get(i).copied().flatten().unwrap_or(reached[i]);
    }
    Ok(lock)
}

/// The entry a dependency `name: value` points at. The value is a version (with peer
/// suffix), a full key (5.x/6.x aliases: `/real/1.0.0`), `real@1.0.0` (9.x aliases), or a
/// `link:`/`file:` path.
fn lookup(at: &HashMap<String, usize>, keys: Keys, name: &str, value: &str) -> Option<usize> {
    if value.starts_with("link:") || value.starts_with("file:") || value.is_empty() {
        return None;
    }
    let full_key = value.starts_with('/')
        || (keys == Keys::V9 && split_spec(strip_peers(value)).is_some_and(|(n, _)| !n.is_empty()));
    let key = if full_key {
        value.to_owned()
    } else {
        match keys {
            Keys::V5 => format!("/{name}/{value}"),
            Keys::V6 => format!("/{name}@{value}"),
            Keys::V9 => format!("{name}@{value}"),
        }
    };
    at.get(&key).or_else(|| at.get(strip_peers(&key))).copied()
}

/// `name@1.0.0(peer@2.0.0)` → `name@1.0.0`.
fn strip_peers(key: &str) -> &str {
    key.find('(').map_or(key, |i| &key[..i])
}

/// The name a package key starts with, whatever follows it.
fn key_name(key: &str, keys: Keys) -> Option<&str> {
    let k = key.strip_prefix('/').unwrap_or(key);
    match keys {
        Keys::V5 => None,
        _ => split_spec(k).map(|(n, _)| n),
    }
}

/// Name and version from a package key.
fn name_version(key: &str, keys: Keys) -> Option<(&str, &str)> {
    let (name, version) = match keys {
        Keys::V5 => {
            let k = key.strip_prefix('/')?;
            let (name, version) = k.rsplit_once('/')?;
            // Peer suffix: `1.2.0_react@18.2.0`.
            let version = version.split('_').next().unwrap_or(version);
            (name, version)
        }
        Keys::V6 => split_spec(strip_peers(key.strip_prefix('/')?))?,
        Keys::V9 => split_spec(strip_peers(key))?,
    };
    // Not a registry version: a tarball, git or local key without name/version fields.
    if name.is_empty() || version.is_empty() || version.contains(':') || version.contains('/') {
        return None;
    }
    Some((name, version))
}
