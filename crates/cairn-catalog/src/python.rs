//! Python: installed distributions wherever they are in the image (system `dist-packages`,
//! `/usr/local`, virtual environments, user site, `/opt/...`, any Python version) in every
//! form an installer leaves — `*.dist-info` (wheels, pip), `*.egg-info` directories and
//! files (setuptools, distutils, Debian's packages), `*.egg/EGG-INFO` (easy_install) —
//! and, in `dir:` scans only, the packages that lock files and pinned requirements files
//! declare.
//!
//! Extractors read the metadata files inside the layer pass into small parsed facts
//! (`python/metadata.rs`, `record.rs`, `beside.rs`, `declared.rs`); `catalog` puts each
//! distribution together from the facts of its directory, with its licenses
//! (`licenses.rs`), owned files, introducing layer and DEPENDS_ON edges to the
//! distributions installed beside it.

mod beside;
mod declared;
mod licenses;
mod metadata;
mod record;

use crate::history::{self, PkgHistory, Refused};
use crate::lang::{self, MAX_MANIFEST};
use crate::purl::purl;
use crate::{Cataloger, Context, Findings, ScanBudget, Warnings};
use beside::Beside;
use cairn_image::{
    EntryReader, Extractor, Fact, FactError, FactRef, FsView, PathPattern, Probe, SourceKind,
};
use cairn_sbom::{
    FileDigest, Location, Origin, OwnedFile, Package, PackageChange, PackageChangeKind, Warning,
    WarningKind,
};
use declared::{Declared, Format};
use metadata::Metadata;
use record::FileList;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

pub(crate) struct Python;

/// Extractor names (facts are asked of the view by these).
const METADATA: &str = "python-metadata";
const FILES: &str = "python-files";
const BESIDE: &str = "python-beside";
const LOCKS: &str = "python-locks";

/// `Project-URL`s kept in a package's metadata.
const MAX_PROJECT_URLS: usize = 16;

/// PEP 503 normalization, which pip and PyPI compare names by and the pypi purl type
/// requires: lowercase, every run of `-`, `_` and `.` one `-`.
pub(crate) fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
            continue;
        }
        if sep && !out.is_empty() {
            out.push('-');
        }
        sep = false;
        out.extend(c.to_lowercase());
    }
    out
}

impl Cataloger for Python {
    fn name(&self) -> &'static str {
        "python"
    }

    fn extractors(&self) -> Vec<Arc<dyn Extractor>> {
        vec![
            Arc::new(MetadataX),
            Arc::new(FilesX),
            Arc::new(BesideX),
            Arc::new(LocksX),
        ]
    }

    fn catalog(&self, cx: &Context) -> Findings {
        catalog_view(cx.view, cx.image.kind, cx.budget)
    }
}

fn patterns(list: &[&str]) -> Vec<PathPattern> {
    list.iter().map(|p| PathPattern::new(p)).collect()
}

/// Core metadata: only where an installer puts it (a `METADATA` outside a `.dist-info`
/// directory, or a `PKG-INFO` outside an egg, describes no installed distribution).
struct MetadataX;
impl Extractor for MetadataX {
    fn name(&self) -> &'static str {
        METADATA
    }
    fn patterns(&self) -> Vec<PathPattern> {
        patterns(&[
            "/**/*.dist-info/METADATA",
            "/**/*.egg-info/PKG-INFO",
            "/**/*.egg/EGG-INFO/PKG-INFO",
            // distutils' `install_egg_info` writes the metadata as one file.
            "/**/*.egg-info",
        ])
    }
    fn extract(&self, _: &Probe, r: &mut EntryReader) -> Result<Option<Fact>, FactError> {
        let bytes = r.read_rest(MAX_MANIFEST)?;
        Ok(Some(Arc::new(metadata::parse(&bytes)?)))
    }
}

