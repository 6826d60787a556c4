//! The rpm header blob: the record every rpm database stores once per installed package.
//!
//! A blob is `il` (index length) and `dl` (data length) as big-endian u32, then `il` index
//! entries of 16 bytes (tag, type, offset, count), then `dl` bytes of data store. Package
//! headers normally open with an immutable region (tag 63) whose trailer, stored in the data,
//! says how many of the entries belong to the signed part; entries after it ("dribble", added
//! at install time) replace region entries that carry the same tag.
//!
//! This module does every check `hdrblobInit`, `hdrblobVerifyRegion`, `hdrblobVerifyInfo` and
//! `hdrblobImport` of rpm's `lib/header.c` do before rpm itself trusts a blob, so that a blob rpm
//! would reject is rejected here too, with the reason. It never reads outside the blob, never
//! allocates more than the blob's size, and never panics on any input.

use std::borrow::Cow;

use crate::error::HeaderError;
use crate::tag::{self, TagType};

/// rpm's `HEADER_TAGS_MAX`: the most index entries a header may have.
const MAX_TAGS: u32 = 0xffff;
/// rpm's `HEADER_DATA_MAX`: the largest data store a header may have (256 MiB).
const MAX_DATA: u32 = 0x0fff_ffff;
/// Size of one index entry, which is also the size of a region trailer (`REGION_TAG_COUNT`).
const ENTRY_SIZE: usize = 16;

/// One validated index entry; `offset..offset + len` lies inside the data store.
#[derive(Debug, Clone, Copy)]
struct Entry {
    tag: u32,
    ty: TagType,
    offset: usize,
    len: usize,
}

/// A parsed and verified header. Values borrow from the blob.
#[derive(Debug, Clone)]
pub struct Header<'a> {
    store: &'a [u8],
    /// Sorted by tag, one entry per tag (dribble entries already replaced region ones).
    entries: Vec<Entry>,
}

/// An index entry as stored, before any check.
#[derive(Debug, Clone, Copy)]
struct RawEntry {
    tag: i32,
    ty: u32,
    offset: i32,
    count: u32,
}

impl RawEntry {
    fn read(bytes: &[u8]) -> Self {
        let word =
            |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        RawEntry {
            tag: word(0) as i32,
            ty: word(4),
            offset: word(8) as i32,
            count: word(12),
        }
    }
}

impl<'a> Header<'a> {
    /// Parses and verifies one header blob as an rpm database stores it (no lead, no magic).
    pub fn parse(blob: &'a [u8]) -> Result<Self, HeaderError> {
        if blob.len() < 8 {
            return Err(HeaderError::TooShort { len: blob.len() });
        }
        let il = u32::from_be_bytes([blob[0], blob[1], blob[2], blob[3]]);
        let dl = u32::from_be_bytes([blob[4], blob[5], blob[6], blob[7]]);
        if il == 0 {
            return Err(HeaderError::NoTags);
        }
        if il > MAX_TAGS {
            return Err(HeaderError::TooManyTags { il });
        }
        if dl > MAX_DATA {
            return Err(HeaderError::DataTooLarge { dl });
        }
        // Both bounded above, so this cannot overflow.
        let data_start = 8 + il as usize * ENTRY_SIZE;
        let expected = data_start + dl as usize;
        if blob.len() != expected {
            return Err(HeaderError::SizeMismatch {
                il,
                dl,
                expected,
                actual: blob.len(),
            });
        }
        let raw: Vec<RawEntry> = blob[8..data_start]
            .chunks_exact(ENTRY_SIZE)
            .map(RawEntry::read)
            .collect();
        let store = &blob[data_start..];

        let region = verify_region(&raw, store)?;
        verify_info(&raw, store, region)?;
        let entries = import(&raw, store, region)?;
        Ok(Header { store, entries })
    }

    fn entry(&self, tag: u32) -> Option<&Entry> {
        self.entries
            .binary_search_by_key(&tag, |e| e.tag)
            .ok()
            .map(|i| &self.entries[i])
    }

