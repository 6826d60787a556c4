//! The npm / Node cataloger: installed packages (every `package.json` at a package root:
//! `node_modules/NAME`, `node_modules/@scope/NAME`, nested `node_modules`, pnpm's and
//! bun's stores, the global trees of Node images, Debian's `/usr/share/nodejs` and
//! `/usr/lib/nodejs`), workspaces linked into a `node_modules`, and, in directory scans,
//! the packages that lock files declare (`package-lock.json`, `npm-shrinkwrap.json`,
//! `yarn.lock` classic and berry, `pnpm-lock.yaml` 5/6/9, `bun.lock`).
//!
//! Both kinds of file are read inside the layer pass by extractors that keep a small
//! record of each; dependencies are resolved afterwards, installed ones the way Node
//! resolves `require` (own `node_modules`, then each ancestor's), locked ones the way each
//! lock file records them. A lock file inside an installed package (what its authors
//! developed with) is not read. This module must never guess a version: a package root
//! without one is reported as malformed, not filled in from a lock file.

mod bun;
mod lock;
mod manifest;
mod package_lock;
mod pnpm;
mod tree;
mod yarn;

use crate::{lang, Cataloger, Context, Findings};
use cairn_image::{
    EntryReader, Extractor, Fact, FactError, FactRef, FsView, NodeKind, PathPattern, Probe,
    SourceKind,
};
use cairn_sbom::{
    LicenseEvidence, Licenses, Location, Origin, Package, Relationship, RelationshipKind, Warning,
    WarningKind,
};
use lock::{node_lookup, Lock, Lookup};
use manifest::{Manifest, Role};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

pub(crate) struct Npm;

/// Extractor names (facts are asked of the view by them).
const PACKAGE_JSON: &str = "npm-package-json";
const LOCK: &str = "npm-lock";

impl Cataloger for Npm {
    fn name(&self) -> &'static str {
        "npm"
    }

    fn extractors(&self) -> Vec<Arc<dyn Extractor>> {
        vec![Arc::new(PackageJson), Arc::new(LockFile)]
    }

    fn catalog(&self, cx: &Context) -> Findings {
        catalog_view(cx.view, cx.image.kind)
    }
}

/// What the `package.json` extractor keeps of one file.
#[derive(Debug)]
pub(crate) struct Found {
    role: Role,
    manifest: Manifest,
}

/// Every `package.json`; those deeper inside an installed package are not read at all.
struct PackageJson;

impl Extractor for PackageJson {
    fn name(&self) -> &'static str {
        PACKAGE_JSON
    }
    fn patterns(&self) -> Vec<PathPattern> {
        vec![PathPattern::new("/**/package.json")]
    }
    fn extract(&self, entry: &Probe, r: &mut EntryReader) -> Result<Option<Fact>, FactError> {
        let role = manifest::role(entry.path);
        if role == Role::Inner {
            return Ok(None);
        }
        let bytes = r.read_rest(lang::MAX_MANIFEST)?;
        let unnamed = |m: &Manifest| m.name.is_none() || m.version.is_none();
        match (role, manifest::parse(&bytes)) {
            (Role::Installed, Ok(m)) if unnamed(&m) => {
                let missing = if m.name.is_none() { "name" } else { "version" };
                Err(format!("a package root whose package.json has no {missing}").into())
            }
            (Role::Bundled, Ok(m)) if unnamed(&m) => Ok(None),
            (_, Ok(manifest)) => Ok(Some(Arc::new(Found { role, manifest }))),
            (Role::Installed, Err(e)) => Err(e.into()),
            // A project's own file, or a bundled one, that is not JSON: no package (a
            // fixture, say), and nothing installed depends on a project's file.
            (_, Err(_)) => Ok(None),
        }
    }
}

/// Lock files outside installed packages.
struct LockFile;

