//! `cairn tuf` end to end, on the python-tuf fixture repository served
//! through `file://` URLs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../cairn-tuf/tests/data/python-tuf")
        .canonicalize()
        .unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

fn cairn(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(args)
        .env_remove("CAIRN_TUF_METADATA_DIR")
        .env_remove("CAIRN_TUF_METADATA_URL")
        .env_remove("CAIRN_TUF_TARGETS_URL")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn trust_refresh_fetch() {
    let repo = tempfile::tempdir().unwrap();
    copy_dir(&fixture(), repo.path());
    let work = tempfile::tempdir().unwrap();
    let md = work.path().join("md");
    let md = md.to_str().unwrap();
    let md_url = format!("file://{}/metadata", repo.path().display());
    let tg_url = format!("file://{}/targets", repo.path().display());
    let root = repo.path().join("metadata/1.root.json");
    let fetch = |target: &str, out: &Path| {
        cairn(&[
            "tuf",
            "--metadata-dir",
            md,
            "--metadata-url",
            &md_url,
            "fetch",
            target,
            "--targets-url",
            &tg_url,
            "-o",
            out.to_str().unwrap(),
        ])
    };

    let o = cairn(&["tuf", "--metadata-dir", md, "trust", root.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("trusted root version 1"));
    // Trusting again needs --force.
    let o = cairn(&["tuf", "--metadata-dir", md, "trust", root.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));

    let o = cairn(&[
        "tuf",
        "--metadata-dir",
        md,
        "--metadata-url",
        &md_url,
        "refresh",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("root v2, timestamp v1, snapshot v1, targets v1"),
        "{}",
        text(&o)
    );

    let out = work.path().join("guide.txt");
    let o = fetch("docs/guide.txt", &out);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(std::fs::read(&out).unwrap(), b"the guide\n");

    // To a pipe: the verified bytes go through it and it stays a pipe.
    let fifo = work.path().join("guide.pipe");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let reader = Command::new("cat")
        .arg(&fifo)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let o = fetch("docs/guide.txt", &fifo);
    use std::os::unix::fs::FileTypeExt;
    let still_fifo = std::fs::symlink_metadata(&fifo).is_ok_and(|m| m.file_type().is_fifo());
    if !o.status.success() || !still_fifo {
        // The reader would wait forever for a writer.
        let mut reader = reader;
        let _ = reader.kill();
        panic!("still a FIFO: {still_fifo}; {}", text(&o));
    }
    assert_eq!(reader.wait_with_output().unwrap().stdout, b"the guide\n");

    // The mirror now serves tampered bytes for a target: refused, nothing written.
    let tampered = work.path().join("readme.md");
    for e in std::fs::read_dir(repo.path().join("targets")).unwrap() {
        let p = e.unwrap().path();
        if p.to_string_lossy().ends_with(".README.md") {
            std::fs::write(&p, b"# evil!!\n").unwrap();
        }
    }
    let o = fetch("README.md", &tampered);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("hash mismatch"), "{}", text(&o));
    assert!(!tampered.exists());

    // A target no role lists.
    let o = fetch("nope", &tampered);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("not found in trusted metadata"),
        "{}",
        text(&o)
    );
}

#[test]
fn trust_refuses_a_root_that_does_not_verify() {
    let work = tempfile::tempdir().unwrap();
    let root = fixture().join("metadata/1.root.json");
    // Change a signed field: the signatures no longer cover the content.
    let text_root = std::fs::read_to_string(root).unwrap();
    let tampered = text_root.replacen("\"version\": 1", "\"version\": 7", 1);
    assert_ne!(tampered, text_root);
    let bad = work.path().join("bad-root.json");
    std::fs::write(&bad, tampered).unwrap();
    let md = work.path().join("md");
    let o = cairn(&[
        "tuf",
        "--metadata-dir",
        md.to_str().unwrap(),
        "trust",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("threshold not met"), "{}", text(&o));
    assert!(!md.join("root.json").exists());
}
