//! Seed corpora for the image fuzz targets in `fuzz/`: small real layers (whiteouts, an
//! opaque directory, hard and symbolic links, GNU and PAX long names, a GNU sparse file;
//! plain, gzip and zstd), layers stacked with `LAYER_SEPARATOR`, layers just inside the
//! bounds of `small_limits()`, the demo image's JSON documents, and small docker-archive
//! (current, Docker 25+ and legacy) and OCI archives.
//!
//! `cargo run -p cairn-image --features fuzzing --example fuzz-seeds -- fuzz/corpus`
//! writes `layer/`, `image_json/` and `docker_archive/` under the directory given.

use cairn_image::fuzzing::{small_limits, LAYER_SEPARATOR};
use sha2::Digest;
use std::io::{Read, Write};
use std::path::Path;
use tar::{EntryType, Header};

fn demo() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/images/demo")
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

/// A tar written entry by entry.
struct Tar(tar::Builder<Vec<u8>>);

impl Tar {
    fn new() -> Tar {
        Tar(tar::Builder::new(Vec::new()))
    }

    fn header(kind: EntryType, size: u64) -> Header {
        let mut h = Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(if kind == EntryType::Directory {
            0o755
        } else {
            0o644
        });
        h.set_size(size);
        h.set_mtime(1_700_000_000);
        h
    }

    fn dir(mut self, path: &str) -> Tar {
        let mut h = Self::header(EntryType::Directory, 0);
        self.0.append_data(&mut h, path, std::io::empty()).unwrap();
        self
    }

    fn file(mut self, path: &str, data: &[u8]) -> Tar {
        let mut h = Self::header(EntryType::Regular, data.len() as u64);
        self.0.append_data(&mut h, path, data).unwrap();
        self
    }

    /// A file whose name is written as is (the builder refuses `..`).
    fn raw_file(mut self, name: &str, data: &[u8]) -> Tar {
        let mut h = Self::header(EntryType::Regular, data.len() as u64);
        h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        h.set_cksum();
        self.0.append(&h, data).unwrap();
        self
    }

    fn link(mut self, kind: EntryType, path: &str, target: &str) -> Tar {
        let mut h = Self::header(kind, 0);
        self.0.append_link(&mut h, path, target).unwrap();
        self
    }

    fn symlink(self, path: &str, target: &str) -> Tar {
        self.link(EntryType::Symlink, path, target)
    }

    fn hardlink(self, path: &str, target: &str) -> Tar {
        self.link(EntryType::Link, path, target)
    }

    /// A PAX extended header for the next entry.
    fn pax(mut self, records: &[(&str, &str)]) -> Tar {
        let mut data = Vec::new();
        for (k, v) in records {
            let body = format!(" {k}={v}\n");
            let mut len = body.len() + 1;
            while format!("{len}{body}").len() != len {
                len += 1;
            }
            data.extend_from_slice(format!("{len}{body}").as_bytes());
        }
        let mut h = Self::header(EntryType::XHeader, data.len() as u64);
        h.set_path("PaxHeaders/next").unwrap();
        h.set_cksum();
        self.0.append(&h, &data[..]).unwrap();
        self
    }

    /// A GNU sparse file of `real` bytes whose only data, `data`, is at `offset`.
    fn sparse(mut self, path: &str, offset: u64, data: &[u8], real: u64) -> Tar {
        let mut h = Self::header(EntryType::GNUSparse, data.len() as u64);
        h.set_path(path).unwrap();
        let gnu = h.as_gnu_mut().unwrap();
        gnu.sparse[0].set_offset(offset);
        gnu.sparse[0].set_length(data.len() as u64);
        // A hole at the end is a last block of no data at the end.
        gnu.sparse[1].set_offset(real);
        gnu.sparse[1].set_length(0);
        gnu.set_real_size(real);
        h.set_cksum();
        self.0.append(&h, data).unwrap();
        self
    }

