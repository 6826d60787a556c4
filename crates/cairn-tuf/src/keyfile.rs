//! Private keys in PKCS#8 PEM files, optionally passphrase-encrypted, behind
//! the [`Signer`] trait.
//!
//! The files are what OpenSSL, python's `cryptography` and securesystemslib's
//! `CryptoSigner` read and write:
//!
//! - unencrypted: `-----BEGIN PRIVATE KEY-----`, a PKCS#8 v1 `PrivateKeyInfo`;
//! - encrypted: `-----BEGIN ENCRYPTED PRIVATE KEY-----`, a PKCS#8
//!   `EncryptedPrivateKeyInfo` with PBES2. cairn writes PBKDF2-HMAC-SHA256
//!   ([`PBKDF2_ITERATIONS`] rounds, 16-byte random salt) and AES-256-CBC
//!   (random IV), which OpenSSL and `cryptography` decrypt (tested with
//!   OpenSSL 3.0 and cryptography 50; `BestAvailableEncryption` writes the
//!   same scheme with 2,048 rounds). Reading also accepts scrypt and AES-128/192-CBC, within
//!   [`MAX_PBKDF2_ITERATIONS`] and [`MAX_SCRYPT_MEMORY`] so a hostile file
//!   cannot make a command spin or allocate without bound.
//!
//! Three key types, with the public keys securesystemslib derives from the same
//! private key (so key ids agree with python-tuf's):
//!
//! | [`KeyType`] | TUF keytype / scheme | `keyval.public` | signature |
//! |---|---|---|---|
//! | `ed25519` | `ed25519` / `ed25519` | 32 bytes, hex | 64 bytes |
//! | `ecdsa-p256` | `ecdsa` / `ecdsa-sha2-nistp256` | SubjectPublicKeyInfo PEM | DER |
//! | `rsa-pss` | `rsa` / `rsassa-pss-sha256` | SubjectPublicKeyInfo PEM | raw, salt = 32 |
//!
//! The PEM public keys are what `cryptography` writes: 64-column base64, LF
//! line ends and a final newline. RSA keys are generated with 3,072 bits and
//! read from 2,048 to 8,192 bits. Signing, key generation and PKCS#8 parsing
//! are aws-lc-rs's; the PBES2 layer is RustCrypto's `pkcs8`/`pkcs5`.
//!
//! Secrets (the decrypted PKCS#8 bytes and the unencrypted PEM text) are held
//! in zeroize-on-drop buffers; the key pairs themselves live in aws-lc, which
//! cleanses them when freed. Not wiped: the AES key pkcs5 0.7 derives on its
//! stack while encrypting or decrypting (upstream's TODO), and passphrases,
//! which the caller owns.

use crate::keys::{Key, KeyVal};
use crate::metadata::Unknown;
use crate::sign::{SignError, Signer};
use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair, ECDSA_P256_SHA256_ASN1_SIGNING,
    RSA_PSS_SHA256,
};
use pkcs8::der::asn1::{AnyRef, UintRef};
use pkcs8::der::{Decode, Reader, SliceReader, Tag, Tagged};
use pkcs8::pkcs5::{self, pbes2};
use pkcs8::{
    EncryptedPrivateKeyInfo, LineEnding, ObjectIdentifier, PrivateKeyInfo, SecretDocument,
};
use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use zeroize::Zeroizing;

/// PBKDF2-HMAC-SHA256 rounds for the files cairn encrypts: about 130 ms to
/// derive on one core of the project's machines (OWASP's 2023 figure for
/// PBKDF2-HMAC-SHA256 is 600,000), so a command that opens four keys spends
/// well under a second on them.
pub const PBKDF2_ITERATIONS: u32 = 600_000;

/// The most PBKDF2 rounds a file may ask for (RFC 8018's "especially critical
/// keys" figure); more is refused before any work is done.
pub const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;

/// The most memory (128 · r · N bytes) a file's scrypt parameters may ask for.
pub const MAX_SCRYPT_MEMORY: u64 = 256 << 20;

/// The largest key file [`read_key_file`] reads (an 8,192-bit RSA key in PEM is
/// under 7 KiB).
pub const MAX_KEY_FILE_SIZE: u64 = 64 << 10;

const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const OID_ED448: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.113");
const OID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const OID_P521: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");
const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_RSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");

