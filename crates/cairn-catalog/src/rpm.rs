//! rpm: `rpmdb.sqlite`, Berkeley DB `Packages` and NDB `Packages.db` under `/var/lib/rpm` or
//! `/usr/lib/sysimage/rpm`, read natively by `cairn-rpmdb` from the bytes each layer wrote.
//!
//! Provenance comes from the database's own history (see `history`): every layer's version
//! of the database is parsed. A damaged database or record becomes a warning naming the file
//! and layer, and marks the SBOM incomplete; it never stops the scan.

use crate::history::{self, DbFile, Parsed};
use crate::license::{self, Expr};
use crate::purl::{cpe, distro_qualifier, purl};
use crate::{Cataloger, Context, Findings};
use cairn_image::PathPattern;
use cairn_rpmdb::RpmPackage;
use cairn_sbom::{
    Evidence, FileDigest, LicenseEvidence, Licenses, Location, OwnedFile, Package, SourceRef,
};
use cairn_sbom::{Warning, WarningKind};
use std::collections::BTreeMap;

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
            |db: &DbFile, layer, bytes, is_final| {
                let mut budget = cx.budget.database();
                let read = cairn_rpmdb::read_database_within(bytes, &mut budget);
                cx.budget.give_back(budget);
                match read {
                    Ok(parsed) => {
                        if is_final {
                            for p in &parsed.problems {
                                warnings.push(
                                    Warning::new(WarningKind::Malformed, format!("{p}; skipped"))
                                        .at(&db.path, Some(layer))
                                        .incomplete(),
                                );
                            }
                        }
                        Parsed {
                            records: parsed.packages.into_iter().map(Into::into).collect(),
                        }
                    }
                    Err(e) => {
                        if is_final {
                            warnings.push(
                                Warning::new(
                                    WarningKind::Malformed,
                                    format!("cannot read the rpm database: {e}"),
                                )
                                .at(&db.path, Some(layer))
                                .incomplete(),
                            );
                        }
                        Parsed { records: vec![] }
                    }
                }
            },
            |p: &RpmPackage| format!("{}.{}", p.name, p.arch.as_deref().unwrap_or("")),
            evr,
        );
        let distro_q = distro_qualifier(cx);
        let ns = cx.distro.map(|d| d.id.to_lowercase());
        let mut by_name: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut requires: Vec<(String, Vec<String>)> = Vec::new();
        for (key, entry, gone) in timeline.entries() {
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
            let id = purl.clone();
            let h = &timeline.history[key];
            let location = Location {
                path: entry.path.clone(),
                layer: entry.layer,
                lines: None,
            };
            if p.files_truncated && gone.is_none() {
                out.warnings
                    .push(history::truncated(&location).package(&id));
            }
            let mut ignored = crate::Warnings::default();
            let warnings = match gone {
                None => &mut out.warnings,
                Some(_) => &mut ignored,
            };
            let files = owned_files(cx, p, &id, &location, warnings);
            let mut changes = h.changes.clone();
            changes.extend(history::file_changes(cx.view, &files, h));
            changes.sort_by_key(|c| c.layer);
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
            let source = p.source_rpm.as_deref().and_then(split_source_rpm);
            let vendor = source
                .as_ref()
                .map(|s| s.name.clone())
                .unwrap_or_else(|| p.name.clone());
            let package = Package {
                id: id.clone(),
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
                    removed_in: gone,
                    ..Evidence::default()
                },
                files,
                files_truncated: p.files_truncated,
                ..Package::default()
            };
            if gone.is_some() {
                out.removed.push(package);
                continue;
            }
            for r in &p.requires {
                // rpm's own feature markers are not packages.
                if !r.starts_with("rpmlib(") {
                    requires.push((id.clone(), vec![r.clone()]));
                }
            }
            by_name.entry(p.name.clone()).or_default().push(id.clone());
            for prov in &p.provides {
                by_name.entry(prov.clone()).or_default().push(id.clone());
            }
            for f in &package.files {
                by_name.entry(f.path.clone()).or_default().push(id.clone());
            }
            out.packages.push(package);
        }
        out.relationships
            .extend(crate::depends_on(requires, &by_name));
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

