//! The rule that keeps a package from being reported twice, once by the distribution's
//! package manager and once by a language's: a language record is dropped if and only if
//! every file of its evidence (its metadata files and the files it lists as its own) is
//! owned by an OS package; the OS package keeps the language identity as a merged record
//! that says why. Components read out of an executable are never dropped: when an OS
//! package owns the executable (a Go program shipped in a deb), they become its children
//! (CONTAINS), so the modules compiled into it stay visible.

use cairn_sbom::{MergedRecord, Origin, Package, Relationship, RelationshipKind};
use std::collections::{BTreeMap, BTreeSet};

/// Catalogers whose packages own files for this rule.
fn is_os(p: &Package) -> bool {
    matches!(p.kind.as_str(), "deb" | "rpm" | "apk")
}

pub(crate) fn fold(packages: Vec<Package>, rels: &mut Vec<Relationship>) -> Vec<Package> {
    let mut owner: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, p) in packages.iter().enumerate().filter(|(_, p)| is_os(p)) {
        for f in &p.files {
            owner.entry(f.path.as_str()).or_insert(i);
        }
    }
    if owner.is_empty() {
        return packages;
    }
    // Decide first (borrowing), then move.
    let mut folded: BTreeMap<usize, usize> = BTreeMap::new(); // language package -> OS package
    let mut contained: Vec<(usize, usize)> = Vec::new(); // (OS package, component)
    for (i, p) in packages.iter().enumerate().filter(|(_, p)| !is_os(p)) {
        // Listed files the image does not have (a RECORD naming a script the distribution
        // packager dropped) are no evidence of anything.
        let evidence: BTreeSet<&str> = p
            .evidence
            .locations
            .iter()
            .map(|l| l.path.as_str())
            .chain(
                p.files
                    .iter()
                    .filter(|f| f.layer.is_some())
                    .map(|f| f.path.as_str()),
            )
            .collect();
        let Some(first) = p.evidence.locations.first() else {
            continue;
        };
        let Some(&by) = owner.get(first.path.as_str()) else {
            continue;
        };
        match p.origin {
            Origin::Installed if evidence.iter().all(|f| owner.contains_key(f)) => {
                folded.insert(i, by);
            }
            Origin::Binary => contained.push((by, i)),
            _ => {}
        }
    }
    let ids: Vec<String> = packages.iter().map(|p| p.id.clone()).collect();
    for &(os, c) in &contained {
        rels.push(Relationship {
            from: ids[os].clone(),
            kind: RelationshipKind::Contains,
            to: ids[c].clone(),
        });
    }
    if folded.is_empty() {
        return packages;
    }
    let mut out: Vec<Option<Package>> = packages.into_iter().map(Some).collect();
    let mut renamed: BTreeMap<String, String> = BTreeMap::new();
    for (&lang, &os) in &folded {
        let Some(p) = out[lang].take() else { continue };
        let owner_name = out[os]
            .as_ref()
            .map(|o| format!("{} {}", o.name, o.version))
            .unwrap_or_default();
        let n = p.evidence.locations.len() + p.files.iter().filter(|f| f.layer.is_some()).count();
        let record = MergedRecord {
            reason: format!(
                "every file of its evidence ({n}) is owned by the {} package {owner_name}",
                out[os].as_ref().map(|o| o.kind.as_str()).unwrap_or("OS")
            ),
            name: p.name,
            version: p.version,
            kind: p.kind,
            purl: p.purl,
            cataloger: p.cataloger,
            locations: p.evidence.locations,
        };
        renamed.insert(p.id, ids[os].clone());
        if let Some(o) = out[os].as_mut() {
            o.evidence.merged.push(record);
        }
    }
    // Edges to or from a folded record now concern the package that kept its identity.
    for r in rels.iter_mut() {
        if let Some(to) = renamed.get(&r.from) {
            r.from = to.clone();
        }
        if let Some(to) = renamed.get(&r.to) {
            r.to = to.clone();
        }
    }
    rels.retain(|r| r.from != r.to);
    out.into_iter().flatten().collect()
}