    fn data(&self, entry: &Entry) -> &'a [u8] {
        &self.store[entry.offset..entry.offset + entry.len]
    }

    /// Whether the header has an entry for `tag`.
    pub fn has(&self, tag: u32) -> bool {
        self.entry(tag).is_some()
    }

    /// The tags present, in ascending order.
    pub fn tags(&self) -> impl Iterator<Item = u32> + '_ {
        self.entries.iter().map(|e| e.tag)
    }

    fn typed(&self, tag: u32, expected: &'static [TagType]) -> Result<Option<Entry>, HeaderError> {
        match self.entry(tag) {
            None => Ok(None),
            Some(e) if expected.contains(&e.ty) => Ok(Some(*e)),
            Some(e) => Err(HeaderError::WrongType {
                tag,
                expected: expected[0],
                found: e.ty,
            }),
        }
    }

    /// A STRING value (the first translation of an I18NSTRING).
    pub fn string(&self, tag: u32) -> Result<Option<Cow<'a, str>>, HeaderError> {
        let Some(e) = self.typed(tag, &[TagType::String, TagType::I18nString])? else {
            return Ok(None);
        };
        Ok(split_strings(self.data(&e)).next())
    }

    /// A STRING_ARRAY value.
    pub fn string_array(&self, tag: u32) -> Result<Option<Vec<Cow<'a, str>>>, HeaderError> {
        let Some(e) = self.typed(tag, &[TagType::StringArray])? else {
            return Ok(None);
        };
        Ok(Some(split_strings(self.data(&e)).collect()))
    }

    /// An INT32 array.
    pub fn u32_array(&self, tag: u32) -> Result<Option<Vec<u32>>, HeaderError> {
        let Some(e) = self.typed(tag, &[TagType::Int32])? else {
            return Ok(None);
        };
        Ok(Some(
            self.data(&e)
                .chunks_exact(4)
                .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        ))
    }

    /// An INT16 array.
    pub fn u16_array(&self, tag: u32) -> Result<Option<Vec<u16>>, HeaderError> {
        let Some(e) = self.typed(tag, &[TagType::Int16])? else {
            return Ok(None);
        };
        Ok(Some(
            self.data(&e)
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect(),
        ))
    }

    /// An INT64 array.
    pub fn u64_array(&self, tag: u32) -> Result<Option<Vec<u64>>, HeaderError> {
        let Some(e) = self.typed(tag, &[TagType::Int64])? else {
            return Ok(None);
        };
        Ok(Some(
            self.data(&e)
                .chunks_exact(8)
                .map(|c| u64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                .collect(),
        ))
    }

    /// The first element of an INT32 value.
    pub fn u32(&self, tag: u32) -> Result<Option<u32>, HeaderError> {
        Ok(self.u32_array(tag)?.and_then(|v| v.first().copied()))
    }

    /// The first element of an INT64 value.
    pub fn u64(&self, tag: u32) -> Result<Option<u64>, HeaderError> {
        Ok(self.u64_array(tag)?.and_then(|v| v.first().copied()))
    }
}

/// Splits NUL-terminated strings; the verified length guarantees the last one is terminated.
fn split_strings(data: &[u8]) -> impl Iterator<Item = Cow<'_, str>> {
    data.split(|b| *b == 0)
        .take(data.iter().filter(|b| **b == 0).count())
        .map(String::from_utf8_lossy)
}

/// What the region check learned: which tag opened it, how many entries (`ril`) and bytes of
/// data (`rdl`, trailer included) it covers.
#[derive(Debug, Clone, Copy)]
struct Region {
    ril: usize,
    rdl: usize,
}

