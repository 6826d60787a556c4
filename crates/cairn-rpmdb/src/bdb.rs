//! Berkeley DB hash `Packages` (rpm before 4.16: CentOS 5–8, RHEL 7/8, Amazon Linux 2): a
//! libdb hash database whose keys are 4-byte record numbers and whose values are headers.
//!
//! Rather than follow hash buckets, the reader visits every page once in file order, as
//! go-rpmdb does: each hash page holds key/value item pairs, and a value too big for a page
//! (nearly every header) is an "off-page" item naming the first page of an overflow chain.
//! Layout per libdb 5.3 `dbinc/db_page.h`.
//!
//! Everything read is bounds-checked against the page and the file; an overflow chain is
//! followed with a visited mark per page, so a cycle is reported instead of looping, and its
//! length is checked against the length the item declares. Damage confined to one record is
//! reported for that record and the scan goes on.

use std::borrow::Cow;
use std::collections::BTreeSet;

use crate::error::BdbError;
use crate::RawRecord;

const HASH_MAGIC: u32 = 0x0006_1561;
const PAGE_HEADER: usize = 26;
const P_HASH_UNSORTED: u8 = 2;
const P_OVERFLOW: u8 = 7;
const P_HASHMETA: u8 = 8;
const P_HASH: u8 = 13;
const H_KEYDATA: u8 = 1;
const H_OFFPAGE: u8 = 3;
const HOFFPAGE_LEN: usize = 12;

/// True when `bytes` opens with a Berkeley DB hash metadata page, in either byte order.
pub(crate) fn is_bdb_hash(bytes: &[u8]) -> bool {
    bytes.len() >= 16
        && (read_u32(bytes, 12, false) == HASH_MAGIC || read_u32(bytes, 12, true) == HASH_MAGIC)
}

fn read_u32(b: &[u8], at: usize, swapped: bool) -> u32 {
    let w = [b[at], b[at + 1], b[at + 2], b[at + 3]];
    if swapped {
        u32::from_be_bytes(w)
    } else {
        u32::from_le_bytes(w)
    }
}

fn read_u16(b: &[u8], at: usize, swapped: bool) -> u16 {
    let w = [b[at], b[at + 1]];
    if swapped {
        u16::from_be_bytes(w)
    } else {
        u16::from_le_bytes(w)
    }
}

/// The parsed metadata page and the file it describes.
#[derive(Debug)]
pub struct HashDb<'a> {
    bytes: &'a [u8],
    swapped: bool,
    page_size: usize,
    /// Pages that are wholly present in the file (at most `last_page + 1`).
    pages: u32,
    last_page: u32,
}

/// Records found and the damage met on the way.
#[derive(Debug, Default)]
pub struct Scan<'a> {
    pub records: Vec<RawRecord<'a>>,
    pub problems: Vec<BdbError>,
}