const MIN_RSA_BITS: usize = 2048;
const MAX_RSA_BITS: usize = 8192;

/// Why a key file could not be read, written or made.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// The key is encrypted and no passphrase was given.
    #[error("the private key is encrypted: a passphrase is needed")]
    NeedsPassphrase,
    /// Decryption failed: the passphrase is wrong (or the file is damaged).
    #[error("wrong passphrase (or a damaged key file)")]
    WrongPassphrase,
    /// The input is not a PEM document.
    #[error("not a PEM private key file")]
    NotPem,
    /// A well-formed key or file this crate does not use.
    #[error("unsupported key: {0}")]
    UnsupportedKey(String),
    /// A PEM document whose contents do not parse.
    #[error("malformed private key: {0}")]
    Malformed(String),
    /// Reading or writing a key file.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The cryptographic library failed (key generation, random numbers).
    #[error("cryptography failed: {0}")]
    Crypto(String),
}

type Result<T, E = KeyFileError> = std::result::Result<T, E>;

/// The kinds of key cairn makes and reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// Ed25519 (`ed25519`).
    Ed25519,
    /// ECDSA on NIST P-256 with SHA-256 (`ecdsa-p256`).
    EcdsaP256,
    /// RSA, signing RSASSA-PSS with SHA-256 (`rsa-pss`).
    RsaPss,
}

impl KeyType {
    /// Every key type, in the order the names are listed.
    pub const ALL: [KeyType; 3] = [KeyType::Ed25519, KeyType::EcdsaP256, KeyType::RsaPss];

    /// The name [`KeyType::from_str`] parses: `ed25519`, `ecdsa-p256`, `rsa-pss`.
    pub fn name(self) -> &'static str {
        match self {
            KeyType::Ed25519 => "ed25519",
            KeyType::EcdsaP256 => "ecdsa-p256",
            KeyType::RsaPss => "rsa-pss",
        }
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for KeyType {
    type Err = KeyFileError;
    fn from_str(s: &str) -> Result<Self> {
        KeyType::ALL
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or_else(|| {
                KeyFileError::UnsupportedKey(format!(
                    "key type {s:?} (expected ed25519, ecdsa-p256 or rsa-pss)"
                ))
            })
    }
}

enum Pair {
    Ed25519(Ed25519KeyPair),
    Ecdsa(EcdsaKeyPair),
    Rsa(RsaKeyPair),
}

/// A private key read from or written to a PKCS#8 file, with its TUF public
/// key and key id (computed once).
pub struct PrivateKey {
    pair: Pair,
    /// The PKCS#8 v1 `PrivateKeyInfo` DER that [`PrivateKey::to_pem`] writes.
    pkcs8: SecretDocument,
    public: Key,
    public_pem: String,
    keyid: String,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("type", &self.key_type())
            .field("keyid", &self.keyid)
            .finish_non_exhaustive()
    }
}

/// A new random key of type `key_type` (see [`PrivateKey::generate`]).
pub fn generate(key_type: KeyType) -> Result<PrivateKey> {
    PrivateKey::generate(key_type)
}

fn crypto(what: &str) -> impl FnOnce(aws_lc_rs::error::Unspecified) -> KeyFileError + '_ {
    move |_| KeyFileError::Crypto(what.to_string())
}

