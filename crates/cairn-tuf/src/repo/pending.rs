//! Targets added and not yet written, kept compact.
//!
//! A [`TargetBatch`] holds its targets' paths in one string and fixed-size
//! entries beside it (about 56 bytes plus the path each), so a million
//! targets cost one allocation per batch, not one per target. The editor
//! keeps every batch added since the repository was opened in a
//! [`PendingStore`]; a role refers to its new targets by [`Ref`], so a target
//! is stored once however it is placed, until the commit writes its role.

use super::{NewTarget, MAX_TARGET_PATH};
use crate::canonical;
use rayon::prelude::*;
use serde_json::Value;

/// The sha512 and `custom` of a target that has them.
type Extra = (Option<Box<[u8; 64]>>, Option<Box<Value>>);

/// No extra data (`Entry::extra`).
const NO_EXTRA: u32 = u32::MAX;

#[derive(Clone, Copy)]
struct Entry {
    start: u32,
    len: u32,
    length: u64,
    sha256: [u8; 32],
    extra: u32,
}

/// Targets to add, stored compactly (see the module documentation). Every
/// path in a batch has passed [`check_target_path`].
#[derive(Default)]
pub struct TargetBatch {
    paths: String,
    entries: Vec<Entry>,
    extras: Vec<Extra>,
}

impl std::fmt::Debug for TargetBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TargetBatch")
            .field("targets", &self.entries.len())
            .finish_non_exhaustive()
    }
}

/// A line of a target list that could not be read: its number (from 1,
/// within the text given) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListError {
    pub line: usize,
    pub message: String,
}

/// Text above this size is parsed on every core, in pieces about this big.
const PIECE: usize = 256 * 1024;

impl TargetBatch {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Adds a target, after checking its path ([`check_target_path`]).
    pub fn push(&mut self, path: &str, t: NewTarget) -> Result<(), String> {
        check_target_path(path)?;
        self.push_checked(path.len(), t, |s| s.push_str(path))
    }

    /// Appends the path written by `write` (`len` bytes) and its entry.
    fn push_checked(
        &mut self,
        len: usize,
        t: NewTarget,
        write: impl FnOnce(&mut String),
    ) -> Result<(), String> {
        let start = u32::try_from(self.paths.len())
            .ok()
            .filter(|s| s.checked_add(len as u32).is_some())
            .ok_or("a batch holds at most 4 GiB of target paths")?;
        if self.entries.len() >= NO_EXTRA as usize {
            return Err("a batch holds at most 2^32 - 1 targets".into());
        }
        let extra = if t.sha512.is_some() || t.custom.is_some() {
            self.extras.push((t.sha512, t.custom));
            (self.extras.len() - 1) as u32
        } else {
            NO_EXTRA
        };
        write(&mut self.paths);
        self.entries.push(Entry {
            start,
            len: len as u32,
            length: t.length,
            sha256: t.sha256,
            extra,
        });
        Ok(())
    }

