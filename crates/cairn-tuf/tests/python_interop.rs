//! Interoperability with python-tuf, the reference implementation.
//!
//! - python-tuf → cairn: `tests/data/python-tuf/` was written by
//!   `tests/data/make_python_tuf_repo.py` (ed25519, ECDSA P-256 and P-384,
//!   RSA-PSS SHA-256/384/512 keys, a root rotation, path and hashed-bin and
//!   succinct-bin delegations, unknown fields); cairn must verify all of it and
//!   re-serialize every `signed` object to the same canonical bytes.
//! - cairn → python-tuf: a repository signed by cairn is verified by
//!   python-tuf's ngclient (`tests/data/verify_with_python_tuf.py`), run with
//!   the project venv's Python (`$CAIRN_VENV`, else `.venv` at the workspace root).

mod common;
#[path = "../../../fixtures/require.rs"]
mod require;
use cairn_tuf::canonical;
use cairn_tuf::fetcher::MemoryFetcher;
use cairn_tuf::metadata::*;
use cairn_tuf::sign::Ed25519Signer;
use cairn_tuf::{Config, Updater};
use common::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const PY_BASE: &str = "https://python-tuf.test/";

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/python-tuf")
}

fn load_dir(fetcher: &MemoryFetcher, base: &str, dir: &Path, rel: &str) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        if entry.file_type().unwrap().is_dir() {
            load_dir(fetcher, base, &entry.path(), &rel);
        } else {
            fetcher.insert(
                format!("{base}{}", cairn_tuf::updater::quote_path(&rel)),
                std::fs::read(entry.path()).unwrap(),
            );
        }
    }
}

#[test]
fn python_tuf_repository_verifies_in_cairn() {
    let fetcher = MemoryFetcher::new();
    load_dir(&fetcher, PY_BASE, &data_dir(), "");
    let client = tempfile::tempdir().unwrap();
    std::fs::copy(
        data_dir().join("metadata/1.root.json"),
        client.path().join("root.json"),
    )
    .unwrap();
    let mut up = Updater::with_reference_time(
        client.path(),
        &format!("{PY_BASE}metadata"),
        fetcher.clone(),
        Config::default(),
        NOW,
    )
    .unwrap();
    up.refresh().unwrap();
    assert_eq!(up.trusted().root().version.get(), 2);
    let targets: Vec<String> =
        serde_json::from_slice(&std::fs::read(data_dir().join("targets.list")).unwrap()).unwrap();
    assert!(targets.len() > 40);
    let dl = tempfile::tempdir().unwrap();
    for t in &targets {
        let info = up
            .target_info(t)
            .unwrap()
            .unwrap_or_else(|| panic!("{t} found"));
        let dest = cairn_tuf::updater::target_file_path(dl.path(), t);
        up.download_target(t, &info, &format!("{PY_BASE}targets"), &dest)
            .unwrap();
        assert_eq!(std::fs::metadata(&dest).unwrap().len(), info.length);
    }
    // The nested target carries python-tuf's "custom" field.
    let nested = up.target_info("dir/nested.txt").unwrap().unwrap();
    assert_eq!(nested.custom.unwrap()["tags"][0], "a");
    // Every role the searches touched is persisted under its plain name.
    for f in [
        "docs.json",
        "hashed.json",
        "succinct.json",
        "sbin-0.json",
        "hbin-0.json",
    ] {
        assert!(client.path().join(f).exists(), "{f}");
    }
}

