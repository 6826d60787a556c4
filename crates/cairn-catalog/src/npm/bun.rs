//! `bun.lock`, bun's text lock file (bun 1.2+; the older binary `bun.lockb` is not read):
//! JSON with trailing commas, `packages: { "path": ["name@version", registry, {deps},
//! integrity] }`, keyed by install path without the `node_modules` segments (`debug/ms`
//! is `node_modules/debug/node_modules/ms`). Dependencies are resolved by Node's lookup
//! over those paths; dev-ness is reachability from the workspaces' `devDependencies`.

use super::lock::{dev_by_reach, node_lookup, split_spec, Builder, Entry, Lock, Lookup};
use serde_json::{Map, Value};
use std::collections::HashMap;

pub(crate) fn parse(bytes: &[u8]) -> Result<Lock, String> {
    let json = strip_jsonc(bytes);
    // serde_json keeps its default recursion limit (128): deep nesting is an error.
    let v: Value = serde_json::from_slice(&json).map_err(|e| format!("not JSON: {e}"))?;
    let Value::Object(o) = &v else {
        return Err("not a JSON object".into());
    };
    let version = o
        .get("lockfileVersion")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let mut b = Builder::new(format!("bun.lock v{version}"), true);
    let empty = Map::new();
    let packages = match o.get("packages") {
        Some(Value::Object(p)) => p,
        _ => &empty,
    };
    // Install path (with node_modules segments) → entry.
    let mut at: HashMap<String, usize> = HashMap::new();
    let mut read = Vec::new();
    for (key, p) in packages {
        let Some(Value::String(ident)) = p.as_array().and_then(|a| a.first()) else {
            b.problem(
                format!("package {key:?} is not [\"name@version\", …]"),
                None,
                false,
            );
            continue;
        };
        let Some((name, version)) = split_spec(ident) else {
            b.problem(
                format!("package {key:?}: no version in {ident:?}"),
                None,
                false,
            );
            continue;
        };
        if ["workspace:", "link:", "file:", "portal:"]
            .iter()
            .any(|p| version.starts_with(p))
        {
            continue;
        }
        let arr = p.as_array().map(Vec::as_slice).unwrap_or(&[]);
        let meta = arr.iter().find_map(Value::as_object);
        let integrity = arr.get(3).and_then(Value::as_str);
        let resolved = arr.get(1).and_then(Value::as_str).filter(|r| !r.is_empty());
        let entry = Entry {
            name: name.to_owned(),
            version: version.to_owned(),
            optional: meta
                .and_then(|m| m.get("optional"))
                .and_then(Value::as_bool)
                .unwrap_or(false),
            resolved: resolved.map(str::to_owned),
            integrity: integrity.map(str::to_owned),
            ..Entry::default()
        };
        let Some(i) = b.add(entry) else { continue };
        let path = install_path(key);
        at.insert(path.clone(), i);
        read.push((path, meta, i));
    }
    let find = |from: &str, name: &str| {
        node_lookup(from, name, |c| match at.get(c) {
            Some(&j) => Lookup::Found(j),
            None => Lookup::Next,
        })
    };
    for (path, meta, i) in &read {
        let Some(meta) = meta else { continue };
        for name in names(
            meta,
            &["dependencies", "optionalDependencies", "peerDependencies"],
        ) {
            if let Some(j) = find(path, name) {
                b.edge(*i, j);
            }
        }
    }
    let mut lock = b.finish();
    let (mut prod, mut dev) = (Vec::new(), Vec::new());
    if let Some(Value::Object(ws)) = o.get("workspaces") {
        for (dir, w) in ws {
            let Value::Object(w) = w else { continue };
            // A workspace's own dependencies are installed under its name, else hoisted.
            let from = w
                .get("name")
                .and_then(Value::as_str)
                .filter(|_| !dir.is_empty())
                .map(|n| format!("node_modules/{n}"))
                .unwrap_or_default();
            for name in names(w, &["dependencies", "optionalDependencies"]) {
                prod.extend(find(&from, name));
            }
            for name in names(w, &["devDependencies"]) {
                dev.extend(find(&from, name));
            }
        }
    }
    let reached = dev_by_reach(&lock.entries, &prod, &dev);
    for (e, d) in lock.entries.iter_mut().zip(reached) {
        e.dev = d;
    }
    Ok(lock)
}

fn names<'a>(m: &'a Map<String, Value>, kinds: &[&str]) -> Vec<&'a str> {
    let mut out = Vec::new();
    for k in kinds {
        if let Some(Value::Object(d)) = m.get(*k) {
            out.extend(
                d.keys()
                    .take(super::manifest::MAX_DEPENDENCIES)
                    .map(String::as_str),
            );
        }
    }
    out
}

/// `debug/ms` → `node_modules/debug/node_modules/ms`; `@s/a/b` →
/// `node_modules/@s/a/node_modules/b`.
fn install_path(key: &str) -> String {
    let mut out = String::new();
    let mut segs = key.split('/').peekable();
    while let Some(seg) = segs.next() {
        if !out.is_empty() {
            out.push('/');
        }
        out.push_str("node_modules/");
        out.push_str(seg);
        if seg.starts_with('@') {
            if let Some(n) = segs.next() {
                out.push('/');
                out.push_str(n);
            }
        }
    }
    out
}

/// JSONC as bun writes it → JSON: trailing commas before `}` or `]` and `//` and `/* */`
/// comments removed, outside strings. One linear pass.
fn strip_jsonc(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    let mut in_str = false;
    // A comma seen, and the whitespace after it: written only if what follows is not a
    // closer (no insertion into `out`, so the pass stays linear).
    let mut comma = false;
    let mut ws: Vec<u8> = Vec::new();
    while i < b.len() {
        let c = b[i];
        if in_str {
            out.push(c);
            if c == b'\\' && i + 1 < b.len() {
                out.push(b[i + 1]);
                i += 2;
                continue;
            }
            if c == b'"' {
                in_str = false;
            }
            i += 1;
            continue;
        }
        if c == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if c == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                i += 1;
            }
            i += 2;
            continue;
        }
        if c.is_ascii_whitespace() {
            if comma {
                ws.push(c);
            } else {
                out.push(c);
            }
            i += 1;
            continue;
        }
        if comma {
            comma = false;
            if c != b'}' && c != b']' {
                out.push(b',');
            }
            out.append(&mut ws);
        }
        match c {
            b',' => comma = true,
            b'"' => {
                in_str = true;
                out.push(c);
            }
            _ => out.push(c),
        }
        i += 1;
    }
    if comma {
        out.push(b',');
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn jsonc_trailing_commas_and_comments() {
        let j = super::strip_jsonc(b"{\"a\": [1, 2,], // c\n \"b,\": {\"c\": \"}\",}, /* x */}");
        let v: serde_json::Value = serde_json::from_slice(&j).unwrap();
        assert_eq!(v, serde_json::json!({"a": [1, 2], "b,": {"c": "}"}}));
    }

    #[test]
    fn install_paths() {
        assert_eq!(
            super::install_path("debug/ms"),
            "node_modules/debug/node_modules/ms"
        );
        assert_eq!(
            super::install_path("@s/a/b"),
            "node_modules/@s/a/node_modules/b"
        );
    }
}
