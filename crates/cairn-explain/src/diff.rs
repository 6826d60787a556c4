//! Two SBOMs (of two images, or read back from files) package by package: what was added,
//! removed, upgraded, downgraded or relicensed, each difference tied to the layer of the
//! second image that caused it, and a change the base image brought told apart from one
//! the image's own layers made.
//!
//! Packages are paired by identity — package URL type, namespace, name and architecture —
//! so that a version bump is an upgrade, not an addition and a removal; versions are
//! ordered by each ecosystem's own rules (`cairn_catalog::compare_versions`).

use crate::{LayerRef, PackageRef};
use cairn_sbom::{Package, Sbom};
use serde::Serialize;
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// What changed, and why.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Difference {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub arch: Option<String>,
    /// The package in the first SBOM, if it has it.
    pub before: Option<PackageRef>,
    /// The package in the second SBOM, if it has it.
    pub after: Option<PackageRef>,
    /// The layer of the second image that made the difference, when it is known.
    pub layer: Option<LayerRef>,
    /// The difference came with the base image: the layer is the base's, or the package
    /// was in the first image's base and the second image's layers never had it.
    pub base: bool,
}

/// A change of declared license.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct LicenseChange {
    pub package: PackageRef,
    pub before: Option<String>,
    pub after: Option<String>,
    pub layer: Option<LayerRef>,
    pub base: bool,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Diff {
    pub added: Vec<Difference>,
    pub removed: Vec<Difference>,
    pub upgraded: Vec<Difference>,
    pub downgraded: Vec<Difference>,
    /// Versions that differ where the ecosystem gives no order (or it could not parse
    /// them).
    pub changed: Vec<Difference>,
    pub licenses: Vec<LicenseChange>,
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.upgraded.is_empty()
            && self.downgraded.is_empty()
            && self.changed.is_empty()
            && self.licenses.is_empty()
    }
}

/// A package's identity across images: type, namespace, name, architecture.
type Key = (String, String, String, String);

fn key(p: &Package) -> Key {
    let (ns, arch) = match p.purl.parse::<packageurl::PackageUrl>() {
        Ok(u) => (
            u.namespace().unwrap_or("").to_ascii_lowercase(),
            u.qualifiers()
                .get("arch")
                .map(|a| a.to_string())
                .or_else(|| p.arch.clone())
                .unwrap_or_default(),
        ),
        Err(_) => (String::new(), p.arch.clone().unwrap_or_default()),
    };
    (p.kind.clone(), ns, p.name.clone(), arch)
}

/// The differences from `a` to `b`.
pub fn diff(a: &Sbom, b: &Sbom) -> Diff {
    fn group(s: &Sbom) -> BTreeMap<Key, Vec<&Package>> {
        let mut m: BTreeMap<Key, Vec<&Package>> = BTreeMap::new();
        for p in &s.packages {
            m.entry(key(p)).or_default().push(p);
        }
        m
    }
    let (ga, gb) = (group(a), group(b));
    let removed_from_b: BTreeMap<Key, &Package> = b.removed.iter().map(|p| (key(p), p)).collect();
    let mut out = Diff::default();
    let mut keys: Vec<&Key> = ga.keys().chain(gb.keys()).collect();
    keys.sort();
    keys.dedup();
    for k in keys {
        let before_all: Vec<&Package> = ga.get(k).cloned().unwrap_or_default();
        // The second side by version, so that each same-version pair is found in one look.
        let mut after_by: BTreeMap<&str, Vec<&Package>> = BTreeMap::new();
        for q in gb.get(k).into_iter().flatten() {
            after_by.entry(q.version.as_str()).or_default().push(q);
        }
        let mut before: Vec<&Package> = Vec::new();
        let mut license_pairs: Vec<(&Package, &Package)> = Vec::new();
        for p in before_all {
            match after_by.get_mut(p.version.as_str()).and_then(Vec::pop) {
                Some(q) => license_pairs.push((p, q)),
                None => before.push(p),
            }
        }
        let mut after: Vec<&Package> = after_by.into_values().flatten().collect();
        // Pair what is left in version order: one version replaced by another.
        before.sort_by(|x, y| total_order(x, y));
        after.sort_by(|x, y| total_order(x, y));
        let paired = before.len().min(after.len());
        // Versions the ecosystem calls equal though spelled apart (`0:1.0` and `1.0`) are
        // the same version.
        let (mut kept_before, mut kept_after) = (Vec::new(), Vec::new());
        for (p, q) in before.iter().zip(&after) {
            if cairn_catalog::compare_versions(&q.kind, &p.version, &q.version)
                == Some(Ordering::Equal)
            {
                license_pairs.push((p, q));
            } else {
                kept_before.push(*p);
                kept_after.push(*q);
            }
        }
        kept_before.extend_from_slice(&before[paired..]);
        kept_after.extend_from_slice(&after[paired..]);
        // One side's leftovers are empty, so the pairs are the first `paired` of each.
        let paired = kept_before.len().min(kept_after.len());
        let (before, after) = (kept_before, kept_after);
        for (p, q) in license_pairs {
            if p.licenses.declared != q.licenses.declared {
                let layer = q.installed_in().map(|l| LayerRef::of(b, l));
                out.licenses.push(LicenseChange {
                    package: PackageRef::of(q),
                    before: p.licenses.declared.clone(),
                    after: q.licenses.declared.clone(),
                    base: layer.as_ref().is_some_and(|l| l.base),
                    layer,
                });
            }
        }
        for (p, q) in before.iter().zip(&after) {
            let d = difference(b, Some(p), Some(q));
            match cairn_catalog::compare_versions(&q.kind, &p.version, &q.version) {
                Some(Ordering::Less) => out.upgraded.push(d),
                Some(Ordering::Greater) => out.downgraded.push(d),
                _ => out.changed.push(d),
            }
        }
        for q in &after[paired..] {
            out.added.push(difference(b, None, Some(q)));
        }
        for p in &before[paired..] {
            let mut d = difference(b, Some(p), None);
            // Where the second image's own history removed it, that layer says why.
            if let Some(gone) = removed_from_b.get(k) {
                d.layer = gone.evidence.removed_in.map(|l| LayerRef::of(b, l));
                d.base = d.layer.as_ref().is_some_and(|l| l.base);
            } else {
                // Never in any layer of the second image: it came with the first image's
                // base, which the second image no longer has, or with a layer of its own
                // that the second image does not repeat.
                d.base = p
                    .installed_in()
                    .and_then(|l| a.source.layers.get(l))
                    .is_some_and(|l| l.base);
            }
            out.removed.push(d);
        }
    }
    out
}

