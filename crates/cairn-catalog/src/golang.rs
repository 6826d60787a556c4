//! Go: executables with embedded build info (found by content, wherever they are: the main
//! module, the standard library at the binary's Go version, and every dependency module),
//! and in directory scans `go.mod` / `go.sum` as declared modules.

mod gomod;

use crate::binary::{Executable, Executables, NAME as EXECUTABLES};
use crate::lang::{self, MAX_MANIFEST};
use crate::purl::purl;
use crate::{Cataloger, Context, Findings};
use cairn_buildinfo::{GoBuildInfo, Module};
use cairn_image::{EntryReader, Extractor, Fact, FactError, FactRef, PathPattern, Probe};
use cairn_sbom::{Origin, Package, Relationship, RelationshipKind};
use std::sync::Arc;

pub(crate) struct Go;

const GO_MOD: &str = "go.mod";

impl Cataloger for Go {
    fn name(&self) -> &'static str {
        "go"
    }
    fn extractors(&self) -> Vec<Arc<dyn Extractor>> {
        vec![Arc::new(Executables), Arc::new(GoModFiles)]
    }
    fn catalog(&self, cx: &Context) -> Findings {
        let mut out = Findings::default();
        for (f, exe) in lang::visible::<Executable>(cx.view, EXECUTABLES, &mut out.warnings) {
            if let Some(go) = &exe.go {
                let introduced = lang::introduced::<Executable>(cx.view, EXECUTABLES, &f, |e| {
                    e.go.as_ref()
                        .is_some_and(|g| main_version(g) == main_version(go))
                });
                binary(&f, go, introduced, &mut out);
            }
        }
        if lang::is_dir_scan(cx.image.kind) {
            let sums = lang::visible::<gomod::GoSum>(cx.view, GO_MOD, &mut out.warnings);
            for (f, m) in lang::visible::<gomod::GoMod>(cx.view, GO_MOD, &mut out.warnings) {
                let dir = parent(f.path);
                let sum = sums
                    .iter()
                    .find(|(s, _)| parent(s.path) == dir)
                    .map(|(_, s)| *s);
                declared(&f, m, sum, &mut out);
            }
        }
        out
    }
}

/// `go.mod` files, each with the `go.sum` beside it read by the cataloger when present.
struct GoModFiles;

impl Extractor for GoModFiles {
    fn name(&self) -> &'static str {
        GO_MOD
    }
    fn patterns(&self) -> Vec<PathPattern> {
        vec![
            PathPattern::new("/**/go.mod"),
            PathPattern::new("/**/go.sum"),
        ]
    }
    fn extract(&self, entry: &Probe, r: &mut EntryReader) -> Result<Option<Fact>, FactError> {
        let bytes = r.read_rest(MAX_MANIFEST)?;
        let text = String::from_utf8_lossy(&bytes);
        if entry.file_name() == "go.sum" {
            return Ok(Some(Arc::new(gomod::GoSum::parse(&text))));
        }
        gomod::GoMod::parse(&text)
            .map(|m| Some(Arc::new(m) as Fact))
            .map_err(FactError::from)
    }
}

/// The main module's version: `(devel)` unless the build says better. A version set with
/// `-ldflags -X` on a `version` variable (as release builds do), else a pseudo-version from
/// the VCS revision and time Go stamped. Never guessed from the binary's strings.
fn main_version(go: &GoBuildInfo) -> String {
    let recorded = go.main.as_ref().map(|m| m.version.as_str()).unwrap_or("");
    if !recorded.is_empty() && recorded != "(devel)" {
        return recorded.to_owned();
    }
    if let Some(v) = go.setting("-ldflags").and_then(ldflags_version) {
        // A module version: `v`-prefixed, as Go (and Syft, and vulnerability databases)
        // write them.
        return if v.starts_with(|c: char| c.is_ascii_digit()) {
            format!("v{v}")
        } else {
            v
        };
    }
    if let (Some(rev), Some(time)) = (go.setting("vcs.revision"), go.setting("vcs.time")) {
        // v0.0.0-20060102150405-abcdefabcdef, as the go command makes pseudo-versions.
        let stamp: String = time.chars().filter(char::is_ascii_digit).take(14).collect();
        if stamp.len() == 14 && rev.len() >= 12 {
            return format!("v0.0.0-{stamp}-{}", &rev[..12]);
        }
    }
    "(devel)".into()
}

/// The value of `-X PKG.version=V` (or `Version`, `gitVersion`, ...) in linker flags.
fn ldflags_version(flags: &str) -> Option<String> {
    let words: Vec<&str> = flags.split_whitespace().collect();
    let mut values = Vec::new();
    for (i, w) in words.iter().enumerate() {
        let assignment = if *w == "-X" {
            words.get(i + 1).copied()
        } else {
            w.strip_prefix("-X=")
        };
        if let Some((name, value)) = assignment.and_then(|a| a.split_once('=')) {
            let var = name.rsplit('.').next().unwrap_or(name).to_ascii_lowercase();
            if var.ends_with("version") && !value.is_empty() {
                values.push((var == "version", value.trim_matches(['"', '\''])));
            }
        }
    }
    // `version` itself first, then any `…version`.
    values.sort_by_key(|(exact, _)| !exact);
    values.first().map(|(_, v)| (*v).to_owned())
}

fn go_purl(path: &str, version: &str) -> String {
    let (ns, name) = match path.rsplit_once('/') {
        Some((ns, name)) => (Some(ns), name),
        None => (None, path),
    };
    purl("golang", ns, name, version, &[])
}

