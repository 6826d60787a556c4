//! The extractor hook: code of a cataloger's that runs inside the single pass over each
//! layer (and the walk of a root filesystem), on the entries it chooses, and leaves a small
//! typed fact per version of a path instead of the entry's bytes.
//!
//! An extractor chooses entries by path (patterns compiled with every other extractor's
//! into one glob set, matched once per entry) or, with no patterns, by content: it sees
//! the entry's path, mode and size and its first [`Extractor::head_len`] bytes. A chosen
//! entry is read through an [`EntryReader`], forward only: the extractor reads what it
//! needs (an executable's headers and one section, a manifest whole under a bound) and
//! skips the rest, which the layer pass still drains (the layer digest covers every byte).
//! At most one entry is buffered whole per worker, and only when two extractors (or an
//! extractor and a cataloger's request for contents) want the same entry.

use crate::pattern::PathPattern;
use crate::{Limits, ScanOptions};
use std::any::Any;
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// What an extractor found in one version of a file. Catalogers downcast it to their own
/// type ([`FactRef::get`]).
pub type Fact = Arc<dyn Any + Send + Sync>;

/// Why an extractor has no fact for a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FactError {
    /// The file was over a bound and not read (rather than damaged).
    pub over_limit: bool,
    /// What happened, without the path.
    pub message: String,
}

impl FactError {
    pub fn limit(message: impl Into<String>) -> FactError {
        FactError {
            over_limit: true,
            message: message.into(),
        }
    }
}

/// A damaged file.
impl From<String> for FactError {
    fn from(message: String) -> FactError {
        FactError {
            over_limit: false,
            message,
        }
    }
}

impl From<&str> for FactError {
    fn from(message: &str) -> FactError {
        message.to_owned().into()
    }
}

impl std::fmt::Display for FactError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// An entry offered to an extractor.
#[derive(Clone, Copy, Debug)]
pub struct Probe<'a> {
    /// The image path, without its leading `/`.
    pub path: &'a str,
    pub mode: u32,
    pub size: u64,
}

impl Probe<'_> {
    /// The last segment of the path.
    pub fn file_name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(self.path)
    }
}

/// Code a cataloger runs inside the layer pass.
pub trait Extractor: Send + Sync {
    /// Unique among extractors; catalogers ask the view for facts by this name.
    fn name(&self) -> &'static str;
    /// Paths this extractor is offered. None: every regular file is offered, and
    /// [`Extractor::wants`] chooses by its first bytes.
    fn patterns(&self) -> Vec<PathPattern>;
    /// How many first bytes `wants` needs to see (for content-chosen extractors).
    fn head_len(&self) -> usize {
        0
    }
    /// Whether to read this entry, from its path, mode, size and first bytes.
    fn wants(&self, _entry: &Probe, _head: &[u8]) -> bool {
        true
    }
    /// Read the entry and return what it proves. `Ok(None)`: nothing here (say, an ELF
    /// file that is no Go program). `Err`: the file is damaged or over a bound; the message
    /// says how (without repeating the path) and the cataloger reports it.
    fn extract(&self, entry: &Probe, r: &mut EntryReader) -> Result<Option<Fact>, FactError>;
}

/// An entry, read forward only. Bytes the extractor reads count toward the scan's total of
/// contents kept for catalogers; bytes it skips do not.
pub struct EntryReader<'a> {
    head: &'a [u8],
    inner: &'a mut dyn Read,
    pos: u64,
    size: u64,
    read: u64,
    tee: Option<&'a mut Digester>,
    /// An error of the underlying stream (a corrupt layer): the layer fails, whatever the
    /// extractor made of it.
    failed: Option<std::io::Error>,
}

impl<'a> EntryReader<'a> {
    pub(crate) fn new(
        head: &'a [u8],
        inner: &'a mut dyn Read,
        size: u64,
        tee: Option<&'a mut Digester>,
    ) -> Self {
        EntryReader {
            head,
            inner,
            pos: 0,
            size,
            read: 0,
            tee,
            failed: None,
        }
    }

