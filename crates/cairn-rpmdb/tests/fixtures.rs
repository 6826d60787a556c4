//! Every real rpm database in fixtures/pkgdb (see its SOURCES.md) must yield
//! exactly the packages of its `expected.json`, which came from rpm itself.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

#[path = "../../../fixtures/require.rs"]
mod require;
use require::pkgdb;

/// `(fixture dir, database file name)` for each fixture in `rpm`, the rpm fixtures' folder.
fn rpm_fixtures(rpm: &Path) -> Vec<(PathBuf, PathBuf)> {
    let mut out = Vec::new();
    for dir in std::fs::read_dir(rpm).unwrap() {
        let dir = dir.unwrap().path();
        for name in ["rpmdb.sqlite", "Packages.db", "Packages"] {
            let db = dir.join(name);
            if db.is_file() {
                out.push((dir.clone(), db));
            }
        }
    }
    out.sort();
    out
}

fn as_expected(p: &cairn_rpmdb::RpmPackage) -> Value {
    json!({
        "name": p.name,
        "epoch": p.epoch,
        "version": p.version,
        "release": p.release,
        "arch": p.arch,
        "license": p.license,
        "source_rpm": p.source_rpm,
    })
}

fn sort_key(v: &Value) -> (String, String, String, String) {
    let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
    (s("name"), s("version"), s("release"), s("arch"))
}

#[test]
fn every_rpm_fixture_yields_exactly_its_expected_packages() {
    let Some(rpm) = pkgdb("rpm") else { return };
    let fixtures = rpm_fixtures(&rpm);
    assert_eq!(fixtures.len(), 8, "fixtures found: {fixtures:?}");
    for (dir, db) in fixtures {
        let bytes = std::fs::read(&db).unwrap();
        let parsed =
            cairn_rpmdb::read_database(&bytes).unwrap_or_else(|e| panic!("{}: {e}", db.display()));
        assert!(
            parsed.problems.is_empty(),
            "{}: {:?}",
            db.display(),
            parsed.problems
        );
        let mut got: Vec<Value> = parsed.packages.iter().map(as_expected).collect();
        got.sort_by_key(sort_key);
        let expected: Value =
            serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();
        assert_eq!(Value::Array(got), expected, "{}", db.display());
    }
}

#[test]
fn formats_are_recognised_by_content() {
    let Some(rpm) = pkgdb("rpm") else { return };
    use cairn_rpmdb::Format;
    for (_, db) in rpm_fixtures(&rpm) {
        let bytes = std::fs::read(&db).unwrap();
        let want = match db.file_name().unwrap().to_str().unwrap() {
            "rpmdb.sqlite" => Format::Sqlite,
            "Packages.db" => Format::Ndb,
            _ => Format::BerkeleyDb,
        };
        assert_eq!(Format::detect(&bytes), Some(want), "{}", db.display());
    }
}

/// The file lists, digests and relationships come out consistent for every package.
#[test]
fn file_lists_and_dependencies_are_complete() {
    let Some(rpm) = pkgdb("rpm") else { return };
    let bytes = std::fs::read(rpm.join("cbl-mariner-2.0/rpmdb.sqlite")).unwrap();
    let db = cairn_rpmdb::read_database(&bytes).unwrap();
    let bash = db.packages.iter().find(|p| p.name == "bash").unwrap();
    assert_eq!(bash.digest_algorithm, cairn_rpmdb::DigestAlgorithm::Sha256);
    let bin = bash.files.iter().find(|f| f.path == "/bin/bash").unwrap();
    assert_eq!(bin.digest.as_ref().map(String::len), Some(64));
    assert!(bin.mode.unwrap() & 0o100000 != 0, "regular file");
    assert!(bash.provides.iter().any(|p| p == "/bin/sh"));
    assert!(bash.requires.iter().any(|r| r.starts_with("libc.so.6")));
    assert!(bash.size.unwrap() > 1_000_000);
    for p in &db.packages {
        for f in &p.files {
            assert!(f.path.starts_with('/'), "{}: {}", p.name, f.path);
        }
    }
    // The Berkeley DB copy holds the very same headers: every field must match.
    let bdb = std::fs::read(rpm.join("mariner-2.0-as-bdb/Packages")).unwrap();
    let mut from_bdb = cairn_rpmdb::read_database(&bdb).unwrap().packages;
    let mut from_sqlite = db.packages.clone();
    from_bdb.sort_by(|a, b| a.name.cmp(&b.name));
    from_sqlite.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(from_bdb, from_sqlite);
}
