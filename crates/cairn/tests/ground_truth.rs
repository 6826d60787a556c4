//! On every form of the demo image, the dpkg packages equal the ground truth recorded by
//! dpkg-query when the image was built, and each carries the layer and build step that
//! introduced it and the layers that changed it.

mod common;
use common::*;
use serde_json::Value;

fn packages(sbom: &Value) -> Vec<(String, String, String)> {
    let mut v: Vec<(String, String, String)> = sbom["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["type"] == "deb")
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["version"].as_str().unwrap().to_owned(),
                p["arch"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    v.sort();
    v
}

fn check_against_truth(sbom: &Value) {
    let n = truth_layers();
    assert_eq!(
        packages(sbom),
        truth(n - 1),
        "packages differ from dpkg-query's"
    );
    assert_eq!(sbom["complete"], true);
    let layers = sbom["source"]["layers"].as_array().unwrap();
    assert_eq!(layers.len(), n);
    for p in sbom["packages"].as_array().unwrap() {
        let name = p["name"].as_str().unwrap();
        let arch = p["arch"].as_str().unwrap();
        let present = |l: usize| {
            truth(l)
                .into_iter()
                .find(|(n, _, a)| n == name && a == arch)
        };
        // Introduced: the first layer whose dpkg-query lists the package.
        let first = (0..n).find(|&l| present(l).is_some()).unwrap();
        assert_eq!(
            p["evidence"]["introduced_in"], first,
            "{name}: introducing layer"
        );
        let created_by = layers[first]["created_by"].as_str().unwrap();
        assert!(
            !created_by.is_empty(),
            "{name}: layer {first} has its build step"
        );
        // Version changes: every layer where dpkg-query's version differs from the one before.
        let expected: Vec<(usize, String, String)> = (first + 1..n)
            .filter_map(|l| {
                let (a, b) = (present(l - 1)?, present(l)?);
                (a.1 != b.1).then_some((l, a.1, b.1))
            })
            .collect();
        let got: Vec<(usize, String, String)> = p["evidence"]["changes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["kind"] == "version-changed")
            .map(|c| {
                (
                    c["layer"].as_u64().unwrap() as usize,
                    c["from_version"].as_str().unwrap().to_owned(),
                    c["to_version"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(got, expected, "{name}: version changes");
        // The database entry that lists it.
        let loc = p["evidence"]["locations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["path"] == "/var/lib/dpkg/status")
            .unwrap_or_else(|| panic!("{name}: no status-file evidence"));
        assert!(loc["lines"][0].as_u64().unwrap() >= 1);
    }
}

#[test]
fn docker_archive_matches_dpkg_query() {
    let sbom = scan_json(demo().join("docker-archive.tar").to_str().unwrap());
    check_against_truth(&sbom);
}

#[test]
fn oci_layout_matches_dpkg_query() {
    let sbom = scan_json(demo().join("oci").to_str().unwrap());
    check_against_truth(&sbom);
}

#[test]
fn oci_archive_matches_dpkg_query() {
    let dir = tempfile::tempdir().unwrap();
    let archive = oci_archive(dir.path());
    let sbom = scan_json(&format!("oci-archive:{}", archive.display()));
    check_against_truth(&sbom);
}

#[test]
fn purged_package_is_absent_and_upgrade_is_recorded() {
    let sbom = scan_json(demo().join("oci").to_str().unwrap());
    let pkgs = sbom["packages"].as_array().unwrap();
    assert!(
        pkgs.iter().all(|p| p["name"] != "netbase"),
        "netbase was purged in layer 3"
    );
    let expat = pkgs.iter().find(|p| p["name"] == "libexpat1").unwrap();
    assert_eq!(expat["version"], "2.5.0-1+deb12u5");
    assert_eq!(
        expat["purl"],
        "pkg:deb/debian/libexpat1@2.5.0-1%2Bdeb12u5?arch=amd64&distro=debian-12&upstream=expat"
    );
    assert_eq!(expat["licenses"]["declared"], "MIT");
    // libtasn1-6's docs were deleted by layer 3: that is recorded against the package.
    let tasn = pkgs.iter().find(|p| p["name"] == "libtasn1-6").unwrap();
    let removed: Vec<&Value> = tasn["evidence"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "files-removed")
        .collect();
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0]["layer"], 3);
    assert!(removed[0]["paths"]
        .as_array()
        .unwrap()
        .contains(&Value::from("/usr/share/doc/libtasn1-6/copyright")));
    // Layer 4 replaced /etc/dpkg/origins (opaque directory): base-files lost a file.
    let bf = pkgs.iter().find(|p| p["name"] == "base-files").unwrap();
    assert!(bf["evidence"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["layer"] == 4 && c["kind"] == "files-removed"));
    // A free-form copyright file counts for the full license text it contains.
    let selinux = pkgs.iter().find(|p| p["name"] == "libselinux1").unwrap();
    assert_eq!(selinux["licenses"]["declared"], "libselinux-1.0");
    assert!(selinux["licenses"]["evidence"][0]["value"]
        .as_str()
        .unwrap()
        .starts_with("full text of libselinux-1.0"));
    // ... and one that only names its license is left NOASSERTION, never guessed.
    let libc = pkgs.iter().find(|p| p["name"] == "libc6").unwrap();
    assert!(libc["licenses"]["declared"].is_null());
    // Owned files with their md5 from the md5sums file.
    let files = libc["files"].as_array().unwrap();
    let so = files
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with("/libc.so.6"))
        .expect("libc.so.6 is owned by libc6");
    assert_eq!(so["digest"]["algorithm"], "md5");
    assert_eq!(so["layer"], 0);
    // Dependencies resolve to installed packages.
    let rels = sbom["relationships"].as_array().unwrap();
    assert!(rels.iter().any(|r| r["from"] == expat["id"]
        && r["kind"] == "depends-on"
        && r["to"]
            .as_str()
            .unwrap()
            .starts_with("pkg:deb/debian/libc6@")));
    assert_eq!(sbom["distro"]["id"], "debian");
    assert_eq!(sbom["distro"]["version_id"], "12");
}

#[test]
fn output_is_deterministic() {
    let img = demo().join("docker-archive.tar");
    let a = cairn_ok(&["sbom", img.to_str().unwrap(), "-o", "spdx-json", "-q"]);
    let b = cairn_ok(&["sbom", img.to_str().unwrap(), "-o", "spdx-json", "-q"]);
    assert_eq!(a, b);
    let c = cairn_ok(&["sbom", img.to_str().unwrap(), "-o", "cyclonedx-json", "-q"]);
    let d = cairn_ok(&["sbom", img.to_str().unwrap(), "-o", "cyclonedx-json", "-q"]);
    assert_eq!(c, d);
    assert!(a.contains("\"created\": \"2023-11-14T22:13:20Z\""));
}

#[test]
fn table_is_the_default_output() {
    let out = cairn_ok(&["sbom", demo().join("oci").to_str().unwrap(), "-q"]);
    let first = out.lines().next().unwrap();
    assert!(first.contains("NAME") && first.contains("VERSION") && first.contains("LAYER"));
    assert!(out
        .lines()
        .any(|l| l.trim_start().starts_with("libexpat1 ") && l.contains("2.5.0-1+deb12u5")));
}

#[test]
fn several_outputs_to_files_in_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let spdx = dir.path().join("a.spdx.json");
    let cdx = dir.path().join("a.cdx.json");
    cairn_ok(&[
        "sbom",
        demo().join("oci").to_str().unwrap(),
        "-o",
        &format!("spdx-json={}", spdx.display()),
        "-o",
        &format!("cyclonedx-json={}", cdx.display()),
        "-q",
    ]);
    let s: Value = serde_json::from_str(&std::fs::read_to_string(&spdx).unwrap()).unwrap();
    let c: Value = serde_json::from_str(&std::fs::read_to_string(&cdx).unwrap()).unwrap();
    assert_eq!(s["spdxVersion"], "SPDX-2.3");
    assert_eq!(c["specVersion"], "1.7");
    // Nothing else was written beside them.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}

#[test]
fn distroless_status_d_matches_expected() {
    let Some(base) = pkgdb("dpkg-distroless") else {
        return;
    };
    for case in std::fs::read_dir(&base).unwrap() {
        let case = case.unwrap().path();
        let expected: Value =
            serde_json::from_str(&std::fs::read_to_string(case.join("expected.json")).unwrap())
                .unwrap();
        let sbom = scan_json(&format!("dir:{}", case.display()));
        let mut got: Vec<(String, String, String, String)> = sbom["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["name"].as_str().unwrap().to_owned(),
                    p["version"].as_str().unwrap().to_owned(),
                    p["arch"].as_str().unwrap_or("").to_owned(),
                    p["source_package"]["name"]
                        .as_str()
                        .unwrap_or("")
                        .to_owned(),
                )
            })
            .collect();
        got.sort();
        let mut want: Vec<(String, String, String, String)> = expected
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["name"].as_str().unwrap().to_owned(),
                    p["version"].as_str().unwrap().to_owned(),
                    p["arch"].as_str().unwrap_or("").to_owned(),
                    p["source"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect();
        want.sort();
        assert_eq!(got, want, "{}", case.display());
    }
}