    /// The entry's size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Offset of the next byte.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Bytes delivered to the extractor so far (not counting skipped ones).
    pub fn bytes_read(&self) -> u64 {
        self.read
    }

    fn raw(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = if !self.head.is_empty() {
            let n = buf.len().min(self.head.len());
            buf[..n].copy_from_slice(&self.head[..n]);
            self.head = &self.head[n..];
            n
        } else {
            match self.inner.read(buf) {
                Ok(n) => n,
                Err(e) => {
                    let out = std::io::Error::new(e.kind(), e.to_string());
                    self.failed = Some(e);
                    return Err(out);
                }
            }
        };
        if let Some(t) = &mut self.tee {
            t.update(&buf[..n]);
        }
        self.pos += n as u64;
        Ok(n)
    }

    /// Skip forward to `offset` (reading and discarding). An offset behind the position is
    /// an error: the layer is read in one pass.
    pub fn skip_to(&mut self, offset: u64) -> Result<(), FactError> {
        if offset < self.pos {
            return Err(format!(
                "needs offset {offset}, behind {} in a one-pass read",
                self.pos
            )
            .into());
        }
        if offset > self.size {
            return Err(format!(
                "offset {offset} is past the end of the file ({} bytes)",
                self.size
            )
            .into());
        }
        let mut buf = [0u8; 16 * 1024];
        while self.pos < offset {
            let want = ((offset - self.pos) as usize).min(buf.len());
            let n = self.raw(&mut buf[..want]).map_err(|e| e.to_string())?;
            if n == 0 {
                return Err("the file ends early".into());
            }
        }
        Ok(())
    }

    /// Read exactly `len` bytes at `offset` (at or after the position).
    pub fn read_at(&mut self, offset: u64, len: usize) -> Result<Vec<u8>, FactError> {
        self.skip_to(offset)?;
        if offset.saturating_add(len as u64) > self.size {
            return Err(format!(
                "{len} bytes at offset {offset} are past the end of the file ({} bytes)",
                self.size
            )
            .into());
        }
        let mut out = vec![0u8; len];
        self.read_exact(&mut out).map_err(|e| e.to_string())?;
        Ok(out)
    }

    /// The rest of the entry, if it is at most `max` bytes; else an error saying so, and
    /// nothing is read.
    pub fn read_rest(&mut self, max: u64) -> Result<Vec<u8>, FactError> {
        let left = self.size.saturating_sub(self.pos);
        if left > max {
            return Err(FactError::limit(format!(
                "{left} bytes, over the {max}-byte limit; not read"
            )));
        }
        let mut out = Vec::with_capacity(left as usize);
        self.take(max + 1)
            .read_to_end(&mut out)
            .map_err(|e| e.to_string())?;
        if out.len() as u64 > max {
            return Err(FactError::limit(format!(
                "over the {max}-byte limit; not read"
            )));
        }
        Ok(out)
    }
}

impl<'a> EntryReader<'a> {
    /// The rest of the entry as a reader whose bytes are not charged to the scan's total of
    /// contents kept for catalogers: for an extractor that must read a file whole to
    /// search it (a Java archive, whose directory is at its end) and keeps only a small
    /// fact. What it holds meanwhile is the extractor's own bound.
    pub fn uncharged(&mut self) -> Uncharged<'_, 'a> {
        Uncharged(self)
    }
}

/// See [`EntryReader::uncharged`].
pub struct Uncharged<'r, 'a>(&'r mut EntryReader<'a>);

impl Read for Uncharged<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.0.size.saturating_sub(self.0.pos);
        let n = (left.min(buf.len() as u64)) as usize;
        if n == 0 {
            return Ok(0);
        }
        self.0.raw(&mut buf[..n])
    }
}

