//! rpm: `rpmdb.sqlite`, Berkeley DB `Packages` and NDB `Packages.db` under `/var/lib/rpm` or
//! `/usr/lib/sysimage/rpm`, read natively by `cairn-rpmdb` from the bytes each layer wrote.
//!
//! Provenance comes from the database's own history (see `history`): every layer's version
//! of the database is parsed. A damaged database or record becomes a warning naming the file
//! and layer, and marks the SBOM incomplete; it never stops the scan.

use crate::history::{self, DbFile, Parsed};
use crate::license;
use crate::purl::{cpe, purl};
use crate::{Cataloger, Context, Findings};
use cairn_image::PathPattern;
use cairn_rpmdb::RpmPackage;
use cairn_sbom::{
    Evidence, FileDigest, LicenseEvidence, Licenses, Location, OwnedFile, Package, Relationship,
    RelationshipKind, SourceRef,
};
use std::collections::{BTreeMap, BTreeSet};

pub(crate) struct Rpm;

/// `S_IFMT` and `S_IFDIR` of an rpm file mode.
const S_IFMT: u16 = 0o170000;
const S_IFDIR: u16 = 0o040000;

impl Cataloger for Rpm {
    fn name(&self) -> &'static str {
        "rpm"
    }

    fn patterns(&self) -> Vec<PathPattern> {
        cairn_rpmdb::DATABASE_PATHS
            .iter()
            .map(|p| PathPattern::new(&format!("/{p}")))
            .collect()
    }

    fn catalog(&self, cx: &Context) -> Findings {
        let mut out = Findings::default();
        let paths: Vec<String> = cairn_rpmdb::DATABASE_PATHS
            .iter()
            .map(|p| format!("/{p}"))
            .collect();
        let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
        let dbs = history::databases(cx.view, &paths);
        if dbs.is_empty() {
            return out;
        }
        let warnings = &mut out.warnings;
        let timeline = history::build(
            &dbs,
            |db: &DbFile, layer, bytes, is_final| match cairn_rpmdb::read_database(bytes) {
                Ok(parsed) => {
                    if is_final {
                        for p in &parsed.problems {
                            warnings.missing(format!("{} (layer {layer}): {p}; skipped", db.path));
                        }
                    }
                    Parsed {
                        records: parsed.packages.into_iter().map(Into::into).collect(),
                    }
                }
                Err(e) => {
                    if is_final {
                        warnings.missing(format!(
                            "{} (layer {layer}): cannot read the rpm database: {e}",
                            db.path
                        ));
                    }
                    Parsed { records: vec![] }
                }
            },
            |p: &RpmPackage| format!("{}.{}", p.name, p.arch.as_deref().unwrap_or("")),
            evr,
        );
        let distro_q = distro_qualifier(cx);
        let ns = cx.distro.map(|d| d.id.to_lowercase());
        let mut by_name: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut requires: Vec<(String, String)> = Vec::new();
        let mut seen = BTreeSet::new();
        for (key, entry) in &timeline.final_state {
            let p = &entry.record;
            // gpg-pubkey entries are keys imported into rpm, not software.
            if p.name == "gpg-pubkey" {
                continue;
            }
            let epoch = p.epoch.map(|e| e.to_string()).unwrap_or_default();
            let purl = purl(
                "rpm",
                ns.as_deref(),
                &p.name,
                &format!("{}-{}", p.version, p.release),
                &[
                    ("arch", p.arch.as_deref().unwrap_or("")),
                    ("epoch", &epoch),
                    ("distro", &distro_q),
                    ("upstream", p.source_rpm.as_deref().unwrap_or("")),
                ],
            );
            if !seen.insert(purl.clone()) {
                out.warnings.note(format!(
                    "{}: {} {} is listed more than once",
                    entry.path,
                    p.name,
                    evr(p)
                ));
                continue;
            }
            let id = purl.clone();
            let h = &timeline.history[key];
            let files = owned_files(cx, p);
            let mut changes = h.changes.clone();
            changes.extend(history::file_changes(cx.view, &files, h));
            changes.sort_by_key(|c| c.layer);
            let location = Location {
                path: entry.path.clone(),
                layer: entry.layer,
                lines: None,
            };
            let mut metadata = BTreeMap::new();
            for (k, v) in [
                ("vendor", &p.vendor),
                ("source-rpm", &p.source_rpm),
                ("modularity-label", &p.modularity_label),
            ] {
                if let Some(v) = v {
                    metadata.insert(k.to_owned(), v.clone());
                }
            }
            if !p.files.is_empty() {
                metadata.insert(
                    "file-digest-algorithm".into(),
                    p.digest_algorithm.name().into(),
                );
            }
            for r in &p.requires {
                // rpm's own feature markers are not packages.
                if !r.starts_with("rpmlib(") {
                    requires.push((id.clone(), r.clone()));
                }
            }
            by_name.entry(p.name.clone()).or_default().push(id.clone());
            for prov in &p.provides {
                by_name.entry(prov.clone()).or_default().push(id.clone());
            }
            for f in &files {
                by_name.entry(f.path.clone()).or_default().push(id.clone());
            }
            let source = p.source_rpm.as_deref().and_then(split_source_rpm);
            let vendor = source
                .as_ref()
                .map(|s| s.name.clone())
                .unwrap_or_else(|| p.name.clone());
            out.packages.push(Package {
                id,
                name: p.name.clone(),
                version: evr(p),
                arch: p.arch.clone(),
                kind: "rpm".into(),
                cataloger: "rpm".into(),
                purl,
                // CPE versions are upstream versions: rpm's VERSION, without the release.
                cpes: vec![cpe(&vendor, &p.name, &p.version)],
                source_package: source,
                maintainer: p.vendor.clone(),
                installed_size: p.size,
                licenses: licenses(p, &location),
                metadata,
                evidence: Evidence {
                    locations: vec![location],
                    introduced_in: Some(h.introduced),
                    changes,
                },
                files,
            });
        }
        let mut edges = BTreeSet::new();
        for (from, capability) in requires {
            if let Some(to) = by_name.get(&capability).and_then(|ids| ids.first()) {
                if *to != from {
                    edges.insert((from, to.clone()));
                }
            }
        }
        out.relationships
            .extend(edges.into_iter().map(|(from, to)| Relationship {
                from,
                kind: RelationshipKind::DependsOn,
                to,
            }));
        out
    }
}