    fn done(self) -> Vec<u8> {
        self.0.into_inner().unwrap()
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn zstd(bytes: &[u8]) -> Vec<u8> {
    zstd::encode_all(bytes, 3).unwrap()
}

fn stack(layers: &[&[u8]]) -> Vec<u8> {
    layers.join(LAYER_SEPARATOR)
}

fn base_layer() -> Vec<u8> {
    Tar::new()
        .dir("etc/")
        .file("etc/os-release", b"ID=debian\nVERSION_ID=12\n")
        .file("etc/gone", b"removed by the next layer\n")
        .dir("etc/dpkg/origins/")
        .file("etc/dpkg/origins/debian", b"Vendor: Debian\n")
        .dir("var/lib/dpkg/")
        .file(
            "var/lib/dpkg/status",
            b"Package: base-files\nStatus: install ok installed\nVersion: 12.4\n\n",
        )
        .file("usr/lib/target", b"the target of links\n")
        .symlink("usr/lib/os-release", "../../etc/os-release")
        .done()
}

/// Every kind of entry the reader treats specially, in one layer over `base_layer`.
fn features_layer() -> Vec<u8> {
    let long = format!("opt/{}/file", "long-directory-name".repeat(8));
    let pax_name = format!("opt/pax/{}", "p".repeat(150));
    Tar::new()
        .file("etc/.wh.gone", b"")
        .dir("etc/dpkg/origins/")
        .file("etc/dpkg/origins/.wh..wh..opq", b"")
        .file("etc/dpkg/origins/cairn", b"Vendor: cairn\n")
        .hardlink("opt/hard", "usr/lib/target")
        .symlink("opt/abs", "/usr/lib")
        .symlink("opt/loop-a", "loop-b")
        .symlink("opt/loop-b", "loop-a")
        .symlink("etc/os-release", "../usr/lib/os-release")
        .file(&long, b"a GNU long name\n")
        .pax(&[("path", &pax_name), ("mtime", "1700000000.5")])
        .file("placeholder", b"a PAX long name\n")
        .pax(&[("linkpath", &format!("/usr/lib/{}", "t".repeat(120)))])
        .symlink("opt/pax-link", "placeholder")
        .sparse("opt/sparse.img", 1024, &[b's'; 512], 4096)
        .raw_file("./opt/./dot/../app", b"normalized to opt/app\n")
        .done()
}

/// Names and link targets just under the kernel's 4096-byte limit, in GNU and PAX headers.
fn long_names_layer() -> Vec<u8> {
    let deep = |top: &str| {
        let mut p = top.to_owned();
        while p.len() < 3800 {
            p.push_str(&"n".repeat(199));
            p.push('/');
        }
        p + "file"
    };
    let (gnu, pax) = (deep("opt/gnu/"), deep("opt/pax/"));
    Tar::new()
        .file(&gnu, b"a GNU long name near PATH_MAX\n")
        .pax(&[("path", &pax)])
        .file("placeholder", b"a PAX path near PATH_MAX\n")
        .hardlink("opt/hard", &gnu)
        .pax(&[("linkpath", &format!("/{pax}"))])
        .symlink("opt/pax-link", "placeholder")
        .symlink("opt/gnu-link", &format!("../{gnu}"))
        .done()
}

/// Layers at the bounds of `small_limits()`, so that one mutation (a byte in the zero
/// blocks that end the tar, a whiteout's name, an empty file's size) takes them past one:
/// entries in a layer, paths in the view, kept contents.
fn near_limits(out: &Path) {
    let limits = small_limits();
    let files = |prefix: &str, n: u64, size: usize| {
        let mut t = Tar::new();
        for i in 0..n {
            t = t.file(&format!("{prefix}/{i}"), &vec![b'a' + (i % 26) as u8; size]);
        }
        t
    };
    let entries = files("e", limits.max_layer_entries, 1).done();
    write(out, "at-max-layer-entries.tar", &entries);
    // Directories a/ and b/ are implicit: 2 x half paths, and a whiteout of nothing.
    let half = limits.max_paths / 2;
    let (a, b) = (files("a", half, 1).done(), files("b", half, 1));
    write(
        out,
        "at-max-paths",
        &stack(&[&a, &b.file("b/.wh.nothing", b"").done()]),
    );
    let n = limits.max_kept_bytes / limits.max_content;
    let kept = files("k", n, limits.max_content as usize)
        .file("k/empty", b"")
        .done();
    write(out, "at-max-kept-bytes.tar", &kept);
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(name), bytes).unwrap();
}

fn layer_seeds(out: &Path) {
    let out = out.join("layer");
    let base = base_layer();
    let features = features_layer();
    write(&out, "base.tar", &base);
    write(&out, "features.tar", &features);
    write(&out, "long-names.tar", &long_names_layer());
    near_limits(&out);
    write(&out, "features.tar.gz", &gzip(&features));
    write(&out, "features.tar.zst", &zstd(&features));
    write(&out, "two-layers", &stack(&[&base, &features]));
    write(
        &out,
        "mixed-compression",
        &stack(&[&gzip(&base), &zstd(&features)]),
    );
    let retype = Tar::new()
        .file("etc", b"a file replacing the directory etc\n")
        .dir("usr/lib/os-release/")
        .done();
    write(&out, "three-layers", &stack(&[&base, &features, &retype]));
    // The demo image's two small OCI layers (gzip): an opaque directory and a hard link,
    // and a layer of whiteouts.
    for blob in [
        "239bd3c95860c0eec537b578bb44dd5a8e7f07bbdc462f5e963d8f852afc0d02",
        "09f99d5f6ccac7c253c2cbb9a5d494335e473abb1a2fe51c2abd6350e1c3ff08",
    ] {
        let bytes = std::fs::read(demo().join("oci/blobs/sha256").join(blob)).unwrap();
        write(&out, &format!("demo-{}.tar.gz", &blob[..12]), &bytes);
    }
}

/// A member of the demo docker-archive.
fn demo_archive_member(name: &str) -> Vec<u8> {
    let file = std::fs::File::open(demo().join("docker-archive.tar")).unwrap();
    let mut archive = tar::Archive::new(file);
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        if entry.path().unwrap().to_str() == Some(name) {
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).unwrap();
            return bytes;
        }
    }
    panic!("{name} is not in the demo docker-archive");
}

