//! Hostile package databases and layers, built by `fixtures/hostile.py` (the same inputs
//! `bench/hostile.sh` measures at full size): each once made cairn hang, exhaust memory or
//! forge output. Each must now give a bounded, honest result: the SBOM marked incomplete
//! when something was left out, documents the official validators accept, and nothing on
//! the terminal or in the document that the image wrote there.

mod common;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Build one hostile input with fixtures/hostile.py into `dir`.
fn hostile(kind: &str, dir: &Path, size: Option<usize>) -> PathBuf {
    let out = dir.join(kind);
    let mut cmd = Command::new("python3");
    cmd.arg(root().join("fixtures/hostile.py"))
        .arg(kind)
        .arg(&out);
    if let Some(n) = size {
        cmd.args(["--size", &n.to_string()]);
    }
    let st = cmd.status().expect("python3 runs");
    assert!(st.success(), "hostile.py {kind} failed");
    out
}

/// Scan `dir:ROOT` to JSON; returns the exit code, the document and stderr.
fn scan(root: &Path, extra: &[&str]) -> (Option<i32>, Value, String) {
    let src = format!("dir:{}", root.display());
    let mut args = vec!["sbom", src.as_str(), "-o", "json"];
    args.extend_from_slice(extra);
    let out = cairn(&args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    let doc = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON SBOM ({e}); stderr: {stderr}"));
    (out.status.code(), doc, stderr)
}

fn package<'a>(doc: &'a Value, name: &str) -> Vec<&'a Value> {
    doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["name"] == name)
        .collect()
}

fn warnings_of<'a>(doc: &'a Value, kind: &str) -> Vec<&'a Value> {
    doc["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["kind"] == kind)
        .collect()
}

/// Every output format of one scan, checked by the official validators.
fn all_formats_validate(root: &Path, dir: &Path) {
    let src = format!("dir:{}", root.display());
    let (json, tv, cdx) = (
        dir.join("out.spdx.json"),
        dir.join("out.spdx"),
        dir.join("out.cdx.json"),
    );
    let out = cairn(&[
        "sbom",
        &src,
        "-q",
        "-o",
        &format!("spdx-json={}", json.display()),
        "-o",
        &format!("spdx-tag-value={}", tv.display()),
        "-o",
        &format!("cyclonedx-json={}", cdx.display()),
    ]);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{out:?}");
    pyspdxtools(&json);
    pyspdxtools(&tv);
    cyclonedx_validate(&cdx);
}

/// A 2 MB `/a/a/a/...` line in a `.list` file took hours (19 s for 200 KB): the path is
/// refused with a warning naming the file and line, and the package keeps its real files.
#[test]
fn deep_list_line_of_2mb_is_refused_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let root = hostile("deep-list", dir.path(), None);
    let (code, doc, _) = scan(&root, &[]);
    assert_eq!(code, Some(0), "an impossible path costs no package");
    let victim = package(&doc, "victim");
    assert_eq!(victim.len(), 1);
    let files: Vec<&str> = victim[0]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(files, ["/usr/bin/victim"]);
    let w = warnings_of(&doc, "invalid-path");
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0]["path"], "/var/lib/dpkg/info/victim:amd64.list");
    assert_eq!(w[0]["lines"], serde_json::json!([3, 3]));
    assert!(w[0]["message"]
        .as_str()
        .unwrap()
        .contains("4096-byte limit"));
    assert_eq!(w[0]["package"], victim[0]["id"]);
}

