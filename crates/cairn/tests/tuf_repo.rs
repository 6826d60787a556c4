//! The TUF repository tool and SBOMs through it, end to end: `cairn tuf`
//! builds repositories, `cairn tuf serve` serves them over real HTTP on
//! loopback, and `cairn verify` (and python-tuf's ngclient) fetch from them.
//! Attacks are made on the served files, the way a compromised mirror would.

#[path = "../../../fixtures/require.rs"]
mod require;

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

fn cairn_cmd() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cairn"));
    for v in [
        "CAIRN_TUF_METADATA_DIR",
        "CAIRN_TUF_METADATA_URL",
        "CAIRN_TUF_TARGETS_URL",
        "CAIRN_TUF_KEYS",
        "CAIRN_CA_FILE",
        "CAIRN_ALLOW_HTTP",
    ] {
        c.env_remove(v);
    }
    c.stdin(Stdio::null());
    c
}

fn cairn(args: &[&str]) -> Output {
    cairn_cmd().args(args).output().unwrap()
}

fn cairn_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = cairn_cmd();
    for (k, v) in env {
        c.env(k, v);
    }
    c.args(args).output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[track_caller]
fn ok(o: Output) -> String {
    assert!(o.status.success(), "{}", text(&o));
    text(&o)
}

#[track_caller]
fn fails(o: Output, expect: &str) -> String {
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains(expect), "expected {expect:?} in:\n{t}");
    t
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn fixture(rel: &str) -> String {
    require::workspace_root()
        .join("fixtures/images")
        .join(rel)
        .to_str()
        .unwrap()
        .to_string()
}

/// `cairn tuf serve` on a free loopback port, killed on drop.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(repo: &Path) -> Server {
        let mut child = cairn_cmd()
            .args(["tuf", "serve", s(repo), "--addr", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no URL in {line:?}"))
            .trim_end_matches('/')
            .to_string();
        Server { child, url }
    }
    fn metadata(&self) -> String {
        format!("{}/metadata", self.url)
    }
    fn targets(&self) -> String {
        format!("{}/targets", self.url)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every file under `dir`, with its bytes.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    fn walk(top: &Path, d: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for e in std::fs::read_dir(d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                walk(top, &e.path(), out);
            } else {
                out.insert(
                    e.path().strip_prefix(top).unwrap().to_path_buf(),
                    std::fs::read(e.path()).unwrap(),
                );
            }
        }
    }
    walk(dir, dir, &mut out);
    out
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}

/// The classic hashed bin (python-tuf's layout, 16,384 bins) of a target.
fn bin_of(target: &str) -> String {
    let h = sha256_hex(target.as_bytes());
    let p = u32::from_str_radix(&h[..4], 16).unwrap();
    let low = p - p % 4;
    format!("{low:04x}-{:04x}", low + 3)
}

fn snapshot(repo: &Path) -> serde_json::Value {
    let ts: serde_json::Value =
        serde_json::from_slice(&std::fs::read(repo.join("metadata/timestamp.json")).unwrap())
            .unwrap();
    let v = ts["signed"]["meta"]["snapshot.json"]["version"]
        .as_u64()
        .unwrap();
    serde_json::from_slice(
        &std::fs::read(repo.join(format!("metadata/{v}.snapshot.json"))).unwrap(),
    )
    .unwrap()
}

/// The current metadata file of delegated role `role`.
fn role_file(repo: &Path, role: &str) -> PathBuf {
    let v = snapshot(repo)["signed"]["meta"][format!("{role}.json")]["version"]
        .as_u64()
        .unwrap();
    repo.join(format!("metadata/{v}.{role}.json"))
}

/// The SBOM target name of an image, from what `publish` printed.
fn published_names(out: &str) -> Vec<String> {
    out.lines()
        .filter_map(|l| l.strip_prefix("published "))
        .map(str::to_string)
        .collect()
}

struct Verify<'a> {
    server: &'a Server,
    root: PathBuf,
    md: PathBuf,
}

impl Verify<'_> {
    fn run(&self, image: &str) -> Output {
        cairn(&[
            "verify",
            image,
            "--root",
            s(&self.root),
            "--metadata-url",
            &self.server.metadata(),
            "--metadata-dir",
            s(&self.md),
            "--allow-http",
        ])
    }
}

