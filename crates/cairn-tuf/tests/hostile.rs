//! Malformed and hostile metadata: every case is a clear error, never a panic.

mod common;
use cairn_tuf::metadata::*;
use cairn_tuf::sign::{sign_value, Ed25519Signer};
use cairn_tuf::{Error, TrustedSet};
use common::*;
use serde_json::{json, Value};

fn root_value(signer: &Ed25519Signer) -> Value {
    json!({
        "_type": "root",
        "spec_version": "1.0.34",
        "version": 1,
        "expires": "2099-01-01T00:00:00Z",
        "consistent_snapshot": true,
        "keys": {signer.keyid(): signer.public_key()},
        "roles": {
            "root": {"keyids": [signer.keyid()], "threshold": 1},
            "timestamp": {"keyids": [signer.keyid()], "threshold": 1},
            "snapshot": {"keyids": [signer.keyid()], "threshold": 1},
            "targets": {"keyids": [signer.keyid()], "threshold": 1}
        }
    })
}

fn load(bytes: &[u8]) -> Result<TrustedSet, Error> {
    TrustedSet::new(bytes, NOW)
}

fn signer() -> Ed25519Signer {
    Ed25519Signer::from_seed(&[7; 32])
}

#[test]
fn a_valid_root_loads() {
    let s = signer();
    load(&sign_value(root_value(&s), &[&s])).unwrap();
}

#[test]
fn bad_json_is_a_json_error() {
    for bytes in [
        &b""[..],
        b"{",
        b"null",
        b"[]",
        b"{\"signed\": 1, \"signatures\": []}",
        b"\xff\xfe",
        b"{\"signed\": {}, \"signatures\": []} trailing",
        b"{\"a\": NaN}",
    ] {
        let e = load(bytes).err().expect("refused");
        assert!(
            matches!(e, Error::Json { .. } | Error::Schema { .. }),
            "{e}"
        );
    }
}

#[test]
fn wrong_types_are_schema_errors() {
    let s = signer();
    let cases: Vec<(&str, Value)> = vec![
        ("version", json!("1")),
        ("version", json!(0)),
        ("version", json!(-1)),
        ("version", json!(1.5)),
        ("version", json!(18446744073709551616u128 as f64)),
        ("expires", json!("2099-01-01")),
        ("expires", json!(1)),
        ("spec_version", json!("2.0.0")),
        ("spec_version", json!("1")),
        ("spec_version", json!("1.x")),
        ("consistent_snapshot", json!("yes")),
        ("keys", json!([])),
        ("roles", json!({"root": {"keyids": [], "threshold": 1}})),
    ];
    for (field, value) in cases {
        let mut v = root_value(&s);
        v[field] = value.clone();
        // Unsigned: the schema is checked before signatures (and floats
        // cannot even be signed).
        let bytes = serde_json::to_vec(&json!({"signed": v, "signatures": []})).unwrap();
        let e = load(&bytes).err().expect("refused");
        assert!(matches!(e, Error::Schema { .. }), "{field}={value}: {e}");
    }
    // Thresholds must be at least 1; key ids in a role unique.
    let mut v = root_value(&s);
    v["roles"]["root"]["threshold"] = json!(0);
    assert!(matches!(
        load(&sign_value(v, &[&s])),
        Err(Error::Schema { .. })
    ));
    let mut v = root_value(&s);
    v["roles"]["snapshot"]["keyids"] = json!([s.keyid(), s.keyid()]);
    assert!(matches!(
        load(&sign_value(v, &[&s])),
        Err(Error::Schema { .. })
    ));
}

#[test]
fn duplicate_keys_in_json_objects_are_refused() {
    let s = signer();
    let good = String::from_utf8(sign_value(root_value(&s), &[&s])).unwrap();
    // Two "version" members: which one did the signer mean?
    let dup = good.replacen("\"version\": 1", "\"version\": 1, \"version\": 2", 1);
    assert_ne!(dup, good);
    let e = load(dup.as_bytes()).err().expect("refused");
    assert!(e.to_string().contains("duplicate key \"version\""), "{e}");
}