/// The files a distribution lists.
struct FilesX;
impl Extractor for FilesX {
    fn name(&self) -> &'static str {
        FILES
    }
    fn patterns(&self) -> Vec<PathPattern> {
        patterns(&[
            "/**/*.dist-info/RECORD",
            "/**/*.egg-info/installed-files.txt",
        ])
    }
    fn extract(&self, p: &Probe, r: &mut EntryReader) -> Result<Option<Fact>, FactError> {
        let bytes = r.read_rest(MAX_MANIFEST)?;
        let list = if p.file_name() == "RECORD" {
            record::parse_record(&bytes)?
        } else {
            record::parse_installed_files(&bytes)?
        };
        Ok(Some(Arc::new(list)))
    }
}

struct BesideX;
impl Extractor for BesideX {
    fn name(&self) -> &'static str {
        BESIDE
    }
    fn patterns(&self) -> Vec<PathPattern> {
        patterns(&[
            "/**/*.dist-info/INSTALLER",
            "/**/*.dist-info/direct_url.json",
            "/**/*.dist-info/top_level.txt",
            "/**/*.egg-info/top_level.txt",
            "/**/*.egg-info/requires.txt",
            "/**/*.egg/EGG-INFO/top_level.txt",
            "/**/*.egg/EGG-INFO/requires.txt",
        ])
    }
    fn extract(&self, p: &Probe, r: &mut EntryReader) -> Result<Option<Fact>, FactError> {
        let bytes = r.read_rest(beside::MAX_BESIDE)?;
        Ok(Some(Arc::new(beside::parse(p.file_name(), &bytes)?)))
    }
}

/// Lock files and requirements files. They are read in images too (an extractor does not
/// know the kind of source), but only a `dir:` scan reports them.
struct LocksX;
impl Extractor for LocksX {
    fn name(&self) -> &'static str {
        LOCKS
    }
    fn patterns(&self) -> Vec<PathPattern> {
        patterns(&[
            // requirements.txt, requirements-dev.txt, dev-requirements.txt, ...
            "/**/*requirements*.txt",
            "/**/requirements/*.txt",
            "/**/poetry.lock",
            "/**/Pipfile.lock",
            "/**/uv.lock",
            "/**/pdm.lock",
            "/**/pylock.toml",
            "/**/pylock.*.toml",
        ])
    }
    fn extract(&self, p: &Probe, r: &mut EntryReader) -> Result<Option<Fact>, FactError> {
        let Some(format) = Format::of(p.path) else {
            return Ok(None);
        };
        let bytes = r.read_rest(MAX_MANIFEST)?;
        Ok(Some(Arc::new(declared::parse(format, &bytes)?)))
    }
}

/// Where a distribution's metadata sits and what that makes of the directories around it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Layout {
    /// The `.dist-info` / `.egg-info` / `EGG-INFO` directory (none for an egg-info file).
    info_dir: Option<String>,
    /// The directory on `sys.path` it is installed in (site-packages, dist-packages, ...).
    site: String,
    /// For an egg: the `.egg` directory, all of whose files are the distribution's.
    egg: Option<String>,
}

fn parent(p: &str) -> &str {
    p.rsplit_once('/').map_or("", |(d, _)| d)
}

impl Layout {
    /// From a metadata path without its leading `/`.
    fn of(path: &str) -> Option<Layout> {
        if path.ends_with(".dist-info/METADATA") || path.ends_with(".egg-info/PKG-INFO") {
            let info = parent(path);
            return Some(Layout {
                info_dir: Some(info.to_owned()),
                site: parent(info).to_owned(),
                egg: None,
            });
        }
        if path.ends_with("/EGG-INFO/PKG-INFO") {
            let info = parent(path);
            let egg = parent(info);
            return egg.ends_with(".egg").then(|| Layout {
                info_dir: Some(info.to_owned()),
                site: parent(egg).to_owned(),
                egg: Some(egg.to_owned()),
            });
        }
        path.ends_with(".egg-info").then(|| Layout {
            info_dir: None,
            site: parent(path).to_owned(),
            egg: None,
        })
    }