fn json_seeds(out: &Path) {
    let out = out.join("image_json");
    let blobs = demo().join("oci/blobs/sha256");
    write(
        &out,
        "demo-index.json",
        &std::fs::read(demo().join("oci/index.json")).unwrap(),
    );
    for (name, blob) in [
        (
            "demo-manifest.json",
            "775ab8628efc6fd9e50af18894894368289427fec63ed6900ea55dff7a0f9d2b",
        ),
        (
            "demo-config.json",
            "1180d901ec4096859b59aee171239ec148cfad0e095bffe6b7c84cf980cb051c",
        ),
    ] {
        write(&out, name, &std::fs::read(blobs.join(blob)).unwrap());
    }
    write(
        &out,
        "demo-docker-manifest.json",
        &demo_archive_member("manifest.json"),
    );
    let digest = |c: char| format!("sha256:{}", c.to_string().repeat(64));
    let multi = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
        "manifests": [
            {"mediaType": "application/vnd.docker.distribution.manifest.v2+json",
             "digest": digest('a'), "size": 100,
             "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}},
            {"mediaType": "application/vnd.docker.distribution.manifest.v2+json",
             "digest": digest('b'), "size": 100,
             "platform": {"architecture": "amd64", "os": "linux"}},
            {"mediaType": "application/vnd.oci.image.manifest.v1+json",
             "digest": digest('c'), "size": 100,
             "platform": {"architecture": "unknown", "os": "unknown"},
             "annotations": {"vnd.docker.reference.type": "attestation-manifest"}}
        ]
    });
    write(
        &out,
        "multi-platform-index.json",
        multi.to_string().as_bytes(),
    );
}

/// An outer archive of `(name, bytes)` members.
fn archive(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut t = Tar::new();
    for (name, bytes) in members {
        t = t.file(name, bytes);
    }
    t.done()
}