    /// Parses a target list: one `PATH<TAB>LENGTH<TAB>SHA256` line per
    /// target (UTF-8, `\n` or `\r\n` line ends, blank lines skipped), each
    /// path prefixed with `prefix` and given `custom`. Large texts are
    /// parsed on every core.
    pub fn parse_list(
        text: &[u8],
        prefix: &str,
        custom: Option<&Value>,
    ) -> Result<TargetBatch, ListError> {
        if text.len() <= PIECE {
            return parse_piece(text, prefix, custom).map(|(b, _)| b);
        }
        let mut pieces = Vec::with_capacity(text.len() / PIECE + 1);
        let mut rest = text;
        while rest.len() > PIECE {
            let cut = rest[PIECE..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(rest.len(), |i| PIECE + i + 1);
            let (piece, tail) = rest.split_at(cut);
            pieces.push(piece);
            rest = tail;
        }
        if !rest.is_empty() {
            pieces.push(rest);
        }
        let parsed: Vec<Result<(TargetBatch, usize), ListError>> = pieces
            .par_iter()
            .map(|p| parse_piece(p, prefix, custom))
            .collect();
        // Line numbers run on across pieces; the first error found wins.
        let mut lines_before = 0;
        let mut ok = Vec::with_capacity(parsed.len());
        for p in parsed {
            match p {
                Ok((b, lines)) => {
                    lines_before += lines;
                    ok.push(b);
                }
                Err(mut e) => {
                    e.line += lines_before;
                    return Err(e);
                }
            }
        }
        Ok(Self::concat(ok))
    }

    /// One batch of all of `parts`, in order, allocated once.
    fn concat(parts: Vec<TargetBatch>) -> TargetBatch {
        let mut out = TargetBatch {
            paths: String::with_capacity(parts.iter().map(|p| p.paths.len()).sum()),
            entries: Vec::with_capacity(parts.iter().map(|p| p.entries.len()).sum()),
            extras: Vec::with_capacity(parts.iter().map(|p| p.extras.len()).sum()),
        };
        for p in parts {
            let shift = out.paths.len() as u32;
            let extra_shift = out.extras.len() as u32;
            out.paths.push_str(&p.paths);
            out.entries.extend(p.entries.into_iter().map(|mut e| {
                e.start += shift;
                if e.extra != NO_EXTRA {
                    e.extra += extra_shift;
                }
                e
            }));
            out.extras.extend(p.extras);
        }
        out
    }

    fn path(&self, i: usize) -> &str {
        let e = &self.entries[i];
        &self.paths[e.start as usize..(e.start + e.len) as usize]
    }

    /// The paths in order, for placement.
    pub(super) fn paths(&self) -> impl Iterator<Item = &str> {
        (0..self.entries.len()).map(|i| self.path(i))
    }

    /// The canonical JSON of entry `e`'s target (`{"hashes":…,"length":…}`).
    fn encode_entry(&self, e: &Entry, out: &mut Vec<u8>) -> serde_json::Result<()> {
        let (sha512, custom) = match e.extra {
            NO_EXTRA => (None, None),
            x => {
                let (h, c) = &self.extras[x as usize];
                (h.as_deref(), c.as_deref())
            }
        };
        out.push(b'{');
        if let Some(c) = custom {
            out.extend_from_slice(b"\"custom\":");
            canonical::encode(c, out)?;
            out.push(b',');
        }
        out.extend_from_slice(b"\"hashes\":{\"sha256\":\"");
        push_hex(out, &e.sha256);
        out.push(b'"');
        if let Some(h) = sha512 {
            out.extend_from_slice(b",\"sha512\":\"");
            push_hex(out, h);
            out.push(b'"');
        }
        out.extend_from_slice(b"},\"length\":");
        push_decimal(out, e.length);
        out.push(b'}');
        Ok(())
    }
}

/// `n` in decimal, as JSON writes an integer.
fn push_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// Parses one piece of a list; returns the batch and how many lines the
/// piece holds (for the line numbers of the pieces after it).
fn parse_piece(
    text: &[u8],
    prefix: &str,
    custom: Option<&Value>,
) -> Result<(TargetBatch, usize), ListError> {
    let mut batch = TargetBatch::new();
    if text.is_empty() {
        return Ok((batch, 0));
    }
    // A final newline ends the last line; it does not start another.
    let body = text.strip_suffix(b"\n").unwrap_or(text);
    let mut lines = 0;
    for (k, raw) in body.split(|&b| b == b'\n').enumerate() {
        lines += 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.is_empty() {
            continue;
        }
        let fail = |message: String| ListError {
            line: k + 1,
            message,
        };
        let line = std::str::from_utf8(raw).map_err(|_| fail("not UTF-8".into()))?;
        let (path, length, sha256) = list_fields(line).map_err(fail)?;
        let len = prefix.len() + path.len();
        if !prefix.is_empty() {
            check_target_path(&format!("{prefix}{path}")).map_err(fail)?;
        }
        let t = NewTarget {
            length,
            sha256,
            sha512: None,
            custom: custom.cloned().map(Box::new),
        };
        batch
            .push_checked(len, t, |s| {
                s.push_str(prefix);
                s.push_str(path);
            })
            .map_err(fail)?;
    }
    Ok((batch, lines))
}

/// The fields of one `PATH<TAB>LENGTH<TAB>SHA256` line, the path checked.
pub(super) fn list_fields(line: &str) -> Result<(&str, u64, [u8; 32]), String> {
    let mut parts = line.split('\t');
    let (Some(path), Some(length), Some(sha256), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("expected PATH<TAB>LENGTH<TAB>SHA256".into());
    };
    check_target_path(path)?;
    let length: u64 = length
        .parse()
        .map_err(|_| format!("length {length:?} is not a number"))?;
    let hash = decode_sha256(sha256.as_bytes())
        .ok_or_else(|| format!("{sha256:?} is not a lowercase hex sha256"))?;
    Ok((path, length, hash))
}

/// The value of each lowercase hex digit, 0xff for any other byte.
static HEX_VALUE: [u8; 256] = {
    let mut t = [0xff; 256];
    let mut i = 0;
    while i < 16 {
        t[b"0123456789abcdef"[i] as usize] = i as u8;
        i += 1;
    }
    t
};

/// 64 lowercase hex digits as 32 bytes. By table, without branches: list
/// digests are random, and a branch per digit mispredicts half the time.
fn decode_sha256(s: &[u8]) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    let mut bad = 0u8;
    for (o, pair) in out.iter_mut().zip(s.chunks_exact(2)) {
        let (hi, lo) = (
            HEX_VALUE[usize::from(pair[0])],
            HEX_VALUE[usize::from(pair[1])],
        );
        bad |= hi | lo;
        *o = (hi << 4) | (lo & 15);
    }
    (bad & 0xf0 == 0).then_some(out)
}