/// `[epoch:]version-release`, as rpm and Syft print it.
fn evr(p: &RpmPackage) -> String {
    match p.epoch {
        Some(e) => format!("{e}:{}-{}", p.version, p.release),
        None => format!("{}-{}", p.version, p.release),
    }
}

/// The `distro` purl qualifier: `ID-VERSION_ID` from os-release (`fedora-38`).
pub(crate) fn distro_qualifier(cx: &Context) -> String {
    cx.distro
        .map(|d| {
            format!("{}-{}", d.id, d.version_id.as_deref().unwrap_or(""))
                .trim_end_matches('-')
                .to_owned()
        })
        .unwrap_or_default()
}

/// `bash-5.2.15-3.fc38.src.rpm` -> name `bash`, version `5.2.15-3.fc38`.
fn split_source_rpm(srpm: &str) -> Option<SourceRef> {
    let stem = srpm
        .strip_suffix(".src.rpm")
        .or_else(|| srpm.strip_suffix(".nosrc.rpm"))?;
    let (rest, release) = stem.rsplit_once('-')?;
    let (name, version) = rest.rsplit_once('-')?;
    (!name.is_empty()).then(|| SourceRef {
        name: name.to_owned(),
        version: Some(format!("{version}-{release}")),
    })
}

/// The license tag, as an SPDX expression where it maps to one (Fedora's older tags such as
/// `GPLv2+` become `LicenseRef-` terms), with the database as evidence.
fn licenses(p: &RpmPackage, location: &Location) -> Licenses {
    let Some(value) = &p.license else {
        return Licenses::default();
    };
    let spdx = license::expression(value);
    Licenses {
        declared: Some(spdx.clone()),
        evidence: vec![LicenseEvidence {
            value: value.clone(),
            spdx,
            location: location.clone(),
            text: None,
        }],
    }
}

/// The files the package owns, with the digests rpm recorded; directories are left out (as
/// the dpkg cataloger does), ghost files are kept (owned, but maybe absent: layer `None`).
fn owned_files(cx: &Context, p: &RpmPackage) -> Vec<OwnedFile> {
    let algorithm = p.digest_algorithm.name();
    p.files
        .iter()
        .filter(|f| match f.mode {
            Some(mode) => mode & S_IFMT != S_IFDIR,
            None => !history::is_dir(cx.view, &f.path),
        })
        .map(|f| OwnedFile {
            path: f.path.clone(),
            digest: f.digest.as_ref().map(|d| FileDigest {
                algorithm: algorithm.to_owned(),
                value: d.clone(),
            }),
            layer: history::live_layer(cx.view, &f.path),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::split_source_rpm;

    #[test]
    fn source_rpm_names() {
        let s = split_source_rpm("util-linux-2.32.1-42.el8_8.src.rpm").unwrap();
        assert_eq!(s.name, "util-linux");
        assert_eq!(s.version.as_deref(), Some("2.32.1-42.el8_8"));
        assert!(split_source_rpm("weird.rpm").is_none());
        assert!(split_source_rpm("-1-2.src.rpm").is_none());
    }
}
