//! Private key files (`cairn_tuf::keyfile`): generation, signing, PKCS#8 PEM
//! round trips with and without a passphrase, the errors a person sees, hostile
//! input, file modes, and interoperability with securesystemslib/cryptography
//! (`tests/data/keyfile_interop.py`, run with the project venv's Python) and,
//! where it is installed, the `openssl` command.

#[path = "../../../fixtures/require.rs"]
mod require;

use cairn_tuf::keyfile::{self, KeyFileError, KeyType, PrivateKey};
use cairn_tuf::keys::Key;
use cairn_tuf::sign::Signer;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const MSG: &[u8] = b"{\"signed\":{\"_type\":\"root\"}}";
const PASS: &[u8] = b"correct horse battery staple";

/// One generated key of each type, shared (RSA generation and each PBKDF2
/// derivation cost real time).
fn keys() -> &'static [PrivateKey] {
    static KEYS: OnceLock<Vec<PrivateKey>> = OnceLock::new();
    KEYS.get_or_init(|| {
        KeyType::ALL
            .into_iter()
            .map(|t| keyfile::generate(t).unwrap())
            .collect()
    })
}

fn sig_hex(key: &dyn Signer, msg: &[u8]) -> String {
    hex::encode(key.sign(msg).unwrap())
}

#[test]
fn key_type_names_parse() {
    for t in KeyType::ALL {
        assert_eq!(t.name().parse::<KeyType>().unwrap(), t);
        assert_eq!(t.to_string(), t.name());
    }
    assert!(matches!(
        "rsa".parse::<KeyType>(),
        Err(KeyFileError::UnsupportedKey(_))
    ));
}

#[test]
fn generated_keys_sign_what_key_verify_accepts() {
    let expected = [
        ("ed25519", "ed25519"),
        ("ecdsa", "ecdsa-sha2-nistp256"),
        ("rsa", "rsassa-pss-sha256"),
    ];
    for (key, (keytype, scheme)) in keys().iter().zip(expected) {
        let public: &Key = Signer::public_key(key);
        assert_eq!(
            (public.keytype.as_str(), public.scheme.as_str()),
            (keytype, scheme)
        );
        assert_eq!(key.keyid(), public.key_id().unwrap());
        assert_eq!(Signer::keyid(key), key.keyid());
        let sig = sig_hex(key, MSG);
        public.verify(MSG, &sig).unwrap();
        assert!(public.verify(b"another message", &sig).is_err());
        // Another key of the same type does not verify it.
        let other = keyfile::generate(key.key_type()).unwrap();
        assert!(other.public_key().verify(MSG, &sig).is_err());
        assert_ne!(other.keyid(), key.keyid());
    }
}

#[test]
fn signers_are_usable_as_trait_objects_across_threads() {
    let signers: Vec<&dyn Signer> = keys().iter().map(|k| k as &dyn Signer).collect();
    std::thread::scope(|s| {
        for signer in signers {
            s.spawn(move || {
                signer
                    .public_key()
                    .verify(MSG, &sig_hex(signer, MSG))
                    .unwrap()
            });
        }
    });
}

#[test]
fn public_keys_have_the_securesystemslib_form() {
    for key in keys() {
        let public = key.public_key().keyval.public.as_deref().unwrap();
        let pem = key.public_key_pem();
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{pem}");
        assert!(pem.ends_with("\n-----END PUBLIC KEY-----\n"), "{pem}");
        assert!(pem.lines().all(|l| l.len() <= 64), "{pem}");
        match key.key_type() {
            KeyType::Ed25519 => {
                assert_eq!(public.len(), 64);
                assert!(public.bytes().all(|b| b.is_ascii_hexdigit()));
            }
            _ => assert_eq!(public, pem),
        }
    }
    // The exact set of fields securesystemslib hashes for the key id.
    let key = serde_json::to_value(keys()[1].public_key()).unwrap();
    assert_eq!(
        key.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["keytype", "keyval", "scheme"]
    );
}

