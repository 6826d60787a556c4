//! Formats: SPDX 3.0.1 JSON-LD through the SPDX project's bindings; the SPDX documents
//! against the NTIA minimum elements, CISA's FSCT3 minimum and BSI TR-03183 as
//! ntia-conformance-checker checks them; `cairn convert` round trips on the fixture images
//! (cairn JSON -> each format -> cairn JSON keeps what the README's loss table says it
//! keeps); and documents that are not SBOMs, or are hostile, are refused.

mod common;
use common::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

const SUPPLIER: &str = "Cairn Fixtures <fixtures@cairn.invalid>";

/// The fixture images: Debian (dpkg), Alpine (apk), Fedora (rpm), and the language image.
fn images() -> Vec<(&'static str, PathBuf)> {
    let images = root().join("fixtures/images");
    vec![
        ("demo", images.join("demo/oci")),
        ("alpine", images.join("alpine-apk/oci")),
        ("fedora", images.join("fedora-rpm/oci")),
        ("lang", images.join("lang/docker-archive.tar")),
    ]
}

fn sbom_to(dir: &Path, image: &Path, format: &str, name: &str, extra: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let spec = format!("{format}={}", out.display());
    let mut args = vec!["sbom", image.to_str().unwrap(), "-q", "-o", &spec];
    args.extend_from_slice(extra);
    cairn_ok(&args);
    out
}

