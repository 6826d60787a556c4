//! SBOM attestations: cairn's DSSE envelopes and Sigstore bundles checked by two
//! independent implementations (securesystemslib's DSSE, sigstore-js's bundle verifier)
//! and theirs by cairn; then the whole loop over loopback — a cairn TUF repository
//! served by nginx, Debian's docker-registry — with each attack refused.

mod common;
#[path = "../../cairn-tuf/tests/common/tls_server.rs"]
mod tls_server;

use base64::Engine as _;
use common::{cairn, demo, python, require, root};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use test_registry::{Options, Registry};
use tls_server::Nginx;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn ok(o: Output) -> String {
    assert!(o.status.success(), "{}", text(&o));
    String::from_utf8(o.stdout).unwrap()
}

fn demo_oci() -> String {
    demo().join("oci").display().to_string()
}

/// A key pair made by `cairn generate-key-pair`: (private, public).
fn key_pair(dir: &Path, name: &str, key_type: &str) -> (PathBuf, PathBuf) {
    let prefix = dir.join(name);
    ok(cairn(&[
        "generate-key-pair",
        "--key-type",
        key_type,
        "--output-key-prefix",
        s(&prefix),
        "-q",
    ]));
    (prefix.with_extension("key"), prefix.with_extension("pub"))
}

fn attest(image: &str, key: &Path, out: &Path, extra: &[&str]) {
    let mut args = vec!["attest", image, "--key", s(key), "-o", s(out), "-q"];
    args.extend_from_slice(extra);
    ok(cairn(&args));
}

fn bundle_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn payload(bundle: &serde_json::Value) -> Vec<u8> {
    let p = bundle["dsseEnvelope"]["payload"].as_str().unwrap();
    base64::engine::general_purpose::STANDARD.decode(p).unwrap()
}

/// The bundle with its statement's predicate changed (a package dropped from the SBOM)
/// and the signature kept: what an attacker who swaps the SBOM has.
fn swapped(bundle: &Path, out: &Path) {
    let mut b = bundle_json(bundle);
    let mut statement: serde_json::Value = serde_json::from_slice(&payload(&b)).unwrap();
    let packages = statement["predicate"]["packages"].as_array_mut().unwrap();
    let before = packages.len();
    packages.retain(|p| p["name"] != "zlib1g");
    assert!(packages.len() < before, "the demo image has zlib1g");
    b["dsseEnvelope"]["payload"] = base64::engine::general_purpose::STANDARD
        .encode(serde_json::to_vec(&statement).unwrap())
        .into();
    std::fs::write(out, serde_json::to_vec(&b).unwrap()).unwrap();
}

fn verify(args: &[&str]) -> Output {
    let mut all = vec!["verify-attestation"];
    all.extend_from_slice(args);
    cairn(&all)
}

fn sslib(args: &[&str]) -> Output {
    Command::new(python())
        .arg(root().join("tests/attest/dsse.py"))
        .args(args)
        .output()
        .expect("python runs")
}

fn sigstore_js_available() -> bool {
    root()
        .join("tests/attest/node_modules/@sigstore/verify")
        .exists()
        && Command::new("node")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
}

fn sigstore_js(args: &[&str]) -> Output {
    Command::new("node")
        .arg(root().join("tests/attest/sigstore.js"))
        .args(args)
        .output()
        .expect("node runs")
}

#[test]
fn securesystemslib_and_cairn_verify_each_others_envelopes() {
    let work = tempfile::tempdir().unwrap();
    for key_type in ["ecdsa-p256", "ed25519"] {
        let (key, public) = key_pair(work.path(), key_type, key_type);
        let bundle = work.path().join(format!("{key_type}.bundle.json"));
        attest(&demo_oci(), &key, &bundle, &[]);
        let b = bundle_json(&bundle);
        assert_eq!(
            b["dsseEnvelope"]["payloadType"],
            "application/vnd.in-toto+json"
        );

        // securesystemslib verifies cairn's envelope, and sees the very payload signed.
        let out = ok(sslib(&["verify", s(&bundle), s(&public)]));
        let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(payload(&b)));
        assert_eq!(
            out.trim(),
            format!("application/vnd.in-toto+json {sha}"),
            "{key_type}"
        );
        // ... and refuses it with the SBOM swapped, as cairn does.
        let bad = work.path().join(format!("{key_type}.swapped.json"));
        swapped(&bundle, &bad);
        let o = sslib(&["verify", s(&bad), s(&public)]);
        assert!(
            !o.status.success(),
            "securesystemslib accepted a swapped SBOM"
        );
        let o = verify(&[&demo_oci(), "--bundle", s(&bad), "--key", s(&public)]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(text(&o).contains("no signature verifies"), "{}", text(&o));

        // An envelope securesystemslib signs verifies in cairn, subject checked.
        let statement = work.path().join(format!("{key_type}.statement.json"));
        std::fs::write(&statement, payload(&b)).unwrap();
        let envelope = work.path().join(format!("{key_type}.sslib.json"));
        ok(sslib(&["sign", s(&key), s(&statement), s(&envelope)]));
        let out = ok(verify(&[
            &demo_oci(),
            "--bundle",
            s(&envelope),
            "--key",
            s(&public),
        ]));
        assert!(out.starts_with("VERIFIED: "), "{out}");
    }
}

