//! Shared helpers for the end-to-end tests: run the real `cairn` binary on real images.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[path = "../../../../fixtures/require.rs"]
mod require;
// Not every test binary uses them, as with the rest of this module.
#[allow(unused_imports)]
pub use require::{pkgdb, require};

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

pub fn demo() -> PathBuf {
    root().join("fixtures/images/demo")
}

pub fn cairn(args: &[&str]) -> Output {
    cairn_env(args, &[])
}

/// The `cairn` binary with a fixed SOURCE_DATE_EPOCH, so its output is deterministic.
fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cairn"));
    cmd.args(args).env("SOURCE_DATE_EPOCH", "1700000000");
    cmd
}

/// `cairn` with extra environment variables (e.g. its own TMPDIR, to see what it leaves).
pub fn cairn_env(args: &[&str], env: &[(&str, &Path)]) -> Output {
    command(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("cairn runs")
}

/// `cairn` run in `dir`, so that relative paths in `args` (which the SBOM records) are the
/// same wherever the repository or the temporary directory is.
pub fn cairn_in(dir: &Path, args: &[&str]) -> Output {
    command(args).current_dir(dir).output().expect("cairn runs")
}

pub fn cairn_ok(args: &[&str]) -> String {
    let out = cairn(args);
    assert!(
        out.status.success(),
        "cairn {args:?} failed ({:?}): {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

pub fn scan_json(image: &str) -> serde_json::Value {
    serde_json::from_str(&cairn_ok(&["sbom", image, "-o", "json", "-q"])).unwrap()
}

/// The Python used for the official validators (installed by scripts/setup). Its absence
/// fails the test even outside CI: these tests never skipped.
pub fn python() -> PathBuf {
    let py = require::venv_python();
    assert!(
        py.exists(),
        "{} not found: run scripts/setup first (it installs the SPDX and CycloneDX validators)",
        py.display()
    );
    py
}

/// An OCI archive: the demo layout directory as a tar.
pub fn oci_archive(dir: &Path) -> PathBuf {
    let archive = dir.join("demo-oci.tar");
    let mut b = tar::Builder::new(std::fs::File::create(&archive).unwrap());
    b.append_dir_all(".", demo().join("oci")).unwrap();
    b.finish().unwrap();
    archive
}

/// Ground truth: `dpkg-query -W` after each layer, as (name, version, arch) of installed
/// packages, recorded by fixtures/build-images.sh.
pub fn truth(layer: usize) -> Vec<(String, String, String)> {
    let text =
        std::fs::read_to_string(demo().join(format!("truth/layer-{}.tsv", layer + 1))).unwrap();
    let mut v: Vec<(String, String, String)> = text
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f.len() >= 4 && f[3].trim() == "ii").then(|| {
                let name = f[0].split(':').next().unwrap().to_owned();
                (name, f[1].to_owned(), f[2].to_owned())
            })
        })
        .collect();
    v.sort();
    v
}

pub fn truth_layers() -> usize {
    std::fs::read_dir(demo().join("truth")).unwrap().count()
}

/// Validate an SPDX document (JSON or tag-value) with SPDX's own `pyspdxtools`.
pub fn pyspdxtools(file: &std::path::Path) {
    let out = std::process::Command::new(python())
        .args(["-m", "spdx_tools.spdx.clitools.pyspdxtools", "-i"])
        .arg(file)
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "pyspdxtools rejected {}:\n{all}",
        file.display()
    );
    assert!(
        !all.contains("validation"),
        "pyspdxtools reported problems in {}:\n{all}",
        file.display()
    );
}

