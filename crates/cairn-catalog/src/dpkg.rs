//! dpkg: `/var/lib/dpkg/status` and distroless `/var/lib/dpkg/status.d/*`, owned files from
//! `info/NAME[:ARCH].list` with digests from `info/*.md5sums`, licenses from
//! `/usr/share/doc/NAME/copyright`.
//!
//! Provenance comes from the database's own history: every layer's version of every
//! database file is parsed, so the layer that introduced a package, the layers that changed
//! its version, and a purge in a later layer are read, not inferred from file ownership.

mod copyright;

use crate::deb822::{self, Paragraph};
use crate::history::{self, DbFile, Parsed, Timeline};
use crate::license;
use crate::purl::{cpe, distro_qualifier, purl};
use crate::{Cataloger, Context, Findings};
use cairn_image::{EntryReader, Extractor, Fact, FactError, FsView, PathPattern, Probe};
use cairn_sbom::{
    Evidence, FileDigest, LicenseEvidence, Licenses, Location, OwnedFile, Package, SourceRef,
};
use cairn_sbom::{Warning, WarningKind};
use rayon::prelude::*;
use sha2::Digest;
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Default)]
pub(crate) struct Dpkg {
    /// Free-form copyright files' full-text matches, started in the layer pass.
    texts: Arc<license::TextMatcher>,
}

/// The extractor that hands free-form copyright files to the text matcher as the layer pass
/// meets them, so the costly matching overlaps the decoding of the other layers. It leaves
/// no fact: the cataloger still reads the final file from the view and asks the matcher by
/// the file's hash (a file a later layer replaced was matched for nothing, never wrongly).
struct CopyrightTexts(Arc<license::TextMatcher>);

/// Copyright files larger than this are matched when the cataloger asks, not in the layer
/// pass.
const MAX_PREFETCH: u64 = 4 << 20;

impl Extractor for CopyrightTexts {
    fn name(&self) -> &'static str {
        "dpkg-copyright"
    }
    fn patterns(&self) -> Vec<PathPattern> {
        vec![PathPattern::new(COPYRIGHT)]
    }
    fn extract(&self, _: &Probe, r: &mut EntryReader) -> Result<Option<Fact>, FactError> {
        let Ok(bytes) = r.read_rest(MAX_PREFETCH) else {
            return Ok(None);
        };
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if !copyright::parse(&text).machine_readable {
            self.0.start(sha2::Sha256::digest(&bytes).into(), text);
        }
        Ok(None)
    }
}

const STATUS: &str = "var/lib/dpkg/status";
const COPYRIGHT: &str = "/usr/share/doc/*/copyright";
const STATUS_D: &str = "/var/lib/dpkg/status.d/*";
const INFO: &str = "var/lib/dpkg/info";

/// Files in status.d that are not control paragraphs.
const STATUS_D_EXTRA: &[&str] = &[
    ".md5sums",
    ".preinst",
    ".postinst",
    ".prerm",
    ".postrm",
    ".list",
    ".conffiles",
    ".triggers",
    ".shlibs",
    ".symbols",
    ".templates",
    ".config",
];