impl Extractor for LockFile {
    fn name(&self) -> &'static str {
        LOCK
    }
    fn patterns(&self) -> Vec<PathPattern> {
        [
            "package-lock.json",
            "npm-shrinkwrap.json",
            "yarn.lock",
            "pnpm-lock.yaml",
            "bun.lock",
        ]
        .iter()
        .map(|f| PathPattern::new(&format!("/**/{f}")))
        .collect()
    }
    fn extract(&self, entry: &Probe, r: &mut EntryReader) -> Result<Option<Fact>, FactError> {
        if entry.path.split('/').any(|s| s == "node_modules") {
            return Ok(None);
        }
        let file = entry.file_name();
        let bytes = r.read_rest(lang::MAX_MANIFEST)?;
        let text = || std::str::from_utf8(&bytes).map_err(|e| format!("not UTF-8: {e}"));
        let lock = match file {
            "package-lock.json" | "npm-shrinkwrap.json" => package_lock::parse(&bytes, file),
            "yarn.lock" => yarn::parse(text()?),
            "pnpm-lock.yaml" => pnpm::parse(text()?),
            "bun.lock" => bun::parse(&bytes),
            _ => return Ok(None),
        }?;
        Ok(Some(Arc::new(lock)))
    }
}

/// The directory of a file path.
fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

/// An installed package found, with what its dependencies are resolved from.
struct Installed<'a> {
    /// Index in the findings' packages.
    at: usize,
    /// Its directory (no leading `/`), from which Node resolves its dependencies.
    dir: String,
    manifest: &'a Manifest,
}

/// The cataloger over a view: `catalog` with the source kind given, for tests.
pub(crate) fn catalog_view(view: &FsView, kind: SourceKind) -> Findings {
    let mut out = Findings::default();
    let found = lang::visible::<Found>(view, PACKAGE_JSON, &mut out.warnings);
    let mut installed: Vec<Installed> = Vec::new();
    let mut by_dir: HashMap<String, usize> = HashMap::new();
    let mut projects: BTreeMap<&str, (FactRef, &Manifest)> = BTreeMap::new();
    for (f, fact) in &found {
        let dir = parent(f.path);
        match fact.role {
            Role::Installed | Role::Bundled => {
                let Some(p) = package(view, f, &fact.manifest, Vec::new()) else {
                    continue;
                };
                by_dir.insert(dir.to_owned(), out.packages.len());
                installed.push(Installed {
                    at: out.packages.len(),
                    dir: dir.to_owned(),
                    manifest: &fact.manifest,
                });
                out.packages.push(p);
            }
            Role::Project => {
                projects.insert(dir, (*f, &fact.manifest));
            }
            Role::Inner => {}
        }
    }
    // Installed packages a later layer removed (`npm uninstall`, a deleted node_modules).
    for (f, fact, gone) in lang::removed::<Found>(view, PACKAGE_JSON) {
        if matches!(fact.role, Role::Installed | Role::Bundled) {
            if let Some(mut p) = package(view, &f, &fact.manifest, Vec::new()) {
                lang::mark_removed(&mut p, gone);
                out.removed.push(p);
            }
        }
    }
    linked_workspaces(view, &projects, &mut by_dir, &mut installed, &mut out);
    applications(view, &projects, &mut by_dir, &mut installed, &mut out);
    out.relationships = installed_edges(view, &installed, &by_dir, &out.packages);
    if lang::is_dir_scan(kind) {
        locks(view, &projects, &installed, &mut out);
    }
    out
}

/// A package from its `package.json`; `links` are further evidence (the `node_modules`
/// link to a workspace). `None` without a name and version.
fn package(view: &FsView, f: &FactRef, m: &Manifest, links: Vec<Location>) -> Option<Package> {
    let (name, version) = (m.name.as_deref()?, m.version.as_deref()?);
    let introduced = lang::introduced::<Found>(view, PACKAGE_JSON, f, |g| {
        g.manifest.name == m.name && g.manifest.version == m.version
    });
    let at = lang::location(f);
    let mut p = lang::package(
        "npm",
        "npm",
        name,
        version,
        manifest::purl(name, version),
        at.clone(),
        introduced,
    );
    p.evidence.locations.extend(links);
    p.licenses = licenses(&m.licenses, m.license_expression(), &at);
    // The package's author is who supplies it (the `maintainers` array is the registry's
    // list of publishers, not always in an installed manifest).
    p.maintainer = m.author.clone().filter(|a| !a.trim().is_empty());
    let md = &mut p.metadata;
    for (k, v) in [
        ("description", &m.description),
        ("homepage", &m.homepage),
        ("author", &m.author),
        ("repository", &m.repository),
        ("resolved", &m.resolved),
        ("integrity", &m.integrity),
    ] {
        if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
            md.insert(k.to_owned(), v.clone());
        }
    }
    if m.private {
        md.insert("private".into(), "true".into());
    }
    Some(p)
}

