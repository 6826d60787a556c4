//! The SPDX and CycloneDX outputs pass the official validators: SPDX's `pyspdxtools`
//! (spdx-tools) for JSON and tag-value, and CycloneDX's own 1.6 JSON schema (through
//! cyclonedx-python-lib's strict validator). Both are installed by scripts/setup.

mod common;
use common::*;

fn write(
    dir: &std::path::Path,
    image: &str,
    format: &str,
    name: &str,
    extra: &[&str],
) -> std::path::PathBuf {
    let path = dir.join(name);
    let mut args = vec!["sbom", image, "-o"];
    let spec = format!("{format}={}", path.display());
    args.push(&spec);
    args.push("-q");
    args.extend_from_slice(extra);
    cairn_ok(&args);
    path
}

#[test]
fn spdx_json_passes_pyspdxtools() {
    let dir = tempfile::tempdir().unwrap();
    let img = demo().join("oci");
    pyspdxtools(&write(
        dir.path(),
        img.to_str().unwrap(),
        "spdx-json",
        "demo.spdx.json",
        &[],
    ));
}

#[test]
fn spdx_tag_value_passes_pyspdxtools() {
    let dir = tempfile::tempdir().unwrap();
    let img = demo().join("docker-archive.tar");
    pyspdxtools(&write(
        dir.path(),
        img.to_str().unwrap(),
        "spdx-tag-value",
        "demo.spdx",
        &[],
    ));
}

#[test]
fn spdx_with_files_passes_pyspdxtools() {
    // --files lists every file with SHA-1 and SHA-256. The validator is slow on big
    // documents, so this uses a small root filesystem directory.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::create_dir_all(root.join("var/lib/dpkg/info")).unwrap();
    std::fs::write(
        root.join("etc/os-release"),
        "ID=debian\nVERSION_ID=\"12\"\n",
    )
    .unwrap();
    std::fs::write(
        root.join("var/lib/dpkg/status"),
        "Package: hello\nStatus: install ok installed\nVersion: 2.10-3\nArchitecture: amd64\nMaintainer: Santiago Vila <sanvila@debian.org>\n",
    )
    .unwrap();
    std::fs::create_dir_all(root.join("usr/bin")).unwrap();
    std::fs::write(root.join("usr/bin/hello"), "binary").unwrap();
    std::fs::write(
        root.join("var/lib/dpkg/info/hello.list"),
        "/.\n/usr\n/usr/bin\n/usr/bin/hello\n",
    )
    .unwrap();
    let img = format!("dir:{}", root.display());
    let spdx = write(
        dir.path(),
        &img,
        "spdx-json",
        "files.spdx.json",
        &["--files"],
    );
    pyspdxtools(&spdx);
    let tv = write(
        dir.path(),
        &img,
        "spdx-tag-value",
        "files.spdx",
        &["--files"],
    );
    pyspdxtools(&tv);
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&spdx).unwrap()).unwrap();
    let hello = doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["fileName"] == "./usr/bin/hello")
        .unwrap();
    let file_id = hello["SPDXID"].as_str().unwrap();
    assert!(doc["relationships"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["relationshipType"] == "CONTAINS" && r["relatedSpdxElement"] == file_id));
}

#[test]
fn cyclonedx_passes_the_1_6_schema() {
    let dir = tempfile::tempdir().unwrap();
    let img = demo().join("oci");
    let file = write(
        dir.path(),
        img.to_str().unwrap(),
        "cyclonedx-json",
        "demo.cdx.json",
        &[],
    );
    cyclonedx_validate(&file);
    let bom: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let expat = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "libexpat1")
        .unwrap();
    // The provenance lives in standard fields too, not only in cairn's own format.
    let occ = &expat["evidence"]["occurrences"][0];
    assert_eq!(occ["location"], "/var/lib/dpkg/status");
    assert!(occ["line"].as_u64().unwrap() > 0);
    assert!(occ["additionalContext"]
        .as_str()
        .unwrap()
        .contains("created by"));
    assert_eq!(bom["compositions"][0]["aggregate"], "complete");
}

#[test]
fn own_json_matches_its_published_schema() {
    let schema_text = cairn_ok(&["schema"]);
    let committed = std::fs::read_to_string(root().join("docs/cairn-sbom.schema.json")).unwrap();
    assert_eq!(
        schema_text, committed,
        "docs/cairn-sbom.schema.json is stale: regenerate with `cairn schema`"
    );
    assert_matches_own_schema(&scan_json(demo().join("oci").to_str().unwrap()));
}

/// `sbom` validates against the schema `cairn schema` prints.
fn assert_matches_own_schema(sbom: &serde_json::Value) {
    let schema: serde_json::Value = serde_json::from_str(&cairn_ok(&["schema"])).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(sbom).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
}

/// The language packages' shapes (folded identities as extra purl references with comments,
/// binary components nested in the deb that ships them, dev scopes) pass the validators too.
#[test]
fn the_language_image_passes_every_validator() {
    let img = root().join("fixtures/images/lang/docker-archive.tar");
    if !require(&img.display().to_string(), img.exists()) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let img = img.to_str().unwrap();
    pyspdxtools(&write(dir.path(), img, "spdx-json", "lang.spdx.json", &[]));
    pyspdxtools(&write(dir.path(), img, "spdx-tag-value", "lang.spdx", &[]));
    cyclonedx_validate(&write(
        dir.path(),
        img,
        "cyclonedx-json",
        "lang.cdx.json",
        &[],
    ));
}

/// A registry image's documents (the image's `pkg:oci` purl on the root, its repository
/// and index digest) pass the validators and cairn's own schema.
#[test]
fn a_registry_image_passes_every_validator() {
    use test_registry::{Options, Registry};
    if !require(
        "docker-registry, skopeo, htpasswd and openssl (scripts/setup installs them)",
        Registry::available(),
    ) {
        return;
    }
    let reg = Registry::start(Options::default());
    let layout = demo().join("oci");
    reg.push(&format!("oci:{}:latest", layout.display()), "demo:1", false);
    let dir = tempfile::tempdir().unwrap();
    let img = format!("registry:{}/demo:1", reg.host);
    let insecure = ["--insecure"];
    pyspdxtools(&write(
        dir.path(),
        &img,
        "spdx-json",
        "r.spdx.json",
        &insecure,
    ));
    pyspdxtools(&write(
        dir.path(),
        &img,
        "spdx-tag-value",
        "r.spdx",
        &insecure,
    ));
    let cdx = write(dir.path(), &img, "cyclonedx-json", "r.cdx.json", &insecure);
    cyclonedx_validate(&cdx);
    let bom: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cdx).unwrap()).unwrap();
    assert!(bom["metadata"]["component"]["purl"]
        .as_str()
        .unwrap()
        .starts_with("pkg:oci/demo@sha256"));
    let own = write(dir.path(), &img, "json", "r.json", &insecure);
    assert_matches_own_schema(
        &serde_json::from_str(&std::fs::read_to_string(own).unwrap()).unwrap(),
    );
}