fn archive_seeds(out: &Path) {
    let out = out.join("docker_archive");
    let base = Tar::new()
        .dir("etc/")
        .file("etc/os-release", b"ID=debian\n")
        .file("etc/gone", b"x\n")
        .done();
    let top = Tar::new()
        .file("etc/.wh.gone", b"")
        .hardlink("etc/again", "etc/os-release")
        .symlink("etc/self", ".")
        .done();
    let config = |diff_ids: &[&[u8]]| {
        serde_json::json!({
            "architecture": "amd64", "os": "linux",
            "rootfs": {"type": "layers",
                       "diff_ids": diff_ids.iter().map(|l| format!("sha256:{}", sha256(l))).collect::<Vec<_>>()},
            "history": [{"created_by": "base"}, {"created_by": "top"},
                        {"created_by": "ENV x=y", "empty_layer": true}]
        })
        .to_string()
        .into_bytes()
    };
    let cfg = config(&[&base, &top]);
    let cfg_name = format!("{}.json", sha256(&cfg));

    // docker save before Docker 25.
    let manifest = serde_json::json!([{
        "Config": cfg_name, "RepoTags": ["demo:latest"],
        "Layers": ["aaa/layer.tar", "bbb/layer.tar"]
    }])
    .to_string();
    let docker = archive(&[
        ("manifest.json", manifest.as_bytes()),
        (&cfg_name, &cfg),
        ("aaa/layer.tar", &base),
        ("bbb/layer.tar", &top),
    ]);
    write(&out, "docker.tar", &docker);
    write(&out, "docker.tar.gz", &gzip(&docker));

    // Docker 25+: blobs named by digest, a symlinked layer directory.
    let blob = |b: &[u8]| format!("blobs/sha256/{}", sha256(b));
    let manifest = serde_json::json!([{
        "Config": blob(&cfg), "RepoTags": null,
        "Layers": [blob(&base), "layers/top.tar"]
    }])
    .to_string();
    let mut t = Tar::new()
        .file("manifest.json", manifest.as_bytes())
        .file(&blob(&cfg), &cfg)
        .file(&blob(&base), &base)
        .file(&blob(&top), &top);
    t = t.symlink("layers/top.tar", &format!("../{}", blob(&top)));
    write(&out, "docker25.tar", &t.done());

    // Legacy (before Docker 1.10): `repositories` names the top layer, `json` its parent.
    let (a, b) = ("a".repeat(64), "b".repeat(64));
    let repositories = serde_json::json!({"demo": {"old": b}}).to_string();
    let a_json = serde_json::json!({"id": a}).to_string();
    let b_json = serde_json::json!({"id": b, "parent": a,
        "container_config": {"Cmd": ["/bin/sh", "-c", "rm /etc/gone"]}})
    .to_string();
    let legacy = archive(&[
        ("repositories", repositories.as_bytes()),
        (&format!("{a}/json"), a_json.as_bytes()),
        (&format!("{a}/layer.tar"), &base),
        (&format!("{b}/json"), b_json.as_bytes()),
        (&format!("{b}/layer.tar"), &top),
    ]);
    write(&out, "legacy.tar", &legacy);

    // An OCI image layout in a tar: index.json → manifest → config and gzip layers.
    let (base_gz, top_gz) = (gzip(&base), gzip(&top));
    let descriptor = |media: &str, b: &[u8]| serde_json::json!({"mediaType": media, "digest": format!("sha256:{}", sha256(b)), "size": b.len()});
    let layer_type = "application/vnd.oci.image.layer.v1.tar+gzip";
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": descriptor("application/vnd.oci.image.config.v1+json", &cfg),
        "layers": [descriptor(layer_type, &base_gz), descriptor(layer_type, &top_gz)]
    })
    .to_string()
    .into_bytes();
    let mut m = descriptor("application/vnd.oci.image.manifest.v1+json", &manifest);
    m["platform"] = serde_json::json!({"architecture": "amd64", "os": "linux"});
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [m]}).to_string();
    let oci = archive(&[
        ("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#),
        ("index.json", index.as_bytes()),
        (&blob(&manifest), &manifest),
        (&blob(&cfg), &cfg),
        (&blob(&base_gz), &base_gz),
        (&blob(&top_gz), &top_gz),
    ]);
    write(&out, "oci.tar", &oci);
}

fn main() {
    let out = std::env::args()
        .nth(1)
        .expect("usage: fuzz-seeds DIR (e.g. fuzz/corpus)");
    let out = Path::new(&out);
    layer_seeds(out);
    json_seeds(out);
    archive_seeds(out);
    for target in ["layer", "image_json", "docker_archive"] {
        let n = std::fs::read_dir(out.join(target)).unwrap().count();
        println!("{}: {n} seeds", out.join(target).display());
    }
}