/// `hdrblobVerifyRegion`: a header that opens with a region tag must have a matching trailer
/// inside the data store, and the region must fit in the header. A header without a region
/// (an old v3 header) is accepted, as rpm accepts it.
fn verify_region(raw: &[RawEntry], store: &[u8]) -> Result<Option<Region>, HeaderError> {
    let first = raw[0];
    let region_tag = first.tag as u32;
    if !matches!(
        region_tag,
        tag::HEADERIMAGE | tag::HEADERSIGNATURES | tag::HEADERIMMUTABLE
    ) {
        return Ok(None);
    }
    if first.ty != 7 || first.count != ENTRY_SIZE as u32 {
        return Err(HeaderError::BadRegionTag {
            tag: region_tag,
            ty: first.ty,
            count: first.count,
        });
    }
    let dl = store.len();
    let trailer_at = usize::try_from(first.offset)
        .ok()
        .filter(|o| o + ENTRY_SIZE <= dl)
        .ok_or(HeaderError::RegionTrailerOutOfRange {
            offset: first.offset,
            dl,
        })?;
    let trailer = RawEntry::read(&store[trailer_at..trailer_at + ENTRY_SIZE]);
    let rdl = trailer_at + ENTRY_SIZE;
    let mut trailer_tag = trailer.tag as u32;
    // Some old packages put HEADERIMAGE in the signature region trailer; rpm fixes it up.
    if region_tag == tag::HEADERSIGNATURES && trailer_tag == tag::HEADERIMAGE {
        trailer_tag = tag::HEADERSIGNATURES;
    }
    if trailer_tag != region_tag || trailer.ty != 7 || trailer.count != ENTRY_SIZE as u32 {
        return Err(HeaderError::BadRegionTrailer {
            tag: trailer.tag as u32,
            ty: trailer.ty,
            count: trailer.count,
        });
    }
    // The trailer's offset is minus the size of the region's index, in bytes.
    let region_index_bytes = trailer.offset.checked_neg().unwrap_or(-1);
    let ril = usize::try_from(region_index_bytes)
        .ok()
        .map(|b| (b / ENTRY_SIZE, b % ENTRY_SIZE));
    match ril {
        Some((ril, 0)) if (1..=raw.len()).contains(&ril) => Ok(Some(Region { ril, rdl })),
        _ => Err(HeaderError::BadRegionSize {
            trailer_offset: trailer.offset,
            il: raw.len(),
        }),
    }
}

/// `hdrblobVerifyInfo`: every entry has a legal tag and type, a non-zero count, an aligned
/// offset inside the data store, data that ends inside the store, and does not start before
/// the previous entry's data ended; nothing but the region tag may touch the trailer.
fn verify_info(raw: &[RawEntry], store: &[u8], region: Option<Region>) -> Result<(), HeaderError> {
    let skip = usize::from(region.is_some());
    let mut end = 0usize;
    for (index, pe) in raw.iter().enumerate().skip(skip) {
        let e = check_entry(index, pe, store)?;
        if end > e.offset {
            return Err(HeaderError::Overlap {
                index,
                tag: e.tag,
                offset: e.offset,
                previous_end: end,
            });
        }
        end = e.offset + e.len;
        if let Some(r) = region {
            if end > r.rdl - ENTRY_SIZE && e.offset < r.rdl {
                return Err(HeaderError::OverlapsTrailer { index, tag: e.tag });
            }
        }
    }
    Ok(())
}

/// The per-entry checks shared by verification and import; returns the entry with its length.
fn check_entry(index: usize, pe: &RawEntry, store: &[u8]) -> Result<Entry, HeaderError> {
    let tag = pe.tag as u32;
    if pe.tag < tag::HEADERI18NTABLE as i32 {
        return Err(HeaderError::BadTag { index, tag: pe.tag });
    }
    let ty = TagType::from_raw(pe.ty).ok_or(HeaderError::BadType {
        index,
        tag,
        ty: pe.ty,
    })?;
    if pe.count == 0 {
        return Err(HeaderError::ZeroCount { index, tag });
    }
    let dl = store.len();
    let offset = usize::try_from(pe.offset).ok().filter(|o| *o < dl).ok_or(
        HeaderError::OffsetOutOfRange {
            index,
            tag,
            offset: pe.offset,
            dl,
        },
    )?;
    if offset % ty.alignment() != 0 {
        return Err(HeaderError::Misaligned {
            index,
            tag,
            ty,
            offset,
        });
    }
    let len = data_length(ty, pe.count, &store[offset..])
        .filter(|len| *len > 0)
        .ok_or(HeaderError::DataOutOfRange {
            index,
            tag,
            ty,
            count: pe.count,
            offset,
        })?;
    Ok(Entry {
        tag,
        ty,
        offset,
        len,
    })
}

/// `dataLength`: the bytes an entry's data takes, or `None` if it would run past the store
/// (or a STRING claims more than one element, or a string lacks its NUL).
fn data_length(ty: TagType, count: u32, rest: &[u8]) -> Option<usize> {
    match ty.element_size() {
        Some(size) => {
            let len = size.checked_mul(count as usize)?;
            (len <= rest.len()).then_some(len)
        }
        None => {
            if ty == TagType::String && count != 1 {
                return None;
            }
            let mut len = 0usize;
            for _ in 0..count {
                let nul = rest.get(len..)?.iter().position(|b| *b == 0)?;
                len += nul + 1;
            }
            Some(len)
        }
    }
}