#[test]
fn sigstore_js_and_cairn_verify_each_others_bundles() {
    if !require(
        "node with tests/attest/node_modules (scripts/setup installs it)",
        sigstore_js_available(),
    ) {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    for key_type in ["ecdsa-p256", "ed25519"] {
        let (key, public) = key_pair(work.path(), key_type, key_type);
        let bundle = work.path().join(format!("{key_type}.bundle.json"));
        attest(&demo_oci(), &key, &bundle, &["--type", "cyclonedx"]);
        let b = bundle_json(&bundle);
        assert_eq!(
            b["mediaType"],
            "application/vnd.dev.sigstore.bundle.v0.3+json"
        );
        assert_eq!(
            b["verificationMaterial"]["tlogEntries"],
            serde_json::json!([])
        );
        let hint = b["verificationMaterial"]["publicKey"]["hint"]
            .as_str()
            .unwrap()
            .to_string();
        let statement: serde_json::Value = serde_json::from_slice(&payload(&b)).unwrap();
        let keys: Vec<&String> = statement.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["_type", "predicate", "predicateType", "subject"]);
        assert_eq!(statement["_type"], "https://in-toto.io/Statement/v1");
        assert_eq!(statement["predicateType"], "https://cyclonedx.org/bom");
        assert_eq!(statement["predicate"]["bomFormat"], "CycloneDX");

        let out = ok(sigstore_js(&["verify", s(&bundle), s(&public)]));
        assert_eq!(out.trim(), format!("verified {hint}"));
        let bad = work.path().join(format!("{key_type}.swapped.json"));
        let mut tampered = b.clone();
        let mut st = statement.clone();
        st["predicate"]["components"] = serde_json::json!([]);
        tampered["dsseEnvelope"]["payload"] = base64::engine::general_purpose::STANDARD
            .encode(serde_json::to_vec(&st).unwrap())
            .into();
        std::fs::write(&bad, serde_json::to_vec(&tampered).unwrap()).unwrap();
        let o = sigstore_js(&["verify", s(&bad), s(&public)]);
        assert!(!o.status.success(), "sigstore-js accepted a swapped SBOM");

        // A bundle sigstore-js builds (its own PAE, node's signature) verifies in cairn.
        let statement_file = work.path().join(format!("{key_type}.statement.json"));
        std::fs::write(&statement_file, payload(&b)).unwrap();
        let theirs = work.path().join(format!("{key_type}.js.json"));
        ok(sigstore_js(&[
            "sign",
            s(&key),
            s(&statement_file),
            s(&theirs),
            &hint,
        ]));
        let out = ok(verify(&[
            &demo_oci(),
            "--bundle",
            s(&theirs),
            "--key",
            s(&public),
            "--rescan",
        ]));
        assert!(out.contains("VERIFIED: "), "{out}");
        assert!(out.contains("OK: "), "{out}");
    }
}

