//! Scanning images straight from a registry: a real `docker-registry` (CNCF distribution) on
//! loopback, fixture images pushed with skopeo, and a fault-injecting proxy in front of it
//! (crates/test-registry).

mod common;

use common::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use test_registry::{Auth, Fault, Options, Proxy, Registry};

/// A registry of the given kind, or `None` (a skip, or a failure under CI) without the tools.
fn registry(options: Options) -> Option<Registry> {
    require(
        "docker-registry, skopeo, htpasswd and openssl (scripts/setup installs them)",
        Registry::available(),
    )
    .then(|| Registry::start(options))
}

fn lang() -> Option<PathBuf> {
    let p = root().join("fixtures/images/lang/oci");
    require(
        "fixture fixtures/images/lang (fixtures/build-lang-images.sh)",
        p.exists(),
    )
    .then_some(p)
}

/// The demo image scanned from its OCI layout: what a scan of it from a registry must give.
fn demo_layout_scan() -> Value {
    scan_json(demo().join("oci").to_str().unwrap())
}

fn oci(layout: &Path) -> String {
    format!("oci:{}:latest", layout.display())
}

/// `cairn ARGS` with a fixed SOURCE_DATE_EPOCH, stdin from `stdin`, extra environment.
fn run(args: &[&str], stdin: Option<&str>, env: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cairn"));
    cmd.args(args)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        // The user's own docker login must not leak into the tests.
        .env("DOCKER_CONFIG", "/nonexistent-cairn-test")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("cairn runs");
    let mut input = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        input.write_all(s.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "cairn failed ({:?}): {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn failure(out: Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected an error, got {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap()
}

/// The document with what describes the source (and only that) taken out.
fn without_source(mut doc: Value) -> Value {
    for key in [
        "kind",
        "name",
        "path",
        "tags",
        "repository",
        "purl",
        "index_digest",
    ] {
        doc["source"].as_object_mut().unwrap().remove(key);
    }
    doc
}

#[test]
fn a_registry_scan_equals_the_scan_of_the_same_image_from_its_layout() {
    let (Some(reg), Some(layout)) = (registry(Options::default()), lang()) else {
        return;
    };
    reg.push(&oci(&layout), "team/lang:v1", false);
    let tmp = tempfile::tempdir().unwrap();
    let local = tmp.path().join("local");
    std::fs::create_dir(&local).unwrap();
    let reference = format!("{}/team/lang:v1", reg.host);
    let formats = ["json", "spdx-json", "cyclonedx-json"];
    let scan = |image: &str, dir: &Path, extra: &[&str]| -> Vec<Value> {
        let outs: Vec<String> = formats
            .iter()
            .map(|f| format!("{f}={}", dir.join(f).display()))
            .collect();
        let mut args = vec!["sbom", image, "-q"];
        for o in &outs {
            args.extend(["-o", o]);
        }
        args.extend(extra);
        let out = run(&args, None, &[]);
        assert!(
            out.status.success(),
            "{image}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        formats
            .iter()
            .map(|f| json(&std::fs::read_to_string(dir.join(f)).unwrap()))
            .collect()
    };
    // With every file and its digests listed, so that those are compared too.
    let from_layout = scan(layout.to_str().unwrap(), &local, &["--files"]);
    let remote = tmp.path().join("remote");
    std::fs::create_dir(&remote).unwrap();
    let from_registry = scan(
        &format!("registry:{reference}"),
        &remote,
        &["--insecure", "--files"],
    );

    // cairn's JSON: everything but the source's description is the same, byte for byte.
    let (a, b) = (&from_layout[0], &from_registry[0]);
    assert!(a["packages"].as_array().unwrap().len() > 50);
    assert!(a["files"].as_array().unwrap().len() > 1000);
    assert_eq!(
        serde_json::to_string(&without_source(a.clone())).unwrap(),
        serde_json::to_string(&without_source(b.clone())).unwrap()
    );
    // ... and the source names the image as a registry user expects.
    let src = &b["source"];
    assert_eq!(src["kind"], "registry");
    assert_eq!(src["name"], reference.as_str());
    assert_eq!(src["tags"], serde_json::json!(["v1"]));
    assert_eq!(
        src["repository"],
        format!("{}/team/lang", reg.host).as_str()
    );
    assert_eq!(src["manifest_digest"], a["source"]["manifest_digest"]);
    let digest = a["source"]["manifest_digest"].as_str().unwrap();
    // The purl spec's `oci` type: the name, the manifest digest as version, the repository.
    let purl = src["purl"].as_str().unwrap();
    let decoded = purl.replace("%3A", ":").replace("%2F", "/");
    assert_eq!(
        decoded,
        format!(
            "pkg:oci/lang@{digest}?arch=amd64&repository_url={}/team/lang&tag=v1",
            reg.host
        )
    );
    assert_eq!(from_registry[2]["metadata"]["component"]["purl"], purl);
    let root = &from_registry[1]["packages"][0];
    assert_eq!(root["externalRefs"][0]["referenceLocator"], purl);
    // SPDX packages and CycloneDX components are the same too (the root aside).
    let spdx = |d: &Value| d["packages"].as_array().unwrap()[1..].to_vec();
    assert_eq!(spdx(&from_layout[1]), spdx(&from_registry[1]));
    assert_eq!(from_layout[2]["components"], from_registry[2]["components"]);
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            out.insert(e.path());
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(e.path());
            }
        }
    }
    out
}

