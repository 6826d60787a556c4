//! A stored targets role read for editing without parsing its entries.
//!
//! A hashed bin that gains one target is re-signed with all the targets it
//! already lists. Parsing those into [`TargetFile`](crate::metadata::TargetFile)s
//! and encoding them again costs most of a small commit on a large
//! repository (a batch of 1,000 targets touches about 1,000 bins of 60
//! entries each), and gives back the very bytes that were read. So when a
//! stored role is plainly canonical, as this editor writes it, its entries
//! stay the bytes they are ([`Kept`]); the rest of the role (type, version,
//! expiry, delegations) is parsed as usual. Anything the check does not
//! accept — another tool's pretty-printed file, an escaped key — is parsed
//! whole instead, so the fast path changes what is accepted in no case.
//! The same scan splits a delegating role's list of delegated roles (16,384
//! hash bins in targets.json) so that they are parsed on every core.

use super::Stored;
use crate::canonical::Scan;
use crate::metadata::{DelegatedRole, Signature, Targets};
use rayon::prelude::*;

/// One entry of a kept `targets` map: the key's bytes (inside the quotes)
/// end at `key_end`, and the entry (`"KEY":VALUE`) at `end`.
#[derive(Clone, Copy)]
struct Entry {
    key: u32,
    key_end: u32,
    end: u32,
}

/// The entries of a stored role's `targets` map, as canonical bytes, sorted
/// by path. Each entry was checked to be a target file: `length` a
/// non-negative integer and `hashes` a non-empty object of strings.
#[derive(Default)]
pub(super) struct Kept {
    file: String,
    entries: Vec<Entry>,
}

impl Kept {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Bytes held (the file they came from).
    pub fn size(&self) -> usize {
        self.file.len()
    }

    fn path(&self, e: Entry) -> &str {
        // Between two quotes, which are ASCII: character boundaries.
        &self.file[e.key as usize..e.key_end as usize]
    }

    /// (path, the entry's canonical bytes `"PATH":{...}`), in path order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> + '_ {
        self.entries.iter().map(|&e| {
            (
                self.path(e),
                &self.file.as_bytes()[e.key as usize - 1..e.end as usize],
            )
        })
    }

    /// Drops the entry for `path`; whether there was one.
    pub fn remove(&mut self, path: &str) -> bool {
        match self.entries.binary_search_by(|&e| self.path(e).cmp(path)) {
            Ok(i) => {
                self.entries.remove(i);
                true
            }
            Err(_) => false,
        }
    }
}

/// Reads a stored targets role whose file is canonical: its signatures, the
/// role without its targets, and the targets kept as bytes. When the file is
/// anything else, it comes back as the error, for the caller to parse whole
/// (which also reports what is wrong with it).
pub(super) fn read(file: Vec<u8>) -> Result<(Stored<Targets>, Kept), Vec<u8>> {
    let file = String::from_utf8(file).map_err(|e| e.into_bytes())?;
    match scan_role(&file) {
        Some((stored, entries)) => Ok((stored, Kept { file, entries })),
        None => Err(file.into_bytes()),
    }
}