#[test]
fn unencrypted_pem_round_trips() {
    for key in keys() {
        let pem = key.to_pem(None).unwrap();
        assert!(
            pem.starts_with("-----BEGIN PRIVATE KEY-----\n"),
            "{}",
            &*pem
        );
        let back = PrivateKey::from_pem(pem.as_bytes(), None).unwrap();
        assert_eq!(back.key_type(), key.key_type());
        assert_eq!(back.keyid(), key.keyid());
        assert_eq!(back.public_key(), key.public_key());
        key.public_key().verify(MSG, &sig_hex(&back, MSG)).unwrap();
        // Written the same way again, and a passphrase for a plain key is unused.
        assert_eq!(*back.to_pem(None).unwrap(), *pem);
        let again = PrivateKey::from_pem(pem.as_bytes(), Some(b"unused")).unwrap();
        assert_eq!(again.keyid(), key.keyid());
        // Surrounding whitespace is fine.
        let padded = format!("\n  {}\n\n", &*pem);
        PrivateKey::from_pem(padded.as_bytes(), None).unwrap();
    }
}

#[test]
fn encrypted_pem_round_trips_and_names_passphrase_errors() {
    for key in keys() {
        let pem = key.to_pem(Some(PASS)).unwrap();
        assert!(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
        assert_ne!(
            *key.to_pem(Some(PASS)).unwrap(),
            *pem,
            "salt and IV are random"
        );
        let back = PrivateKey::from_pem(pem.as_bytes(), Some(PASS)).unwrap();
        assert_eq!(back.keyid(), key.keyid());
        assert_eq!(back.public_key(), key.public_key());
        key.public_key().verify(MSG, &sig_hex(&back, MSG)).unwrap();

        let wrong = PrivateKey::from_pem(pem.as_bytes(), Some(b"Tr0ub4dor&3")).unwrap_err();
        assert!(matches!(wrong, KeyFileError::WrongPassphrase), "{wrong:?}");
        let none = PrivateKey::from_pem(pem.as_bytes(), None).unwrap_err();
        assert!(matches!(none, KeyFileError::NeedsPassphrase), "{none:?}");
        assert_eq!(
            none.to_string(),
            "the private key is encrypted: a passphrase is needed"
        );
    }
}

#[test]
fn encryption_costs_a_fraction_of_a_second() {
    let key = &keys()[0];
    let start = Instant::now();
    let pem = key.to_pem(Some(PASS)).unwrap();
    let encrypt = start.elapsed();
    let start = Instant::now();
    PrivateKey::from_pem(pem.as_bytes(), Some(PASS)).unwrap();
    let decrypt = start.elapsed();
    eprintln!(
        "PBKDF2 x{}: encrypt {encrypt:?}, decrypt {decrypt:?}",
        keyfile::PBKDF2_ITERATIONS
    );
    // Generous: a loaded CI machine; the figure on an idle one is ~0.1-0.3 s.
    assert!(decrypt < Duration::from_secs(3), "{decrypt:?}");
}

/// A PKCS#8 key in PEM from its DER.
fn pem(label: &str, der: &[u8]) -> String {
    pem_rfc7468::encode_string(label, pem_rfc7468::LineEnding::LF, der).unwrap()
}

/// A 1024-bit RSA key (written by python's cryptography for this test).
const RSA_1024: &str = "-----BEGIN PRIVATE KEY-----
MIICdgIBADANBgkqhkiG9w0BAQEFAASCAmAwggJcAgEAAoGBAN1WZt7zevCTw72a
4uV1iG2Pp1H8ILH/16EkG3AbAil5Pc8ouVgCDea9aItsS1NlIAJHHM0I+2jpDpbf
mCCDC6gmSuc8k7z2EHsAtLNSSW8h4KEYMJv12+JMEByN5C3i2eki44pnk5NNWbyN
t2DsgtmHC0CZ8L6Q2WjbC31mG0QPAgMBAAECgYA+J9lTmsRXcudxA2HcVhktyz2N
hGQaGGKRWfZqkOsWgnmdBy6lTE5jEaWeIZc1oBxRB29LFM6lM21paPjriGFpHTuD
GOnVS+qZLPAc6cm6OcSbEgvvXt9/7q9/fNkz0lfWQdaavXc7Dieo7cXFdfw41Yks
KIquAd34Ye7TRA72wQJBAPQU9BP2eWfLCY/5dKeHgAoNEyu3kdVsRVMYhFPBSqcK
Bqnyk0yfIRq1DDDiDwh3vVZIv3LMstW9ty4wh728FxcCQQDoJSRWq93SQ9B65Uhu
6GGNPkKpVD3jeF2DL18UdVY/fTH1c6ffcr3nmkwGDYbrTxAl04/8Ja34Qca1YRdV
4dXJAkA2Y+Tv/eCX7Hq5BpGkM2Go27kF6OYqdPINzkzOjSghiO5rOI7yaBNsbCPH
UNigvm4GqDdhUZQYZSpItK/K6/sJAkBE66oDNVlQ8KM3qVS84K79oQtnfEQ3gWe5
59mBmGh3xvKLHcAsPcOVvCBv95ojyEBSCqKHyKQCvXyCIwYrkDXJAkEA2P4s3qpS
ILVrcHdcyh2jomtOXaXxkE0im2OYwpDM9KvDVFZ5w9D3360hL4BfL9HJzPFevP4B
0V/aU8jztA1wrA==
-----END PRIVATE KEY-----
";

fn unsupported(pem: &str, passphrase: Option<&[u8]>) -> String {
    match PrivateKey::from_pem(pem.as_bytes(), passphrase) {
        Err(KeyFileError::UnsupportedKey(why)) => why,
        other => panic!("expected UnsupportedKey, got {other:?}"),
    }
}

#[test]
fn unsupported_keys_are_named() {
    use aws_lc_rs::signature::{EcdsaKeyPair, ECDSA_P384_SHA384_ASN1_SIGNING};
    let p384 = EcdsaKeyPair::generate(&ECDSA_P384_SHA384_ASN1_SIGNING)
        .unwrap()
        .to_pkcs8v1()
        .unwrap();
    let why = unsupported(&pem("PRIVATE KEY", p384.as_ref()), None);
    assert!(why.contains("P-384"), "{why}");

    let why = unsupported(RSA_1024, None);
    assert!(why.contains("1024-bit RSA"), "{why}");
    assert!(why.contains("2048"), "{why}");

    let public = keys()[1].public_key_pem().to_string();
    assert!(unsupported(&public, None).contains("public key"));
    let pkcs1 = RSA_1024.replace("PRIVATE KEY", "RSA PRIVATE KEY");
    assert!(unsupported(&pkcs1, None).contains("openssl pkcs8 -topk8"));
    let ssh = pem("OPENSSH PRIVATE KEY", b"openssh-key-v1\0");
    assert!(unsupported(&ssh, None).contains("ssh-keygen"));
    assert!(unsupported(&pem("CERTIFICATE", b"\x30\x00"), None).contains("CERTIFICATE"));
}

#[test]
fn ed25519_pkcs8_v2_with_the_public_key_is_read() {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
    let v2 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
    let pair = Ed25519KeyPair::from_pkcs8(v2.as_ref()).unwrap();
    let key = PrivateKey::from_pem(pem("PRIVATE KEY", v2.as_ref()).as_bytes(), None).unwrap();
    let raw: [u8; 32] = pair.public_key().as_ref().try_into().unwrap();
    assert_eq!(key.public_key(), &Key::ed25519(&raw));
    // Written back as v1, which every reader takes.
    let v1 = key.to_pem(None).unwrap();
    let again = PrivateKey::from_pem(v1.as_bytes(), None).unwrap();
    assert_eq!(again.keyid(), key.keyid());
}

/// An `EncryptedPrivateKeyInfo` PEM with chosen PBES2 parameters.
fn encrypt_with(key: &PrivateKey, params: pkcs8::pkcs5::pbes2::Parameters<'_>) -> String {
    let plain = key.to_pem(None).unwrap();
    let (_, der) = pem_rfc7468::decode_vec(plain.as_bytes()).unwrap();
    let info = pkcs8::PrivateKeyInfo::try_from(der.as_slice()).unwrap();
    let doc = info.encrypt_with_params(params, PASS).unwrap();
    pem("ENCRYPTED PRIVATE KEY", doc.as_bytes())
}

#[test]
fn other_pbes2_parameters_are_read() {
    use pkcs8::pkcs5::{pbes2, scrypt};
    let key = &keys()[0];
    let salt = [7u8; 16];
    let iv = [9u8; 16];
    let cheap = pbes2::Parameters::pbkdf2_sha256_aes128cbc(1000, &salt, &iv).unwrap();
    let back = PrivateKey::from_pem(encrypt_with(key, cheap).as_bytes(), Some(PASS)).unwrap();
    assert_eq!(back.keyid(), key.keyid());
    let params = scrypt::Params::new(10, 8, 1, 32).unwrap();
    let scrypt = pbes2::Parameters::scrypt_aes256cbc(params, &salt, &iv).unwrap();
    let back = PrivateKey::from_pem(encrypt_with(key, scrypt).as_bytes(), Some(PASS)).unwrap();
    assert_eq!(back.keyid(), key.keyid());
}

/// A well-formed `EncryptedPrivateKeyInfo` whose KDF asks for too much work
/// (built by hand: encrypting with those parameters would take the time the
/// reader refuses to spend).
fn costly(kdf: pkcs8::pkcs5::pbes2::Kdf<'_>) -> String {
    use pkcs8::der::Encode;
    use pkcs8::pkcs5::{pbes2, EncryptionScheme};
    let iv = [1u8; 16];
    let params = pbes2::Parameters {
        kdf,
        encryption: pbes2::EncryptionScheme::Aes256Cbc { iv: &iv },
    };
    let info = pkcs8::EncryptedPrivateKeyInfo {
        encryption_algorithm: EncryptionScheme::Pbes2(params),
        encrypted_data: &[0u8; 48],
    };
    pem("ENCRYPTED PRIVATE KEY", &info.to_der().unwrap())
}

#[test]
fn key_derivation_costs_are_bounded() {
    use pkcs8::pkcs5::pbes2::{Kdf, Pbkdf2Params, Pbkdf2Prf, ScryptParams};
    let salt = [3u8; 16];
    let start = Instant::now();
    let pbkdf2 = Kdf::Pbkdf2(Pbkdf2Params {
        salt: &salt,
        iteration_count: 90_000_000,
        key_length: None,
        prf: Pbkdf2Prf::HmacWithSha256,
    });
    let why = unsupported(&costly(pbkdf2), Some(PASS));
    assert!(why.contains("90000000 rounds"), "{why}");
    let scrypt = Kdf::Scrypt(ScryptParams {
        salt: &salt,
        cost_parameter: 1 << 22,
        block_size: 8,
        parallelization: 1,
        key_length: Some(32),
    });
    let why = unsupported(&costly(scrypt), Some(PASS));
    assert!(why.contains("scrypt"), "{why}");
    assert!(start.elapsed() < Duration::from_secs(1));
}

/// A small deterministic generator (xorshift64*), so a failure reproduces.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    use pkcs8::pkcs5::pbes2;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for input in [
        &b""[..],
        b"   \n",
        b"\xff\xfe\x00",
        b"-----BEGIN PRIVATE KEY-----\n",
    ] {
        assert!(PrivateKey::from_pem(input, None).is_err());
    }
    let not_pem = PrivateKey::from_pem(b"hello world", None).unwrap_err();
    assert!(matches!(not_pem, KeyFileError::NotPem), "{not_pem:?}");
    for _ in 0..500 {
        let len = rng.below(300);
        let bytes = rng.bytes(len);
        assert!(PrivateKey::from_pem(&bytes, Some(PASS)).is_err());
        // Random DER inside a well-formed PEM frame, plain and "encrypted".
        for label in ["PRIVATE KEY", "ENCRYPTED PRIVATE KEY"] {
            let framed = pem(label, &bytes);
            assert!(PrivateKey::from_pem(framed.as_bytes(), Some(PASS)).is_err());
        }
    }
    // Every truncation and many corruptions of real files, plain and encrypted
    // (with a cheap KDF so each attempt is fast).
    let salt = [5u8; 16];
    let iv = [6u8; 16];
    for key in keys() {
        let plain = key.to_pem(None).unwrap().to_string();
        let cheap = pbes2::Parameters::pbkdf2_sha256_aes256cbc(10, &salt, &iv).unwrap();
        let encrypted = encrypt_with(key, cheap);
        for text in [&plain, &encrypted] {
            let (label, der) = pem_rfc7468::decode_vec(text.as_bytes()).unwrap();
            let step = (text.len() / 150).max(1);
            // (Cutting only the final newline leaves a whole file.)
            for cut in (0..text.trim_end().len()).step_by(step) {
                assert!(PrivateKey::from_pem(&text.as_bytes()[..cut], Some(PASS)).is_err());
            }
            for cut in 0..der.len() {
                let short = pem(label, &der[..cut]);
                assert!(PrivateKey::from_pem(short.as_bytes(), Some(PASS)).is_err());
            }
            for _ in 0..300 {
                let mut bad = der.clone();
                for _ in 0..=rng.below(3) {
                    let at = rng.below(bad.len());
                    bad[at] ^= 1 << rng.below(8);
                }
                // A flip may land in a field nothing checks (a salt byte: then
                // the passphrase is "wrong"); it must never panic.
                let _ = PrivateKey::from_pem(pem(label, &bad).as_bytes(), Some(PASS));
            }
        }
    }
}