fn licenses(statements: &[String], declared: Option<String>, at: &Location) -> Licenses {
    Licenses {
        declared,
        evidence: statements
            .iter()
            .filter_map(|s| {
                Some(LicenseEvidence {
                    value: s.clone(),
                    spdx: manifest::spdx_of(s)?.to_string(),
                    location: at.clone(),
                    text: None,
                })
            })
            .collect(),
    }
}

/// Lock files that, beside a project's `package.json`, say its dependencies were resolved.
const LOCK_FILES: &[&str] = &[
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "bun.lock",
];

/// Applications: a project root whose dependencies are installed beside it (a
/// `node_modules`, or a lock file) and whose `package.json` names it and a version is the
/// application the image ships (`/app`), a package as Syft and `npm ls` report it, with
/// its dependencies resolved from its own tree. A bare `package.json` elsewhere (a test
/// fixture, a template) is not.
fn applications<'a>(
    view: &FsView,
    projects: &BTreeMap<&str, (FactRef, &'a Manifest)>,
    by_dir: &mut HashMap<String, usize>,
    installed: &mut Vec<Installed<'a>>,
    out: &mut Findings,
) {
    for (dir, (f, m)) in projects {
        if by_dir.contains_key(*dir) {
            continue; // a workspace member already reported through its link
        }
        let beside = |name: &str| {
            let p = if dir.is_empty() {
                name.to_owned()
            } else {
                format!("{dir}/{name}")
            };
            view.get(&p).is_some()
        };
        if !(beside("node_modules") || LOCK_FILES.iter().any(|l| beside(l))) {
            continue;
        }
        let Some(mut p) = package(view, f, m, Vec::new()) else {
            continue;
        };
        p.metadata.insert("project-root".into(), "true".into());
        by_dir.insert((*dir).to_owned(), out.packages.len());
        installed.push(Installed {
            at: out.packages.len(),
            dir: (*dir).to_owned(),
            manifest: m,
        });
        out.packages.push(p);
    }
}

/// Characters that `PathPattern` would read as a glob.
fn globby(dir: &str) -> bool {
    dir.contains(['*', '?', '[', ']', '{', '}'])
}

/// Workspaces: npm, yarn and pnpm link a workspace member into the project's
/// `node_modules` (`node_modules/lib-a -> ../packages/lib-a`). The link is no
/// `package.json` of its own, so the member is found through it: its own `package.json`
/// (a project file) is the package, the link further evidence that it is installed. A link
/// to a package already found (pnpm's links into its store) adds nothing; a member without
/// a name and version (an application, not a package) is skipped without a warning, as npm
/// itself allows it.
fn linked_workspaces<'a>(
    view: &FsView,
    projects: &BTreeMap<&str, (FactRef, &'a Manifest)>,
    by_dir: &mut HashMap<String, usize>,
    installed: &mut Vec<Installed<'a>>,
    out: &mut Findings,
) {
    for dir in projects.keys() {
        if globby(dir) {
            continue;
        }
        let nm = if dir.is_empty() {
            "node_modules".to_owned()
        } else {
            format!("{dir}/node_modules")
        };
        for pattern in [format!("/{nm}/*"), format!("/{nm}/@*/*")] {
            for (link, node) in view.glob(&PathPattern::new(&pattern)) {
                if !matches!(node.kind, NodeKind::Symlink(_)) {
                    continue;
                }
                let Ok(Some((real, _))) = view.resolve(&format!("{link}/package.json")) else {
                    continue;
                };
                let real_dir = parent(&real);
                if by_dir.contains_key(real_dir) {
                    continue;
                }
                let Some((f, m)) = projects.get(real_dir) else {
                    continue;
                };
                let via = Location {
                    path: format!("/{link}"),
                    layer: node.layer(),
                    lines: None,
                };
                let Some(p) = package(view, f, m, vec![via]) else {
                    continue;
                };
                by_dir.insert(real_dir.to_owned(), out.packages.len());
                installed.push(Installed {
                    at: out.packages.len(),
                    dir: real_dir.to_owned(),
                    manifest: m,
                });
                out.packages.push(p);
            }
        }
    }
}

