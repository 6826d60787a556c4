//! Delegations (§4.5): explicit roles with `paths` or `path_hash_prefixes`,
//! TAP 15 succinct hash bins, the shell-style path patterns, and the lookup
//! index that keeps thousands of hashed bins cheap.

use super::{unique_keyids, Unknown, TOP_LEVEL_ROLES};
use crate::keys::Key;
use crate::metadata::fields::deserialize_keeping_unknown;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::num::NonZeroU64;

/// Delegations from a targets role (§4.5), with either explicit `roles` or
/// TAP 15 `succinct_roles` (hash bins described by one entry).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Delegations {
    pub keys: BTreeMap<String, Key>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<DelegatedRole>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub succinct_roles: Option<SuccinctRoles>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

deserialize_keeping_unknown!(Delegations, "delegations",
    required { "keys" => keys },
    optional { "roles" => roles, "succinct_roles" => succinct_roles }
);

/// One delegated role, with the target paths it may sign for.
#[derive(Debug, Clone, PartialEq, Serialize)]
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

deserialize_keeping_unknown!(DelegatedRole, "a delegated role",
    required {
        "name" => name,
        "keyids" => keyids,
        "threshold" => threshold,
        "terminating" => terminating,
    },
    optional { "paths" => paths, "path_hash_prefixes" => path_hash_prefixes }
);

/// TAP 15 succinct hash bin delegation: `2^bit_length` bins named
/// `{name_prefix}-{bin in hex}`, all signed by the same keys.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SuccinctRoles {
    pub keyids: Vec<String>,
    pub threshold: NonZeroU64,
    pub bit_length: u32,
    pub name_prefix: String,
    #[serde(flatten)]
    pub unknown: Unknown,
}

deserialize_keeping_unknown!(SuccinctRoles, "succinct roles",
    required {
        "keyids" => keyids,
        "threshold" => threshold,
        "bit_length" => bit_length,
        "name_prefix" => name_prefix,
    },
    optional {}
);

/// Keys and threshold that a role's signatures must meet.
#[derive(Debug, Clone, Copy)]
pub struct Rule<'a> {
    pub keyids: &'a [String],
    pub threshold: u64,
    pub keys: &'a BTreeMap<String, Key>,
}

impl Delegations {
    pub(super) fn validate(&self) -> std::result::Result<(), String> {
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
            let mut names = HashSet::with_capacity(roles.len());
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
/// A quick multiply-rotate hash for small integer keys the repository editor
/// makes itself (never for keys read from metadata: it is not keyed, so
/// colliding strings are easy to make).
#[derive(Debug, Clone, Copy, Default)]
pub struct FastHash;

impl std::hash::BuildHasher for FastHash {
    type Hasher = FastHasher;
    fn build_hasher(&self) -> FastHasher {
        FastHasher(0)
    }
}

/// The hasher of [`FastHash`].
#[derive(Debug, Clone, Copy)]
pub struct FastHasher(u64);

impl std::hash::Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes(c.try_into().expect("8 bytes"));
            self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(K);
        }
        let mut last = [0u8; 8];
        let rest = chunks.remainder();
        last[..rest.len()].copy_from_slice(rest);
        self.0 =
            (self.0.rotate_left(5) ^ u64::from_le_bytes(last) ^ bytes.len() as u64).wrapping_mul(K);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// Lookups over a delegations object with thousands of roles: by name, and
/// by target path through `path_hash_prefixes`. It holds indices into the
/// `Delegations` it was built from (pass that same value to every lookup),
/// kept in sorted vectors: no string is copied, and building it for 16,384
/// bins of four prefixes each costs one pass over already sorted input.
#[derive(Debug, Clone, Default)]
pub struct DelegationIndex {
    /// Indices into `roles`, sorted by name (ties by index).
    by_name: Vec<u32>,
    /// Roles with `paths`: checked one by one.
    path_roles: Vec<usize>,
    /// Prefixes of up to 16 bytes, packed: (length, bytes, role), sorted.
    by_prefix: Vec<(PackedPrefix, u32)>,
    /// Longer prefixes: (role, position in its `path_hash_prefixes`),
    /// sorted by the prefix (ties by role).
    long_prefixes: Vec<(u32, u32)>,
    prefix_lengths: BTreeSet<usize>,
    /// For prefixes of 1 to [`TABLE_DIGITS`] hex digits: the first role
    /// listing each, plus one (0: none), at the prefix's value. One memory
    /// access per lookup where a search would miss the cache a dozen times.
    tables: [Vec<u32>; TABLE_DIGITS],
}

/// Prefix lengths looked up by table: 16 + 256 + 4,096 + 65,536 entries at most.
const TABLE_DIGITS: usize = 4;

/// The value of a prefix of lowercase hex digits (the only ones a digest's
/// hex can start with).
fn hex_value(prefix: &str) -> Option<usize> {
    prefix.bytes().try_fold(0usize, |v, b| {
        let d = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            _ => return None,
        };
        Some(v << 4 | d as usize)
    })
}