#[test]
fn key_files_are_private_and_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    for key in keys() {
        let path = dir.path().join(format!("{}.pem", key.key_type()));
        keyfile::write_key_file(&path, &key.to_pem(Some(PASS)).unwrap()).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{mode:o}");
        }
        let before = std::fs::read(&path).unwrap();
        let err = keyfile::write_key_file(&path, &key.to_pem(None).unwrap()).unwrap_err();
        match &err {
            KeyFileError::Io { source, .. } => {
                assert_eq!(source.kind(), std::io::ErrorKind::AlreadyExists)
            }
            other => panic!("expected Io, got {other:?}"),
        }
        assert!(err.to_string().contains(&*path.to_string_lossy()));
        assert_eq!(std::fs::read(&path).unwrap(), before, "left as it was");
        let back = keyfile::read_key_file(&path, Some(PASS)).unwrap();
        assert_eq!(back.keyid(), key.keyid());
        assert!(matches!(
            keyfile::read_key_file(&path, None),
            Err(KeyFileError::NeedsPassphrase)
        ));
    }
    let missing = keyfile::read_key_file(&dir.path().join("nope.pem"), None).unwrap_err();
    assert!(matches!(missing, KeyFileError::Io { .. }), "{missing:?}");
    let big = dir.path().join("big.pem");
    std::fs::write(&big, vec![b'A'; 1 << 20]).unwrap();
    assert!(matches!(
        keyfile::read_key_file(&big, None),
        Err(KeyFileError::Malformed(_))
    ));
}

