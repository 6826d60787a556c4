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
        let mut before: Vec<&Package> = ga.get(k).cloned().unwrap_or_default();
        let mut after: Vec<&Package> = gb.get(k).cloned().unwrap_or_default();
        // The same version on both sides is no difference (but its license may be).
        before.retain(
            |p| match after.iter().position(|q| q.version == p.version) {
                Some(i) => {
                    let q = after.remove(i);
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
                    false
                }
                None => true,
            },
        );
        // Pair what is left in version order: one version replaced by another.
        let order = |x: &&Package, y: &&Package| {
            cairn_catalog::compare_versions(&x.kind, &x.version, &y.version)
                .unwrap_or_else(|| x.version.cmp(&y.version))
        };
        before.sort_by(order);
        after.sort_by(order);
        let paired = before.len().min(after.len());
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
