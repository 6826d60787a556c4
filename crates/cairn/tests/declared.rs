//! Declared SBOMs as evidence: images assembled here with a BuildKit-style attestation
//! manifest in their index (an unsigned in-toto statement of an SPDX document, as
//! `docker buildx build --sbom` leaves it), with an SBOM referrer pushed to a loopback
//! docker-registry, and with an SBOM file inside a layer; each document seeded with known
//! differences from the image, which `cairn sbom --declared` must list exactly.

mod common;

use common::{cairn, demo, require, root};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::process::Output;
use test_registry::{Options, Registry};

fn ok(o: Output) -> String {
    assert!(
        o.status.success(),
        "status {:?}\n{}\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Writes `bytes` as a blob of the layout `dir`; returns its descriptor.
fn blob(dir: &Path, media_type: &str, bytes: &[u8]) -> Value {
    let hex = sha(bytes);
    std::fs::write(dir.join("blobs/sha256").join(&hex), bytes).unwrap();
    json!({"mediaType": media_type, "digest": format!("sha256:{hex}"), "size": bytes.len()})
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let t = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &t);
        } else {
            std::fs::copy(e.path(), t).unwrap();
        }
    }
}

/// The demo image's SPDX document with three differences seeded: `zlib1g` left out
/// (present but undeclared), `libc6` at another version, `ghost` added (declared but
/// absent).
fn seeded_spdx() -> Value {
    let text = ok(cairn(&[
        "sbom",
        demo().join("oci").to_str().unwrap(),
        "-o",
        "spdx-json",
        "-q",
    ]));
    let mut doc: Value = serde_json::from_str(&text).unwrap();
    let packages = doc["packages"].as_array_mut().unwrap();
    let n = packages.len();
    packages.retain(|p| p["name"] != "zlib1g");
    assert_eq!(packages.len(), n - 1);
    let libc = packages.iter_mut().find(|p| p["name"] == "libc6").unwrap();
    libc["versionInfo"] = "2.36-9+deb12u4".into();
    for r in libc["externalRefs"].as_array_mut().unwrap() {
        if r["referenceType"] == "purl" {
            let purl = r["referenceLocator"]
                .as_str()
                .unwrap()
                .replace("2.36-9%2Bdeb12u14", "2.36-9%2Bdeb12u4");
            assert!(purl.contains("deb12u4"), "{purl}");
            r["referenceLocator"] = purl.into();
        }
    }
    packages.push(json!({
        "SPDXID": "SPDXRef-Package-ghost",
        "name": "ghost",
        "versionInfo": "1.0-1",
        "downloadLocation": "NOASSERTION",
        "externalRefs": [{
            "referenceCategory": "PACKAGE-MANAGER",
            "referenceType": "purl",
            "referenceLocator": "pkg:deb/debian/ghost@1.0-1?arch=amd64&distro=debian-12"
        }]
    }));
    doc
}

/// The demo layout with a BuildKit-style index: the image manifest and, beside it, an
/// attestation manifest whose one layer is an in-toto statement of `spdx`.
fn buildkit_layout(dir: &Path, spdx: &Value) {
    copy_dir(&demo().join("oci"), dir);
    let index: Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let image = index["manifests"][0].clone();
    let image_digest = image["digest"].as_str().unwrap().to_string();
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": "https://spdx.dev/Document",
        "subject": [{"name": "pkg:docker/demo@latest?platform=linux%2Famd64",
                     "digest": {"sha256": image_digest.trim_start_matches("sha256:")}}],
        "predicate": spdx,
    });
    let statement = serde_json::to_vec(&statement).unwrap();
    let mut layer = blob(dir, "application/vnd.in-toto+json", &statement);
    layer["annotations"] = json!({"in-toto.io/predicate-type": "https://spdx.dev/Document"});
    let config = serde_json::to_vec(&json!({
        "architecture": "unknown", "os": "unknown", "config": {},
        "rootfs": {"type": "layers", "diff_ids": [layer["digest"].clone()]}
    }))
    .unwrap();
    let config = blob(dir, "application/vnd.oci.image.config.v1+json", &config);
    let att = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": config,
        "layers": [layer],
    }))
    .unwrap();
    let mut att = blob(dir, "application/vnd.oci.image.manifest.v1+json", &att);
    att["platform"] = json!({"architecture": "unknown", "os": "unknown"});
    att["annotations"] = json!({
        "vnd.docker.reference.type": "attestation-manifest",
        "vnd.docker.reference.digest": image_digest,
    });
    let mut image = image;
    image.as_object_mut().unwrap().remove("annotations");
    let nested = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [image, att],
    }))
    .unwrap();
    let mut top = blob(dir, "application/vnd.oci.image.index.v1+json", &nested);
    top["annotations"] = json!({"org.opencontainers.image.ref.name": "latest"});
    let index = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [top]});
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
}