/// `hdrblobImport`: walks the region's entries, then the dribble entries, summing their
/// aligned lengths; for a region header that sum plus the trailer must equal the data length
/// exactly, which catches entries that point into each other or leave gaps.
fn import(
    raw: &[RawEntry],
    store: &[u8],
    region: Option<Region>,
) -> Result<Vec<Entry>, HeaderError> {
    let legacy = raw[0].tag >= tag::HEADERI18NTABLE as i32;
    let mut entries: Vec<Entry> = Vec::with_capacity(raw.len());
    if legacy {
        // An original v3 header: every entry is data, and rpm does not check the total.
        swab(raw, 0, store, 0, &mut entries)?;
    } else {
        // A v4 header, or a v3 one upgraded with a legacy region. The region tag is either
        // verified (`region` is set) or, with offset 0, covers the whole index.
        let ril = match region {
            Some(r) if raw[0].offset != 0 => r.ril,
            _ => raw.len(),
        };
        let mut rdlen = swab(&raw[1..ril], 1, store, 0, &mut entries)?;
        if ril < raw.len() {
            let region_count = entries.len();
            rdlen = swab(&raw[ril..], ril, store, rdlen, &mut entries)?;
            // Dribble entries replace region entries with the same tag.
            let dribble: Vec<u32> = entries[region_count..].iter().map(|e| e.tag).collect();
            let mut i = 0;
            entries.retain(|e| {
                let keep = i >= region_count || !dribble.contains(&e.tag);
                i += 1;
                keep
            });
        }
        rdlen += ENTRY_SIZE;
        if rdlen != store.len() {
            return Err(HeaderError::DataLengthMismatch {
                computed: rdlen,
                dl: store.len(),
            });
        }
    }
    // A stable sort keeps the later of two entries with one tag last; keep that one, as
    // rpm's lookup would find the entry that replaced the other.
    entries.sort_by_key(|e| e.tag);
    let mut unique: Vec<Entry> = Vec::with_capacity(entries.len());
    for e in entries {
        match unique.last_mut() {
            Some(last) if last.tag == e.tag => *last = e,
            _ => unique.push(e),
        }
    }
    Ok(unique)
}