fn scan_role(file: &str) -> Option<(Stored<Targets>, Vec<Entry>)> {
    if u32::try_from(file.len()).is_err() {
        return None;
    }
    let scan = Scan::new(file);
    let b = scan.bytes();
    let mut signatures = None;
    let mut signed = None;
    let mut targets = None;
    let mut roles = None;
    let mut role_spans = Vec::new();
    let mut entries = Vec::new();
    let end = scan.object(0, 0, |key, at| {
        let end = match key {
            "signed" => scan.object(at, 1, |key, at| match key {
                "targets" => {
                    let end = scan.object(at, 2, |path, v| {
                        let end = target_file(&scan, v, 3)?;
                        // `"PATH":` precedes the value; offsets fit: the file does.
                        let key_end = v - 2;
                        entries.push(Entry {
                            key: (key_end - path.len()) as u32,
                            key_end: key_end as u32,
                            end: end as u32,
                        });
                        Some(end)
                    })?;
                    targets = Some(at..end);
                    Some(end)
                }
                "delegations" => scan.object(at, 2, |key, at| {
                    if key != "roles" {
                        return scan.value(at, 3);
                    }
                    let end = scan.items(at, 3, |v| {
                        let end = scan.value(v, 4)?;
                        role_spans.push(v..end);
                        Some(end)
                    })?;
                    roles = Some(at..end);
                    Some(end)
                }),
                _ => scan.value(at, 2),
            })?,
            _ => scan.value(at, 1)?,
        };
        match key {
            "signatures" => signatures = Some(at..end),
            "signed" => signed = Some(at..end),
            _ => {}
        }
        Some(end)
    })?;
    if !b[end..].iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    let (signed, targets) = (signed?, targets?);
    // The role with an empty `targets` (and `roles`), parsed and checked as
    // usual; `roles` sorts before `targets`.
    let mut rest = Vec::with_capacity(signed.len() - targets.len() + 2);
    let mut from = signed.start;
    for (cut, empty) in roles.iter().map(|r| (r, "[]")).chain([(&targets, "{}")]) {
        rest.extend_from_slice(&b[from..cut.start]);
        rest.extend_from_slice(empty.as_bytes());
        from = cut.end;
    }
    rest.extend_from_slice(&b[from..signed.end]);
    let mut signed: Targets = serde_json::from_slice(&rest).ok()?;
    if roles.is_some() {
        // Thousands of delegated roles (hash bins) are parsed on every core.
        let parsed: Option<Vec<Vec<DelegatedRole>>> = role_spans
            .par_chunks(ROLES_PER_TASK)
            .map(|chunk| {
                chunk
                    .iter()
                    .map(|r| serde_json::from_slice(&b[r.clone()]).ok())
                    .collect()
            })
            .collect();
        let list = signed.delegations.as_mut()?.roles.as_mut()?;
        *list = parsed?.into_iter().flatten().collect();
    }
    let signatures: Vec<Signature> = serde_json::from_slice(&b[signatures?]).ok()?;
    Some((Stored { signatures, signed }, entries))
}

/// Delegated roles parsed per task.
const ROLES_PER_TASK: usize = 1024;