/// `openssl` reads cairn's encrypted files and derives the same public key,
/// and cairn reads OpenSSL's scrypt- and PBKDF2-encrypted PKCS#8. Skipped
/// where the `openssl` command is not installed (it is not a project
/// validator; python's cryptography is, below).
#[test]
fn openssl_and_cairn_read_each_others_files() {
    let Ok(out) = std::process::Command::new("openssl")
        .arg("version")
        .output()
    else {
        eprintln!("skipping: no openssl command");
        return;
    };
    assert!(out.status.success());
    let dir = tempfile::tempdir().unwrap();
    let pass = std::str::from_utf8(PASS).unwrap();
    for key in keys() {
        let path = dir.path().join(format!("{}.pem", key.key_type()));
        keyfile::write_key_file(&path, &key.to_pem(Some(PASS)).unwrap()).unwrap();
        let out = std::process::Command::new("openssl")
            .args(["pkey", "-pubout", "-passin"])
            .arg(format!("pass:{pass}"))
            .arg("-in")
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8(out.stdout).unwrap(), key.public_key_pem());

        for (name, extra) in [
            ("scrypt", &["-scrypt"][..]),
            ("pbkdf2", &["-v2", "aes-128-cbc"]),
        ] {
            let out_path = dir.path().join(format!("{}.{name}.pem", key.key_type()));
            let out = std::process::Command::new("openssl")
                .args(["pkcs8", "-topk8"])
                .args(extra)
                .arg("-passin")
                .arg(format!("pass:{pass}"))
                .arg("-passout")
                .arg(format!("pass:{pass}"))
                .arg("-in")
                .arg(&path)
                .arg("-out")
                .arg(&out_path)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let back = keyfile::read_key_file(&out_path, Some(PASS)).unwrap();
            assert_eq!(back.keyid(), key.keyid(), "{name}");
        }
    }
}