/// `regionSwab`: checks `raw` (whose first entry has index `first_index`) and appends the
/// entries, returning the running data length with rpm's alignment padding.
fn swab(
    raw: &[RawEntry],
    first_index: usize,
    store: &[u8],
    mut dl: usize,
    out: &mut Vec<Entry>,
) -> Result<usize, HeaderError> {
    for (i, pe) in raw.iter().enumerate() {
        let e = check_entry(first_index + i, pe, store)?;
        if let Some(size) = e.ty.element_size().filter(|s| *s > 1) {
            let rem = dl % size;
            if rem != 0 {
                dl += size - rem;
            }
        }
        dl += e.len;
        out.push(e);
    }
    Ok(dl)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a minimal v4 header: an immutable region holding NAME and EPOCH.
    pub(crate) fn tiny_header() -> Vec<u8> {
        let mut data = Vec::new();
        data.extend_from_slice(b"hello\0"); // NAME at 0, 6 bytes
        data.extend_from_slice(&[0, 0]); // pad to 8 for INT32
        data.extend_from_slice(&7u32.to_be_bytes()); // EPOCH at 8
        let trailer_at = data.len() as i32; // 12
        let entries: [(i32, u32, i32, u32); 3] =
            [(63, 7, trailer_at, 16), (1000, 6, 0, 1), (1003, 4, 8, 1)];
        // trailer: tag 63, type BIN, offset -(3 * 16), count 16
        for v in [63u32, 7, (-(3 * 16i32)) as u32, 16] {
            data.extend_from_slice(&v.to_be_bytes());
        }
        let mut blob = Vec::new();
        blob.extend_from_slice(&(entries.len() as u32).to_be_bytes());
        blob.extend_from_slice(&(data.len() as u32).to_be_bytes());
        for (t, ty, o, c) in entries {
            for v in [t as u32, ty, o as u32, c] {
                blob.extend_from_slice(&v.to_be_bytes());
            }
        }
        blob.extend_from_slice(&data);
        blob
    }

    #[test]
    fn parses_a_minimal_region_header() {
        let blob = tiny_header();
        let h = Header::parse(&blob).unwrap();
        assert_eq!(h.string(tag::NAME).unwrap().as_deref(), Some("hello"));
        assert_eq!(h.u32(tag::EPOCH).unwrap(), Some(7));
        assert_eq!(h.tags().collect::<Vec<_>>(), vec![1000, 1003]);
    }

    #[test]
    fn wrong_type_is_reported_with_the_tag() {
        let blob = tiny_header();
        let h = Header::parse(&blob).unwrap();
        assert!(matches!(
            h.u32(tag::NAME),
            Err(HeaderError::WrongType { tag: 1000, .. })
        ));
    }

    fn set_entry_word(blob: &mut [u8], entry: usize, word: usize, value: u32) {
        let at = 8 + entry * 16 + word * 4;
        blob[at..at + 4].copy_from_slice(&value.to_be_bytes());
    }

    #[test]
    fn header_offset_out_of_range() {
        let mut blob = tiny_header();
        set_entry_word(&mut blob, 1, 2, 0x7fff_0000);
        assert!(matches!(
            Header::parse(&blob),
            Err(HeaderError::OffsetOutOfRange {
                index: 1,
                tag: 1000,
                ..
            })
        ));
        set_entry_word(&mut blob, 1, 2, (-4i32) as u32);
        assert!(matches!(
            Header::parse(&blob),
            Err(HeaderError::OffsetOutOfRange { .. })
        ));
    }

    #[test]
    fn region_trailer_out_of_range() {
        let mut blob = tiny_header();
        set_entry_word(&mut blob, 0, 2, 1000);
        assert!(matches!(
            Header::parse(&blob),
            Err(HeaderError::RegionTrailerOutOfRange { .. })
        ));
    }

    #[test]
    fn bad_region_trailer() {
        let mut blob = tiny_header();
        let dl = blob.len();
        // trailer tag lives in the last 16 bytes
        blob[dl - 16..dl - 12].copy_from_slice(&62u32.to_be_bytes());
        assert!(matches!(
            Header::parse(&blob),
            Err(HeaderError::BadRegionTrailer { tag: 62, .. })
        ));
    }

    #[test]
    fn region_claims_more_entries_than_the_index() {
        let mut blob = tiny_header();
        let dl = blob.len();
        blob[dl - 8..dl - 4].copy_from_slice(&((-(4 * 16i32)) as u32).to_be_bytes());
        assert!(matches!(
            Header::parse(&blob),
            Err(HeaderError::BadRegionSize { .. })
        ));
    }

    #[test]
    fn string_without_nul_is_rejected() {
        let mut blob = tiny_header();
        let store = 8 + 3 * 16;
        blob[store + 5] = b'!'; // NAME loses its NUL and runs into the padding (zeros)...
        blob[store + 6] = b'!';
        blob[store + 7] = b'!'; // ...and into EPOCH's data: overlap or length mismatch
        assert!(Header::parse(&blob).is_err());
    }

    #[test]
    fn misaligned_int32() {
        let mut blob = tiny_header();
        set_entry_word(&mut blob, 2, 2, 6);
        assert!(matches!(
            Header::parse(&blob),
            Err(HeaderError::Misaligned { tag: 1003, .. })
        ));
    }

    #[test]
    fn counts_that_overflow_are_rejected() {
        let mut blob = tiny_header();
        set_entry_word(&mut blob, 2, 3, u32::MAX);
        assert!(matches!(
            Header::parse(&blob),
            Err(HeaderError::DataOutOfRange { tag: 1003, .. })
        ));
    }

    #[test]
    fn blob_size_must_match_il_and_dl() {
        let mut blob = tiny_header();
        blob.push(0);
        assert!(matches!(
            Header::parse(&blob),
            Err(HeaderError::SizeMismatch { .. })
        ));
        blob.truncate(20);
        assert!(matches!(
            Header::parse(&blob),
            Err(HeaderError::SizeMismatch { .. })
        ));
        assert!(matches!(
            Header::parse(&blob[..5]),
            Err(HeaderError::TooShort { len: 5 })
        ));
    }

    #[test]
    fn every_prefix_and_every_byte_flip_is_handled_without_panic() {
        let blob = tiny_header();
        for n in 0..blob.len() {
            let _ = Header::parse(&blob[..n]);
        }
        for i in 0..blob.len() {
            for bit in 0..8 {
                let mut b = blob.clone();
                b[i] ^= 1 << bit;
                if let Ok(h) = Header::parse(&b) {
                    let _ = h.string(tag::NAME);
                    let _ = h.u32(tag::EPOCH);
                }
            }
        }
    }
}