#[test]
fn a_registry_scan_writes_nothing_to_disk_without_a_cache() {
    let (Some(reg), Some(layout)) = (registry(Options::default()), lang()) else {
        return;
    };
    reg.push(&oci(&layout), "lang:latest", false);
    let tmp = tempfile::tempdir().unwrap();
    let (tmpdir, cwd) = (tmp.path().join("tmp"), tmp.path().join("cwd"));
    std::fs::create_dir(&tmpdir).unwrap();
    std::fs::create_dir(&cwd).unwrap();
    // Watch both directories for the whole run, so that a file made and removed again is
    // seen as well as one left behind.
    let seen = Arc::new(Mutex::new(BTreeSet::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (seen, stop, dirs) = (seen.clone(), stop.clone(), [tmpdir.clone(), cwd.clone()]);
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                for d in &dirs {
                    seen.lock().unwrap().extend(files_under(d));
                }
            }
        })
    };
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cairn"));
    let out = cmd
        .args([
            "sbom",
            &format!("{}/lang", reg.host),
            "--insecure",
            "-o",
            "json",
            "-q",
        ])
        .current_dir(&cwd)
        .env("TMPDIR", &tmpdir)
        .env("DOCKER_CONFIG", "/nonexistent-cairn-test")
        .output()
        .unwrap();
    stop.store(true, Ordering::Relaxed);
    watcher.join().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        json(&String::from_utf8(out.stdout).unwrap())["packages"]
            .as_array()
            .unwrap()
            .len()
            > 50
    );
    assert_eq!(*seen.lock().unwrap(), BTreeSet::new());
}

#[test]
fn a_multi_platform_index_picks_the_platform_and_never_an_attestation() {
    let Some(reg) = registry(Options::default()) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let layout = multi_platform(tmp.path());
    reg.push(&format!("oci:{}", layout.display()), "multi:1", true);
    let image = format!("{}/multi:1", reg.host);
    let amd64 = json(&ok(run(
        &["sbom", &image, "--insecure", "-o", "json", "-q"],
        None,
        &[],
    )));
    assert_eq!(amd64["source"]["platform"], "linux/amd64");
    assert!(amd64["source"]["index_digest"]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));
    assert_ne!(
        amd64["source"]["index_digest"],
        amd64["source"]["manifest_digest"]
    );
    let demo = demo_layout_scan();
    assert_eq!(amd64["packages"], demo["packages"]);
    let arm = json(&ok(run(
        &[
            "sbom",
            &image,
            "--insecure",
            "--platform",
            "linux/arm64",
            "-o",
            "json",
            "-q",
        ],
        None,
        &[],
    )));
    assert_eq!(arm["source"]["platform"], "linux/arm64/v8");
    let err = failure(run(
        &[
            "sbom",
            &image,
            "--insecure",
            "--platform",
            "unknown/unknown",
        ],
        None,
        &[],
    ));
    assert!(
        err.contains("no image for platform unknown/unknown"),
        "{err}"
    );
    assert!(
        err.contains("linux/amd64") && err.contains("linux/arm64/v8"),
        "{err}"
    );
    let err = failure(run(
        &["sbom", &image, "--insecure", "--platform", "linux/s390x"],
        None,
        &[],
    ));
    assert!(err.contains("no image for platform linux/s390x"), "{err}");
}