/// The venv's Python with securesystemslib and cryptography, or `None` when
/// it is missing and the test skips (see `require`).
fn python() -> Option<PathBuf> {
    let py = require::venv_python();
    let present = py.exists()
        && std::process::Command::new(&py)
            .args(["-c", "import securesystemslib.signer, cryptography"])
            .status()
            .is_ok_and(|s| s.success());
    let what = format!(
        "securesystemslib and cryptography in the venv's {} (run scripts/setup, or set CAIRN_VENV)",
        py.display()
    );
    require::require(&what, present).then_some(py)
}

/// Runs `keyfile_interop.py COMMAND` with `jobs` on stdin; its JSON answer.
fn interop(python: &Path, command: &str, jobs: &Value) -> Vec<Value> {
    use std::io::Write;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/keyfile_interop.py");
    let mut child = std::process::Command::new(python)
        .arg(&script)
        .arg(command)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("running {}: {e}", python.display()));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(jobs.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "keyfile_interop.py {command} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn securesystemslib_loads_cairn_keys_with_the_same_key_ids() {
    let Some(python) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut jobs = Vec::new();
    let mut expected = Vec::new();
    for key in keys() {
        for passphrase in [None, Some(PASS)] {
            let suffix = if passphrase.is_some() { "enc" } else { "plain" };
            let path = dir.path().join(format!("{}.{suffix}.pem", key.key_type()));
            keyfile::write_key_file(&path, &key.to_pem(passphrase).unwrap()).unwrap();
            jobs.push(json!({
                "path": path,
                "passphrase": passphrase.map(|p| std::str::from_utf8(p).unwrap()),
                "msg": hex::encode(MSG),
                "sig": sig_hex(key, MSG),
                "keyid": key.keyid(),
                "key": key.public_key(),
            }));
            expected.push(json!({"keyid": key.keyid(), "key": key.public_key()}));
        }
    }
    let got = interop(&python, "load", &Value::Array(jobs));
    assert_eq!(got, expected);
}