/// The report's lines for the document whose origin starts with `origin`.
fn section<'a>(report: &'a str, origin: &str) -> Vec<&'a str> {
    let mut lines = report
        .lines()
        .skip_while(|l| !l.starts_with(&format!("declared SBOM: {origin}")));
    let head = lines
        .next()
        .unwrap_or_else(|| panic!("no document {origin} in:\n{report}"));
    std::iter::once(head)
        .chain(lines.take_while(|l| !l.starts_with("declared SBOM: ")))
        .collect()
}

/// Exactly the seeded differences: one of each kind, with evidence.
fn assert_seeded(lines: &[&str], report: &str) {
    let text = lines.join("\n");
    assert!(
        text.contains("1 declared but absent, 1 present but undeclared, 1 with another version"),
        "{report}"
    );
    let absent: Vec<&&str> = lines.iter().filter(|l| l.starts_with("    - ")).collect();
    assert_eq!(absent.len(), 1, "{report}");
    assert!(
        absent[0].starts_with("    - ghost 1.0-1  pkg:deb/debian/ghost@1.0-1"),
        "{report}"
    );
    assert!(absent[0].contains("declared by "), "{report}");
    let undeclared: Vec<&&str> = lines.iter().filter(|l| l.starts_with("    + ")).collect();
    assert_eq!(undeclared.len(), 1, "{report}");
    assert!(
        undeclared[0].starts_with("    + zlib1g 1:1.2.13.dfsg-1"),
        "{report}"
    );
    assert!(undeclared[0].contains("/var/lib/dpkg/status"), "{report}");
    assert!(undeclared[0].contains("(layer 0)"), "{report}");
    let versions: Vec<&&str> = lines.iter().filter(|l| l.starts_with("    ~ ")).collect();
    assert_eq!(versions.len(), 1, "{report}");
    assert!(
        versions[0].starts_with("    ~ libc6: declared 2.36-9+deb12u4, found 2.36-9+deb12u14"),
        "{report}"
    );
}

#[test]
fn buildkit_attestation_in_an_oci_layout() {
    let work = tempfile::tempdir().unwrap();
    let layout = work.path().join("layout");
    buildkit_layout(&layout, &seeded_spdx());
    let out = ok(cairn(&[
        "sbom",
        layout.to_str().unwrap(),
        "--declared",
        "-q",
    ]));
    let lines = section(&out, "BuildKit attestation sha256:");
    assert!(
        lines.iter().any(|l| l.contains(
            "note: read from the predicate (https://spdx.dev/Document) of an in-toto statement"
        )),
        "{out}"
    );
    assert_seeded(&lines, &out);
    assert_eq!(out.matches("declared SBOM: ").count(), 1, "{out}");

    // explain shows the declared entry beside the evidence.
    let out = ok(cairn(&["explain", layout.to_str().unwrap(), "libc6", "-q"]));
    assert!(
        out.contains("declared libc6 2.36-9+deb12u4 (pkg:deb/debian/libc6@2.36-9%2Bdeb12u4"),
        "{out}"
    );
    assert!(
        out.contains("declared by BuildKit attestation sha256:"),
        "{out}"
    );

    // A plain scan reads none of it, and the image itself is the same either way.
    let plain = ok(cairn(&["sbom", layout.to_str().unwrap(), "-q"]));
    let direct = ok(cairn(&["sbom", demo().join("oci").to_str().unwrap(), "-q"]));
    assert_eq!(plain, direct);
}

#[test]
fn no_declared_sbom_is_said_so() {
    let out = ok(cairn(&[
        "sbom",
        demo().join("oci").to_str().unwrap(),
        "--declared",
        "-q",
    ]));
    assert!(out.starts_with("no declared SBOM"), "{out}");
}