    /// The environment a site directory belongs to, for resolving requirements a
    /// distribution's own directory does not meet: a system Python sees its
    /// distribution's `dist-packages` and `/usr/local`'s together; any other directory
    /// (a virtual environment, a `--target`, `/opt/...`) is one environment.
    fn environment(&self) -> String {
        let s = self.site.as_str();
        let under = [
            "usr/lib/",
            "usr/lib64/",
            "usr/local/lib/",
            "usr/local/lib64/",
        ]
        .iter()
        .find_map(|p| s.strip_prefix(p));
        if let Some(rest) = under {
            if let Some((py, tail)) = rest.split_once('/') {
                let major = py.strip_prefix("python").and_then(|v| v.chars().next());
                if let (Some(m), "site-packages" | "dist-packages") = (major, tail) {
                    return format!("system python{m}");
                }
            }
        }
        format!("/{s}")
    }
}

/// Join a path a distribution lists (relative to `base`, or absolute) into an absolute
/// image path. `..` at the root stays at the root, as in the kernel.
fn join(base: &str, listed: &str) -> String {
    let mut parts: Vec<&str> = if listed.starts_with('/') {
        Vec::new()
    } else {
        base.split('/').filter(|s| !s.is_empty()).collect()
    };
    for seg in listed.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    format!("/{}", parts.join("/"))
}

/// The packages of the view. `catalog` calls it; tests call it on views built in memory.
pub(crate) fn catalog_view(view: &FsView, kind: SourceKind, budget: &ScanBudget) -> Findings {
    let mut out = Findings::default();
    let metas = lang::visible::<Metadata>(view, METADATA, &mut out.warnings);
    let files: BTreeMap<&str, (FactRef, &FileList)> =
        lang::visible::<FileList>(view, FILES, &mut out.warnings)
            .into_iter()
            .map(|(f, l)| (f.path, (f, l)))
            .collect();
    let besides: BTreeMap<&str, (FactRef, &Beside)> =
        lang::visible::<Beside>(view, BESIDE, &mut out.warnings)
            .into_iter()
            .map(|(f, b)| (f.path, (f, b)))
            .collect();
    let earlier = earlier_versions(view);
    // (environment key, normalized name) -> ids; each need is tried in the site
    // directory first, then in the environment.
    let mut providers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut needs: Vec<(String, Vec<String>)> = Vec::new();
    for (f, m) in metas {
        let Some(layout) = Layout::of(f.path) else {
            continue;
        };
        let d = Dist {
            view,
            f,
            m,
            layout,
            files: &files,
            besides: &besides,
        };
        let (pkg, requires) = d.package(budget, &earlier, &mut out.warnings);
        let env = d.layout.environment();
        let site = format!("/{}", d.layout.site);
        let norm = normalize(&m.name);
        let mut keys = vec![&site];
        if env != site {
            keys.push(&env);
        }
        for key in keys {
            providers
                .entry(format!("{key}\0{norm}"))
                .or_default()
                .push(pkg.id.clone());
        }
        for r in requires {
            needs.push((
                pkg.id.clone(),
                vec![format!("{site}\0{r}"), format!("{env}\0{r}")],
            ));
        }
        out.packages.push(pkg);
    }
    out.relationships
        .extend(crate::depends_on(needs, &providers));
    removed_dists(
        view, &files, &besides, budget, &earlier, &providers, &mut out,
    );
    if lang::is_dir_scan(kind) {
        declared_packages(view, &mut out);
    }
    out
}

