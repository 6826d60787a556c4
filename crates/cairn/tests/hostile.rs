//! Hostile and broken inputs: each gives a clear error (or an SBOM explicitly marked
//! incomplete) and a non-zero exit, never a panic, and nothing is written but the output
//! asked for.

mod common;
use common::*;
use flate2::{write::GzEncoder, Compression};
use sha2_digest::sha256;
use std::io::Write;
use std::path::{Path, PathBuf};

mod sha2_digest {
    pub fn sha256(b: &[u8]) -> String {
        use sha2::Digest;
        format!("sha256:{}", hex::encode(sha2::Sha256::digest(b)))
    }
}

enum E<'a> {
    File(&'a str, &'a [u8]),
    Dir(&'a str),
    Symlink(&'a str, &'a str),
}

/// A tar with names written byte for byte, even the ones `tar::Builder` refuses.
fn raw_tar(entries: &[E]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = tar::Header::new_gnu();
        let (name, data, kind, link): (&str, &[u8], tar::EntryType, Option<&str>) = match e {
            E::File(n, d) => (n, d, tar::EntryType::Regular, None),
            E::Dir(n) => (n, b"", tar::EntryType::Directory, None),
            E::Symlink(n, t) => (n, b"", tar::EntryType::Symlink, Some(t)),
        };
        h.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name.as_bytes());
        if let Some(t) = link {
            h.as_gnu_mut().unwrap().linkname[..t.len()].copy_from_slice(t.as_bytes());
        }
        h.set_entry_type(kind);
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append(&h, data).unwrap();
    }
    b.into_inner().unwrap()
}

fn gzip(raw: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(raw).unwrap();
    e.finish().unwrap()
}

/// An OCI layout with the given (raw tar, stored blob) layers, digests all consistent.
fn oci(dir: &Path, layers: &[(Vec<u8>, Vec<u8>)]) -> PathBuf {
    let root = dir.join("image");
    let blobs = root.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let put = |b: &[u8]| {
        let d = sha256(b);
        std::fs::write(blobs.join(&d[7..]), b).unwrap();
        d
    };
    let mut descs = Vec::new();
    let mut diff_ids = Vec::new();
    for (raw, stored) in layers {
        diff_ids.push(sha256(raw));
        descs.push(serde_json::json!({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": put(stored), "size": stored.len()}));
    }
    let history: Vec<_> = layers
        .iter()
        .enumerate()
        .map(|(i, _)| serde_json::json!({"created_by": format!("step {i}")}))
        .collect();
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": diff_ids}, "history": history,
    }))
    .unwrap();
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": put(&config), "size": config.len()},
        "layers": descs,
    }))
    .unwrap();
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": put(&manifest), "size": manifest.len(),
        "platform": {"os": "linux", "architecture": "amd64"}}]});
    std::fs::write(root.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    std::fs::write(
        root.join("oci-layout"),
        br#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
    root
}

fn layer(entries: &[E]) -> (Vec<u8>, Vec<u8>) {
    let raw = raw_tar(entries);
    let gz = gzip(&raw);
    (raw, gz)
}

const STATUS: &[u8] = b"Package: hello\nStatus: install ok installed\nVersion: 2.10-3\nArchitecture: amd64\n\nPackage: tzdata\nStatus: install ok installed\nVersion: 2024a-0+deb12u1\nArchitecture: all\n";

/// Run a scan that must fail; returns stderr. Checks nothing but the output file appeared
/// and that the output file itself was not written.
fn scan_fails(image: &Path, dir: &Path) -> String {
    let out_file = dir.join("out.json");
    // cairn's temporary files go here too, so that any left behind show up.
    let tmp = dir.join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let before = listing(dir);
    let out = cairn_env(
        &[
            "sbom",
            image.to_str().unwrap(),
            "-o",
            &format!("json={}", out_file.display()),
        ],
        &[("TMPDIR", &tmp)],
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected exit 1, got {:?}: {stderr}",
        out.status.code()
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.starts_with("cairn: error:"), "{stderr}");
    assert!(
        !out_file.exists(),
        "no SBOM may be written when the scan failed"
    );
    assert_eq!(before, listing(dir), "nothing may be written");
    stderr
}

fn listing(dir: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p.clone());
            }
            v.push(p);
        }
    }
    v.sort();
    v
}

#[test]
fn path_traversal_entry_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let img = oci(
        dir.path(),
        &[layer(&[
            E::File("../../escaped", b"x"),
            E::File("var/lib/dpkg/status", STATUS),
        ])],
    );
    let err = scan_fails(&img, dir.path());
    assert!(
        err.contains("climbs out of the image root") && err.contains("../../escaped"),
        "{err}"
    );
    assert!(!dir.path().parent().unwrap().join("escaped").exists());
}

#[test]
fn absolute_entry_name_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let img = oci(
        dir.path(),
        &[layer(&[E::File(
            "/etc/passwd",
            b"root:x:0:0::/root:/bin/sh\n",
        )])],
    );
    let err = scan_fails(&img, dir.path());
    assert!(err.contains("'/etc/passwd' is absolute"), "{err}");
}