impl PrivateKey {
    /// A new random key (RSA keys have 3,072 bits). An ed25519 seed comes
    /// straight from the operating system's generator: it is all the key
    /// is, and asking the library's generator instead would first seed it,
    /// which takes a CPU-jitter entropy collection of about 60 ms.
    pub fn generate(key_type: KeyType) -> Result<Self> {
        let pair = match key_type {
            KeyType::Ed25519 => {
                let mut seed = zeroize::Zeroizing::new([0u8; 32]);
                getrandom::getrandom(seed.as_mut()).map_err(|_| {
                    KeyFileError::Crypto("the system random generator failed".into())
                })?;
                Pair::Ed25519(
                    Ed25519KeyPair::from_seed_unchecked(seed.as_ref())
                        .map_err(|_| KeyFileError::Crypto("ed25519 key generation".into()))?,
                )
            }
            KeyType::EcdsaP256 => Pair::Ecdsa(
                EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING)
                    .map_err(crypto("P-256 key generation"))?,
            ),
            KeyType::RsaPss => Pair::Rsa(
                RsaKeyPair::generate(KeySize::Rsa3072).map_err(crypto("RSA key generation"))?,
            ),
        };
        Self::from_pair(pair)
    }

    /// Reads a PEM private key: PKCS#8 `PRIVATE KEY`, or `ENCRYPTED PRIVATE
    /// KEY` with `passphrase` (a passphrase given for an unencrypted key is
    /// not used). Surrounding whitespace is allowed; anything else is not.
    pub fn from_pem(pem: &[u8], passphrase: Option<&[u8]>) -> Result<Self> {
        let pem = pem.trim_ascii();
        let label = pem_rfc7468::decode_label(pem).map_err(|_| KeyFileError::NotPem)?;
        match label {
            "PRIVATE KEY" => {
                let der = decode_pem(pem)?;
                Self::from_pkcs8_der(&der)
            }
            "ENCRYPTED PRIVATE KEY" => {
                let passphrase = passphrase.ok_or(KeyFileError::NeedsPassphrase)?;
                let der = decode_pem(pem)?;
                let plain = decrypt(&der, passphrase)?;
                Self::from_pkcs8_der(&plain)
            }
            "RSA PRIVATE KEY" | "EC PRIVATE KEY" => Err(KeyFileError::UnsupportedKey(format!(
                "a {label:?} file (PKCS#1 or SEC 1): convert it to PKCS#8 with \
                 `openssl pkcs8 -topk8 -in KEY -out KEY.p8`"
            ))),
            "OPENSSH PRIVATE KEY" => Err(KeyFileError::UnsupportedKey(
                "an OpenSSH key file: convert it to PKCS#8 with \
                 `ssh-keygen -p -m PKCS8 -f KEY`"
                    .into(),
            )),
            "PUBLIC KEY" => Err(KeyFileError::UnsupportedKey(
                "a public key, not a private key".into(),
            )),
            other => Err(KeyFileError::UnsupportedKey(format!(
                "a PEM {other:?} block, not a PKCS#8 private key"
            ))),
        }
    }

    /// A key from an unencrypted PKCS#8 `PrivateKeyInfo` (v1 or v2) in DER.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self> {
        let info = PrivateKeyInfo::try_from(der)
            .map_err(|e| KeyFileError::Malformed(format!("not a PKCS#8 PrivateKeyInfo: {e}")))?;
        let rejected = |what: &str| {
            let what = what.to_string();
            move |e: aws_lc_rs::error::KeyRejected| {
                KeyFileError::Malformed(format!("{what} key rejected: {e}"))
            }
        };
        let oid = info.algorithm.oid;
        let pair = if oid == OID_ED25519 {
            Pair::Ed25519(Ed25519KeyPair::from_pkcs8(der).map_err(rejected("ed25519"))?)
        } else if oid == OID_EC_PUBLIC_KEY {
            match info.algorithm.parameters_oid() {
                Ok(OID_P256) => {}
                Ok(OID_P384) => return Err(unsupported("an ECDSA P-384 key (only P-256 is used)")),
                Ok(OID_P521) => return Err(unsupported("an ECDSA P-521 key (only P-256 is used)")),
                Ok(curve) => {
                    return Err(KeyFileError::UnsupportedKey(format!(
                        "an EC key on curve {curve} (only P-256 is used)"
                    )))
                }
                Err(_) => {
                    return Err(unsupported(
                        "an EC key without a named curve (only P-256 is used)",
                    ))
                }
            }
            Pair::Ecdsa(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, der)
                    .map_err(rejected("P-256"))?,
            )
        } else if oid == OID_RSA {
            let bits = rsa_modulus_bits(info.private_key)
                .ok_or_else(|| KeyFileError::Malformed("RSA private key does not parse".into()))?;
            if bits < MIN_RSA_BITS {
                return Err(KeyFileError::UnsupportedKey(format!(
                    "a {bits}-bit RSA key (at least {MIN_RSA_BITS} bits are required)"
                )));
            }
            if bits > MAX_RSA_BITS {
                return Err(KeyFileError::UnsupportedKey(format!(
                    "a {bits}-bit RSA key (at most {MAX_RSA_BITS} bits are supported)"
                )));
            }
            Pair::Rsa(RsaKeyPair::from_pkcs8(der).map_err(rejected("RSA"))?)
        } else if oid == OID_RSA_PSS {
            return Err(unsupported(
                "an id-RSASSA-PSS key: use an rsaEncryption RSA key (it signs RSA-PSS too)",
            ));
        } else if oid == OID_ED448 {
            return Err(unsupported("an Ed448 key"));
        } else {
            return Err(KeyFileError::UnsupportedKey(format!(
                "a key with algorithm {oid}"
            )));
        };
        Self::from_pair(pair)
    }

    fn from_pair(pair: Pair) -> Result<Self> {
        let (pkcs8, spki, public) = match &pair {
            Pair::Ed25519(kp) => {
                let doc = kp.to_pkcs8v1().map_err(crypto("ed25519 PKCS#8 encoding"))?;
                let spki = x509_der(kp.public_key().as_der())?;
                let raw: [u8; 32] = kp.public_key().as_ref().try_into().map_err(|_| {
                    KeyFileError::Crypto("ed25519 public key is not 32 bytes".into())
                })?;
                (secret(doc.as_ref())?, spki, Key::ed25519(&raw))
            }
            Pair::Ecdsa(kp) => {
                let doc = kp.to_pkcs8v1().map_err(crypto("P-256 PKCS#8 encoding"))?;
                let spki = x509_der(kp.public_key().as_der())?;
                let public = pem_key("ecdsa", "ecdsa-sha2-nistp256", &spki);
                (secret(doc.as_ref())?, spki, public)
            }
            Pair::Rsa(kp) => {
                let doc: Pkcs8V1Der<'static> =
                    kp.as_der().map_err(crypto("RSA PKCS#8 encoding"))?;
                let spki = x509_der(kp.public_key().as_der())?;
                let public = pem_key("rsa", "rsassa-pss-sha256", &spki);
                (secret(doc.as_ref())?, spki, public)
            }
        };
        let keyid = public
            .key_id()
            .map_err(|e| KeyFileError::Crypto(format!("key id: {e}")))?;
        Ok(PrivateKey {
            pair,
            pkcs8,
            public,
            public_pem: spki_pem(&spki),
            keyid,
        })
    }

    /// The key's type.
    pub fn key_type(&self) -> KeyType {
        match self.pair {
            Pair::Ed25519(_) => KeyType::Ed25519,
            Pair::Ecdsa(_) => KeyType::EcdsaP256,
            Pair::Rsa(_) => KeyType::RsaPss,
        }
    }

    /// The TUF public key, as securesystemslib's `SSlibKey.from_crypto` makes
    /// it for the same private key.
    pub fn public_key(&self) -> &Key {
        &self.public
    }

    /// The key id of [`PrivateKey::public_key`] (sha256 of its canonical JSON).
    pub fn keyid(&self) -> &str {
        &self.keyid
    }

    /// The SubjectPublicKeyInfo PEM of the public key (for ECDSA and RSA the
    /// same text as `keyval.public`; for ed25519 `keyval.public` is hex).
    pub fn public_key_pem(&self) -> &str {
        &self.public_pem
    }

    /// The private key as PEM: unencrypted PKCS#8 without `passphrase`, else
    /// PKCS#8 encrypted with PBES2 (PBKDF2-HMAC-SHA256 with
    /// [`PBKDF2_ITERATIONS`] rounds, AES-256-CBC).
    pub fn to_pem(&self, passphrase: Option<&[u8]>) -> Result<Zeroizing<String>> {
        let Some(passphrase) = passphrase else {
            return self
                .pkcs8
                .to_pem("PRIVATE KEY", LineEnding::LF)
                .map_err(|e| KeyFileError::Crypto(format!("PEM encoding: {e}")));
        };
        let mut salt = [0u8; 16];
        let mut iv = [0u8; 16];
        getrandom::getrandom(&mut salt)
            .and_then(|()| getrandom::getrandom(&mut iv))
            .map_err(|e| KeyFileError::Crypto(format!("random salt: {e}")))?;
        let params = pbes2::Parameters::pbkdf2_sha256_aes256cbc(PBKDF2_ITERATIONS, &salt, &iv)
            .map_err(|e| KeyFileError::Crypto(format!("PBES2 parameters: {e}")))?;
        let info = PrivateKeyInfo::try_from(self.pkcs8.as_bytes())
            .map_err(|e| KeyFileError::Crypto(format!("PKCS#8: {e}")))?;
        let encrypted = info
            .encrypt_with_params(params, passphrase)
            .map_err(|e| KeyFileError::Crypto(format!("PKCS#8 encryption: {e}")))?;
        encrypted
            .to_pem("ENCRYPTED PRIVATE KEY", LineEnding::LF)
            .map_err(|e| KeyFileError::Crypto(format!("PEM encoding: {e}")))
    }
}

