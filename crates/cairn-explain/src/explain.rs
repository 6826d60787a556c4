//! One package's chain of evidence: the entry that lists it, the files it owns and the
//! layer of each, the layer and build step that installed it, what later layers did to
//! it (upgrades, overwritten or deleted files, removal), its dependencies both ways, and
//! for a language package the OS package that owns its files. A package that an earlier
//! layer had and the final image does not is explained too.

use crate::{LayerRef, PackageRef};
use cairn_image::FsView;
use cairn_sbom::{Licenses, Location, MergedRecord, OwnedFile, Package, PackageChangeKind, Sbom};
use cairn_sbom::{RelationshipKind, Warning};
use serde::Serialize;
use std::collections::BTreeMap;

/// Which packages to explain: `NAME`, `NAME@VERSION` or a package URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Query {
    Name {
        name: String,
        version: Option<String>,
    },
    /// A package URL's parts: type, namespace and name must match; an absent version or
    /// qualifier matches any.
    Purl {
        ty: String,
        namespace: Option<String>,
        name: String,
        version: Option<String>,
        qualifiers: Vec<(String, String)>,
    },
}

impl Query {
    /// Parse what the user typed. `@scope/name` (npm) is a name; a version follows the last
    /// `@` after the first character.
    pub fn parse(s: &str) -> Result<Query, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("an empty package name".into());
        }
        if s.starts_with("pkg:") {
            let p = s
                .parse::<packageurl::PackageUrl>()
                .map_err(|e| format!("{s:?} is not a package URL: {e}"))?;
            return Ok(Query::Purl {
                ty: p.ty().to_owned(),
                namespace: p.namespace().map(str::to_owned),
                name: p.name().to_owned(),
                version: p.version().map(str::to_owned),
                qualifiers: p
                    .qualifiers()
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            });
        }
        // A version follows the last `@` that is not the first character (`@scope/name`).
        match s.rfind('@').filter(|&i| i > 0) {
            Some(i) => Ok(Query::Name {
                name: s[..i].to_owned(),
                version: Some(s[i + 1..].to_owned()).filter(|v| !v.is_empty()),
            }),
            None => Ok(Query::Name {
                name: s.to_owned(),
                version: None,
            }),
        }
    }

    /// Whether `p` is what the query names. Names match exactly, else ignoring case.
    pub fn matches(&self, p: &Package) -> bool {
        self.matches_identity(&p.name, &p.version, &p.purl)
    }

    fn matches_identity(&self, p_name: &str, p_version: &str, p_purl: &str) -> bool {
        match self {
            Query::Name { name, version } => {
                (p_name == *name || p_name.eq_ignore_ascii_case(name))
                    && version.as_ref().is_none_or(|v| *v == p_version)
            }
            Query::Purl {
                ty,
                namespace,
                name,
                version,
                qualifiers,
            } => {
                let Ok(have) = p_purl.parse::<packageurl::PackageUrl>() else {
                    return false;
                };
                have.ty() == ty
                    && have.namespace() == namespace.as_deref()
                    && have.name() == name
                    && version.as_deref().is_none_or(|v| Some(v) == have.version())
                    && qualifiers.iter().all(|(k, v)| {
                        have.qualifiers()
                            .iter()
                            .any(|(hk, hv)| hk.as_ref() == k && hv.as_ref() == v)
                    })
            }
        }
    }
}

/// A later layer's effect on the package.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Change {
    pub layer: LayerRef,
    pub kind: PackageChangeKind,
    pub from_version: Option<String>,
    pub to_version: Option<String>,
    pub paths: Vec<String>,
}