#[test]
fn cairn_loads_cryptography_keys_and_securesystemslib_verifies() {
    let Some(python) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let pass = std::str::from_utf8(PASS).unwrap();
    let mut jobs = Vec::new();
    for t in ["ed25519", "ecdsa", "rsa"] {
        for passphrase in [None, Some(pass)] {
            let suffix = if passphrase.is_some() { "enc" } else { "plain" };
            let path = dir.path().join(format!("{t}.{suffix}.pem"));
            jobs.push(json!({"type": t, "path": path, "passphrase": passphrase}));
        }
    }
    let made = interop(&python, "make", &Value::Array(jobs.clone()));
    let mut checks = Vec::new();
    for (job, python_key) in jobs.iter().zip(&made) {
        let path = Path::new(job["path"].as_str().unwrap());
        let passphrase = job["passphrase"].as_str().map(str::as_bytes);
        if passphrase.is_some() {
            assert!(std::fs::read_to_string(path)
                .unwrap()
                .starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
            assert!(matches!(
                keyfile::read_key_file(path, None),
                Err(KeyFileError::NeedsPassphrase)
            ));
            assert!(matches!(
                keyfile::read_key_file(path, Some(b"wrong")),
                Err(KeyFileError::WrongPassphrase)
            ));
        }
        let key = keyfile::read_key_file(path, passphrase).unwrap();
        assert_eq!(key.keyid(), python_key["keyid"].as_str().unwrap());
        assert_eq!(
            serde_json::to_value(key.public_key()).unwrap(),
            python_key["key"]
        );
        checks.push(json!({
            "keyid": key.keyid(),
            "key": key.public_key(),
            "msg": hex::encode(MSG),
            "sig": sig_hex(&key, MSG),
        }));
    }
    let verified = interop(&python, "verify", &Value::Array(checks));
    assert_eq!(verified, vec![Value::Bool(true); made.len()]);
}