fn push_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let start = out.len();
    out.resize(start + 2 * bytes.len(), 0);
    for (pair, b) in out[start..].chunks_exact_mut(2).zip(bytes) {
        pair[0] = DIGITS[usize::from(b >> 4)];
        pair[1] = DIGITS[usize::from(b & 15)];
    }
}

/// A target path must be relative, made of non-empty parts other than `.`
/// and `..`, without control characters, and at most [`MAX_TARGET_PATH`] bytes.
pub fn check_target_path(path: &str) -> Result<(), String> {
    if path.is_empty() || path.len() > MAX_TARGET_PATH {
        return Err(format!(
            "target path must be 1 to {MAX_TARGET_PATH} bytes long"
        ));
    }
    // One pass over the bytes: the parts between slashes, and control
    // characters (C0, DEL, and C1, which UTF-8 spells 0xc2 0x80..=0x9f).
    let b = path.as_bytes();
    let (mut bad_part, mut control) = (false, false);
    let mut part_start = 0;
    for i in 0..=b.len() {
        match b.get(i) {
            None | Some(b'/') => {
                let part = &b[part_start..i];
                bad_part |= part.is_empty() || part == b"." || part == b"..";
                part_start = i + 1;
            }
            Some(&c) => {
                control |= c < 0x20
                    || c == 0x7f
                    || (c == 0xc2 && b.get(i + 1).is_some_and(|n| (0x80..=0x9f).contains(n)));
            }
        }
    }
    if bad_part {
        return Err(format!(
            "target path {path:?} must be relative, without empty, \".\" or \"..\" parts"
        ));
    }
    if control {
        return Err(format!("target path {path:?} holds a control character"));
    }
    Ok(())
}

/// A target in the [`PendingStore`]: batch and entry, in the order added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Ref {
    batch: u32,
    entry: u32,
}

/// A target read from the store to be written ([`PendingStore::sorted_unique`]).
pub(super) struct Pick<'a> {
    pub(super) path: &'a str,
    at: Ref,
    entry: Entry,
}

/// Every batch added since the repository was opened.
#[derive(Default)]
pub(super) struct PendingStore {
    batches: Vec<TargetBatch>,
}

impl PendingStore {
    /// Keeps `batch`; returns the refs of its targets, in order.
    pub(super) fn add(&mut self, batch: TargetBatch) -> Result<u32, String> {
        let b = u32::try_from(self.batches.len())
            .ok()
            .filter(|&b| b < u32::MAX)
            .ok_or("too many batches of targets in one edit")?;
        self.batches.push(batch);
        Ok(b)
    }

    pub(super) fn batch(&self, b: u32) -> &TargetBatch {
        &self.batches[b as usize]
    }