impl Cataloger for Dpkg {
    fn name(&self) -> &'static str {
        "dpkg"
    }

    fn patterns(&self) -> Vec<PathPattern> {
        [
            "/var/lib/dpkg/status",
            STATUS_D,
            "/var/lib/dpkg/info/*.list",
            "/var/lib/dpkg/info/*.md5sums",
            COPYRIGHT,
        ]
        .iter()
        .map(|p| PathPattern::new(p))
        .collect()
    }

    fn extractors(&self) -> Vec<Arc<dyn Extractor>> {
        vec![Arc::new(CopyrightTexts(self.texts.clone()))]
    }

    fn catalog(&self, cx: &Context) -> Findings {
        let mut out = Findings::default();
        let dbs = databases(cx.view);
        if dbs.is_empty() {
            return out;
        }
        let timeline = timeline(&dbs, &mut out);
        let ns = namespace(cx);
        let distro_q = distro_qualifier(cx);
        let mut by_name: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut deps: Vec<(String, Vec<String>)> = Vec::new();
        // One budget for the owned files of every package (the lists and md5sums files
        // together are one database).
        let mut budget = cx.budget.database();
        for (key, entry, gone) in timeline.entries() {
            let p = &entry.record.para;
            let name = p.get("Package").unwrap_or_default().to_owned();
            let version = p.get("Version").unwrap_or_default().to_owned();
            let arch = p.get("Architecture").map(str::to_owned);
            let (src_name, src_version) = source_of(p);
            let upstream = match (&src_name, &src_version) {
                (Some(n), Some(v)) if *n != name || *v != version => format!("{n}@{v}"),
                (Some(n), None) if *n != name => n.clone(),
                _ => String::new(),
            };
            let purl = purl(
                "deb",
                Some(&ns),
                &name,
                &version,
                &[
                    ("arch", arch.as_deref().unwrap_or("")),
                    ("distro", &distro_q),
                    ("upstream", &upstream),
                ],
            );
            let id = purl.clone();
            let files = owned_files(
                cx.view,
                &name,
                arch.as_deref(),
                entry.record.status_d.then_some(entry.path.as_str()),
                gone.is_some(),
                &mut budget,
            );
            if gone.is_none() {
                for w in files.problems {
                    out.warnings.push(w.package(&id));
                }
            }
            let history = &timeline.history[key];
            let mut changes = history.changes.clone();
            changes.extend(history::file_changes(cx.view, &files.files, history));
            changes.sort_by_key(|c| c.layer);
            let mut locations = vec![Location {
                path: entry.path.clone(),
                layer: entry.layer,
                lines: Some(entry.record.para.lines),
            }];
            if let Some(list) = &files.list {
                locations.push(list.clone());
            }
            let mut metadata = BTreeMap::new();
            for (field, keyname) in [
                ("Description", "description"),
                ("Section", "section"),
                ("Priority", "priority"),
                ("Homepage", "homepage"),
                ("Status", "status"),
                ("Multi-Arch", "multi-arch"),
            ] {
                if let Some(v) = p.get(field) {
                    metadata.insert(keyname.to_owned(), v.to_owned());
                }
            }
            let evidence = Evidence {
                locations,
                introduced_in: Some(history.introduced),
                changes,
                removed_in: gone,
                ..Evidence::default()
            };
            let vendor = src_name.clone().unwrap_or_else(|| name.clone());
            let package = Package {
                id: id.clone(),
                name: name.clone(),
                version: version.clone(),
                arch,
                kind: "deb".into(),
                cataloger: "dpkg".into(),
                purl,
                cpes: vec![cpe(&vendor, &name, &version)],
                source_package: src_name.map(|n| SourceRef {
                    name: n,
                    version: src_version,
                }),
                maintainer: p.get("Maintainer").map(str::to_owned),
                installed_size: p.get("Installed-Size").and_then(installed_size),
                licenses: Licenses::default(),
                metadata,
                evidence,
                files: files.files,
                files_truncated: files.truncated,
                ..Package::default()
            };
            if gone.is_some() {
                out.removed.push(package);
                continue;
            }
            for field in ["Depends", "Pre-Depends"] {
                if let Some(v) = p.get(field) {
                    for group in v.split(',') {
                        let alts: Vec<String> = group.split('|').filter_map(dep_name).collect();
                        if !alts.is_empty() {
                            deps.push((id.clone(), alts));
                        }
                    }
                }
            }
            by_name.entry(name.clone()).or_default().push(id.clone());
            if let Some(provides) = p.get("Provides") {
                for prov in provides.split(',').filter_map(dep_name) {
                    by_name.entry(prov).or_default().push(id.clone());
                }
            }
            out.packages.push(package);
        }
        cx.budget.give_back(budget);
        // Copyright files may need full-text matching, the one costly step: each distinct
        // free-form file once (packages of one source share theirs), in parallel.
        let files: Vec<Option<Copyright>> = out
            .packages
            .iter()
            .map(|p| copyright_file(cx.view, &p.name))
            .collect();
        let mut free_form: BTreeMap<[u8; 32], &str> = BTreeMap::new();
        let texts: Vec<Option<(String, [u8; 32])>> = files
            .iter()
            .map(|f| {
                f.as_ref().map(|c| {
                    let text = String::from_utf8_lossy(&c.bytes).into_owned();
                    (text, sha2::Sha256::digest(&c.bytes).into())
                })
            })
            .collect();
        let parsed: Vec<Option<copyright::Statements>> = texts
            .iter()
            .map(|t| t.as_ref().map(|(text, _)| copyright::parse(text)))
            .collect();
        for (t, p) in texts.iter().zip(&parsed) {
            if let (Some((text, hash)), Some(p)) = (t, p) {
                if !p.machine_readable {
                    free_form.entry(*hash).or_insert(text.as_str());
                }
            }
        }
        let matches: BTreeMap<[u8; 32], Vec<license::TextMatch>> = free_form
            .into_par_iter()
            .map(|(hash, text)| (hash, self.texts.get(hash, text)))
            .collect();
        for (i, p) in out.packages.iter_mut().enumerate() {
            if let (Some(file), Some((_, hash)), Some(statements)) =
                (&files[i], &texts[i], &parsed[i])
            {
                if !statements.copyrights.is_empty() {
                    p.copyright = Some(statements.copyrights.join("\n"));
                }
                p.licenses = if statements.machine_readable {
                    declared_licenses(statements, file)
                } else {
                    matched_licenses(&matches[hash], file)
                };
            }
        }
        out.relationships.extend(crate::depends_on(deps, &by_name));
        out
    }
}

