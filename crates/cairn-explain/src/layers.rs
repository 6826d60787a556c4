//! The image layer by layer: each build step (empty ones too), what it did to the
//! packages, the bytes it wrote, the bytes of those that later layers overwrote or
//! deleted (the waste), and the files it wrote that no package owns.
//!
//! Package events come from the packages' own evidence (the database timeline), byte
//! counts from the view's per-layer statistics, unowned files from the view's final state
//! against every package's owned files: all kept by the scan, nothing re-read.

use crate::PackageRef;
use cairn_image::{FsView, NodeKind, Step};
use cairn_sbom::{Package, PackageChangeKind, Sbom};
use serde::Serialize;
use std::cmp::Ordering;
use std::collections::BTreeSet;

/// Unowned files listed per layer, at most; `count` and `bytes` cover them all.
pub const MAX_UNOWNED_LISTED: usize = 1000;

/// Where package managers keep their own state: files there are the databases' (evidence
/// of packages), not files an auditor has to account for.
const DATABASE_DIRS: &[&str] = &[
    "var/lib/dpkg/",
    "var/lib/rpm/",
    "usr/lib/sysimage/rpm/",
    "lib/apk/db/",
];

/// The Dockerfile instruction a build step came from.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Instruction {
    /// Index of the build stage (its `FROM`), from 0.
    pub stage: usize,
    /// First and last line (1-based) in the Dockerfile.
    pub line: usize,
    pub end_line: usize,
    /// The instruction as written (continuations joined).
    pub text: String,
}

/// One build step of the image's history.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct StepReport {
    pub index: usize,
    pub created_by: Option<String>,
    pub created: Option<String>,
    /// It changed no files (`ENV`, `CMD`, …).
    pub empty: bool,
    /// The layer it made.
    pub layer: Option<usize>,
    /// It belongs to the base image.
    pub base: bool,
    /// The Dockerfile instruction it came from, when a Dockerfile was given and matched.
    pub instruction: Option<Instruction>,
}

/// A version change of one package in one layer.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct VersionChange {
    pub id: String,
    pub name: String,
    pub from: String,
    pub to: String,
}

/// Files of a package that a layer overwrote or deleted without its database changing.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct FilesChange {
    pub id: String,
    pub name: String,
    pub removed: bool,
    pub paths: Vec<String>,
}

/// The files a layer wrote that are in the final image and that no package owns.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Unowned {
    pub count: u64,
    pub bytes: u64,
    /// The first [`MAX_UNOWNED_LISTED`], by path.
    pub paths: Vec<String>,
}

/// One layer.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct LayerReport {
    pub index: usize,
    pub digest: Option<String>,
    pub diff_id: Option<String>,
    /// Size of the stored blob.
    pub size: u64,
    pub created_by: Option<String>,
    pub created: Option<String>,
    pub base: bool,
    /// The Dockerfile instruction that built it, when known.
    pub instruction: Option<Instruction>,
    /// Regular files it wrote, and their bytes (hard links add none).
    pub files_added: u64,
    pub bytes_added: u64,
    /// Of those, the files later layers overwrote or deleted, and their bytes.
    pub files_wasted: u64,
    pub bytes_wasted: u64,
    /// Ids of the packages it installed (in `sbom.packages`, or `sbom.removed` for a
    /// package a later layer removed).
    pub packages_added: Vec<String>,
    pub packages_upgraded: Vec<VersionChange>,
    pub packages_downgraded: Vec<VersionChange>,
    pub packages_removed: Vec<PackageRef>,
    pub packages_modified: Vec<FilesChange>,
    pub unowned: Unowned,
}

/// The whole image.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Layers {
    pub steps: Vec<StepReport>,
    pub layers: Vec<LayerReport>,
    pub totals: Totals,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Totals {
    pub layers: usize,
    pub packages: usize,
    pub bytes_added: u64,
    pub bytes_wasted: u64,
    pub unowned_files: u64,
    pub unowned_bytes: u64,
}