/// Signs `signed` with `key` into a metadata file, the way an attacker
/// holding the key would.
fn forge(signed: &serde_json::Value, key: &cairn_tuf::keyfile::PrivateKey) -> Vec<u8> {
    use cairn_tuf::sign::Signer;
    let bytes = cairn_tuf::canonical::value_to_canonical(signed).unwrap();
    let sig = hex::encode(key.sign(&bytes).unwrap());
    serde_json::to_vec(&serde_json::json!({
        "signatures": [{"keyid": key.keyid(), "sig": sig}],
        "signed": signed,
    }))
    .unwrap()
}

#[test]
fn sboms_published_through_16384_hash_bins_verify_and_attacks_are_refused() {
    let images = ["demo/docker-archive.tar", "app-1/oci", "app-2/oci"];
    if !require::require(
        "fixture images (fixtures/images)",
        images.iter().all(|i| Path::new(&fixture(i)).exists()),
    ) {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let repo = work.path().join("repo");
    let keys = work.path().join("keys");
    let k = s(&keys);
    let out = ok(cairn(&[
        "tuf",
        "init",
        s(&repo),
        "--keys",
        k,
        "--hash-bins",
        "16384",
    ]));
    assert!(out.contains("16385 targets roles"), "{out}");
    // Some ordinary targets, and a delegation by path beside the bins.
    let notes = work.path().join("NOTES.txt");
    std::fs::write(&notes, "release notes\n").unwrap();
    ok(cairn(&[
        "tuf",
        "delegate",
        s(&repo),
        "--keys",
        k,
        "releases",
        "--paths",
        "releases/*",
    ]));
    let out = ok(cairn(&[
        "tuf",
        "add",
        s(&repo),
        "--keys",
        k,
        s(&notes),
        "--prefix",
        "releases/",
    ]));
    assert!(out.contains("releases v2"), "{out}");

    let mut names = BTreeMap::new();
    for image in images {
        let out = ok(cairn(&[
            "publish",
            &fixture(image),
            "--repo",
            s(&repo),
            "--keys",
            k,
        ]));
        let n = published_names(&out);
        assert_eq!(n.len(), 3, "{out}");
        // One commit re-signs at most the three bins, snapshot and timestamp.
        assert!(out.contains("snapshot v"), "{out}");
        names.insert(image, n);
    }
    let status = ok(cairn(&["tuf", "status", s(&repo)]));
    assert!(status.contains("16385 delegated roles"), "{status}");
    assert!(!status.contains("LACKING"), "{status}");

    let server = Server::start(&repo);
    let v = Verify {
        server: &server,
        root: repo.join("metadata/1.root.json"),
        md: work.path().join("client"),
    };
    for image in images {
        let out = ok(v.run(&fixture(image)));
        assert!(
            out.contains("verified through TUF") && out.contains("OK:"),
            "{out}"
        );
    }
    // The target files are served under consistent-snapshot names, and
    // python-style clients would find the same paths: the SPDX one.
    let spdx = &names["app-2/oci"][1];
    assert!(spdx.ends_with(".spdx.json"));

    let app2 = fixture("app-2/oci");
    let app2_cairn = names["app-2/oci"][0].clone();
    let bin = bin_of(&app2_cairn);

    // 1. Swap an SBOM: the served file is replaced by another image's.
    let target_dir = repo.join("targets/sboms/sha256");
    let (served, _) = std::fs::read_dir(&target_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_str().unwrap();
            n.len() == 64 + 1 + app2_cairn.rsplit('/').next().unwrap().len()
                && n.ends_with(app2_cairn.rsplit('/').next().unwrap())
        })
        .map(|p| (p.clone(), ()))
        .next()
        .expect("the served app-2 SBOM");
    let genuine = std::fs::read(&served).unwrap();
    let app1_doc = std::fs::read(
        target_dir.join(
            std::fs::read_dir(&target_dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .find(|n| {
                    n.ends_with(names["app-1/oci"][0].rsplit('/').next().unwrap()) && n.len() > 64
                })
                .unwrap(),
        ),
    )
    .unwrap();
    std::fs::write(&served, &app1_doc).unwrap();
    fails(v.run(&app2), "malicious mirror");
    std::fs::write(&served, &genuine).unwrap();
    ok(v.run(&app2));

    // 2. A signed SBOM that no longer matches the image: the repository
    // lists app-1's document under app-2's name (re-signed by the owner).
    let wrong = work.path().join(app2_cairn.rsplit('/').next().unwrap());
    let mut doc: serde_json::Value = serde_json::from_slice(&app1_doc).unwrap();
    let app2_digest = format!(
        "sha256:{}",
        app2_cairn
            .trim_start_matches("sboms/sha256/")
            .trim_end_matches(".cairn.json")
    );
    doc["source"]["manifest_digest"] = serde_json::json!(app2_digest);
    std::fs::write(&wrong, serde_json::to_vec(&doc).unwrap()).unwrap();
    ok(cairn(&[
        "tuf",
        "add",
        s(&repo),
        "--keys",
        k,
        s(&wrong),
        "--prefix",
        "sboms/sha256/",
    ]));
    let t = fails(v.run(&app2), "MISMATCH");
    assert!(t.contains("libtasn1-6"), "the differences are listed: {t}");
    ok(cairn(&["publish", &app2, "--repo", s(&repo), "--keys", k]));
    ok(v.run(&app2));

    // 3. Roll back a bin: its current file replaced by its previous version.
    let current = role_file(&repo, &bin);
    let version: u64 = current
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .split('.')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(version >= 3, "app-2's bin was signed at least 3 times");
    let previous = repo.join(format!("metadata/{}.{bin}.json", version - 1));
    let genuine_bin = std::fs::read(&current).unwrap();
    std::fs::copy(&previous, &current).unwrap();
    // A client that holds the current bin keeps it; a new one fetches the
    // served file and finds that it is not the version snapshot lists.
    ok(v.run(&app2));
    let fresh_clients = std::cell::Cell::new(0);
    let fresh = || {
        fresh_clients.set(fresh_clients.get() + 1);
        Verify {
            server: &server,
            root: v.root.clone(),
            md: work
                .path()
                .join(format!("fresh-client-{}", fresh_clients.get())),
        }
    };
    let t = fails(fresh().run(&app2), "mix-and-match refused");
    assert!(t.contains(&bin), "{t}");
    std::fs::write(&current, &genuine_bin).unwrap();
    ok(v.run(&app2));

    // ... and roll back the timestamp to one the client saw before.
    let old_ts = std::fs::read(repo.join("metadata/timestamp.json")).unwrap();
    ok(cairn(&["tuf", "bump", s(&repo), "--keys", k]));
    ok(v.run(&app2));
    let new_ts = std::fs::read(repo.join("metadata/timestamp.json")).unwrap();
    std::fs::write(repo.join("metadata/timestamp.json"), &old_ts).unwrap();
    fails(v.run(&app2), "rollback refused");
    std::fs::write(repo.join("metadata/timestamp.json"), &new_ts).unwrap();
    ok(v.run(&app2));

    // 4. Freeze: a timestamp that has expired, still being served.
    ok(cairn(&[
        "tuf",
        "bump",
        s(&repo),
        "--keys",
        k,
        "--expires",
        "timestamp=2s",
    ]));
    std::thread::sleep(std::time::Duration::from_millis(2500));
    fails(v.run(&app2), "freeze attack refused");
    ok(cairn(&["tuf", "bump", s(&repo), "--keys", k]));
    ok(v.run(&app2));

    // 5. Signatures dropped below the threshold.
    let current = role_file(&repo, &bin);
    let genuine_bin = std::fs::read(&current).unwrap();
    let mut unsigned: serde_json::Value = serde_json::from_slice(&genuine_bin).unwrap();
    unsigned["signatures"] = serde_json::json!([]);
    std::fs::write(&current, serde_json::to_vec(&unsigned).unwrap()).unwrap();
    fails(fresh().run(&app2), "threshold not met");
    std::fs::write(&current, &genuine_bin).unwrap();
    ok(v.run(&app2));

    // 6. A compromised bins key: with it an attacker lists a forged SBOM
    // in the bin and the client accepts it; after a rotation it cannot.
    let bins_key_file = std::fs::read_dir(&keys)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("bins.")
        })
        .unwrap();
    let stolen = cairn_tuf::keyfile::read_key_file(&bins_key_file, None).unwrap();
    let forged_doc = app1_doc.clone();
    let forged_name = format!(
        "{}.{}",
        sha256_hex(&forged_doc),
        app2_cairn.rsplit('/').next().unwrap()
    );
    std::fs::write(target_dir.join(&forged_name), &forged_doc).unwrap();
    let attack = |repo: &Path| -> Vec<u8> {
        let current = role_file(repo, &bin);
        let genuine = std::fs::read(&current).unwrap();
        let mut md: serde_json::Value = serde_json::from_slice(&genuine).unwrap();
        md["signed"]["targets"][&app2_cairn] = serde_json::json!({
            "length": forged_doc.len(),
            "hashes": {"sha256": sha256_hex(&forged_doc)},
        });
        std::fs::write(&current, forge(&md["signed"], &stolen)).unwrap();
        genuine
    };
    let genuine_bin = attack(&repo);
    let t = text(&fresh().run(&app2));
    assert!(
        t.contains("MISMATCH") && !t.contains("TUF verification failed"),
        "with the key, the forged bin passes TUF (only the comparison catches it): {t}"
    );
    std::fs::write(role_file(&repo, &bin), &genuine_bin).unwrap();
    let out = ok(cairn(&["tuf", "rotate", s(&repo), "--keys", k, &bin]));
    assert!(
        out.contains("16384 roles"),
        "every bin shares the key: {out}"
    );
    ok(v.run(&app2));
    attack(&repo);
    fails(fresh().run(&app2), "threshold not met");
    drop(server);
}