/// DEPENDS_ON edges of installed packages, resolved as Node resolves `require` from the
/// package's directory: its own `node_modules`, then each ancestor's (following links, so
/// pnpm's store resolves), and for Debian's modules Debian's shared trees. A dependency
/// that is not installed (an optional or peer one, say) has no edge.
fn installed_edges(
    view: &FsView,
    installed: &[Installed],
    by_dir: &HashMap<String, usize>,
    packages: &[Package],
) -> Vec<Relationship> {
    let probe = |c: &str| {
        if let Some(&j) = by_dir.get(c) {
            return Lookup::Found(j);
        }
        match view.get(c).map(|n| &n.kind) {
            // Through the manifest: a layer may leave the target directory implicit.
            Some(NodeKind::Symlink(_)) => match view.resolve(&format!("{c}/package.json")) {
                Ok(Some((real, _))) => by_dir
                    .get(parent(&real))
                    .map_or(Lookup::Stop, |&j| Lookup::Found(j)),
                _ => Lookup::Stop,
            },
            Some(_) => Lookup::Stop,
            None => Lookup::Next,
        }
    };
    let debian = |name: &str| {
        ["usr/share/nodejs", "usr/lib/nodejs"]
            .iter()
            .find_map(|t| by_dir.get(&format!("{t}/{name}")).copied())
    };
    let mut edges = BTreeSet::new();
    for p in installed {
        let m = p.manifest;
        let names = m.dependencies.iter().map(|(n, _)| n).chain(&m.peers);
        let in_debian =
            p.dir.starts_with("usr/share/nodejs/") || p.dir.starts_with("usr/lib/nodejs/");
        for name in names {
            let found = node_lookup(&p.dir, name, probe)
                .or_else(|| in_debian.then(|| debian(name)).flatten());
            if let Some(j) = found.filter(|&j| j != p.at) {
                edges.insert((packages[p.at].id.clone(), packages[j].id.clone()));
            }
        }
    }
    edges
        .into_iter()
        .map(|(from, to)| Relationship {
            from,
            kind: RelationshipKind::DependsOn,
            to,
        })
        .collect()
}

/// The project an installed package belongs to, as far as lock files go: the nearest
/// directory holding a lock file at or above the directory its outermost `node_modules`
/// is in.
fn project_of<'a>(dir: &str, lock_dirs: &BTreeSet<&'a str>) -> Option<&'a str> {
    let segs: Vec<&str> = dir.split('/').collect();
    let first = segs.iter().position(|s| *s == "node_modules")?;
    let base = segs[..first].join("/");
    let base = base.as_str();
    let mut d = base;
    loop {
        if let Some(found) = lock_dirs.get(d) {
            return Some(found);
        }
        if d.is_empty() {
            return None;
        }
        d = parent(d);
    }
}