#[test]
fn deep_nesting_is_refused() {
    let s = signer();
    let mut v = root_value(&s);
    let mut deep = json!(1);
    for _ in 0..200 {
        deep = json!([deep]);
    }
    v["x-deep"] = deep;
    let bytes = serde_json::to_vec(&json!({"signed": v, "signatures": []})).unwrap();
    let e = load(&bytes).err().expect("refused");
    assert!(e.to_string().contains("nesting"), "{e}");
    let raw = format!("{}{}", "{\"a\":".repeat(100_000), "}".repeat(100_000));
    assert!(load(raw.as_bytes()).is_err());
}

#[test]
fn huge_files_are_refused_by_the_updater() {
    let repo = TestRepo::new();
    let client = Client::new(&repo.root_v1());
    repo.serve_raw("timestamp", vec![b'['; 10 << 20]);
    let e = client.refresh(&repo).unwrap_err();
    assert!(matches!(e, Error::TooLarge { .. }), "{e}");
}

#[test]
fn signature_tricks_are_refused() {
    let s = signer();
    let good: Value = serde_json::from_slice(&sign_value(root_value(&s), &[&s])).unwrap();
    let sig = good["signatures"][0].clone();
    let mut cases: Vec<(&str, Value)> = vec![
        ("no signatures", json!([])),
        ("signatures not a list", json!({"keyid": s.keyid()})),
        ("sig not a string", json!([{"keyid": s.keyid(), "sig": 5}])),
        ("sig not hex", json!([{"keyid": s.keyid(), "sig": "zz"}])),
        ("sig empty", json!([{"keyid": s.keyid(), "sig": ""}])),
        (
            "sig truncated",
            json!([{"keyid": s.keyid(), "sig": &sig["sig"].as_str().unwrap()[..64]}]),
        ),
        (
            "unknown keyid",
            json!([{"keyid": "00".repeat(32), "sig": sig["sig"]}]),
        ),
        ("duplicate", json!([sig.clone(), sig.clone()])),
    ];
    // A valid signature over other content.
    let mut other = root_value(&s);
    other["version"] = json!(9);
    let other: Value = serde_json::from_slice(&sign_value(other, &[&s])).unwrap();
    cases.push(("signature of other content", other["signatures"].clone()));
    for (name, sigs) in cases {
        let mut v = good.clone();
        v["signatures"] = sigs;
        let e = load(&serde_json::to_vec(&v).unwrap()).err().expect(name);
        assert!(
            matches!(
                e,
                Error::ThresholdNotMet { .. }
                    | Error::Schema { .. }
                    | Error::DuplicateSignature { .. }
            ),
            "{name}: {e}"
        );
    }
}

