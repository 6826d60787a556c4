//! NDB `Packages.db` (rpm's own format, 4.16+; SUSE and openSUSE), laid out by rpm's
//! `lib/backend/ndb/rpmpkg.c`, all integers little-endian:
//!
//! - a 32-byte header: magic `RpmP`, version 0, generation, number of 4 KiB slot pages;
//! - the slot pages: 16-byte slots (magic `Slot`, package index, block offset, block count;
//!   the first two slots' room is taken by the header, index 0 means a free slot);
//! - blobs addressed in 16-byte blocks: a 16-byte head (magic `BlbS`, package index,
//!   generation, blob length), the header blob, padding, and a 12-byte tail (Adler-32 of
//!   everything before the tail, blob length, magic `BlbE`).
//!
//! Every slot's blob is bounds-checked and its checksum verified before the header is handed
//! on; a bad slot is reported for its package and the others are still read.

use std::collections::BTreeSet;

use crate::error::NdbError;
use crate::RawRecord;

const HEADER_MAGIC: u32 = u32::from_le_bytes(*b"RpmP");
const SLOT_MAGIC: u32 = u32::from_le_bytes(*b"Slot");
const BLOB_MAGIC: u32 = u32::from_le_bytes(*b"BlbS");
const TAIL_MAGIC: u32 = u32::from_le_bytes(*b"BlbE");
const SLOT_PAGE: usize = 4096;
const SLOT_SIZE: usize = 16;
const BLOCK: usize = 16;
const BLOB_HEAD: usize = 16;
const BLOB_TAIL: usize = 12;

pub(crate) fn is_ndb(bytes: &[u8]) -> bool {
    bytes.len() >= 4 && word(bytes, 0) == HEADER_MAGIC
}

fn word(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Records found and the damage met on the way.
#[derive(Debug, Default)]
pub struct Scan<'a> {
    pub records: Vec<RawRecord<'a>>,
    pub problems: Vec<NdbError>,
}

/// Reads every occupied slot's header blob.
pub fn read(bytes: &[u8]) -> Result<Scan<'_>, NdbError> {
    if bytes.len() < 32 {
        return Err(NdbError::TooShort { len: bytes.len() });
    }
    let (magic, version) = (word(bytes, 0), word(bytes, 4));
    if magic != HEADER_MAGIC || version != 0 {
        return Err(NdbError::BadHeader { magic, version });
    }
    let slot_pages = word(bytes, 12);
    let slots_end = (slot_pages as usize).checked_mul(SLOT_PAGE);
    let slots_end = match slots_end {
        Some(end) if slot_pages > 0 && end <= bytes.len() => end,
        _ => {
            return Err(NdbError::BadSlotPageCount {
                count: slot_pages,
                len: bytes.len(),
            })
        }
    };
    let mut scan = Scan::default();
    let mut seen = BTreeSet::new();
    for slot in 2..slots_end / SLOT_SIZE {
        let at = slot * SLOT_SIZE;
        let slot_magic = word(bytes, at);
        if slot_magic != SLOT_MAGIC {
            // rpm treats this as a corrupt database; the slots after it cannot be trusted.
            scan.problems.push(NdbError::BadSlotMagic {
                slot,
                magic: slot_magic,
            });
            break;
        }
        let pkg = word(bytes, at + 4);
        if pkg == 0 {
            continue;
        }
        if !seen.insert(pkg) {
            scan.problems.push(NdbError::DuplicatePackage { pkg, slot });
            continue;
        }
        match blob(bytes, pkg, word(bytes, at + 8), word(bytes, at + 12)) {
            Ok(blob) => scan.records.push(RawRecord {
                record: pkg,
                blob: blob.into(),
            }),
            Err(e) => scan.problems.push(e),
        }
    }
    Ok(scan)
}

fn blob(bytes: &[u8], pkg: u32, block: u32, blocks: u32) -> Result<&[u8], NdbError> {
    let start = block as usize * BLOCK;
    let len = blocks as usize * BLOCK;
    let end = start.checked_add(len).filter(|end| *end <= bytes.len());
    let end = match end {
        Some(end) if len >= BLOB_HEAD + BLOB_TAIL => end,
        _ => {
            return Err(NdbError::BlobOutOfRange {
                pkg,
                block,
                blocks,
                len: bytes.len(),
            })
        }
    };
    let (magic, found, blob_len) = (
        word(bytes, start),
        word(bytes, start + 4),
        word(bytes, start + 12),
    );
    if magic != BLOB_MAGIC || found != pkg {
        return Err(NdbError::BadBlobHeader { pkg, magic, found });
    }
    if blob_len as usize > len - BLOB_HEAD - BLOB_TAIL {
        return Err(NdbError::BlobTooLong {
            pkg,
            blob_len,
            blocks,
        });
    }
    let tail = end - BLOB_TAIL;
    let (expected, tail_len, tail_magic) = (
        word(bytes, tail),
        word(bytes, tail + 4),
        word(bytes, tail + 8),
    );
    if tail_magic != TAIL_MAGIC || tail_len != blob_len {
        return Err(NdbError::BadBlobTail {
            pkg,
            magic: tail_magic,
            tail_len,
            blob_len,
        });
    }
    let actual = adler32(&bytes[start..tail]);
    if actual != expected {
        return Err(NdbError::Checksum {
            pkg,
            expected,
            actual,
        });
    }
    Ok(&bytes[start + BLOB_HEAD..start + BLOB_HEAD + blob_len as usize])
}

/// Adler-32 (RFC 1950 §8.2), the checksum rpm's NDB keeps in each blob tail.
fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65521;
    // 5552 is the largest n for which the sums cannot overflow u32 before reduction.
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in data.chunks(5552) {
        for &byte in chunk {
            a += u32::from(byte);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

#[cfg(test)]
mod tests {
    use super::adler32;

    #[test]
    fn adler32_matches_rfc_1950_examples() {
        assert_eq!(adler32(b""), 1);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
        assert_eq!(adler32(&[0xff; 100_000]), {
            // computed naively with u64 to cross-check the chunked reduction
            let (mut a, mut b) = (1u64, 0u64);
            for _ in 0..100_000 {
                a = (a + 255) % 65521;
                b = (b + a) % 65521;
            }
            ((b << 16) | a) as u32
        });
    }
}
