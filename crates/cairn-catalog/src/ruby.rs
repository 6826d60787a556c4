//! Ruby: installed gems by their specifications (`GEM_HOME/specifications/*.gemspec`, the
//! default gems in `specifications/default/`, Debian's `rubygems-integration` trees), and
//! in directory scans Bundler's `Gemfile.lock` as declared gems.

mod gemfile_lock;
mod gemspec;

use crate::lang::{self, MAX_MANIFEST};
use crate::license;
use crate::purl::purl;
use crate::{Cataloger, Context, Findings};
use cairn_image::{
    EntryReader, Extractor, Fact, FactError, FsView, PathPattern, Probe, SourceKind,
};
use cairn_sbom::{Location, Origin, Package};
use gemfile_lock::GemfileLock;
use gemspec::Gemspec;
use std::collections::BTreeMap;
use std::sync::Arc;

pub(crate) struct Ruby;

const GEMSPEC: &str = "gemspec";
const GEMFILE_LOCK: &str = "Gemfile.lock";

impl Cataloger for Ruby {
    fn name(&self) -> &'static str {
        "ruby"
    }
    fn extractors(&self) -> Vec<Arc<dyn Extractor>> {
        vec![Arc::new(Gemspecs), Arc::new(Locks)]
    }
    fn catalog(&self, cx: &Context) -> Findings {
        catalog_view(cx.view, cx.image.kind)
    }
}

struct Gemspecs;

impl Extractor for Gemspecs {
    fn name(&self) -> &'static str {
        GEMSPEC
    }
    fn patterns(&self) -> Vec<PathPattern> {
        vec![
            PathPattern::new("/**/specifications/*.gemspec"),
            PathPattern::new("/**/specifications/default/*.gemspec"),
        ]
    }
    fn extract(&self, _: &Probe, r: &mut EntryReader) -> Result<Option<Fact>, FactError> {
        let bytes = r.read_rest(MAX_MANIFEST)?;
        Gemspec::parse(&bytes)
            .map(|g| Some(Arc::new(g) as Fact))
            .map_err(FactError::from)
    }
}

struct Locks;

impl Extractor for Locks {
    fn name(&self) -> &'static str {
        GEMFILE_LOCK
    }
    fn patterns(&self) -> Vec<PathPattern> {
        vec![PathPattern::new("/**/Gemfile.lock")]
    }
    fn extract(&self, _: &Probe, r: &mut EntryReader) -> Result<Option<Fact>, FactError> {
        let bytes = r.read_rest(MAX_MANIFEST)?;
        GemfileLock::parse(&bytes)
            .map(|l| Some(Arc::new(l) as Fact))
            .map_err(FactError::from)
    }
}

/// A gem's version and platform: `1.15.4-x86_64-linux` is 1.15.4 for x86_64-linux (a gem
/// version has no `-`).
fn version_platform(v: &str) -> (&str, &str) {
    v.split_once('-').unwrap_or((v, ""))
}

fn gem_purl(name: &str, version: &str) -> String {
    let (v, platform) = version_platform(version);
    purl("gem", None, name, v, &[("platform", platform)])
}

/// A gem found at `at`: `version` may carry a platform (`1.15.4-x86_64-linux`), which goes
/// into the purl, not the version.
fn gem_package(name: &str, version: &str, at: Location, introduced: usize) -> Package {
    lang::package(
        "gem",
        "ruby",
        name,
        version_platform(version).0,
        gem_purl(name, version),
        at,
        introduced,
    )
}

pub(crate) fn catalog_view(view: &FsView, kind: SourceKind) -> Findings {
    let mut out = Findings::default();
    let mut providers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut needs = Vec::new();
    for (f, g) in lang::visible::<Gemspec>(view, GEMSPEC, &mut out.warnings) {
        let introduced = lang::introduced::<Gemspec>(view, GEMSPEC, &f, |h| {
            h.name == g.name && h.version == g.version
        });
        let at = lang::location(&f);
        let mut p = gem_package(&g.name, &g.version, at.clone(), introduced);
        p.licenses = license::any_of(&g.licenses, &at);
        if !g.authors.is_empty() {
            p.maintainer = Some(g.authors.join(", "));
        }
        for (k, v) in [("homepage", &g.homepage), ("summary", &g.summary)] {
            if let Some(v) = v {
                p.metadata.insert(k.into(), v.clone());
            }
        }
        // Dependencies resolve among the gems of the same specifications directory (and
        // its `default/` one).
        let dir = f.path.rsplit_once('/').map_or("", |(d, _)| d);
        let home = dir.strip_suffix("/default").unwrap_or(dir).to_owned();
        providers
            .entry(format!("{home}\0{}", g.name))
            .or_default()
            .push(p.id.clone());
        for d in &g.dependencies {
            needs.push((p.id.clone(), vec![format!("{home}\0{d}")]));
        }
        out.packages.push(p);
    }
    out.relationships
        .extend(crate::depends_on(needs, &providers));
    for (f, g, layer) in lang::removed::<Gemspec>(view, GEMSPEC) {
        let mut p = gem_package(&g.name, &g.version, lang::location(&f), f.layer);
        lang::mark_removed(&mut p, layer);
        out.removed.push(p);
    }
    if lang::is_dir_scan(kind) {
        for (f, lock) in lang::visible::<GemfileLock>(view, GEMFILE_LOCK, &mut out.warnings) {
            let introduced = lang::introduced::<GemfileLock>(view, GEMFILE_LOCK, &f, |l| l == lock);
            let at = lang::location(&f);
            let mut ids: BTreeMap<&str, String> = BTreeMap::new();
            for g in &lock.gems {
                let mut p = gem_package(&g.name, &g.version, at.clone(), introduced);
                p.origin = Origin::Declared;
                p.metadata.insert("source".into(), g.source.clone());
                if let Some(r) = &g.remote {
                    p.metadata.insert("remote".into(), r.clone());
                }
                ids.insert(&g.name, p.id.clone());
                out.packages.push(p);
            }
            out.relationships.extend(lang::edges_by_name(
                &ids,
                lock.gems
                    .iter()
                    .map(|g| (g.name.as_str(), g.dependencies.as_slice())),
            ));
        }
    }
    out
}