/// SBOM files in a layer on top of the demo image (a docker-archive, so nothing else is
/// declared): read with the layer that wrote it.
#[test]
fn sbom_file_inside_the_image() {
    let work = tempfile::tempdir().unwrap();
    let layout = work.path().join("layout");
    copy_dir(&demo().join("oci"), &layout);
    // One more layer: /opt/app/app.spdx.json.
    let doc = serde_json::to_vec(&seeded_spdx()).unwrap();
    let mut tar = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(doc.len() as u64);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut h, "opt/app/app.spdx.json", doc.as_slice())
        .unwrap();
    // Bitnami's name for the SPDX JSON of a component.
    tar.append_data(&mut h, "opt/bitnami/app/.spdx-app.spdx", doc.as_slice())
        .unwrap();
    let layer = tar.into_inner().unwrap();
    let index: Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let mdesc = &index["manifests"][0];
    let mhex = mdesc["digest"]
        .as_str()
        .unwrap()
        .trim_start_matches("sha256:");
    let mut manifest: Value =
        serde_json::from_slice(&std::fs::read(layout.join("blobs/sha256").join(mhex)).unwrap())
            .unwrap();
    let chex = manifest["config"]["digest"]
        .as_str()
        .unwrap()
        .trim_start_matches("sha256:")
        .to_string();
    let mut config: Value =
        serde_json::from_slice(&std::fs::read(layout.join("blobs/sha256").join(&chex)).unwrap())
            .unwrap();
    let ldesc = blob(&layout, "application/vnd.oci.image.layer.v1.tar", &layer);
    config["rootfs"]["diff_ids"]
        .as_array_mut()
        .unwrap()
        .push(ldesc["digest"].clone());
    if let Some(h) = config["history"].as_array_mut() {
        h.push(json!({"created_by": "COPY app.spdx.json /opt/app/"}));
    }
    let config = blob(
        &layout,
        "application/vnd.oci.image.config.v1+json",
        &serde_json::to_vec(&config).unwrap(),
    );
    manifest["config"] = config;
    manifest["layers"].as_array_mut().unwrap().push(ldesc);
    let mut m = blob(
        &layout,
        "application/vnd.oci.image.manifest.v1+json",
        &serde_json::to_vec(&manifest).unwrap(),
    );
    m["annotations"] = json!({"org.opencontainers.image.ref.name": "latest"});
    let index = json!({"schemaVersion": 2, "manifests": [m]});
    std::fs::write(
        layout.join("index.json"),
        serde_json::to_vec(&index).unwrap(),
    )
    .unwrap();

    let out = ok(cairn(&[
        "sbom",
        layout.to_str().unwrap(),
        "--declared",
        "-q",
    ]));
    assert_eq!(out.matches("declared SBOM: ").count(), 2, "{out}");
    for path in ["/opt/app/app.spdx.json", "/opt/bitnami/app/.spdx-app.spdx"] {
        let lines = section(&out, path);
        assert!(lines[0].contains("(written by layer 5)"), "{out}");
        assert_seeded(&lines, &out);
    }
}

/// The BuildKit layout pushed whole to a registry, and a CycloneDX SBOM attached to the
/// image as an OCI referrer with its own seeded difference: both read, each with exactly
/// its differences.
#[test]
fn buildkit_attestation_and_referrer_in_a_registry() {
    if !require(
        "docker-registry, skopeo, htpasswd and openssl (scripts/setup installs them)",
        Registry::available(),
    ) {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let layout = work.path().join("layout");
    buildkit_layout(&layout, &seeded_spdx());
    let reg = Registry::start(Options::default());
    reg.push(
        &format!("oci:{}:latest", layout.display()),
        "demo:att",
        true,
    );
    let image = format!("registry:{}/demo:att", reg.host);

    // A CycloneDX document of the image missing only `tar`, attached as a referrer.
    let cdx = ok(cairn(&[
        "sbom",
        demo().join("oci").to_str().unwrap(),
        "-o",
        "cyclonedx-json",
        "-q",
    ]));
    let mut cdx: Value = serde_json::from_str(&cdx).unwrap();
    fn drop_tar(components: &mut Value) {
        if let Some(list) = components.as_array_mut() {
            list.retain(|c| c["name"] != "tar");
            for c in list {
                drop_tar(&mut c["components"]);
            }
        }
    }
    drop_tar(&mut cdx["components"]);
    let cdx = serde_json::to_vec(&cdx).unwrap();
    let reference = cairn_registry::Reference::parse(&format!("{}/demo:att", reg.host)).unwrap();
    let client = cairn_registry::Client::new(
        &reference,
        &cairn_registry::Options {
            insecure: true,
            ..Default::default()
        },
    )
    .unwrap();
    let subject = "sha256:775ab8628efc6fd9e50af18894894368289427fec63ed6900ea55dff7a0f9d2b";
    let subject_size = client.manifest(subject, 1 << 20).unwrap().bytes.len();
    client.push_blob(b"{}").unwrap();
    client.push_blob(&cdx).unwrap();
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": "application/vnd.cyclonedx+json",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json",
                   "digest": format!("sha256:{}", sha(b"{}")), "size": 2},
        "layers": [{"mediaType": "application/vnd.cyclonedx+json",
                    "digest": format!("sha256:{}", sha(&cdx)), "size": cdx.len()}],
        "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": subject, "size": subject_size},
    }))
    .unwrap();
    let mut desc =
        cairn_registry::Descriptor::of("application/vnd.oci.image.manifest.v1+json", &manifest);
    desc.artifact_type = Some("application/vnd.cyclonedx+json".into());
    client.attach(subject, &manifest, &desc).unwrap();

    let out = ok(cairn(&["sbom", &image, "--insecure", "--declared", "-q"]));
    assert_eq!(out.matches("declared SBOM: ").count(), 2, "{out}");
    assert_seeded(&section(&out, "BuildKit attestation sha256:"), &out);
    let lines = section(&out, "referrer sha256:");
    assert!(
        lines[0].contains("(application/vnd.cyclonedx+json)"),
        "{out}"
    );
    let text = lines.join("\n");
    assert!(
        text.contains("0 declared but absent, 1 present but undeclared, 0 with another version"),
        "{out}"
    );
    assert!(text.contains("    + tar 1.34+dfsg-1.2+deb12u1"), "{out}");
    let _ = root();
}
