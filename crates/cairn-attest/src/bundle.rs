//! Sigstore bundles (v0.1–v0.3 read, v0.3 written) holding a DSSE envelope
//! signed with a key: `verificationMaterial.publicKey.hint` names the key,
//! and there are no transparency-log entries or certificates.

use crate::dsse::{Envelope, Verified, IN_TOTO_PAYLOAD_TYPE};
use crate::error::{Error, Result};
use crate::key::PublicKey;
use crate::statement::Statement;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The media type cairn writes.
pub const BUNDLE_V03: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// Every bundle media type read.
pub const BUNDLE_MEDIA_TYPES: [&str; 4] = [
    BUNDLE_V03,
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
];

/// The largest bundle read: a 512 MiB SBOM predicate, base64-encoded, fits.
pub const MAX_BUNDLE_BYTES: usize = 1 << 30;

/// A bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bundle {
    #[serde(rename = "mediaType")]
    pub media_type: String,
    #[serde(rename = "verificationMaterial")]
    pub verification_material: VerificationMaterial,
    #[serde(
        rename = "dsseEnvelope",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub dsse_envelope: Option<Envelope>,
    #[serde(
        rename = "messageSignature",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub message_signature: Option<Value>,
}

/// How a bundle's signature is to be verified.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerificationMaterial {
    #[serde(rename = "publicKey", default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<PublicKeyIdentifier>,
    #[serde(
        rename = "x509CertificateChain",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub x509_certificate_chain: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<Value>,
    #[serde(rename = "tlogEntries", default)]
    pub tlog_entries: Vec<Value>,
    #[serde(
        rename = "timestampVerificationData",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub timestamp_verification_data: Option<Value>,
}

/// `publicKey`: a hint naming the key out of band.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicKeyIdentifier {
    #[serde(default)]
    pub hint: String,
}

/// A verified attestation.
#[derive(Debug, Clone)]
pub struct Attestation {
    pub statement: Statement,
    /// The fingerprint of the key that signed it.
    pub key: String,
    /// Transparency-log entries the bundle carries, which cairn does not check.
    pub unchecked_tlog_entries: usize,
}

impl Bundle {
    /// Signs `statement` with `signer` (whose public key is `public`) into a
    /// v0.3 bundle whose hint is `public`'s fingerprint.
    pub fn sign(
        statement: &Statement,
        signer: &dyn cairn_tuf::sign::Signer,
        public: &PublicKey,
    ) -> Result<Bundle> {
        // The signature's key id is the TUF key id, which securesystemslib requires to
        // match; Sigstore's verifiers find the key by the hint.
        let envelope = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, &statement.to_json(), signer)?;
        Ok(Bundle {
            media_type: BUNDLE_V03.to_string(),
            verification_material: VerificationMaterial {
                public_key: Some(PublicKeyIdentifier {
                    hint: public.fingerprint(),
                }),
                x509_certificate_chain: None,
                certificate: None,
                tlog_entries: Vec::new(),
                timestamp_verification_data: None,
            },
            dsse_envelope: Some(envelope),
            message_signature: None,
        })
    }

    /// Pretty-printed JSON with a final newline.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).expect("a bundle serializes");
        out.push(b'\n');
        out
    }

    /// Parses a bundle (bounded by [`MAX_BUNDLE_BYTES`]) of a known media type.
    pub fn from_json(bytes: &[u8]) -> Result<Bundle> {
        if bytes.len() > MAX_BUNDLE_BYTES {
            return Err(Error::TooLarge {
                what: "the bundle",
                detail: format!("{} bytes (at most {MAX_BUNDLE_BYTES})", bytes.len()),
            });
        }
        let b: Bundle = serde_json::from_slice(bytes).map_err(|e| Error::Malformed {
            what: "the Sigstore bundle",
            detail: e.to_string(),
        })?;
        if !BUNDLE_MEDIA_TYPES.contains(&b.media_type.as_str()) {
            return Err(Error::Malformed {
                what: "the Sigstore bundle",
                detail: format!("unknown mediaType {:?}", b.media_type),
            });
        }
        Ok(b)
    }

    /// The key hint, when the bundle is signed with a key.
    pub fn hint(&self) -> Option<&str> {
        self.verification_material
            .public_key
            .as_ref()
            .map(|k| k.hint.as_str())
    }

    /// Verifies the envelope with `keys` and parses its in-toto statement.
    pub fn verify(&self, keys: &[PublicKey]) -> Result<Attestation> {
        let m = &self.verification_material;
        if m.public_key.is_none() {
            let what = if m.x509_certificate_chain.is_some() || m.certificate.is_some() {
                "it is signed with a certificate (keyless)"
            } else {
                "it names no public key"
            };
            return Err(Error::Mismatch(format!(
                "the bundle cannot be verified with a key: {what}; cairn verifies bundles signed with a key"
            )));
        }
        let Some(envelope) = &self.dsse_envelope else {
            return Err(Error::Mismatch(
                "the bundle holds a message signature, not a DSSE attestation".into(),
            ));
        };
        let mut a = verify_envelope(envelope, keys)?;
        a.unchecked_tlog_entries = m.tlog_entries.len();
        Ok(a)
    }
}

/// What a verifier is handed: a Sigstore bundle, or a bare DSSE envelope (as
/// securesystemslib and `in-toto` write them).
#[derive(Debug, Clone)]
pub enum Signed {
    Bundle(Box<Bundle>),
    Envelope(Envelope),
}

impl Signed {
    /// A bundle if the bytes are one, else an envelope; the bundle's error when neither.
    pub fn from_json(bytes: &[u8]) -> Result<Signed> {
        match Bundle::from_json(bytes) {
            Ok(b) => Ok(Signed::Bundle(Box::new(b))),
            Err(e) => serde_json::from_slice::<Envelope>(bytes)
                .map(Signed::Envelope)
                .map_err(|_| e),
        }
    }

    /// The key hint (a bundle's `publicKey.hint`; an envelope has none).
    pub fn hint(&self) -> Option<&str> {
        match self {
            Signed::Bundle(b) => b.hint(),
            Signed::Envelope(_) => None,
        }
    }

    /// Verifies the signature with `keys` and parses the in-toto statement.
    pub fn verify(&self, keys: &[PublicKey]) -> Result<Attestation> {
        match self {
            Signed::Bundle(b) => b.verify(keys),
            Signed::Envelope(e) => verify_envelope(e, keys),
        }
    }
}

/// Verifies a bare DSSE envelope holding an in-toto statement (as
/// securesystemslib and `in-toto` write them) with `keys`.
pub fn verify_envelope(envelope: &Envelope, keys: &[PublicKey]) -> Result<Attestation> {
    let Verified {
        payload,
        payload_type,
        key,
    } = envelope.verify(keys)?;
    if payload_type != IN_TOTO_PAYLOAD_TYPE {
        return Err(Error::Mismatch(format!(
            "the envelope's payload type is {payload_type:?}, not {IN_TOTO_PAYLOAD_TYPE}"
        )));
    }
    Ok(Attestation {
        statement: Statement::from_json(&payload)?,
        key,
        unchecked_tlog_entries: 0,
    })
}
