//! `package-lock.json` and `npm-shrinkwrap.json` (the same format): lockfileVersion 1's
//! nested `dependencies` tree and versions 2 and 3's flat `packages` map keyed by install
//! path. Version 2 carries both; the `packages` map is read. Dependencies are resolved the
//! way npm lays them out: by Node's `node_modules` lookup over the install paths, through
//! link entries (`"link": true`) to their targets.

use super::lock::{node_lookup, split_spec, Builder, Entry, Lock, Lookup};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Parse a package-lock (or shrinkwrap) file.
pub(crate) fn parse(bytes: &[u8], file: &str) -> Result<Lock, String> {
    // serde_json keeps its default recursion limit (128): deep nesting is an error.
    let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
    let Value::Object(o) = &v else {
        return Err("not a JSON object".into());
    };
    let version = o
        .get("lockfileVersion")
        .and_then(Value::as_u64)
        .unwrap_or(1);
    let format = format!("{file} v{version}");
    if let Some(Value::Object(packages)) = o.get("packages") {
        Ok(flat(packages, format))
    } else if let Some(Value::Object(deps)) = o.get("dependencies") {
        Ok(tree(deps, format))
    } else {
        Ok(Builder::new(format, true).finish())
    }
}

fn s<'a>(e: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    e.get(k).and_then(Value::as_str)
}

fn flag(e: &Map<String, Value>, k: &str) -> bool {
    e.get(k).and_then(Value::as_bool).unwrap_or(false)
}

/// The names of an entry's dependencies of every kind that is installed with it.
fn dep_names<'a>(e: &'a Map<String, Value>, kinds: &[&str]) -> Vec<&'a str> {
    let mut out = Vec::new();
    for k in kinds {
        if let Some(Value::Object(d)) = e.get(*k) {
            out.extend(
                d.keys()
                    .take(super::manifest::MAX_DEPENDENCIES)
                    .map(String::as_str),
            );
        }
    }
    out
}

/// The package name an install path ends with: what follows its last `node_modules/`.
fn name_of_key(key: &str) -> Option<&str> {
    let i = key.rfind("node_modules/")?;
    Some(&key[i + "node_modules/".len()..]).filter(|n| !n.is_empty())
}

/// A version npm writes for a package that is not from a registry (`file:`, `link:`): a
/// local directory, the project's own code.
fn local(version: &str) -> bool {
    version.starts_with("file:") || version.starts_with("link:")
}

/// `npm:real-name@1.2.3`, npm's alias, → (real name, version).
fn alias(version: &str) -> Option<(&str, &str)> {
    split_spec(version.strip_prefix("npm:")?)
}

fn entry(name: &str, version: &str, e: &Map<String, Value>) -> Entry {
    let (name, version) = alias(version).unwrap_or((name, version));
    Entry {
        name: name.to_owned(),
        version: version.to_owned(),
        dev: flag(e, "dev"),
        // devOptional: in the dev tree and the optional tree, so not only for development.
        optional: flag(e, "optional") || flag(e, "devOptional"),
        resolved: s(e, "resolved").map(str::to_owned),
        integrity: s(e, "integrity").map(str::to_owned),
        license: s(e, "license").map(str::to_owned),
        ..Entry::default()
    }
}

/// Versions 2 and 3: `packages`, keyed by install path (`node_modules/a/node_modules/b`).
/// The root `""` is the project; keys outside any `node_modules` are workspace members,
/// the project's own code: neither is a dependency.
fn flat(packages: &Map<String, Value>, format: String) -> Lock {
    let mut b = Builder::new(format, true);
    let mut at: HashMap<&str, usize> = HashMap::new();
    let mut links: HashMap<&str, &str> = HashMap::new();
    let mut read = Vec::new();
    for (key, e) in packages {
        let Value::Object(e) = e else {
            b.problem(format!("entry {key:?} is not an object"), None, false);
            continue;
        };
        if key.is_empty() {
            continue;
        }
        if flag(e, "link") {
            if let Some(target) = s(e, "resolved") {
                links.insert(key, target);
            }
            continue;
        }
        let Some(from_key) = name_of_key(key) else {
            continue; // a workspace member
        };
        let name = s(e, "name").unwrap_or(from_key);
        let Some(version) = s(e, "version").filter(|v| !v.is_empty()) else {
            b.problem(format!("entry {key:?} has no version"), None, false);
            continue;
        };
        if local(version) {
            continue;
        }
        if let Some(i) = b.add(entry(name, version, e)) {
            at.insert(key, i);
            read.push((key.as_str(), e, i));
        }
    }
    for (key, e, i) in read {
        for name in dep_names(
            e,
            &["dependencies", "optionalDependencies", "peerDependencies"],
        ) {
            let found = node_lookup(key, name, |c| {
                let c = links.get(c).copied().unwrap_or(c);
                match at.get(c) {
                    Some(&j) => Lookup::Found(j),
                    None if packages.contains_key(c) => Lookup::Stop,
                    None => Lookup::Next,
                }
            });
            if let Some(j) = found {
                b.edge(i, j);
            }
        }
    }
    b.finish()
}

/// Version 1: `dependencies` nested as installed, each with `requires` (name → range) met
/// by the nearest copy up the tree. Read into install paths, then resolved as version 2.
fn tree(deps: &Map<String, Value>, format: String) -> Lock {
    let mut b = Builder::new(format, true);
    let mut at: HashMap<String, usize> = HashMap::new();
    let mut keys: std::collections::HashSet<String> = Default::default();
    let mut read: Vec<(String, &Map<String, Value>, usize)> = Vec::new();
    // An explicit stack: nesting is bounded by serde_json's recursion limit, and the walk
    // does not recurse.
    let mut stack: Vec<(String, &Map<String, Value>)> = vec![(String::new(), deps)];
    while let Some((prefix, deps)) = stack.pop() {
        for (name, e) in deps {
            let key = format!("{prefix}node_modules/{name}");
            let Value::Object(e) = e else {
                b.problem(format!("dependency {key:?} is not an object"), None, false);
                continue;
            };
            keys.insert(key.clone());
            let Some(version) = s(e, "version").filter(|v| !v.is_empty()) else {
                b.problem(format!("dependency {key:?} has no version"), None, false);
                continue;
            };
            if local(version) {
                continue;
            }
            if let Some(i) = b.add(entry(name, version, e)) {
                at.insert(key.clone(), i);
                read.push((key.clone(), e, i));
            }
            if let Some(Value::Object(nested)) = e.get("dependencies") {
                stack.push((format!("{key}/"), nested));
            }
        }
    }
    for (key, e, i) in &read {
        for name in dep_names(e, &["requires"]) {
            let found = node_lookup(key, name, |c| match at.get(c) {
                Some(&j) => Lookup::Found(j),
                None if keys.contains(c) => Lookup::Stop,
                None => Lookup::Next,
            });
            if let Some(j) = found {
                b.edge(*i, j);
            }
        }
    }
    b.finish()
}