/// The loop over loopback: keys published in a delegated role of a cairn TUF
/// repository served by nginx, the bundle pushed as a referrer to docker-registry (which
/// has no referrers API: the tag schema), verified; then each attack refused.
#[test]
fn attest_publish_push_verify_and_refuse_attacks() {
    if !require("nginx (scripts/setup installs it)", Nginx::available())
        || !require(
            "docker-registry, skopeo, htpasswd and openssl (scripts/setup installs them)",
            Registry::available(),
        )
    {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let (repo, keys) = (w.join("repo"), w.join("keys"));
    ok(cairn(&["tuf", "init", s(&repo), "--keys", s(&keys)]));
    ok(cairn(&[
        "tuf",
        "delegate",
        s(&repo),
        "--keys",
        s(&keys),
        "attestation-keys",
        "--paths",
        "attestation-keys/*",
    ]));
    let (key, public) = key_pair(w, "signer", "ecdsa-p256");
    let out = ok(cairn(&[
        "publish-key",
        s(&public),
        "--repo",
        s(&repo),
        "--keys",
        s(&keys),
    ]));
    assert!(out.contains("published attestation-keys/"), "{out}");
    assert!(out.contains("attestation-keys v2"), "{out}");

    let nginx = Nginx::start(&repo, None);
    let metadata_url = format!("{}/metadata", nginx.url());
    let root_json = repo.join("metadata/1.root.json");
    let tuf = [
        "--root",
        s(&root_json),
        "--metadata-url",
        &metadata_url,
        "--allow-http",
    ];

    let reg = Registry::start(Options::default());
    reg.push(&format!("oci:{}:latest", demo_oci()), "demo:1", false);
    let alpine = root().join("fixtures/images/alpine-apk/oci");
    reg.push(
        &format!("oci:{}:latest", alpine.display()),
        "alpine:1",
        false,
    );
    let image = format!("registry:{}/demo:1", reg.host);
    let other = format!("registry:{}/alpine:1", reg.host);

    // `verify-attestation IMAGE --insecure EXTRA… --root … --metadata-url … --allow-http`.
    let verify_image = |extra: &[&str]| {
        let mut args = vec![image.as_str(), "--insecure"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&tuf);
        verify(&args)
    };
    // Refused: exit 1, saying `why`.
    let refused = |o: Output, why: &str| {
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(text(&o).contains(why), "expected {why:?}: {}", text(&o));
    };

    // Nothing attached yet.
    refused(verify_image(&[]), "has no attestation");

    let bundle = w.join("demo.bundle.json");
    attest(&image, &key, &bundle, &["--push", "--insecure"]);
    let listed = ok(cairn(&["referrers", &image, "--insecure"]));
    assert!(listed.contains("1 referrer (tag schema)"), "{listed}");
    assert!(
        listed.contains("application/vnd.dev.sigstore.bundle.v0.3+json"),
        "{listed}"
    );
    assert!(listed.contains("https://spdx.dev/Document"), "{listed}");
    let json: serde_json::Value =
        serde_json::from_str(&ok(cairn(&["referrers", &image, "--insecure", "--json"]))).unwrap();
    let m = &json[0]["manifests"][0];
    assert_eq!(
        m["annotations"]["dev.sigstore.bundle.content"],
        "dsse-envelope"
    );

    // The image's referrer, its key fetched through TUF, its SBOM compared with a rescan.
    let out = ok(verify_image(&["--rescan"]));
    assert!(out.contains("VERIFIED: referrer sha256:"), "{out}");
    assert!(out.contains("OK: "), "{out}");

    // A swapped SBOM is refused.
    let bad = w.join("swapped.json");
    swapped(&bundle, &bad);
    let o = verify_image(&["--bundle", s(&bad)]);
    assert!(text(&o).contains("REFUSED:"), "{}", text(&o));
    refused(o, "no signature verifies");

    // A genuine attestation of another image is refused for this one: wrong subject.
    let other_bundle = w.join("alpine.bundle.json");
    attest(&other, &key, &other_bundle, &["--insecure"]);
    refused(
        verify_image(&["--bundle", s(&other_bundle)]),
        "wrong subject",
    );

    // A bundle signed by a key that was never published is refused.
    let (rogue, _) = key_pair(w, "rogue", "ecdsa-p256");
    let rogue_bundle = w.join("rogue.bundle.json");
    attest(&image, &rogue, &rogue_bundle, &["--insecure"]);
    refused(
        verify_image(&["--bundle", s(&rogue_bundle)]),
        "is not published through TUF",
    );

    // The key revoked (removed from the TUF target): the pushed attestation is refused.
    let out = ok(cairn(&[
        "publish-key",
        s(&public),
        "--repo",
        s(&repo),
        "--keys",
        s(&keys),
        "--revoke",
    ]));
    assert!(out.contains("revoked attestation-keys/"), "{out}");
    refused(verify_image(&[]), "revoked, or never published");

    // Published again, then the timestamp expires: a freeze attack, refused.
    ok(cairn(&[
        "publish-key",
        s(&public),
        "--repo",
        s(&repo),
        "--keys",
        s(&keys),
    ]));
    ok(verify_image(&[]));
    ok(cairn(&[
        "tuf",
        "bump",
        s(&repo),
        "--keys",
        s(&keys),
        "--expires",
        "timestamp=1s",
    ]));
    std::thread::sleep(std::time::Duration::from_millis(2100));
    refused(verify_image(&[]), "freeze attack refused");
}

/// Malformed and hostile bundles: each refused with a reason and exit 1, never a panic.
#[test]
fn hostile_bundles_are_refused_with_a_reason() {
    let work = tempfile::tempdir().unwrap();
    let (key, public) = key_pair(work.path(), "k", "ecdsa-p256");
    let good = work.path().join("good.json");
    attest(&demo_oci(), &key, &good, &[]);
    let b = bundle_json(&good);
    let sig = b["dsseEnvelope"]["signatures"][0].clone();
    let enc = |v: &serde_json::Value| {
        base64::engine::general_purpose::STANDARD.encode(serde_json::to_vec(v).unwrap())
    };
    let mut cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "not json",
            b"{not json".to_vec(),
            "not a Sigstore bundle or DSSE envelope",
        ),
        (
            "deep",
            format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes(),
            "not a Sigstore bundle or DSSE envelope",
        ),
    ];
    let mut many = b.clone();
    many["dsseEnvelope"]["signatures"] = serde_json::Value::Array(vec![sig.clone(); 100]);
    cases.push((
        "100 signatures",
        serde_json::to_vec(&many).unwrap(),
        "at most 64",
    ));
    let mut nob64 = b.clone();
    nob64["dsseEnvelope"]["payload"] = "%%%".into();
    cases.push((
        "payload not base64",
        serde_json::to_vec(&nob64).unwrap(),
        "not base64",
    ));
    let mut cert = b.clone();
    cert["verificationMaterial"] =
        serde_json::json!({"certificate": {"rawBytes": "AAAA"}, "tlogEntries": []});
    cases.push((
        "keyless",
        serde_json::to_vec(&cert).unwrap(),
        "certificate (keyless)",
    ));
    let mut media = b.clone();
    media["mediaType"] = "application/vnd.dev.sigstore.bundle.v9+json".into();
    cases.push((
        "unknown media type",
        serde_json::to_vec(&media).unwrap(),
        "unknown mediaType",
    ));
    let mut other_type = b.clone();
    other_type["dsseEnvelope"]["payloadType"] = "text/plain".into();
    cases.push((
        "payload type",
        serde_json::to_vec(&other_type).unwrap(),
        "no signature verifies",
    ));
    let mut no_subject = b.clone();
    no_subject["dsseEnvelope"]["payload"] = enc(&serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1", "subject": [],
        "predicateType": "https://spdx.dev/Document", "predicate": {}
    }))
    .into();
    cases.push((
        "no subject, re-signed by nobody",
        serde_json::to_vec(&no_subject).unwrap(),
        "no signature verifies",
    ));
    for (what, bytes, expect) in cases {
        let f = work.path().join("case.json");
        std::fs::write(&f, &bytes).unwrap();
        let o = verify(&[&demo_oci(), "--bundle", s(&f), "--key", s(&public)]);
        let t = text(&o);
        assert_eq!(o.status.code(), Some(1), "{what}: {t}");
        assert!(!t.contains("panicked"), "{what}: {t}");
        assert!(t.contains(expect), "{what}: expected {expect:?} in {t}");
    }
    // A public key file that is not one.
    let o = verify(&[&demo_oci(), "--bundle", s(&good), "--key", s(&key)]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("is not a public key"), "{}", text(&o));
    // --push of a local image is refused before anything is scanned or written.
    let out = work.path().join("pushed.json");
    let o = cairn(&[
        "attest",
        &demo_oci(),
        "--key",
        s(&key),
        "--push",
        "-o",
        s(&out),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("is not an image in a registry"),
        "{}",
        text(&o)
    );
    assert!(
        !out.exists(),
        "nothing is written when the push cannot happen"
    );
}

