//! apk: Alpine's `/lib/apk/db/installed` (parsed by `apk/installed.rs`), with owned files and
//! their checksums, `D:`/`p:` relationships and per-layer provenance from the database's own
//! history (see `history`).

pub mod installed;

use crate::history::{self, DbFile, Parsed};
use crate::license;
use crate::purl::{cpe, distro_qualifier, purl};
use crate::{Cataloger, Context, Findings};
use cairn_image::PathPattern;
use cairn_sbom::{
    Evidence, FileDigest, LicenseEvidence, Licenses, Location, OwnedFile, Package, SourceRef,
};
use cairn_sbom::{Warning, WarningKind};
use installed::{ApkFileKind, ApkPackage};
use std::collections::BTreeMap;

pub(crate) struct Apk;

const INSTALLED: &str = "/lib/apk/db/installed";

impl Cataloger for Apk {
    fn name(&self) -> &'static str {
        "apk"
    }

    fn patterns(&self) -> Vec<PathPattern> {
        vec![PathPattern::new(INSTALLED)]
    }

    fn catalog(&self, cx: &Context) -> Findings {
        let mut out = Findings::default();
        let dbs = history::databases(cx.view, &[INSTALLED]);
        if dbs.is_empty() {
            return out;
        }
        let warnings = &mut out.warnings;
        let timeline = history::build(
            &dbs,
            |db: &DbFile, layer, bytes, is_final| {
                let mut budget = cx.budget.database();
                let parsed = installed::parse_within(bytes, &mut budget);
                cx.budget.give_back(budget);
                if is_final {
                    for p in &parsed.problems {
                        warnings.push(
                            Warning::new(WarningKind::Malformed, p.kind.to_string())
                                .at(&db.path, Some(layer))
                                .lines((p.line, p.line))
                                .incomplete(),
                        );
                    }
                }
                Parsed {
                    records: parsed.packages.into_iter().map(Into::into).collect(),
                }
            },
            |p: &ApkPackage| p.name.clone(),
            |p: &ApkPackage| p.version.clone(),
        );
        // The distribution's id (alpine, wolfi, postmarketos, ...); Alpine when unknown.
        let ns = cx
            .distro
            .map(|d| d.id.to_lowercase())
            .unwrap_or_else(|| "alpine".into());
        let distro_q = distro_qualifier(cx);
        let mut by_name: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut depends: Vec<(String, Vec<String>)> = Vec::new();
        for (key, entry, gone) in timeline.entries() {
            let p = &entry.record;
            let upstream = p.origin.as_deref().filter(|o| *o != p.name).unwrap_or("");
            let purl = purl(
                "apk",
                Some(&ns),
                &p.name,
                &p.version,
                &[
                    ("arch", p.arch.as_deref().unwrap_or("")),
                    ("distro", &distro_q),
                    ("upstream", upstream),
                ],
            );
            let id = purl.clone();
            let h = &timeline.history[key];
            let mut ignored = crate::Warnings::default();
            let warnings = match gone {
                None => &mut out.warnings,
                Some(_) => &mut ignored,
            };
            let files = owned_files(cx, p, &id, &location_of(entry), warnings);
            let mut changes = h.changes.clone();
            changes.extend(history::file_changes(cx.view, &files, h));
            changes.sort_by_key(|c| c.layer);
            let location = location_of(entry);
            let mut metadata = BTreeMap::new();
            for (k, v) in [
                ("description", &p.description),
                ("url", &p.url),
                ("commit", &p.commit),
                ("checksum", &p.checksum),
            ] {
                if let Some(v) = v {
                    metadata.insert(k.to_owned(), v.clone());
                }
            }
            if gone.is_none() {
                for d in &p.depends {
                    // `!name` is a conflict, not a dependency.
                    if !d.starts_with('!') {
                        depends.push((id.clone(), vec![dep_name(d).to_owned()]));
                    }
                }
                by_name.entry(p.name.clone()).or_default().push(id.clone());
                for prov in &p.provides {
                    by_name
                        .entry(dep_name(prov).to_owned())
                        .or_default()
                        .push(id.clone());
                }
                for f in &files {
                    by_name.entry(f.path.clone()).or_default().push(id.clone());
                }
            }
            let licenses = match &p.license {
                Some(value) => {
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
                None => Licenses::default(),
            };
            let package = Package {
                id,
                name: p.name.clone(),
                version: p.version.clone(),
                arch: p.arch.clone(),
                kind: "apk".into(),
                cataloger: "apk".into(),
                purl,
                cpes: vec![cpe(
                    p.origin.as_deref().unwrap_or(&p.name),
                    &p.name,
                    upstream_version(&p.version),
                )],
                source_package: p.origin.as_ref().map(|o| SourceRef {
                    name: o.clone(),
                    version: Some(p.version.clone()),
                }),
                maintainer: p.maintainer.clone(),
                installed_size: p.installed_size,
                licenses,
                metadata,
                evidence: Evidence {
                    locations: vec![location],
                    introduced_in: Some(h.introduced),
                    changes,
                    removed_in: gone,
                    ..Evidence::default()
                },
                files,
                files_truncated: p.files_truncated,
                ..Package::default()
            };
            match gone {
                None => out.packages.push(package),
                Some(_) => out.removed.push(package),
            }
        }
        out.relationships
            .extend(crate::depends_on(depends, &by_name));
        out
    }
}