/// Validate a CycloneDX document against the official schema of the version it declares:
/// JSON (`specVersion` 1.6 or 1.7) against the JSON schema, XML (the namespace's version)
/// against the XSD, through cyclonedx-python-lib's validators.
pub fn cyclonedx_validate(file: &std::path::Path) {
    let script = r#"
import json, re, sys
from cyclonedx.validation.json import JsonStrictValidator
from cyclonedx.validation.xml import XmlValidator
from cyclonedx.schema import SchemaVersion
versions = {"1.4": SchemaVersion.V1_4, "1.5": SchemaVersion.V1_5,
            "1.6": SchemaVersion.V1_6, "1.7": SchemaVersion.V1_7}
text = open(sys.argv[1], encoding="utf-8").read()
if text.lstrip().startswith("<"):
    version = versions[re.search(r'xmlns="http://cyclonedx.org/schema/bom/(1\.\d)"', text).group(1)]
    errors = XmlValidator(version).validate_str(text)
else:
    version = versions[json.loads(text)["specVersion"]]
    errors = JsonStrictValidator(version).validate_str(text)
if errors:
    print(errors)
    sys.exit(1)
print(version)
"#;
    let out = std::process::Command::new(python())
        .args(["-c", script])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the CycloneDX schema rejected {}:\n{}{}",
        file.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// SPDX 3.0.1 JSON-LD through the SPDX project's bindings (scripts/validate-spdx3.py).
pub fn spdx3_validate(file: &std::path::Path) {
    let out = std::process::Command::new(python())
        .arg(root().join("scripts/validate-spdx3.py"))
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "spdx-python-model rejected {}:\n{}{}",
        file.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// ntia-conformance-checker's verdict on an SPDX document: `compliance` is ntia, bsi or
/// fsct3-min, `spec` spdx2 or spdx3. Returns whether it is conformant and the report.
pub fn ntia_check(
    file: &std::path::Path,
    compliance: &str,
    spec: &str,
) -> (bool, serde_json::Value) {
    let bin = python().with_file_name("ntia-checker");
    let out = std::process::Command::new(&bin)
        .args(["-c", compliance, "-s", spec, "-r", "json", "-q"])
        .arg(file)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e} (scripts/setup installs it)", bin.display()));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "ntia-checker gave no JSON report for {} ({e}):\n{}{}",
            file.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.success(), report)
}

/// A copy of the demo OCI layout whose index.json points at a nested index holding the
/// demo (linux/amd64), a second image for linux/arm64/v8, and an attestation manifest.
pub fn multi_platform(dir: &Path) -> std::path::PathBuf {
    let root = dir.join("multi");
    let blobs = root.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    for e in std::fs::read_dir(demo().join("oci/blobs/sha256")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), blobs.join(e.file_name())).unwrap();
    }
    let put = |b: &[u8]| {
        let d = format!(
            "sha256:{}",
            hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b))
        );
        std::fs::write(blobs.join(&d[7..]), b).unwrap();
        serde_json::json!({"digest": d, "size": b.len()})
    };
    let demo_index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(demo().join("oci/index.json")).unwrap()).unwrap();
    let amd64 = demo_index["manifests"][0].clone();
    // The arm64 image: one layer with an os-release.
    let mut lb = tar::Builder::new(Vec::new());
    let osr = b"ID=debian\nVERSION_ID=\"12\"\n";
    let mut h = tar::Header::new_gnu();
    h.set_path("etc/os-release").unwrap();
    h.set_size(osr.len() as u64);
    h.set_cksum();
    lb.append(&h, &osr[..]).unwrap();
    let layer = lb.into_inner().unwrap();
    let layer_d = put(&layer);
    let config = serde_json::to_vec(
        &serde_json::json!({"architecture": "arm64", "variant": "v8", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [layer_d["digest"]]}}),
    )
    .unwrap();
    let config_d = put(&config);
    let manifest = serde_json::to_vec(&serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_d["digest"], "size": config_d["size"]},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_d["digest"], "size": layer_d["size"]}]})).unwrap();
    let m = put(&manifest);
    let nested = serde_json::to_vec(&serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": m["digest"], "size": m["size"],
         "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": m["digest"], "size": m["size"],
         "platform": {"os": "unknown", "architecture": "unknown"}},
        amd64,
    ]})).unwrap();
    let n = put(&nested);
    let top = serde_json::json!({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json",
        "digest": n["digest"], "size": n["size"]}]});
    std::fs::write(root.join("index.json"), serde_json::to_vec(&top).unwrap()).unwrap();
    std::fs::write(
        root.join("oci-layout"),
        br#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
    root
}

/// Every component of a CycloneDX document, nested ones included (packages sit inside the
/// layer that installed them), in document order.
#[allow(dead_code)]
pub fn cdx_components(bom: &serde_json::Value) -> Vec<&serde_json::Value> {
    fn walk<'a>(cs: &'a serde_json::Value, out: &mut Vec<&'a serde_json::Value>) {
        for c in cs.as_array().into_iter().flatten() {
            out.push(c);
            walk(&c["components"], out);
        }
    }
    let mut out = Vec::new();
    walk(&bom["components"], &mut out);
    out
}