impl Read for EntryReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.raw(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

/// SHA-1 and SHA-256 of an entry, fed as it is read.
#[derive(Default)]
pub(crate) struct Digester {
    sha1: sha1::Sha1,
    sha256: sha2::Sha256,
}

impl Digester {
    pub fn update(&mut self, b: &[u8]) {
        use sha2::Digest;
        self.sha1.update(b);
        self.sha256.update(b);
    }
    pub fn finish(self) -> crate::FileDigests {
        use sha2::Digest;
        crate::FileDigests {
            sha1: hex::encode(self.sha1.finalize()),
            sha256: hex::encode(self.sha256.finalize()),
        }
    }
}

/// One fact, or why there is none, as stored for one version of a path.
pub type FactResult = Result<Fact, FactError>;

/// What extractors found in one entry: (extractor index, result).
pub(crate) type Found = Vec<(u16, FactResult)>;

/// How much each extractor was offered and read, for `-v` and the benchmarks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExtractStats {
    pub name: &'static str,
    /// Entries offered by path, or whose first bytes were looked at.
    pub offered: u64,
    /// Entries the extractor read (it wanted them).
    pub entries: u64,
    /// Bytes it read of them (skipped bytes not counted).
    pub bytes: u64,
    /// Facts it returned.
    pub facts: u64,
}

/// Every extractor of a scan, with their path patterns compiled into one glob set, and the
/// cataloger contents patterns into another.
pub(crate) struct Selection {
    contents: globset::GlobSet,
    extractors: Vec<Arc<dyn Extractor>>,
    by_path: globset::GlobSet,
    /// Index in `extractors` of each glob of `by_path`.
    glob_owner: Vec<u16>,
    /// Extractors with no patterns: offered every regular file.
    by_content: Vec<u16>,
    head: usize,
    stats: Vec<Counters>,
}

#[derive(Default)]
struct Counters {
    offered: AtomicU64,
    entries: AtomicU64,
    bytes: AtomicU64,
    facts: AtomicU64,
}

/// A cairn path pattern as a glob of `globset` (paths are matched without their leading
/// `/`; `*` never crosses a `/`).
fn glob(p: &PathPattern) -> globset::Glob {
    let mut text = String::new();
    for (i, seg) in p.as_str().split('/').filter(|s| !s.is_empty()).enumerate() {
        if i > 0 {
            text.push('/');
        }
        if seg == "**" {
            text.push_str("**");
            continue;
        }
        for c in seg.chars() {
            match c {
                '*' | '?' => text.push(c),
                '[' | ']' | '{' | '}' | '\\' | ',' => {
                    text.push('[');
                    text.push(c);
                    text.push(']');
                }
                _ => text.push(c),
            }
        }
    }
    globset::GlobBuilder::new(&text)
        .literal_separator(true)
        .backslash_escape(false)
        .build()
        .unwrap_or_else(|_| {
            // Every character that globset treats specially is escaped above.
            globset::Glob::new("\u{0}never\u{0}").expect("a literal glob")
        })
}

fn set(patterns: impl Iterator<Item = globset::Glob>) -> globset::GlobSet {
    let mut b = globset::GlobSetBuilder::new();
    for g in patterns {
        b.add(g);
    }
    b.build().unwrap_or_else(|_| globset::GlobSet::empty())
}

impl Selection {
    pub fn new(opts: &ScanOptions) -> Selection {
        let mut glob_owner = Vec::new();
        let mut by_content = Vec::new();
        let mut globs = Vec::new();
        let mut head = 0;
        for (i, x) in opts.extractors.iter().enumerate() {
            let pats = x.patterns();
            if pats.is_empty() {
                by_content.push(i as u16);
                head = head.max(x.head_len());
            }
            for p in pats {
                globs.push(glob(&p));
                glob_owner.push(i as u16);
            }
        }
        Selection {
            contents: set(opts.contents.iter().map(glob)),
            extractors: opts.extractors.clone(),
            by_path: set(globs.into_iter()),
            glob_owner,
            by_content,
            head: head.min(4096),
            stats: opts
                .extractors
                .iter()
                .map(|_| Counters::default())
                .collect(),
        }
    }