/// Lock-file packages (directory scans only: in an image, what is installed is the
/// evidence, and a lock file says only what a build resolved). Each is `Declared`, `dev`
/// as the lock records it, with DEPENDS_ON edges as the lock resolves them.
///
/// When the same project also has its `node_modules` installed, a locked name@version
/// that is installed is not reported again: the installed package wins (it is proof, the
/// lock entry only a declaration) and gets the lock file as a further evidence location
/// (and the lock's dev flag); edges of other locked packages to it point at it. Without
/// this, every package of an installed project would be listed twice.
fn locks(
    view: &FsView,
    projects: &BTreeMap<&str, (FactRef, &Manifest)>,
    installed: &[Installed],
    out: &mut Findings,
) {
    let found = lang::visible::<Lock>(view, LOCK, &mut out.warnings);
    let lock_dirs: BTreeSet<&str> = found.iter().map(|(f, _)| parent(f.path)).collect();
    let mut inst: HashMap<(&str, &str, &str), usize> = HashMap::new();
    for p in installed {
        let pkg = &out.packages[p.at];
        if let Some(proj) = project_of(&p.dir, &lock_dirs) {
            inst.insert((proj, &pkg.name, &pkg.version), p.at);
        }
    }
    let mut packages = Vec::new();
    let mut fold: Vec<(usize, Location, bool)> = Vec::new();
    for (f, lock) in &found {
        let dir = parent(f.path);
        let at = lang::location(f);
        for p in &lock.problems {
            let kind = if p.limit {
                WarningKind::Limit
            } else {
                WarningKind::Malformed
            };
            let mut w = Warning::new(kind, format!("{}: {}", lock.format, p.message))
                .at(at.path.clone(), Some(f.layer))
                .incomplete();
            if let Some(l) = p.lines {
                w = w.lines(l);
            }
            out.warnings.push(w);
        }
        let dev: Vec<bool> = if lock.dev_known {
            lock.entries.iter().map(|e| e.dev).collect()
        } else {
            yarn_dev(lock, projects.get(dir).map(|(_, m)| *m))
        };
        let mut ids: Vec<String> = Vec::with_capacity(lock.entries.len());
        let mut reported = Vec::with_capacity(lock.entries.len());
        for (i, e) in lock.entries.iter().enumerate() {
            let here = Location {
                lines: e.lines,
                ..at.clone()
            };
            if let Some(&k) = inst.get(&(dir, e.name.as_str(), e.version.as_str())) {
                fold.push((k, here, dev[i]));
                ids.push(out.packages[k].id.clone());
                reported.push(false);
                continue;
            }
            // A lock file is one file of a directory scan: its layer is the one layer.
            let mut p = lang::package(
                "npm",
                "npm",
                &e.name,
                &e.version,
                manifest::purl(&e.name, &e.version),
                here.clone(),
                f.layer,
            );
            p.origin = Origin::Declared;
            p.dev = dev[i];
            if let Some(l) = &e.license {
                p.licenses = licenses(
                    std::slice::from_ref(l),
                    manifest::spdx_of(l).map(|x| x.to_string()),
                    &here,
                );
            }
            for (k, v) in [("resolved", &e.resolved), ("integrity", &e.integrity)] {
                if let Some(v) = v {
                    p.metadata.insert(k.into(), v.clone());
                }
            }
            if e.optional {
                p.metadata.insert("optional".into(), "true".into());
            }
            ids.push(p.id.clone());
            reported.push(true);
            packages.push(p);
        }
        let mut edges = BTreeSet::new();
        for (i, e) in lock.entries.iter().enumerate() {
            if !reported[i] {
                continue;
            }
            for &d in &e.deps {
                if let Some(to) = ids.get(d) {
                    edges.insert((ids[i].clone(), to.clone()));
                }
            }
        }
        out.relationships
            .extend(edges.into_iter().map(|(from, to)| Relationship {
                from,
                kind: RelationshipKind::DependsOn,
                to,
            }));
    }
    for (k, here, dev) in fold {
        let p = &mut out.packages[k];
        if !p.evidence.locations.contains(&here) {
            p.evidence.locations.push(here);
        }
        p.dev |= dev;
    }
    out.packages.extend(packages);
}

/// yarn.lock's dev-ness, which it does not record: reachability from the `package.json`
/// beside it (its `devDependencies` against its `dependencies` and
/// `optionalDependencies`). Without that file, nothing is marked dev.
fn yarn_dev(lock: &Lock, project: Option<&Manifest>) -> Vec<bool> {
    let Some(m) = project else {
        return vec![false; lock.entries.len()];
    };
    let roots = |deps: &[(String, String)]| -> Vec<usize> {
        deps.iter()
            .filter_map(|(n, r)| yarn::find(lock, n, r))
            .collect()
    };
    lock::dev_by_reach(&lock.entries, &roots(&m.dependencies), &roots(&m.dev))
}

#[cfg(test)]
mod tests;