/// The end of the target file object at `at`: checked to have a `length`
/// that is a non-negative integer and `hashes` with at least one string.
fn target_file(scan: &Scan<'_>, at: usize, depth: usize) -> Option<usize> {
    let b = scan.bytes();
    let (mut length, mut hashes) = (false, false);
    let end = scan.object(at, depth, |key, v| match key {
        "length" => {
            length = b.get(v)?.is_ascii_digit();
            scan.value(v, depth + 1)
        }
        "hashes" => {
            let mut n = 0;
            let end = scan.object(v, depth + 1, |_, h| {
                n += 1;
                (b.get(h) == Some(&b'"'))
                    .then_some(())
                    .and_then(|()| scan.value(h, depth + 2))
            })?;
            hashes = n > 0;
            Some(end)
        }
        _ => scan.value(v, depth + 1),
    })?;
    (length && hashes).then_some(end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canonical;
    use crate::metadata::{Expires, SpecVersion, TargetFile, Unknown};
    use serde_json::json;
    use std::collections::BTreeMap;
    use std::num::NonZeroU64;

    fn role() -> Targets {
        let mut targets = BTreeMap::new();
        let mut a = TargetFile::from_data(b"a");
        a.custom = Some(json!({"z": [1, -2, "x\"y\\"], "a": {"b": null, "c": true}}));
        targets.insert("dir/a".to_string(), a);
        let mut b = TargetFile::from_data(b"b");
        b.unknown.insert("x-extra".into(), json!(7));
        b.hashes.insert("sha512".into(), "00ff".into());
        targets.insert("b é/ü".to_string(), b);
        targets.insert("c".to_string(), TargetFile::from_data(b""));
        Targets {
            type_: "targets".into(),
            spec_version: SpecVersion::default(),
            version: NonZeroU64::new(4).unwrap(),
            expires: Expires::from_unix(1_900_000_000),
            targets,
            delegations: None,
            unknown: Unknown::new(),
        }
    }

    fn file(signed: &[u8]) -> Vec<u8> {
        let sig = Signature {
            keyid: "ab".into(),
            sig: "cd".into(),
            unknown: Unknown::new(),
        };
        super::super::envelope_bytes(&[sig], signed)
    }

    /// Kept bytes re-encode to exactly the canonical form of the parsed role.
    #[test]
    fn kept_entries_are_the_canonical_bytes_of_the_parsed_ones() {
        let t = role();
        let canonical = canonical::to_canonical(&t).unwrap();
        let (stored, mut kept) = read(file(&canonical)).expect("canonical file kept");
        assert!(stored.signed.targets.is_empty());
        assert_eq!(stored.signed.version.get(), 4);
        assert_eq!(stored.signatures[0].keyid, "ab");
        assert_eq!(kept.len(), 3);
        let paths: Vec<&str> = kept.iter().map(|(p, _)| p).collect();
        assert_eq!(paths, ["b é/ü", "c", "dir/a"]);
        let store = super::super::PendingStore::default();
        let again = super::super::encode_targets(&stored.signed, &kept, &[], &store).unwrap();
        assert_eq!(again, canonical);

        assert!(kept.remove("c"));
        assert!(!kept.remove("c"));
        let mut t2 = t.clone();
        t2.targets.remove("c");
        let again = super::super::encode_targets(&stored.signed, &kept, &[], &store).unwrap();
        assert_eq!(again, canonical::to_canonical(&t2).unwrap());
    }

    /// A delegating role's many delegated roles, parsed apart and in
    /// parallel, come out as the whole-file parse gives them, in order.
    #[test]
    fn delegated_roles_are_parsed_in_order() {
        let mut t = role();
        let key = crate::keys::Key::ed25519(&[7; 32]);
        let keyid = key.key_id().unwrap();
        let mut roles: Vec<serde_json::Value> = crate::repo::hashed_bins(4096)
            .into_iter()
            .map(|(name, prefixes)| {
                json!({"name": name, "keyids": [keyid], "threshold": 1,
                       "terminating": false, "path_hash_prefixes": prefixes})
            })
            .collect();
        roles.insert(
            0,
            json!({"name": "sboms", "keyids": [keyid], "threshold": 2,
                               "terminating": true, "paths": ["sboms/*"], "x-note": "kept"}),
        );
        t.delegations = Some(
            serde_json::from_value(json!({"keys": {keyid.clone(): key}, "roles": roles})).unwrap(),
        );
        let canonical = canonical::to_canonical(&t).unwrap();
        let (stored, kept) = read(file(&canonical)).expect("canonical file kept");
        assert_eq!(kept.len(), 3);
        let mut whole = t.clone();
        whole.targets.clear();
        assert_eq!(stored.signed, whole);
        assert_eq!(
            stored.signed.delegations.unwrap().roles.unwrap().len(),
            4097
        );
    }

    /// What is not plainly canonical, or not a target file, is left to the parser.
    #[test]
    fn anything_else_is_parsed_instead() {
        let t = role();
        let value = serde_json::to_value(&t).unwrap();
        let pretty =
            serde_json::to_vec_pretty(&json!({"signatures": [], "signed": value})).unwrap();
        assert!(read(pretty).is_err(), "pretty-printed");
        let canonical = String::from_utf8(canonical::to_canonical(&t).unwrap()).unwrap();
        let sha = TargetFile::from_data(b"").hashes["sha256"].to_string();
        for (from, to) in [
            ("\"c\":", "\"c\\\"q\":"),            // an escaped key
            ("\"length\":0", "\"length\":\"0\""), // length not a number
            ("\"length\":0", "\"length\":-1"),    // negative length
            (
                &format!("\"hashes\":{{\"sha256\":\"{sha}\"}}"),
                "\"hashes\":{}",
            ), // no hashes
            (&format!("{{\"sha256\":\"{sha}\"}}"), "{\"sha256\":5}"), // digest not a string
            (",\"length\":0", ""),                // no length
        ] {
            assert!(canonical.contains(from), "{from}");
            let changed = canonical.replacen(from, to, 1);
            assert!(read(file(changed.as_bytes())).is_err(), "{to}");
        }
        // Trailing data after the envelope.
        let mut f = file(canonical.as_bytes());
        f.extend_from_slice(b"x");
        assert!(read(f).is_err());
        // Nor is a file that is not UTF-8.
        let mut f = file(canonical.as_bytes());
        let at = f.windows(2).position(|w| w == "é".as_bytes()).unwrap();
        f[at] = 0xff;
        assert!(read(f).is_err(), "not UTF-8");
        // A role whose other fields are wrong is not kept either.
        let bad = canonical.replacen("\"version\":4", "\"version\":0", 1);
        assert!(read(file(bad.as_bytes())).is_err());
    }
}