#[test]
fn a_missing_tag_a_tampered_blob_and_plain_http_are_clear_errors() {
    let Some(reg) = registry(Options::default()) else {
        return;
    };
    reg.push(&oci(&demo().join("oci")), "demo:latest", false);
    let err = failure(run(
        &["sbom", &format!("{}/demo:nope", reg.host), "--insecure"],
        None,
        &[],
    ));
    assert!(err.contains("demo:nope"), "{err}");
    assert!(
        err.contains("manifest unknown") || err.contains("not found"),
        "{err}"
    );

    // Without --insecure a plain-HTTP registry is not spoken to in plain HTTP.
    let err = failure(run(&["sbom", &format!("{}/demo", reg.host)], None, &[]));
    assert!(err.contains("--insecure"), "{err}");

    // A layer whose bytes on the registry's disk were changed after the push.
    let demo_json = demo_layout_scan();
    let layers = demo_json["source"]["layers"].as_array().unwrap();
    let digest = layers.last().unwrap()["digest"].as_str().unwrap();
    let blob = reg.blob_path(digest);
    let mut bytes = std::fs::read(&blob).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x55;
    std::fs::write(&blob, &bytes).unwrap();
    let err = failure(run(
        &["sbom", &format!("{}/demo", reg.host), "--insecure"],
        None,
        &[],
    ));
    assert!(
        err.contains("digest mismatch") || err.contains("corrupt"),
        "{err}"
    );
    assert!(
        err.contains(&format!("layer {}", layers.len() - 1)),
        "{err}"
    );
}