#[test]
fn wrong_passphrase_missing_key_and_unmet_threshold_change_nothing() {
    let work = tempfile::tempdir().unwrap();
    let repo = work.path().join("repo");
    let keys = work.path().join("keys");
    let k = s(&keys);
    let pass = [("CAIRN_TEST_PASS", "correct horse")];
    let wrong = [("CAIRN_TEST_PASS", "wrong horse")];
    ok(cairn_env(
        &[
            "tuf",
            "init",
            s(&repo),
            "--keys",
            k,
            "--threshold",
            "root=2",
            "--passphrase-env",
            "CAIRN_TEST_PASS",
            "--succinct-bins",
            "4",
        ],
        &pass,
    ));
    // Offline keys are encrypted, online ones are not.
    for e in std::fs::read_dir(&keys).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_str().unwrap().to_string();
        if !name.ends_with(".pem") {
            continue;
        }
        let pem = std::fs::read_to_string(&p).unwrap();
        let encrypted = pem.contains("ENCRYPTED PRIVATE KEY");
        let offline = name.starts_with("root.") || name.starts_with("targets.");
        assert_eq!(encrypted, offline, "{name}");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(p.metadata().unwrap().permissions().mode() & 0o777, 0o600);
    }
    let before = (tree(&repo), tree(&keys));
    let unchanged = |what: &str| {
        assert!(tree(&repo) == before.0, "{what}: the repository changed");
        assert!(tree(&keys) == before.1, "{what}: the key directory changed");
    };

    // Wrong passphrase: delegating needs the targets key.
    fails(
        cairn_env(
            &[
                "tuf",
                "rotate",
                s(&repo),
                "--keys",
                k,
                "targets",
                "--passphrase-env",
                "CAIRN_TEST_PASS",
            ],
            &wrong,
        ),
        "wrong passphrase",
    );
    unchanged("wrong passphrase");
    // No passphrase and no terminal.
    fails(
        cairn(&["tuf", "rotate", s(&repo), "--keys", k, "targets"]),
        "passphrase",
    );
    unchanged("no passphrase");

    // A missing key: the snapshot key is elsewhere.
    let aside = work.path().join("aside");
    std::fs::create_dir(&aside).unwrap();
    let moved: Vec<PathBuf> = std::fs::read_dir(&keys)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("snapshot.")
        })
        .collect();
    for p in &moved {
        std::fs::rename(p, aside.join(p.file_name().unwrap())).unwrap();
    }
    let file = work.path().join("a.txt");
    std::fs::write(&file, "a").unwrap();
    fails(
        cairn(&["tuf", "add", s(&repo), "--keys", k, s(&file)]),
        "snapshot: only 0 of the 1 signatures",
    );
    assert!(
        tree(&repo) == before.0,
        "a missing key: the repository changed"
    );
    for p in &moved {
        std::fs::rename(aside.join(p.file_name().unwrap()), p).unwrap();
    }

    // An unmet threshold: one of the two root keys is on another machine.
    let machine_b = work.path().join("machine-b");
    std::fs::create_dir(&machine_b).unwrap();
    let root_key = std::fs::read_dir(&keys)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("root.")
        })
        .unwrap();
    let b_key = machine_b.join(root_key.file_name().unwrap());
    std::fs::rename(&root_key, &b_key).unwrap();
    let before = (tree(&repo), tree(&keys));
    let rotate = [
        "tuf",
        "rotate",
        s(&repo),
        "--keys",
        k,
        "timestamp",
        "--passphrase-env",
        "CAIRN_TEST_PASS",
    ];
    fails(cairn_env(&rotate, &pass), "only 1 of the 2 signatures");
    assert!(
        tree(&repo) == before.0 && tree(&keys) == before.1,
        "unmet threshold changed files"
    );

    // Threshold signing on two machines: one signature here (--partial),
    // the second with the other key; clients accept root v2 only then.
    let mut partial = rotate.to_vec();
    partial.push("--partial");
    let out = ok(cairn_env(&partial, &pass));
    assert!(out.contains("below its signature threshold"), "{out}");
    let status = ok(cairn(&["tuf", "status", s(&repo)]));
    assert!(status.contains("LACKING SIGNATURES (1): root"), "{status}");
    let client = work.path().join("client");
    let url = format!("file://{}/metadata", repo.display());
    ok(cairn(&[
        "tuf",
        "--metadata-dir",
        s(&client),
        "trust",
        s(&repo.join("metadata/1.root.json")),
    ]));
    fails(
        cairn(&[
            "tuf",
            "--metadata-dir",
            s(&client),
            "--metadata-url",
            &url,
            "refresh",
        ]),
        "threshold not met",
    );
    let root2 = std::fs::read(repo.join("metadata/2.root.json")).unwrap();
    ok(cairn_env(
        &[
            "tuf",
            "sign",
            s(&repo),
            "root",
            "--key",
            s(&b_key),
            "--passphrase-env",
            "CAIRN_TEST_PASS",
        ],
        &pass,
    ));
    let signed: serde_json::Value =
        serde_json::from_slice(&std::fs::read(repo.join("metadata/2.root.json")).unwrap()).unwrap();
    let was: serde_json::Value = serde_json::from_slice(&root2).unwrap();
    assert_eq!(
        signed["signed"], was["signed"],
        "signing changes no signed byte"
    );
    assert_eq!(signed["signatures"].as_array().unwrap().len(), 2);
    let status = ok(cairn(&["tuf", "status", s(&repo)]));
    assert!(!status.contains("LACKING"), "{status}");
    let out = ok(cairn(&[
        "tuf",
        "--metadata-dir",
        s(&client),
        "--metadata-url",
        &url,
        "refresh",
    ]));
    assert!(out.contains("root v2"), "{out}");

    // Rotating the root keys themselves: root v3 needs the thresholds of the
    // old root (one key here, one on machine B) and of the new one.
    let mut rotate_root = partial.clone();
    rotate_root[5] = "root";
    let out = ok(cairn_env(&rotate_root, &pass));
    assert!(out.contains("below its signature threshold"), "{out}");
    fails(
        cairn(&[
            "tuf",
            "--metadata-dir",
            s(&client),
            "--metadata-url",
            &url,
            "refresh",
        ]),
        "threshold not met",
    );
    ok(cairn_env(
        &[
            "tuf",
            "sign",
            s(&repo),
            "root",
            "--key",
            s(&b_key),
            "--passphrase-env",
            "CAIRN_TEST_PASS",
        ],
        &pass,
    ));
    let out = ok(cairn(&[
        "tuf",
        "--metadata-dir",
        s(&client),
        "--metadata-url",
        &url,
        "refresh",
    ]));
    assert!(out.contains("root v3"), "{out}");
    // Snapshot is signed by commits only: timestamp lists its hash.
    fails(
        cairn(&["tuf", "sign", s(&repo), "snapshot", "--key", s(&b_key)]),
        "cannot be signed on its own",
    );
}

