//! cosign's encrypted private keys: the `cosign.key` that `cosign generate-key-pair`
//! writes, so cosign users can sign with the keys they have.
//!
//! The file is PEM, labelled `ENCRYPTED SIGSTORE PRIVATE KEY` (`ENCRYPTED COSIGN PRIVATE
//! KEY` before cosign 1.x's rename), around the JSON of go-securesystemslib's `encrypted`
//! package: a scrypt key derivation (`N`, `r`, `p`, a salt) and a NaCl secretbox
//! (XSalsa20-Poly1305, a 24-byte nonce) whose plaintext is the PKCS#8 DER of the key.
//! The scrypt parameters are bounded ([`MAX_SCRYPT_MEMORY`]) before any work is done, so
//! a hostile file cannot make the command allocate or spin without bound.

use crate::dsse::decode_base64;
use crate::error::{Error, Result};
use crypto_secretbox::aead::{Aead, KeyInit};
use crypto_secretbox::XSalsa20Poly1305;
use serde::Deserialize;

/// The PEM labels of cosign's encrypted keys.
pub const LABELS: [&str; 2] = [
    "ENCRYPTED SIGSTORE PRIVATE KEY",
    "ENCRYPTED COSIGN PRIVATE KEY",
];

/// The most memory (128 · r · N bytes) a key's scrypt parameters may ask for (cosign
/// writes N = 32768, r = 8: 32 MiB).
pub const MAX_SCRYPT_MEMORY: u64 = 256 << 20;
/// The largest `p` accepted (cosign writes 1).
pub const MAX_SCRYPT_P: u32 = 16;

#[derive(Deserialize)]
struct Encrypted {
    kdf: Kdf,
    cipher: Cipher,
    ciphertext: String,
}

#[derive(Deserialize)]
struct Kdf {
    name: String,
    params: Params,
    salt: String,
}

#[derive(Deserialize)]
struct Params {
    #[serde(rename = "N")]
    n: u64,
    r: u32,
    p: u32,
}

#[derive(Deserialize)]
struct Cipher {
    name: String,
    nonce: String,
}

/// Whether `pem` is one of cosign's encrypted keys (by its PEM label).
pub fn is_cosign_key(pem: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&pem[..pem.len().min(4096)]);
    LABELS
        .iter()
        .any(|l| text.contains(&format!("-----BEGIN {l}-----")))
}

fn bad(detail: impl Into<String>) -> Error {
    Error::Malformed {
        what: "the cosign key",
        detail: detail.into(),
    }
}

/// Decrypts a cosign key with `password` (cosign's `COSIGN_PASSWORD`; empty for a key
/// made without one) into the PKCS#8 DER of the private key.
pub fn decrypt(pem: &[u8], password: &[u8]) -> Result<Vec<u8>> {
    let text = std::str::from_utf8(pem).map_err(|_| bad("not PEM text"))?;
    let (label, body) =
        pem_rfc7468::decode_vec(text.trim().as_bytes()).map_err(|e| bad(e.to_string()))?;
    if !LABELS.contains(&label) {
        return Err(bad(format!("a PEM {label:?} is not a cosign key")));
    }
    let enc: Encrypted = serde_json::from_slice(&body).map_err(|e| bad(e.to_string()))?;
    if enc.kdf.name != "scrypt" {
        return Err(bad(format!(
            "key derivation {:?} (cosign uses scrypt)",
            enc.kdf.name
        )));
    }
    if enc.cipher.name != "nacl/secretbox" {
        return Err(bad(format!(
            "cipher {:?} (cosign uses nacl/secretbox)",
            enc.cipher.name
        )));
    }
    let Params { n, r, p } = enc.kdf.params;
    if !n.is_power_of_two() || n < 2 {
        return Err(bad(format!("scrypt N = {n} is not a power of two")));
    }
    let memory = 128u64.saturating_mul(u64::from(r)).saturating_mul(n);
    if r == 0 || p == 0 || p > MAX_SCRYPT_P || memory > MAX_SCRYPT_MEMORY {
        return Err(Error::TooLarge {
            what: "the cosign key's scrypt parameters",
            detail: format!(
                "N = {n}, r = {r}, p = {p} (at most {MAX_SCRYPT_MEMORY} bytes of memory, p up to {MAX_SCRYPT_P})"
            ),
        });
    }
    let salt = decode_base64(&enc.kdf.salt).ok_or_else(|| bad("the salt is not base64"))?;
    let nonce = decode_base64(&enc.cipher.nonce).ok_or_else(|| bad("the nonce is not base64"))?;
    let nonce: [u8; 24] = nonce
        .try_into()
        .map_err(|_| bad("the nonce is not 24 bytes"))?;
    let ciphertext =
        decode_base64(&enc.ciphertext).ok_or_else(|| bad("the ciphertext is not base64"))?;
    let params = scrypt::Params::new(n.trailing_zeros() as u8, r, p, 32)
        .map_err(|e| bad(format!("scrypt parameters: {e}")))?;
    let mut key = [0u8; 32];
    scrypt::scrypt(password, &salt, &params, &mut key).map_err(|e| bad(format!("scrypt: {e}")))?;
    let cipher = XSalsa20Poly1305::new(&key.into());
    key.iter_mut().for_each(|b| *b = 0);
    cipher
        .decrypt(&nonce.into(), ciphertext.as_slice())
        .map_err(|_| Error::Key("wrong password for the cosign key (or a damaged file)".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    fn pem(json: &str) -> Vec<u8> {
        let b64 = base64::engine::general_purpose::STANDARD.encode(json);
        let lines: Vec<String> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| String::from_utf8(c.to_vec()).unwrap())
            .collect();
        let b64 = lines.join("\n");
        format!(
            "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n{b64}\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n"
        )
        .into_bytes()
    }

    fn with_params(n: u64, r: u32, p: u32) -> Vec<u8> {
        pem(&format!(
            r#"{{"kdf":{{"name":"scrypt","params":{{"N":{n},"r":{r},"p":{p}}},"salt":"AAAA"}},"cipher":{{"name":"nacl/secretbox","nonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}},"ciphertext":"AAAA"}}"#
        ))
    }

    #[test]
    fn hostile_scrypt_parameters_are_refused_before_any_work() {
        for (n, r, p) in [
            (1 << 30, 8, 1),
            (1 << 15, 1 << 20, 1),
            (1 << 15, 8, 1000),
            (3, 8, 1),
            (0, 8, 1),
        ] {
            let e = decrypt(&with_params(n, r, p), b"").unwrap_err().to_string();
            assert!(
                e.contains("over the limit") || e.contains("power of two"),
                "N={n} r={r} p={p}: {e}"
            );
        }
        // Sane parameters get as far as the (wrong) ciphertext.
        let e = decrypt(&with_params(1 << 10, 8, 1), b"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("wrong password"), "{e}");
    }

    #[test]
    fn other_files_are_not_cosign_keys() {
        assert!(!is_cosign_key(
            b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
        ));
        assert!(is_cosign_key(&with_params(1 << 10, 8, 1)));
        let e = decrypt(&pem("not json"), b"").unwrap_err().to_string();
        assert!(e.contains("the cosign key"), "{e}");
        let e = decrypt(
            &pem(r#"{"kdf":{"name":"argon2","params":{"N":2,"r":1,"p":1},"salt":""},"cipher":{"name":"nacl/secretbox","nonce":""},"ciphertext":""}"#),
            b"",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("argon2"), "{e}");
    }
}