/// Typed parse then serialize gives back the exact canonical bytes (unknown
/// fields included), for every python-tuf metadata file.
#[test]
fn python_tuf_metadata_round_trips_through_the_typed_schema() {
    fn check<T: Role>(name: &str, bytes: &[u8]) {
        let env = Envelope::<T>::from_bytes(name, bytes).unwrap();
        let again = canonical::to_canonical(&serde_json::to_value(&env.signed).unwrap()).unwrap();
        assert_eq!(
            String::from_utf8(again).unwrap(),
            String::from_utf8(env.signed_bytes).unwrap(),
            "{name}"
        );
    }
    let mut n = 0;
    for entry in std::fs::read_dir(data_dir().join("metadata")).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        match v["signed"]["_type"].as_str().unwrap() {
            "root" => check::<Root>(&name, &bytes),
            "timestamp" => check::<Timestamp>(&name, &bytes),
            "snapshot" => check::<Snapshot>(&name, &bytes),
            "targets" => check::<Targets>(&name, &bytes),
            t => panic!("{t}"),
        }
        n += 1;
    }
    assert!(n > 30);
    let root = std::fs::read(data_dir().join("metadata/2.root.json")).unwrap();
    let env = Envelope::<Root>::from_bytes("root", &root).unwrap();
    assert_eq!(env.signed.unknown["x-cairn-unknown"]["nested"][1], "two");
    assert!(env
        .signed
        .keys
        .values()
        .any(|k| k.unknown.contains_key("x-key-note")));
    let schemes: std::collections::BTreeSet<&str> = env
        .signed
        .keys
        .values()
        .map(|k| k.scheme.as_str())
        .collect();
    for s in [
        "ed25519",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "rsassa-pss-sha256",
        "rsassa-pss-sha512",
    ] {
        assert!(schemes.contains(s), "fixture has a {s} key");
    }
}

/// Key ids of python-tuf keys are the ones cairn computes.
#[test]
fn key_ids_match_python_tuf() {
    let root = std::fs::read(data_dir().join("metadata/1.root.json")).unwrap();
    let env = Envelope::<Root>::from_bytes("root", &root).unwrap();
    for (keyid, key) in &env.signed.keys {
        assert_eq!(&key.key_id().unwrap(), keyid);
    }
}

/// The venv's Python, or `None` when it is missing and the test skips (see `require`).
fn python() -> Option<PathBuf> {
    let py = require::venv_python();
    let what = format!(
        "python-tuf venv's {} (run scripts/setup, or set CAIRN_VENV)",
        py.display()
    );
    require::require(&what, py.exists()).then_some(py)
}

