//! Public keys as attestations name them: a SubjectPublicKeyInfo (what
//! `cosign generate-key-pair` writes to `cosign.pub`, and what OpenSSL and
//! python's `cryptography` write), seen as the TUF [`Key`] that
//! `cairn-tuf` verifies with.

use crate::error::{Error, Result};
use cairn_tuf::keyfile::spki_pem;
use cairn_tuf::keys::Key;
use pkcs8::der::Decode;
use pkcs8::spki::SubjectPublicKeyInfoRef;
use pkcs8::ObjectIdentifier;
use sha2::{Digest, Sha256};

const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const OID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");

/// The largest public key file read (a P-256 or ed25519 key in PEM is under
/// 200 bytes).
pub const MAX_PUBLIC_KEY_BYTES: usize = 16 << 10;

/// The key algorithms attestations are signed and verified with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// ECDSA on NIST P-256 with SHA-256, DER signatures (cosign's default).
    EcdsaP256,
    /// Ed25519, 64-byte signatures.
    Ed25519,
}

/// A public key that verifies attestations.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicKey {
    algorithm: Algorithm,
    spki: Vec<u8>,
    tuf: Key,
}

impl PublicKey {
    /// A `-----BEGIN PUBLIC KEY-----` PEM document (SubjectPublicKeyInfo) of
    /// an ECDSA P-256 or ed25519 key.
    pub fn from_pem(pem: &[u8]) -> Result<PublicKey> {
        if pem.len() > MAX_PUBLIC_KEY_BYTES {
            return Err(Error::Key(format!(
                "the public key file is {} bytes, over the {MAX_PUBLIC_KEY_BYTES}-byte limit",
                pem.len()
            )));
        }
        let text = std::str::from_utf8(pem)
            .map_err(|_| Error::Key("the public key is not PEM text".into()))?;
        let (label, der) = pem_rfc7468::decode_vec(text.trim().as_bytes())
            .map_err(|e| Error::Key(format!("not a PEM public key: {e}")))?;
        if label != "PUBLIC KEY" {
            return Err(Error::Key(format!(
                "a PEM {label:?} is not a public key (expected \"PUBLIC KEY\")"
            )));
        }
        PublicKey::from_spki_der(&der)
    }

    /// A DER SubjectPublicKeyInfo.
    pub fn from_spki_der(der: &[u8]) -> Result<PublicKey> {
        let spki = SubjectPublicKeyInfoRef::from_der(der)
            .map_err(|e| Error::Key(format!("not a SubjectPublicKeyInfo: {e}")))?;
        let oid = spki.algorithm.oid;
        let bits = spki
            .subject_public_key
            .as_bytes()
            .ok_or_else(|| Error::Key("the public key bit string is not whole bytes".into()))?;
        let (algorithm, tuf) = if oid == OID_ED25519 {
            let raw: [u8; 32] = bits
                .try_into()
                .map_err(|_| Error::Key("an ed25519 public key is 32 bytes".into()))?;
            (Algorithm::Ed25519, Key::ed25519(&raw))
        } else if oid == OID_EC_PUBLIC_KEY {
            let curve = spki
                .algorithm
                .parameters_oid()
                .map_err(|_| Error::Key("an EC public key without its curve".into()))?;
            if curve != OID_P256 {
                return Err(Error::Key(format!(
                    "EC curve {curve} is not supported (attestations use P-256)"
                )));
            }
            p256::PublicKey::from_sec1_bytes(bits)
                .map_err(|_| Error::Key("not a point on P-256".into()))?;
            let tuf = Key {
                keytype: "ecdsa".into(),
                scheme: "ecdsa-sha2-nistp256".into(),
                keyval: cairn_tuf::keys::KeyVal {
                    public: Some(spki_pem(der)),
                    unknown: Default::default(),
                },
                unknown: Default::default(),
            };
            (Algorithm::EcdsaP256, tuf)
        } else {
            return Err(Error::Key(format!(
                "key algorithm {oid} is not supported (attestations use ECDSA P-256 or ed25519)"
            )));
        };
        Ok(PublicKey {
            algorithm,
            spki: der.to_vec(),
            tuf,
        })
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The SubjectPublicKeyInfo DER.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// The key as PEM, 64 columns, LF line ends and a final newline.
    pub fn to_pem(&self) -> String {
        spki_pem(&self.spki)
    }

    /// Hex sha256 of the SubjectPublicKeyInfo DER: the bundle's
    /// `publicKey.hint` and the name a key is published under through TUF.
    pub fn fingerprint(&self) -> String {
        hex::encode(Sha256::digest(&self.spki))
    }

    /// The TUF key (keyval as securesystemslib writes it), whose id DSSE
    /// signatures carry.
    pub fn tuf_key(&self) -> &Key {
        &self.tuf
    }

    /// The TUF key id (hex sha256 of the key's canonical JSON), which
    /// securesystemslib computes alike.
    pub fn keyid(&self) -> String {
        self.tuf
            .key_id()
            .expect("a key built here has a canonical form")
    }

    /// Verifies a raw signature over `msg`: ed25519's 64 bytes, or an ECDSA
    /// signature in DER (as cosign and securesystemslib write it) or as the
    /// fixed 64-byte `r || s` (as the DSSE test vector does).
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> std::result::Result<(), String> {
        match self.tuf.verify(msg, &hex::encode(sig)) {
            Ok(()) => Ok(()),
            Err(e) if self.algorithm == Algorithm::EcdsaP256 && sig.len() == 64 => {
                let der = p256::ecdsa::Signature::from_slice(sig)
                    .map_err(|_| e.clone())?
                    .to_der();
                self.tuf.verify(msg, &hex::encode(der.as_bytes()))
            }
            Err(e) => Err(e),
        }
    }
}