/// `cairn convert`, which exits 1 (having written the output) when the document says it is
/// incomplete.
fn convert(input: &Path, format: &str, out: &Path, incomplete: bool) {
    let spec = format!("{format}={}", out.display());
    let o = cairn(&["convert", input.to_str().unwrap(), "-o", &spec]);
    assert_eq!(
        o.status.code(),
        Some(if incomplete { 1 } else { 0 }),
        "convert {} -o {format}: {}",
        input.display(),
        String::from_utf8_lossy(&o.stderr)
    );
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn spdx3_of_every_fixture_image_passes_the_spdx_bindings() {
    let dir = tempfile::tempdir().unwrap();
    for (name, img) in images() {
        let f = sbom_to(
            dir.path(),
            &img,
            "spdx3-json",
            &format!("{name}.spdx3.json"),
            &["--supplier", SUPPLIER, "--creator", SUPPLIER],
        );
        spdx3_validate(&f);
    }
    // The layers' build steps are build_Build elements whose output is the layer.
    let doc = read_json(&dir.path().join("demo.spdx3.json"));
    let graph = doc["@graph"].as_array().unwrap();
    let of_type = |t: &'static str| graph.iter().filter(move |e| e["type"] == t);
    let build = of_type("build_Build")
        .find(|b| {
            b["comment"]
                .as_str()
                .is_some_and(|c| c.contains("--only-upgrade libexpat1"))
        })
        .expect("the upgrade's build step");
    let layer2 = of_type("software_Package")
        .find(|p| p["name"] == "layer 2")
        .unwrap();
    assert!(
        of_type("Relationship").any(|r| r["relationshipType"] == "hasOutput"
            && r["from"] == build["spdxId"]
            && r["to"].as_array().unwrap().contains(&layer2["spdxId"]))
    );
    let sbom = of_type("software_Sbom").next().unwrap();
    assert_eq!(sbom["software_sbomType"], json!(["analyzed"]));
}

#[test]
fn spdx3_with_files_passes_the_spdx_bindings() {
    let dir = tempfile::tempdir().unwrap();
    let img = demo().join("docker-archive.tar");
    let f = sbom_to(
        dir.path(),
        &img,
        "spdx3-json",
        "files.spdx3.json",
        &["--files"],
    );
    spdx3_validate(&f);
    let doc = read_json(&f);
    let files = doc["@graph"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "software_File")
        .count();
    assert!(files > 100, "{files} files");
}

/// With the image's supplier given (the fixture images state none), the SPDX 2 and SPDX 3
/// documents of the OS images meet every NTIA minimum element.
#[test]
fn spdx_documents_meet_the_ntia_minimum_elements() {
    let dir = tempfile::tempdir().unwrap();
    for (name, img) in images().into_iter().filter(|(n, _)| *n != "lang") {
        for (format, spec) in [("spdx-json", "spdx2"), ("spdx3-json", "spdx3")] {
            let f = sbom_to(
                dir.path(),
                &img,
                format,
                &format!("{name}.{spec}.json"),
                &["--supplier", SUPPLIER],
            );
            let (ok, report) = ntia_check(&f, "ntia", spec);
            assert!(ok, "{name} {spec}: {report:#}");
        }
    }
}

/// Without --supplier, only what the image does not state is missing: a supplier for the
/// image and its layers. The OS (os-release's vendor) and every package have one.
#[test]
fn without_a_supplier_only_the_image_and_its_layers_lack_one() {
    let dir = tempfile::tempdir().unwrap();
    let img = demo().join("oci");
    for (format, spec) in [("spdx-json", "spdx2"), ("spdx3-json", "spdx3")] {
        let f = sbom_to(dir.path(), &img, format, &format!("d.{spec}.json"), &[]);
        let (ok, report) = ntia_check(&f, "ntia", spec);
        assert!(!ok);
        let mut missing: Vec<&str> = report["componentSuppliers"]["nonconformantComponents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        missing.sort();
        assert_eq!(
            missing,
            ["latest", "layer 0", "layer 1", "layer 2", "layer 3", "layer 4"],
            "{spec}"
        );
    }
}

/// An image that states its vendor in an OCI label needs no --supplier.
#[test]
fn the_images_own_vendor_label_is_its_supplier() {
    let dir = tempfile::tempdir().unwrap();
    let layout = relabelled(
        dir.path(),
        "org.opencontainers.image.vendor",
        "Example Corp",
    );
    let out = cairn_ok(&[
        "sbom",
        &format!("oci-dir:{}", layout.display()),
        "-q",
        "-o",
        "json",
    ]);
    let sbom: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(sbom["source"]["supplier"], "Example Corp");
    let f = dir.path().join("v.spdx.json");
    cairn_ok(&[
        "sbom",
        &format!("oci-dir:{}", layout.display()),
        "-q",
        "-o",
        &format!("spdx-json={}", f.display()),
    ]);
    let doc = read_json(&f);
    let root = doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["primaryPackagePurpose"] == "CONTAINER")
        .unwrap();
    assert_eq!(root["supplier"], "Organization: Example Corp");
}

/// A copy of the demo OCI layout whose config carries one more label.
fn relabelled(dir: &Path, key: &str, value: &str) -> PathBuf {
    use sha2::Digest;
    let out = dir.join("relabelled");
    let blobs = out.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let src = demo().join("oci");
    for e in std::fs::read_dir(src.join("blobs/sha256")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), blobs.join(e.file_name())).unwrap();
    }
    std::fs::copy(src.join("oci-layout"), out.join("oci-layout")).unwrap();
    let blob = |d: &str| blobs.join(d.trim_start_matches("sha256:"));
    let put = |b: &[u8]| -> (String, usize) {
        let d = format!("sha256:{}", hex::encode(sha2::Sha256::digest(b)));
        std::fs::write(blob(&d), b).unwrap();
        (d, b.len())
    };
    let mut index: Value =
        serde_json::from_slice(&std::fs::read(src.join("index.json")).unwrap()).unwrap();
    let mdesc = index["manifests"][0].clone();
    let mut manifest: Value =
        serde_json::from_slice(&std::fs::read(blob(mdesc["digest"].as_str().unwrap())).unwrap())
            .unwrap();
    let mut config: Value = serde_json::from_slice(
        &std::fs::read(blob(manifest["config"]["digest"].as_str().unwrap())).unwrap(),
    )
    .unwrap();
    if !config["config"]["Labels"].is_object() {
        config["config"]["Labels"] = json!({});
    }
    config["config"]["Labels"][key] = json!(value);
    let (cd, cs) = put(&serde_json::to_vec(&config).unwrap());
    manifest["config"]["digest"] = json!(cd);
    manifest["config"]["size"] = json!(cs);
    let (md, ms) = put(&serde_json::to_vec(&manifest).unwrap());
    index["manifests"][0]["digest"] = json!(md);
    index["manifests"][0]["size"] = json!(ms);
    std::fs::write(out.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    out
}