/// The license tag as an SPDX expression, with the database as evidence.
fn licenses(p: &RpmPackage, location: &Location) -> Licenses {
    let Some(value) = &p.license else {
        return Licenses::default();
    };
    let spdx = rpm_license_expression(value);
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

/// Fedora's and RHEL's pre-2022 ("Callaway") short license names that name exactly one
/// SPDX license. Ambiguous ones (`BSD`, `GPL`, `Public Domain`, …) are deliberately absent:
/// they stay `LicenseRef-` terms rather than being guessed.
const FEDORA_LEGACY: &[(&str, &str)] = &[
    ("GPL+", "GPL-1.0-or-later"),
    ("GPLv2", "GPL-2.0-only"),
    ("GPLv2+", "GPL-2.0-or-later"),
    ("GPLv3", "GPL-3.0-only"),
    ("GPLv3+", "GPL-3.0-or-later"),
    ("LGPLv2+", "LGPL-2.0-or-later"),
    ("LGPLv2.1", "LGPL-2.1-only"),
    ("LGPLv2.1+", "LGPL-2.1-or-later"),
    ("LGPLv3", "LGPL-3.0-only"),
    ("LGPLv3+", "LGPL-3.0-or-later"),
    ("AGPLv3", "AGPL-3.0-only"),
    ("AGPLv3+", "AGPL-3.0-or-later"),
    ("ASL 1.1", "Apache-1.1"),
    ("ASL 2.0", "Apache-2.0"),
    ("MPLv1.0", "MPL-1.0"),
    ("MPLv1.1", "MPL-1.1"),
    ("MPLv2.0", "MPL-2.0"),
    ("Artistic 2.0", "Artistic-2.0"),
    ("BSD 2-Clause", "BSD-2-Clause"),
    ("CC0", "CC0-1.0"),
    ("CC0 1.0", "CC0-1.0"),
    ("zlib", "Zlib"),
];

/// An rpm `License:` tag as an SPDX expression. Current Fedora, RHEL 9+ and SUSE write SPDX
/// already; older tags use Fedora's short names with `and`/`or`/`with` and parentheses. Names
/// are translated one by one (the table above, then SPDX ids and `LicenseRef-` through
/// `license::expression`) into an expression tree with the grouping the packager wrote
/// (both use AND-before-OR), printed with the parentheses that grouping needs.
fn rpm_license_expression(tag: &str) -> String {
    #[derive(PartialEq)]
    enum Tok {
        Word(String),
        Op(&'static str),
        Open,
        Close,
    }
    let mut toks = Vec::new();
    let spaced = tag.replace('(', " ( ").replace(')', " ) ");
    for w in spaced.split_whitespace() {
        toks.push(match w {
            "(" => Tok::Open,
            ")" => Tok::Close,
            w if w.eq_ignore_ascii_case("and") => Tok::Op("AND"),
            w if w.eq_ignore_ascii_case("or") => Tok::Op("OR"),
            w if w.eq_ignore_ascii_case("with") => Tok::Op("WITH"),
            w => Tok::Word(w.to_owned()),
        });
    }

    /// One license name (one or more words) as a term.
    fn name(words: &[&str]) -> Option<Expr> {
        let n = words.join(" ");
        match FEDORA_LEGACY.iter().find(|(f, _)| *f == n) {
            Some((_, id)) => Some(Expr::Term((*id).to_owned())),
            None => license::expression_tree(&n),
        }
    }
    /// `NAME [with EXCEPTION]`: a known exception keeps WITH; otherwise the whole term is
    /// one LicenseRef, as the copyright-file parser makes it.
    fn term(toks: &[Tok], i: &mut usize) -> Option<Expr> {
        let words = |i: &mut usize| {
            let mut w = Vec::new();
            while let Some(Tok::Word(x)) = toks.get(*i) {
                w.push(x.as_str());
                *i += 1;
            }
            w
        };
        let lic = words(i);
        if lic.is_empty() {
            return None;
        }
        if toks.get(*i) != Some(&Tok::Op("WITH")) {
            return name(&lic);
        }
        *i += 1;
        let exc = words(i);
        match spdx::exception_id(&exc.join("-")) {
            Some(e) if !exc.is_empty() => {
                Some(Expr::Term(format!("{} WITH {}", name(&lic)?, e.name)))
            }
            _ => license::expression_tree(&format!("{} with {}", lic.join(" "), exc.join(" "))),
        }
    }
    fn operand(toks: &[Tok], i: &mut usize) -> Option<Expr> {
        if toks.get(*i) != Some(&Tok::Open) {
            return term(toks, i);
        }
        *i += 1;
        let e = any(toks, i)?;
        if toks.get(*i) != Some(&Tok::Close) {
            return None;
        }
        *i += 1;
        Some(e)
    }
    fn all(toks: &[Tok], i: &mut usize) -> Option<Expr> {
        let mut parts = vec![operand(toks, i)?];
        while toks.get(*i) == Some(&Tok::Op("AND")) {
            *i += 1;
            parts.push(operand(toks, i)?);
        }
        Expr::and(parts)
    }
    fn any(toks: &[Tok], i: &mut usize) -> Option<Expr> {
        let mut parts = vec![all(toks, i)?];
        while toks.get(*i) == Some(&Tok::Op("OR")) {
            *i += 1;
            parts.push(all(toks, i)?);
        }
        Expr::or(parts)
    }

    // Anything but well-formed operands, operators and balanced parentheses goes to the
    // generic statement parser, whole.
    let mut i = 0;
    match any(&toks, &mut i) {
        Some(e) if i == toks.len() => e.to_string(),
        _ => license::expression(tag),
    }
}

/// The files the package owns, with the digests rpm recorded; directories are left out (as
/// the dpkg cataloger does), ghost files are kept (owned, but maybe absent: layer `None`),
/// paths no Linux system could have are left out with a warning.
fn owned_files(
    cx: &Context,
    p: &RpmPackage,
    id: &str,
    at: &Location,
    warnings: &mut crate::Warnings,
) -> Vec<OwnedFile> {
    let algorithm = p.digest_algorithm.name();
    history::valid_paths(p.files.iter(), |f| &f.path, id, at, warnings)
        .into_iter()
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
    use super::{rpm_license_expression, split_source_rpm};

    #[test]
    fn rpm_license_tags() {
        for (tag, spdx) in [
            ("GPLv2+", "GPL-2.0-or-later"),
            ("MIT", "MIT"),
            ("ASL 2.0", "Apache-2.0"),
            ("MPLv2.0", "MPL-2.0"),
            ("GPLv2+ and LGPLv2+", "GPL-2.0-or-later AND LGPL-2.0-or-later"),
            (
                "(LGPLv3+ or GPLv2+) and GPLv3+",
                "(LGPL-3.0-or-later OR GPL-2.0-or-later) AND GPL-3.0-or-later",
            ),
            (
                "BSD AND Public Domain AND (ASL 2.0 OR CC0 1.0 OR OpenSSL)",
                "LicenseRef-BSD AND LicenseRef-Public-Domain AND (Apache-2.0 OR CC0-1.0 OR OpenSSL)",
            ),
            ("GPL-3.0-or-later WITH GCC-exception-3.1", "GPL-3.0-or-later WITH GCC-exception-3.1"),
            ("GPLv2+ WITH exceptions", "LicenseRef-GPLv2-plus-with-exceptions"),
            ("GPL-2.0+ and LGPL-2.1+", "GPL-2.0-or-later AND LGPL-2.1-or-later"),
            ("BSD-3-Clause or GPL-2.0", "BSD-3-Clause OR GPL-2.0-only"),
            // Parentheses precedence does not need are not kept.
            ("(MIT) and (ISC and Zlib)", "MIT AND ISC AND Zlib"),
            ("MIT or (ISC or (Zlib))", "MIT OR ISC OR Zlib"),
        ] {
            assert_eq!(rpm_license_expression(tag), spdx, "{tag}");
        }
        // Unbalanced: handed to the generic parser rather than mangled.
        assert!(!rpm_license_expression("(MIT or").is_empty());
    }

    /// Current Fedora tags are SPDX with `LicenseRef-Fedora-*`/`LicenseRef-Callaway-*` terms:
    /// they pass through unchanged, not as `LicenseRef-LicenseRef-…`.
    #[test]
    fn rpm_licenseref_fedora_public_domain_and_mit_is_unchanged() {
        for tag in [
            "LicenseRef-Fedora-Public-Domain AND MIT",
            "LicenseRef-Callaway-MIT AND (LicenseRef-Fedora-Public-Domain OR GPL-2.0-or-later)",
            "GPL-2.0-or-later WITH GCC-exception-2.0 OR LicenseRef-Callaway-LGPLv2-plus",
            "DocumentRef-fedora:LicenseRef-Fedora-UltraPermissive",
        ] {
            assert_eq!(rpm_license_expression(tag), tag);
            assert!(spdx::Expression::parse(tag).is_ok(), "{tag}");
        }
    }

    proptest::proptest! {
        /// A tag that already is SPDX comes out as the same expression.
        #[test]
        fn spdx_tags_keep_their_tree(e in crate::license::testing::tree()) {
            use crate::license::testing::{norm, spdx_norm};
            let tag = e.to_string();
            let out = rpm_license_expression(&tag);
            proptest::prop_assert_eq!(spdx_norm(&out), norm(&e), "{} -> {}", tag, out);
        }
    }

    /// Every license tag in the real rpm fixtures becomes a valid SPDX expression.
    #[test]
    fn fixture_license_tags_become_valid_spdx() {
        let Some(root) = crate::require::pkgdb("rpm") else {
            return;
        };
        for dir in std::fs::read_dir(root).unwrap() {
            let expected: serde_json::Value = serde_json::from_slice(
                &std::fs::read(dir.unwrap().path().join("expected.json")).unwrap(),
            )
            .unwrap();
            for p in expected.as_array().unwrap() {
                let tag = p["license"].as_str().unwrap();
                let spdx = rpm_license_expression(tag);
                assert!(
                    spdx::Expression::parse(&spdx).is_ok(),
                    "{tag:?} -> {spdx:?}"
                );
            }
        }
    }

    #[test]
    fn source_rpm_names() {
        let s = split_source_rpm("util-linux-2.32.1-42.el8_8.src.rpm").unwrap();
        assert_eq!(s.name, "util-linux");
        assert_eq!(s.version.as_deref(), Some("2.32.1-42.el8_8"));
        assert!(split_source_rpm("weird.rpm").is_none());
        assert!(split_source_rpm("-1-2.src.rpm").is_none());
    }
}