/// One 1 MB `F:` line and 3,000 `R:` lines made cairn allocate 5 GB and abort: paths are now
/// built under the owned-file budget, the package is still reported with its file list
/// marked truncated, the SBOM is incomplete and cairn exits 1.
#[test]
fn apk_f_line_of_1mb_with_3000_r_lines_is_truncated_not_amplified() {
    let dir = tempfile::tempdir().unwrap();
    let root = hostile("apk-amplify", dir.path(), None);
    let (code, doc, stderr) = scan(&root, &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(doc["complete"], false);
    let amplified = package(&doc, "amplified");
    assert_eq!(amplified.len(), 1);
    assert_eq!(amplified[0]["files_truncated"], true);
    assert_eq!(package(&doc, "innocent").len(), 1);
    let limit = warnings_of(&doc, "limit");
    assert!(
        limit
            .iter()
            .any(|w| w["package"] == amplified[0]["id"] && w["incomplete"] == true),
        "{limit:?}"
    );
    assert!(stderr.contains("INCOMPLETE"), "{stderr}");
    all_formats_validate(&root, dir.path());
}

/// The rpm join (one dirname of 1 MB shared by 3,000 basenames) has the same shape.
#[test]
fn rpm_dirname_of_1mb_with_3000_basenames_is_truncated_not_amplified() {
    let dir = tempfile::tempdir().unwrap();
    let root = hostile("rpm-amplify", dir.path(), None);
    let (code, doc, stderr) = scan(&root, &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(doc["complete"], false);
    let amplified = package(&doc, "amplified");
    assert_eq!(amplified.len(), 1, "{stderr}");
    assert_eq!(amplified[0]["files_truncated"], true);
    assert_eq!(package(&doc, "innocent").len(), 1);
    assert!(warnings_of(&doc, "limit")
        .iter()
        .any(|w| w["package"] == amplified[0]["id"]));
    all_formats_validate(&root, dir.path());
}

/// A dpkg status whose continuation lines look like tag-value lines (`Relationship:`,
/// `PackageName:`, `SPDXID:`, a `</text>`) printed them as lines of the document.
#[test]
fn dpkg_continuation_lines_cannot_forge_tag_value_lines() {
    let dir = tempfile::tempdir().unwrap();
    let root = hostile("forged-status", dir.path(), None);
    let src = format!("dir:{}", root.display());
    let tv = cairn_ok(&["sbom", &src, "-o", "spdx-tag-value"]);
    for forged in [
        "Relationship: SPDXRef-DOCUMENT DESCRIBES SPDXRef-Evil",
        "PackageName: evil",
        "SPDXID: SPDXRef-Evil",
        "PackageName: evil-too",
    ] {
        assert!(
            !tv.lines().any(|l| l.trim_start() == forged),
            "the image added the line {forged:?}:\n{tv}"
        );
    }
    let names: Vec<&str> = tv
        .lines()
        .filter_map(|l| l.strip_prefix("PackageName: "))
        .collect();
    assert_eq!(names.len(), 2, "the image and the one package: {names:?}");
    assert!(names.contains(&"forged"));
    let describes = tv
        .lines()
        .filter(|l| l.starts_with("Relationship:") && l.contains(" DESCRIBES "))
        .count();
    assert_eq!(describes, 1);
    // An SPDX actor is a name and an email: what follows the email is no part of it.
    let supplier = tv
        .lines()
        .find(|l| l.starts_with("PackageSupplier: Person: Mallory"))
        .expect("the maintainer, on one line");
    assert_eq!(supplier, "PackageSupplier: Person: Mallory (m@example.org)");
    // cairn's own JSON keeps the whole field, as text.
    let own: serde_json::Value =
        serde_json::from_str(&cairn_ok(&["sbom", &src, "-o", "json"])).unwrap();
    let forged = own["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "forged")
        .unwrap();
    assert!(forged["maintainer"]
        .as_str()
        .unwrap()
        .contains("Relationship: SPDXRef-DOCUMENT"));
    all_formats_validate(&root, dir.path());
}

/// apk listed the same package twice and gave duplicate SPDX ids and bom-refs, which made
/// both documents invalid. The same record twice is one package with both entries as
/// evidence; two different records of one identity are both reported, with distinct ids.
#[test]
fn apk_package_listed_twice_is_reported_once_and_documents_stay_valid() {
    let dir = tempfile::tempdir().unwrap();
    let root = hostile("duplicates", dir.path(), None);
    let (code, doc, stderr) = scan(&root, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    let twice = package(&doc, "twice");
    assert_eq!(twice.len(), 1);
    let lines: Vec<&Value> = twice[0]["evidence"]["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| &l["lines"])
        .collect();
    assert_eq!(
        lines,
        [&serde_json::json!([1, 6]), &serde_json::json!([8, 13])]
    );
    let conflict = package(&doc, "conflict");
    assert_eq!(conflict.len(), 2);
    assert_ne!(conflict[0]["id"], conflict[1]["id"]);
    assert_eq!(warnings_of(&doc, "duplicate").len(), 1);
    assert_eq!(warnings_of(&doc, "conflict").len(), 1);
    let ids: std::collections::BTreeSet<&str> = doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), doc["packages"].as_array().unwrap().len());
    all_formats_validate(&root, dir.path());
}

/// Package fields and warning text from the image reached the terminal raw: an escape
/// sequence in a package name or in a broken database line could drive the user's terminal.
#[test]
fn escape_sequences_from_the_image_never_reach_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("lib/apk/db")).unwrap();
    std::fs::write(
        root.join("lib/apk/db/installed"),
        "P:evil\x1b]0;owned\x07\x1b[2J\nV:1.0-r0\nA:x86_64\nL:MIT\n\n\x1b[31mgarbage\n",
    )
    .unwrap();
    let out = cairn(&["sbom", &format!("dir:{}", root.display())]);
    assert_eq!(out.status.code(), Some(1));
    for stream in [&out.stdout, &out.stderr] {
        let text = String::from_utf8_lossy(stream);
        assert!(!text.contains('\x1b') && !text.contains('\x07'), "{text:?}");
    }
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("evil\\u{1b}]0;owned\\u{7}"), "{table}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("\\u{1b}[31mgarbage"), "{stderr}");
}

/// With -q an incomplete SBOM exited 1 in silence.
#[test]
fn quiet_incomplete_scan_still_says_why_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("var/lib/dpkg")).unwrap();
    std::fs::write(
        root.join("var/lib/dpkg/status"),
        "Package: a\nVersion: 1\n\nnot a field\n",
    )
    .unwrap();
    let out = cairn(&["sbom", &format!("dir:{}", root.display()), "-q"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("INCOMPLETE") && stderr.contains("1 problem"),
        "{stderr}"
    );
}

/// A layer of many empty files is scanned; memory for millions of them is measured by
/// bench/hostile.sh.
#[test]
fn layer_of_20000_empty_files_scans() {
    let dir = tempfile::tempdir().unwrap();
    let img = hostile("empty-files", dir.path(), Some(20_000));
    let out = cairn(&["sbom", img.to_str().unwrap(), "-o", "json", "--files"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["files"].as_array().unwrap().len(), 20_000);
}
