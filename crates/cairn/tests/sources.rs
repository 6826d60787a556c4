//! Source forms beyond the committed ones, made in the test from the demo image: the legacy
//! `docker save` layout, a nested multi-platform index, and root filesystem directories.

mod common;
use common::*;
use serde_json::{json, Value};
use std::io::Read;
use std::path::Path;

fn sha256(b: &[u8]) -> String {
    use sha2::Digest;
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(b)))
}

fn demo_archive_members() -> (Value, Value, Vec<Vec<u8>>) {
    let mut a = tar::Archive::new(std::fs::File::open(demo().join("docker-archive.tar")).unwrap());
    let mut files = std::collections::HashMap::new();
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let name = e.path().unwrap().to_string_lossy().into_owned();
        let mut b = Vec::new();
        e.read_to_end(&mut b).unwrap();
        files.insert(name, b);
    }
    let manifest: Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    let config: Value =
        serde_json::from_slice(&files[manifest[0]["Config"].as_str().unwrap()]).unwrap();
    let layers = manifest[0]["Layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| files[l.as_str().unwrap()].clone())
        .collect();
    (manifest, config, layers)
}

fn add(b: &mut tar::Builder<std::fs::File>, name: &str, data: &[u8]) {
    let mut h = tar::Header::new_gnu();
    h.set_path(name).unwrap();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    b.append(&h, data).unwrap();
}

#[test]
fn legacy_docker_save_layout() {
    // Docker before 1.10: `repositories` names the top layer; each layer's `json` names its
    // parent; layers are uncompressed tars.
    let (_, config, layers) = demo_archive_members();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("legacy.tar");
    let mut b = tar::Builder::new(std::fs::File::create(&path).unwrap());
    let history: Vec<&Value> = config["history"].as_array().unwrap().iter().collect();
    let mut parent: Option<String> = None;
    for (i, gz) in layers.iter().enumerate() {
        let mut raw = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut raw)
            .unwrap();
        let id = sha256(format!("legacy-{i}").as_bytes())[7..].to_owned();
        let mut j = json!({"id": id, "container_config": {"Cmd": ["/bin/sh", "-c", history[i]["created_by"]]}});
        if let Some(p) = &parent {
            j["parent"] = json!(p);
        }
        add(&mut b, &format!("{id}/VERSION"), b"1.0");
        add(
            &mut b,
            &format!("{id}/json"),
            &serde_json::to_vec(&j).unwrap(),
        );
        add(&mut b, &format!("{id}/layer.tar"), &raw);
        parent = Some(id);
    }
    let repos = json!({"cairn/legacy": {"1.0": parent.unwrap()}});
    add(&mut b, "repositories", &serde_json::to_vec(&repos).unwrap());
    b.finish().unwrap();
    drop(b);
    let sbom = scan_json(path.to_str().unwrap());
    assert_eq!(sbom["source"]["name"], "cairn/legacy:1.0");
    assert_eq!(sbom["source"]["layers"].as_array().unwrap().len(), 5);
    let expat = sbom["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "libexpat1")
        .unwrap();
    assert_eq!(expat["version"], "2.5.0-1+deb12u5");
    assert_eq!(expat["evidence"]["introduced_in"], 1);
    let n = sbom["packages"].as_array().unwrap().len();
    assert_eq!(n, truth(truth_layers() - 1).len());
}

#[test]
fn nested_index_picks_linux_amd64_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let img = multi_platform(dir.path());
    let sbom = scan_json(img.to_str().unwrap());
    assert_eq!(sbom["source"]["platform"], "linux/amd64");
    assert_eq!(
        sbom["packages"].as_array().unwrap().len(),
        truth(truth_layers() - 1).len()
    );
}

#[test]
fn platform_flag_picks_another_image() {
    let dir = tempfile::tempdir().unwrap();
    let img = multi_platform(dir.path());
    for p in ["linux/arm64", "linux/arm64/v8"] {
        let sbom: Value = serde_json::from_str(&cairn_ok(&[
            "sbom",
            img.to_str().unwrap(),
            "--platform",
            p,
            "-o",
            "json",
            "-q",
        ]))
        .unwrap();
        assert_eq!(sbom["source"]["platform"], "linux/arm64/v8");
        assert_eq!(sbom["packages"].as_array().unwrap().len(), 0);
        assert_eq!(sbom["distro"]["id"], "debian");
    }
    let out = cairn(&["sbom", img.to_str().unwrap(), "--platform", "linux/s390x"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no image for platform linux/s390x")
            && err.contains("linux/arm64/v8, linux/amd64"),
        "{err}"
    );
    let out = cairn(&["sbom", img.to_str().unwrap(), "--platform", "linux"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn root_filesystem_directory() {
    // The demo's final filesystem, unpacked by the test, scanned as a directory.
    let (_, _, layers) = demo_archive_members();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("rootfs");
    std::fs::create_dir_all(&root).unwrap();
    // Only the base layer: no whiteouts to apply by hand.
    let mut a = tar::Archive::new(flate2::read::GzDecoder::new(&layers[0][..]));
    a.set_preserve_permissions(false);
    a.unpack(&root).unwrap();
    let sbom = scan_json(&format!("dir:{}", root.display()));
    assert_eq!(sbom["source"]["kind"], "dir");
    let mut got: Vec<(String, String, String)> = sbom["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().into(),
                p["version"].as_str().unwrap().into(),
                p["arch"].as_str().unwrap().into(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(got, truth(0));
}

/// `docker save | gzip` and a zstd-compressed OCI archive scan exactly like their plain
/// forms, and the decompressed copy is gone when cairn exits.
#[test]
fn compressed_archives() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let plain_docker = demo().join("docker-archive.tar");
    let plain_oci = oci_archive(dir.path());

    let gz_docker = dir.path().join("demo.tar.gz");
    let mut e = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz_docker).unwrap(),
        flate2::Compression::fast(),
    );
    e.write_all(&std::fs::read(&plain_docker).unwrap()).unwrap();
    e.finish().unwrap();
    let zst_oci = dir.path().join("demo-oci.tar.zst");
    let bytes = zstd::encode_all(std::fs::File::open(&plain_oci).unwrap(), 3).unwrap();
    std::fs::write(&zst_oci, bytes).unwrap();

    let scan = |img: &Path| -> Value {
        let out = cairn_env(
            &["sbom", img.to_str().unwrap(), "-q", "-o", "json"],
            &[("TMPDIR", &tmp)],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["source"]["path"] = Value::Null;
        v
    };
    for (plain, packed, kind) in [
        (&plain_docker, &gz_docker, "docker-archive"),
        (&plain_oci, &zst_oci, "oci-archive"),
    ] {
        let packed_sbom = scan(packed);
        assert_eq!(packed_sbom["source"]["kind"], kind);
        assert_eq!(scan(plain), packed_sbom, "{}", packed.display());
        assert_eq!(
            std::fs::read_dir(&tmp).unwrap().count(),
            0,
            "temporary files left"
        );
    }
}
