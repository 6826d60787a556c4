//! `package.json`: which ones are installed packages, and the few facts cairn keeps of
//! each (read inside the layer pass, so only this small record outlives the file).

use crate::license::{self, Expr};
use serde_json::Value;

/// Most dependency names kept from one `package.json` (each of `dependencies`,
/// `optionalDependencies`, `peerDependencies`, `devDependencies`); real packages have at
/// most a few hundred. Each is resolved through a walk of `node_modules` directories, so
/// this bounds the walks one file can cause.
pub(crate) const MAX_DEPENDENCIES: usize = 4096;

/// Where a `package.json` sits, which decides what it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// The root of an installed package: right under a `node_modules` directory (or its
    /// `@scope`) in a chain of package roots from the project down (or pnpm's and bun's
    /// `.pnpm` / `.bun` stores), or of Debian's `/usr/share/nodejs` and `/usr/lib/nodejs`
    /// trees. One without a name or version is a damaged install.
    Installed,
    /// Right under a `node_modules` that sits in a subdirectory of a package rather than
    /// in its root: copies a package bundles for itself (pnpm ships a hundred in
    /// `dist/node_modules`, which Node loads from there), and test fixtures. Reported
    /// when they name a package and version, skipped silently when they do not (fixtures
    /// are often stubs).
    Bundled,
    /// Outside any installed package: an application or workspace root. Read for the
    /// dependency lists a lock file beside it lacks, and for linked workspaces.
    Project,
    /// Deeper inside an installed package (`node_modules/x/lib/package.json`): not a
    /// package, and not read.
    Inner,
}

/// The directories under which Debian's `node-*` packages install modules, one per
/// directory (`/usr/share/nodejs/NAME/package.json`).
const DEBIAN_TREES: [&str; 2] = ["usr/share/nodejs/", "usr/lib/nodejs/"];

/// What a `package.json` at `path` (no leading `/`) is: see [`Role`].
pub(crate) fn role(path: &str) -> Role {
    let Some(dir) = path.strip_suffix("/package.json") else {
        return Role::Project; // `package.json` at the root
    };
    let segs: Vec<&str> = dir.split('/').collect();
    let is_name = |s: &str| !s.is_empty() && !s.starts_with('.') && !s.starts_with('@');
    let is_scope = |s: &str| s.len() > 1 && s.starts_with('@');
    let is_package = |g: &[&str]| match g {
        [n] => is_name(n),
        [s, n] => is_scope(s) && is_name(n),
        _ => false,
    };
    let debian = DEBIAN_TREES.iter().find_map(|t| {
        let t: Vec<&str> = t.trim_end_matches('/').split('/').collect();
        segs.starts_with(&t).then_some(t.len())
    });
    let nm: Vec<usize> = (0..segs.len())
        .filter(|&i| segs[i] == "node_modules")
        .collect();
    let Some(&first) = nm.first() else {
        return match debian {
            Some(n) if is_package(&segs[n..]) => Role::Installed,
            Some(_) => Role::Inner,
            None => Role::Project,
        };
    };
    let last = nm[nm.len() - 1];
    if !is_package(&segs[last + 1..]) {
        return Role::Inner;
    }
    // Whether every node_modules above sits in a package root (or a store).
    let mut chained = match debian {
        Some(n) => n <= first && is_package(&segs[n..first]),
        None => true,
    };
    for w in nm.windows(2) {
        let gap = &segs[w[0] + 1..w[1]];
        let store = matches!(gap, [".pnpm" | ".bun"] | [".pnpm" | ".bun", _]);
        chained &= is_package(gap) || store;
    }
    if chained {
        Role::Installed
    } else {
        Role::Bundled
    }
}

/// The facts kept of one `package.json`.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Manifest {
    pub name: Option<String>,
    pub version: Option<String>,
    /// Each license statement as written (`license`, `license.type`, `licenses[].type`).
    pub licenses: Vec<String>,
    /// Whether the statements came from the legacy `licenses` array (alternatives).
    pub legacy_array: bool,
    pub author: Option<String>,
    pub homepage: Option<String>,
    pub repository: Option<String>,
    pub description: Option<String>,
    pub private: bool,
    /// `dependencies` and `optionalDependencies`: (name, range).
    pub dependencies: Vec<(String, String)>,
    /// `peerDependencies` names: met by the installing project, if at all.
    pub peers: Vec<String>,
    /// `devDependencies`: (name, range); only a project's are installed.
    pub dev: Vec<(String, String)>,
    /// `_resolved` and `_integrity`, which npm up to v6 wrote into installed copies.
    pub resolved: Option<String>,
    pub integrity: Option<String>,
    /// Dependency lists cut at [`MAX_DEPENDENCIES`].
    pub truncated: bool,
}

