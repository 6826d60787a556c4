//! Public keys, key ids and signature verification (§4.2, §5.x "threshold").
//!
//! Supported (keytype / scheme, as securesystemslib names them):
//! - `ed25519` / `ed25519`: hex public key, 64-byte signature;
//! - `ecdsa` (or legacy `ecdsa-sha2-nistp256|384`) / `ecdsa-sha2-nistp256|384`:
//!   PEM SubjectPublicKeyInfo, DER signature;
//! - `rsa` / `rsassa-pss-sha256|384|512` (and `rsa-pkcs1v15-*`): PEM
//!   SubjectPublicKeyInfo, raw signature; verified by aws-lc-rs.
//!
//! Signatures are hex in the `sig` field. A key of an unknown type is kept and
//! never counts toward a threshold; it does not make the metadata invalid.
//! Key ids are looked up as the metadata declares them; [`Key::key_id`]
//! computes the specification's id for keys this crate creates.

use crate::error::{Error, Result};
use crate::metadata::fields::deserialize_keeping_unknown;
use crate::metadata::{Rule, Signature, Unknown};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// A public key as TUF metadata describes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Key {
    pub keytype: String,
    pub scheme: String,
    pub keyval: KeyVal,
    #[serde(flatten)]
    pub unknown: Unknown,
}

deserialize_keeping_unknown!(Key, "a public key",
    required { "keytype" => keytype, "scheme" => scheme, "keyval" => keyval },
    optional {}
);

/// `keyval`: the `public` part for every supported key type.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyVal {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public: Option<String>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

deserialize_keeping_unknown!(KeyVal, "a key value",
    required {},
    optional { "public" => public }
);

impl Key {
    /// An ed25519 key from its 32 public bytes.
    pub fn ed25519(public: &[u8; 32]) -> Self {
        Key {
            keytype: "ed25519".into(),
            scheme: "ed25519".into(),
            keyval: KeyVal {
                public: Some(hex::encode(public)),
                unknown: Unknown::new(),
            },
            unknown: Unknown::new(),
        }
    }

    /// The specification's key id: hex sha256 of the key's canonical JSON.
    /// Fails only for a key with a floating point number in an unknown field.
    pub fn key_id(&self) -> std::result::Result<String, serde_json::Error> {
        let bytes = crate::canonical::to_canonical(self)?;
        Ok(hex::encode(Sha256::digest(bytes)))
    }