/// Distributions a later layer uninstalled: their metadata removed, and no distribution of
/// the same name in the same site directory now (that would be an upgrade, told as a
/// version change of the new one).
fn removed_dists(
    view: &FsView,
    files: &BTreeMap<&str, (FactRef, &FileList)>,
    besides: &BTreeMap<&str, (FactRef, &Beside)>,
    budget: &ScanBudget,
    earlier: &Earlier,
    providers: &BTreeMap<String, Vec<String>>,
    out: &mut Findings,
) {
    for (f, m, gone) in lang::removed::<Metadata>(view, METADATA) {
        let Some(layout) = Layout::of(f.path) else {
            continue;
        };
        let site = format!("/{}", layout.site);
        if providers.contains_key(&format!("{site}\0{}", normalize(&m.name))) {
            continue;
        }
        let d = Dist {
            view,
            f,
            m,
            layout,
            files,
            besides,
        };
        let mut ignored = Warnings::default();
        let (mut pkg, _) = d.package(budget, earlier, &mut ignored);
        lang::mark_removed(&mut pkg, gone);
        out.removed.push(pkg);
    }
}

/// One installed distribution, with the facts around it.
struct Dist<'a> {
    view: &'a FsView,
    f: FactRef<'a>,
    m: &'a Metadata,
    layout: Layout,
    files: &'a BTreeMap<&'a str, (FactRef<'a>, &'a FileList)>,
    besides: &'a BTreeMap<&'a str, (FactRef<'a>, &'a Beside)>,
}

/// Every version of every distribution's metadata that is no longer visible, by site
/// directory and normalized name: (layer, version) of what an upgrade replaced.
type Earlier = BTreeMap<(String, String), Vec<(usize, String)>>;

fn earlier_versions(view: &FsView) -> Earlier {
    let mut out: Earlier = BTreeMap::new();
    for f in view.facts(METADATA).filter(|f| !f.visible) {
        let (Some(m), Some(l)) = (f.get::<Metadata>(), Layout::of(f.path)) else {
            continue;
        };
        out.entry((l.site, normalize(&m.name)))
            .or_default()
            .push((f.layer, m.version.clone()));
    }
    out
}

