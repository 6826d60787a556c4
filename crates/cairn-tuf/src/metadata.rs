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

use crate::canonical;
use crate::error::{Error, Result};
use crate::keys::Key;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap};
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoleKeys {
    pub keyids: Vec<String>,
    pub threshold: NonZeroU64,
    #[serde(flatten)]
    pub unknown: Unknown,
}

/// Root metadata (§4.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetaFile {
    pub version: NonZeroU64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hashes: Option<Hashes>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

impl Timestamp {
    /// The snapshot entry (validation guarantees it exists).
    pub fn snapshot_meta(&self) -> &MetaFile {
        &self.meta["snapshot.json"]
    }
}

impl Role for Timestamp {
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

impl Role for Snapshot {
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

/// Hash algorithm → hex digest, sorted by algorithm name.
///
/// A sorted vector rather than a `BTreeMap`: targets metadata holds one of
/// these per target, and a `BTreeMap`'s first node alone costs about half a
/// kilobyte, which dominated the memory of a client holding many hashed bins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hashes(Vec<(String, String)>);

impl Hashes {
    /// The digest listed for `algorithm`.
    pub fn get(&self, algorithm: &str) -> Option<&str> {
        self.find(algorithm).ok().map(|i| self.0[i].1.as_str())
    }
    /// Sets the digest for `algorithm`; returns the previous one.
    pub fn insert(&mut self, algorithm: String, digest: String) -> Option<String> {
        match self.find(&algorithm) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, digest)),
            Err(i) => {
                self.0.insert(i, (algorithm, digest));
                None
            }
        }
    }
    pub fn remove(&mut self, algorithm: &str) -> Option<String> {
        self.find(algorithm).ok().map(|i| self.0.remove(i).1)
    }
    /// (algorithm, digest) pairs, sorted by algorithm.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(a, d)| (a.as_str(), d.as_str()))
    }
    pub fn algorithms(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(a, _)| a.as_str())
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    fn find(&self, algorithm: &str) -> std::result::Result<usize, usize> {
        self.0.binary_search_by(|(a, _)| a.as_str().cmp(algorithm))
    }
}

impl std::ops::Index<&str> for Hashes {
    type Output = str;
    fn index(&self, algorithm: &str) -> &str {
        self.get(algorithm).expect("hash algorithm listed")
    }
}

impl FromIterator<(String, String)> for Hashes {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        let mut h = Hashes::default();
        for (a, d) in iter {
            h.insert(a, d);
        }
        h
    }
}

impl Serialize for Hashes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (a, d) in &self.0 {
            m.serialize_entry(a, d)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for Hashes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Hashes;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of hash algorithm to hex digest")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Hashes, A::Error> {
                let mut h = Hashes::default();
                while let Some((a, d)) = map.next_entry::<String, String>()? {
                    if h.insert(a.clone(), d).is_some() {
                        return Err(serde::de::Error::custom(format_args!(
                            "hash algorithm {a:?} listed twice"
                        )));
                    }
                }
                Ok(h)
            }
        }
        d.deserialize_map(V)
    }
}

/// A target file's length, hashes and application-specific `custom` data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetFile {
    pub length: u64,
    pub hashes: Hashes,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<Value>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

impl Role for Targets {
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

/// Delegations from a targets role (§4.5), with either explicit `roles` or
/// TAP 15 `succinct_roles` (hash bins described by one entry).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delegations {
    pub keys: BTreeMap<String, Key>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<DelegatedRole>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub succinct_roles: Option<SuccinctRoles>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

/// One delegated role, with the target paths it may sign for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DelegatedRole {
    pub name: String,
    pub keyids: Vec<String>,
    pub threshold: NonZeroU64,
    pub terminating: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paths: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_hash_prefixes: Option<Vec<String>>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

/// TAP 15 succinct hash bin delegation: `2^bit_length` bins named
/// `{name_prefix}-{bin in hex}`, all signed by the same keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuccinctRoles {
    pub keyids: Vec<String>,
    pub threshold: NonZeroU64,
    pub bit_length: u32,
    pub name_prefix: String,
    #[serde(flatten)]
    pub unknown: Unknown,
}

/// Keys and threshold that a role's signatures must meet.
#[derive(Debug, Clone, Copy)]
pub struct Rule<'a> {
    pub keyids: &'a [String],
    pub threshold: u64,
    pub keys: &'a BTreeMap<String, Key>,
}