/// purl namespace: the distribution for Debian and its derivatives.
fn namespace(cx: &Context) -> String {
    match cx.distro {
        Some(d) if d.id == "debian" || d.id_like.iter().any(|l| l == "debian") => d.id.clone(),
        _ => "debian".into(),
    }
}

/// `Installed-Size:` (KiB) in bytes; `None` when that does not fit in a u64 (the field is
/// the package's word, not a measured size: it must not panic or wrap).
fn installed_size(kib: &str) -> Option<u64> {
    kib.trim().parse::<u64>().ok()?.checked_mul(1024)
}

/// `Source: name (version)` or just `Source: name`.
fn source_of(p: &Paragraph) -> (Option<String>, Option<String>) {
    let Some(s) = p.get("Source") else {
        return (None, None);
    };
    let s = s.trim();
    match s.split_once('(') {
        Some((n, v)) => (
            Some(n.trim().to_owned()),
            Some(v.trim_end_matches(')').trim().to_owned()),
        ),
        None => (Some(s.to_owned()), None),
    }
}

/// The package name in a dependency such as `libc6 (>= 2.34)` or `python3:any`.
fn dep_name(s: &str) -> Option<String> {
    let s = s.trim();
    let end = s
        .find(|c: char| c.is_whitespace() || c == '(' || c == '[' || c == '<')
        .unwrap_or(s.len());
    let name = s[..end].split(':').next().unwrap_or("");
    (!name.is_empty()).then(|| name.to_owned())
}

/// The status file and the distroless `status.d` files, live or removed.
fn databases(view: &FsView) -> Vec<DbFile<'_>> {
    let mut out = history::databases(view, &[STATUS]);
    let pat = PathPattern::new(STATUS_D);
    for (path, node) in view.glob(&pat).into_iter().chain(view.glob_removed(&pat)) {
        let file = path.rsplit('/').next().unwrap_or("");
        if file.starts_with('.')
            || STATUS_D_EXTRA.iter().any(|e| file.ends_with(e))
            || node.versions.is_empty()
        {
            continue;
        }
        out.push(DbFile {
            path: format!("/{path}"),
            node,
        });
    }
    out
}

/// One installed package's paragraph in one version of a database file.
struct Record {
    para: Paragraph,
    /// From a distroless `status.d` file, whose owned files are in `FILE.md5sums`.
    status_d: bool,
}

fn installed(p: &Paragraph) -> bool {
    match p.get("Status") {
        // `want flag state`: config-files and not-installed mean no files are present.
        Some(s) => !matches!(
            s.split_whitespace().nth(2),
            Some("config-files" | "not-installed") | None
        ),
        None => true, // distroless status.d entries carry no Status
    }
}