impl Dist<'_> {
    fn beside(&self, name: &str) -> Option<(FactRef<'_>, &Beside)> {
        let dir = self.layout.info_dir.as_deref()?;
        self.besides
            .get(format!("{dir}/{name}").as_str())
            .map(|(f, b)| (*f, *b))
    }

    /// The package, and the normalized names of what it requires.
    fn package(
        &self,
        budget: &ScanBudget,
        earlier: &Earlier,
        warnings: &mut Warnings,
    ) -> (Package, Vec<String>) {
        let (m, f) = (self.m, &self.f);
        let at = lang::location(f);
        let norm = normalize(&m.name);
        let version = m.version.trim();
        let purl = purl("pypi", None, &norm, version, &[]);
        let introduced = lang::introduced(self.view, METADATA, f, |o: &Metadata| {
            normalize(&o.name) == norm && o.version.trim() == version
        });
        let mut p = lang::package(
            "pypi",
            "python",
            m.name.trim(),
            version,
            purl,
            at.clone(),
            introduced,
        );
        for problem in &m.problems {
            warnings.push(
                Warning::new(WarningKind::Malformed, problem.clone())
                    .at(at.path.clone(), Some(at.layer))
                    .package(&p.id),
            );
        }
        p.licenses = licenses::licenses(m, &at);
        p.metadata = self.metadata();
        p.maintainer = supplier(m);
        let mut requires = m.requires.clone();
        let mut written_in = BTreeSet::from([f.layer]);
        let mut locations = Vec::new();
        for name in [
            "INSTALLER",
            "direct_url.json",
            "top_level.txt",
            "requires.txt",
        ] {
            let Some((bf, b)) = self.beside(name) else {
                continue;
            };
            locations.push(lang::location(&bf));
            match b {
                Beside::Installer(i) => {
                    p.metadata.insert("installer".into(), i.clone());
                }
                Beside::DirectUrl(d) => {
                    p.metadata.insert("direct_url".into(), d.url.clone());
                    if d.editable {
                        p.metadata.insert("editable".into(), "true".into());
                    }
                    if let Some((vcs, commit)) = &d.vcs {
                        p.metadata.insert("vcs".into(), vcs.clone());
                        p.metadata.insert("commit".into(), commit.clone());
                    }
                }
                Beside::TopLevel(t) => {
                    p.metadata.insert("top_level".into(), t.join(","));
                }
                Beside::Requires(r) => {
                    for n in r {
                        if !requires.contains(n) {
                            requires.push(n.clone());
                        }
                    }
                }
            }
        }
        let (files, list_at) = self.owned_files(&p.id, budget, &mut p.files_truncated, warnings);
        if let Some(l) = list_at {
            written_in.insert(l.layer);
            p.evidence.locations.push(l);
        }
        p.evidence.locations.extend(locations);
        p.files = files;
        // What a later layer did: an upgrade that replaced an older version in the same
        // directory, and changes to the owned files that no rewrite of the metadata or
        // file list accounts for.
        if let Some((_, old)) = earlier
            .get(&(self.layout.site.clone(), norm.clone()))
            .and_then(|v| {
                v.iter()
                    .filter(|(l, old)| *l < introduced && old.trim() != version)
                    .max_by_key(|(l, _)| *l)
            })
        {
            p.evidence.changes.push(PackageChange {
                layer: introduced,
                kind: PackageChangeKind::VersionChanged,
                from_version: Some(old.trim().to_owned()),
                to_version: Some(version.to_owned()),
                paths: vec![],
            });
        }
        let h = PkgHistory {
            introduced,
            settled_at: introduced,
            changes: vec![],
            db_layers: written_in,
        };
        p.evidence
            .changes
            .extend(history::file_changes(self.view, &p.files, &h));
        requires.retain(|r| *r != norm);
        (p, requires)
    }

    fn metadata(&self) -> BTreeMap<String, String> {
        let m = self.m;
        let mut md = BTreeMap::new();
        let mut put = |k: &str, v: &Option<String>| {
            if let Some(v) = v {
                md.insert(k.to_owned(), v.clone());
            }
        };
        put("summary", &m.summary);
        put("author", &m.author);
        put("author_email", &m.author_email);
        put("maintainer", &m.maintainer);
        put("requires_python", &m.requires_python);
        let homepage = m.home_page.clone().or_else(|| {
            m.project_urls
                .iter()
                .find(|(l, _)| matches!(normalize(l).as_str(), "homepage" | "home" | "home-page"))
                .map(|(_, u)| u.clone())
        });
        put("homepage", &homepage);
        for (label, url) in m.project_urls.iter().take(MAX_PROJECT_URLS) {
            md.insert(format!("project_url:{label}"), url.clone());
        }
        md.insert("site_packages".into(), format!("/{}", self.layout.site));
        md
    }

    /// The files RECORD or installed-files.txt lists (or, for an egg, every file in it),
    /// under one owned-file budget from the scan's, and where the list was read.
    fn owned_files(
        &self,
        id: &str,
        budget: &ScanBudget,
        truncated: &mut bool,
        warnings: &mut Warnings,
    ) -> (Vec<OwnedFile>, Option<Location>) {
        let mut listed: Vec<(String, Option<FileDigest>)> = Vec::new();
        let mut list_at = None;
        let mut b = budget.database();
        let mut refused = Refused::default();
        let at = lang::location(&self.f);
        if let Some(info) = self.layout.info_dir.as_deref() {
            let (name, base) = if info.ends_with(".dist-info") {
                ("RECORD", self.layout.site.as_str())
            } else {
                ("installed-files.txt", info)
            };
            if let Some((lf, list)) = self.files.get(format!("{info}/{name}").as_str()) {
                let l_at = lang::location(lf);
                if list.bad_rows > 0 {
                    let (line, first) = &list.problems[0];
                    warnings.push(
                        Warning::new(
                            WarningKind::Malformed,
                            format!(
                                "{} malformed row(s) left out, the first: {first}",
                                list.bad_rows
                            ),
                        )
                        .at(l_at.path.clone(), Some(l_at.layer))
                        .lines((*line, *line))
                        .package(id)
                        .incomplete(),
                    );
                }
                for e in &list.files {
                    let path = join(base, &e.path);
                    if !refused.allows(&path, None) {
                        continue;
                    }
                    if !b.take(path.len()) {
                        *truncated = true;
                        break;
                    }
                    let digest = e.digest.as_ref().map(|(a, v)| FileDigest {
                        algorithm: a.clone(),
                        value: v.clone(),
                    });
                    listed.push((path, digest));
                }
                list_at = Some(l_at);
            }
        }
        if let Some(egg) = &self.layout.egg {
            let under = PathPattern::new(&format!("/{egg}/**"));
            let prefix = format!("{egg}/");
            for (path, node) in self.view.glob(&under) {
                // The pattern's `*`/`?` would be wildcards if the egg's name had them.
                if node.kind != cairn_image::NodeKind::File || !path.starts_with(&prefix) {
                    continue;
                }
                let path = format!("/{path}");
                if !b.take(path.len()) {
                    *truncated = true;
                    break;
                }
                listed.push((path, None));
            }
        }
        budget.give_back(b);
        if let Some(w) = refused.warning(list_at.as_ref().unwrap_or(&at)) {
            warnings.push(w.package(id));
        }
        if *truncated {
            warnings.push(history::truncated(list_at.as_ref().unwrap_or(&at)).package(id));
        }
        listed.sort_by(|a, b| a.0.cmp(&b.0));
        listed.dedup_by(|a, b| a.0 == b.0);
        let files = listed
            .into_iter()
            .map(|(path, digest)| OwnedFile {
                layer: history::live_layer(self.view, &path),
                path,
                digest,
            })
            .collect();
        (files, list_at)
    }
}

