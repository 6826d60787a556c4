//! Golden files: every output format of the real binary on the demo image (and on two small
//! hostile inputs, for warnings and an incomplete SBOM), compared byte for byte with the
//! files committed under `tests/golden/`. Any change to the output therefore shows up in
//! review as a change to those files. They are rewritten only on purpose:
//!
//! ```text
//! UPDATE_GOLDEN=1 cargo test -p cairn --test golden
//! ```
//!
//! Nothing in them may depend on the machine: the time comes from SOURCE_DATE_EPOCH, and
//! the scanned paths (recorded in the documents, and hashed into the SPDX namespace and
//! CycloneDX serial number of a directory scan) are relative, with the binary run from
//! the directory they are relative to.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Golden file name, and the arguments after `cairn sbom IMAGE`.
type Case = (&'static str, &'static [&'static str]);

/// The demo image, relative to the workspace root (which the binary is run from).
const DEMO: &str = "fixtures/images/demo/docker-archive.tar";

const DEMO_CASES: &[Case] = &[
    ("demo.table.txt", &["-o", "table"]),
    ("demo.cairn.json", &["-o", "json"]),
    ("demo.spdx.json", &["-o", "spdx-json"]),
    ("demo.spdx", &["-o", "spdx-tag-value"]),
    ("demo.cdx.json", &["-o", "cyclonedx-json"]),
];

/// `--files` adds every file, with digests, CONTAINS relationships and verification codes.
const DEMO_FILES_CASES: &[Case] = &[
    ("demo-files.spdx.json", &["--files", "-o", "spdx-json"]),
    ("demo-files.cdx.json", &["--files", "-o", "cyclonedx-json"]),
];

/// The hostile inputs scanned as directories: formats that carry their warnings.
const HOSTILE_FORMATS: &[(&str, &str)] = &[
    ("table.txt", "table"),
    ("cairn.json", "json"),
    ("spdx", "spdx-tag-value"),
    ("cdx.json", "cyclonedx-json"),
];

/// (`fixtures/hostile.py` kind, its --size): the duplicated and conflicting apk records
/// (warnings on packages, SBOM complete), and the apk F:/R: amplification at a size where
/// the owned-file budget truncates a file list (SBOM incomplete). At `--size 4096` the
/// paths are only refused as too long, which leaves the SBOM complete.
const HOSTILE: &[(&str, Option<usize>)] = &[("duplicates", None), ("apk-amplify", Some(65536))];

fn golden_dir() -> PathBuf {
    root().join("crates/cairn/tests/golden")
}

fn updating() -> bool {
    std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1")
}

/// `cairn sbom IMAGE ARGS…` run in `dir`: its stdout, after checking the exit code.
fn output(dir: &Path, image: &str, args: &[&str], code: i32) -> Vec<u8> {
    let mut all = vec!["sbom", image, "-q"];
    all.extend_from_slice(args);
    let out = cairn_in(dir, &all);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "cairn {all:?}: {stderr}");
    assert_eq!(
        out.status.code(),
        Some(code),
        "cairn {all:?} exit code; stderr: {stderr}"
    );
    out.stdout
}

/// Compare each output with its golden file and fail once, naming every file that differs;
/// with UPDATE_GOLDEN=1 rewrite the files that differ instead.
fn check(outputs: &[(String, Vec<u8>)]) {
    let dir = golden_dir();
    let mut failures = Vec::new();
    for (name, actual) in outputs {
        let path = dir.join(name);
        let expected = std::fs::read(&path).ok();
        if expected.as_deref() == Some(actual.as_slice()) {
            continue;
        }
        if updating() {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, actual).unwrap();
            eprintln!("updated {}", path.display());
            continue;
        }
        failures.push(match expected {
            None => format!("{name}: no golden file at {}", path.display()),
            Some(expected) => format!(
                "{name} differs from the golden file:\n{}",
                diff(
                    &String::from_utf8_lossy(&expected),
                    &String::from_utf8_lossy(actual)
                )
            ),
        });
    }
    assert!(
        failures.is_empty(),
        "{}\n\nIf the change is intended, rewrite the golden files with \
         `UPDATE_GOLDEN=1 cargo test -p cairn --test golden` and commit them with the change.",
        failures.join("\n\n")
    );
}