impl<'a> HashDb<'a> {
    /// Checks the metadata page (magic, page type, no encryption, a page size libdb allows).
    pub fn open(bytes: &'a [u8]) -> Result<Self, BdbError> {
        if bytes.len() < 512 {
            return Err(BdbError::TooShort { len: bytes.len() });
        }
        let swapped = match read_u32(bytes, 12, false) {
            HASH_MAGIC => false,
            _ if read_u32(bytes, 12, true) == HASH_MAGIC => true,
            magic => return Err(BdbError::BadMagic { magic }),
        };
        let page_size = read_u32(bytes, 20, swapped);
        if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
            return Err(BdbError::BadPageSize { page_size });
        }
        if bytes[24] != 0 {
            return Err(BdbError::Encrypted {
                algorithm: bytes[24],
            });
        }
        if bytes[25] != P_HASHMETA {
            return Err(BdbError::NotHashMetadata {
                page_type: bytes[25],
            });
        }
        let last_page = read_u32(bytes, 32, swapped);
        let whole = (bytes.len() / page_size as usize).min(u32::MAX as usize) as u32;
        Ok(HashDb {
            bytes,
            swapped,
            page_size: page_size as usize,
            pages: whole.min(last_page.saturating_add(1)),
            last_page,
        })
    }

    fn page(&self, n: u32) -> &'a [u8] {
        let start = n as usize * self.page_size;
        &self.bytes[start..start + self.page_size]
    }

    /// Visits every hash page and collects each record (key, header blob).
    pub fn scan(&self) -> Scan<'a> {
        let mut scan = Scan::default();
        if self.pages <= self.last_page {
            scan.problems.push(BdbError::TruncatedPage {
                last_page: self.last_page,
                pages: self.pages,
                page_size: self.page_size as u32,
                len: self.bytes.len(),
            });
        }
        let mut seen = BTreeSet::new();
        // visited[p] == stamp marks page p as already on the chain being followed.
        let mut visited = vec![0u32; self.pages as usize];
        let mut stamp = 0u32;
        for n in 1..self.pages {
            let page = self.page(n);
            if !matches!(page[25], P_HASH | P_HASH_UNSORTED) {
                continue;
            }
            let items = match self.items(n, page) {
                Ok(items) => items,
                Err(e) => {
                    scan.problems.push(e);
                    continue;
                }
            };
            for pair in items.chunks_exact(2) {
                let (key, value) = (pair[0], pair[1]);
                let record = match self.key(n, page, key) {
                    Ok(0) => continue, // key 0 holds rpm's next free record number
                    Ok(record) => record,
                    Err(e) => {
                        scan.problems.push(e);
                        continue;
                    }
                };
                if !seen.insert(record) {
                    scan.problems
                        .push(BdbError::DuplicateRecord { record, page: n });
                    continue;
                }
                stamp += 1;
                match self.value(n, page, value, record, &mut visited, stamp) {
                    Ok(blob) => scan.records.push(RawRecord { record, blob }),
                    Err(e) => scan.problems.push(e),
                }
            }
        }
        scan
    }

    /// The (item index, start, length) of every item on a hash page, bounds-checked.
    fn items(&self, n: u32, page: &[u8]) -> Result<Vec<(usize, usize, usize)>, BdbError> {
        let entries = read_u16(page, 20, self.swapped);
        let index_end = PAGE_HEADER + entries as usize * 2;
        if index_end > self.page_size || entries % 2 != 0 {
            return Err(BdbError::BadEntryCount {
                page: n,
                entries,
                page_size: self.page_size as u32,
            });
        }
        let mut items = Vec::with_capacity(entries as usize);
        let mut end = self.page_size;
        for i in 0..entries as usize {
            let offset = read_u16(page, PAGE_HEADER + 2 * i, self.swapped);
            let start = offset as usize;
            // libdb packs items from the end of the page down, in index order, so each item
            // ends where the previous one starts (LEN_HITEM).
            if start < index_end || start >= end {
                return Err(BdbError::ItemOutOfRange {
                    page: n,
                    item: i,
                    offset,
                });
            }
            items.push((i, start, end - start));
            end = start;
        }
        Ok(items)
    }

    fn key(
        &self,
        n: u32,
        page: &[u8],
        (item, start, len): (usize, usize, usize),
    ) -> Result<u32, BdbError> {
        match page[start] {
            H_KEYDATA if len == 5 => Ok(read_u32(page, start + 1, self.swapped)),
            H_KEYDATA => Err(BdbError::BadKey {
                page: n,
                item,
                len: len - 1,
            }),
            item_type => Err(BdbError::UnsupportedItem {
                page: n,
                item,
                item_type,
            }),
        }
    }

    fn value(
        &self,
        n: u32,
        page: &'a [u8],
        (item, start, len): (usize, usize, usize),
        record: u32,
        visited: &mut [u32],
        stamp: u32,
    ) -> Result<Cow<'a, [u8]>, BdbError> {
        match page[start] {
            // A header small enough to stay on the hash page.
            H_KEYDATA => Ok(Cow::Borrowed(&page[start + 1..start + len])),
            H_OFFPAGE if len >= HOFFPAGE_LEN => {
                let first = read_u32(page, start + 4, self.swapped);
                let total = read_u32(page, start + 8, self.swapped);
                self.overflow(n, first, total, record, visited, stamp)
                    .map(Cow::Owned)
            }
            item_type => Err(BdbError::UnsupportedItem {
                page: n,
                item,
                item_type,
            }),
        }
    }

    /// Concatenates an overflow chain; `total` is the length the off-page item declares.
    fn overflow(
        &self,
        from: u32,
        first: u32,
        total: u32,
        record: u32,
        visited: &mut [u32],
        stamp: u32,
    ) -> Result<Vec<u8>, BdbError> {
        let mut out = Vec::with_capacity((total as usize).min(self.bytes.len()));
        let (mut prev, mut next) = (from, first);
        while next != 0 {
            if next >= self.pages {
                return Err(BdbError::OverflowOutOfRange {
                    record,
                    page: prev,
                    next,
                    last_page: self.last_page,
                });
            }
            let slot = &mut visited[next as usize];
            if *slot == stamp {
                return Err(BdbError::OverflowCycle {
                    record,
                    start: first,
                    page: next,
                });
            }
            *slot = stamp;
            let page = self.page(next);
            if page[25] != P_OVERFLOW {
                return Err(BdbError::NotOverflowPage {
                    record,
                    page: next,
                    page_type: page[25],
                });
            }
            // On overflow pages the "free offset" field holds the bytes used (OV_LEN).
            let len = read_u16(page, 22, self.swapped);
            if PAGE_HEADER + len as usize > self.page_size {
                return Err(BdbError::OverflowPageLength {
                    record,
                    page: next,
                    len,
                });
            }
            out.extend_from_slice(&page[PAGE_HEADER..PAGE_HEADER + len as usize]);
            if out.len() > total as usize {
                break;
            }
            prev = next;
            next = read_u32(page, 16, self.swapped);
        }
        if out.len() != total as usize {
            return Err(BdbError::OverflowLength {
                record,
                start: first,
                expected: total,
                actual: out.len(),
            });
        }
        Ok(out)
    }
}

/// Reads all records of a Berkeley DB hash `Packages` file.
pub fn read(bytes: &[u8]) -> Result<Scan<'_>, BdbError> {
    Ok(HashDb::open(bytes)?.scan())
}
