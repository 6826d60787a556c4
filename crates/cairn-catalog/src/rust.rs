//! Rust: executables built with cargo-auditable (their `.dep-v0` dependency list, the only
//! way to know which crates are inside a Rust binary), and `Cargo.lock` files, in images
//! and directory scans alike, as declared crates.

mod cargo_lock;

use crate::binary::{Executable, Executables, NAME as EXECUTABLES};
use crate::lang::{self, MAX_MANIFEST};
use crate::purl::purl;
use crate::{Cataloger, Context, Findings};
use cairn_buildinfo::AuditData;
use cairn_image::{EntryReader, Extractor, Fact, FactError, FactRef, PathPattern, Probe};
use cairn_sbom::{Location, Origin, Package, Relationship, RelationshipKind};
use std::sync::Arc;

pub(crate) struct Rust;

const CARGO_LOCK: &str = "Cargo.lock";

impl Cataloger for Rust {
    fn name(&self) -> &'static str {
        "rust"
    }
    fn extractors(&self) -> Vec<Arc<dyn Extractor>> {
        vec![Arc::new(Executables), Arc::new(CargoLocks)]
    }
    fn catalog(&self, cx: &Context) -> Findings {
        let mut out = Findings::default();
        for (f, exe) in lang::visible::<Executable>(cx.view, EXECUTABLES, &mut out.warnings) {
            if let Some(audit) = &exe.rust {
                let root = |a: &AuditData| {
                    a.packages
                        .iter()
                        .find(|p| p.root)
                        .map(|p| (p.name.clone(), p.version.clone()))
                };
                let introduced = lang::introduced::<Executable>(cx.view, EXECUTABLES, &f, |e| {
                    e.rust.as_ref().map(root) == Some(root(audit))
                });
                auditable(&f, audit, introduced, &mut out);
            }
        }
        for (f, lock) in
            lang::visible::<cargo_lock::CargoLock>(cx.view, CARGO_LOCK, &mut out.warnings)
        {
            let introduced =
                lang::introduced::<cargo_lock::CargoLock>(cx.view, CARGO_LOCK, &f, |l| l == lock);
            locked(&f, lock, introduced, &mut out);
        }
        out
    }
}

struct CargoLocks;

impl Extractor for CargoLocks {
    fn name(&self) -> &'static str {
        CARGO_LOCK
    }
    fn patterns(&self) -> Vec<PathPattern> {
        vec![PathPattern::new("/**/Cargo.lock")]
    }
    fn extract(&self, _: &Probe, r: &mut EntryReader) -> Result<Option<Fact>, FactError> {
        let bytes = r.read_rest(MAX_MANIFEST)?;
        cargo_lock::CargoLock::parse(&bytes)
            .map(|l| Some(Arc::new(l) as Fact))
            .map_err(FactError::from)
    }
}

/// A crate found at `at`, by the Rust cataloger.
fn crate_package(
    name: &str,
    version: &str,
    at: &Location,
    introduced: usize,
    origin: Origin,
) -> Package {
    let mut p = lang::package(
        "cargo",
        "rust",
        name,
        version,
        purl("cargo", None, name, version, &[]),
        at.clone(),
        introduced,
    );
    p.origin = origin;
    p
}

fn auditable(f: &FactRef, audit: &AuditData, introduced: usize, out: &mut Findings) {
    let at = lang::location(f);
    let ids: Vec<String> = audit
        .packages
        .iter()
        .map(|c| {
            let mut p = crate_package(&c.name, &c.version, &at, introduced, Origin::Binary);
            p.metadata.insert("source".into(), c.source.clone());
            if !c.kind.is_empty() {
                p.metadata.insert("dependency-kind".into(), c.kind.clone());
            }
            // A build dependency (a proc-macro, a build script's crate) ran while the
            // program was compiled and is not in it: needed to build it, not to run it.
            p.dev = c.kind == "build";
            if c.root {
                p.metadata.insert("root".into(), "true".into());
            }
            let id = p.id.clone();
            out.packages.push(p);
            id
        })
        .collect();
    for (c, from) in audit.packages.iter().zip(&ids) {
        for &d in &c.dependencies {
            if let Some(to) = ids.get(d) {
                out.relationships.push(Relationship {
                    from: from.clone(),
                    kind: RelationshipKind::DependsOn,
                    to: to.clone(),
                });
            }
        }
    }
}

fn locked(f: &FactRef, lock: &cargo_lock::CargoLock, introduced: usize, out: &mut Findings) {
    let at = lang::location(f);
    let mut ids = Vec::new();
    for c in &lock.packages {
        let mut p = crate_package(&c.name, &c.version, &at, introduced, Origin::Declared);
        if let Some(s) = &c.source {
            p.metadata.insert("source".into(), s.clone());
        }
        if let Some(s) = &c.checksum {
            p.metadata.insert("checksum-sha256".into(), s.clone());
        }
        ids.push(p.id.clone());
        out.packages.push(p);
    }
    for (c, from) in lock.packages.iter().zip(&ids) {
        for d in &c.dependencies {
            if let Some(i) = lock.resolve(d) {
                out.relationships.push(Relationship {
                    from: from.clone(),
                    kind: RelationshipKind::DependsOn,
                    to: ids[i].clone(),
                });
            }
        }
    }
}
