//! Where `-o FORMAT=FILE` writes: regular files replaced whole, links followed,
//! and pipes or devices written in place, never replaced by a regular file.

mod common;

use common::{cairn, demo};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

fn demo_image() -> String {
    demo()
        .join("docker-archive.tar")
        .to_string_lossy()
        .into_owned()
}

fn mkfifo(path: &Path) {
    let st = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(st.success());
}

fn package_count(json: &[u8]) -> usize {
    let v: serde_json::Value = serde_json::from_slice(json).expect("an SBOM in cairn's JSON");
    v["packages"].as_array().expect("packages").len()
}

#[test]
fn a_fifo_is_written_in_place_and_stays_a_fifo() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("sbom.pipe");
    mkfifo(&fifo);
    // The reader drains the FIFO into a file, so neither side waits on the other.
    let copy = dir.path().join("copy.json");
    let mut reader = Command::new("cat")
        .arg(&fifo)
        .stdout(std::fs::File::create(&copy).unwrap())
        .spawn()
        .unwrap();
    let o = cairn(&[
        "sbom",
        &demo_image(),
        "-q",
        "-o",
        &format!("json={}", fifo.display()),
    ]);
    let still_fifo = std::fs::symlink_metadata(&fifo).is_ok_and(|m| m.file_type().is_fifo());
    if !o.status.success() || !still_fifo {
        // The reader would wait forever for a writer.
        let _ = reader.kill();
        panic!(
            "cairn failed or replaced the FIFO (still a FIFO: {still_fifo}): {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    assert!(reader.wait().unwrap().success());
    assert!(package_count(&std::fs::read(&copy).unwrap()) > 20);
    // Nothing else was left in the directory: the FIFO and the reader's copy.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}

#[test]
fn a_symlink_is_followed_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let real_dir = dir.path().join("real");
    std::fs::create_dir(&real_dir).unwrap();
    let real = real_dir.join("sbom.json");
    std::fs::write(&real, b"old").unwrap();
    let link = dir.path().join("latest.json");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let o = cairn(&[
        "sbom",
        &demo_image(),
        "-q",
        "-o",
        &format!("json={}", link.display()),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(package_count(&std::fs::read(&real).unwrap()) > 20);
    // No temporary file left beside either.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    assert_eq!(std::fs::read_dir(&real_dir).unwrap().count(), 1);
}

#[test]
fn a_new_file_gets_the_usual_permissions() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sbom.spdx.json");
    let o = cairn(&[
        "sbom",
        &demo_image(),
        "-q",
        "-o",
        &format!("spdx-json={}", out.display()),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // The same mode as any file this process creates (0666 less the umask).
    let reference = dir.path().join("reference");
    std::fs::File::create(&reference).unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&out), mode(&reference));
}

#[test]
fn a_missing_directory_is_an_error_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("no/such/dir/sbom.json");
    let o = cairn(&[
        "sbom",
        &demo_image(),
        "-q",
        "-o",
        &format!("json={}", out.display()),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("cairn: error:") && err.contains("writing"),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
