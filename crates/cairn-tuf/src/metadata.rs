//! The TUF metadata schema (specification §4), typed.
//!
//! Every role keeps the fields it does not know in `unknown`: they are part of
//! the signed bytes, so they must survive a round trip untouched. Signatures
//! are never checked against a re-serialization of these types: [`Envelope`]
//! keeps the canonical bytes of the `signed` object exactly as received.
//!
//! Versions and thresholds are non-zero by type; everything serde cannot
//! express (spec_version's major, mutually exclusive fields, unique key ids)
//! is checked in `validate`, so a value of these types is always well formed.

mod delegation;
pub(crate) mod fields;
use fields::deserialize_keeping_unknown;
mod hashes;

pub use delegation::{
    path_matches, DelegatedRole, DelegationIndex, Delegations, FastHash, Rule, SuccinctRoles,
};
pub use hashes::{verify_hashes, Hashes, MultiHasher};

use crate::canonical;
use crate::error::{Error, Result};
use crate::keys::Key;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::num::NonZeroU64;

/// Fields that a metadata object did not declare, kept verbatim.
pub type Unknown = BTreeMap<String, Value>;

/// The names of the four top-level roles.
pub const TOP_LEVEL_ROLES: [&str; 4] = ["root", "timestamp", "snapshot", "targets"];

/// A role's metadata type: its `_type` and the checks serde cannot express.
pub trait Role: Serialize + DeserializeOwned {
    /// The `_type` value and the role name of top-level metadata.
    const TYPE: &'static str;
    fn version(&self) -> u64;
    fn expires(&self) -> &Expires;
    /// The `_type` this value holds (which parsing alone does not check).
    fn type_field(&self) -> &str;
    /// Checks beyond the type system (see module docs).
    fn validate(&self) -> std::result::Result<(), String>;

    /// True when the metadata is expired at `now` (expired means `now >= expires`).
    fn is_expired(&self, now: i64) -> bool {
        now >= self.expires().unix()
    }
}

/// `spec_version`: any 1.x (`1.0`, `1.0.34`) is accepted; other majors are refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SpecVersion(String);

impl TryFrom<String> for SpecVersion {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<Self, String> {
        let parts: Vec<&str> = s.split('.').collect();
        if !(2..=3).contains(&parts.len())
            || parts
                .iter()
                .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(format!(
                "spec_version {s:?} is not of the form MAJOR.MINOR[.PATCH]"
            ));
        }
        if parts[0] != "1" {
            return Err(format!(
                "spec_version {s:?}: only major version 1 of the specification is supported"
            ));
        }
        Ok(SpecVersion(s))
    }
}

impl From<SpecVersion> for String {
    fn from(v: SpecVersion) -> String {
        v.0
    }
}

impl Default for SpecVersion {
    fn default() -> Self {
        SpecVersion("1.0.34".into())
    }
}

/// `expires`: kept as written, compared as Unix seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Expires {
    text: String,
    unix: i64,
}

impl Expires {
    pub fn from_unix(unix: i64) -> Self {
        Expires {
            text: crate::time::format_utc(unix),
            unix,
        }
    }
    pub fn unix(&self) -> i64 {
        self.unix
    }
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl TryFrom<String> for Expires {
    type Error = String;
    fn try_from(text: String) -> std::result::Result<Self, String> {
        match crate::time::parse_utc(&text) {
            Some(unix) => Ok(Expires { text, unix }),
            None => Err(format!(
                "expires {text:?} is not of the form YYYY-MM-DDTHH:MM:SSZ"
            )),
        }
    }
}

impl From<Expires> for String {
    fn from(e: Expires) -> String {
        e.text
    }
}

/// Key ids and threshold of a role (in root, and in delegations).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoleKeys {
    pub keyids: Vec<String>,
    pub threshold: NonZeroU64,
    #[serde(flatten)]
    pub unknown: Unknown,
}

deserialize_keeping_unknown!(RoleKeys, "role keys",
    required { "keyids" => keyids, "threshold" => threshold },
    optional {}
);

/// Root metadata (§4.3).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Root {
    #[serde(rename = "_type")]
    pub type_: String,
    pub spec_version: SpecVersion,
    pub version: NonZeroU64,
    pub expires: Expires,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consistent_snapshot: Option<bool>,
    pub keys: BTreeMap<String, Key>,
    pub roles: BTreeMap<String, RoleKeys>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

deserialize_keeping_unknown!(Root, "root metadata",
    required {
        "_type" => type_,
        "spec_version" => spec_version,
        "version" => version,
        "expires" => expires,
        "keys" => keys,
        "roles" => roles,
    },
    optional { "consistent_snapshot" => consistent_snapshot }
);

impl Root {
    pub fn consistent_snapshot(&self) -> bool {
        self.consistent_snapshot.unwrap_or(false)
    }

    /// The keys and threshold that sign top-level role `name`.
    pub fn rule(&self, name: &str) -> Option<Rule<'_>> {
        self.roles.get(name).map(|r| Rule {
            keyids: &r.keyids,
            threshold: r.threshold.get(),
            keys: &self.keys,
        })
    }
}