#[test]
fn unusable_keys_do_not_count_and_do_not_panic() {
    let s = signer();
    let garbage_keys = [
        json!({"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": "abcd"}}),
        json!({"keytype": "ed25519", "scheme": "ed25519", "keyval": {}}),
        json!({"keytype": "ecdsa", "scheme": "ecdsa-sha2-nistp256", "keyval": {"public": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"}}),
        json!({"keytype": "ecdsa", "scheme": "ecdsa-sha2-nistp384", "keyval": {"public": "not pem"}}),
        json!({"keytype": "rsa", "scheme": "rsassa-pss-sha256", "keyval": {"public": "-----BEGIN PUBLIC KEY-----\nMAA=\n-----END PUBLIC KEY-----\n"}}),
        json!({"keytype": "rsa", "scheme": "rsassa-pss-md5", "keyval": {"public": "x"}}),
        json!({"keytype": "sphincs", "scheme": "sphincs-shake", "keyval": {"public": "x", "extra": [1]}}),
    ];
    for key in garbage_keys {
        let mut v = root_value(&s);
        v["keys"]["bad"] = key.clone();
        v["roles"]["root"]["keyids"] = json!([s.keyid(), "bad"]);
        // Threshold 1: the good key suffices, the bad one is ignored.
        let bytes = sign_value(v.clone(), &[&s]);
        let mut signed: Value = serde_json::from_slice(&bytes).unwrap();
        signed["signatures"]
            .as_array_mut()
            .unwrap()
            .push(json!({"keyid": "bad", "sig": "3045022100aa"}));
        load(&serde_json::to_vec(&signed).unwrap()).unwrap_or_else(|e| panic!("{key}: {e}"));
        // Threshold 2: the bad key cannot make up the difference.
        v["roles"]["root"]["threshold"] = json!(2);
        let mut signed: Value = serde_json::from_slice(&sign_value(v, &[&s])).unwrap();
        signed["signatures"]
            .as_array_mut()
            .unwrap()
            .push(json!({"keyid": "bad", "sig": "3045022100aa"}));
        let e = load(&serde_json::to_vec(&signed).unwrap())
            .err()
            .expect("refused");
        assert!(e.to_string().contains("1 of 2"), "{e}");
    }
}

#[test]
fn malformed_delegations_are_schema_errors() {
    let s = signer();
    let base = json!({
        "_type": "targets", "spec_version": "1.0", "version": 1,
        "expires": "2099-01-01T00:00:00Z", "targets": {}
    });
    let role =
        json!({"name": "a", "keyids": [], "threshold": 1, "terminating": false, "paths": ["*"]});
    let bad = [
        json!({"keys": {}}),
        json!({"keys": {}, "roles": [role], "succinct_roles": {"keyids": [], "threshold": 1, "bit_length": 4, "name_prefix": "b"}}),
        json!({"keys": {}, "roles": [role, role]}),
        json!({"keys": {}, "roles": [{"name": "snapshot", "keyids": [], "threshold": 1, "terminating": false, "paths": []}]}),
        json!({"keys": {}, "roles": [{"name": "a", "keyids": [], "threshold": 1, "terminating": false}]}),
        json!({"keys": {}, "roles": [{"name": "a", "keyids": [], "threshold": 1, "terminating": false, "paths": [], "path_hash_prefixes": []}]}),
        json!({"keys": {}, "roles": [{"name": "a", "keyids": [], "threshold": 1, "terminating": "no", "paths": []}]}),
        json!({"keys": {}, "succinct_roles": {"keyids": [], "threshold": 1, "bit_length": 0, "name_prefix": "b"}}),
        json!({"keys": {}, "succinct_roles": {"keyids": [], "threshold": 1, "bit_length": 33, "name_prefix": "b"}}),
    ];
    for d in bad {
        let mut v = base.clone();
        v["delegations"] = d.clone();
        let e = Envelope::<Targets>::from_bytes("targets", &sign_value(v, &[&s]))
            .err()
            .unwrap_or_else(|| panic!("{d} refused"));
        assert!(matches!(e, Error::Schema { .. }), "{d}: {e}");
    }
    let mut v = base.clone();
    v["targets"] = json!({"f": {"length": 1, "hashes": {}}});
    assert!(Envelope::<Targets>::from_bytes("targets", &sign_value(v, &[&s])).is_err());
    let mut v = base;
    v["targets"] = json!({"f": {"length": -1, "hashes": {"sha256": "00"}}});
    assert!(Envelope::<Targets>::from_bytes("targets", &sign_value(v, &[&s])).is_err());
}

/// Deterministic mutation fuzzing of real metadata: flip, drop and insert
/// bytes; every result must be an error or a value, never a panic.
#[test]
fn mutated_metadata_never_panics() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/python-tuf/metadata");
    let inputs: Vec<Vec<u8>> = [
        "2.root.json",
        "timestamp.json",
        "1.snapshot.json",
        "1.targets.json",
        "1.succinct.json",
    ]
    .iter()
    .map(|f| std::fs::read(dir.join(f)).unwrap())
    .collect();
    let mut state = 0x9e3779b97f4a7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let tokens: &[&[u8]] = &[
        b"\"", b"{", b"}", b"[", b"]", b",", b":", b"-1", b"1e999", b"null", b"\\u0000", b"0",
    ];
    for round in 0..3000 {
        let mut data = inputs[round % inputs.len()].clone();
        for _ in 0..(1 + next() % 4) {
            let pos = (next() as usize) % data.len().max(1);
            match next() % 3 {
                0 => data[pos] ^= 1 << (next() % 8),
                1 => {
                    data.remove(pos);
                }
                _ => {
                    let t = tokens[(next() as usize) % tokens.len()];
                    data.splice(pos..pos, t.iter().copied());
                }
            }
        }
        let _ = TrustedSet::new(&data, NOW);
        let _ = Envelope::<Targets>::from_bytes("t", &data);
        let _ = Envelope::<Snapshot>::from_bytes("s", &data);
        let _ = Envelope::<Timestamp>::from_bytes("ts", &data);
    }
}