impl Signer for PrivateKey {
    fn public_key(&self) -> &Key {
        &self.public
    }

    fn keyid(&self) -> &str {
        &self.keyid
    }

    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, SignError> {
        let failed = |what: &str| SignError {
            keyid: self.keyid.clone(),
            reason: format!("{what} signing failed"),
        };
        match &self.pair {
            Pair::Ed25519(kp) => Ok(kp.sign(msg).as_ref().to_vec()),
            Pair::Ecdsa(kp) => kp
                .sign(&SystemRandom::new(), msg)
                .map(|sig| sig.as_ref().to_vec())
                .map_err(|_| failed("ECDSA")),
            Pair::Rsa(kp) => {
                let mut sig = vec![0u8; kp.public_modulus_len()];
                kp.sign(&RSA_PSS_SHA256, &SystemRandom::new(), msg, &mut sig)
                    .map_err(|_| failed("RSA-PSS"))?;
                Ok(sig)
            }
        }
    }
}

/// Creates `path` (which must not exist) with mode 0600 and writes `pem`
/// into it. A file left half-written by a failed write is removed.
pub fn write_key_file(path: &Path, pem: &str) -> Result<()> {
    let io = |source| KeyFileError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io)?;
    let written = file
        .write_all(pem.as_bytes())
        .and_then(|()| file.sync_all());
    if let Err(e) = written {
        drop(file);
        let _ = std::fs::remove_file(path);
        return Err(io(e));
    }
    Ok(())
}

