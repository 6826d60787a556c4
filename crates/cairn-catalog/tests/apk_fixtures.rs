//! The real Alpine `installed` databases in the shared fixture folder (see its SOURCES.md)
//! must yield exactly the packages of their `expected.json`.
//!
//! Until the apk cataloger is wired into `lib.rs`, the parser is compiled here directly from
//! its source file, so it is built and tested from the start.

#[path = "../src/apk/installed.rs"]
#[allow(dead_code)]
mod installed;

use std::path::Path;

use serde_json::{json, Value};

#[test]
fn every_apk_fixture_yields_exactly_its_expected_packages() {
    let root = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures/pkgdb/apk"
    ));
    if !root.is_dir() {
        eprintln!("skipping: apk fixtures not found at {}", root.display());
        return;
    }
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
        // Every file of every package has an absolute path, and every `R:` file a digest.
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