impl Delegations {
    fn validate(&self) -> std::result::Result<(), String> {
        match (&self.roles, &self.succinct_roles) {
            (Some(_), Some(_)) => {
                return Err("delegations has both \"roles\" and \"succinct_roles\"".into())
            }
            (None, None) => {
                return Err("delegations has neither \"roles\" nor \"succinct_roles\"".into())
            }
            _ => {}
        }
        if let Some(roles) = &self.roles {
            let mut names = BTreeSet::new();
            for r in roles {
                if !names.insert(r.name.as_str()) {
                    return Err(format!("delegated role {:?} appears twice", r.name));
                }
                if TOP_LEVEL_ROLES.contains(&r.name.as_str()) {
                    return Err(format!(
                        "delegated role {:?} has the name of a top-level role",
                        r.name
                    ));
                }
                if r.paths.is_some() == r.path_hash_prefixes.is_some() {
                    return Err(format!(
                        "delegated role {:?} must have exactly one of \"paths\" and \"path_hash_prefixes\"",
                        r.name
                    ));
                }
                unique_keyids(&r.keyids).map_err(|e| format!("role {}: {e}", r.name))?;
            }
        }
        if let Some(s) = &self.succinct_roles {
            if !(1..=32).contains(&s.bit_length) {
                return Err(format!(
                    "succinct_roles bit_length {} is not within 1..=32",
                    s.bit_length
                ));
            }
            unique_keyids(&s.keyids).map_err(|e| format!("succinct_roles: {e}"))?;
        }
        Ok(())
    }

    /// The keys and threshold for delegated role `name`, if this delegates to it.
    pub fn rule(&self, name: &str) -> Option<Rule<'_>> {
        if let Some(roles) = &self.roles {
            return roles.iter().find(|r| r.name == name).map(|r| Rule {
                keyids: &r.keyids,
                threshold: r.threshold.get(),
                keys: &self.keys,
            });
        }
        let s = self.succinct_roles.as_ref()?;
        s.is_bin(name).then_some(Rule {
            keyids: &s.keyids,
            threshold: s.threshold.get(),
            keys: &self.keys,
        })
    }

    /// Roles that may sign for `target_path`, in order of trust, with their
    /// `terminating` flag (§5.6.7.2). Succinct bins are never terminating.
    pub fn roles_for_target(&self, target_path: &str) -> Vec<(String, bool)> {
        if let Some(roles) = &self.roles {
            let mut path_hash = None;
            roles
                .iter()
                .filter(|r| r.is_delegated_path(target_path, &mut path_hash))
                .map(|r| (r.name.clone(), r.terminating))
                .collect()
        } else if let Some(s) = &self.succinct_roles {
            vec![(s.role_for_target(target_path), false)]
        } else {
            Vec::new()
        }
    }
}

/// Lookup tables over a [`Delegations`] with explicit `roles`, for
/// repositories with thousands of delegated roles (hashed bins): role by
/// name, and candidate roles by path hash prefix. Results are identical to
/// [`Delegations::rule`] and [`Delegations::roles_for_target`], only faster.
#[derive(Debug, Clone, Default)]
pub struct DelegationIndex {
    by_name: HashMap<String, usize>,
    /// Roles with `paths`: checked one by one.
    path_roles: Vec<usize>,
    /// `path_hash_prefixes` entry → roles listing it.
    by_prefix: HashMap<String, Vec<usize>>,
    prefix_lengths: BTreeSet<usize>,
}

impl DelegationIndex {
    pub fn new(d: &Delegations) -> Self {
        let mut index = DelegationIndex::default();
        for (i, r) in d.roles.iter().flatten().enumerate() {
            index.by_name.entry(r.name.clone()).or_insert(i);
            if r.paths.is_some() {
                index.path_roles.push(i);
            }
            for p in r.path_hash_prefixes.iter().flatten() {
                index.prefix_lengths.insert(p.len());
                index.by_prefix.entry(p.clone()).or_default().push(i);
            }
        }
        index
    }