#[test]
fn symlink_loop_marks_the_sbom_incomplete() {
    let dir = tempfile::tempdir().unwrap();
    let img = oci(
        dir.path(),
        &[layer(&[
            E::Dir("etc"),
            E::Symlink("etc/os-release", "loop-a"),
            E::Symlink("etc/loop-a", "loop-b"),
            E::Symlink("etc/loop-b", "/etc/loop-a"),
            E::File("var/lib/dpkg/status", STATUS),
        ])],
    );
    let out_file = dir.path().join("out.cdx.json");
    let out = cairn(&[
        "sbom",
        img.to_str().unwrap(),
        "-o",
        &format!("cyclonedx-json={}", out_file.display()),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("INCOMPLETE") && stderr.contains("symbolic link loop"),
        "{stderr}"
    );
    let bom: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out_file).unwrap()).unwrap();
    assert_eq!(bom["compositions"][0]["aggregate"], "incomplete");
    let packages = cdx_components(&bom)
        .into_iter()
        .filter(|c| c["type"] == "library")
        .count();
    assert_eq!(packages, 2, "the packages that could be read are there");
}

#[test]
fn symlinks_cannot_leave_the_image_root() {
    let dir = tempfile::tempdir().unwrap();
    let img = oci(
        dir.path(),
        &[layer(&[
            E::Dir("etc"),
            E::Symlink("etc/os-release", "../../../../../../usr/lib/os-release"),
            E::File("usr/lib/os-release", b"ID=debian\nVERSION_ID=\"12\"\n"),
        ])],
    );
    let sbom = scan_json(img.to_str().unwrap());
    assert_eq!(sbom["distro"]["evidence"]["path"], "/usr/lib/os-release");
}

#[test]
fn gzip_bomb_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // One 400 MiB file of zeros: a few hundred KiB compressed.
    let size: u64 = 400 << 20;
    let mut h = tar::Header::new_gnu();
    h.set_path("zeros").unwrap();
    h.set_size(size);
    h.set_mode(0o644);
    h.set_cksum();
    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    gz.write_all(h.as_bytes()).unwrap();
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..(size >> 20) {
        gz.write_all(&chunk).unwrap();
    }
    gz.write_all(&[0u8; 1024]).unwrap();
    let stored = gz.finish().unwrap();
    assert!(stored.len() < (size / 200) as usize);
    // The diff_id is not needed: the bomb is caught before the end of the stream.
    let img = oci(dir.path(), &[(b"unused".to_vec(), stored)]);
    let err = scan_fails(&img, dir.path());
    assert!(err.contains("decompression bomb"), "{err}");
}

#[test]
fn compressed_archive_bomb_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // `docker save | gzip` gone wrong: 300 MiB of zeros behind a gzip header.
    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..300 {
        gz.write_all(&chunk).unwrap();
    }
    let img = dir.path().join("image.tar.gz");
    std::fs::write(&img, gz.finish().unwrap()).unwrap();
    let err = scan_fails(&img, dir.path());
    assert!(err.contains("decompression bomb"), "{err}");
}

#[test]
fn truncated_compressed_archive_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let whole = gzip(&std::fs::read(demo().join("docker-archive.tar")).unwrap());
    let img = dir.path().join("image.tar.gz");
    std::fs::write(&img, &whole[..whole.len() / 2]).unwrap();
    let err = scan_fails(&img, dir.path());
    assert!(err.contains("does not decompress"), "{err}");
    assert!(!err.contains("prefix"), "no kind prefix would help: {err}");
    assert!(err.contains("image.tar.gz"), "{err}");
}

#[test]
fn truncated_layer_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let (raw, gz) = layer(&[
        E::File("var/lib/dpkg/status", STATUS),
        E::File("big", &[7u8; 100_000]),
    ]);
    let cut = gz[..gz.len() / 2].to_vec();
    let img = oci(dir.path(), &[(raw, cut)]);
    let err = scan_fails(&img, dir.path());
    assert!(err.contains("truncated"), "{err}");
}

#[test]
fn tampered_layer_fails_its_digest() {
    let dir = tempfile::tempdir().unwrap();
    // An uncompressed layer, so that the tampered bytes still parse and only the digest
    // can tell: "hello" becomes "jello".
    let raw = raw_tar(&[E::File("var/lib/dpkg/status", STATUS)]);
    let img = oci(dir.path(), &[(raw.clone(), raw.clone())]);
    let path = img.join("blobs/sha256").join(&sha256(&raw)[7..]);
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes.windows(5).position(|w| w == b"hello").unwrap();
    bytes[at] = b'j';
    std::fs::write(&path, bytes).unwrap();
    let err = scan_fails(&img, dir.path());
    assert!(err.contains("digest mismatch"), "{err}");
}

#[test]
fn manifest_pointing_at_a_missing_blob() {
    let dir = tempfile::tempdir().unwrap();
    let (raw, gz) = layer(&[E::File("var/lib/dpkg/status", STATUS)]);
    let img = oci(dir.path(), &[(raw, gz.clone())]);
    std::fs::remove_file(img.join("blobs/sha256").join(&sha256(&gz)[7..])).unwrap();
    let err = scan_fails(&img, dir.path());
    assert!(err.contains("missing from the image"), "{err}");
}

