//! in-toto Statement v1: what an attestation says, about which artifacts.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The `_type` cairn writes.
pub const STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";
/// The `_type` of older tools' statements (`cosign attest` before v2), read too.
pub const STATEMENT_V01: &str = "https://in-toto.io/Statement/v0.1";
/// The predicate type of an SPDX document.
pub const SPDX_PREDICATE: &str = "https://spdx.dev/Document";
/// The predicate type of a CycloneDX document.
pub const CYCLONEDX_PREDICATE: &str = "https://cyclonedx.org/bom";

/// The most subjects a statement read may list.
pub const MAX_SUBJECTS: usize = 4096;

/// A statement. cairn writes exactly these four fields; unknown fields of
/// statements read are ignored, as the in-toto specification asks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    #[serde(rename = "_type")]
    pub type_: String,
    pub subject: Vec<Subject>,
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    pub predicate: Value,
}

/// One artifact the statement is about, named and identified by digests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    pub digest: BTreeMap<String, String>,
}

impl Subject {
    /// A subject identified by its sha256 (`hex`, lower case).
    pub fn sha256(name: &str, hex: &str) -> Subject {
        Subject {
            name: name.to_string(),
            digest: BTreeMap::from([("sha256".to_string(), hex.to_ascii_lowercase())]),
        }
    }
}

impl Statement {
    /// A v1 statement.
    pub fn new(subject: Vec<Subject>, predicate_type: &str, predicate: Value) -> Statement {
        Statement {
            type_: STATEMENT_V1.to_string(),
            subject,
            predicate_type: predicate_type.to_string(),
            predicate,
        }
    }

    /// The statement as the compact JSON that is signed.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a statement serializes")
    }

    /// Parses and checks a statement: a known `_type`, one to
    /// [`MAX_SUBJECTS`] subjects each with a digest, a predicate.
    pub fn from_json(bytes: &[u8]) -> Result<Statement> {
        let bad = |detail: String| Error::Malformed {
            what: "the in-toto statement",
            detail,
        };
        let s: Statement = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
        if s.type_ != STATEMENT_V1 && s.type_ != STATEMENT_V01 {
            return Err(bad(format!("unknown _type {:?}", s.type_)));
        }
        if s.subject.is_empty() {
            return Err(bad("it has no subject".into()));
        }
        if s.subject.len() > MAX_SUBJECTS {
            return Err(Error::TooLarge {
                what: "the in-toto statement",
                detail: format!("{} subjects (at most {MAX_SUBJECTS})", s.subject.len()),
            });
        }
        if let Some(i) = s.subject.iter().position(|s| s.digest.is_empty()) {
            return Err(bad(format!("subject {i} has no digest")));
        }
        if s.predicate.is_null() {
            return Err(bad("it has no predicate".into()));
        }
        Ok(s)
    }

    /// Whether a subject has `algorithm` digest `hex` (compared without
    /// regard to case).
    pub fn has_subject(&self, algorithm: &str, hex: &str) -> bool {
        self.subject.iter().any(|s| {
            s.digest
                .get(algorithm)
                .is_some_and(|d| d.eq_ignore_ascii_case(hex))
        })
    }

    /// The subjects as `name@alg:hex` strings, for messages.
    pub fn describe_subjects(&self) -> String {
        self.subject
            .iter()
            .map(|s| {
                let digests: Vec<String> =
                    s.digest.iter().map(|(a, d)| format!("{a}:{d}")).collect();
                if s.name.is_empty() {
                    digests.join(",")
                } else {
                    format!("{}@{}", s.name, digests.join(","))
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}