/// The explanation of one package.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Explanation {
    pub package: PackageRef,
    pub purl: String,
    pub arch: Option<String>,
    pub cataloger: String,
    /// Whether the final image has it; `false` for a package a later layer removed.
    pub in_final_image: bool,
    /// Where it is listed: the database or manifest entry first (path, layer, lines).
    pub listed_in: Vec<Location>,
    /// For a package inside an archive the first location names (a jar in a Spring Boot
    /// jar, a war in an ear): where in it (`BOOT-INF/lib/guava-31.1-jre.jar`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_in_archive: Option<String>,
    /// The layer that introduced it.
    pub introduced_in: Option<LayerRef>,
    /// The layer that installed the version reported, when a later one than that.
    pub version_from: Option<LayerRef>,
    /// What later layers did to it, in layer order.
    pub changes: Vec<Change>,
    /// The layer whose database no longer lists it (for a package not in the final image).
    pub removed_in: Option<LayerRef>,
    /// The files it owns, each with the layer whose version is visible (`None`: gone).
    pub files: Vec<OwnedFile>,
    /// How many of its files each layer's version is visible from (`gone` for files no
    /// layer has now).
    pub files_by_layer: BTreeMap<String, usize>,
    pub depends_on: Vec<PackageRef>,
    pub required_by: Vec<PackageRef>,
    /// For a language package: the OS package whose files hold it.
    pub owned_by: Option<PackageRef>,
    /// When the query named a language package that was folded into this OS package (a
    /// Python distribution or npm module a Debian package ships): that record.
    pub matched_record: Option<MergedRecord>,
    /// Records of other catalogers folded into this package, with why.
    pub merged: Vec<MergedRecord>,
    pub licenses: Licenses,
    /// Problems the scan met about this package.
    pub warnings: Vec<Warning>,
    /// What declared SBOMs (BuildKit attestations, referrers, SBOM files in the image) say
    /// of a package of this type and name: filled by [`crate::declared::annotate`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub declared: Vec<crate::declared::Entry>,
}

/// Every package of the scan that `query` names, final ones first, then removed ones.
/// `view`, when the image's view is at hand, lets a language package's files be matched
/// to an OS package through symbolic links (`/lib` → `/usr/lib`).
pub fn explain(sbom: &Sbom, view: Option<&FsView>, query: &Query) -> Vec<Explanation> {
    let owners = os_owners(sbom, view);
    let mut out: Vec<Explanation> = sbom
        .packages
        .iter()
        .map(|p| (p, true))
        .chain(sbom.removed.iter().map(|p| (p, false)))
        .filter(|(p, _)| query.matches(p))
        .map(|(p, live)| one(sbom, view, &owners, p, live))
        .collect();
    // A language package the OS package that ships it absorbed: explained through that
    // package, which owns it.
    for p in &sbom.packages {
        let Some(m) = p
            .evidence
            .merged
            .iter()
            .find(|m| query.matches_identity(&m.name, &m.version, &m.purl))
        else {
            continue;
        };
        if out.iter().any(|e| e.package.id == p.id) {
            continue;
        }
        let mut e = one(sbom, view, &owners, p, true);
        e.owned_by = Some(PackageRef::of(p));
        e.matched_record = Some(m.clone());
        out.push(e);
    }
    out
}