#[test]
fn invalid_json_index() {
    let dir = tempfile::tempdir().unwrap();
    let img = oci(dir.path(), &[layer(&[E::File("a", b"a")])]);
    std::fs::write(
        img.join("index.json"),
        b"{\"schemaVersion\": 2, \"manifests\": [",
    )
    .unwrap();
    let err = scan_fails(&img, dir.path());
    assert!(err.contains("index.json: invalid JSON"), "{err}");
}

#[test]
fn invalid_json_docker_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("bad.tar");
    let mut b = tar::Builder::new(std::fs::File::create(&archive).unwrap());
    let data = b"[{\"Config\": 5}]";
    let mut h = tar::Header::new_gnu();
    h.set_path("manifest.json").unwrap();
    h.set_size(data.len() as u64);
    h.set_cksum();
    b.append(&h, &data[..]).unwrap();
    b.finish().unwrap();
    drop(b);
    let err = scan_fails(&archive, dir.path());
    assert!(err.contains("manifest.json: invalid JSON"), "{err}");
}

#[test]
fn not_an_image() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("random.bin");
    std::fs::write(&f, vec![0x42u8; 4096]).unwrap();
    let err = scan_fails(&f, dir.path());
    assert!(err.contains("cannot tell what kind of image"), "{err}");
}

#[test]
fn broken_dpkg_stanza_gives_a_partial_sbom_marked_so() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("rootfs");
    std::fs::create_dir_all(root.join("var/lib/dpkg")).unwrap();
    let mut status = STATUS.to_vec();
    status.extend_from_slice(b"\nPackage: broken\nthis line is not a field\nVersion: 1\n\nVersion: 2\nArchitecture: all\n");
    std::fs::write(root.join("var/lib/dpkg/status"), status).unwrap();
    let out_file = dir.path().join("out.json");
    let out = cairn(&[
        "sbom",
        &format!("dir:{}", root.display()),
        "-o",
        &format!("json={}", out_file.display()),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("lines 11-13") && stderr.contains("line 12"),
        "{stderr}"
    );
    assert!(
        stderr.contains("lines 15-16") && stderr.contains("no Package or Version"),
        "{stderr}"
    );
    let sbom: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out_file).unwrap()).unwrap();
    assert_eq!(sbom["complete"], false);
    let names: Vec<&str> = sbom["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["hello", "tzdata"]);
}

#[test]
fn usage_errors_exit_2() {
    let out = cairn(&["sbom", "--no-such-flag", "x"]);
    assert_eq!(out.status.code(), Some(2));
    let out = cairn(&["sbom", demo().join("oci").to_str().unwrap(), "-o", "yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown output format 'yaml'"));
}

/// Damaged and hostile language files (fixtures/hostile.py lang-hostile: a jar whose nested
/// jar inflates past the 1 GiB budget, a jar nested 50 deep, a truncated jar, a malformed
/// pom.xml, a broken gemspec, an installed.json and a deps.json that are not JSON): each a
/// warning naming the file, the SBOM marked incomplete (exit 1), everything else reported.
#[test]
fn hostile_language_files_are_warnings_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("rootfs");
    let size = ((1u64 << 30) + (64 << 20)).to_string();
    let gen = std::process::Command::new("python3")
        .arg(common::root().join("fixtures/hostile.py"))
        .args(["lang-hostile", root.to_str().unwrap(), "--size", &size])
        .status()
        .unwrap();
    assert!(gen.success());
    let out_file = dir.path().join("out.json");
    let out = cairn(&[
        "sbom",
        &format!("dir:{}", root.display()),
        "-o",
        &format!("json={}", out_file.display()),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let sbom: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out_file).unwrap()).unwrap();
    assert_eq!(sbom["complete"], false);
    let warnings: Vec<String> = sbom["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            format!(
                "{} {}",
                w["path"].as_str().unwrap_or(""),
                w["message"].as_str().unwrap()
            )
        })
        .collect();
    for (path, says) in [
        ("/app/bomb.jar!/BOOT-INF/lib/zeros.jar", "limit"),
        ("/app/deep.jar!/", "nested more than 8"),
        ("/app/cut.jar", "zip"),
        (
            "/app/bad-pom-2.0.jar!/META-INF/maven/org.example/bad-pom/pom.xml",
            "well-formed",
        ),
        (
            "/usr/local/bundle/specifications/broken-1.0.gemspec",
            "no name or no version",
        ),
        ("/srv/app/vendor/composer/installed.json", "not JSON"),
        ("/opt/net/app.deps.json", "not JSON"),
    ] {
        assert!(
            warnings
                .iter()
                .any(|w| w.contains(path) && w.contains(says)),
            "no warning at {path} saying {says:?}: {warnings:#?}"
        );
    }
    let names: std::collections::BTreeSet<&str> = sbom["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for n in ["victim", "good", "bad-pom", "deep", "bomb"] {
        assert!(names.contains(n), "{n} missing: {names:?}");
    }
}