/// A total order on one identity's versions, whatever they hold: those the ecosystem
/// parses first, in its order (ties by spelling), then the rest by spelling. (Mixing the
/// ecosystem's order with string order for unparsable ones is not transitive.)
fn total_order(x: &Package, y: &Package) -> Ordering {
    let parses =
        |p: &Package| cairn_catalog::compare_versions(&p.kind, &p.version, &p.version).is_some();
    match (parses(x), parses(y)) {
        (true, true) => cairn_catalog::compare_versions(&x.kind, &x.version, &y.version)
            .unwrap_or(Ordering::Equal)
            .then_with(|| x.version.cmp(&y.version)),
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => x.version.cmp(&y.version),
    }
}

fn difference(b: &Sbom, before: Option<&Package>, after: Option<&Package>) -> Difference {
    let p = after.or(before).expect("one side has the package");
    let layer = after
        .and_then(Package::installed_in)
        .map(|l| LayerRef::of(b, l));
    Difference {
        name: p.name.clone(),
        kind: p.kind.clone(),
        arch: p.arch.clone(),
        before: before.map(PackageRef::of),
        after: after.map(PackageRef::of),
        base: layer.as_ref().is_some_and(|l| l.base),
        layer,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_sbom::{Evidence, Package};

    fn sbom(pkgs: &[(&str, &str)]) -> Sbom {
        let mut s: Sbom = cairn_sbom::read(br#"{"spdxVersion":"SPDX-2.3","packages":[]}"#)
            .unwrap()
            .sbom;
        s.packages = pkgs
            .iter()
            .enumerate()
            .map(|(i, (name, version))| Package {
                id: format!("p{i}"),
                name: name.to_string(),
                version: version.to_string(),
                kind: "deb".into(),
                purl: format!("pkg:deb/debian/{name}@{version}"),
                evidence: Evidence::default(),
                ..Package::default()
            })
            .collect();
        s
    }

    #[test]
    fn versions_equal_by_the_ecosystem_are_no_difference() {
        let d = diff(
            &sbom(&[("a", "0:1.0"), ("b", "1.0")]),
            &sbom(&[("a", "1.0"), ("b", "1.1")]),
        );
        assert!(d.changed.is_empty() && d.added.is_empty() && d.removed.is_empty());
        let up: Vec<&str> = d.upgraded.iter().map(|x| x.name.as_str()).collect();
        assert_eq!(up, ["b"]);
    }

    /// Many versions of one name, some the ecosystem cannot order (SemVer): sorting them
    /// must not panic (the order is total) and pairing stays in order.
    #[test]
    fn many_versions_of_one_name_pair_in_order() {
        let mut a: Vec<(String, String)> = Vec::new();
        let mut b: Vec<(String, String)> = Vec::new();
        for i in 0..40 {
            a.push(("x".into(), format!("{i}.0.0")));
            b.push(("x".into(), format!("{}.0.0", i + 1)));
            a.push(("x".into(), format!("{i}x")));
        }
        let to = |v: &[(String, String)]| {
            let mut s = sbom(&[]);
            s.packages = v
                .iter()
                .enumerate()
                .map(|(i, (n, ver))| Package {
                    id: format!("p{i}"),
                    name: n.clone(),
                    version: ver.clone(),
                    kind: "npm".into(),
                    purl: format!("pkg:npm/{n}@{ver}"),
                    ..Package::default()
                })
                .collect();
            s
        };
        let d = diff(&to(&a), &to(&b));
        // 0..39 against 1..40: 39 are the same, one removed (0.0.0) and one added (40.0.0),
        // and the 40 unparsable ones removed.
        let total = d.added.len() + d.removed.len() + d.upgraded.len() + d.changed.len();
        assert!(total >= 41, "{total}");
    }
}
