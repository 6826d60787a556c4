//! Attestations as Sigstore and in-toto define them, signed with keys:
//!
//! - [`dsse`]: the DSSE v1.0.2 envelope and its pre-authentication encoding;
//! - [`statement`]: in-toto Statement v1 (`_type`, `subject`, `predicateType`,
//!   `predicate`);
//! - [`bundle`]: Sigstore bundle v0.3 around a DSSE envelope, naming its key by
//!   `publicKey.hint`, with no transparency-log entries;
//! - [`cosign`]: cosign's encrypted `cosign.key` files, decrypted to PKCS#8;
//! - [`key`]: SubjectPublicKeyInfo public keys (ECDSA P-256, cosign's default,
//!   and ed25519) seen as TUF keys.
//!
//! Signing goes through `cairn_tuf::sign::Signer`, the trait the TUF
//! repository signs with, so any key `cairn tuf` can use signs attestations.
//! The crate knows nothing of images or SBOMs: a predicate is JSON.
#![forbid(unsafe_code)]

pub mod bundle;
pub mod cosign;
pub mod dsse;
mod error;
pub mod key;
pub mod statement;

pub use bundle::{verify_envelope, Attestation, Bundle, Signed, BUNDLE_V03};
pub use dsse::{pae, Envelope, IN_TOTO_PAYLOAD_TYPE};
pub use error::{Error, Result};
pub use key::{Algorithm, PublicKey};
pub use statement::{Statement, Subject, CYCLONEDX_PREDICATE, SPDX_PREDICATE};
