//! cargo-auditable's dependency list: the `.dep-v0` section, zlib-compressed JSON
//! (`{"packages":[{"name","version","source","kind","dependencies","root"}],"format":1}`),
//! as `rust-audit-info` prints it.

use crate::exe::Region;
use crate::input::Fwd;
use crate::{Error, Limits};
use flate2::{Decompress, FlushDecompress, Status};
use serde::Deserialize;

/// The crates compiled into a Rust executable.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct AuditData {
    pub packages: Vec<AuditPackage>,
    #[serde(default)]
    pub format: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct AuditPackage {
    pub name: String,
    pub version: String,
    /// `crates.io`, `git`, `local`, `registry`, or another source.
    #[serde(default, deserialize_with = "source")]
    pub source: String,
    /// `build` for build-time-only dependencies; empty (runtime) otherwise.
    #[serde(default)]
    pub kind: String,
    /// Indexes into `packages`.
    #[serde(default)]
    pub dependencies: Vec<usize>,
    /// The crate the executable was built from.
    #[serde(default)]
    pub root: bool,
}

/// A source is a string, or for some sources an object; the object's first key names it.
fn source<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(match v {
        serde_json::Value::String(s) => s,
        serde_json::Value::Object(m) => m.keys().next().cloned().unwrap_or_default(),
        _ => String::new(),
    })
}

const PREFIX: &[u8] = b"{\"packages\":";
/// Bytes kept from the end of one scanned chunk to the next, so that a zlib stream that
/// starts near a chunk's end is still seen whole enough to recognise.
const OVERLAP: usize = 256;

/// Whether `b` starts a zlib stream (the two header bytes of a stream without a preset
/// dictionary, at any level) whose first deflate block has a valid type (stored, fixed or
/// dynamic Huffman): a cheap filter before trying to inflate.
fn zlib_header(b: &[u8]) -> bool {
    matches!(b, [0x78, 0x01 | 0x5e | 0x9c | 0xda, block, ..] if (block >> 1) & 3 != 3)
}

/// Whether the zlib stream at the start of `b` inflates to cargo-auditable's JSON. `d` is
/// reused across candidates (an inflater's state is tens of kilobytes).
fn starts_audit_json(d: &mut Decompress, b: &[u8]) -> bool {
    d.reset(true);
    let mut out = [0u8; 16];
    let input = &b[..b.len().min(OVERLAP)];
    let _ = d.decompress(input, &mut out, FlushDecompress::None);
    let n = d.total_out() as usize;
    n >= PREFIX.len() && out.starts_with(PREFIX)
}

/// Find and read the dependency list in `g`: the whole region when `exact`, else the first
/// zlib stream in it that inflates to cargo-auditable's JSON.
pub(crate) fn find(
    r: &mut Fwd,
    g: &Region,
    exact: bool,
    limits: &Limits,
) -> Result<Option<AuditData>, Error> {
    let start = g.start.max(r.position());
    r.skip_to(start.min(g.end()))?;
    if exact {
        let offset = r.position();
        let mut head = [0u8; 3];
        if g.end().saturating_sub(offset) < 3 {
            return Ok(None);
        }
        r.read_exact(&mut head)?;
        r.unread(&head);
        if !zlib_header(&head) {
            return Ok(None);
        }
        return inflate(r, limits).map(Some);
    }
    let mut window: Vec<u8> = Vec::new();
    let mut d = Decompress::new(true);
    // Small reads first: the blob is usually at the start of its region.
    let mut chunk = vec![0u8; 4 * 1024];
    while r.position() < g.end() {
        let want = ((g.end() - r.position()) as usize).min(chunk.len());
        r.read_exact(&mut chunk[..want])?;
        window.extend_from_slice(&chunk[..want]);
        let last = r.position() >= g.end();
        // Candidates too near the window's end wait for the next chunk, unless none comes.
        let scan_to = if last {
            window.len()
        } else {
            window.len().saturating_sub(OVERLAP)
        };
        for at in memchr::memchr_iter(0x78, &window[..scan_to]) {
            if zlib_header(&window[at..]) && starts_audit_json(&mut d, &window[at..]) {
                r.unread(&window[at..]);
                return inflate(r, limits).map(Some);
            }
        }
        window.drain(..scan_to);
        if chunk.len() < 64 * 1024 {
            chunk.resize(chunk.len() * 2, 0);
        }
    }
    Ok(None)
}

/// Inflate the zlib stream at the position and parse it.
fn inflate(r: &mut Fwd, limits: &Limits) -> Result<AuditData, Error> {
    let offset = r.position();
    let err = |reason: String| Error::Rust { offset, reason };
    let mut d = Decompress::new(true);
    let mut json: Vec<u8> = Vec::new();
    let mut input = vec![0u8; 16 * 1024];
    let mut out = vec![0u8; 64 * 1024];
    loop {
        let n = r.read(&mut input)?;
        if n == 0 {
            return Err(err("the compressed data ends early".into()));
        }
        let mut used = 0;
        while used < n {
            let (in_before, out_before) = (d.total_in(), d.total_out());
            let status = d
                .decompress(&input[used..n], &mut out, FlushDecompress::None)
                .map_err(|e| err(format!("zlib: {e}")))?;
            used += (d.total_in() - in_before) as usize;
            let produced = (d.total_out() - out_before) as usize;
            json.extend_from_slice(&out[..produced]);
            if json.len() as u64 > limits.max_audit_json {
                return Err(Error::TooLarge {
                    what: "cargo-auditable JSON",
                    size: json.len() as u64,
                    limit: limits.max_audit_json,
                });
            }
            if status == Status::StreamEnd {
                let data: AuditData =
                    serde_json::from_slice(&json).map_err(|e| err(format!("JSON: {e}")))?;
                if data.packages.len() > limits.max_packages {
                    return Err(err(format!(
                        "{} packages, over the limit of {}",
                        data.packages.len(),
                        limits.max_packages
                    )));
                }
                if let Some(bad) = data
                    .packages
                    .iter()
                    .flat_map(|p| &p.dependencies)
                    .find(|&&i| i >= data.packages.len())
                {
                    return Err(err(format!("a dependency index {bad} out of range")));
                }
                return Ok(data);
            }
            if produced == 0 && d.total_in() == in_before {
                break; // needs more input
            }
        }
    }
}
