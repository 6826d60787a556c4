//! The SPDX and CycloneDX outputs pass the official validators: SPDX's `pyspdxtools`
//! (spdx-tools) for JSON and tag-value, and CycloneDX's own 1.7 and 1.6 JSON schemas (through
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

/// Each layer is an SPDX package (digest, build command) that the image CONTAINS, and
/// each package is CONTAINED by the layer that installed it, in JSON and tag-value alike.
#[test]
fn spdx_layers_are_packages_the_image_contains() {
    let dir = tempfile::tempdir().unwrap();
    let img = demo().join("oci");
    let file = write(
        dir.path(),
        img.to_str().unwrap(),
        "spdx-json",
        "demo.spdx.json",
        &[],
    );
    pyspdxtools(&file);
    let tv = write(
        dir.path(),
        img.to_str().unwrap(),
        "spdx-tag-value",
        "demo.spdx",
        &[],
    );
    pyspdxtools(&tv);
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let pkgs = doc["packages"].as_array().unwrap();
    let layer = |i: usize| {
        pkgs.iter()
            .find(|p| p["SPDXID"] == format!("SPDXRef-Layer-{i}"))
            .unwrap_or_else(|| panic!("no layer {i} package"))
    };
    assert!(layer(2)["comment"]
        .as_str()
        .unwrap()
        .contains("--only-upgrade libexpat1"));
    assert!(
        layer(0)["checksums"][0]["checksumValue"]
            .as_str()
            .unwrap()
            .len()
            == 64
    );
    let rels = doc["relationships"].as_array().unwrap();
    let root = rels
        .iter()
        .find(|r| r["relationshipType"] == "DESCRIBES")
        .unwrap()["relatedSpdxElement"]
        .clone();
    let contains = |a: &serde_json::Value, b: &serde_json::Value| {
        rels.iter().any(|r| {
            r["relationshipType"] == "CONTAINS"
                && r["spdxElementId"] == *a
                && r["relatedSpdxElement"] == *b
        })
    };
    for i in 0..5 {
        assert!(
            contains(&root, &layer(i)["SPDXID"]),
            "image CONTAINS layer {i}"
        );
    }
    let expat = pkgs.iter().find(|p| p["name"] == "libexpat1").unwrap();
    assert!(contains(&layer(2)["SPDXID"], &expat["SPDXID"]));
    assert!(
        !contains(&root, &expat["SPDXID"]),
        "through its layer, not directly"
    );
    let tv = std::fs::read_to_string(&tv).unwrap();
    assert!(tv.contains("SPDXID: SPDXRef-Layer-2"));
    assert!(tv.contains(&format!(
        "Relationship: SPDXRef-Layer-2 CONTAINS {}",
        expat["SPDXID"].as_str().unwrap()
    )));
}

#[test]
fn cyclonedx_1_6_passes_its_schema_and_differs_from_1_7_only_in_the_version() {
    let dir = tempfile::tempdir().unwrap();
    let img = demo().join("oci");
    let img = img.to_str().unwrap();
    let old = write(
        dir.path(),
        img,
        "cyclonedx-json@1.6",
        "demo.1.6.cdx.json",
        &[],
    );
    cyclonedx_validate(&old);
    let new = write(dir.path(), img, "cyclonedx-json", "demo.cdx.json", &[]);
    let read = |f: &std::path::Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap()
    };
    let (mut old, mut new) = (read(&old), read(&new));
    assert_eq!(old["specVersion"], "1.6");
    assert_eq!(new["specVersion"], "1.7");
    for bom in [&mut old, &mut new] {
        let o = bom.as_object_mut().unwrap();
        o.remove("specVersion");
        o.remove("$schema");
    }
    assert_eq!(old, new);
}

#[test]
fn cyclonedx_passes_the_1_7_schema() {
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
    // Image -> layer -> package: the layers are components, each holding what it
    // installed; libexpat1's reported version came with layer 2 (the upgrade).
    let layers: Vec<&serde_json::Value> = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["bom-ref"].as_str().unwrap().starts_with("cairn-layer-"))
        .collect();
    assert_eq!(layers.len(), 5);
    let layer2 = layers
        .iter()
        .find(|l| l["bom-ref"] == "cairn-layer-2")
        .unwrap();
    assert!(layer2["properties"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == "cairn:layer:created-by"
            && p["value"]
                .as_str()
                .unwrap()
                .contains("--only-upgrade libexpat1")));
    let expat = layer2["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "libexpat1")
        .unwrap();
    let nested: usize = layers
        .iter()
        .map(|l| l["components"].as_array().map_or(0, |c| c.len()))
        .sum();
    assert_eq!(
        nested, 23,
        "every package sits in the layer that installed it"
    );
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
/// binary components nested in the deb that ships them, archives nested in archives, dev
/// scopes, Maven, gem, Composer and NuGet purls) pass the validators too.
#[test]
fn the_language_images_pass_every_validator() {
    for name in ["lang", "lang2"] {
        let img = root().join(format!("fixtures/images/{name}/docker-archive.tar"));
        if !require(&img.display().to_string(), img.exists()) {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let img = img.to_str().unwrap();
        pyspdxtools(&write(
            dir.path(),
            img,
            "spdx-json",
            &format!("{name}.spdx.json"),
            &[],
        ));
        pyspdxtools(&write(
            dir.path(),
            img,
            "spdx-tag-value",
            &format!("{name}.spdx"),
            &[],
        ));
        cyclonedx_validate(&write(
            dir.path(),
            img,
            "cyclonedx-json",
            &format!("{name}.cdx.json"),
            &[],
        ));
        cyclonedx_validate(&write(
            dir.path(),
            img,
            "cyclonedx-xml",
            &format!("{name}.cdx.xml"),
            &["--files"],
        ));
    }
}

/// CycloneDX XML (1.7, and 1.6) passes the official XSD, and says what the JSON says: both
/// read back to the same cairn document.
#[test]
fn cyclonedx_xml_passes_the_xsd_and_reads_back_as_the_json_does() {
    let dir = tempfile::tempdir().unwrap();
    let img = demo().join("oci");
    let img = img.to_str().unwrap();
    for (format, name) in [
        ("cyclonedx-xml", "d.cdx.xml"),
        ("cyclonedx-xml@1.6", "d.cdx16.xml"),
    ] {
        let xml = write(dir.path(), img, format, name, &["--files"]);
        cyclonedx_validate(&xml);
        let text = std::fs::read_to_string(&xml).unwrap();
        let version = if format.ends_with("1.6") {
            "1.6"
        } else {
            "1.7"
        };
        assert!(text.contains(&format!(
            "xmlns=\"http://cyclonedx.org/schema/bom/{version}\""
        )));
    }
    let json = write(
        dir.path(),
        img,
        "cyclonedx-json",
        "d.cdx.json",
        &["--files"],
    );
    let xml = dir.path().join("d.cdx.xml");
    let back = |f: &std::path::Path| cairn_ok(&["convert", f.to_str().unwrap(), "-o", "json"]);
    let (from_xml, from_json) = (back(&xml), back(&json));
    assert_eq!(from_xml, from_json);
    let sbom: serde_json::Value = serde_json::from_str(&from_xml).unwrap();
    assert_eq!(sbom["packages"].as_array().unwrap().len(), 23);
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
    cyclonedx_validate(&write(
        dir.path(),
        &img,
        "cyclonedx-xml",
        "r.cdx.xml",
        &insecure,
    ));
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