impl Manifest {
    /// The SPDX expression of the license statements: an SPDX expression as written
    /// (npm's `license` field is one by specification), `SEE LICENSE IN <file>` and other
    /// text as a `LicenseRef-`; the legacy `licenses` array as alternatives (npm's own
    /// documentation rewrites `[MIT, Apache-2.0]` as `(MIT OR Apache-2.0)`).
    pub fn license_expression(&self) -> Option<String> {
        let each: Vec<Expr> = self.licenses.iter().filter_map(|l| spdx_of(l)).collect();
        if self.legacy_array {
            Expr::or(each)
        } else {
            Expr::and(each)
        }
        .map(|e| e.to_string())
    }
}

/// One license statement as an SPDX expression.
pub(crate) fn spdx_of(statement: &str) -> Option<Expr> {
    let s = statement.trim();
    if s.is_empty() {
        return None;
    }
    if s.get(..14)
        .is_some_and(|p| p.eq_ignore_ascii_case("SEE LICENSE IN"))
    {
        return Some(Expr::Term(license::license_ref(s)));
    }
    Expr::parse(s).or_else(|| license::expression_tree(s))
}

/// Parse a `package.json`. Only a document that is not JSON, or not an object, is an
/// error; fields of an unexpected type are left out, as npm ignores them.
pub(crate) fn parse(bytes: &[u8]) -> Result<Manifest, String> {
    // serde_json keeps its default recursion limit (128): deep nesting is an error.
    let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
    let Value::Object(o) = &v else {
        return Err("not a JSON object".into());
    };
    let s = |k: &str| o.get(k).and_then(Value::as_str).map(str::to_owned);
    let mut m = Manifest {
        name: s("name").filter(|n| !n.trim().is_empty()),
        version: s("version").filter(|n| !n.trim().is_empty()),
        description: s("description"),
        homepage: s("homepage"),
        private: o.get("private").and_then(Value::as_bool).unwrap_or(false),
        resolved: s("_resolved"),
        integrity: s("_integrity"),
        ..Manifest::default()
    };
    match o.get("license") {
        Some(Value::String(l)) => m.licenses.push(l.clone()),
        Some(Value::Object(l)) => m
            .licenses
            .extend(l.get("type").and_then(Value::as_str).map(str::to_owned)),
        _ => {}
    }
    if m.licenses.is_empty() {
        if let Some(Value::Array(ls)) = o.get("licenses") {
            m.legacy_array = true;
            m.licenses
                .extend(ls.iter().take(MAX_DEPENDENCIES).filter_map(|l| match l {
                    Value::String(s) => Some(s.clone()),
                    Value::Object(l) => l.get("type").and_then(Value::as_str).map(str::to_owned),
                    _ => None,
                }));
        }
    }
    m.author = match o.get("author") {
        Some(Value::String(a)) => Some(a.clone()),
        Some(Value::Object(a)) => {
            let f = |k: &str| a.get(k).and_then(Value::as_str);
            let mut out = f("name").unwrap_or("").to_owned();
            if let Some(e) = f("email") {
                out.push_str(&format!(" <{e}>"));
            }
            if let Some(u) = f("url") {
                out.push_str(&format!(" ({u})"));
            }
            Some(out.trim().to_owned()).filter(|s| !s.is_empty())
        }
        _ => None,
    };
    m.repository = match o.get("repository") {
        Some(Value::String(r)) => Some(r.clone()),
        Some(Value::Object(r)) => r.get("url").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    };
    let mut deps = |k: &str, out: &mut Vec<(String, String)>| {
        if let Some(Value::Object(d)) = o.get(k) {
            for (name, range) in d {
                if out.len() >= MAX_DEPENDENCIES {
                    m.truncated = true;
                    break;
                }
                out.push((name.clone(), range.as_str().unwrap_or("").to_owned()));
            }
        }
    };
    let (mut d, mut peers, mut dev) = (Vec::new(), Vec::new(), Vec::new());
    deps("dependencies", &mut d);
    deps("optionalDependencies", &mut d);
    deps("peerDependencies", &mut peers);
    deps("devDependencies", &mut dev);
    d.sort();
    d.dedup_by(|a, b| a.0 == b.0);
    m.dependencies = d;
    m.peers = peers.into_iter().map(|(n, _)| n).collect();
    m.dev = dev;
    Ok(m)
}

