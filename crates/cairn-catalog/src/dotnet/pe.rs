//! A .NET assembly's version resource: the `VS_VERSIONINFO` of a PE file with a CLR header
//! (`ProductName`, `ProductVersion`, `FileVersion`, `CompanyName`, ...), which the build
//! writes from the project's package properties. Read from the file's bytes with every
//! offset checked against them.

use std::collections::BTreeMap;

/// Largest assembly read (real ones are at most tens of MiB).
pub(crate) const MAX_ASSEMBLY: u64 = 64 << 20;

/// The string table of an assembly's version resource, and whether it is managed code.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct VersionInfo {
    pub strings: BTreeMap<String, String>,
}

impl VersionInfo {
    pub(crate) fn get(&self, k: &str) -> Option<&str> {
        self.strings
            .get(k)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }
}

fn u16_at(b: &[u8], o: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        b.get(o..o.checked_add(2)?)?.try_into().ok()?,
    ))
}

fn u32_at(b: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(o..o.checked_add(4)?)?.try_into().ok()?,
    ))
}

struct Section {
    va: u32,
    raw: u32,
    raw_size: u32,
}

/// `Ok(None)`: a PE file that is no .NET assembly, or has no version resource.
pub(crate) fn version_info(b: &[u8]) -> Result<Option<VersionInfo>, String> {
    let bad = || "is not a well-formed PE file".to_owned();
    if b.get(..2) != Some(b"MZ") {
        return Ok(None);
    }
    let pe = u32_at(b, 0x3c).ok_or_else(bad)? as usize;
    if b.get(pe..pe.checked_add(4).ok_or_else(bad)?) != Some(b"PE\0\0") {
        return Ok(None);
    }
    let coff = pe + 4;
    let sections = u16_at(b, coff + 2).ok_or_else(bad)? as usize;
    let opt_size = u16_at(b, coff + 16).ok_or_else(bad)? as usize;
    let opt = coff + 20;
    let (dirs_at, count_at) = match u16_at(b, opt).ok_or_else(bad)? {
        0x10b => (opt + 96, opt + 92),
        0x20b => (opt + 112, opt + 108),
        _ => return Err(bad()),
    };
    let dirs = u32_at(b, count_at).ok_or_else(bad)? as usize;
    let dir = |i: usize| -> Option<(u32, u32)> {
        (i < dirs && dirs_at + i * 8 + 8 <= opt + opt_size)
            .then(|| Some((u32_at(b, dirs_at + i * 8)?, u32_at(b, dirs_at + i * 8 + 4)?)))
            .flatten()
    };
    // Directory 14 is the CLR runtime header: managed code only.
    if !dir(14).is_some_and(|(rva, size)| rva != 0 && size != 0) {
        return Ok(None);
    }
    let Some((res_rva, _)) = dir(2).filter(|(rva, _)| *rva != 0) else {
        return Ok(None);
    };
    let table = opt + opt_size;
    let mut secs = Vec::new();
    for i in 0..sections.min(96) {
        let s = table + i * 40;
        secs.push(Section {
            va: u32_at(b, s + 12).ok_or_else(bad)?,
            raw_size: u32_at(b, s + 16).ok_or_else(bad)?,
            raw: u32_at(b, s + 20).ok_or_else(bad)?,
        });
    }
    let offset = |rva: u32| -> Option<usize> {
        secs.iter().find_map(|s| {
            let within = rva.checked_sub(s.va)?;
            // Past the raw data the loader fills zeros: nothing of the file is there.
            (within < s.raw_size).then(|| s.raw as usize + within as usize)
        })
    };
    let root = offset(res_rva).ok_or_else(bad)?;
    // type RT_VERSION (16) → first name → first language → data entry.
    let mut node = root;
    for level in 0..3 {
        let named = u16_at(b, node + 12).ok_or_else(bad)? as usize;
        let ids = u16_at(b, node + 14).ok_or_else(bad)? as usize;
        let entries = node + 16;
        let pick = (0..(named + ids).min(4096))
            .find(|&i| level != 0 || (i >= named && u32_at(b, entries + i * 8) == Some(16)));
        let Some(i) = pick else {
            return Ok(None);
        };
        let to = u32_at(b, entries + i * 8 + 4).ok_or_else(bad)?;
        let is_dir = to & 0x8000_0000 != 0;
        if (level < 2) != is_dir {
            return Err(bad());
        }
        node = root + (to & 0x7fff_ffff) as usize;
    }
    let data_rva = u32_at(b, node).ok_or_else(bad)?;
    let data_size = u32_at(b, node + 4).ok_or_else(bad)? as usize;
    let at = offset(data_rva).ok_or_else(bad)?;
    let data = b
        .get(at..at.checked_add(data_size).ok_or_else(bad)?)
        .ok_or_else(bad)?;
    let mut strings = BTreeMap::new();
    walk(data, 0, data.len(), 0, &mut strings);
    Ok(Some(VersionInfo { strings }))
}