/// A short prefix as a fixed-size key: its length, then its bytes.
type PackedPrefix = (u8, u128);

fn pack(prefix: &str) -> Option<PackedPrefix> {
    let b = prefix.as_bytes();
    (b.len() <= 16).then(|| {
        let mut bytes = [0u8; 16];
        bytes[..b.len()].copy_from_slice(b);
        (b.len() as u8, u128::from_be_bytes(bytes))
    })
}

fn prefix_at(roles: &[DelegatedRole], (r, k): (u32, u32)) -> &str {
    roles[r as usize]
        .path_hash_prefixes
        .as_ref()
        .map_or("", |p| p[k as usize].as_str())
}

impl DelegationIndex {
    pub fn new(d: &Delegations) -> Self {
        let mut index = DelegationIndex::default();
        let Some(roles) = &d.roles else {
            return index;
        };
        // Metadata sizes are bounded far below u32::MAX roles or prefixes.
        let roles = &roles[..roles.len().min(u32::MAX as usize)];
        index.by_name = (0..roles.len() as u32).collect();
        // Stable sorts: linear on input already in order, as bins are.
        index
            .by_name
            .sort_by(|&a, &b| roles[a as usize].name.cmp(&roles[b as usize].name));
        for (i, r) in roles.iter().enumerate() {
            if r.paths.is_some() {
                index.path_roles.push(i);
            }
            for (k, p) in r.path_hash_prefixes.iter().flatten().enumerate() {
                index.prefix_lengths.insert(p.len());
                if (1..=TABLE_DIGITS).contains(&p.len()) {
                    if let Some(v) = hex_value(p) {
                        let table = &mut index.tables[p.len() - 1];
                        if table.is_empty() {
                            table.resize(1 << (4 * p.len()), 0);
                        }
                        if table[v] == 0 {
                            table[v] = i as u32 + 1;
                        }
                    }
                }
                match pack(p) {
                    Some(packed) => index.by_prefix.push((packed, i as u32)),
                    None => index
                        .long_prefixes
                        .push((i as u32, k.min(u32::MAX as usize) as u32)),
                }
            }
        }
        // (prefix, role) pairs: the first of equal prefixes is the first role.
        index.by_prefix.sort_unstable();
        index
            .long_prefixes
            .sort_by(|&a, &b| prefix_at(roles, a).cmp(prefix_at(roles, b)));
        index
    }

    /// The first role (lowest index) whose name is `name`.
    fn role_named(&self, roles: &[DelegatedRole], name: &str) -> Option<usize> {
        let at = self
            .by_name
            .partition_point(|&i| roles[i as usize].name.as_str() < name);
        let &i = self.by_name.get(at)?;
        (roles[i as usize].name == name).then_some(i as usize)
    }

    /// Every role listing `prefix` among its `path_hash_prefixes`.
    fn all_with_prefix(&self, roles: &[DelegatedRole], prefix: &str, out: &mut Vec<usize>) {
        match pack(prefix) {
            Some(packed) => {
                let at = self.by_prefix.partition_point(|&(p, _)| p < packed);
                out.extend(
                    self.by_prefix[at..]
                        .iter()
                        .take_while(|&&(p, _)| p == packed)
                        .map(|&(_, r)| r as usize),
                );
            }
            None => {
                let at = self
                    .long_prefixes
                    .partition_point(|&e| prefix_at(roles, e) < prefix);
                out.extend(
                    self.long_prefixes[at..]
                        .iter()
                        .take_while(|&&e| prefix_at(roles, e) == prefix)
                        .map(|&(r, _)| r as usize),
                );
            }
        }
    }

