//! Java: archives (`.jar`, `.war`, `.ear`, ... and the archives nested in them, Spring
//! Boot's `BOOT-INF/lib` and a web application's `WEB-INF/lib`), each identified by the
//! Maven metadata, manifest or version file it holds (see [`archive`]), and Java runtimes
//! by their `release` file.

mod archive;
mod jvm;
mod manifest;
mod pom;

use crate::lang;
use crate::license;
use crate::purl::purl;
use crate::{Cataloger, Context, Findings};
use archive::{Archive, JavaPackage};
use cairn_image::{EntryReader, Extractor, Fact, FactError, FactRef, FsView, PathPattern, Probe};
use cairn_sbom::{Package, Relationship, RelationshipKind, Warning, WarningKind};
use std::sync::Arc;

#[allow(unused_imports)]
pub(crate) use archive::{
    IN_MEMORY, MAX_ARCHIVE, MAX_DEPTH, MAX_ENTRIES, MAX_INFLATED, MAX_METADATA, MAX_NESTED,
    MAX_POMS,
};

pub(crate) struct Java;

const ARCHIVES: &str = "java-archive";
const RELEASE: &str = "java-release";

impl Cataloger for Java {
    fn name(&self) -> &'static str {
        "java"
    }
    fn extractors(&self) -> Vec<Arc<dyn Extractor>> {
        vec![Arc::new(Archives), Arc::new(Releases)]
    }
    fn catalog(&self, cx: &Context) -> Findings {
        catalog_view(cx.view)
    }
}

struct Archives;

impl Extractor for Archives {
    fn name(&self) -> &'static str {
        ARCHIVES
    }
    fn patterns(&self) -> Vec<PathPattern> {
        archive::EXTENSIONS
            .iter()
            .map(|e| PathPattern::new(&format!("/**/*.{e}")))
            .collect()
    }
    fn extract(&self, p: &Probe, r: &mut EntryReader) -> Result<Option<Fact>, FactError> {
        archive::read(p.file_name(), r).map(|a| Some(Arc::new(a) as Fact))
    }
}

struct Releases;

impl Extractor for Releases {
    fn name(&self) -> &'static str {
        RELEASE
    }
    fn patterns(&self) -> Vec<PathPattern> {
        vec![PathPattern::new("/**/release")]
    }
    fn extract(&self, p: &Probe, r: &mut EntryReader) -> Result<Option<Fact>, FactError> {
        if p.size > jvm::MAX_RELEASE {
            return Ok(None); // not a Java runtime's
        }
        let bytes = r.read_rest(jvm::MAX_RELEASE)?;
        Ok(jvm::Release::parse(&bytes).map(|r| Arc::new(r) as Fact))
    }
}

pub(crate) fn catalog_view(view: &FsView) -> Findings {
    let mut out = Findings::default();
    for (f, a) in lang::visible::<Archive>(view, ARCHIVES, &mut out.warnings) {
        for p in &a.problems {
            let at = if p.at.is_empty() {
                format!("/{}", f.path)
            } else {
                format!("/{}!/{}", f.path, p.at)
            };
            let kind = if p.over_limit {
                WarningKind::Limit
            } else {
                WarningKind::Malformed
            };
            out.warnings.push(
                Warning::new(kind, format!("java: {at}: {}", p.message))
                    .at(at, Some(f.layer))
                    .incomplete(),
            );
        }
        let introduced =
            lang::introduced::<Archive>(view, ARCHIVES, &f, |g| g.packages == a.packages);
        let (packages, rels) = packages(&f, a, introduced);
        out.packages.extend(packages);
        out.relationships.extend(rels);
    }
    for (f, a, layer) in lang::removed::<Archive>(view, ARCHIVES) {
        let (packages, _) = packages(&f, a, f.layer);
        for mut p in packages {
            lang::mark_removed(&mut p, layer);
            out.removed.push(p);
        }
    }
    for (f, r) in lang::visible::<jvm::Release>(view, RELEASE, &mut out.warnings) {
        let introduced = lang::introduced::<jvm::Release>(view, RELEASE, &f, |g| g == r);
        out.packages.push(runtime(view, &f, r, introduced));
    }
    out
}