/// A key in cosign's encrypted format (written by tests/attest/cosign_key.py with PyNaCl
/// and hashlib's scrypt, not by cairn) signs; the wrong password is refused.
#[test]
fn cosign_format_keys_sign() {
    let work = tempfile::tempdir().unwrap();
    let prefix = work.path().join("cosign");
    let o = Command::new(python())
        .arg(root().join("tests/attest/cosign_key.py"))
        .arg(&prefix)
        .arg("correct horse")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let (key, public) = (prefix.with_extension("key"), prefix.with_extension("pub"));
    let bundle = work.path().join("b.json");
    let attest_with = |password: &str| {
        Command::new(env!("CARGO_BIN_EXE_cairn"))
            .args([
                "attest",
                &demo_oci(),
                "--key",
                s(&key),
                "-o",
                s(&bundle),
                "-q",
            ])
            .env("COSIGN_PASSWORD", password)
            .output()
            .unwrap()
    };
    let o = attest_with("wrong");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("wrong password for the cosign key"),
        "{}",
        text(&o)
    );
    assert!(!bundle.exists());
    ok(attest_with("correct horse"));
    let out = ok(verify(&[
        &demo_oci(),
        "--bundle",
        s(&bundle),
        "--key",
        s(&public),
    ]));
    assert!(out.starts_with("VERIFIED: "), "{out}");
    ok(sslib(&["verify", s(&bundle), s(&public)]));
}