/// `NAME:ARCH`, or `NAME` for `Architecture: all`.
fn key_of(p: &Paragraph) -> String {
    let name = p.get("Package").unwrap_or_default();
    match p.get("Architecture") {
        Some(a) if a != "all" => format!("{name}:{a}"),
        _ => name.to_owned(),
    }
}

/// The databases over time (the shared rules of `history`), reporting the malformed and
/// incomplete entries of the versions that are visible now.
fn timeline(dbs: &[DbFile], out: &mut Findings) -> Timeline<Record> {
    let warnings = &mut out.warnings;
    history::build(
        dbs,
        |db, vlayer, bytes, is_final| {
            let text = String::from_utf8_lossy(bytes);
            let (paras, malformed) = deb822::parse(&text);
            if is_final {
                for m in malformed {
                    warnings.push(
                        Warning::new(
                            WarningKind::Malformed,
                            format!("malformed entry skipped: {}", m.reason),
                        )
                        .at(&db.path, Some(vlayer))
                        .lines(m.lines)
                        .incomplete(),
                    );
                }
            }
            let status_d = db.path != format!("/{STATUS}");
            let mut records = Vec::new();
            for para in paras {
                // A package selected but not installed (`install ok not-installed`): dpkg
                // keeps no version for it, and it has no files.
                if para.get("Package").is_some() && !installed(&para) {
                    continue;
                }
                if para.get("Package").is_none() || para.get("Version").is_none() {
                    if is_final {
                        warnings.push(
                            Warning::new(
                                WarningKind::Malformed,
                                "entry has no Package or Version; skipped",
                            )
                            .at(&db.path, Some(vlayer))
                            .lines(para.lines)
                            .incomplete(),
                        );
                    }
                    continue;
                }
                if installed(&para) {
                    records.push(Arc::new(Record { para, status_d }));
                }
            }
            Parsed { records }
        },
        |r| key_of(&r.para),
        |r| r.para.get("Version").unwrap_or_default().to_owned(),
    )
}

struct Owned {
    files: Vec<OwnedFile>,
    list: Option<Location>,
    /// The budget ran out before every path was taken.
    truncated: bool,
    /// Paths refused, the list cut short (for the caller to give the package's id).
    problems: Vec<Warning>,
}

/// The paths of one `.list` or `.md5sums` file.
struct Listed {
    /// Each path with its md5 (for an md5sums file).
    paths: Vec<(String, Option<String>)>,
    /// The budget ran out before the last path.
    truncated: bool,
    /// The paths no Linux system could have, refused: one warning naming the first line.
    refused: Option<Warning>,
}

/// The paths of a `.list` or `.md5sums` file (`HASH  PATH` lines when `md5sums`), taken while
/// `budget` lasts (all of them without one), without paths over the kernel's limits.
fn list_paths(
    text: &str,
    md5sums: bool,
    at: &Location,
    mut budget: Option<&mut crate::FileBudget>,
) -> Listed {
    let mut out = Listed {
        paths: Vec::new(),
        truncated: false,
        refused: None,
    };
    let mut refused = history::Refused::default();
    for (i, line) in text.lines().enumerate() {
        let (hash, path) = if md5sums {
            match line.split_once(char::is_whitespace) {
                Some((h, p)) => (Some(h.trim()), p.trim()),
                None => continue,
            }
        } else {
            (None, line.trim())
        };
        if path.is_empty() || path == "/." {
            continue;
        }
        let path = format!("/{}", path.trim_start_matches('/'));
        if !refused.allows(&path, Some(i + 1)) {
            continue;
        }
        if let Some(b) = budget.as_deref_mut() {
            if !b.take(path.len()) {
                out.truncated = true;
                break;
            }
        }
        out.paths.push((path, hash.map(str::to_owned)));
    }
    out.refused = refused.warning(at);
    out
}