#[test]
fn a_killed_commit_never_leaves_a_repository_clients_reject() {
    let work = tempfile::tempdir().unwrap();
    let repo = work.path().join("repo");
    let keys = work.path().join("keys");
    let k = s(&keys);
    let file = work.path().join("first.txt");
    std::fs::write(&file, "the first target\n").unwrap();
    ok(cairn(&[
        "tuf",
        "init",
        s(&repo),
        "--keys",
        k,
        "--hash-bins",
        "1024",
        s(&file),
    ]));
    let list = work.path().join("list.tsv");
    let mut text = String::new();
    for i in 0..150_000 {
        let data = format!("target {i}\n");
        text.push_str(&format!(
            "files/{i:07}.txt\t{}\t{}\n",
            data.len(),
            sha256_hex(data.as_bytes())
        ));
    }
    std::fs::write(&list, text).unwrap();
    let url = format!("file://{}/metadata", repo.display());
    let targets = format!("file://{}/targets", repo.display());
    let check = |round: usize| {
        let client = work.path().join(format!("client-{round}"));
        ok(cairn(&[
            "tuf",
            "--metadata-dir",
            s(&client),
            "trust",
            s(&repo.join("metadata/1.root.json")),
        ]));
        let out = work.path().join(format!("out-{round}"));
        ok(cairn(&[
            "tuf",
            "--metadata-dir",
            s(&client),
            "--metadata-url",
            &url,
            "fetch",
            "first.txt",
            "--targets-url",
            &targets,
            "-o",
            s(&out),
        ]));
        assert_eq!(std::fs::read(&out).unwrap(), b"the first target\n");
    };
    // Killed at different moments of a commit that writes every bin.
    for (round, delay_ms) in [30u64, 120, 250, 400, 700, 1000].into_iter().enumerate() {
        let mut child = cairn_cmd()
            .args(["tuf", "add", s(&repo), "--keys", k, "--from-list", s(&list)])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        check(round);
    }
    let out = ok(cairn(&[
        "tuf",
        "add",
        s(&repo),
        "--keys",
        k,
        "--from-list",
        s(&list),
    ]));
    assert!(out.contains("added 150000 targets"), "{out}");
    check(99);
    let status = ok(cairn(&["tuf", "status", s(&repo)]));
    assert!(status.contains("150001 targets"), "{status}");
}