/// Reads the key file at `path` (see [`PrivateKey::from_pem`]).
pub fn read_key_file(path: &Path, passphrase: Option<&[u8]>) -> Result<PrivateKey> {
    let io = |source| KeyFileError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    // Sized up front so reading never reallocates (and leaves a copy behind).
    let mut bytes = Zeroizing::new(Vec::with_capacity(MAX_KEY_FILE_SIZE as usize + 1));
    file.take(MAX_KEY_FILE_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_KEY_FILE_SIZE {
        return Err(KeyFileError::Malformed(format!(
            "{} is larger than {MAX_KEY_FILE_SIZE} bytes: not a key file",
            path.display()
        )));
    }
    PrivateKey::from_pem(&bytes, passphrase)
}

fn unsupported(what: &str) -> KeyFileError {
    KeyFileError::UnsupportedKey(what.into())
}

fn decode_pem(pem: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    let (_, der) = pem_rfc7468::decode_vec(pem)
        .map_err(|e| KeyFileError::Malformed(format!("PEM does not decode: {e}")))?;
    Ok(Zeroizing::new(der))
}

/// Decrypts an `EncryptedPrivateKeyInfo` into the `PrivateKeyInfo` DER.
fn decrypt(der: &[u8], passphrase: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    let info = EncryptedPrivateKeyInfo::try_from(der).map_err(|e| {
        KeyFileError::Malformed(format!("not a PKCS#8 EncryptedPrivateKeyInfo: {e}"))
    })?;
    let scheme = &info.encryption_algorithm;
    let Some(params) = scheme.pbes2() else {
        return Err(unsupported(
            "a key encrypted with PBES1 (DES or RC2): re-encrypt it with \
             `openssl pkcs8 -topk8 -v2 aes-256-cbc`",
        ));
    };
    check_cost(&params.kdf)?;
    let data = info.encrypted_data;
    if data.is_empty() || data.len() % 16 != 0 {
        return Err(KeyFileError::Malformed(format!(
            "{} bytes of ciphertext: not whole AES blocks",
            data.len()
        )));
    }
    let mut buf = Zeroizing::new(data.to_vec());
    let len = match params.decrypt_in_place(passphrase, &mut buf) {
        Ok(plain) => plain.len(),
        // pkcs5 0.7 reports a bad CBC padding as EncryptFailed.
        Err(pkcs5::Error::DecryptFailed | pkcs5::Error::EncryptFailed) => {
            return Err(KeyFileError::WrongPassphrase)
        }
        Err(pkcs5::Error::UnsupportedAlgorithm { oid }) => {
            let name = match oid.to_string().as_str() {
                "1.2.840.113549.2.7" => "PBKDF2 with HMAC-SHA1".to_string(),
                "1.2.840.113549.3.7" => "3DES-CBC".to_string(),
                "1.3.14.3.2.7" => "DES-CBC".to_string(),
                other => format!("algorithm {other}"),
            };
            return Err(KeyFileError::UnsupportedKey(format!(
                "a key encrypted with {name}: re-encrypt it with \
                 `openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA256`"
            )));
        }
        Err(e) => return Err(KeyFileError::Malformed(format!("PBES2: {e}"))),
    };
    buf.truncate(len);
    // A wrong passphrase passes the CBC padding check about once in 256 tries;
    // the garbage it yields is not a PrivateKeyInfo.
    if PrivateKeyInfo::try_from(buf.as_slice()).is_err() {
        return Err(KeyFileError::WrongPassphrase);
    }
    Ok(buf)
}

/// Refuses key derivation parameters that would take minutes or gigabytes.
fn check_cost(kdf: &pbes2::Kdf<'_>) -> Result<()> {
    match kdf {
        pbes2::Kdf::Pbkdf2(p) if p.iteration_count > MAX_PBKDF2_ITERATIONS => {
            Err(KeyFileError::UnsupportedKey(format!(
                "PBKDF2 with {} rounds (at most {MAX_PBKDF2_ITERATIONS})",
                p.iteration_count
            )))
        }
        pbes2::Kdf::Scrypt(p) => {
            let memory = 128u64
                .saturating_mul(p.block_size.into())
                .saturating_mul(p.cost_parameter);
            let work = memory.saturating_mul(p.parallelization.into());
            if memory > MAX_SCRYPT_MEMORY || work > 4 * MAX_SCRYPT_MEMORY {
                return Err(KeyFileError::UnsupportedKey(format!(
                    "scrypt with N={}, r={}, p={} (at most {} MiB)",
                    p.cost_parameter,
                    p.block_size,
                    p.parallelization,
                    MAX_SCRYPT_MEMORY >> 20
                )));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The bit length of the modulus of a PKCS#1 `RSAPrivateKey`.
fn rsa_modulus_bits(der: &[u8]) -> Option<usize> {
    let seq = AnyRef::from_der(der).ok()?;
    if seq.tag() != Tag::Sequence {
        return None;
    }
    let mut reader = SliceReader::new(seq.value()).ok()?;
    let _version: UintRef<'_> = reader.decode().ok()?;
    let modulus: UintRef<'_> = reader.decode().ok()?;
    let bytes = modulus.as_bytes();
    let first = *bytes.first()?;
    Some(bytes.len() * 8 - first.leading_zeros() as usize)
}

fn secret(der: &[u8]) -> Result<SecretDocument> {
    SecretDocument::try_from(der).map_err(|e| KeyFileError::Crypto(format!("PKCS#8 DER: {e}")))
}

fn x509_der(
    der: std::result::Result<PublicKeyX509Der<'static>, aws_lc_rs::error::Unspecified>,
) -> Result<Vec<u8>> {
    der.map(|d| d.as_ref().to_vec())
        .map_err(crypto("public key encoding"))
}

/// PEM as `cryptography` writes it: 64 columns, LF, a final newline.
pub fn spki_pem(der: &[u8]) -> String {
    let mut pem = pem_rfc7468::encode_string("PUBLIC KEY", pem_rfc7468::LineEnding::LF, der)
        .expect("a public key's PEM fits in memory");
    if !pem.ends_with('\n') {
        pem.push('\n');
    }
    pem
}

fn pem_key(keytype: &str, scheme: &str, spki: &[u8]) -> Key {
    Key {
        keytype: keytype.into(),
        scheme: scheme.into(),
        keyval: KeyVal {
            public: Some(spki_pem(spki)),
            unknown: Unknown::new(),
        },
        unknown: Unknown::new(),
    }
}
