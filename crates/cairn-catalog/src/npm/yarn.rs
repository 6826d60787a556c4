//! `yarn.lock`, classic (v1: `"name@range", "name@range2":` then `version "1.2.3"`) and
//! berry (yarn 2+: YAML with `__metadata`, keys `"name@npm:range"`, a `resolution`). Each
//! entry is keyed by every descriptor that resolved to it, and dependencies are
//! descriptors (`name` + range) looked up among those keys. Workspaces, links and portals
//! (`@workspace:`, `@link:`, `@portal:` resolutions) are the project's own code and are
//! not packages of the lock. Neither format records dev-ness: see [`Lock::specs`].

use super::lock::{split_spec, Builder, Entry, Lock};
use super::tree::{NodeRef, Syntax, Tree};

pub(crate) fn parse(text: &str) -> Result<Lock, String> {
    let berry = text.lines().any(|l| l.trim_end() == "__metadata:");
    let tree = Tree::parse(
        text,
        if berry {
            Syntax::Yaml
        } else {
            Syntax::YarnClassic
        },
    )?;
    let root = tree.root();
    let format = if berry {
        format!(
            "yarn.lock (berry, v{})",
            root.get("__metadata")
                .and_then(|m| m.str("version"))
                .unwrap_or("?")
        )
    } else {
        "yarn.lock v1".to_owned()
    };
    let mut b = Builder::new(format, false);
    let mut read: Vec<(NodeRef, usize)> = Vec::new();
    for e in root.children() {
        if e.key() == "__metadata" {
            continue;
        }
        let specs = split_specs(e.key());
        let Some(first) = specs.first() else {
            b.problem(
                "an entry without a descriptor".into(),
                Some(e.lines()),
                false,
            );
            continue;
        };
        let resolution = e.str("resolution");
        if resolution.is_some_and(|r| {
            ["@workspace:", "@link:", "@portal:", "@file:"]
                .iter()
                .any(|p| r.contains(p))
        }) {
            continue;
        }
        // The real name: from the resolution (berry), else the descriptor, where an alias
        // (`alias@npm:real@^1`) names the real package in its range.
        let name = resolution.and_then(split_spec).map(|(n, _)| n).or_else(|| {
            let (n, range) = split_spec(first)?;
            Some(
                range
                    .strip_prefix("npm:")
                    .and_then(split_spec)
                    .map_or(n, |(real, _)| real),
            )
        });
        let (Some(name), Some(version)) = (name, e.str("version").filter(|v| !v.is_empty())) else {
            b.problem(
                format!("entry {first:?} has no name or version"),
                Some(e.lines()),
                false,
            );
            continue;
        };
        let entry = Entry {
            name: name.to_owned(),
            version: version.to_owned(),
            lines: Some(e.lines()),
            resolved: e.str("resolved").or(resolution).map(str::to_owned),
            integrity: e.str("integrity").or(e.str("checksum")).map(str::to_owned),
            ..Entry::default()
        };
        let Some(i) = b.add(entry) else { continue };
        for spec in specs {
            b.lock.specs.insert(spec, i);
        }
        read.push((e, i));
    }
    for (e, i) in read {
        for kind in ["dependencies", "optionalDependencies"] {
            let Some(deps) = e.get(kind) else { continue };
            for d in deps.children().take(super::manifest::MAX_DEPENDENCIES) {
                let range = d.value().unwrap_or("");
                if let Some(j) = find(&b.lock, d.key(), range) {
                    b.edge(i, j);
                }
            }
        }
    }
    Ok(b.finish())
}

/// The entry a dependency `name` on `range` resolved to: classic writes the descriptor
/// as `name@range`; berry as `name@npm:range` for registry ranges.
pub(crate) fn find(lock: &Lock, name: &str, range: &str) -> Option<usize> {
    lock.specs
        .get(&format!("{name}@{range}"))
        .or_else(|| lock.specs.get(&format!("{name}@npm:{range}")))
        .copied()
}

/// `"a@^1", "a@^2"` (classic) or `a@npm:^1, a@npm:^2` (berry, the whole key quoted).
fn split_specs(key: &str) -> Vec<String> {
    key.split(',')
        .map(|s| s.trim().trim_matches('"').trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}
