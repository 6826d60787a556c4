//! `cairn report --html` in a real browser: the page `cairn report` writes for a fixture
//! image is opened in the system Chromium by tests/browser/report.mjs (Playwright), which
//! searches for a package, opens it, checks its evidence is shown, sorts, and keeps a
//! screenshot in `target/test-artifacts/`.

mod common;

use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn artifacts() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    let dir = target.join("test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Whether the browser harness is there (scripts/setup installs it); in CI it must be.
fn harness() -> bool {
    let node = Command::new("node").arg("--version").output().is_ok();
    require("node", node)
        && require(
            "tests/browser/node_modules (run scripts/setup)",
            root()
                .join("tests/browser/node_modules/playwright-core")
                .exists(),
        )
        && require("/usr/bin/chromium", Path::new("/usr/bin/chromium").exists())
}

fn browse(page: &Path, package: &str, shot: &Path) -> Value {
    let out = Command::new("node")
        .arg(root().join("tests/browser/report.mjs"))
        .arg(page)
        .arg(package)
        .arg(shot)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "report.mjs failed:\n{stdout}\n{stderr}"
    );
    serde_json::from_str(stdout.trim().lines().last().unwrap()).unwrap()
}

/// The embedded report data of a page.
fn embedded(page: &str) -> Value {
    let start = page.find("id=\"cairn-data\">").unwrap() + "id=\"cairn-data\">".len();
    let end = start + page[start..].find("</script>").unwrap();
    serde_json::from_str(&page[start..end]).unwrap()
}

#[test]
fn the_report_of_a_fixture_image_works_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let app = root().join("fixtures/images/app-2");
    let page = dir.path().join("app-2.html");
    cairn_ok(&[
        "report",
        app.join("oci").to_str().unwrap(),
        "--html",
        page.to_str().unwrap(),
        "--dockerfile",
        app.join("Dockerfile").to_str().unwrap(),
        "-q",
    ]);
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.len() < 2 << 20, "{} bytes", html.len());
    let data = embedded(&html);
    assert_eq!(data["layers"].as_array().unwrap().len(), 3);
    assert_eq!(data["layers"][1]["instruction"]["line"], 6);
    assert_eq!(data["layers"][0]["base"], true);
    let expat = data["sbom"]["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "libexpat1")
        .unwrap();
    assert!(
        expat["files_count"].as_u64().unwrap() >= expat["files"].as_array().unwrap().len() as u64
    );
    if !harness() {
        return;
    }
    let shot = artifacts().join("report-app-2.png");
    let r = browse(&page, "libtasn1-6", &shot);
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["visible_after_search"], 1, "{r}");
    assert!(shot.metadata().unwrap().len() > 10_000);
    // The demo: a purged package is listed apart, the upgraded one opens with its evidence.
    let page = dir.path().join("demo.html");
    let demo = demo().join("docker-archive.tar");
    cairn_ok(&[
        "report",
        demo.to_str().unwrap(),
        "--html",
        page.to_str().unwrap(),
        "-q",
    ]);
    let data = embedded(&std::fs::read_to_string(&page).unwrap());
    assert_eq!(data["sbom"]["removed"][0]["name"], "netbase");
    // Dependencies travel as index pairs into the package list.
    let pkgs = data["sbom"]["packages"].as_array().unwrap();
    let at = |name: &str| pkgs.iter().position(|p| p["name"] == name).unwrap() as u64;
    assert!(data["deps"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d[0] == at("libexpat1") && d[1] == at("libc6")));
    let r = browse(&page, "libexpat1", &artifacts().join("report-demo.png"));
    assert_eq!(r["ok"], true, "{r}");
}