impl Role for Root {
    fn type_field(&self) -> &str {
        &self.type_
    }
    const TYPE: &'static str = "root";
    fn version(&self) -> u64 {
        self.version.get()
    }
    fn expires(&self) -> &Expires {
        &self.expires
    }
    fn validate(&self) -> std::result::Result<(), String> {
        for name in TOP_LEVEL_ROLES {
            if !self.roles.contains_key(name) {
                return Err(format!("roles lacks the top-level role {name:?}"));
            }
        }
        for (name, role) in &self.roles {
            unique_keyids(&role.keyids).map_err(|e| format!("role {name}: {e}"))?;
        }
        Ok(())
    }
}

/// Version, length and hashes of a metadata file, as listed by timestamp and snapshot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetaFile {
    pub version: NonZeroU64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hashes: Option<Hashes>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

deserialize_keeping_unknown!(MetaFile, "a metadata file entry",
    required { "version" => version },
    optional { "length" => length, "hashes" => hashes }
);

impl MetaFile {
    pub fn new(version: NonZeroU64) -> Self {
        MetaFile {
            version,
            length: None,
            hashes: None,
            unknown: Unknown::new(),
        }
    }

    /// Checks `data` against the listed length and hashes, when listed.
    pub fn verify(&self, what: &str, data: &[u8]) -> Result<()> {
        if let Some(len) = self.length {
            if data.len() as u64 != len {
                return Err(Error::LengthMismatch {
                    what: what.into(),
                    expected: len,
                    found: data.len() as u64,
                });
            }
        }
        if let Some(hashes) = &self.hashes {
            verify_hashes(what, hashes, data)?;
        }
        Ok(())
    }
}

/// Timestamp metadata (§4.6).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timestamp {
    #[serde(rename = "_type")]
    pub type_: String,
    pub spec_version: SpecVersion,
    pub version: NonZeroU64,
    pub expires: Expires,
    pub meta: BTreeMap<String, MetaFile>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

deserialize_keeping_unknown!(Timestamp, "timestamp metadata",
    required {
        "_type" => type_,
        "spec_version" => spec_version,
        "version" => version,
        "expires" => expires,
        "meta" => meta via BulkMap,
    },
    optional {}
);

impl Timestamp {
    /// The snapshot entry (validation guarantees it exists).
    pub fn snapshot_meta(&self) -> &MetaFile {
        &self.meta["snapshot.json"]
    }
}

impl Role for Timestamp {
    fn type_field(&self) -> &str {
        &self.type_
    }
    const TYPE: &'static str = "timestamp";
    fn version(&self) -> u64 {
        self.version.get()
    }
    fn expires(&self) -> &Expires {
        &self.expires
    }
    fn validate(&self) -> std::result::Result<(), String> {
        if !self.meta.contains_key("snapshot.json") {
            return Err("meta lacks \"snapshot.json\"".into());
        }
        self.meta.values().try_for_each(validate_metafile)
    }
}

/// Snapshot metadata (§4.4).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Snapshot {
    #[serde(rename = "_type")]
    pub type_: String,
    pub spec_version: SpecVersion,
    pub version: NonZeroU64,
    pub expires: Expires,
    pub meta: BTreeMap<String, MetaFile>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

deserialize_keeping_unknown!(Snapshot, "snapshot metadata",
    required {
        "_type" => type_,
        "spec_version" => spec_version,
        "version" => version,
        "expires" => expires,
        "meta" => meta via BulkMap,
    },
    optional {}
);

impl Role for Snapshot {
    fn type_field(&self) -> &str {
        &self.type_
    }
    const TYPE: &'static str = "snapshot";
    fn version(&self) -> u64 {
        self.version.get()
    }
    fn expires(&self) -> &Expires {
        &self.expires
    }
    fn validate(&self) -> std::result::Result<(), String> {
        self.meta.values().try_for_each(validate_metafile)
    }
}

fn validate_metafile(m: &MetaFile) -> std::result::Result<(), String> {
    match &m.hashes {
        Some(h) if h.is_empty() => Err("meta hashes must not be empty".into()),
        _ => Ok(()),
    }
}

/// A target file's length, hashes and application-specific `custom` data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetFile {
    pub length: u64,
    pub hashes: Hashes,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<Value>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

deserialize_keeping_unknown!(TargetFile, "a target file entry",
    required { "length" => length, "hashes" => hashes },
    optional { "custom" => custom }
);

impl TargetFile {
    /// A description of `data`, hashed with sha256.
    pub fn from_data(data: &[u8]) -> Self {
        let mut hashes = Hashes::default();
        hashes.insert("sha256".into(), hex::encode(Sha256::digest(data)));
        TargetFile {
            length: data.len() as u64,
            hashes,
            custom: None,
            unknown: Unknown::new(),
        }
    }
}

