//! Signing: the [`Signer`] trait every key goes through (key files today; a
//! KMS, HSM or PKCS#11 signer is one more implementation), and ed25519 signing
//! of metadata for tests and fixtures.

use crate::canonical;
use crate::keys::Key;
use crate::metadata::Role;
use serde_json::{json, Value};

/// Why a signer could not sign.
#[derive(Debug, thiserror::Error)]
#[error("key {keyid}: {reason}")]
pub struct SignError {
    pub keyid: String,
    pub reason: String,
}

/// A private key, wherever it lives, as the repository editor uses it: the
/// public key and key id it signs for, and raw signatures over bytes.
///
/// Signatures are returned raw; metadata stores them hex-encoded. An
/// implementation must produce what [`Key::verify`] accepts for its
/// `public_key()` (ed25519: 64 bytes; ECDSA: DER; RSA-PSS: the raw signature).
pub trait Signer: Send + Sync {
    /// The TUF public key that verifies this signer's signatures.
    fn public_key(&self) -> &Key;
    /// The key id metadata lists for [`Signer::public_key`].
    fn keyid(&self) -> &str;
    /// A signature over `msg`.
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, SignError>;
}

/// An ed25519 private key with its TUF public key and key id.
pub struct Ed25519Signer {
    key: ed25519_dalek::SigningKey,
    public: Key,
    keyid: String,
}

impl Ed25519Signer {
    /// A signer from a 32-byte seed (deterministic; for tests and fixtures).
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        let key = ed25519_dalek::SigningKey::from_bytes(seed);
        let public = Key::ed25519(&key.verifying_key().to_bytes());
        let keyid = public
            .key_id()
            .expect("an ed25519 key has a canonical form");
        Ed25519Signer { key, public, keyid }
    }

    /// A new random key from the operating system's generator.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut seed = [0u8; 32];
        getrandom::getrandom(&mut seed)?;
        Ok(Self::from_seed(&seed))
    }

    pub fn public_key(&self) -> &Key {
        &self.public
    }

    pub fn keyid(&self) -> &str {
        &self.keyid
    }

    /// Hex signature over `msg`.
    pub fn sign_bytes(&self, msg: &[u8]) -> String {
        use ed25519_dalek::Signer;
        hex::encode(self.key.sign(msg).to_bytes())
    }
}

impl Signer for Ed25519Signer {
    fn public_key(&self) -> &Key {
        &self.public
    }
    fn keyid(&self) -> &str {
        &self.keyid
    }
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, SignError> {
        use ed25519_dalek::Signer as _;
        Ok(self.key.sign(msg).to_bytes().to_vec())
    }
}

/// Serializes `signed` into a metadata file signed by every signer in
/// `signers`. The output is pretty-printed JSON; signatures cover the
/// canonical form of `signed`. Panics if an unknown field holds a floating
/// point number (parsed metadata never does: it has no canonical form).
pub fn sign_metadata<T: Role>(signed: &T, signers: &[&Ed25519Signer]) -> Vec<u8> {
    let signed_value = serde_json::to_value(signed).expect("metadata serializes");
    sign_value(signed_value, signers)
}

/// Like [`sign_metadata`] for an untyped `signed` object (used to craft
/// hostile metadata in tests). Panics if `signed` holds a floating point
/// number, which has no canonical form.
pub fn sign_value(signed: Value, signers: &[&Ed25519Signer]) -> Vec<u8> {
    let bytes = canonical::to_canonical(&signed).expect("metadata has a canonical form");
    let signatures: Vec<Value> = signers
        .iter()
        .map(|s| json!({"keyid": s.keyid(), "sig": s.sign_bytes(&bytes)}))
        .collect();
    let mut out = serde_json::to_vec_pretty(&json!({"signatures": signatures, "signed": signed}))
        .expect("JSON serializes");
    out.push(b'\n');
    out
}