    /// Same as [`Delegations::rule`].
    pub fn rule<'a>(&self, d: &'a Delegations, name: &str) -> Option<Rule<'a>> {
        match &d.roles {
            Some(roles) => self.role_named(roles, name).map(|i| Rule {
                keyids: &roles[i].keyids,
                threshold: roles[i].threshold.get(),
                keys: &d.keys,
            }),
            None => d.rule(name),
        }
    }

    /// The first role [`Self::roles_for_target`] would list, without
    /// allocating: an index into `d.roles`, or for succinct bins the bin
    /// number. [`Self::delegate_name`] turns it into the role's name.
    pub fn first_role_for_target(&self, d: &Delegations, target_path: &str) -> Option<u64> {
        let Some(roles) = &d.roles else {
            return d
                .succinct_roles
                .as_ref()
                .map(|s| s.bin_for_target(target_path));
        };
        let mut best = self.path_roles.iter().copied().find(|&i| {
            roles[i]
                .paths
                .iter()
                .flatten()
                .any(|p| path_matches(p, target_path))
        });
        if !self.prefix_lengths.is_empty() {
            let digest = Sha256::digest(target_path.as_bytes());
            let top = u16::from_be_bytes([digest[0], digest[1]]) as usize;
            // Prefixes the tables do not hold (empty, or longer) are rare:
            // the digest's hex and their search only for those.
            let mut found = Vec::new();
            let mut hex: Option<[u8; 64]> = None;
            for &len in &self.prefix_lengths {
                if (1..=TABLE_DIGITS).contains(&len) {
                    let table = &self.tables[len - 1];
                    if let Some(&r) = table.get(top >> (4 * (TABLE_DIGITS - len))) {
                        if r > 0 {
                            let r = r as usize - 1;
                            best = Some(best.map_or(r, |b| b.min(r)));
                        }
                    }
                    continue;
                }
                let hex = hex.get_or_insert_with(|| {
                    let mut hex = [0u8; 64];
                    hex::encode_to_slice(digest, &mut hex).expect("64 hex digits");
                    hex
                });
                let hex = std::str::from_utf8(hex).expect("hex is ASCII");
                if let Some(prefix) = hex.get(..len) {
                    self.all_with_prefix(roles, prefix, &mut found);
                }
            }
            best = best.into_iter().chain(found).min();
        }
        best.map(|i| i as u64)
    }

    /// The name of the role [`Self::first_role_for_target`] returned.
    pub fn delegate_name(d: &Delegations, delegate: u64) -> String {
        match (&d.roles, &d.succinct_roles) {
            (Some(roles), _) => roles[delegate as usize].name.clone(),
            (None, Some(s)) => s.bin_name(delegate),
            (None, None) => unreachable!("validated: delegations has roles or succinct_roles"),
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
        if !self.prefix_lengths.is_empty() {
            let hash = hex::encode(Sha256::digest(target_path.as_bytes()));
            for &len in &self.prefix_lengths {
                if let Some(prefix) = hash.get(..len) {
                    self.all_with_prefix(roles, prefix, &mut hits);
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
        self.bin_name(self.bin_for_target(target_path))
    }

    /// The number of the bin that signs for `target_path`.
    pub fn bin_for_target(&self, target_path: &str) -> u64 {
        let h = Sha256::digest(target_path.as_bytes());
        let first = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
        u64::from(first) >> (32 - self.bit_length)
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

#[cfg(test)]
mod tests {
    use super::*;

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
            let all = d.roles_for_target(&path);
            assert_eq!(index.roles_for_target(&d, &path), all, "{path}");
            let first = index
                .first_role_for_target(&d, &path)
                .map(|i| DelegationIndex::delegate_name(&d, i));
            assert_eq!(first.as_ref(), all.first().map(|(n, _)| n), "{path}");
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
