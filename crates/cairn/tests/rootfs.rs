//! Root filesystem directories scanned the way one scans a live host (`cairn sbom dir:/`):
//! a `/proc`-like tree of special files and symbolic links out of the root, unreadable
//! paths, `--exclude`, `--one-file-system`, and the development machine's own `/` against
//! `dpkg-query`.

mod common;
use common::*;
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::io::Read;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Longest path the kernel takes, terminating NUL included: longer ones fail with
/// ENAMETOOLONG for every user, root too.
const PATH_MAX: usize = 4096;

/// `cairn` with a deadline: a scan that opened a FIFO or a terminal would block forever.
fn cairn_deadline(args: &[&str], limit: Duration) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(args)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cairn runs");
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut b = Vec::new();
            r.read_to_end(&mut b).ok();
            b
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > limit {
            child.kill().ok();
            child.wait().ok();
            panic!("cairn {args:?} did not finish in {limit:?}: blocked opening a special file?");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// Scan with a deadline; the exit code must be `code`. Returns the JSON SBOM and stderr.
fn scan(args: &[&str], code: i32) -> (Value, String) {
    let out = cairn_deadline(args, Duration::from_secs(120));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "cairn {args:?}: {stderr}");
    (serde_json::from_slice(&out.stdout).unwrap(), stderr)
}

/// The OS packages (what dpkg-query lists), as (name, version, arch).
fn packages(sbom: &Value) -> Vec<(String, String, String)> {
    let mut v: Vec<(String, String, String)> = sbom["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| matches!(p["type"].as_str(), Some("deb" | "rpm" | "apk")))
        .map(|p| {
            let s = |k: &str| p[k].as_str().unwrap_or_default().to_owned();
            (s("name"), s("version"), s("arch"))
        })
        .collect();
    v.sort();
    v
}

/// Each warning as `PATH: MESSAGE`.
fn warnings(sbom: &Value) -> Vec<String> {
    sbom["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            format!(
                "{}: {}",
                w["path"].as_str().unwrap_or_default(),
                w["message"].as_str().unwrap()
            )
        })
        .collect()
}

/// The demo image's base layer unpacked into `dir/rootfs`: a real Debian root whose dpkg
/// database lists `truth(0)`. Also returns the image paths of its regular files.
fn base_root(dir: &Path) -> (PathBuf, BTreeSet<String>) {
    let mut outer =
        tar::Archive::new(std::fs::File::open(demo().join("docker-archive.tar")).unwrap());
    let mut members = HashMap::new();
    for e in outer.entries().unwrap() {
        let mut e = e.unwrap();
        let name = e.path().unwrap().to_string_lossy().into_owned();
        let mut b = Vec::new();
        e.read_to_end(&mut b).unwrap();
        members.insert(name, b);
    }
    let manifest: Value = serde_json::from_slice(&members["manifest.json"]).unwrap();
    let base = &members[manifest[0]["Layers"][0].as_str().unwrap()];
    let root = dir.join("rootfs");
    std::fs::create_dir_all(&root).unwrap();
    let mut a = tar::Archive::new(flate2::read::GzDecoder::new(&base[..]));
    a.set_preserve_permissions(false);
    a.unpack(&root).unwrap();
    // What unpacking made regular files (the layer's device nodes included: the tar crate
    // writes them as empty files).
    let mut files = BTreeSet::new();
    let mut a = tar::Archive::new(flate2::read::GzDecoder::new(&base[..]));
    for e in a.entries().unwrap() {
        let p = e.unwrap().path().unwrap().to_string_lossy().into_owned();
        let p = p.trim_start_matches("./").trim_end_matches('/');
        if std::fs::symlink_metadata(root.join(p)).is_ok_and(|m| m.is_file()) {
            files.insert(format!("/{p}"));
        }
    }
    (root, files)
}

fn mkfifo(path: &Path) {
    let st = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(st.success(), "mkfifo {}", path.display());
}

/// Grow `rel` (under `root`) by 200-byte directory names while the host path stays below
/// `limit` bytes; returns the grown relative path.
fn grow(root: &Path, rel: &str, limit: usize) -> String {
    let seg = "d".repeat(200);
    let mut rel = rel.to_owned();
    std::fs::create_dir_all(root.join(&rel)).unwrap();
    while root.join(&rel).as_os_str().len() + 1 + seg.len() < limit {
        rel = format!("{rel}/{seg}");
        std::fs::create_dir(root.join(&rel)).unwrap();
    }
    rel
}

