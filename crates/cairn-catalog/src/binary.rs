//! The one extractor every binary cataloger shares: executables (ELF, PE, Mach-O, chosen by
//! their first bytes) read once, forward only, by `cairn-buildinfo` for the Go build info
//! and the cargo-auditable dependency list they embed. Go and Rust catalogers both ask the
//! view for its facts.

use cairn_buildinfo::{Found, Input, Limits};
use cairn_image::{EntryReader, Extractor, Fact, FactError, PathPattern, Probe};
use std::sync::Arc;

/// The name its facts are stored under.
pub(crate) const NAME: &str = "executable";

/// Smallest file probed: no Go or Rust executable is smaller.
const MIN_SIZE: u64 = 1024;

pub(crate) struct Executables;

impl Extractor for Executables {
    fn name(&self) -> &'static str {
        NAME
    }
    fn patterns(&self) -> Vec<PathPattern> {
        Vec::new() // chosen by content, wherever it is
    }
    fn head_len(&self) -> usize {
        4
    }
    fn wants(&self, entry: &Probe, head: &[u8]) -> bool {
        entry.size >= MIN_SIZE && cairn_buildinfo::is_executable(head)
    }
    fn extract(&self, entry: &Probe, r: &mut EntryReader) -> Result<Option<Fact>, FactError> {
        let mut input = Forward(r);
        match cairn_buildinfo::probe(&mut input, entry.size, &Limits::default()) {
            Ok(f) if f.go.is_none() && f.rust.is_none() => Ok(None),
            Ok(f) => Ok(Some(Arc::new(f))),
            Err(e) if e.over_limit() => Err(FactError::limit(e.to_string())),
            Err(e) => Err(e.to_string().into()),
        }
    }
}

/// The layer pass's entry reader as `cairn-buildinfo`'s input: skipped bytes are not read.
struct Forward<'a, 'b>(&'a mut EntryReader<'b>);

impl Input for Forward<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        std::io::Read::read(self.0, buf)
    }
    fn skip(&mut self, n: u64) -> std::io::Result<()> {
        let to = self.0.position().saturating_add(n);
        self.0
            .skip_to(to)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::UnexpectedEof, e.message))
    }
}

/// The facts of one executable, as the Go and Rust catalogers read them.
pub(crate) type Executable = Found;
