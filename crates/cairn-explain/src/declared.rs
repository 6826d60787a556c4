//! What the image's makers declared against what the scan found: for each declared SBOM
//! (`cairn_catalog::declared`), the packages it declares that the image does not have,
//! the packages the image has that it does not declare, and the versions that disagree —
//! each with its evidence (where the scan found the package, in which layer; which
//! document declared it). Packages are paired as `diff` pairs them (package URL type,
//! namespace, name, architecture).

use crate::diff::{diff, Difference};
use cairn_catalog::declared::Declared;
use cairn_sbom::{Package, Sbom};
use serde::Serialize;

/// One side of a difference: a package as a document or the scan has it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub version: String,
    pub purl: String,
    /// Where it comes from: the scan's evidence (`path (layer N)`), or the declaring
    /// document and the package's id in it.
    pub evidence: Vec<String>,
}

/// A version the document declares that the image has another version of.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct VersionMismatch {
    pub declared: Entry,
    pub found: Entry,
}

/// One declared document compared with the scan.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct DocumentReport {
    pub origin: String,
    /// For a file in the image, the layer that wrote it.
    pub layer: Option<usize>,
    /// Why the document could not be read (then nothing was compared).
    pub error: Option<String>,
    pub notes: Vec<String>,
    pub declared_packages: usize,
    /// Declared, not in the image.
    pub absent: Vec<Entry>,
    /// In the image, not declared.
    pub undeclared: Vec<Entry>,
    /// Declared with another version than the image has.
    pub versions: Vec<VersionMismatch>,
}

impl DocumentReport {
    /// Whether the document and the scan agree on every package.
    pub fn agrees(&self) -> bool {
        self.error.is_none()
            && self.absent.is_empty()
            && self.undeclared.is_empty()
            && self.versions.is_empty()
    }
}

fn found_entry(p: &Package) -> Entry {
    let mut evidence: Vec<String> = p
        .evidence
        .locations
        .iter()
        .map(|l| match l.lines {
            Some((a, b)) => format!("{}:{a}-{b} (layer {})", l.path, l.layer),
            None => format!("{} (layer {})", l.path, l.layer),
        })
        .collect();
    if let Some(i) = p.evidence.introduced_in {
        evidence.push(format!("introduced in layer {i}"));
    }
    Entry {
        name: p.name.clone(),
        version: p.version.clone(),
        purl: p.purl.clone(),
        evidence,
    }
}

fn declared_entry(p: &Package, origin: &str) -> Entry {
    Entry {
        name: p.name.clone(),
        version: p.version.clone(),
        purl: p.purl.clone(),
        evidence: vec![format!("declared by {origin} as {}", p.id)],
    }
}

fn package<'a>(s: &'a Sbom, id: &str) -> Option<&'a Package> {
    s.packages.iter().find(|p| p.id == id)
}

/// Compares one declared document with the scanned SBOM.
pub fn compare(d: &Declared, found: &Sbom) -> DocumentReport {
    let mut r = DocumentReport {
        origin: d.origin.clone(),
        layer: d.layer,
        error: d.error.clone(),
        notes: d.notes.clone(),
        declared_packages: 0,
        absent: Vec::new(),
        undeclared: Vec::new(),
        versions: Vec::new(),
    };
    let Some(declared) = &d.sbom else {
        return r;
    };
    r.declared_packages = declared.packages.len();
    let x = diff(declared, found);
    let side = |diff: &Difference, declared_side: bool| -> Option<Entry> {
        if declared_side {
            let id = &diff.before.as_ref()?.id;
            package(declared, id).map(|p| declared_entry(p, &d.origin))
        } else {
            let id = &diff.after.as_ref()?.id;
            package(found, id).map(found_entry)
        }
    };
    r.absent = x.removed.iter().filter_map(|e| side(e, true)).collect();
    r.undeclared = x.added.iter().filter_map(|e| side(e, false)).collect();
    for e in x.upgraded.iter().chain(&x.downgraded).chain(&x.changed) {
        if let (Some(declared), Some(found)) = (side(e, true), side(e, false)) {
            r.versions.push(VersionMismatch { declared, found });
        }
    }
    r.versions
        .sort_by(|a, b| (&a.found.name, &a.found.version).cmp(&(&b.found.name, &b.found.version)));
    r
}

/// Every declared document compared with the scan.
pub fn report(declared: &[Declared], found: &Sbom) -> Vec<DocumentReport> {
    declared.iter().map(|d| compare(d, found)).collect()
}

/// The entries of declared documents that name a package of `kind` and `name`.
pub fn entries_for(declared: &[Declared], kind: &str, name: &str) -> Vec<Entry> {
    let mut out = Vec::new();
    for d in declared {
        let Some(s) = &d.sbom else { continue };
        for q in &s.packages {
            if q.kind == kind && q.name == name {
                out.push(declared_entry(q, &d.origin));
            }
        }
    }
    out
}

/// Adds to each explanation what the declared documents say of its package.
pub fn annotate(explanations: &mut [crate::explain::Explanation], declared: &[Declared]) {
    for e in explanations {
        e.declared = entries_for(declared, &e.package.kind, &e.package.name);
    }
}