/// FSCT3's minimum and BSI TR-03183 ask for what an image does not hold; the checker names
/// exactly that and nothing else (the README's conformance table says why each is missing).
#[test]
fn fsct3_and_bsi_miss_only_what_the_image_does_not_hold() {
    let dir = tempfile::tempdir().unwrap();
    let img = demo().join("oci");
    let extra = ["--supplier", SUPPLIER, "--creator", SUPPLIER];
    let own = read_json(&sbom_to(dir.path(), &img, "json", "d.json", &extra));
    // What cairn knows no license or copyright for: the image, its OS and layers, and the
    // packages whose files state none.
    let mut unlicensed = vec!["debian".to_owned(), "latest".to_owned()];
    unlicensed.extend((0..5).map(|i| format!("layer {i}")));
    let mut uncopyrighted = unlicensed.clone();
    for p in own["packages"].as_array().unwrap() {
        let name = p["name"].as_str().unwrap().to_owned();
        if p["licenses"]["declared"].is_null() {
            unlicensed.push(name.clone());
        }
        if p["copyright"].is_null() {
            uncopyrighted.push(name);
        }
    }
    unlicensed.sort();
    uncopyrighted.sort();
    let names = |r: &Value, k: &str| -> Vec<String> {
        let mut v: Vec<String> = r[k]["nonconformantComponents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_owned())
            .collect();
        v.sort();
        v
    };
    for (format, spec) in [("spdx-json", "spdx2"), ("spdx3-json", "spdx3")] {
        let f = sbom_to(dir.path(), &img, format, &format!("d.{spec}.json"), &extra);
        let (ok, r) = ntia_check(&f, "fsct3-min", spec);
        assert!(!ok);
        for k in [
            "componentNames",
            "componentVersions",
            "componentIdentifiers",
            "componentSuppliers",
        ] {
            assert_eq!(r[k]["allProvided"], true, "{spec} {k}: {r:#}");
        }
        assert_eq!(r["authorNameProvided"], true);
        assert_eq!(r["timestampProvided"], true);
        assert_eq!(r["dependencyRelationshipsProvided"], true);
        assert_eq!(
            names(&r, "componentConcludedLicenses"),
            unlicensed,
            "{spec}"
        );
        assert_eq!(
            names(&r, "componentCopyrightTexts"),
            uncopyrighted,
            "{spec}"
        );
    }
    // BSI (SPDX 3 only): the SBOM's creator with an email comes from --creator; what is
    // left is what no image holds (see the README).
    let f = sbom_to(dir.path(), &img, "spdx3-json", "bsi.spdx3.json", &extra);
    let out = std::process::Command::new(python().with_file_name("ntia-checker"))
        .args(["-c", "bsi", "-s", "spdx3", "-q"])
        .arg(&f)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let status = |req: &str| -> bool {
        let line = text
            .lines()
            .find(|l| l.starts_with(req))
            .unwrap_or_else(|| panic!("no {req} in:\n{text}"));
        line.trim_end().ends_with("True")
    };
    for req in [
        "Creator of the SBOM",
        "Timestamp",
        "Dependency Completeness",
        "Component Names",
        "Component Versions",
        "Deployable Component Hashes",
    ] {
        assert!(status(req), "{req}:\n{text}");
    }
    for req in [
        "Component Creators",
        "Distribution Filenames",
        "Distribution Licenses",
    ] {
        assert!(
            !status(req),
            "{req} passes now: update the README's table\n{text}"
        );
    }
}

/// What a round trip must keep, per package: identity, licenses, supplier, copyright,
/// the layer that installed it and its version changes; the layers; the dependencies;
/// the image's name, id, supplier and license; completeness and warnings.
fn kept(sbom: &Value, format: &str) -> Value {
    let cdx = format.starts_with("cyclonedx");
    let mut packages: Vec<Value> = sbom["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let mut cpes = p["cpes"].clone();
            if cdx {
                // CycloneDX holds one CPE per component.
                cpes = json!(cpes.as_array().unwrap().iter().take(1).collect::<Vec<_>>());
            }
            let ev = &p["evidence"];
            let changes: Vec<Value> = ev["changes"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|c| {
                    cdx || matches!(c["kind"].as_str(), Some("version-changed" | "reinstalled"))
                })
                .cloned()
                .collect();
            let locations: Vec<Value> = ev["locations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| {
                    let mut l = l.clone();
                    if cdx {
                        // CycloneDX has a start line only.
                        if let Some(a) = l["lines"][0].as_u64() {
                            l["lines"] = json!([a, a]);
                        }
                    }
                    l
                })
                .collect();
            let mut maintainer = p["maintainer"].clone();
            if format.starts_with("spdx") {
                // An SPDX actor is a name and an email: npm's `Name <email> (url)` loses
                // its URL.
                if let Some((who, _)) = maintainer.as_str().and_then(|m| m.split_once("> (")) {
                    maintainer = json!(format!("{who}>"));
                }
            }
            json!({
                "name": p["name"], "version": p["version"], "purl": p["purl"],
                "type": p["type"], "arch": p["arch"], "cataloger": p["cataloger"],
                "license": p["licenses"]["declared"], "maintainer": maintainer,
                "copyright": p["copyright"], "cpes": cpes,
                "introduced_in": ev["introduced_in"], "changes": changes,
                "locations": locations,
            })
        })
        .collect();
    packages.sort_by_key(|p| p.to_string());
    let purl_of = |id: &Value| -> String {
        sbom["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == *id)
            .map(|p| p["purl"].as_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    let mut deps: Vec<(String, String)> = sbom["relationships"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "depends-on")
        .map(|r| (purl_of(&r["from"]), purl_of(&r["to"])))
        .collect();
    deps.sort();
    let layers: Vec<Value> = sbom["source"]["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            json!({"index": l["index"], "digest": l["digest"], "diff_id": l["diff_id"],
                   "created_by": l["created_by"], "base": l["base"].as_bool().unwrap_or(false)})
        })
        .collect();
    let warnings: Vec<Value> = sbom["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| json!([w["kind"], w["incomplete"]]))
        .collect();
    let d = &sbom["distro"];
    json!({
        "packages": packages, "depends_on": deps, "layers": layers,
        "name": sbom["source"]["name"], "image_id": sbom["source"]["image_id"],
        "supplier": sbom["source"]["supplier"], "license": sbom["source"]["license"],
        "creator": sbom["creator"], "tool": sbom["tool"], "created": sbom["created"],
        "distro": [d["id"], d["version_id"], d["vendor"], d["url"]],
        "complete": sbom["complete"], "warnings": warnings,
    })
}