/// A unified-style diff of the first region that differs: the lines between the common
/// prefix and the common suffix (at most `MAX` of each side), with 3 lines of context.
fn diff(expected: &str, actual: &str) -> String {
    const CONTEXT: usize = 3;
    const MAX: usize = 20;
    let e: Vec<&str> = expected.split_inclusive('\n').collect();
    let a: Vec<&str> = actual.split_inclusive('\n').collect();
    let prefix = e.iter().zip(&a).take_while(|(x, y)| x == y).count();
    let suffix = e[prefix..]
        .iter()
        .rev()
        .zip(a[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (e_end, a_end) = (e.len() - suffix, a.len() - suffix);
    let start = prefix.saturating_sub(CONTEXT);
    let after = suffix.min(CONTEXT);
    let mut out = format!(
        "--- golden\n+++ actual\n@@ -{},{} +{},{} @@\n",
        start + 1,
        e_end - start + after,
        start + 1,
        a_end - start + after
    );
    let line = |out: &mut String, mark: char, l: &str| {
        out.push(mark);
        out.push_str(l.strip_suffix('\n').unwrap_or(l));
        if !l.ends_with('\n') {
            out.push_str("\n\\ No newline at end of file");
        }
        out.push('\n');
    };
    for l in &e[start..prefix] {
        line(&mut out, ' ', l);
    }
    for (mark, lines) in [('-', &e[prefix..e_end]), ('+', &a[prefix..a_end])] {
        for l in lines.iter().take(MAX) {
            line(&mut out, mark, l);
        }
        if lines.len() > MAX {
            out.push_str(&format!("{mark}… {} more lines\n", lines.len() - MAX));
        }
    }
    for l in &e[e_end..e_end + after] {
        line(&mut out, ' ', l);
    }
    out
}

fn demo_outputs(cases: &[Case]) -> Vec<(String, Vec<u8>)> {
    cases
        .iter()
        .map(|(name, args)| (name.to_string(), output(&root(), DEMO, args, 0)))
        .collect()
}

#[test]
fn demo_image_in_every_format_matches_the_golden_files() {
    check(&demo_outputs(DEMO_CASES));
}

#[test]
fn demo_image_with_files_matches_the_golden_files() {
    check(&demo_outputs(DEMO_FILES_CASES));
}

/// Build a hostile input into `dir/KIND` and scan it as `dir:KIND` from `dir`, in each
/// format that carries warnings.
fn hostile_outputs(kind: &str, size: Option<usize>, code: i32) -> Vec<(String, Vec<u8>)> {
    let dir = tempfile::tempdir().unwrap();
    let mut py = Command::new("python3");
    py.arg(root().join("fixtures/hostile.py"))
        .arg(kind)
        .arg(dir.path().join(kind));
    if let Some(n) = size {
        py.args(["--size", &n.to_string()]);
    }
    assert!(
        py.status().expect("python3 runs").success(),
        "hostile.py {kind}"
    );
    let image = format!("dir:{kind}");
    HOSTILE_FORMATS
        .iter()
        .map(|(ext, format)| {
            (
                format!("{kind}.{ext}"),
                output(dir.path(), &image, &["-o", format], code),
            )
        })
        .collect()
}

#[test]
fn duplicated_and_conflicting_records_match_the_golden_files() {
    let (kind, size) = HOSTILE[0];
    // Warnings on packages, but nothing is missing: exit 0.
    check(&hostile_outputs(kind, size, 0));
}

#[test]
fn a_truncated_file_list_matches_the_golden_files() {
    let (kind, size) = HOSTILE[1];
    // The SBOM is incomplete: exit 1, and every format says why.
    check(&hostile_outputs(kind, size, 1));
}

/// Every file under `tests/golden/` is one a test writes, so none is left behind, unchecked,
/// when a case is renamed or removed.
#[test]
fn every_golden_file_is_checked_by_a_test() {
    let mut known: Vec<String> = DEMO_CASES
        .iter()
        .chain(DEMO_FILES_CASES)
        .map(|(n, _)| n.to_string())
        .collect();
    for (kind, _) in HOSTILE {
        for (ext, _) in HOSTILE_FORMATS {
            known.push(format!("{kind}.{ext}"));
        }
    }
    known.push(".gitattributes".into());
    let Ok(entries) = std::fs::read_dir(golden_dir()) else {
        // The other tests say that the files are missing.
        return;
    };
    let mut stale: Vec<String> = entries
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !known.contains(n))
        .collect();
    stale.sort();
    assert!(
        stale.is_empty(),
        "files in {} that no test checks: {stale:?}",
        golden_dir().display()
    );
}

#[test]
fn the_diff_shows_the_first_differing_lines_with_context() {
    let d = diff("a\nb\nc\nd\ne\nf\n", "a\nb\nc\nd\nE\nf\n");
    assert_eq!(
        d,
        "--- golden\n+++ actual\n@@ -2,5 +2,5 @@\n b\n c\n d\n-e\n+E\n f\n"
    );
    let d = diff("x\n", "x\ny");
    assert_eq!(
        d,
        "--- golden\n+++ actual\n@@ -1,1 +1,2 @@\n x\n+y\n\\ No newline at end of file\n"
    );
}