fn one(
    sbom: &Sbom,
    view: Option<&FsView>,
    owners: &BTreeMap<String, &Package>,
    p: &Package,
    live: bool,
) -> Explanation {
    let ev = &p.evidence;
    let layer = |i: usize| LayerRef::of(sbom, i);
    let installed = p.installed_in();
    let by_id = |id: &str| sbom.package(id).map(PackageRef::of);
    let mut depends_on: Vec<PackageRef> = Vec::new();
    let mut required_by: Vec<PackageRef> = Vec::new();
    if live {
        for r in &sbom.relationships {
            if r.kind != RelationshipKind::DependsOn {
                continue;
            }
            if r.from == p.id {
                depends_on.extend(by_id(&r.to));
            } else if r.to == p.id {
                required_by.extend(by_id(&r.from));
            }
        }
    }
    depends_on.sort();
    depends_on.dedup();
    required_by.sort();
    required_by.dedup();
    let mut files_by_layer: BTreeMap<String, usize> = BTreeMap::new();
    for f in &p.files {
        let key = f.layer.map_or_else(|| "gone".to_owned(), |l| l.to_string());
        *files_by_layer.entry(key).or_default() += 1;
    }
    let owned_by = if is_os(p) {
        None
    } else {
        ev.locations
            .iter()
            .find_map(|l| owners.get(&real_path(view, &l.path)))
            .map(|o| PackageRef::of(o))
    };
    Explanation {
        package: PackageRef::of(p),
        purl: p.purl.clone(),
        arch: p.arch.clone(),
        cataloger: p.cataloger.clone(),
        in_final_image: live,
        listed_in: ev.locations.clone(),
        path_in_archive: p.metadata.get("path-in-archive").cloned(),
        introduced_in: ev.introduced_in.map(layer),
        version_from: installed
            .filter(|i| Some(*i) != ev.introduced_in)
            .map(layer),
        changes: ev
            .changes
            .iter()
            .map(|c| Change {
                layer: layer(c.layer),
                kind: c.kind,
                from_version: c.from_version.clone(),
                to_version: c.to_version.clone(),
                paths: c.paths.clone(),
            })
            .collect(),
        removed_in: ev.removed_in.map(layer),
        files: p.files.clone(),
        files_by_layer,
        depends_on,
        required_by,
        owned_by,
        matched_record: None,
        merged: ev.merged.clone(),
        licenses: p.licenses.clone(),
        warnings: sbom
            .warnings
            .iter()
            .filter(|w| w.package.as_deref() == Some(p.id.as_str()))
            .cloned()
            .collect(),
        declared: Vec::new(),
    }
}

fn is_os(p: &Package) -> bool {
    matches!(p.kind.as_str(), "deb" | "rpm" | "apk")
}

/// A path as the filesystem has it, through links, when the view is at hand.
fn real_path(view: Option<&FsView>, path: &str) -> String {
    let resolved = view.and_then(|v| v.resolve(path).ok().flatten().map(|(r, _)| r));
    let p = resolved.unwrap_or_else(|| path.to_owned());
    format!("/{}", p.trim_start_matches('/'))
}

/// Each file an OS package owns, by its real path, to its package.
fn os_owners<'a>(sbom: &'a Sbom, view: Option<&FsView>) -> BTreeMap<String, &'a Package> {
    let mut out = BTreeMap::new();
    for p in sbom.packages.iter().filter(|p| is_os(p)) {
        for f in &p.files {
            out.entry(real_path(view, &f.path)).or_insert(p);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(name: &str, version: &str, purl: &str) -> Package {
        Package {
            id: purl.into(),
            name: name.into(),
            version: version.into(),
            purl: purl.into(),
            ..Package::default()
        }
    }

    #[test]
    fn queries_by_name_version_and_purl() {
        let p = pkg(
            "libexpat1",
            "2.5.0-1+deb12u1",
            "pkg:deb/debian/libexpat1@2.5.0-1+deb12u1?arch=amd64&distro=debian-12",
        );
        let q = |s: &str| Query::parse(s).unwrap().matches(&p);
        assert!(q("libexpat1"));
        assert!(q("LIBEXPAT1"));
        assert!(q("libexpat1@2.5.0-1+deb12u1"));
        assert!(!q("libexpat1@2.5.0-1"));
        assert!(q("pkg:deb/debian/libexpat1"));
        assert!(q("pkg:deb/debian/libexpat1@2.5.0-1+deb12u1?arch=amd64"));
        assert!(!q("pkg:deb/debian/libexpat1?arch=arm64"));
        assert!(!q("pkg:rpm/debian/libexpat1"));
        let npm = pkg("@babel/core", "7.1.0", "pkg:npm/%40babel/core@7.1.0");
        assert!(Query::parse("@babel/core").unwrap().matches(&npm));
        assert!(Query::parse("@babel/core@7.1.0").unwrap().matches(&npm));
        assert!(Query::parse("pkg:npm/%40babel/core@7.1.0")
            .unwrap()
            .matches(&npm));
        assert!(Query::parse("").is_err());
        assert!(Query::parse("pkg:").is_err());
    }
}