/// The files a package owns: `info/NAME[:ARCH].list` (or, for distroless status.d entries,
/// the paths in `status.d/NAME.md5sums`), with md5 digests from the md5sums file, while the
/// owned-file budget lasts.
fn owned_files(
    view: &FsView,
    name: &str,
    arch: Option<&str>,
    status_d: Option<&str>,
    gone: bool,
    budget: &mut crate::FileBudget,
) -> Owned {
    let candidates: Vec<String> = match arch {
        Some(a) => vec![format!("{name}:{a}"), name.to_owned()],
        None => vec![name.to_owned()],
    };
    let read = |path: &str| -> Option<(Location, String)> {
        // A removed package's lists are read from the last version before their removal.
        let node = view
            .get(path)
            .or_else(|| view.removed(path).filter(|_| gone))?;
        let (layer, content) = node.version()?;
        let at = Location {
            path: format!("/{}", path.trim_start_matches('/')),
            layer,
            lines: None,
        };
        Some((at, String::from_utf8_lossy(content).into_owned()))
    };
    let md5_path = match status_d {
        Some(db) => vec![format!("{db}.md5sums")],
        None => candidates
            .iter()
            .map(|c| format!("{INFO}/{c}.md5sums"))
            .collect(),
    };
    let md5_file = md5_path.iter().find_map(|p| read(p));
    let list_file = candidates
        .iter()
        .find_map(|c| read(&format!("{INFO}/{c}.list")));
    // The .list file names the files (charged to the budget); the md5sums file gives their
    // digests, and names the files itself only when there is no .list (distroless status.d).
    let (listed, from, list, md5) = match (list_file, md5_file) {
        (Some((at, text)), md5_file) => {
            let md5 = md5_file.map(|(at5, text5)| list_paths(&text5, true, &at5, None).paths);
            let listed = list_paths(&text, false, &at, Some(budget));
            (listed, at.clone(), Some(at), md5)
        }
        (None, Some((at5, text5))) => {
            let listed = list_paths(&text5, true, &at5, Some(budget));
            (listed, at5, None, None)
        }
        (None, None) => {
            return Owned {
                files: Vec::new(),
                list: None,
                truncated: false,
                problems: Vec::new(),
            }
        }
    };
    let md5: BTreeMap<String, String> = md5
        .unwrap_or_else(|| listed.paths.clone())
        .into_iter()
        .filter_map(|(p, h)| Some((p, h?)))
        .collect();
    let mut problems: Vec<Warning> = listed.refused.into_iter().collect();
    if listed.truncated {
        problems.push(history::truncated(&from));
    }
    let mut files = Vec::new();
    for (p, _) in listed.paths {
        let live = view.resolve(&p).ok().flatten();
        if matches!(live, Some((_, n)) if n.kind == cairn_image::NodeKind::Dir) {
            continue;
        }
        if live.is_none()
            && view
                .removed(&p)
                .is_some_and(|n| n.kind == cairn_image::NodeKind::Dir)
        {
            continue;
        }
        files.push(OwnedFile {
            digest: md5.get(&p).map(|v| FileDigest {
                algorithm: "md5".into(),
                value: v.clone(),
            }),
            layer: live.map(|(_, n)| n.layer()),
            path: p,
        });
    }
    Owned {
        files,
        list,
        truncated: listed.truncated,
        problems,
    }
}

/// A package's copyright file: where it was read and what it says.
struct Copyright {
    path: String,
    layer: usize,
    bytes: Arc<[u8]>,
}

/// `/usr/share/doc/NAME/copyright`, even when a later layer deleted it (slim images do): the
/// statement was made by the package, and the evidence says which layer it was read from.
fn copyright_file(view: &FsView, name: &str) -> Option<Copyright> {
    let path = format!("/usr/share/doc/{name}/copyright");
    match view.resolve(&path) {
        Ok(Some((real, node))) => node.content().map(|c| Copyright {
            path: format!("/{real}"),
            layer: node.layer(),
            bytes: c.clone(),
        }),
        _ => None,
    }
    .or_else(|| {
        let (layer, c) = view.removed(&path)?.version()?;
        Some(Copyright {
            path: path.clone(),
            layer,
            bytes: c.clone(),
        })
    })
}