/// The packages of one archive, with CONTAINS from each archive to what it holds.
fn packages(f: &FactRef, a: &Archive, introduced: usize) -> (Vec<Package>, Vec<Relationship>) {
    let at = lang::location(f);
    let mut out: Vec<Package> = Vec::new();
    let mut rels = Vec::new();
    for jp in &a.packages {
        let p = package(jp, &at, introduced);
        if let Some(parent) = jp.parent.and_then(|i| out.get(i)) {
            rels.push(Relationship {
                from: parent.id.clone(),
                kind: RelationshipKind::Contains,
                to: p.id.clone(),
            });
        }
        out.push(p);
    }
    if let Some(top) = out.first_mut() {
        for (i, (file, coordinates)) in a.not_shipped.iter().enumerate() {
            top.metadata.insert(
                format!("not-shipped-{}", i + 1),
                format!("{coordinates} ({file}: Maven metadata without the library's classes)"),
            );
        }
    }
    (out, rels)
}

fn package(jp: &JavaPackage, at: &cairn_sbom::Location, introduced: usize) -> Package {
    let purl = purl("maven", jp.group.as_deref(), &jp.artifact, &jp.version, &[]);
    let mut p = lang::package(
        "maven",
        "java",
        &jp.artifact,
        &jp.version,
        purl,
        at.clone(),
        introduced,
    );
    if !jp.inner.is_empty() {
        p.id = format!("{}!/{}", p.id, jp.inner);
    }
    p.licenses = license::any_of(&jp.licenses, at);
    let md = &mut p.metadata;
    if let Some(g) = &jp.group {
        md.insert("group-id".into(), g.clone());
    }
    md.insert("artifact-id".into(), jp.artifact.clone());
    if !jp.inner.is_empty() {
        md.insert("path-in-archive".into(), jp.inner.clone());
    }
    md.insert("identified-by".into(), jp.identified_by.as_str().into());
    md.insert("version-from".into(), jp.version_from.as_str().into());
    if jp.shaded {
        md.insert("shaded".into(), "true".into());
    }
    for (k, v) in [
        ("title", &jp.title),
        ("description", &jp.description),
        ("homepage", &jp.url),
    ] {
        if let Some(v) = v {
            md.insert(k.into(), v.clone());
        }
    }
    p
}

/// A Java runtime from its `release` file: a JDK if `bin/javac` is beside it.
fn runtime(view: &FsView, f: &FactRef, r: &jvm::Release, introduced: usize) -> Package {
    let dir = f.path.rsplit_once('/').map_or("", |(d, _)| d);
    let jdk = view.get(&format!("{dir}/bin/javac")).is_some();
    let version = r.version();
    let mut p = lang::package(
        "generic",
        "java",
        "openjdk",
        version,
        purl("generic", None, "openjdk", version, &[]),
        lang::location(f),
        introduced,
    );
    let md = &mut p.metadata;
    md.insert("installation".into(), format!("/{dir}"));
    md.insert(
        "image-type".into(),
        r.get("IMAGE_TYPE")
            .map(str::to_owned)
            .unwrap_or_else(|| if jdk { "JDK" } else { "JRE" }.into()),
    );
    for (k, key) in [
        ("implementor", "IMPLEMENTOR"),
        ("implementor-version", "IMPLEMENTOR_VERSION"),
        ("java-runtime-version", "JAVA_RUNTIME_VERSION"),
        ("java-version-date", "JAVA_VERSION_DATE"),
    ] {
        if let Some(v) = r.get(key) {
            md.insert(k.into(), v.into());
        }
    }
    p.maintainer = r.get("IMPLEMENTOR").map(str::to_owned);
    p
}

#[cfg(test)]
mod tests;