    /// The refs of batch `b`'s entries, in order.
    pub(super) fn refs(&self, b: u32) -> impl Iterator<Item = Ref> + '_ {
        (0..self.batches[b as usize].len() as u32).map(move |entry| Ref { batch: b, entry })
    }

    pub(super) fn path(&self, r: Ref) -> &str {
        self.batches[r.batch as usize].path(r.entry as usize)
    }

    /// `refs`' targets, sorted by path; of several for one path, the last
    /// added wins. Each target is read from the store once, here: the
    /// entries of one role lie scattered over the store, and reading one per
    /// comparison (or again to encode it) would miss the cache every time.
    pub(super) fn sorted_unique(&self, refs: &[Ref]) -> Vec<Pick<'_>> {
        let mut out: Vec<Pick<'_>> = refs
            .iter()
            .map(|&r| {
                let batch = &self.batches[r.batch as usize];
                Pick {
                    path: batch.path(r.entry as usize),
                    at: r,
                    entry: batch.entries[r.entry as usize],
                }
            })
            .collect();
        out.sort_unstable_by(|a, b| a.path.cmp(b.path).then(b.at.cmp(&a.at)));
        out.dedup_by(|later, first| later.path == first.path);
        out
    }

    /// The canonical JSON of a picked target (`{"hashes":…,"length":…}`).
    pub(super) fn encode(&self, p: &Pick<'_>, out: &mut Vec<u8>) -> serde_json::Result<()> {
        self.batches[p.at.batch as usize].encode_entry(&p.entry, out)
    }

    /// Forgets every batch (once no role refers to them).
    pub(super) fn clear(&mut self) {
        self.batches = Vec::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(c: char) -> String {
        c.to_string().repeat(64)
    }

    #[test]
    fn lists_parse_with_line_numbers_across_pieces() {
        let good = format!("a/b.txt\t12\t{}\r\n\nc\t0\t{}\n", h('a'), h('0'));
        let b = TargetBatch::parse_list(good.as_bytes(), "p/", None).unwrap();
        assert_eq!(b.paths().collect::<Vec<_>>(), ["p/a/b.txt", "p/c"]);
        assert_eq!(b.entries[0].length, 12);
        assert_eq!(b.entries[1].sha256, [0; 32]);

        // A bad line far into a text parsed in pieces keeps its number.
        let mut big = String::new();
        for i in 0..20_000 {
            big.push_str(&format!("files/{i}\t1\t{}\n", h('f')));
        }
        let ok = TargetBatch::parse_list(big.as_bytes(), "", None).unwrap();
        assert_eq!(ok.len(), 20_000);
        assert_eq!(ok.path(19_999), "files/19999");
        big.push_str("bad line\n");
        let e = TargetBatch::parse_list(big.as_bytes(), "", None).unwrap_err();
        assert_eq!(e.line, 20_001);
    }

    #[test]
    fn bad_lines_and_paths_are_refused() {
        let h = h('a');
        assert!(list_fields(&format!("a/b.txt\t12\t{h}")).is_ok());
        for bad in [
            format!("/abs\t1\t{h}"),
            format!("a/../b\t1\t{h}"),
            format!("a/./b\t1\t{h}"),
            format!("a//b\t1\t{h}"),
            format!("a/\t1\t{h}"),
            format!("a\t-1\t{h}"),
            format!("a\t1\t{}", "A".repeat(64)),
            format!("a\t1\t{}g", "a".repeat(63)),
            format!("a\t1\t{}", "a".repeat(63)),
            format!("a\t1\t{h}\textra"),
            "a\t1".to_string(),
            format!("a\u{7}b\t1\t{h}"),
            format!("a\u{7f}b\t1\t{h}"),
            format!("a\u{85}b\t1\t{h}"),
        ] {
            assert!(list_fields(&bad).is_err(), "{bad:?}");
        }
        // Not control characters: U+00A0 (0xc2 0xa0) and other non-ASCII.
        assert!(check_target_path("a\u{a0}b/é/日本").is_ok());
        assert!(check_target_path(&"x".repeat(MAX_TARGET_PATH + 1)).is_err());
        let e = TargetBatch::parse_list(b"ok\t1\tzz\n", "", None).unwrap_err();
        assert_eq!(e.line, 1);
        assert!(TargetBatch::parse_list(b"\xff\t1\t0\n", "", None).is_err());
        // A prefix that makes a bad path is refused too.
        let line = format!("b\t1\t{h}");
        assert!(TargetBatch::parse_list(line.as_bytes(), "/", None).is_err());
    }

    #[test]
    fn the_last_target_added_for_a_path_wins() {
        let mut store = PendingStore::default();
        let mut one = TargetBatch::new();
        one.push("b", NewTarget::from_bytes(b"1")).unwrap();
        one.push("a", NewTarget::from_bytes(b"2")).unwrap();
        let mut two = TargetBatch::new();
        two.push("b", NewTarget::from_bytes(b"3")).unwrap();
        let b1 = store.add(one).unwrap();
        let b2 = store.add(two).unwrap();
        let refs: Vec<Ref> = store.refs(b1).chain(store.refs(b2)).collect();
        let picked: Vec<(&str, Ref, u64)> = store
            .sorted_unique(&refs)
            .iter()
            .map(|p| (p.path, p.at, p.entry.length))
            .collect();
        assert_eq!(
            picked,
            [
                ("a", Ref { batch: 0, entry: 1 }, 1),
                ("b", Ref { batch: 1, entry: 0 }, 1)
            ]
        );
        assert!(TargetBatch::new()
            .push("../x", NewTarget::from_bytes(b""))
            .is_err());
        for n in [0, 7, 10, 1234567890, u64::MAX] {
            let mut out = Vec::new();
            push_decimal(&mut out, n);
            assert_eq!(out, n.to_string().as_bytes());
        }
    }
}