/// What a module resolves to: its replacement when it has a versioned one.
fn effective(m: &Module) -> (&str, &str) {
    match &m.replace {
        Some(r) if !r.version.is_empty() => (&r.path, &r.version),
        _ => (&m.path, &m.version),
    }
}

fn binary(f: &FactRef, go: &GoBuildInfo, introduced: usize, out: &mut Findings) {
    let at = lang::location(f);
    let mut common = std::collections::BTreeMap::new();
    common.insert("go-version".to_owned(), go.go_version.clone());
    common.insert("main-path".to_owned(), go.path.clone());
    for key in [
        "GOOS",
        "GOARCH",
        "CGO_ENABLED",
        "-ldflags",
        "vcs",
        "vcs.revision",
        "vcs.time",
        "vcs.modified",
        "-buildmode",
    ] {
        if let Some(v) = go.setting(key) {
            common.insert(format!("build:{key}"), v.to_owned());
        }
    }
    let mut make = |name: &str, version: &str, purl: String, meta: Vec<(String, String)>| {
        let mut p: Package =
            lang::package("golang", "go", name, version, purl, at.clone(), introduced);
        p.origin = Origin::Binary;
        p.metadata = common.clone();
        p.metadata.extend(meta);
        let id = p.id.clone();
        out.packages.push(p);
        id
    };
    // A GOPATH-mode build records no main module, only the main package's path: that
    // path is the program's identity (as Syft reports it), at the version the build says.
    let gopath_main = (go.main.is_none()
        && !go.path.is_empty()
        && go.path != "command-line-arguments")
        .then(|| Module {
            path: go.path.clone(),
            version: "(devel)".into(),
            ..Module::default()
        });
    let main = go.main.as_ref().or(gopath_main.as_ref()).map(|m| {
        let version = main_version(go);
        let mut meta = vec![("main-module".to_owned(), "true".to_owned())];
        if m.version == "(devel)" && version != "(devel)" {
            meta.push(("version-from".to_owned(), version_source(go)));
        }
        make(&m.path, &version, go_purl(&m.path, &version), meta)
    });
    // The standard library, at the Go version that built the binary (not go.mod's line).
    let std_version = go.go_version.trim_start_matches("go");
    let std_version = std_version.split([' ', '+']).next().unwrap_or(std_version);
    let stdlib = make(
        "stdlib",
        &go.go_version,
        purl("golang", None, "stdlib", std_version, &[]),
        Vec::new(),
    );
    let mut deps = vec![stdlib];
    for m in &go.deps {
        let (path, version) = effective(m);
        let mut meta = Vec::new();
        if let Some(sum) = &m
            .replace
            .as_ref()
            .and_then(|r| r.sum.clone())
            .or(m.sum.clone())
        {
            meta.push(("h1-digest".to_owned(), sum.clone()));
        }
        if let Some(r) = &m.replace {
            meta.push(("replaces".to_owned(), format!("{} {}", m.path, m.version)));
            if r.version.is_empty() {
                meta.push(("replaced-by".to_owned(), r.path.clone()));
            }
        }
        deps.push(make(path, version, go_purl(path, version), meta));
    }
    if let Some(main) = main {
        for to in deps {
            out.relationships.push(Relationship {
                from: main.clone(),
                kind: RelationshipKind::DependsOn,
                to,
            });
        }
    }
}

fn version_source(go: &GoBuildInfo) -> String {
    if go.setting("-ldflags").and_then(ldflags_version).is_some() {
        "-ldflags -X".into()
    } else {
        "vcs".into()
    }
}

fn parent(path: &str) -> &str {
    path.rsplit_once('/').map(|(d, _)| d).unwrap_or("")
}

/// A `go.mod`'s requirements, as declared (with the `go.sum` checksum beside it).
fn declared(f: &FactRef, m: &gomod::GoMod, sum: Option<&gomod::GoSum>, out: &mut Findings) {
    let at = lang::location(f);
    for r in &m.requires {
        let (path, version) = match m.replaces.iter().find(|(from, _)| from.path == r.path) {
            Some((_, to)) if !to.version.is_empty() => (to.path.as_str(), to.version.as_str()),
            _ => (r.path.as_str(), r.version.as_str()),
        };
        let mut p = lang::package(
            "golang",
            "go",
            path,
            version,
            go_purl(path, version),
            at.clone(),
            f.layer,
        );
        p.origin = Origin::Declared;
        if r.indirect {
            p.metadata.insert("indirect".into(), "true".into());
        }
        p.metadata.insert("module".into(), m.module.clone());
        if let Some(h1) = sum.and_then(|s| s.get(path, version)) {
            p.metadata.insert("h1-digest".into(), h1.to_owned());
        }
        out.packages.push(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ldflags_versions_as_release_builds_set_them() {
        assert_eq!(
            ldflags_version("-X main.version=1.2.3 -s -w").as_deref(),
            Some("1.2.3")
        );
        assert_eq!(
            ldflags_version("-s -X=github.com/x/y/internal.Version=v2.0.1").as_deref(),
            Some("v2.0.1")
        );
        assert_eq!(
            ldflags_version("-X main.gitVersion=abc -X main.version=1.0").as_deref(),
            Some("1.0")
        );
        assert_eq!(ldflags_version("-X main.commit=abc -s -w"), None);
    }
}
