//! The rule that keeps a package from being reported twice, once by the distribution's
//! package manager and once by a language's: a language record is dropped if and only if
//! every file of its evidence (its metadata files and the files it lists as its own) is
//! owned by an OS package; the OS package keeps the language identity as a merged record
//! that says why. Components read out of an executable are never dropped: when an OS
//! package owns the executable (a Go program shipped in a deb), they become its children
//! (CONTAINS), so the modules compiled into it stay visible.

use cairn_image::FsView;
use cairn_sbom::{MergedRecord, Origin, Package, Relationship, RelationshipKind};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A path with its directory resolved through the image's symbolic links: on a merged-/usr
/// system dpkg may list `/bin/x` for the file at `/usr/bin/x`, and the two must be one
/// file for this rule. Directories are resolved once each.
struct Real<'a> {
    view: &'a FsView,
    dirs: HashMap<String, String>,
}

impl Real<'_> {
    fn of(&mut self, path: &str) -> String {
        match path.rsplit_once('/') {
            Some((dir, name)) => format!("{}/{name}", self.dir(dir)),
            None => path.to_owned(),
        }
    }

    /// A directory's real path: resolved through links when the view has it, else its
    /// parent's real path and its name (layers may leave directories implicit). Paths are
    /// bounded by `PATH_MAX`, so the recursion is too.
    fn dir(&mut self, dir: &str) -> String {
        if dir.is_empty() {
            return String::new();
        }
        if let Some(r) = self.dirs.get(dir) {
            return r.clone();
        }
        let real = match self.view.resolve(dir) {
            Ok(Some((p, _))) => format!("/{p}"),
            _ => match dir.rsplit_once('/') {
                Some((parent, name)) => format!("{}/{name}", self.dir(parent)),
                None => dir.to_owned(),
            },
        };
        self.dirs.insert(dir.to_owned(), real.clone());
        real
    }
}

/// Catalogers whose packages own files for this rule.
fn is_os(p: &Package) -> bool {
    matches!(p.kind.as_str(), "deb" | "rpm" | "apk")
}

pub(crate) fn fold(
    view: &FsView,
    packages: Vec<Package>,
    rels: &mut Vec<Relationship>,
) -> Vec<Package> {
    let mut real = Real {
        view,
        dirs: HashMap::new(),
    };
    // Every owned file under its real path.
    let mut owner: BTreeMap<String, usize> = BTreeMap::new();
    for (i, p) in packages.iter().enumerate().filter(|(_, p)| is_os(p)) {
        for f in &p.files {
            owner.entry(real.of(&f.path)).or_insert(i);
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
        let paths: Vec<&str> = p
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
        let evidence: BTreeSet<String> = paths.into_iter().map(|f| real.of(f)).collect();
        let Some(first) = p.evidence.locations.first() else {
            continue;
        };
        let Some(&by) = owner.get(&real.of(&first.path)) else {
            continue;
        };
        match p.origin {
            Origin::Installed if evidence.iter().all(|f| owner.contains_key(f.as_str())) => {
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

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_image::fuzzing::scan_layers;
    use cairn_image::ScanOptions;
    use cairn_sbom::{Evidence, Location, OwnedFile};

    fn at(path: &str) -> Location {
        Location {
            path: path.into(),
            layer: 0,
            lines: None,
        }
    }

    fn pkg(id: &str, kind: &str, origin: Origin, evidence: &str, files: &[&str]) -> Package {
        Package {
            id: id.into(),
            name: id.into(),
            version: "1".into(),
            kind: kind.into(),
            purl: format!("pkg:{kind}/{id}@1"),
            origin,
            evidence: Evidence {
                locations: vec![at(evidence)],
                ..Evidence::default()
            },
            files: files
                .iter()
                .map(|f| OwnedFile {
                    path: (*f).into(),
                    digest: None,
                    layer: Some(0),
                })
                .collect(),
            ..Package::default()
        }
    }

    /// A merged-/usr image (`/bin -> usr/bin`, `/lib -> usr/lib`) whose dpkg lists files
    /// under the old names: the language records found at the real paths still belong to
    /// the deb.
    #[test]
    fn owned_paths_are_compared_through_the_images_links() {
        let mut b = tar::Builder::new(Vec::new());
        for dir in [
            "usr/",
            "usr/bin/",
            "usr/lib/",
            "usr/lib/python3/",
            "usr/lib/python3/dist-packages/",
            "usr/lib/python3/dist-packages/x-1.dist-info/",
        ] {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Directory);
            h.set_size(0);
            h.set_mode(0o755);
            b.append_data(&mut h, dir, &b""[..]).unwrap();
        }
        for (name, target) in [("bin", "usr/bin"), ("lib", "usr/lib")] {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Symlink);
            h.set_size(0);
            b.append_link(&mut h, name, target).unwrap();
        }
        for name in [
            "usr/bin/tool",
            "usr/lib/python3/dist-packages/x-1.dist-info/METADATA",
        ] {
            let mut h = tar::Header::new_gnu();
            h.set_size(1);
            h.set_mode(0o755);
            b.append_data(&mut h, name, &b"x"[..]).unwrap();
        }
        let layer = b.into_inner().unwrap();
        let view = scan_layers(&[&layer], &ScanOptions::default()).unwrap();
        let meta = "/usr/lib/python3/dist-packages/x-1.dist-info/METADATA";
        let packages = vec![
            pkg(
                "deb1",
                "deb",
                Origin::Installed,
                "/var/lib/dpkg/status",
                &[
                    "/bin/tool",
                    "/lib/python3/dist-packages/x-1.dist-info/METADATA",
                ],
            ),
            pkg("x", "pypi", Origin::Installed, meta, &[]),
            pkg("mod", "golang", Origin::Binary, "/usr/bin/tool", &[]),
            pkg(
                "other",
                "pypi",
                Origin::Installed,
                "/opt/y-1.dist-info/METADATA",
                &[],
            ),
        ];
        let mut rels = Vec::new();
        let out = fold(&view, packages, &mut rels);
        let ids: Vec<&str> = out.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["deb1", "mod", "other"]);
        assert_eq!(out[0].evidence.merged[0].purl, "pkg:pypi/x@1");
        assert_eq!(
            rels,
            [Relationship {
                from: "deb1".into(),
                kind: RelationshipKind::Contains,
                to: "mod".into(),
            }]
        );
    }
}