    /// Verifies `sig_hex` over `msg`. Returns a reason when the signature is
    /// not valid, the key cannot be used, or its type is not supported.
    pub fn verify(&self, msg: &[u8], sig_hex: &str) -> std::result::Result<(), String> {
        let sig = hex::decode(sig_hex).map_err(|_| "signature is not hex".to_string())?;
        let public = self
            .keyval
            .public
            .as_deref()
            .ok_or_else(|| "keyval has no \"public\"".to_string())?;
        let bad = |_| "signature does not verify".to_string();
        match (self.keytype.as_str(), self.scheme.as_str()) {
            ("ed25519", "ed25519") => {
                let bytes: [u8; 32] = hex::decode(public)
                    .ok()
                    .and_then(|b| b.try_into().ok())
                    .ok_or("ed25519 public key is not 32 hex bytes")?;
                let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes)
                    .map_err(|_| "invalid ed25519 public key")?;
                let sig = ed25519_dalek::Signature::from_slice(&sig)
                    .map_err(|_| "ed25519 signature is not 64 bytes")?;
                key.verify_strict(msg, &sig).map_err(bad)
            }
            ("ecdsa" | "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256") => {
                use p256::ecdsa::signature::Verifier;
                use p256::pkcs8::DecodePublicKey;
                let key = p256::ecdsa::VerifyingKey::from_public_key_pem(public)
                    .map_err(|e| format!("invalid P-256 public key: {e}"))?;
                let sig = p256::ecdsa::DerSignature::from_bytes(&sig)
                    .map_err(|_| "ECDSA signature is not DER")?;
                key.verify(msg, &sig).map_err(bad)
            }
            ("ecdsa" | "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp384") => {
                use p384::ecdsa::signature::Verifier;
                use p384::pkcs8::DecodePublicKey;
                let key = p384::ecdsa::VerifyingKey::from_public_key_pem(public)
                    .map_err(|e| format!("invalid P-384 public key: {e}"))?;
                let sig = p384::ecdsa::DerSignature::from_bytes(&sig)
                    .map_err(|_| "ECDSA signature is not DER")?;
                key.verify(msg, &sig).map_err(bad)
            }
            ("rsa", scheme) => {
                use aws_lc_rs::signature::{self as sig_alg, RsaParameters, UnparsedPublicKey};
                let algs: &[&'static RsaParameters] = match scheme {
                    "rsassa-pss-sha256" => {
                        &[&sig_alg::RSA_PSS_2048_8192_SHA256, &RSA_PSS_SHA256_MAX_SALT]
                    }
                    "rsassa-pss-sha384" => {
                        &[&sig_alg::RSA_PSS_2048_8192_SHA384, &RSA_PSS_SHA384_MAX_SALT]
                    }
                    "rsassa-pss-sha512" => {
                        &[&sig_alg::RSA_PSS_2048_8192_SHA512, &RSA_PSS_SHA512_MAX_SALT]
                    }
                    "rsa-pkcs1v15-sha256" => &[&sig_alg::RSA_PKCS1_2048_8192_SHA256],
                    "rsa-pkcs1v15-sha384" => &[&sig_alg::RSA_PKCS1_2048_8192_SHA384],
                    "rsa-pkcs1v15-sha512" => &[&sig_alg::RSA_PKCS1_2048_8192_SHA512],
                    other => return Err(format!("unsupported RSA scheme {other:?}")),
                };
                let (label, der) = pem_rfc7468::decode_vec(public.trim().as_bytes())
                    .map_err(|e| format!("RSA public key is not PEM: {e}"))?;
                if label != "PUBLIC KEY" && label != "RSA PUBLIC KEY" {
                    return Err(format!("unexpected PEM label {label:?} for an RSA key"));
                }
                // securesystemslib signs with the digest-length salt and
                // verifies with "auto"; accept the two lengths signers use.
                if algs
                    .iter()
                    .any(|alg| UnparsedPublicKey::new(*alg, &der).verify(msg, &sig).is_ok())
                {
                    Ok(())
                } else {
                    Err("signature does not verify".into())
                }
            }
            (t, s) => Err(format!("unsupported key type {t:?} with scheme {s:?}")),
        }
    }
}

static RSA_PSS_SHA256_MAX_SALT: aws_lc_rs::signature::RsaParameters =
    aws_lc_rs::signature::RSA_PSS_2048_8192_SHA256
        .with_pss_salt_length(aws_lc_rs::signature::RsaPssSaltLength::Max);
static RSA_PSS_SHA384_MAX_SALT: aws_lc_rs::signature::RsaParameters =
    aws_lc_rs::signature::RSA_PSS_2048_8192_SHA384
        .with_pss_salt_length(aws_lc_rs::signature::RsaPssSaltLength::Max);
static RSA_PSS_SHA512_MAX_SALT: aws_lc_rs::signature::RsaParameters =
    aws_lc_rs::signature::RSA_PSS_2048_8192_SHA512
        .with_pss_salt_length(aws_lc_rs::signature::RsaPssSaltLength::Max);

/// Checks that `signatures` over `signed_bytes` meet `rule`'s threshold.
///
/// Each key id of the rule counts at most once (signature key ids are unique
/// by parsing, the rule's key ids are unique by validation). A signature by a
/// key the rule does not list, an unknown key type or an invalid signature
/// simply does not count: the metadata is valid if enough other signatures are.
pub fn verify_threshold(
    role: &str,
    signer: &str,
    rule: Rule<'_>,
    signed_bytes: &[u8],
    signatures: &[Signature],
) -> Result<()> {
    let mut valid = 0usize;
    for keyid in rule.keyids {
        let (Some(key), Some(sig)) = (
            rule.keys.get(keyid),
            signatures.iter().find(|s| &s.keyid == keyid),
        ) else {
            continue;
        };
        if key.verify(signed_bytes, &sig.sig).is_ok() {
            valid += 1;
        }
    }
    if (valid as u64) < rule.threshold {
        return Err(Error::ThresholdNotMet {
            role: role.into(),
            signer: signer.into(),
            valid,
            threshold: rule.threshold,
        });
    }
    Ok(())
}