/// A directory chain under `root/rel` that goes past PATH_MAX: a nameable chain, then a
/// prepared two-level subtree renamed under its end (every call names a short enough path).
/// Returns the root-relative path of the first directory no process can name, which
/// therefore cannot be listed; it holds a file.
fn too_deep(root: &Path, rel: &str) -> String {
    let seg = "d".repeat(200);
    // Short enough that one more name can still be named (the rename's target), long enough
    // that two more cannot.
    let rel = grow(root, rel, PATH_MAX - 1 - seg.len());
    let stage = root.parent().unwrap().join("stage");
    std::fs::create_dir_all(stage.join(&seg).join(&seg)).unwrap();
    std::fs::write(stage.join(&seg).join(&seg).join("inner"), b"x").unwrap();
    std::fs::rename(stage.join(&seg), root.join(&rel).join(&seg)).unwrap();
    let unnameable = format!("{rel}/{seg}/{seg}");
    assert!(root.join(&unnameable).as_os_str().len() >= PATH_MAX);
    assert!(root.join(format!("{rel}/{seg}")).as_os_str().len() < PATH_MAX);
    unnameable
}

/// Whether this process can read a directory whatever its mode (root, CAP_DAC_OVERRIDE).
fn reads_mode_000(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok()
}

#[test]
fn proc_like_tree_special_files_and_unreadable_paths() {
    let dir = tempfile::tempdir().unwrap();
    let (root, mut files) = base_root(dir.path());
    // A /proc-like tree: special files and symbolic links that lead out of the root.
    let p = root.join("proc/1");
    std::fs::create_dir_all(&p).unwrap();
    mkfifo(&p.join("fifo"));
    let _listener = std::os::unix::net::UnixListener::bind(p.join("socket")).unwrap();
    symlink("/", p.join("root")).unwrap();
    symlink("/etc/passwd", p.join("passwd")).unwrap();
    symlink("../../..", p.join("cwd")).unwrap();
    symlink("loop-b", p.join("loop-a")).unwrap();
    symlink("loop-a", p.join("loop-b")).unwrap();
    symlink("self", p.join("self")).unwrap();
    symlink("1", root.join("proc/self")).unwrap();
    // A FIFO where a cataloger asks for contents: opening it would block the scan.
    mkfifo(&root.join("var/lib/dpkg/info/ghost.list"));
    // Unreadable: a directory of mode 000 (unless this process reads it anyway), and one
    // whose host path is longer than any process can name.
    let locked = root.join("opt/locked");
    std::fs::create_dir_all(&locked).unwrap();
    std::fs::write(locked.join("secret"), b"s").unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let privileged = reads_mode_000(&locked);
    let deep = too_deep(&root, "opt/deep");
    if privileged {
        files.insert("/opt/locked/secret".into());
    }

    let target = format!("dir:{}", root.display());
    let (sbom, stderr) = scan(&["sbom", &target, "-o", "json", "--files"], 0);
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();

    assert_eq!(sbom["complete"], true, "{stderr}");
    assert_eq!(packages(&sbom), truth(0));
    // Exactly the root's own regular files: no link was followed out of the root (proc/1/
    // root and cwd lead to the whole host), nothing under /proc is a file, the FIFOs and
    // the socket were not opened (or the scan would not have finished).
    let listed: BTreeSet<String> = sbom["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed, files);
    let passwd = sbom["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "/etc/passwd")
        .unwrap();
    use sha2::Digest;
    let own = hex::encode(sha2::Sha256::digest(
        std::fs::read(root.join("etc/passwd")).unwrap(),
    ));
    assert_eq!(passwd["sha256"], own.as_str());

    let w = warnings(&sbom);
    let deep_note = format!("/{deep}: directory cannot be read (");
    assert!(
        w.iter().any(|m| m.starts_with(&deep_note)
            && m.contains("os error 36")
            && m.ends_with("skipped, no cataloger needs it")),
        "no note for the unnameable directory: {w:?}"
    );
    assert!(
        stderr.contains(&format!("cairn: warning: {deep_note}")),
        "{stderr}"
    );
    let locked_notes: Vec<&String> = w.iter().filter(|m| m.contains("/opt/locked")).collect();
    if privileged {
        assert!(locked_notes.is_empty(), "{locked_notes:?}");
    } else {
        assert!(
            locked_notes.len() == 1
                && locked_notes[0].starts_with("/opt/locked: directory cannot be read (")
                && locked_notes[0].contains("os error 13"),
            "{w:?}"
        );
    }
}

#[test]
fn unreadable_wanted_file_marks_the_sbom_incomplete() {
    // The root sits so deep that one copyright file's host path is longer than PATH_MAX,
    // while its directory and the dpkg database can still be named: opening that file fails
    // for every user (ENAMETOOLONG), and a cataloger asked for it.
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path();
    // The doc directory's host path is PATH_MAX - 6 bytes long (so `/copyright` does not
    // fit), with a name of at most 255 bytes: the root must be at least 3820 bytes deep.
    let root = tmp.join(grow(tmp, "r", PATH_MAX - 75));
    let name_len = PATH_MAX - 6 - root.join("usr/share/doc/").as_os_str().len();
    assert!((2..=255).contains(&name_len), "{name_len}");
    let name = "p".repeat(name_len);
    std::fs::create_dir_all(root.join("var/lib/dpkg")).unwrap();
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::create_dir_all(root.join("usr/share/doc")).unwrap();
    std::fs::write(
        root.join("etc/os-release"),
        "ID=debian\nVERSION_ID=\"12\"\n",
    )
    .unwrap();
    std::fs::write(
        root.join("var/lib/dpkg/status"),
        format!(
            "Package: {name}\nStatus: install ok installed\nVersion: 1.0-1\nArchitecture: amd64\n\n"
        ),
    )
    .unwrap();
    let stage = tmp.join("stage");
    std::fs::create_dir_all(stage.join(&name)).unwrap();
    std::fs::write(stage.join(&name).join("copyright"), "License: MIT\n").unwrap();
    std::fs::rename(stage.join(&name), root.join("usr/share/doc").join(&name)).unwrap();
    let copyright = root.join(format!("usr/share/doc/{name}/copyright"));
    assert!(copyright.as_os_str().len() >= PATH_MAX);

    let target = format!("dir:{}", root.display());
    let (sbom, stderr) = scan(&["sbom", &target, "-o", "json"], 1);
    assert_eq!(sbom["complete"], false);
    assert!(stderr.contains("INCOMPLETE"), "{stderr}");
    assert_eq!(
        packages(&sbom),
        vec![(name.clone(), "1.0-1".into(), "amd64".into())]
    );
    let w = warnings(&sbom);
    let want = format!("/usr/share/doc/{name}/copyright: file cannot be read (");
    assert!(
        w.iter().any(|m| m.starts_with(&want)
            && m.contains("os error 36")
            && m.ends_with("a cataloger needs it, packages may be missing")),
        "{w:?}"
    );
}

#[test]
fn exclude_patterns_on_a_built_root_and_an_image() {
    let dir = tempfile::tempdir().unwrap();
    let (root, _) = base_root(dir.path());
    let target = format!("dir:{}", root.display());
    let declared = |sbom: &Value| {
        sbom["packages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| !p["licenses"]["declared"].is_null())
            .count()
    };

    let (plain, _) = scan(&["sbom", &target, "-o", "json", "-q"], 0);
    assert_eq!(packages(&plain), truth(0));
    assert!(declared(&plain) > 0);

    // The dpkg database excluded: no dpkg packages, and nothing is said to be missing.
    let (sbom, _) = scan(
        &[
            "sbom",
            &target,
            "-o",
            "json",
            "--exclude",
            "/var/lib/dpkg/**",
        ],
        0,
    );
    assert_eq!(packages(&sbom), vec![]);
    assert_eq!(sbom["complete"], true);
    assert_eq!(sbom["distro"]["id"], "debian");

    // ./ is relative to the scanned root: the copyright files are gone, the packages stay.
    let (sbom, _) = scan(
        &[
            "sbom",
            &target,
            "-o",
            "json",
            "--exclude",
            "./usr/share/doc/**",
        ],
        0,
    );
    assert_eq!(packages(&sbom), truth(0));
    assert_eq!(declared(&sbom), 0);
    let (again, _) = scan(
        &[
            "sbom",
            &target,
            "-o",
            "json",
            "--exclude",
            "**/copyright",
            "--exclude",
            "/nothing",
        ],
        0,
    );
    assert_eq!(declared(&again), 0);

    // The same check applies to layer entries, so images honour --exclude too.
    let image = demo().join("docker-archive.tar");
    let (sbom, _) = scan(
        &[
            "sbom",
            image.to_str().unwrap(),
            "-o",
            "json",
            "--exclude",
            "/var/lib/dpkg/**",
        ],
        0,
    );
    assert_eq!(packages(&sbom), vec![]);

    // A pattern of another form is a usage error, named as Syft names it.
    let out = cairn_deadline(
        &["sbom", &target, "--exclude", "foo/**", "--exclude", "./ok"],
        Duration::from_secs(60),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "invalid exclusion pattern(s): 'foo/**' (must start with one of: '/', './', '*/', or '**/')"
        ),
        "{err}"
    );
}

/// The host's /dev: device nodes, terminals and /dev/zero are recorded, never opened (the
/// scan with --files would block or never end otherwise); with --one-file-system the
/// tmpfs on /dev/shm is noted and not descended into.
#[test]
fn host_dev_devices_are_never_opened_and_one_file_system_stays() {
    let dev = Path::new("/dev");
    let shm = Path::new("/dev/shm");
    let (Ok(d), Ok(s)) = (std::fs::metadata(dev), std::fs::metadata(shm)) else {
        eprintln!("no /dev/shm here: skipped");
        return;
    };
    let (_, stderr) = scan(&["sbom", "dir:/dev", "-o", "json", "--files", "-v"], 0);
    assert!(!stderr.contains("skipped /shm:"), "{stderr}");
    let (_, stderr) = scan(
        &["sbom", "dir:/dev", "-o", "json", "--one-file-system", "-v"],
        0,
    );
    if d.dev() != s.dev() {
        assert!(
            stderr.contains(
                "cairn: skipped /shm: another filesystem (--one-file-system), not scanned"
            ),
            "{stderr}"
        );
    } else {
        eprintln!("/dev/shm is on the same filesystem as /dev here");
    }
}

/// `cairn sbom dir:/` on this machine lists exactly what dpkg says is installed.
#[test]
fn host_root_equals_dpkg_query() {
    let query = Command::new("dpkg-query")
        .args([
            "-W",
            "-f",
            "${Package}\t${Version}\t${Architecture}\t${db:Status-Abbrev}\n",
        ])
        .output();
    let query = match query {
        Ok(o) if o.status.success() => o,
        other => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set but dpkg-query cannot run ({other:?}): the host scan must be tested"
            );
            eprintln!("dpkg-query not available: host scan not tested");
            return;
        }
    };
    // Installed as cairn counts it (dpkg.rs `installed()`): every state but not-installed
    // and config-files, i.e. the second letter of db:Status-Abbrev is neither n nor c.
    let mut want: Vec<(String, String, String)> = String::from_utf8(query.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let state = f.get(3)?.chars().nth(1)?;
            (!matches!(state, 'n' | 'c')).then(|| (f[0].into(), f[1].into(), f[2].into()))
        })
        .collect();
    want.sort();
    let start = Instant::now();
    let out = cairn_deadline(
        &["sbom", "dir:/", "-o", "json", "-v"],
        Duration::from_secs(600),
    );
    let took = start.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let sbom: Value = serde_json::from_slice(&out.stdout).unwrap();
    // The language catalogers (npm, ...) add packages dpkg does not know of.
    let mut debs = sbom.clone();
    debs["packages"]
        .as_array_mut()
        .unwrap()
        .retain(|p| p["type"] == "deb");
    let got = packages(&debs);
    eprintln!(
        "cairn sbom dir:/ took {:.1}s: {} packages, dpkg-query lists {} installed",
        took.as_secs_f64(),
        got.len(),
        want.len()
    );
    assert_eq!(got, want);
    assert_eq!(sbom["complete"], true, "{stderr}");
    for d in ["/proc", "/sys", "/dev", "/run"] {
        if Path::new(d).is_dir() {
            assert!(
                stderr.contains(&format!("cairn: skipped {d}: ")),
                "{stderr}"
            );
        }
    }
}