#[test]
fn python_tuf_fetches_from_cairn_repositories_over_http() {
    let py = require::venv_python();
    if !require::require("the project venv's python (scripts/setup)", py.exists()) {
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/python_tuf_fetch.py");
    for layout in [["--hash-bins", "64"], ["--succinct-bins", "6"]] {
        let work = tempfile::tempdir().unwrap();
        let repo = work.path().join("repo");
        let keys = work.path().join("keys");
        let dir = work.path().join("files");
        std::fs::create_dir_all(dir.join("nested/deeper")).unwrap();
        let mut expected = BTreeMap::new();
        for (name, body) in [
            ("a.txt", "alpha\n"),
            ("nested/b.json", "{\"b\": 1}\n"),
            ("nested/deeper/c d.bin", "gamma with a space\n"),
        ] {
            std::fs::write(dir.join(name), body).unwrap();
            expected.insert(format!("pkgs/{name}"), sha256_hex(body.as_bytes()));
        }
        let mut args = vec!["tuf", "init", s(&repo), "--keys", s(&keys)];
        args.extend(layout);
        args.extend([
            "--key-type",
            "ecdsa-p256",
            s(&dir),
            "--prefix",
            "pkgs/",
            "--custom",
            "{\"team\":\"sbom\"}",
        ]);
        ok(cairn(&args));
        let server = Server::start(&repo);
        let mut cmd = Command::new(&py);
        cmd.arg(&script)
            .arg(repo.join("metadata/1.root.json"))
            .arg(server.metadata())
            .arg(server.targets());
        for t in expected.keys() {
            cmd.arg(t);
        }
        let o = cmd.output().unwrap();
        let out = ok(o);
        for (t, h) in &expected {
            assert!(out.contains(&format!("{t} {h}")), "{layout:?}: {out}");
        }
    }
}

#[test]
fn cairn_fetches_from_a_python_tuf_repository_over_http() {
    let py = require::venv_python();
    if !require::require("the project venv's python (scripts/setup)", py.exists()) {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let repo = work.path().join("repo");
    let script = require::workspace_root().join("bench/tuf/make_repo.py");
    let o = Command::new(&py)
        .arg(&script)
        .arg(&repo)
        .args(["--bins", "256", "--targets", "3000", "--fetched", "12"])
        .output()
        .unwrap();
    ok(o);
    let server = Server::start(&repo);
    let md = work.path().join("client");
    ok(cairn(&[
        "tuf",
        "--metadata-dir",
        s(&md),
        "trust",
        s(&repo.join("metadata/1.root.json")),
    ]));
    let fetched = std::fs::read_to_string(repo.join("fetched.txt")).unwrap();
    for t in fetched.lines().filter(|l| !l.is_empty()) {
        let out = work.path().join("out");
        ok(cairn(&[
            "tuf",
            "--metadata-dir",
            s(&md),
            "--metadata-url",
            &server.metadata(),
            "--allow-http",
            "fetch",
            t,
            "--targets-url",
            &server.targets(),
            "-o",
            s(&out),
        ]));
        let n: u64 = t[6..13].parse().unwrap();
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            format!("target {n}\n")
        );
    }
}

#[test]
fn keys_inside_the_repository_and_impossible_dates_are_refused() {
    let work = tempfile::tempdir().unwrap();
    let repo = work.path().join("repo");
    // The key directory inside the served directory, spelled two ways.
    for keys in [repo.join("keys"), repo.join("./metadata/../keys")] {
        fails(
            cairn(&["tuf", "init", s(&repo), "--keys", s(&keys)]),
            "inside the repository",
        );
    }
    // An expiry past the year 9999 has no spelling clients parse.
    let keys = work.path().join("keys");
    fails(
        cairn(&[
            "tuf",
            "init",
            s(&repo),
            "--keys",
            s(&keys),
            "--expires",
            "root=8000y",
        ]),
        "durations look like",
    );
    assert!(!keys.exists(), "a failed init leaves no keys behind");
    ok(cairn(&["tuf", "init", s(&repo), "--keys", s(&keys)]));
    let file = work.path().join("a.txt");
    std::fs::write(&file, "a").unwrap();
    let before = tree(&repo);
    fails(
        cairn(&[
            "tuf",
            "add",
            s(&repo),
            "--keys",
            s(&keys),
            s(&file),
            "--expires",
            "timestamp=1x",
        ]),
        "durations look like",
    );
    assert!(tree(&repo) == before, "a bad option copied files");
    // The server serves metadata and targets only.
    std::fs::write(repo.join("notes.txt"), "private").unwrap();
    let server = Server::start(&repo);
    let client = work.path().join("client");
    ok(cairn(&[
        "tuf",
        "--metadata-dir",
        s(&client),
        "trust",
        s(&repo.join("metadata/1.root.json")),
    ]));
    ok(cairn(&[
        "tuf",
        "--metadata-dir",
        s(&client),
        "--metadata-url",
        &server.metadata(),
        "--allow-http",
        "refresh",
    ]));
    let o = cairn(&[
        "tuf",
        "--metadata-dir",
        s(&client),
        "--metadata-url",
        &server.url,
        "--allow-http",
        "fetch",
        "notes.txt",
        "--targets-url",
        &server.url,
        "-o",
        s(&work.path().join("out")),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
}