/// Packages the lock files and requirements files of a directory declare, with the
/// dependencies each lock file records resolved within that file.
fn declared_packages(view: &FsView, out: &mut Findings) {
    for (f, d) in lang::visible::<Declared>(view, LOCKS, &mut out.warnings) {
        let at = lang::location(&f);
        if d.truncated {
            out.warnings.push(
                Warning::new(
                    WarningKind::Limit,
                    format!(
                        "more than {} packages; the rest are left out",
                        declared::MAX_LOCK_PACKAGES
                    ),
                )
                .at(at.path.clone(), Some(at.layer))
                .incomplete(),
            );
        }
        let mut by_name: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut needs = Vec::new();
        for p in &d.packages {
            let norm = normalize(&p.name);
            let purl = purl("pypi", None, &norm, &p.version, &[]);
            let loc = Location {
                lines: p.line.map(|l| (l, l)),
                ..at.clone()
            };
            let intro = lang::introduced(view, LOCKS, &f, |o: &Declared| {
                o.packages
                    .iter()
                    .any(|q| normalize(&q.name) == norm && q.version == p.version)
            });
            let mut pkg = lang::package("pypi", "python", &p.name, &p.version, purl, loc, intro);
            pkg.origin = Origin::Declared;
            pkg.dev = p.dev;
            by_name.entry(norm).or_default().push(pkg.id.clone());
            needs.push((pkg.id.clone(), p.deps.clone()));
            out.packages.push(pkg);
        }
        out.relationships.extend(crate::depends_on(needs, &by_name));
    }
}

#[cfg(test)]
mod tests;

/// Who supplies a distribution: its `Maintainer`, else its `Author`, with the
/// `Author-email` (which may itself be `Name <address>`, or only the address).
fn supplier(m: &metadata::Metadata) -> Option<String> {
    let clean = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty() && !v.eq_ignore_ascii_case("unknown"))
            .map(str::to_owned)
    };
    if let Some(m) = clean(&m.maintainer) {
        return Some(m);
    }
    match (clean(&m.author), clean(&m.author_email)) {
        (Some(a), Some(e)) if !e.contains('<') => Some(format!("{a} <{e}>")),
        (_, Some(e)) if e.contains('<') => Some(e),
        (Some(a), _) => Some(a),
        (None, Some(e)) => Some(e),
        (None, None) => None,
    }
}