#[test]
fn basic_auth_takes_password_stdin_or_the_docker_config() {
    let auth = Auth::Basic {
        user: "scanner".into(),
        password: "s3cret pass".into(),
    };
    let Some(reg) = registry(Options { auth, tls: false }) else {
        return;
    };
    reg.push(&oci(&demo().join("oci")), "private/demo:1", false);
    let image = format!("{}/private/demo:1", reg.host);
    let err = failure(run(&["sbom", &image, "--insecure"], None, &[]));
    assert!(err.contains("authentication"), "{err}");
    assert!(
        err.contains("--username") || err.contains("docker login"),
        "{err}"
    );
    let wrong = failure(run(
        &[
            "sbom",
            &image,
            "--insecure",
            "--username",
            "scanner",
            "--password-stdin",
        ],
        Some("wrong\n"),
        &[],
    ));
    assert!(
        wrong.contains("authentication") || wrong.contains("401"),
        "{wrong}"
    );

    let out = json(&ok(run(
        &[
            "sbom",
            &image,
            "--insecure",
            "--username",
            "scanner",
            "--password-stdin",
            "-o",
            "json",
        ],
        Some("s3cret pass\n"),
        &[],
    )));
    assert_eq!(out["source"]["tags"], serde_json::json!(["1"]));
    assert!(!out["packages"].as_array().unwrap().is_empty());

    // `docker login` leaves the credentials in config.json under the registry's host.
    let cfg = tempfile::tempdir().unwrap();
    let auth = base64(b"scanner:s3cret pass");
    std::fs::write(
        cfg.path().join("config.json"),
        format!(r#"{{"auths": {{"{}": {{"auth": "{auth}"}}}}}}"#, reg.host),
    )
    .unwrap();
    let out = json(&ok(run(
        &["sbom", &image, "--insecure", "-o", "json"],
        None,
        &[("DOCKER_CONFIG", cfg.path())],
    )));
    assert_eq!(out["packages"], demo_layout_scan()["packages"]);
}

#[test]
fn the_token_flow_gets_a_token_with_credentials_from_a_credential_helper() {
    let auth = Auth::Token {
        user: "robot".into(),
        password: "t0ken-pass".into(),
    };
    let Some(reg) = registry(Options { auth, tls: false }) else {
        return;
    };
    reg.push(&oci(&demo().join("oci")), "app:2", false);
    let image = format!("{}/app:2", reg.host);
    let before = reg.tokens_issued();
    let err = failure(run(&["sbom", &image, "--insecure"], None, &[]));
    assert!(err.contains("authentication"), "{err}");
    assert_eq!(reg.tokens_issued(), before, "no token without credentials");

    // credHelpers names docker-credential-cairntest, found on PATH.
    let cfg = tempfile::tempdir().unwrap();
    let helper = cfg.path().join("docker-credential-cairntest");
    std::fs::write(
        &helper,
        "#!/bin/sh\nread server\necho \"{\\\"ServerURL\\\":\\\"$server\\\",\\\"Username\\\":\\\"robot\\\",\\\"Secret\\\":\\\"t0ken-pass\\\"}\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(
        cfg.path().join("config.json"),
        format!(r#"{{"credHelpers": {{"{}": "cairntest"}}}}"#, reg.host),
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        cfg.path().display(),
        std::env::var("PATH").unwrap()
    );
    let out = json(&ok(run(
        &["sbom", &image, "--insecure", "-o", "json"],
        None,
        &[("DOCKER_CONFIG", cfg.path()), ("PATH", Path::new(&path))],
    )));
    assert_eq!(out["packages"], demo_layout_scan()["packages"]);
    let issued = reg.tokens_issued() - before;
    assert!(issued >= 1, "a token was fetched");
    // One token serves the manifest, the config and every layer.
    assert!(issued <= 2, "{issued} tokens for one scan");
}

#[test]
fn tls_with_a_ca_file() {
    let Some(reg) = registry(Options {
        auth: Auth::Anonymous,
        tls: true,
    }) else {
        return;
    };
    reg.push(&oci(&demo().join("oci")), "secure:1", false);
    let image = format!("{}/secure:1", reg.host);
    let err = failure(run(&["sbom", &image], None, &[]));
    assert!(err.to_lowercase().contains("certificate"), "{err}");
    let ca = reg.ca_file.clone().unwrap();
    let out = json(&ok(run(
        &[
            "sbom",
            &image,
            "--ca-file",
            ca.to_str().unwrap(),
            "-o",
            "json",
        ],
        None,
        &[],
    )));
    assert_eq!(out["packages"], demo_layout_scan()["packages"]);
}

#[test]
fn a_rate_limit_is_reported_as_a_rate_limit() {
    let Some(reg) = registry(Options::default()) else {
        return;
    };
    reg.push(&oci(&demo().join("oci")), "demo:latest", false);
    let proxy = Proxy::start(
        &reg,
        Fault::RateLimit {
            path_contains: "/manifests/".into(),
        },
    );
    let err = failure(run(
        &["sbom", &format!("{}/demo", proxy.host), "--insecure"],
        None,
        &[],
    ));
    assert!(err.contains("rate limit"), "{err}");
    assert!(
        !err.contains("not found") && !err.contains("unknown"),
        "{err}"
    );
}

#[test]
fn a_connection_cut_mid_blob_is_resumed_and_the_scan_still_verified() {
    let (Some(reg), Some(layout)) = (registry(Options::default()), lang()) else {
        return;
    };
    reg.push(&oci(&layout), "lang:latest", false);
    let expected = scan_json(layout.to_str().unwrap());
    let layers = expected["source"]["layers"].as_array().unwrap();
    let biggest = layers
        .iter()
        .max_by_key(|l| l["size"].as_u64().unwrap())
        .unwrap();
    let digest = biggest["digest"].as_str().unwrap();
    let size = biggest["size"].as_u64().unwrap();
    let proxy = Proxy::start(
        &reg,
        Fault::CutBody {
            path_contains: format!("/blobs/{digest}"),
            after_bytes: size / 3,
            times: 2,
        },
    );
    let got = json(&ok(run(
        &[
            "sbom",
            &format!("{}/lang", proxy.host),
            "--insecure",
            "-o",
            "json",
            "-q",
        ],
        None,
        &[],
    )));
    assert_eq!(got["packages"], expected["packages"]);
    let requests = proxy.requests();
    let ranged: Vec<&String> = requests
        .iter()
        .filter(|r| r.contains(digest) && r.contains("range=bytes="))
        .collect();
    assert_eq!(ranged.len(), 2, "{requests:#?}");
    assert!(ranged.iter().all(|r| r.ends_with(" 206")), "{requests:#?}");
    // The tag's manifest is asked for once; everything after it goes by digest.
    let by_tag: Vec<&String> = requests
        .iter()
        .filter(|r| r.contains("/manifests/latest"))
        .collect();
    assert_eq!(by_tag.len(), 1, "{requests:#?}");

    // A cut that a resume cannot repair (the data changed on the registry) still fails the
    // digest check rather than passing a mixed stream.
    let blob = reg.blob_path(digest);
    let mut bytes = std::fs::read(&blob).unwrap();
    let last = bytes.len() - 100;
    bytes[last] ^= 1;
    std::fs::write(&blob, &bytes).unwrap();
    let err = failure(run(
        &["sbom", &format!("{}/lang", proxy.host), "--insecure"],
        None,
        &[],
    ));
    assert!(
        err.contains("digest mismatch") || err.contains("corrupt"),
        "{err}"
    );
}

#[test]
fn the_cache_downloads_each_layer_once_and_never_trusts_a_bad_copy() {
    let (Some(reg), Some(layout)) = (registry(Options::default()), lang()) else {
        return;
    };
    reg.push(&oci(&layout), "lang:latest", false);
    let expected = scan_json(layout.to_str().unwrap());
    let proxy = Proxy::start(&reg, Fault::None);
    let cache = tempfile::tempdir().unwrap();
    let image = format!("{}/lang", proxy.host);
    let cached_scan = || {
        run(
            &[
                "sbom",
                &image,
                "--insecure",
                "--cache-dir",
                cache.path().to_str().unwrap(),
                "-o",
                "json",
                "-q",
            ],
            None,
            &[],
        )
    };
    let blob_gets = |p: &Proxy| {
        p.requests()
            .iter()
            .filter(|r| r.starts_with("GET ") && r.contains("/blobs/"))
            .count()
    };
    let first = json(&ok(cached_scan()));
    assert_eq!(first["packages"], expected["packages"]);
    let layers = expected["source"]["layers"].as_array().unwrap();
    for l in layers {
        let d = l["digest"].as_str().unwrap();
        assert!(
            cache.path().join("blobs/sha256").join(&d[7..]).is_file(),
            "{d} cached"
        );
    }
    let after_first = blob_gets(&proxy);
    assert_eq!(after_first, layers.len() + 1, "config and each layer once");
    let second = json(&ok(cached_scan()));
    assert_eq!(second["packages"], expected["packages"]);
    assert_eq!(blob_gets(&proxy) - after_first, 1, "only the config again");

    // A damaged copy in the cache fails its digest check, and is dropped.
    let d = layers[0]["digest"].as_str().unwrap();
    let copy = cache.path().join("blobs/sha256").join(&d[7..]);
    let mut bytes = std::fs::read(&copy).unwrap();
    bytes[10] ^= 0xff;
    std::fs::write(&copy, &bytes).unwrap();
    let err = failure(cached_scan());
    assert!(
        err.contains("digest mismatch") || err.contains("corrupt"),
        "{err}"
    );
    assert!(!copy.exists(), "the bad copy is removed");
    let third = json(&ok(cached_scan()));
    assert_eq!(third["packages"], expected["packages"]);
    assert!(copy.is_file());
}

#[test]
fn the_cache_stays_under_its_bound() {
    let (Some(reg), Some(layout)) = (registry(Options::default()), lang()) else {
        return;
    };
    reg.push(&oci(&layout), "lang:latest", false);
    let cache = tempfile::tempdir().unwrap();
    // A bound of 0 GiB keeps nothing once each blob is used; the scan still succeeds.
    let out = json(&ok(run(
        &[
            "sbom",
            &format!("{}/lang", reg.host),
            "--insecure",
            "--cache-dir",
            cache.path().to_str().unwrap(),
            "--cache-max-gib",
            "0",
            "-o",
            "json",
            "-q",
        ],
        None,
        &[],
    )));
    assert!(!out["packages"].as_array().unwrap().is_empty());
    let kept: u64 = files_under(&cache.path().join("blobs"))
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum();
    assert_eq!(kept, 0);
    assert_eq!(files_under(&cache.path().join("tmp")), BTreeSet::new());
}

/// Standard base64, for a Docker config's `auth`.
fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in data.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn a_docker_v2_schema_2_image_pushed_from_a_docker_save_tarball() {
    let Some(reg) = registry(Options::default()) else {
        return;
    };
    let tarball = demo().join("docker-archive.tar");
    reg.push(
        &format!("docker-archive:{}", tarball.display()),
        "saved:1",
        false,
    );
    let got = json(&ok(run(
        &[
            "sbom",
            &format!("{}/saved:1", reg.host),
            "--insecure",
            "-o",
            "json",
        ],
        None,
        &[],
    )));
    // skopeo pushes a docker-archive as a Docker v2 schema 2 manifest with gzip layers.
    for l in got["source"]["layers"].as_array().unwrap() {
        assert_eq!(
            l["media_type"], "application/vnd.docker.image.rootfs.diff.tar.gzip",
            "{l}"
        );
    }
    let local = scan_json(tarball.to_str().unwrap());
    assert_eq!(got["packages"], local["packages"]);
    assert_eq!(got["source"]["image_id"], local["source"]["image_id"]);
    let diff_ids = |d: &Value| -> Vec<Value> {
        d["source"]["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["diff_id"].clone())
            .collect()
    };
    assert_eq!(diff_ids(&got), diff_ids(&local));
}
