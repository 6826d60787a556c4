//! The committed demo image (fixtures/images/demo, built by fixtures/build-images.sh from real
//! Debian bookworm packages) read in every source form.

use cairn_image::{
    open, ChangeKind, FsView, NodeKind, PathPattern, Platform, ScanOptions, SourceKind, SourceSpec,
};
use std::path::{Path, PathBuf};

fn demo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/images/demo")
}

fn opts() -> ScanOptions {
    ScanOptions {
        contents: vec![
            PathPattern::new("/var/lib/dpkg/status"),
            PathPattern::new("/opt/app/*"),
            PathPattern::new("/usr/lib/os-release"),
        ],
        ..Default::default()
    }
}

fn scan(spec: &str) -> (cairn_image::Image, FsView) {
    let image = open(&SourceSpec::parse(spec).unwrap(), None).unwrap();
    let view = FsView::scan(&image, &opts()).unwrap();
    (image, view)
}

fn check_demo_view(image: &cairn_image::Image, view: &FsView) {
    assert_eq!(image.layers.len(), 5);
    assert!(image.layers[2]
        .created_by
        .as_deref()
        .unwrap()
        .contains("--only-upgrade libexpat1"));
    // netbase is purged in layer 3: its files are gone but remembered.
    assert!(view.get("/etc/protocols").is_none());
    let gone = view
        .removed("/etc/protocols")
        .expect("removed path is remembered");
    assert_eq!(
        gone.history
            .iter()
            .map(|c| (c.layer, c.kind))
            .collect::<Vec<_>>(),
        vec![(1, ChangeKind::Added), (3, ChangeKind::Removed)]
    );
    // The dpkg status file was written by every layer that ran dpkg, each version kept.
    let status = view.get("/var/lib/dpkg/status").unwrap();
    let layers: Vec<usize> = status.versions.iter().map(|(l, _)| *l).collect();
    assert_eq!(layers, vec![0, 1, 2, 3]);
    // Layer 4 made /etc/dpkg/origins opaque: base-files' debian origin is hidden.
    assert!(view.get("/etc/dpkg/origins/debian").is_none());
    assert!(view.removed("/etc/dpkg/origins/debian").is_some());
    assert!(view.get("/etc/dpkg/origins/cairn-demo").is_some());
    // A hard link carries its target's contents.
    let hello = view.read("/opt/app/hello.txt").unwrap().unwrap();
    assert_eq!(&hello[..], b"hello from the cairn demo image\n");
    assert_eq!(
        view.read("/opt/app/hello-link.txt").unwrap().unwrap(),
        hello
    );
    // /etc/os-release is a relative symlink into /usr/lib.
    assert!(matches!(
        view.get("/etc/os-release").unwrap().kind,
        NodeKind::Symlink(_)
    ));
    let os = view.read("/etc/os-release").unwrap().unwrap();
    assert!(std::str::from_utf8(os)
        .unwrap()
        .contains("VERSION_ID=\"12\""));
    // /bin/sh is a relative symlink to dash beside it.
    let (real, node) = view.resolve("/bin/sh").unwrap().unwrap();
    assert_eq!(real, "bin/dash");
    assert_eq!(node.kind, NodeKind::File);
}

#[test]
fn docker_archive() {
    let path = demo().join("docker-archive.tar");
    let (image, view) = scan(path.to_str().unwrap());
    assert_eq!(image.kind, SourceKind::DockerArchive);
    assert_eq!(image.name, "cairn/demo:latest");
    assert!(image.layers.iter().all(|l| l.diff_id.is_some()));
    check_demo_view(&image, &view);
}

#[test]
fn oci_layout_directory() {
    let (image, view) = scan(demo().join("oci").to_str().unwrap());
    assert_eq!(image.kind, SourceKind::OciDir);
    assert_eq!(image.platform.as_ref().unwrap().arch, "amd64");
    assert!(image.layers[2]
        .media_type
        .as_deref()
        .unwrap()
        .ends_with("+zstd"));
    check_demo_view(&image, &view);
}

#[test]
fn oci_archive_made_from_the_layout() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("demo-oci.tar");
    let mut b = tar::Builder::new(std::fs::File::create(&archive).unwrap());
    b.append_dir_all(".", demo().join("oci")).unwrap();
    b.finish().unwrap();
    drop(b);
    let (image, view) = scan(archive.to_str().unwrap());
    assert_eq!(image.kind, SourceKind::OciArchive);
    check_demo_view(&image, &view);
}

#[test]
fn prefixes_force_the_kind() {
    let path = demo().join("oci");
    let spec = SourceSpec::parse(&format!("dir:{}", path.display())).unwrap();
    let image = open(&spec, None).unwrap();
    assert_eq!(image.kind, SourceKind::Dir);
    // Other tools' daemon sources are refused, not looked up on Docker Hub.
    assert!(SourceSpec::parse("docker:nginx").is_err());
    // A bare name that is no local path is an image in a registry; a path is a path.
    let r = SourceSpec::parse("library/nginx:1.25").unwrap();
    assert_eq!(r.kind, Some(SourceKind::Registry));
    assert_eq!(r.location, "library/nginx:1.25");
    for local in ["./missing.tar", "/no/such/dir", "image.tar.gz"] {
        assert_eq!(SourceSpec::parse(local).unwrap().kind, None, "{local}");
    }
    let forced = SourceSpec::parse("registry:fixtures").unwrap();
    assert_eq!(forced.kind, Some(SourceKind::Registry));
}

#[test]
fn platform_mismatch_on_a_single_image_is_an_error() {
    let spec = SourceSpec::parse(demo().join("oci").to_str().unwrap()).unwrap();
    let arm: Platform = "linux/arm64".parse().unwrap();
    let err = open(&spec, Some(&arm)).unwrap_err().to_string();
    assert!(
        err.contains("linux/arm64") && err.contains("linux/amd64"),
        "{err}"
    );
}
