//! DSSE (Dead Simple Signing Envelope) v1.0.2: the pre-authentication
//! encoding and the JSON envelope.
//!
//! Signatures cover `PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP
//! LEN(body) SP body`, never the JSON. The payload handed back by
//! [`Envelope::verify`] is the very byte string that was verified: nothing is
//! re-parsed out of the envelope afterwards.

use crate::error::{Error, Result};
use crate::key::PublicKey;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use cairn_tuf::sign::Signer;
use serde::{Deserialize, Serialize};

/// The payload type of an in-toto Statement.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// The most signatures an envelope may carry.
pub const MAX_SIGNATURES: usize = 64;

/// `PAE(payload_type, payload)`.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload_type.len() + payload.len() + 32);
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(payload_type.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
    out
}

/// The JSON envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// The payload, base64 (standard alphabet, padded, when cairn writes it;
    /// standard or URL-safe when read).
    pub payload: String,
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    pub signatures: Vec<Signature>,
}

/// One signature of an envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    /// An optional hint of the key (cairn writes the TUF key id).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub keyid: String,
    /// The signature, base64.
    pub sig: String,
}

/// What [`Envelope::verify`] established.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The payload bytes the signature covers.
    pub payload: Vec<u8>,
    pub payload_type: String,
    /// The fingerprint of the key that verified it ([`PublicKey::fingerprint`]).
    pub key: String,
}

/// Standard or URL-safe base64, with or without padding (DSSE verifiers must
/// accept either alphabet).
pub fn decode_base64(s: &str) -> Option<Vec<u8>> {
    const LENIENT: GeneralPurposeConfig =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    const STANDARD_LENIENT: GeneralPurpose =
        GeneralPurpose::new(&base64::alphabet::STANDARD, LENIENT);
    STANDARD_LENIENT
        .decode(s)
        .or_else(|_| URL_SAFE.decode(s))
        .or_else(|_| URL_SAFE_NO_PAD.decode(s))
        .ok()
}

impl Envelope {
    /// Signs `payload` as `payload_type` with `signer`.
    pub fn sign(payload_type: &str, payload: &[u8], signer: &dyn Signer) -> Result<Envelope> {
        let sig = signer
            .sign(&pae(payload_type, payload))
            .map_err(|e| Error::Sign(e.to_string()))?;
        Ok(Envelope {
            payload: STANDARD.encode(payload),
            payload_type: payload_type.to_string(),
            signatures: vec![Signature {
                keyid: signer.keyid().to_string(),
                sig: STANDARD.encode(sig),
            }],
        })
    }

    /// Verifies that at least one signature is by one of `keys` over the
    /// PAE of the payload, and returns that payload. Signatures are tried
    /// against every key: a key id is a hint, and tools fill it differently.
    pub fn verify(&self, keys: &[PublicKey]) -> Result<Verified> {
        if self.signatures.len() > MAX_SIGNATURES {
            return Err(Error::TooLarge {
                what: "the envelope",
                detail: format!(
                    "{} signatures (at most {MAX_SIGNATURES})",
                    self.signatures.len()
                ),
            });
        }
        let payload = decode_base64(&self.payload).ok_or_else(|| Error::Malformed {
            what: "the envelope",
            detail: "the payload is not base64".into(),
        })?;
        let names = || {
            keys.iter()
                .map(|k| format!("key {}", k.fingerprint()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if self.signatures.is_empty() {
            return Err(Error::BadSignature {
                keys: names(),
                detail: "the envelope has no signatures".into(),
            });
        }
        let message = pae(&self.payload_type, &payload);
        let mut last = String::from("no key given");
        for s in &self.signatures {
            let Some(sig) = decode_base64(&s.sig) else {
                last = "a signature is not base64".into();
                continue;
            };
            for key in keys {
                match key.verify(&message, &sig) {
                    Ok(()) => {
                        return Ok(Verified {
                            payload,
                            payload_type: self.payload_type.clone(),
                            key: key.fingerprint(),
                        })
                    }
                    Err(e) => last = e,
                }
            }
        }
        Err(Error::BadSignature {
            keys: names(),
            detail: last,
        })
    }
}