#[test]
fn cairn_repository_verifies_in_python_tuf() {
    let Some(python) = python() else { return };
    let mut repo = TestRepo::new();
    let far = Expires::from_unix(4_070_908_800); // 2099-01-01
    repo.root.expires = far.clone();
    repo.timestamp.expires = far.clone();
    repo.snapshot.expires = far.clone();
    repo.root
        .unknown
        .insert("x-from-cairn".into(), serde_json::json!({"a": [1, 2]}));
    // A path delegation and a succinct hash-bin delegation below it.
    repo.delegate(
        "targets",
        DelegatedRole {
            name: "pkgs".into(),
            keyids: vec![],
            threshold: nz(1),
            terminating: false,
            paths: Some(vec!["pkgs/*".into()]),
            path_hash_prefixes: None,
            unknown: Unknown::new(),
        },
    );
    let bins_key = Ed25519Signer::from_seed(&[99; 32]);
    let succinct = SuccinctRoles {
        keyids: vec![bins_key.keyid().into()],
        threshold: nz(1),
        bit_length: 3,
        name_prefix: "bin".into(),
        unknown: Unknown::new(),
    };
    repo.targets.get_mut("pkgs").unwrap().delegations = Some(Delegations {
        keys: BTreeMap::from([(bins_key.keyid().to_string(), bins_key.public_key().clone())]),
        roles: None,
        succinct_roles: Some(succinct.clone()),
        unknown: Unknown::new(),
    });
    let mut roles: Vec<String> = (0..succinct.bin_count())
        .map(|b| succinct.bin_name(b))
        .collect();
    for r in &roles {
        repo.targets.insert(r.clone(), TestRepo::empty_targets());
        repo.signers
            .insert(r.clone(), vec![Ed25519Signer::from_seed(&[99; 32])]);
    }
    let mut wanted = vec!["top.txt".to_string()];
    repo.add_target("targets", "top.txt", b"top level");
    for i in 0..12 {
        let path = format!("pkgs/p{i}.tar");
        let bin = succinct.role_for_target(&path);
        repo.add_target(&bin, &path, format!("package {i}").as_bytes());
        wanted.push(path);
    }
    roles.push("pkgs".into());
    roles.push("targets".into());
    for md in repo.targets.values_mut() {
        md.expires = far.clone();
    }
    let refs: Vec<&str> = roles.iter().map(|s| s.as_str()).collect();
    repo.publish(&["root"]);
    repo.publish_with_snapshot(&refs);

    let out = tempfile::tempdir().unwrap();
    let base = "https://repo.test/";
    for (url, bytes) in repo.fetcher.files() {
        let rel = url.strip_prefix(base).unwrap();
        let path = out.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/verify_with_python_tuf.py");
    let result = std::process::Command::new(&python)
        .arg(&script)
        .arg(out.path())
        .arg(base)
        .args(&wanted)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", python.display()));
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(
        result.status.success(),
        "python-tuf refused cairn's repository:\n{stdout}\n{}",
        String::from_utf8_lossy(&result.stderr)
    );
    for t in &wanted {
        let data = &repo.artifacts[t];
        let line = format!(
            "{t} {}",
            hex::encode(<sha2::Sha256 as sha2::Digest>::digest(data))
        );
        assert!(stdout.lines().any(|l| l == line), "{line} in {stdout}");
    }
}

/// Regression: olpc-cjson NFC-normalizes strings, securesystemslib does not;
/// python-tuf signs the decomposed bytes of this target path as they are.
#[test]
fn non_nfc_target_path_signed_by_python_tuf_verifies() {
    let bytes = std::fs::read(data_dir().join("metadata/1.targets.json")).unwrap();
    let env = Envelope::<Targets>::from_bytes("targets", &bytes).unwrap();
    let path = "unicode/cafe\u{301}.txt";
    assert!(env.signed.targets.contains_key(path));
    let needle = "cafe\u{301}".as_bytes();
    assert!(env.signed_bytes.windows(needle.len()).any(|w| w == needle));
    let root = std::fs::read(data_dir().join("metadata/2.root.json")).unwrap();
    let root = Envelope::<Root>::from_bytes("root", &root).unwrap();
    cairn_tuf::keys::verify_threshold(
        "targets",
        "root",
        root.signed.rule("targets").unwrap(),
        &env.signed_bytes,
        &env.signatures,
    )
    .unwrap();
}

/// Every key type in the fixture refuses its signature once one bit of the
/// signed content or of the signature changes.
#[test]
fn each_key_type_refuses_tampering() {
    let md = data_dir().join("metadata");
    let root2 = std::fs::read(md.join("2.root.json")).unwrap();
    let root = Envelope::<Root>::from_bytes("root", &root2).unwrap();
    let top = Envelope::<Targets>::from_bytes(
        "targets",
        &std::fs::read(md.join("1.targets.json")).unwrap(),
    )
    .unwrap();
    // (file, rule source) for p256, p384, rsa-pss-sha512, rsa-pss-sha384.
    let ts = std::fs::read(md.join("timestamp.json")).unwrap();
    let sn = std::fs::read(md.join("1.snapshot.json")).unwrap();
    let tg = std::fs::read(md.join("1.targets.json")).unwrap();
    let docs = std::fs::read(md.join("1.docs.json")).unwrap();
    let delegations = top.signed.delegations.as_ref().unwrap();
    let cases: Vec<(&str, Vec<u8>, cairn_tuf::metadata::Rule)> = vec![
        ("timestamp", ts, root.signed.rule("timestamp").unwrap()),
        ("snapshot", sn, root.signed.rule("snapshot").unwrap()),
        ("targets", tg, root.signed.rule("targets").unwrap()),
        ("docs", docs, delegations.rule("docs").unwrap()),
    ];
    for (name, bytes, rule) in cases {
        let check = |b: &[u8]| -> bool {
            let v: serde_json::Value = serde_json::from_slice(b).unwrap();
            let signed = cairn_tuf::canonical::value_to_canonical(&v["signed"]).unwrap();
            let sigs: Vec<Signature> = serde_json::from_value(v["signatures"].clone()).unwrap();
            cairn_tuf::keys::verify_threshold(name, "test", rule, &signed, &sigs).is_ok()
        };
        assert!(check(&bytes), "{name} verifies as published");
        // Content: bump the version.
        let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        v["signed"]["version"] = serde_json::json!(v["signed"]["version"].as_u64().unwrap() + 1);
        assert!(
            !check(&serde_json::to_vec(&v).unwrap()),
            "{name}: content tampered"
        );
        // Signature: flip one bit of its last byte.
        let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let sig = v["signatures"][0]["sig"].as_str().unwrap().to_string();
        let mut raw = hex::decode(&sig).unwrap();
        *raw.last_mut().unwrap() ^= 1;
        v["signatures"][0]["sig"] = serde_json::json!(hex::encode(raw));
        assert!(
            !check(&serde_json::to_vec(&v).unwrap()),
            "{name}: signature tampered"
        );
    }
}