    /// Whether a cataloger asked for the contents of `path` (no leading `/`).
    pub fn wants_contents(&self, path: &str) -> bool {
        self.contents.is_match(path)
    }

    /// Extractors offered `path` by their patterns, and whether content-chosen ones are
    /// offered it too (every regular file).
    fn offered(&self, path: &str) -> Vec<u16> {
        let mut out: Vec<u16> = Vec::new();
        if !self.glob_owner.is_empty() {
            for g in self.by_path.matches(path) {
                let x = self.glob_owner[g];
                if !out.contains(&x) {
                    out.push(x);
                }
            }
        }
        out
    }

    /// Whether some extractor may choose this file (by its path, or by content).
    pub fn may_take(&self, path: &str) -> bool {
        !self.by_content.is_empty() || self.by_path.is_match(path)
    }

    pub fn stats(&self) -> Vec<ExtractStats> {
        self.extractors
            .iter()
            .zip(&self.stats)
            .map(|(x, c)| ExtractStats {
                name: x.name(),
                offered: c.offered.load(Ordering::Relaxed),
                entries: c.entries.load(Ordering::Relaxed),
                bytes: c.bytes.load(Ordering::Relaxed),
                facts: c.facts.load(Ordering::Relaxed),
            })
            .collect()
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.extractors.iter().map(|x| x.name()).collect()
    }

    /// Run one extractor, turning a panic in its code into an error rather than a crash of
    /// the scan.
    fn run(&self, i: u16, probe: &Probe, r: &mut EntryReader) -> Option<FactResult> {
        let x = &self.extractors[i as usize];
        let c = &self.stats[i as usize];
        c.entries.fetch_add(1, Ordering::Relaxed);
        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| x.extract(probe, r)))
            .unwrap_or_else(|_| {
                Err(format!("the {} extractor failed on this file", x.name()).into())
            });
        c.bytes.fetch_add(r.bytes_read(), Ordering::Relaxed);
        match out {
            Ok(None) => None,
            Ok(Some(f)) => {
                c.facts.fetch_add(1, Ordering::Relaxed);
                Some(Ok(f))
            }
            Err(e) => Some(Err(e)),
        }
    }
}

/// What the layer pass took from one regular file.
#[derive(Default)]
pub(crate) struct Taken {
    pub content: Option<Vec<u8>>,
    pub digests: Option<crate::FileDigests>,
    pub facts: Found,
}