/// `--sbom DOC` attests a given document about any file, the subject being the file's
/// sha256; the file changed, the attestation no longer matches it.
#[test]
fn a_given_sbom_about_a_plain_file() {
    let work = tempfile::tempdir().unwrap();
    let (key, public) = key_pair(work.path(), "k", "ed25519");
    let artifact = work.path().join("release.tar.gz");
    std::fs::write(&artifact, b"not really a tarball, but bytes to name\n").unwrap();
    let doc = work.path().join("release.cdx.json");
    let cdx = ok(cairn(&["sbom", &demo_oci(), "-o", "cyclonedx-json", "-q"]));
    std::fs::write(&doc, cdx).unwrap();
    let bundle = work.path().join("release.bundle.json");
    attest(s(&artifact), &key, &bundle, &["--sbom", s(&doc)]);
    let statement: serde_json::Value =
        serde_json::from_slice(&payload(&bundle_json(&bundle))).unwrap();
    assert_eq!(statement["predicateType"], "https://cyclonedx.org/bom");
    assert_eq!(statement["subject"][0]["name"], "release.tar.gz");
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
        std::fs::read(&artifact).unwrap(),
    ));
    assert_eq!(statement["subject"][0]["digest"]["sha256"], sha.as_str());
    let out = ok(verify(&[
        s(&artifact),
        "--bundle",
        s(&bundle),
        "--key",
        s(&public),
    ]));
    assert!(out.starts_with("VERIFIED: "), "{out}");
    std::fs::write(&artifact, b"changed\n").unwrap();
    let o = verify(&[s(&artifact), "--bundle", s(&bundle), "--key", s(&public)]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("wrong subject"), "{}", text(&o));
}

/// An attestation about the image index (what a tag names for a multi-platform image, and
/// what cosign attests then) verifies for the platform image chosen from it; one about
/// another image still does not.
#[test]
fn an_attestation_of_the_index_covers_the_image_chosen_from_it() {
    let work = tempfile::tempdir().unwrap();
    let layout = common::multi_platform(work.path());
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let index_digest = index["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let (key, public) = key_pair(work.path(), "k", "ecdsa-p256");
    let spdx = ok(cairn(&["sbom", &demo_oci(), "-o", "spdx-json", "-q"]));
    let statement = |digest: &str| {
        serde_json::json!({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "multi", "digest": {"sha256": digest.trim_start_matches("sha256:")}}],
            "predicateType": "https://spdx.dev/Document",
            "predicate": serde_json::from_str::<serde_json::Value>(&spdx).unwrap(),
        })
    };
    let image = s(&layout).to_string();
    for (digest, expect_ok) in [
        (index_digest.as_str(), true),
        (
            "sha256:0000000000000000000000000000000000000000000000000000000000000000",
            false,
        ),
    ] {
        let st = work.path().join("statement.json");
        std::fs::write(&st, serde_json::to_vec(&statement(digest)).unwrap()).unwrap();
        let env = work.path().join("env.json");
        ok(sslib(&["sign", s(&key), s(&st), s(&env)]));
        let o = verify(&[&image, "--bundle", s(&env), "--key", s(&public)]);
        if expect_ok {
            let out = ok(o);
            assert!(out.contains(&format!("subject {index_digest}")), "{out}");
        } else {
            assert_eq!(o.status.code(), Some(1), "{}", text(&o));
            assert!(text(&o).contains("wrong subject"), "{}", text(&o));
            assert!(
                text(&o).contains(&format!(" or {index_digest}")),
                "{}",
                text(&o)
            );
        }
    }
}