fn assert_round_trip(dir: &Path, name: &str, own: &Path) {
    let before = read_json(own);
    for (format, ext) in [
        ("spdx-json", "spdx.json"),
        ("spdx-tag-value", "spdx"),
        ("spdx3-json", "spdx3.json"),
        ("cyclonedx-json", "cdx.json"),
        ("cyclonedx-json@1.6", "cdx16.json"),
        ("cyclonedx-xml", "cdx.xml"),
        ("cyclonedx-xml@1.6", "cdx16.xml"),
        ("json", "again.json"),
    ] {
        let doc = dir.join(format!("{name}.{ext}"));
        let incomplete = before["complete"] == false;
        convert(own, format, &doc, incomplete);
        let back = dir.join(format!("{name}.{ext}.back.json"));
        convert(&doc, "json", &back, incomplete);
        let after = read_json(&back);
        let (a, b) = (kept(&before, format), kept(&after, format));
        if a != b {
            for k in a.as_object().unwrap().keys() {
                if a[k] != b[k] {
                    let (x, y) = (a[k].to_string(), b[k].to_string());
                    let at = x.bytes().zip(y.bytes()).take_while(|(p, q)| p == q).count();
                    let from = at.saturating_sub(200);
                    panic!(
                        "{name} through {format}: {k} differs at byte {at}:\n  before …{}\n  after  …{}",
                        &x[from..(at + 200).min(x.len())],
                        &y[from..(at + 200).min(y.len())]
                    );
                }
            }
        }
    }
}

#[test]
fn every_format_round_trips_the_fixture_images() {
    let dir = tempfile::tempdir().unwrap();
    for (name, img) in images() {
        let own = sbom_to(
            dir.path(),
            &img,
            "json",
            &format!("{name}.json"),
            &["--supplier", SUPPLIER, "--creator", SUPPLIER],
        );
        assert_round_trip(dir.path(), name, &own);
    }
}