fn align4(x: usize) -> usize {
    (x + 3) & !3
}

/// A UTF-16 zero-terminated key at `o`; the offset past it.
fn key(b: &[u8], o: usize, end: usize) -> Option<(String, usize)> {
    let mut units = Vec::new();
    let mut i = o;
    while i + 2 <= end {
        let u = u16_at(b, i)?;
        i += 2;
        if u == 0 {
            return Some((String::from_utf16_lossy(&units), i));
        }
        units.push(u);
    }
    None
}

/// One version-resource block (`wLength`, `wValueLength`, `wType`, key, value, children)
/// and its children, collecting `String` blocks under `StringFileInfo`. Depth is at most 3
/// in real files; 6 is allowed.
fn walk(b: &[u8], o: usize, end: usize, depth: u8, out: &mut BTreeMap<String, String>) {
    if depth > 6 || o + 6 > end {
        return;
    }
    let Some(len) = u16_at(b, o).map(usize::from) else {
        return;
    };
    let Some(vlen) = u16_at(b, o + 2).map(usize::from) else {
        return;
    };
    let text = u16_at(b, o + 4) == Some(1);
    let block_end = (o + len).min(end);
    if len < 6 {
        return;
    }
    let Some((k, after)) = key(b, o + 6, block_end) else {
        return;
    };
    let value_at = align4(after);
    if depth == 3 {
        // A String: its value is vlen UTF-16 units (with the terminator).
        if text {
            let n = (vlen * 2).min(block_end.saturating_sub(value_at));
            if let Some(v) = b.get(value_at..value_at + n) {
                let units: Vec<u16> = v
                    .chunks_exact(2)
                    .map(|c| u16::from_le_bytes([c[0], c[1]]))
                    .collect();
                let s = String::from_utf16_lossy(&units);
                out.insert(k, s.trim_end_matches('\0').to_owned());
            }
        }
        return;
    }
    if depth == 1 && k != "StringFileInfo" {
        return; // VarFileInfo
    }
    let value_bytes = if text { vlen * 2 } else { vlen };
    let mut child = align4(value_at + value_bytes);
    while child + 6 <= block_end {
        let Some(clen) = u16_at(b, child).map(usize::from) else {
            return;
        };
        if clen == 0 {
            return;
        }
        walk(b, child, block_end, depth + 1, out);
        child = align4(child + clen);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_offsets_are_refused_or_ignored() {
        assert_eq!(version_info(b"not a pe"), Ok(None));
        let mut b = vec![0u8; 256];
        b[..2].copy_from_slice(b"MZ");
        b[0x3c..0x40].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(version_info(&b), Ok(None)); // no PE header where it points
        b[0x3c..0x40].copy_from_slice(&64u32.to_le_bytes());
        b[64..68].copy_from_slice(b"PE\0\0");
        assert!(version_info(&b).is_err()); // no optional header magic
    }
}