/// `@scope/name` → (`Some("@scope")`, `name`).
pub(crate) fn split_name(name: &str) -> (Option<&str>, &str) {
    match name.split_once('/') {
        Some((scope, n)) if scope.starts_with('@') => (Some(scope), n),
        _ => (None, name),
    }
}

/// The npm package URL: `pkg:npm/%40scope/name@version`.
pub(crate) fn purl(name: &str, version: &str) -> String {
    let (ns, n) = split_name(name);
    crate::purl::purl("npm", ns, n, version, &[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_roots_are_directories_right_under_node_modules() {
        use Role::*;
        for (path, want) in [
            ("app/node_modules/debug/package.json", Installed),
            ("app/node_modules/@types/semver/package.json", Installed),
            ("app/node_modules/a/node_modules/b/package.json", Installed),
            ("node_modules/a/package.json", Installed),
            ("usr/local/lib/node_modules/npm/package.json", Installed),
            (
                "app/node_modules/.pnpm/ms@2.0.0/node_modules/ms/package.json",
                Installed,
            ),
            ("usr/share/nodejs/semver/package.json", Installed),
            ("usr/share/nodejs/@types/node/package.json", Installed),
            ("usr/lib/nodejs/acorn/package.json", Installed),
            ("app/node_modules/x/lib/package.json", Inner),
            (
                "app/node_modules/resolve/test/resolver/node_modules/y/package.json",
                Bundled,
            ),
            (
                "app/node_modules/pnpm/dist/node_modules/@s/glob/package.json",
                Bundled,
            ),
            (
                "app/node_modules/pnpm/dist/node_modules/a/node_modules/b/package.json",
                Bundled,
            ),
            (
                "app/node_modules/pnpm/dist/node_modules/glob/dist/package.json",
                Inner,
            ),
            ("usr/share/nodejs/a/node_modules/b/package.json", Installed),
            (
                "usr/share/nodejs/a/test/node_modules/b/package.json",
                Bundled,
            ),
            ("app/node_modules/.bin/package.json", Inner),
            ("app/node_modules/x/test/fixtures/y/package.json", Inner),
            ("app/node_modules/@types/package.json", Inner),
            ("app/node_modules/.cache/package.json", Inner),
            ("usr/share/nodejs/semver/functions/package.json", Inner),
            ("app/package.json", Project),
            ("app/packages/lib-a/package.json", Project),
            ("package.json", Project),
        ] {
            assert_eq!(role(path), want, "{path}");
        }
    }

    #[test]
    fn license_forms() {
        let lic = |j: &str| parse(j.as_bytes()).unwrap().license_expression();
        assert_eq!(lic(r#"{"license":"MIT"}"#).as_deref(), Some("MIT"));
        assert_eq!(
            lic(r#"{"license":"(MIT OR Apache-2.0)"}"#).as_deref(),
            Some("MIT OR Apache-2.0")
        );
        assert_eq!(
            lic(r#"{"license":{"type":"ISC","url":"x"}}"#).as_deref(),
            Some("ISC")
        );
        assert_eq!(
            lic(r#"{"licenses":[{"type":"MIT"},{"type":"Apache-2.0"}]}"#).as_deref(),
            Some("MIT OR Apache-2.0")
        );
        assert_eq!(
            lic(r#"{"license":"SEE LICENSE IN LICENSE.md"}"#).as_deref(),
            Some("LicenseRef-SEE-LICENSE-IN-LICENSE.md")
        );
        assert_eq!(lic(r#"{"license":["MIT"]}"#), None);
    }

    #[test]
    fn fields_of_odd_types_are_left_out() {
        let m = parse(
            br#"{"name":"x","version":"1.0.0","author":{"name":"A","email":"a@b"},
                "repository":{"type":"git","url":"git+https://r"},"dependencies":["y"],
                "peerDependencies":{"p":"*"},"optionalDependencies":{"o":"^1"}}"#,
        )
        .unwrap();
        assert_eq!(m.author.as_deref(), Some("A <a@b>"));
        assert_eq!(m.repository.as_deref(), Some("git+https://r"));
        assert_eq!(m.dependencies, [("o".to_owned(), "^1".to_owned())]);
        assert_eq!(m.peers, ["p"]);
        assert!(parse(b"[1]").is_err());
        assert!(parse(b"{").unwrap_err().starts_with("not JSON"));
    }

    #[test]
    fn purls_put_the_scope_in_the_namespace() {
        assert_eq!(
            purl("@types/semver", "7.5.8"),
            "pkg:npm/%40types/semver@7.5.8"
        );
        assert_eq!(purl("ms", "2.0.0"), "pkg:npm/ms@2.0.0");
    }
}