/// Read one regular file of a layer (or of a root filesystem): keep its contents if `keep`,
/// hash it if `opts.file_digests`, and run on it every extractor that chooses it. `Err` is an error of
/// the stream itself (the layer or file could not be read). `kept` is the scan's total of
/// bytes kept for catalogers, to which what extractors read is charged.
pub(crate) fn take(
    r: &mut dyn Read,
    probe: Probe,
    keep: bool,
    opts: &ScanOptions,
    sel: &Selection,
    kept: &AtomicU64,
) -> std::io::Result<Taken> {
    let (path, size, digest, limits) = (probe.path, probe.size, opts.file_digests, &opts.limits);
    let mut chosen = sel.offered(path);
    for &i in &chosen {
        sel.stats[i as usize]
            .offered
            .fetch_add(1, Ordering::Relaxed);
    }
    let mut head = Vec::new();
    if !sel.by_content.is_empty() && sel.head > 0 {
        let want = (sel.head as u64).min(size) as usize;
        head.resize(want, 0);
        r.read_exact(&mut head)?;
    }
    for &i in &sel.by_content {
        let x = &sel.extractors[i as usize];
        sel.stats[i as usize]
            .offered
            .fetch_add(1, Ordering::Relaxed);
        let n = x.head_len().min(head.len());
        if !chosen.contains(&i) && x.wants(&probe, &head[..n]) {
            chosen.push(i);
        }
    }
    let mut out = Taken::default();
    let charge = |n: u64| crate::layer::may_keep(kept, n, limits);
    if chosen.is_empty() {
        if keep || digest {
            let mut chained = (&head[..]).chain(r);
            let (c, d) = crate::layer::read_entry(&mut chained, keep, digest)?;
            out.content = c;
            out.digests = d;
        }
        return Ok(out);
    }
    let mut digester = digest.then(Digester::default);
    if keep || chosen.len() > 1 {
        // Several readers of one entry: buffer it once, under the content bound.
        if size <= limits.max_content {
            let mut chained = (&head[..]).chain(r);
            let (bytes, d) = crate::layer::read_entry(&mut chained, true, digest)?;
            let bytes = bytes.unwrap_or_default();
            out.digests = d;
            for &i in &chosen {
                let mut slice: &[u8] = &bytes;
                let mut er = EntryReader::new(&[], &mut slice, size, None);
                if let Some(f) = sel.run(i, &probe, &mut er) {
                    out.facts
                        .push((i, charged(f, er.bytes_read(), &charge, limits)));
                }
            }
            if keep {
                out.content = Some(bytes);
            }
            return Ok(out);
        }
        // Too big to buffer: the first extractor reads the stream, the others are told.
        for &i in &chosen[1..] {
            out.facts.push((
                i,
                Err(FactError::limit(format!(
                    "{size} bytes, over the {}-byte content limit; not read",
                    limits.max_content
                ))),
            ));
        }
    }
    let i = chosen[0];
    let mut er = EntryReader::new(&head, r, size, digester.as_mut());
    let found = sel.run(i, &probe, &mut er);
    let read = er.bytes_read();
    if let Some(e) = er.failed.take() {
        return Err(e);
    }
    if let Some(f) = found {
        out.facts.push((i, charged(f, read, &charge, limits)));
    }
    // The rest of the entry is drained by the caller's tar reader; with digests asked
    // for, it must pass through the digester first.
    if digester.is_some() {
        out.digests = crate::layer::read_entry_into(r, false, digester)?.1;
    }
    Ok(out)
}

/// A fact whose reading is charged to the scan's total of bytes kept for catalogers: past
/// it, the fact is dropped with an error saying so.
fn charged(f: FactResult, read: u64, charge: &dyn Fn(u64) -> bool, limits: &Limits) -> FactResult {
    match f {
        Ok(fact) if !charge(read) => {
            drop(fact);
            Err(FactError::limit(format!(
                "not read: the contents kept for catalogers reached the {}-byte limit",
                limits.max_kept_bytes
            )))
        }
        other => other,
    }
}

/// A fact found in one version of a path.
#[derive(Clone, Copy)]
pub struct FactRef<'a> {
    /// The image path, without its leading `/`.
    pub path: &'a str,
    /// The layer whose version of the file the fact is about.
    pub layer: usize,
    /// Whether that version is the one visible in the final filesystem.
    pub visible: bool,
    pub result: &'a FactResult,
}