    /// Same as [`Delegations::rule`].
    pub fn rule<'a>(&self, d: &'a Delegations, name: &str) -> Option<Rule<'a>> {
        match &d.roles {
            Some(roles) => self.by_name.get(name).map(|&i| Rule {
                keyids: &roles[i].keyids,
                threshold: roles[i].threshold.get(),
                keys: &d.keys,
            }),
            None => d.rule(name),
        }
    }

    /// Same as [`Delegations::roles_for_target`].
    pub fn roles_for_target(&self, d: &Delegations, target_path: &str) -> Vec<(String, bool)> {
        let Some(roles) = &d.roles else {
            return d.roles_for_target(target_path);
        };
        let mut hits: Vec<usize> = self
            .path_roles
            .iter()
            .copied()
            .filter(|&i| {
                roles[i]
                    .paths
                    .iter()
                    .flatten()
                    .any(|p| path_matches(p, target_path))
            })
            .collect();
        if !self.by_prefix.is_empty() {
            let hash = hex::encode(Sha256::digest(target_path.as_bytes()));
            for &len in &self.prefix_lengths {
                if let Some(found) = hash.get(..len).and_then(|p| self.by_prefix.get(p)) {
                    hits.extend(found);
                }
            }
        }
        hits.sort_unstable();
        hits.dedup();
        hits.into_iter()
            .map(|i| (roles[i].name.clone(), roles[i].terminating))
            .collect()
    }
}

impl DelegatedRole {
    /// Whether this role is trusted for `target_path`: a `paths` pattern
    /// matches it, or its sha256 starts with one of `path_hash_prefixes`.
    /// `path_hash` caches the hex digest across roles.
    pub fn is_delegated_path(&self, target_path: &str, path_hash: &mut Option<String>) -> bool {
        if let Some(paths) = &self.paths {
            return paths.iter().any(|p| path_matches(p, target_path));
        }
        if let Some(prefixes) = &self.path_hash_prefixes {
            let h = path_hash
                .get_or_insert_with(|| hex::encode(Sha256::digest(target_path.as_bytes())));
            return prefixes.iter().any(|p| h.starts_with(p.as_str()));
        }
        false
    }
}

impl SuccinctRoles {
    fn suffix_len(&self) -> usize {
        self.bit_length.div_ceil(4) as usize
    }

    /// Number of bins, `2^bit_length`.
    pub fn bin_count(&self) -> u64 {
        1u64 << self.bit_length
    }

    /// Name of bin number `bin`.
    pub fn bin_name(&self, bin: u64) -> String {
        format!(
            "{}-{:0width$x}",
            self.name_prefix,
            bin,
            width = self.suffix_len()
        )
    }

    /// The bin whose role signs for `target_path`: the first `bit_length`
    /// bits of sha256(target_path).
    pub fn role_for_target(&self, target_path: &str) -> String {
        let h = Sha256::digest(target_path.as_bytes());
        let first = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
        let bin = u64::from(first) >> (32 - self.bit_length);
        self.bin_name(bin)
    }

    /// Whether `name` is one of the bins.
    pub fn is_bin(&self, name: &str) -> bool {
        let Some(suffix) = name
            .strip_prefix(self.name_prefix.as_str())
            .and_then(|s| s.strip_prefix('-'))
        else {
            return false;
        };
        if suffix.len() != self.suffix_len()
            || !suffix
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return false;
        }
        u64::from_str_radix(suffix, 16).is_ok_and(|n| n < self.bin_count())
    }
}

/// Shell-style match of a target path against a delegation pattern, where
/// `*` and `?` do not match `/`: pattern and path must have the same number
/// of `/`-separated parts and each part must match (`*`, `?`, `[seq]`, `[!seq]`),
/// the way python-tuf applies `fnmatch` per part. Case-sensitive.
pub fn path_matches(pattern: &str, path: &str) -> bool {
    let pat_parts: Vec<&str> = pattern.split('/').collect();
    let path_parts: Vec<&str> = path.split('/').collect();
    pat_parts.len() == path_parts.len()
        && pat_parts
            .iter()
            .zip(&path_parts)
            .all(|(p, s)| glob_part(p.as_bytes(), s.as_bytes()))
}