/// A free-form copyright file: only full license texts it contains, matched against the
/// SPDX license list's texts with high confidence, count. Anything else is NOASSERTION.
fn matched_licenses(found: &[license::TextMatch], file: &Copyright) -> Licenses {
    let exprs: Vec<String> = found.iter().map(|m| m.id.clone()).collect();
    Licenses {
        declared: license::all_of(&exprs),
        evidence: found
            .iter()
            .map(|m| LicenseEvidence {
                value: format!("full text of {} (match score {:.2})", m.id, m.score),
                spdx: m.id.clone(),
                location: Location {
                    path: file.path.clone(),
                    layer: file.layer,
                    lines: Some(m.lines),
                },
                text: None,
            })
            .collect(),
    }
}

/// A machine-readable (DEP-5) copyright file: its `License:` statements.
fn declared_licenses(parsed: &copyright::Statements, file: &Copyright) -> Licenses {
    let mut evidence = Vec::new();
    let mut exprs = Vec::new();
    for (statement, lines) in &parsed.uses {
        let spdx = license::expression(statement);
        exprs.push(spdx.clone());
        evidence.push(LicenseEvidence {
            value: statement.clone(),
            text: spdx
                .contains("LicenseRef-")
                .then(|| parsed.texts.get(statement).cloned())
                .flatten(),
            spdx,
            location: Location {
                path: file.path.clone(),
                layer: file.layer,
                lines: Some(*lines),
            },
        });
    }
    Licenses {
        declared: license::all_of(&exprs),
        evidence,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `.list` file is read while the owned-file budget lasts, and an impossible path is
    /// refused with the line it is on, not resolved.
    #[test]
    fn list_lines_past_the_budget_are_truncated_and_deep_ones_refused() {
        let at = Location {
            path: "/var/lib/dpkg/info/x.list".into(),
            layer: 2,
            lines: None,
        };
        let deep = "/a".repeat(3000);
        let text = format!("/.\n/usr/bin/a\n{deep}\n/usr/bin/b\n/usr/bin/c\n");
        let mut budget = crate::FileBudget {
            files: 2,
            path_bytes: 1 << 20,
        };
        let listed = list_paths(&text, false, &at, Some(&mut budget));
        let paths: Vec<&str> = listed.paths.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, ["/usr/bin/a", "/usr/bin/b"]);
        assert!(listed.truncated);
        let w = listed.refused.unwrap();
        assert_eq!((w.lines, w.layer), (Some((3, 3)), Some(2)));
        assert_eq!(w.kind, WarningKind::InvalidPath);
        let all = list_paths(
            "d41d8cd98f00b204e9800998ecf8427e  usr/bin/a\n",
            true,
            &at,
            None,
        );
        assert_eq!(
            all.paths,
            [(
                "/usr/bin/a".to_owned(),
                Some("d41d8cd98f00b204e9800998ecf8427e".to_owned())
            )]
        );
    }

    /// A size no file system holds (u64::MAX KiB) is no size, not a panic or a wrapped value.
    #[test]
    fn installed_size_18446744073709551615_is_none() {
        assert_eq!(installed_size("18446744073709551615"), None);
        // The largest that fits, and the smallest that does not.
        assert_eq!(installed_size("18014398509481983"), Some(u64::MAX - 1023));
        assert_eq!(installed_size("18014398509481984"), None);
        assert_eq!(installed_size(" 42 "), Some(42 * 1024));
        assert_eq!(installed_size("-1"), None);
    }

    /// A DEP-5 copyright file whose `License:` field names a `LicenseRef-` keeps it as is.
    #[test]
    fn dep5_license_licenseref_callaway_bsd_is_not_prefixed_again() {
        let text = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n\
Files: *\nCopyright: 2020 A\nLicense: LicenseRef-Callaway-BSD and Expat\n\n\
License: LicenseRef-Callaway-BSD\n Redistribution and use ...\n";
        let file = Copyright {
            path: "/usr/share/doc/x/copyright".into(),
            layer: 0,
            bytes: Arc::from(text.as_bytes()),
        };
        let l = declared_licenses(&copyright::parse(text), &file);
        assert_eq!(
            l.declared.as_deref(),
            Some("LicenseRef-Callaway-BSD AND MIT")
        );
        assert_eq!(l.evidence[0].spdx, "LicenseRef-Callaway-BSD AND MIT");
    }
}