/// The name in `so:libc.musl-x86_64.so.1`, `musl>=1.2`, `cmd:sh=1.36.1-r0`, `busybox~1.36`:
/// everything before the first version operator.
fn dep_name(d: &str) -> &str {
    let d = d.trim_start_matches('!');
    let end = d.find(['=', '<', '>', '~']).unwrap_or(d.len());
    &d[..end]
}

/// The upstream part of an apk version: `1.2.4-r2` -> `1.2.4` (CPEs name upstream versions;
/// `-rN` is Alpine's package revision).
fn upstream_version(v: &str) -> &str {
    match v.rsplit_once("-r") {
        Some((up, rev)) if !rev.is_empty() && rev.bytes().all(|b| b.is_ascii_digit()) => up,
        _ => v,
    }
}

/// The database entry of a package.
fn location_of(entry: &history::Entry<ApkPackage>) -> Location {
    Location {
        path: entry.path.clone(),
        layer: entry.layer,
        lines: Some((entry.record.line, entry.record.end_line)),
    }
}

/// Files (not directories) the package owns, with apk's checksums. Paths no Linux system
/// could have are left out with a warning, and a list the budget cut short is one.
fn owned_files(
    cx: &Context,
    p: &ApkPackage,
    id: &str,
    at: &Location,
    warnings: &mut crate::Warnings,
) -> Vec<OwnedFile> {
    if p.files_truncated {
        warnings.push(history::truncated(at).package(id));
    }
    let files = history::valid_paths(
        p.files.iter().filter(|f| f.kind == ApkFileKind::File),
        |f| &f.path,
        id,
        at,
        warnings,
    );
    files
        .into_iter()
        .map(|f| OwnedFile {
            path: f.path.clone(),
            digest: f.digest.as_ref().map(|d| FileDigest {
                algorithm: d.algorithm.name().to_owned(),
                value: d.hex.clone(),
            }),
            layer: history::live_layer(cx.view, &f.path),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{dep_name, installed, upstream_version};
    use serde_json::{json, Value};

    #[test]
    fn dependency_names() {
        assert_eq!(
            dep_name("so:libc.musl-x86_64.so.1"),
            "so:libc.musl-x86_64.so.1"
        );
        assert_eq!(dep_name("musl>=1.2.4"), "musl");
        assert_eq!(dep_name("cmd:sh=1.36.1-r0"), "cmd:sh");
        assert_eq!(dep_name("busybox~1.36"), "busybox");
        assert_eq!(dep_name("!conflicting"), "conflicting");
    }

    #[test]
    fn upstream_versions() {
        assert_eq!(upstream_version("1.2.4-r2"), "1.2.4");
        assert_eq!(upstream_version("20230506-r0"), "20230506");
        assert_eq!(upstream_version("1.0-rc1"), "1.0-rc1");
        assert_eq!(upstream_version("2.4"), "2.4");
    }

    /// The real Alpine databases in fixtures/pkgdb (see its SOURCES.md) yield
    /// exactly the packages of their `expected.json`.
    #[test]
    fn every_apk_fixture_yields_exactly_its_expected_packages() {
        let Some(root) = crate::require::pkgdb("apk") else {
            return;
        };
        let mut seen = 0;
        for dir in std::fs::read_dir(root).unwrap() {
            let dir = dir.unwrap().path();
            let db = installed::parse(&std::fs::read(dir.join("installed")).unwrap());
            assert!(
                db.problems.is_empty(),
                "{}: {:?}",
                dir.display(),
                db.problems
            );
            let mut got: Vec<Value> = db
                .packages
                .iter()
                .map(|p| {
                    json!({
                        "name": p.name,
                        "version": p.version,
                        "arch": p.arch,
                        "license": p.license,
                        "origin": p.origin,
                    })
                })
                .collect();
            got.sort_by_key(|v| {
                let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
                (s("name"), s("version"))
            });
            let expected: Value =
                serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();
            assert_eq!(Value::Array(got), expected, "{}", dir.display());
            for p in &db.packages {
                for f in &p.files {
                    assert!(f.path.starts_with('/'), "{}", f.path);
                    if f.kind == installed::ApkFileKind::File {
                        assert!(f.digest.is_some(), "{} {}", p.name, f.path);
                    }
                }
            }
            seen += 1;
        }
        assert_eq!(seen, 2);
    }
}
