//! `cairn tuf` over real HTTPS: nginx on loopback serving the python-tuf
//! fixture repository with a certificate from a CA made in the test, reached
//! with `--ca-file` / `CAIRN_CA_FILE`, and over plain HTTP only with
//! `--allow-http` / `CAIRN_ALLOW_HTTP`. Needs nginx (scripts/setup installs it;
//! with `CI` set, a missing nginx fails).

mod common;
#[path = "../../cairn-tuf/tests/common/tls_server.rs"]
mod tls_server;

use common::require;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tls_server::{Ca, Nginx};

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

/// Runs `cairn` with `args` and `env`, none of the caller's CAIRN_* settings.
fn cairn(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cairn"));
    cmd.args(args);
    for var in [
        "CAIRN_TUF_METADATA_DIR",
        "CAIRN_TUF_METADATA_URL",
        "CAIRN_TUF_TARGETS_URL",
        "CAIRN_CA_FILE",
        "CAIRN_ALLOW_HTTP",
    ] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied());
    cmd.output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A metadata directory that trusts the fixture's first root.
fn trusted(work: &Path) -> String {
    let md = work.join("md");
    let root = fixture().join("metadata/1.root.json");
    let o = cairn(
        &[
            "tuf",
            "--metadata-dir",
            md.to_str().unwrap(),
            "trust",
            root.to_str().unwrap(),
        ],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    md.to_str().unwrap().to_string()
}

/// `cairn tuf ... fetch docs/guide.txt` from `base`, with `extra` flags
/// before the subcommand; writes `out`.
fn fetch(md: &str, base: &str, extra: &[&str], env: &[(&str, &str)], out: &Path) -> Output {
    let md_url = format!("{base}/metadata");
    let tg_url = format!("{base}/targets");
    let mut args = vec!["tuf", "--metadata-dir", md, "--metadata-url", &md_url];
    args.extend_from_slice(extra);
    args.extend_from_slice(&[
        "fetch",
        "docs/guide.txt",
        "--targets-url",
        &tg_url,
        "-o",
        out.to_str().unwrap(),
    ]);
    cairn(&args, env)
}

#[test]
fn https_with_a_ca_file() {
    if !require("nginx (scripts/setup installs it)", Nginx::available()) {
        return;
    }
    let ca = Ca::new("cairn test CA");
    let repo = tempfile::tempdir().unwrap();
    copy_dir(&fixture(), repo.path());
    let nginx = Nginx::start(repo.path(), Some(&ca.server(&["127.0.0.1", "localhost"])));
    let work = tempfile::tempdir().unwrap();
    let md = trusted(work.path());
    let ca_file = ca.write(&work.path().join("ca.pem"));
    let ca_file = ca_file.to_str().unwrap();
    let out = work.path().join("guide.txt");

    // The system's roots do not hold the test CA.
    let o = fetch(&md, &nginx.url(), &[], &[], &out);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("UnknownIssuer"), "{}", text(&o));
    assert!(text(&o).contains("--ca-file"), "{}", text(&o));
    assert!(!out.exists());

    // The flag: refresh and fetch.
    let o = cairn(
        &[
            "tuf",
            "--metadata-dir",
            &md,
            "--metadata-url",
            &format!("{}/metadata", nginx.url()),
            "--ca-file",
            ca_file,
            "refresh",
        ],
        &[],
    );
    assert!(o.status.success(), "{}\n{}", text(&o), nginx.error_log());
    assert!(
        text(&o).contains("root v2, timestamp v1, snapshot v1, targets v1"),
        "{}",
        text(&o)
    );
    let o = fetch(&md, &nginx.url(), &["--ca-file", ca_file], &[], &out);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(std::fs::read(&out).unwrap(), b"the guide\n");

    // The variable, and the flag after the subcommand (it is global).
    std::fs::remove_file(&out).unwrap();
    let o = fetch(
        &md,
        &nginx.url_for("localhost"),
        &[],
        &[("CAIRN_CA_FILE", ca_file)],
        &out,
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(std::fs::read(&out).unwrap(), b"the guide\n");
    let o = cairn(
        &[
            "tuf",
            "--metadata-dir",
            &md,
            "--metadata-url",
            &format!("{}/metadata", nginx.url()),
            "refresh",
            "--ca-file",
            ca_file,
        ],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));

    // A CA file that is not there is named before anything is fetched.
    let missing = work.path().join("missing.pem");
    let o = fetch(
        &md,
        &nginx.url(),
        &["--ca-file", missing.to_str().unwrap()],
        &[],
        &out,
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains(&format!("reading CA file {}", missing.display())),
        "{}",
        text(&o)
    );
}

#[test]
fn plain_http_needs_allow_http() {
    if !require("nginx (scripts/setup installs it)", Nginx::available()) {
        return;
    }
    let repo = tempfile::tempdir().unwrap();
    copy_dir(&fixture(), repo.path());
    let nginx = Nginx::start(repo.path(), None);
    let work = tempfile::tempdir().unwrap();
    let md = trusted(work.path());
    let out = work.path().join("guide.txt");

    let o = fetch(&md, &nginx.url(), &[], &[], &out);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains(&format!("plain HTTP refused for {}/metadata/", nginx.url())),
        "{}",
        text(&o)
    );
    assert!(
        text(&o).contains("pass --allow-http to allow it"),
        "{}",
        text(&o)
    );
    // A false-ish value of the variable does not allow it.
    let o = fetch(&md, &nginx.url(), &[], &[("CAIRN_ALLOW_HTTP", "0")], &out);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("plain HTTP refused"), "{}", text(&o));

    let o = fetch(&md, &nginx.url(), &["--allow-http"], &[], &out);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(std::fs::read(&out).unwrap(), b"the guide\n");
    std::fs::remove_file(&out).unwrap();
    let o = fetch(&md, &nginx.url(), &[], &[("CAIRN_ALLOW_HTTP", "1")], &out);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(std::fs::read(&out).unwrap(), b"the guide\n");
}