impl<'a> FactRef<'a> {
    /// The fact as the extractor's own type, if there is one of that type.
    pub fn get<T: Any + Send + Sync>(&self) -> Option<&'a T> {
        self.result.as_ref().ok()?.downcast_ref::<T>()
    }

    /// Why there is no fact, if the file was damaged or over a bound.
    pub fn error(&self) -> Option<&'a FactError> {
        self.result.as_ref().err()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuzzing::scan_layers;
    use tar::{EntryType, Header};

    fn tar(entries: &[(EntryType, &str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for &(kind, name, arg) in entries {
            let mut h = Header::new_gnu();
            h.set_entry_type(kind);
            h.set_mode(0o755);
            if kind == EntryType::Link {
                h.set_size(0);
                b.append_link(&mut h, name, std::str::from_utf8(arg).unwrap())
                    .unwrap();
            } else {
                h.set_size(arg.len() as u64);
                b.append_data(&mut h, name, arg).unwrap();
            }
        }
        b.into_inner().unwrap()
    }

    /// Chosen by its first bytes; reads 4 bytes at offset 8 and skips the rest.
    struct Magic;
    impl Extractor for Magic {
        fn name(&self) -> &'static str {
            "magic"
        }
        fn patterns(&self) -> Vec<PathPattern> {
            Vec::new()
        }
        fn head_len(&self) -> usize {
            4
        }
        fn wants(&self, _: &Probe, head: &[u8]) -> bool {
            head == b"\x7fELF"
        }
        fn extract(&self, _: &Probe, r: &mut EntryReader) -> Result<Option<Fact>, FactError> {
            let b = r.read_at(8, 4)?;
            if &b[..] == b"back" {
                r.read_at(0, 1)?; // behind the position: refused
            }
            if &b[..] == b"boom" {
                panic!("a bug in an extractor");
            }
            Ok(Some(Arc::new(String::from_utf8_lossy(&b).into_owned())))
        }
    }

    /// Chosen by path; the whole file under 16 bytes.
    struct Manifest;
    impl Extractor for Manifest {
        fn name(&self) -> &'static str {
            "manifest"
        }
        fn patterns(&self) -> Vec<PathPattern> {
            vec![PathPattern::new("/**/package.json")]
        }
        fn extract(&self, _: &Probe, r: &mut EntryReader) -> Result<Option<Fact>, FactError> {
            Ok(Some(Arc::new(r.read_rest(16)?)))
        }
    }

    fn opts() -> ScanOptions {
        ScanOptions {
            extractors: vec![Arc::new(Magic), Arc::new(Manifest)],
            file_digests: true,
            ..ScanOptions::default()
        }
    }

    fn facts(view: &crate::FsView, name: &str) -> Vec<(String, usize, bool, String)> {
        view.facts(name)
            .map(|f| {
                let v = match f.get::<String>() {
                    Some(s) => s.clone(),
                    None => match f.get::<Vec<u8>>() {
                        Some(b) => String::from_utf8_lossy(b).into_owned(),
                        None => format!("error: {}", f.error().unwrap()),
                    },
                };
                (f.path.to_owned(), f.layer, f.visible, v)
            })
            .collect()
    }

    #[test]
    fn extractors_choose_by_content_and_path_and_read_only_what_they_need() {
        use EntryType::*;
        let elf = b"\x7fELF....GOGO and a long tail that is skipped, never read";
        let base = tar(&[
            (Regular, "usr/bin/app", elf),
            (Regular, "usr/bin/script", b"#!/bin/sh\necho hi\n"),
            (
                Regular,
                "app/node_modules/a/package.json",
                b"{\"name\":\"a\"}",
            ),
            (Regular, "app/node_modules/b/package.json", &[b' '; 64]),
            (Regular, "app/package.json.bak", b"{}"),
            (Regular, "bin/back", b"\x7fELF....back"),
            (Regular, "bin/boom", b"\x7fELF....boom"),
            (Link, "usr/bin/app-link", b"usr/bin/app"),
        ]);
        let top = tar(&[
            (
                Regular,
                "app/node_modules/a/package.json",
                b"{\"name\":\"a2\"}",
            ),
            (Regular, "app/node_modules/b/.wh.package.json", b""),
        ]);
        let view = scan_layers(&[&base, &top], &opts()).unwrap();
        let magic = facts(&view, "magic");
        assert_eq!(
            magic,
            vec![
                (
                    "bin/back".into(),
                    0,
                    true,
                    "error: needs offset 0, behind 12 in a one-pass read".into()
                ),
                (
                    "bin/boom".into(),
                    0,
                    true,
                    "error: the magic extractor failed on this file".into()
                ),
                ("usr/bin/app".into(), 0, true, "GOGO".into()),
                ("usr/bin/app-link".into(), 0, true, "GOGO".into()),
            ]
        );
        let manifests = facts(&view, "manifest");
        assert_eq!(
            manifests,
            vec![
                (
                    "app/node_modules/a/package.json".into(),
                    0,
                    false,
                    "{\"name\":\"a\"}".into()
                ),
                (
                    "app/node_modules/a/package.json".into(),
                    1,
                    true,
                    "{\"name\":\"a2\"}".into()
                ),
                (
                    "app/node_modules/b/package.json".into(),
                    0,
                    false,
                    "error: 64 bytes, over the 16-byte limit; not read".into()
                ),
            ]
        );
        // One path's facts by lookup are that path's facts of the whole listing.
        let at: Vec<(String, usize, bool, String)> = manifests
            .iter()
            .filter(|m| m.0 == "app/node_modules/a/package.json")
            .cloned()
            .collect();
        let looked_up: Vec<(usize, bool)> = view
            .facts_at("manifest", "/app/node_modules/a/package.json")
            .map(|f| (f.layer, f.visible))
            .collect();
        assert_eq!(looked_up, at.iter().map(|m| (m.1, m.2)).collect::<Vec<_>>());
        assert_eq!(
            view.facts_at("magic", "/app/node_modules/a/package.json")
                .count(),
            0
        );
        let stats = view.extract_stats();
        assert_eq!(stats[0].name, "magic");
        // Every regular file is offered by content; only the three ELF heads are read,
        // 4 bytes each (the head and the skipped bytes are not counted).
        assert_eq!(
            (stats[0].offered, stats[0].entries, stats[0].bytes),
            (8, 3, 12)
        );
        assert_eq!((stats[1].offered, stats[1].entries), (3, 3));

        // Digests cover the whole file whatever the extractor skipped.
        let plain = scan_layers(
            &[&base, &top],
            &ScanOptions {
                file_digests: true,
                ..ScanOptions::default()
            },
        )
        .unwrap();
        for p in ["usr/bin/app", "app/node_modules/a/package.json", "bin/back"] {
            assert_eq!(
                view.get(p).unwrap().digests,
                plain.get(p).unwrap().digests,
                "{p}"
            );
        }
    }

    #[test]
    fn an_entry_wanted_twice_is_buffered_once_and_both_read_it() {
        struct Both;
        impl Extractor for Both {
            fn name(&self) -> &'static str {
                "both"
            }
            fn patterns(&self) -> Vec<PathPattern> {
                vec![PathPattern::new("/usr/bin/*")]
            }
            fn extract(&self, _: &Probe, r: &mut EntryReader) -> Result<Option<Fact>, FactError> {
                Ok(Some(Arc::new(r.size())))
            }
        }
        let base = tar(&[(EntryType::Regular, "usr/bin/app", b"\x7fELF....GOGO")]);
        let mut o = opts();
        o.extractors.push(Arc::new(Both));
        o.contents = vec![PathPattern::new("/usr/bin/app")];
        let view = scan_layers(&[&base], &o).unwrap();
        assert_eq!(facts(&view, "magic")[0].3, "GOGO");
        assert_eq!(view.facts("both").next().unwrap().get::<u64>(), Some(&12));
        assert_eq!(
            &view.read("usr/bin/app").unwrap().unwrap()[..],
            b"\x7fELF....GOGO"
        );
    }

    #[test]
    fn globs_keep_cairn_pattern_meaning() {
        let set = set([
            "/var/lib/dpkg/info/*.list",
            "/**/node_modules/**/package.json",
            "/odd/[x]{y}",
        ]
        .iter()
        .map(|p| glob(&PathPattern::new(p))));
        assert!(set.is_match("var/lib/dpkg/info/dash.list"));
        assert!(!set.is_match("var/lib/dpkg/info/sub/dash.list"));
        assert!(set.is_match("app/node_modules/@s/x/package.json"));
        assert!(set.is_match("node_modules/x/package.json"));
        assert!(set.is_match("odd/[x]{y}"));
        assert!(!set.is_match("odd/x"));
    }
}