// Iterative wildcard matching with single-star backtracking: linear memory,
// no recursion, at most O(len(p) * len(s)) steps.
fn glob_part(p: &[u8], s: &[u8]) -> bool {
    let (mut pi, mut si) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() {
            match p[pi] {
                b'*' => {
                    star = Some((pi, si));
                    pi += 1;
                    continue;
                }
                b'?' => {
                    pi += 1;
                    si += 1;
                    continue;
                }
                b'[' => {
                    if let Some((matched, next)) = class_match(&p[pi..], s[si]) {
                        if matched {
                            pi += next;
                            si += 1;
                            continue;
                        }
                    } else if s[si] == b'[' {
                        // An unclosed '[' is a literal, as in fnmatch.
                        pi += 1;
                        si += 1;
                        continue;
                    }
                }
                c if c == s[si] => {
                    pi += 1;
                    si += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, ss)) => {
                pi = sp + 1;
                si = ss + 1;
                star = Some((sp, ss + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

// Matches `c` against a bracket expression at the start of `p`. Returns
// (matched, length of the expression), or None when the bracket is unclosed.
fn class_match(p: &[u8], c: u8) -> Option<(bool, usize)> {
    let mut i = 1;
    let negate = matches!(p.get(i), Some(b'!'));
    if negate {
        i += 1;
    }
    let start = i;
    let mut matched = false;
    loop {
        let cur = *p.get(i)?;
        if cur == b']' && i > start {
            break;
        }
        if p.get(i + 1) == Some(&b'-') && p.get(i + 2).is_some_and(|&e| e != b']') {
            let end = p[i + 2];
            if cur <= c && c <= end {
                matched = true;
            }
            i += 3;
        } else {
            if cur == c {
                matched = true;
            }
            i += 1;
        }
    }
    Some((matched != negate, i + 1))
}

fn unique_keyids(keyids: &[String]) -> std::result::Result<(), String> {
    let mut seen = BTreeSet::new();
    for k in keyids {
        if !seen.insert(k) {
            return Err(format!("key id {k} listed twice"));
        }
    }
    Ok(())
}

/// Checks `data` against every listed hash. An algorithm this client cannot
/// compute is an error: a file that cannot be checked is not accepted.
pub fn verify_hashes(what: &str, hashes: &Hashes, data: &[u8]) -> Result<()> {
    let mut h = MultiHasher::new(what, hashes)?;
    h.update(data);
    h.finish()
}

/// Incremental form of [`verify_hashes`], for targets streamed to disk.
pub struct MultiHasher<'a> {
    what: &'a str,
    expected: &'a Hashes,
    states: Vec<(&'a str, HashState)>,
}

enum HashState {
    Sha224(sha2::Sha224),
    Sha256(sha2::Sha256),
    Sha384(sha2::Sha384),
    Sha512(sha2::Sha512),
}

impl<'a> MultiHasher<'a> {
    pub fn new(what: &'a str, expected: &'a Hashes) -> Result<Self> {
        let mut states = Vec::new();
        for alg in expected.algorithms() {
            let st = match alg {
                "sha224" => HashState::Sha224(Default::default()),
                "sha256" => HashState::Sha256(Default::default()),
                "sha384" => HashState::Sha384(Default::default()),
                "sha512" => HashState::Sha512(Default::default()),
                other => {
                    return Err(Error::UnsupportedHash {
                        what: what.into(),
                        algorithm: other.into(),
                    })
                }
            };
            states.push((alg, st));
        }
        Ok(MultiHasher {
            what,
            expected,
            states,
        })
    }

    pub fn update(&mut self, data: &[u8]) {
        for (_, st) in &mut self.states {
            match st {
                HashState::Sha224(h) => h.update(data),
                HashState::Sha256(h) => h.update(data),
                HashState::Sha384(h) => h.update(data),
                HashState::Sha512(h) => h.update(data),
            }
        }
    }

    pub fn finish(self) -> Result<()> {
        for (alg, st) in self.states {
            let got = match st {
                HashState::Sha224(h) => hex::encode(h.finalize()),
                HashState::Sha256(h) => hex::encode(h.finalize()),
                HashState::Sha384(h) => hex::encode(h.finalize()),
                HashState::Sha512(h) => hex::encode(h.finalize()),
            };
            if got != self.expected[alg] {
                return Err(Error::HashMismatch {
                    what: self.what.into(),
                    algorithm: alg.into(),
                });
            }
        }
        Ok(())
    }
}

/// One entry of a metadata file's `signatures` list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signature {
    pub keyid: String,
    pub sig: String,
    #[serde(flatten)]
    pub unknown: Unknown,
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_keep_algorithm_order_and_round_trip() {
        let h: Hashes = serde_json::from_str(r#"{"sha512": "bb", "sha256": "aa"}"#).unwrap();
        assert_eq!(
            h.iter().collect::<Vec<_>>(),
            [("sha256", "aa"), ("sha512", "bb")]
        );
        assert_eq!(&h["sha512"], "bb");
        assert_eq!(
            serde_json::to_string(&h).unwrap(),
            r#"{"sha256":"aa","sha512":"bb"}"#
        );
        // Only reachable without the strict parser, which refuses this first.
        assert!(serde_json::from_str::<Hashes>(r#"{"sha256": "a", "sha256": "b"}"#).is_err());
        assert!(serde_json::from_str::<Hashes>(r#"{"sha256": 1}"#).is_err());
    }

    #[test]
    fn star_does_not_match_slash() {
        assert!(path_matches("*.md", "README.md"));
        assert!(!path_matches("*.md", "releases/README.md"));
        assert!(path_matches("releases/*/*", "releases/x/y"));
        assert!(!path_matches("releases/*/*", "releases/x"));
        assert!(path_matches("foo-?.tgz", "foo-1.tgz"));
        assert!(!path_matches("foo-?.tgz", "foo-alpha.tgz"));
        assert!(!path_matches("*.md", "README.MD"));
        assert!(path_matches("*", "anything"));
        assert!(!path_matches("*", "a/b"));
        assert!(path_matches("a[0-9]", "a5"));
        assert!(!path_matches("a[!0-9]", "a5"));
        assert!(path_matches("a[!0-9]", "ab"));
        assert!(path_matches("*a*b*c", "xxaxxbxxc"));
        assert!(!path_matches("*a*b*c", "xxaxxbxxcx"));
        assert!(path_matches("[", "["));
    }

    #[test]
    fn the_index_agrees_with_the_linear_search() {
        let role = |name: &str, paths: Option<Vec<&str>>, prefixes: Option<Vec<&str>>, t: bool| {
            DelegatedRole {
                name: name.into(),
                keyids: vec![],
                threshold: NonZeroU64::new(1).unwrap(),
                terminating: t,
                paths: paths.map(|v| v.into_iter().map(String::from).collect()),
                path_hash_prefixes: prefixes.map(|v| v.into_iter().map(String::from).collect()),
                unknown: Unknown::new(),
            }
        };
        let mut roles = vec![
            role("all", Some(vec!["*"]), None, false),
            role("empty-prefix", None, Some(vec![""]), false),
            role("a-docs", Some(vec!["docs/*", "*.md"]), None, true),
            role(
                "long",
                None,
                Some(vec![
                    "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
                ]),
                false,
            ),
            role("too-long", None, Some(vec![&"0".repeat(70)]), false),
            role("upper", None, Some(vec!["2C"]), false),
        ];
        for i in 0..256 {
            let p = format!("{i:02x}");
            let q = format!("{:01x}", i % 16);
            roles.push(role(
                &format!("bin-{p}"),
                None,
                Some(vec![&p, &q]),
                i % 7 == 0,
            ));
        }
        let d = Delegations {
            keys: BTreeMap::new(),
            roles: Some(roles),
            succinct_roles: None,
            unknown: Unknown::new(),
        };
        let index = DelegationIndex::new(&d);
        for path in ["foo", "docs/x", "README.md", "a/b/c", "", "x.md"]
            .into_iter()
            .map(String::from)
            .chain((0..500).map(|i| format!("files/{i}")))
        {
            assert_eq!(
                index.roles_for_target(&d, &path),
                d.roles_for_target(&path),
                "{path}"
            );
        }
        for name in ["all", "bin-ff", "upper", "missing"] {
            assert_eq!(
                index.rule(&d, name).map(|r| r.keyids.len()),
                d.rule(name).map(|r| r.keyids.len())
            );
        }
    }

    #[test]
    fn succinct_bins_are_named_by_hash_prefix() {
        let s = SuccinctRoles {
            keyids: vec![],
            threshold: NonZeroU64::new(1).unwrap(),
            bit_length: 8,
            name_prefix: "bin".into(),
            unknown: Unknown::new(),
        };
        // sha256("foo") starts with 2c.
        assert_eq!(s.role_for_target("foo"), "bin-2c");
        assert!(s.is_bin("bin-00") && s.is_bin("bin-ff"));
        assert!(!s.is_bin("bin-100") && !s.is_bin("bin-0") && !s.is_bin("bin-FF"));
        let s12 = SuccinctRoles {
            bit_length: 12,
            ..s
        };
        assert_eq!(s12.role_for_target("foo"), "bin-2c2");
        assert!(!s12.is_bin("bin-1000"));
    }
}
