//! Executable formats: from the headers at the start of the file, where the build
//! information can be. ELF keeps its section table at the end of the file, out of reach of
//! a one-pass read, so on ELF the regions are program segments (the writable data segment
//! for Go, which the Go linker starts with `.go.buildinfo`) and, for cargo-auditable's
//! `.dep-v0`, which is not loaded, the span between the last segment and the section
//! table. PE and Mach-O list their sections first, so there the exact section is known.

use crate::input::Fwd;
use crate::{Error, Limits};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Elf,
    Pe,
    MachO,
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Format::Elf => "ELF",
            Format::Pe => "PE",
            Format::MachO => "Mach-O",
        })
    }
}

/// Whether the first bytes of a file are those of an ELF, PE or (thin) Mach-O file.
pub fn is_executable(head: &[u8]) -> bool {
    format_of(head).is_some()
}

fn format_of(head: &[u8]) -> Option<Format> {
    match head.get(..4)? {
        [0x7f, b'E', b'L', b'F'] => Some(Format::Elf),
        [b'M', b'Z', ..] => Some(Format::Pe),
        [0xcf, 0xfa, 0xed, 0xfe]
        | [0xce, 0xfa, 0xed, 0xfe]
        | [0xfe, 0xed, 0xfa, 0xcf]
        | [0xfe, 0xed, 0xfa, 0xce] => Some(Format::MachO),
        _ => None,
    }
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum Target {
    /// Go build info: at the start of the region when `exact`, else somewhere in it at a
    /// 16-byte aligned offset.
    Go { exact: bool },
    /// cargo-auditable data: the whole region when `exact`, else a zlib stream in it.
    Rust { exact: bool },
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Region {
    pub start: u64,
    pub len: u64,
    pub target: Target,
}

impl Region {
    pub fn end(&self) -> u64 {
        self.start.saturating_add(self.len)
    }
}

pub(crate) struct Layout {
    pub format: Format,
    pub regions: Vec<Region>,
    /// An ELF file with a Go build id note: a Go program, whose read-only data need not be
    /// searched for Rust's section.
    pub go_note: bool,
}

/// Fixed-width integers of one byte order.
#[derive(Clone, Copy)]
struct Endian {
    big: bool,
}

impl Endian {
    fn u16(self, b: &[u8], at: usize) -> Option<u16> {
        let a: [u8; 2] = b.get(at..at + 2)?.try_into().ok()?;
        Some(if self.big {
            u16::from_be_bytes(a)
        } else {
            u16::from_le_bytes(a)
        })
    }
    fn u32(self, b: &[u8], at: usize) -> Option<u32> {
        let a: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
        Some(if self.big {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        })
    }
    fn u64(self, b: &[u8], at: usize) -> Option<u64> {
        let a: [u8; 8] = b.get(at..at + 8)?.try_into().ok()?;
        Some(if self.big {
            u64::from_be_bytes(a)
        } else {
            u64::from_le_bytes(a)
        })
    }
}

fn bad(format: &'static str, reason: impl Into<String>) -> Error {
    Error::Headers {
        format,
        reason: reason.into(),
    }
}

/// The regions to look in, or `None` for a file that is not an executable this reader
/// knows (a relocatable object, a core dump, a fat Mach-O file).
pub(crate) fn layout(r: &mut Fwd, limits: &Limits) -> Result<Option<Layout>, Error> {
    let mut head = [0u8; 64];
    let n = (r.size().min(64)) as usize;
    r.read_exact(&mut head[..n])?;
    let head = &head[..n];
    // The formats' headers are read again from offset 0.
    r.unread(head);
    match format_of(head) {
        Some(Format::Elf) => elf(r, head, limits),
        Some(Format::Pe) => pe(r, head, limits),
        Some(Format::MachO) => macho(r, head, limits),
        None => Ok(None),
    }
}

const PT_LOAD: u32 = 1;
const PT_NOTE: u32 = 4;
const PF_X: u32 = 1;
const PF_W: u32 = 2;

fn elf(r: &mut Fwd, h: &[u8], limits: &Limits) -> Result<Option<Layout>, Error> {
    let short = || bad("ELF", "header too short");
    let wide = match h.get(4) {
        Some(1) => false,
        Some(2) => true,
        _ => return Err(bad("ELF", "unknown class")),
    };
    let e = Endian {
        big: match h.get(5) {
            Some(1) => false,
            Some(2) => true,
            _ => return Err(bad("ELF", "unknown byte order")),
        },
    };
    let kind = e.u16(h, 16).ok_or_else(short)?;
    if kind != 2 && kind != 3 {
        return Ok(None); // not an executable or shared object
    }
    let (phoff, shoff, phentsize, phnum) = if wide {
        (
            e.u64(h, 32).ok_or_else(short)?,
            e.u64(h, 40).ok_or_else(short)?,
            e.u16(h, 54).ok_or_else(short)?,
            e.u16(h, 56).ok_or_else(short)?,
        )
    } else {
        (
            u64::from(e.u32(h, 28).ok_or_else(short)?),
            u64::from(e.u32(h, 32).ok_or_else(short)?),
            e.u16(h, 42).ok_or_else(short)?,
            e.u16(h, 44).ok_or_else(short)?,
        )
    };
    let entsize = if wide { 56 } else { 32 };
    if usize::from(phentsize) < entsize {
        return Err(bad("ELF", format!("program header size {phentsize}")));
    }
    let table = u64::from(phentsize) * u64::from(phnum);
    let ph = r.read_at(phoff, table, limits.max_headers)?;
    struct Seg {
        kind: u32,
        flags: u32,
        offset: u64,
        filesz: u64,
    }
    let mut segs = Vec::new();
    for i in 0..usize::from(phnum) {
        let b = &ph[i * usize::from(phentsize)..];
        let seg = if wide {
            Seg {
                kind: e.u32(b, 0).ok_or_else(short)?,
                flags: e.u32(b, 4).ok_or_else(short)?,
                offset: e.u64(b, 8).ok_or_else(short)?,
                filesz: e.u64(b, 32).ok_or_else(short)?,
            }
        } else {
            Seg {
                kind: e.u32(b, 0).ok_or_else(short)?,
                offset: u64::from(e.u32(b, 4).ok_or_else(short)?),
                filesz: u64::from(e.u32(b, 16).ok_or_else(short)?),
                flags: e.u32(b, 24).ok_or_else(short)?,
            }
        };
        if seg.offset.saturating_add(seg.filesz) > r.size() {
            // A separate debug file keeps its segments' sizes but not their bytes.
            continue;
        }
        segs.push(seg);
    }
    // The Go build id note sits just after the headers.
    let mut go_note = false;
    let mut notes: Vec<&Seg> = segs.iter().filter(|s| s.kind == PT_NOTE).collect();
    notes.sort_by_key(|s| s.offset);
    for s in notes {
        if s.offset < r.position() || s.filesz > 64 * 1024 {
            continue;
        }
        let b = r.read_at(s.offset, s.filesz, limits.max_headers)?;
        go_note |= has_go_note(&b, e);
    }
    let mut regions = Vec::new();
    let mut loads: Vec<&Seg> = segs
        .iter()
        .filter(|s| s.kind == PT_LOAD && s.filesz > 0)
        .collect();
    loads.sort_by_key(|s| s.offset);
    if let Some(data) = loads.iter().find(|s| s.flags & (PF_W | PF_X) == PF_W) {
        regions.push(Region {
            start: data.offset,
            len: data.filesz,
            target: Target::Go { exact: false },
        });
    }
    if !go_note {
        // cargo-auditable's section is not loaded: the linker puts it with the other
        // non-allocated sections (.comment, symbols, debug info), after the last segment
        // and before the section table.
        let tail = loads.iter().map(|s| s.offset + s.filesz).max().unwrap_or(0);
        let end = if shoff > tail && shoff <= r.size() {
            shoff
        } else {
            r.size()
        };
        regions.push(Region {
            start: tail,
            len: end - tail.min(end),
            target: Target::Rust { exact: false },
        });
    }
    Ok(Some(Layout {
        format: Format::Elf,
        regions,
        go_note,
    }))
}

/// Whether an ELF note segment holds the Go build id note (name "Go", type 4).
fn has_go_note(b: &[u8], e: Endian) -> bool {
    let mut at = 0usize;
    let align4 = |n: usize| n.div_ceil(4) * 4;
    while at + 12 <= b.len() {
        let (Some(namesz), Some(descsz), Some(kind)) =
            (e.u32(b, at), e.u32(b, at + 4), e.u32(b, at + 8))
        else {
            return false;
        };
        let name_at = at + 12;
        let Some(name) = b.get(name_at..name_at.saturating_add(namesz as usize)) else {
            return false;
        };
        if kind == 4 && name == b"Go\0" {
            return true;
        }
        at = name_at
            .saturating_add(align4(namesz as usize))
            .saturating_add(align4(descsz as usize));
    }
    false
}

fn pe(r: &mut Fwd, h: &[u8], limits: &Limits) -> Result<Option<Layout>, Error> {
    let e = Endian { big: false };
    let Some(lfanew) = e.u32(h, 0x3c) else {
        return Ok(None);
    };
    let lfanew = u64::from(lfanew);
    let coff = r.read_at(lfanew, 24, limits.max_headers)?;
    if &coff[..4] != b"PE\0\0" {
        return Ok(None); // a DOS program, or a file that only starts with "MZ"
    }
    let nsect = e.u16(&coff, 6).unwrap_or(0);
    let optsize = e.u16(&coff, 20).unwrap_or(0);
    let table_at = lfanew + 24 + u64::from(optsize);
    let table = r.read_at(table_at, u64::from(nsect) * 40, limits.max_headers)?;
    let mut regions = Vec::new();
    let mut go_data = false;
    for i in 0..usize::from(nsect) {
        let s = &table[i * 40..(i + 1) * 40];
        let name = &s[..8];
        let size = u64::from(e.u32(s, 16).unwrap_or(0));
        let offset = u64::from(e.u32(s, 20).unwrap_or(0));
        let flags = e.u32(s, 36).unwrap_or(0);
        if size == 0 || offset.saturating_add(size) > r.size() {
            continue;
        }
        if name.starts_with(b".dep-v0") {
            regions.push(Region {
                start: offset,
                len: size,
                target: Target::Rust { exact: true },
            });
        }
        // Initialized data, readable and writable: where Go's linker puts the build info.
        const DATA: u32 = 0x40 | 0x4000_0000 | 0x8000_0000;
        if !go_data && flags & DATA == DATA {
            go_data = true;
            regions.push(Region {
                start: offset,
                len: size,
                target: Target::Go { exact: false },
            });
        }
    }
    Ok(Some(Layout {
        format: Format::Pe,
        regions,
        go_note: false,
    }))
}

fn macho(r: &mut Fwd, h: &[u8], limits: &Limits) -> Result<Option<Layout>, Error> {
    let (big, wide) = match h.get(..4) {
        Some([0xcf, 0xfa, 0xed, 0xfe]) => (false, true),
        Some([0xce, 0xfa, 0xed, 0xfe]) => (false, false),
        Some([0xfe, 0xed, 0xfa, 0xcf]) => (true, true),
        _ => (true, false),
    };
    let e = Endian { big };
    let short = || bad("Mach-O", "header too short");
    let ncmds = e.u32(h, 16).ok_or_else(short)?;
    let sizeofcmds = e.u32(h, 20).ok_or_else(short)?;
    let header = if wide { 32 } else { 28 };
    let cmds = r.read_at(header, u64::from(sizeofcmds), limits.max_headers)?;
    let mut regions = Vec::new();
    let mut at = 0usize;
    let name = |b: &[u8]| -> Vec<u8> { b.iter().copied().take_while(|&c| c != 0).collect() };
    for _ in 0..ncmds {
        let (Some(cmd), Some(size)) = (e.u32(&cmds, at), e.u32(&cmds, at + 4)) else {
            return Err(bad("Mach-O", "load commands end early"));
        };
        let size = size as usize;
        if size < 8 {
            return Err(bad("Mach-O", format!("load command of {size} bytes")));
        }
        let Some(c) = cmds.get(at..at.saturating_add(size)) else {
            return Err(bad("Mach-O", "a load command runs past the table"));
        };
        let (seg, sect_at, sect_size) = match cmd {
            0x19 if wide => (true, 72, 80),
            0x1 if !wide => (true, 56, 68),
            _ => (false, 0, 0),
        };
        if seg {
            let segname = name(c.get(8..24).ok_or_else(short)?);
            let (fileoff, filesize, nsects) = if wide {
                (
                    e.u64(c, 40).ok_or_else(short)?,
                    e.u64(c, 48).ok_or_else(short)?,
                    e.u32(c, 64).ok_or_else(short)?,
                )
            } else {
                (
                    u64::from(e.u32(c, 32).ok_or_else(short)?),
                    u64::from(e.u32(c, 36).ok_or_else(short)?),
                    e.u32(c, 48).ok_or_else(short)?,
                )
            };
            let mut exact_go = false;
            for k in 0..nsects as usize {
                let Some(s) = c.get(sect_at + k * sect_size..sect_at + (k + 1) * sect_size) else {
                    return Err(bad("Mach-O", "sections run past their segment command"));
                };
                let sectname = name(&s[..16]);
                let (size, offset) = if wide {
                    (
                        e.u64(s, 40).unwrap_or(0),
                        u64::from(e.u32(s, 48).unwrap_or(0)),
                    )
                } else {
                    (
                        u64::from(e.u32(s, 36).unwrap_or(0)),
                        u64::from(e.u32(s, 40).unwrap_or(0)),
                    )
                };
                if size == 0 || offset.saturating_add(size) > r.size() {
                    continue;
                }
                if sectname == b"__go_buildinfo" {
                    exact_go = true;
                    regions.push(Region {
                        start: offset,
                        len: size,
                        target: Target::Go { exact: true },
                    });
                } else if sectname.starts_with(b".dep-v0") || sectname == b"__dep_v0" {
                    regions.push(Region {
                        start: offset,
                        len: size,
                        target: Target::Rust { exact: true },
                    });
                }
            }
            if segname == b"__DATA" && !exact_go && filesize > 0 {
                regions.push(Region {
                    start: fileoff,
                    len: filesize.min(r.size().saturating_sub(fileoff)),
                    target: Target::Go { exact: false },
                });
            }
        }
        at += size;
    }
    Ok(Some(Layout {
        format: Format::MachO,
        regions,
        go_note: false,
    }))
}
