//! End to end on the rpm and apk fixture images (fixtures/build-pkgdb-images.sh): the packages
//! equal the databases' ground truth, provenance names the right layers, and the SPDX and
//! CycloneDX outputs pass the official validators (installed by scripts/setup).

mod common;
use common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn image(name: &str) -> PathBuf {
    root().join("fixtures/images").join(name)
}

fn packages(sbom: &Value) -> Vec<&Value> {
    sbom["packages"].as_array().unwrap().iter().collect()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// An rpm package of the SBOM in the shape of the fixtures' `expected.json`: the
/// `[epoch:]version-release` split back into its fields.
fn as_expected_rpm(p: &Value) -> Value {
    let evr = p["version"].as_str().unwrap();
    let (epoch, vr) = match evr.split_once(':') {
        Some((e, vr)) => (Value::from(e.parse::<u64>().unwrap()), vr),
        None => (Value::Null, evr),
    };
    let (version, release) = vr.rsplit_once('-').unwrap();
    serde_json::json!({
        "name": p["name"],
        "epoch": epoch,
        "version": version,
        "release": release,
        "arch": p["arch"],
        "license": p["licenses"]["evidence"][0]["value"],
        "source_rpm": p["metadata"]["source-rpm"],
    })
}

#[test]
fn fedora_rpm_image_yields_the_rpmdb_ground_truth() {
    let expected = read_json(&image("fedora-rpm/expected.json"));
    for form in ["oci", "docker-archive.tar"] {
        let sbom = scan_json(image("fedora-rpm").join(form).to_str().unwrap());
        assert_eq!(sbom["distro"]["id"], "fedora");
        assert_eq!(sbom["distro"]["version_id"], "36");
        assert_eq!(sbom["complete"], true, "{form}: {:?}", sbom["warnings"]);
        let rpms: Vec<&Value> = packages(&sbom)
            .into_iter()
            .filter(|p| p["type"] == "rpm")
            .collect();
        let got: Vec<Value> = rpms.iter().map(|p| as_expected_rpm(p)).collect();
        assert_eq!(Value::Array(got), expected, "{form}");
        let tz = rpms[0];
        assert_eq!(
            tz["purl"],
            "pkg:rpm/fedora/tzdata@2022a-2.fc36?arch=noarch&distro=fedora-36&upstream=tzdata-2022a-2.fc36.src.rpm"
        );
        // Installed by the second layer, read from the database file that layer wrote.
        assert_eq!(tz["evidence"]["introduced_in"], 1);
        let loc = &tz["evidence"]["locations"][0];
        assert_eq!(loc["path"], "/usr/lib/sysimage/rpm/rpmdb.sqlite");
        assert_eq!(loc["layer"], 1);
        let files = tz["files"].as_array().unwrap();
        assert!(files.len() > 1000);
        let utc = files
            .iter()
            .find(|f| f["path"] == "/usr/share/zoneinfo/UTC")
            .unwrap();
        assert_eq!(utc["digest"]["algorithm"], "sha256");
        // The image holds only the database, not tzdata's files.
        assert_eq!(utc["layer"], Value::Null);
    }
}

/// `name -> version` of a truth file.
fn versions(truth: &Value) -> BTreeMap<String, String> {
    truth
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["version"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn alpine_apk_image_yields_the_final_database_with_its_history() {
    let before = versions(&read_json(&image("alpine-apk/truth/layer-2.json")));
    let final_truth = read_json(&image("alpine-apk/truth/layer-3.json"));
    let after = versions(&final_truth);
    for form in ["oci", "docker-archive.tar"] {
        let sbom = scan_json(image("alpine-apk").join(form).to_str().unwrap());
        assert_eq!(sbom["distro"]["id"], "alpine");
        assert_eq!(sbom["complete"], true, "{form}: {:?}", sbom["warnings"]);
        let apks: Vec<&Value> = packages(&sbom)
            .into_iter()
            .filter(|p| p["type"] == "apk")
            .collect();
        let mut got: Vec<Value> = apks
            .iter()
            .map(|p| {
                serde_json::json!({
                    "name": p["name"],
                    "version": p["version"],
                    "arch": p["arch"],
                    "license": p["licenses"]["evidence"][0]["value"],
                    "origin": p["source_package"]["name"],
                })
            })
            .collect();
        got.sort_by_key(|v| v["name"].as_str().unwrap().to_owned());
        assert_eq!(Value::Array(got), final_truth, "{form}");
        for p in &apks {
            let name = p["name"].as_str().unwrap();
            let ev = &p["evidence"];
            assert_eq!(ev["locations"][0]["path"], "/lib/apk/db/installed");
            assert_eq!(ev["locations"][0]["layer"], 2, "{name}");
            match before.get(name) {
                // New in 3.18: introduced by the upgrade layer.
                None => {
                    assert_eq!(ev["introduced_in"], 2, "{name}");
                    assert_eq!(ev["changes"], serde_json::json!([]), "{name}");
                }
                Some(old) => {
                    assert_eq!(ev["introduced_in"], 1, "{name}");
                    let changes = ev["changes"].as_array().unwrap();
                    if *old == after[name] {
                        assert!(changes.is_empty(), "{name}: {changes:?}");
                    } else {
                        assert_eq!(changes.len(), 1, "{name}: {changes:?}");
                        assert_eq!(changes[0]["kind"], "version-changed");
                        assert_eq!(changes[0]["layer"], 2);
                        assert_eq!(changes[0]["from_version"], old.as_str());
                        assert_eq!(changes[0]["to_version"], after[name].as_str());
                    }
                }
            }
        }
        let musl = apks.iter().find(|p| p["name"] == "musl").unwrap();
        assert_eq!(
            musl["purl"],
            format!(
                "pkg:apk/alpine/musl@{}?arch=x86_64&distro=alpine-3.18.0",
                after["musl"]
            )
        );
        // busybox depends on musl through `so:libc.musl-x86_64.so.1`.
        let busybox = apks.iter().find(|p| p["name"] == "busybox").unwrap();
        assert!(sbom["relationships"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["from"] == busybox["id"]
                && r["kind"] == "depends-on"
                && r["to"] == musl["id"]));
    }
    // Sanity of the fixture itself: the upgrade changed versions.
    assert!(before
        .iter()
        .any(|(n, v)| after.get(n).is_some_and(|a| a != v)));
}

#[test]
fn rpm_and_apk_images_pass_the_spdx_and_cyclonedx_validators() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["fedora-rpm", "alpine-apk"] {
        let img = image(name).join("oci");
        let img = img.to_str().unwrap();
        for (format, file) in [
            ("spdx-json", format!("{name}.spdx.json")),
            ("spdx-tag-value", format!("{name}.spdx")),
            ("cyclonedx-json", format!("{name}.cdx.json")),
        ] {
            let path = dir.path().join(file);
            cairn_ok(&[
                "sbom",
                img,
                "-o",
                &format!("{format}={}", path.display()),
                "-q",
            ]);
            if format == "cyclonedx-json" {
                cyclonedx_validate(&path);
            } else {
                pyspdxtools(&path);
            }
        }
    }
}

/// A root filesystem holding `db` at `path` (relative), with an os-release.
fn rootfs_with(dir: &Path, path: &str, db: &[u8]) -> String {
    let root = dir.join("root");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::write(root.join("etc/os-release"), "ID=fedora\nVERSION_ID=36\n").unwrap();
    let file = root.join(path);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(file, db).unwrap();
    format!("dir:{}", root.display())
}

/// Damaged databases inside an image: the SBOM is still written, names the file in a warning
/// and is marked incomplete; nothing panics or hangs.
#[test]
fn corrupt_databases_give_warnings_naming_the_file() {
    let sqlite_garbage = {
        let mut b = b"SQLite format 3\0".to_vec();
        b.resize(8192, 0x5a);
        b
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "var/lib/rpm/rpmdb.sqlite",
            b"not a database at all\n".to_vec(),
            "not an rpm database",
        ),
        ("var/lib/rpm/rpmdb.sqlite", sqlite_garbage, "sqlite"),
        (
            "var/lib/rpm/Packages",
            {
                // A hash metadata page claiming 100 pages, and nothing after it.
                let mut b = vec![0u8; 4096];
                b[12..16].copy_from_slice(&0x0006_1561u32.to_le_bytes());
                b[20..24].copy_from_slice(&4096u32.to_le_bytes());
                b[25] = 8;
                b[32..36].copy_from_slice(&99u32.to_le_bytes());
                b
            },
            "truncated",
        ),
        (
            "lib/apk/db/installed",
            b"P:musl\nA:x86_64\n\nnonsense line\n".to_vec(),
            "[1,1] package record has no V: line",
        ),
    ];
    for (path, db, says) in cases {
        let dir = tempfile::tempdir().unwrap();
        let img = rootfs_with(dir.path(), path, &db);
        // An incomplete SBOM is still written, and cairn exits 1 (see main.rs).
        let out = cairn(&["sbom", &img, "-o", "json", "-q"]);
        assert_eq!(out.status.code(), Some(1), "{path}");
        let sbom: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(sbom["complete"], false, "{path}");
        let warnings = sbom["warnings"].as_array().unwrap();
        assert!(
            warnings.iter().any(|w| w["path"] == format!("/{path}")
                && w["kind"] == "malformed"
                && w["incomplete"] == true
                && format!("{} {}", w["lines"], w["message"].as_str().unwrap()).contains(says)),
            "{path}: {warnings:?}"
        );
    }
}

/// Every real rpm database in fixtures/pkgdb, placed where its distribution keeps
/// it in a root filesystem, scans to exactly the packages of its `expected.json`.
#[test]
fn every_rpm_fixture_database_scans_to_its_ground_truth() {
    let Some(rpm) = pkgdb("rpm") else { return };
    let mut seen = 0;
    for entry in std::fs::read_dir(&rpm).unwrap() {
        let fixture = entry.unwrap().path();
        let (file, at) = [
            ("rpmdb.sqlite", "usr/lib/sysimage/rpm/rpmdb.sqlite"),
            ("Packages.db", "usr/lib/sysimage/rpm/Packages.db"),
            ("Packages", "var/lib/rpm/Packages"),
        ]
        .into_iter()
        .find(|(f, _)| fixture.join(f).is_file())
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let img = rootfs_with(dir.path(), at, &std::fs::read(fixture.join(file)).unwrap());
        if let Ok(os) = std::fs::read(fixture.join("os-release")) {
            std::fs::write(dir.path().join("root/etc/os-release"), os).unwrap();
        }
        let sbom = scan_json(&img);
        assert_eq!(sbom["complete"], true, "{}", fixture.display());
        let mut got: Vec<Value> = packages(&sbom).into_iter().map(as_expected_rpm).collect();
        got.sort_by_key(|v| {
            let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
            (s("name"), s("version"), s("release"), s("arch"))
        });
        let expected = read_json(&fixture.join("expected.json"));
        assert_eq!(Value::Array(got), expected, "{}", fixture.display());
        // The epoch is a purl qualifier, not part of the purl version.
        for p in packages(&sbom) {
            if let Some((epoch, _)) = p["version"].as_str().unwrap().split_once(':') {
                assert!(
                    p["purl"]
                        .as_str()
                        .unwrap()
                        .contains(&format!("epoch={epoch}")),
                    "{}",
                    p["purl"]
                );
            }
        }
        seen += 1;
    }
    assert_eq!(seen, 8);
}