/// The layer report of a scan. `steps` are the image's build steps
/// ([`cairn_image::Image::steps`]); `instructions`, when given, holds the Dockerfile
/// instruction of each step (see [`crate::dockerfile`]).
pub fn report(
    sbom: &Sbom,
    view: &FsView,
    steps: &[Step],
    instructions: Option<&[Option<Instruction>]>,
) -> Layers {
    let base = |layer: Option<usize>| {
        layer
            .and_then(|l| sbom.source.layers.get(l))
            .is_some_and(|l| l.base)
    };
    let base_layers = sbom.source.base.as_ref().map_or(0, |b| b.layers);
    let mut seen_layers = 0;
    let steps: Vec<StepReport> = steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            // An empty step belongs to the base when a base layer comes after it.
            let in_base = match s.layer {
                Some(_) => base(s.layer),
                None => seen_layers < base_layers,
            };
            if s.layer.is_some() {
                seen_layers += 1;
            }
            StepReport {
                index: i,
                created_by: s.created_by.clone(),
                created: s.created.clone(),
                empty: s.empty,
                layer: s.layer,
                base: in_base,
                instruction: instructions.and_then(|x| x.get(i).cloned().flatten()),
            }
        })
        .collect();
    let unowned = unowned(sbom, view);
    let stats = view.layer_stats();
    let mut layers: Vec<LayerReport> = sbom
        .source
        .layers
        .iter()
        .map(|l| {
            let st = stats.get(l.index).copied().unwrap_or_default();
            LayerReport {
                index: l.index,
                digest: l.digest.clone(),
                diff_id: l.diff_id.clone(),
                size: l.size,
                created_by: l.created_by.clone(),
                created: l.created.clone(),
                base: l.base,
                instruction: steps
                    .iter()
                    .find(|s| s.layer == Some(l.index))
                    .and_then(|s| s.instruction.clone()),
                files_added: st.files,
                bytes_added: st.bytes,
                files_wasted: st.wasted_files,
                bytes_wasted: st.wasted_bytes,
                packages_added: vec![],
                packages_upgraded: vec![],
                packages_downgraded: vec![],
                packages_removed: vec![],
                packages_modified: vec![],
                unowned: unowned.get(l.index).cloned().unwrap_or_default(),
            }
        })
        .collect();
    for p in sbom.packages.iter().chain(&sbom.removed) {
        package_events(p, &mut layers);
    }
    let totals = Totals {
        layers: layers.len(),
        packages: sbom.packages.len(),
        bytes_added: layers.iter().map(|l| l.bytes_added).sum(),
        bytes_wasted: layers.iter().map(|l| l.bytes_wasted).sum(),
        unowned_files: layers.iter().map(|l| l.unowned.count).sum(),
        unowned_bytes: layers.iter().map(|l| l.unowned.bytes).sum(),
    };
    Layers {
        steps,
        layers,
        totals,
    }
}

/// What one package's evidence says each layer did to it.
fn package_events(p: &Package, layers: &mut [LayerReport]) {
    let ev = &p.evidence;
    if let Some(l) = ev.introduced_in.and_then(|i| layers.get_mut(i)) {
        l.packages_added.push(p.id.clone());
    }
    for c in &ev.changes {
        let Some(l) = layers.get_mut(c.layer) else {
            continue;
        };
        match c.kind {
            PackageChangeKind::VersionChanged => {
                let from = c.from_version.clone().unwrap_or_default();
                let to = c.to_version.clone().unwrap_or_default();
                let order = cairn_catalog::compare_versions(&p.kind, &from, &to);
                let change = VersionChange {
                    id: p.id.clone(),
                    name: p.name.clone(),
                    from,
                    to,
                };
                match order {
                    Some(Ordering::Greater) => l.packages_downgraded.push(change),
                    _ => l.packages_upgraded.push(change),
                }
            }
            PackageChangeKind::Reinstalled => l.packages_added.push(p.id.clone()),
            PackageChangeKind::Removed => l.packages_removed.push(PackageRef {
                id: p.id.clone(),
                name: p.name.clone(),
                version: c.from_version.clone().unwrap_or_else(|| p.version.clone()),
                kind: p.kind.clone(),
                // The package's purl names the version it has now, not the one removed.
                purl: String::new(),
            }),
            PackageChangeKind::FilesModified | PackageChangeKind::FilesRemoved => {
                l.packages_modified.push(FilesChange {
                    id: p.id.clone(),
                    name: p.name.clone(),
                    removed: c.kind == PackageChangeKind::FilesRemoved,
                    paths: c.paths.clone(),
                })
            }
        }
    }
}

/// Per layer, the regular files of the final image it wrote that no package owns (and
/// that are not a package database's own files).
fn unowned(sbom: &Sbom, view: &FsView) -> Vec<Unowned> {
    let mut owned: BTreeSet<String> = BTreeSet::new();
    let mut own = |path: &str| {
        // Owned paths are as the database writes them (`/bin/ls`); the file may live
        // behind a link (`/usr/bin/ls` on a merged-/usr system).
        match view.resolve(path) {
            Ok(Some((real, _))) => {
                owned.insert(real.trim_start_matches('/').to_owned());
            }
            _ => {
                owned.insert(path.trim_start_matches('/').to_owned());
            }
        }
    };
    for p in &sbom.packages {
        for f in &p.files {
            own(&f.path);
        }
        for l in &p.evidence.locations {
            own(&l.path);
        }
        for m in &p.evidence.merged {
            for l in &m.locations {
                own(&l.path);
            }
        }
    }
    let mut out = vec![Unowned::default(); view.layer_count().max(1)];
    for (path, node) in view.iter() {
        if node.kind != NodeKind::File
            || owned.contains(path)
            || DATABASE_DIRS.iter().any(|d| path.starts_with(d))
        {
            continue;
        }
        let Some(u) = out.get_mut(node.layer()) else {
            continue;
        };
        u.count += 1;
        u.bytes += node.size;
        if u.paths.len() < MAX_UNOWNED_LISTED {
            u.paths.push(format!("/{path}"));
        }
    }
    out
}