/// Targets metadata, top-level or delegated (§4.5).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Targets {
    #[serde(rename = "_type")]
    pub type_: String,
    pub spec_version: SpecVersion,
    pub version: NonZeroU64,
    pub expires: Expires,
    pub targets: BTreeMap<String, TargetFile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delegations: Option<Delegations>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

deserialize_keeping_unknown!(Targets, "targets metadata",
    required {
        "_type" => type_,
        "spec_version" => spec_version,
        "version" => version,
        "expires" => expires,
        "targets" => targets via BulkMap,
    },
    optional { "delegations" => delegations }
);

impl Role for Targets {
    fn type_field(&self) -> &str {
        &self.type_
    }
    const TYPE: &'static str = "targets";
    fn version(&self) -> u64 {
        self.version.get()
    }
    fn expires(&self) -> &Expires {
        &self.expires
    }
    fn validate(&self) -> std::result::Result<(), String> {
        for (path, t) in &self.targets {
            if t.hashes.is_empty() {
                return Err(format!("target {path:?} has no hashes"));
            }
        }
        match &self.delegations {
            Some(d) => d.validate(),
            None => Ok(()),
        }
    }
}

fn unique_keyids(keyids: &[String]) -> std::result::Result<(), String> {
    // Roles have a few keys: compared pairwise, without allocating.
    if keyids.len() <= 8 {
        for (i, k) in keyids.iter().enumerate() {
            if keyids[..i].contains(k) {
                return Err(format!("key id {k} listed twice"));
            }
        }
        return Ok(());
    }
    let mut seen = BTreeSet::new();
    for k in keyids {
        if !seen.insert(k) {
            return Err(format!("key id {k} listed twice"));
        }
    }
    Ok(())
}

/// One entry of a metadata file's `signatures` list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Signature {
    pub keyid: String,
    pub sig: String,
    #[serde(flatten)]
    pub unknown: Unknown,
}

deserialize_keeping_unknown!(Signature, "a signature",
    required { "keyid" => keyid, "sig" => sig },
    optional {}
);

/// A metadata file as received: the typed `signed` part, its signatures, and
/// the canonical bytes those signatures cover.
#[derive(Debug, Clone)]
pub struct Envelope<T> {
    pub signed: T,
    pub signatures: Vec<Signature>,
    /// OLPC canonical JSON of the `signed` object, exactly as received.
    pub signed_bytes: Vec<u8>,
}

impl<T: Role> Envelope<T> {
    /// Parses metadata bytes; `what` names the file in errors. Checks the
    /// schema and `_type`, refuses duplicate signature key ids, and keeps the
    /// canonical signed bytes. Signatures are not verified here.
    pub fn from_bytes(what: &str, bytes: &[u8]) -> Result<Self> {
        let value = canonical::parse_strict(bytes).map_err(|e| Error::Json {
            what: what.into(),
            reason: e.to_string(),
        })?;
        let Value::Object(mut top) = value else {
            return Err(Error::schema(what, "metadata is not a JSON object"));
        };
        let signed_value = top
            .remove("signed")
            .ok_or_else(|| Error::schema(what, "missing \"signed\""))?;
        let sigs_value = top
            .remove("signatures")
            .ok_or_else(|| Error::schema(what, "missing \"signatures\""))?;
        let found_type = match signed_value.get("_type") {
            Some(Value::String(t)) => t.clone(),
            _ => {
                return Err(Error::schema(
                    what,
                    "\"signed._type\" is missing or not a string",
                ))
            }
        };
        if !signed_value.is_object() {
            return Err(Error::schema(what, "\"signed\" is not an object"));
        }
        if found_type != T::TYPE {
            return Err(Error::WrongType {
                what: what.into(),
                expected: T::TYPE.into(),
                found: found_type,
            });
        }
        let signatures: Vec<Signature> = serde_json::from_value(sigs_value)
            .map_err(|e| Error::schema(what, format_args!("signatures: {e}")))?;
        let mut seen = BTreeSet::new();
        for s in &signatures {
            if !seen.insert(s.keyid.as_str()) {
                return Err(Error::DuplicateSignature {
                    role: what.into(),
                    keyid: s.keyid.clone(),
                });
            }
        }
        let signed_bytes = canonical::value_to_canonical(&signed_value)
            .map_err(|e| Error::schema(what, format_args!("no canonical form: {e}")))?;
        // The typed value is read from the bytes again rather than from the
        // value tree: the tree is dropped first, which halves the peak memory
        // of large metadata (snapshot and targets of hashed-bin repositories).
        // The strict pass above already refused duplicate keys and depth.
        drop(signed_value);
        #[derive(Deserialize)]
        #[serde(bound = "T: DeserializeOwned")]
        struct SignedOnly<T> {
            signed: T,
        }
        let signed: T = serde_json::from_slice::<SignedOnly<T>>(bytes)
            .map_err(|e| Error::schema(what, e))?
            .signed;
        signed.validate().map_err(|e| Error::schema(what, e))?;
        Ok(Envelope {
            signed,
            signatures,
            signed_bytes,
        })
    }
}