/// An incomplete SBOM stays incomplete through every format, with its warnings.
#[test]
fn incompleteness_and_warnings_survive_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let mut own = read_json(&sbom_to(
        dir.path(),
        &demo().join("oci"),
        "json",
        "d.json",
        &[],
    ));
    let pkg = own["packages"][3]["id"].clone();
    own["warnings"] = json!([
        {"kind": "unreadable", "path": "/var/lib/dpkg/status", "layer": 3, "lines": null,
         "package": null, "incomplete": true, "message": "truncated gzip stream"},
        {"kind": "duplicate", "path": null, "layer": null, "lines": null,
         "package": pkg, "incomplete": false, "message": "listed twice"},
    ]);
    own["complete"] = json!(false);
    let f = dir.path().join("incomplete.json");
    std::fs::write(&f, serde_json::to_vec(&own).unwrap()).unwrap();
    assert_round_trip(dir.path(), "incomplete", &f);
    // And convert says so, as a scan does: exit 1 with the reason.
    let out = cairn(&["convert", f.to_str().unwrap(), "-o", "spdx3-json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("INCOMPLETE"));
}

#[test]
fn documents_that_are_not_sboms_or_are_hostile_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let valid = sbom_to(dir.path(), &demo().join("oci"), "spdx3-json", "v.json", &[]);
    let text = std::fs::read_to_string(&valid).unwrap();
    let xml = std::fs::read_to_string(sbom_to(
        dir.path(),
        &demo().join("oci"),
        "cyclonedx-xml",
        "v.xml",
        &[],
    ))
    .unwrap();
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", vec![]),
        ("truncated", text.as_bytes()[..text.len() / 2].to_vec()),
        ("not an sbom", br#"{"hello": "world"}"#.to_vec()),
        (
            "a tar",
            std::fs::read(demo().join("docker-archive.tar")).unwrap()[..4096].to_vec(),
        ),
        (
            "deeply nested",
            format!(r#"{{"spdxVersion": "SPDX-2.3", "packages": {deep}}}"#).into_bytes(),
        ),
        (
            "spdx 3 graph not a list",
            br#"{"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": 7}"#
                .to_vec(),
        ),
        ("spdx 1", br#"{"spdxVersion": "SPDX-1.2"}"#.to_vec()),
        ("truncated xml", xml.as_bytes()[..xml.len() / 2].to_vec()),
        (
            "xml that is not cyclonedx",
            br#"<?xml version="1.0"?><project xmlns="http://maven.apache.org/POM/4.0.0"/>"#
                .to_vec(),
        ),
        (
            "xml with entities (billion laughs)",
            format!(
                r#"<?xml version="1.0"?><!DOCTYPE bom [<!ENTITY a "aaaaaaaaaa">{}]><bom xmlns="http://cyclonedx.org/schema/bom/1.6"><metadata><component type="container"><name>&e9;</name></component></metadata></bom>"#,
                (1..10)
                    .map(|i| format!(r#"<!ENTITY e{i} "{}">"#, format!("&e{};", i - 1).repeat(10)))
                    .collect::<String>()
                    .replace("&e0;", "&a;")
            )
            .into_bytes(),
        ),
        (
            "deeply nested xml",
            format!(
                r#"<bom xmlns="http://cyclonedx.org/schema/bom/1.7">{}{}</bom>"#,
                r#"<components><component type="library"><name>x</name>"#.repeat(50_000),
                "</component></components>".repeat(50_000)
            )
            .into_bytes(),
        ),
    ];
    for (what, bytes) in cases {
        let f = dir.path().join("bad");
        std::fs::write(&f, &bytes).unwrap();
        let out = cairn(&["convert", f.to_str().unwrap(), "-o", "json"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            matches!(out.status.code(), Some(c) if c != 0 && c != 101),
            "{what}: {:?} {err}",
            out.status
        );
        assert!(err.contains("cairn: error"), "{what}: {err}");
        assert!(!err.contains("panicked"), "{what}: {err}");
        assert!(out.stdout.is_empty(), "{what}: no partial document");
    }
    // Over the size limit: refused before it is parsed.
    let huge = dir.path().join("huge.json");
    let f = std::fs::File::create(&huge).unwrap();
    f.set_len(cairn_sbom::MAX_DOCUMENT_BYTES as u64 + 1)
        .unwrap();
    let out = cairn(&["convert", huge.to_str().unwrap(), "-o", "json"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("limit"));
}
