//! Damaged databases, made by mutating copies of the real fixtures: each must give a typed
//! error naming what broke, keep the intact records, and never panic or loop.

use cairn_rpmdb::{read_database, BdbError, Error, HeaderError, NdbError, SqliteError};

#[path = "../../../fixtures/require.rs"]
mod require;

/// The bytes of `fixtures/pkgdb/<rel>`, or `None` when it is missing and the test skips.
fn fixture(rel: &str) -> Option<Vec<u8>> {
    require::pkgdb(rel).map(|path| std::fs::read(path).unwrap())
}

const MARINER_BDB: &str = "rpm/mariner-2.0-as-bdb/Packages";
const MARINER_SQLITE: &str = "rpm/cbl-mariner-2.0/rpmdb.sqlite";
const SLE_NDB: &str = "rpm/sle15-bci-minimal-15.3/Packages.db";
const PAGE: usize = 4096;

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

#[test]
fn truncated_page() {
    let Some(bytes) = fixture(MARINER_BDB) else {
        return;
    };
    // Cut inside a page, at several points through the file.
    for cut in (1..16).map(|i| i * bytes.len() / 16 + 100) {
        let db = read_database(&bytes[..cut]).expect("metadata page is intact");
        assert!(
            matches!(
                db.problems.first(),
                Some(Error::Bdb(BdbError::TruncatedPage { pages, .. })) if *pages as usize == cut / PAGE
            ),
            "cut at {cut}: {:?}",
            db.problems.first()
        );
        assert!(db.packages.len() < 129, "cut at {cut}");
        // Headers whose overflow chain runs past the cut are reported, not invented.
        assert!(db
            .problems
            .iter()
            .skip(1)
            .all(|p| matches!(p, Error::Bdb(BdbError::OverflowOutOfRange { .. }))));
    }
    // Too short even for the metadata page.
    assert!(matches!(
        read_database(&bytes[..300]),
        Err(Error::Bdb(BdbError::TooShort { len: 300 }))
    ));
}

#[test]
fn truncated_ndb_and_sqlite() {
    if let Some(bytes) = fixture(SLE_NDB) {
        let db = read_database(&bytes[..bytes.len() / 2]).unwrap();
        assert!(!db.packages.is_empty() && db.packages.len() < 35);
        assert!(db
            .problems
            .iter()
            .all(|p| matches!(p, Error::Ndb(NdbError::BlobOutOfRange { .. }))));
        assert!(matches!(
            read_database(&bytes[..4000]),
            Err(Error::Ndb(NdbError::BadSlotPageCount { .. }))
        ));
    }
    if let Some(bytes) = fixture(MARINER_SQLITE) {
        assert!(matches!(
            read_database(&bytes[..bytes.len() / 3]),
            Err(Error::Sqlite(SqliteError::Sqlite(_)))
        ));
    }
}

/// Replaces the blob of record `hnum` in an sqlite rpmdb and returns the new file.
fn sqlite_with_blob(bytes: &[u8], hnum: i64, edit: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut copy = bytes.to_vec();
    copy[18] = 1; // rpm leaves the file in WAL mode; in memory it must be a rollback journal
    copy[19] = 1;
    let mut conn = rusqlite::Connection::open_in_memory().unwrap();
    conn.deserialize_read_exact(rusqlite::MAIN_DB, &copy[..], copy.len(), false)
        .unwrap();
    let mut blob: Vec<u8> = conn
        .query_row("SELECT blob FROM Packages WHERE hnum = ?1", [hnum], |r| {
            r.get(0)
        })
        .unwrap();
    edit(&mut blob);
    conn.execute(
        "UPDATE Packages SET blob = ?1 WHERE hnum = ?2",
        rusqlite::params![blob, hnum],
    )
    .unwrap();
    conn.serialize(rusqlite::MAIN_DB).unwrap().to_vec()
}

#[test]
fn header_offset_out_of_range() {
    let Some(bytes) = fixture(MARINER_SQLITE) else {
        return;
    };
    let broken = sqlite_with_blob(&bytes, 7, |blob| {
        // Entry 1 (the first after the region tag): offset word = 0x7fff0000.
        blob[8 + 16 + 8..8 + 16 + 12].copy_from_slice(&0x7fff_0000u32.to_be_bytes());
    });
    let db = read_database(&broken).unwrap();
    assert_eq!(db.packages.len(), 128);
    assert_eq!(db.problems.len(), 1, "{:?}", db.problems);
    let problem = &db.problems[0];
    assert!(
        matches!(
            problem,
            Error::Header {
                record: 7,
                source: HeaderError::OffsetOutOfRange {
                    index: 1,
                    offset: 0x7fff_0000,
                    ..
                }
            }
        ),
        "{problem:?}"
    );
    assert!(problem.to_string().contains("record 7"), "{problem}");
}

#[test]
fn header_region_trailer_damaged() {
    let Some(bytes) = fixture(MARINER_SQLITE) else {
        return;
    };
    let broken = sqlite_with_blob(&bytes, 3, |blob| {
        // The region tag's offset points at its trailer; make the trailer claim another tag.
        let il = u32::from_be_bytes(blob[0..4].try_into().unwrap()) as usize;
        let trailer = u32::from_be_bytes(blob[16..20].try_into().unwrap()) as usize;
        let at = 8 + il * 16 + trailer;
        blob[at..at + 4].copy_from_slice(&1000u32.to_be_bytes());
    });
    let db = read_database(&broken).unwrap();
    assert_eq!(db.packages.len(), 128);
    assert!(matches!(
        db.problems[..],
        [Error::Header {
            record: 3,
            source: HeaderError::BadRegionTrailer { tag: 1000, .. }
        }]
    ));
}

/// The overflow pages of the Berkeley DB fixture: `(page, next)` for each.
fn overflow_links(bytes: &[u8]) -> Vec<(usize, u32)> {
    (1..bytes.len() / PAGE)
        .filter(|p| bytes[p * PAGE + 25] == 7)
        .map(|p| (p, le32(bytes, p * PAGE + 16)))
        .collect()
}

fn set_next(bytes: &mut [u8], page: usize, next: u32) {
    bytes[page * PAGE + 16..page * PAGE + 20].copy_from_slice(&next.to_le_bytes());
}

#[test]
fn bdb_overflow_cycle() {
    let Some(bytes) = fixture(MARINER_BDB) else {
        return;
    };
    let links = overflow_links(&bytes);
    // A chain p -> q -> (something): make q point back to p.
    let &(p, q) = links.iter().find(|(_, next)| *next != 0).unwrap();
    let mut two = bytes.clone();
    set_next(&mut two, q as usize, p as u32);
    // And a page that points to itself.
    let mut one = bytes.clone();
    set_next(&mut one, p, p as u32);
    for broken in [two, one] {
        let db = read_database(&broken).unwrap();
        assert_eq!(db.packages.len(), 128);
        assert!(
            matches!(
                db.problems[..],
                [Error::Bdb(BdbError::OverflowCycle { page, .. })] if page as usize == p
            ),
            "{:?}",
            db.problems
        );
    }
}

#[test]
fn bdb_overflow_chain_longer_or_shorter_than_declared() {
    let Some(bytes) = fixture(MARINER_BDB) else {
        return;
    };
    let links = overflow_links(&bytes);
    // End a chain early: the concatenated header is shorter than the off-page item says.
    let &(p, _) = links.iter().find(|(_, next)| *next != 0).unwrap();
    let mut short = bytes.clone();
    set_next(&mut short, p, 0);
    let db = read_database(&short).unwrap();
    assert_eq!(db.packages.len(), 128);
    assert!(matches!(
        db.problems[..],
        [Error::Bdb(BdbError::OverflowLength { .. })]
    ));
    // Point a chain at the metadata page, which is not an overflow page.
    let mut wrong = bytes.clone();
    set_next(&mut wrong, p, 0);
    let mut wrong_type = wrong.clone();
    wrong_type[p * PAGE + 16..p * PAGE + 20].copy_from_slice(&1u32.to_le_bytes());
    let db = read_database(&wrong_type).unwrap();
    assert!(db
        .problems
        .iter()
        .any(|e| matches!(e, Error::Bdb(BdbError::NotOverflowPage { .. }))));
    // Point it far beyond the file.
    set_next(&mut wrong, p, 0x00ff_ffff);
    let db = read_database(&wrong).unwrap();
    assert!(matches!(
        db.problems[..],
        [Error::Bdb(BdbError::OverflowOutOfRange {
            next: 0x00ff_ffff,
            ..
        })]
    ));
}

#[test]
fn sqlite_not_a_database() {
    // Text where the database should be.
    assert!(matches!(
        read_database(b"this is not a database\n"),
        Err(Error::UnknownFormat)
    ));
    // The magic and nothing else.
    assert!(matches!(
        read_database(b"SQLite format 3\0"),
        Err(Error::Sqlite(SqliteError::NotADatabase))
    ));
    assert!(matches!(read_database(b""), Err(Error::UnknownFormat)));
    let Some(bytes) = fixture(MARINER_SQLITE) else {
        return;
    };
    // The 100-byte header intact, every page after it overwritten.
    let mut garbage = bytes.clone();
    for (i, b) in garbage[100..].iter_mut().enumerate() {
        *b = (i * 7 % 251) as u8;
    }
    let err = read_database(&garbage).unwrap_err();
    assert!(
        matches!(err, Error::Sqlite(SqliteError::Sqlite(_))),
        "{err:?}"
    );
    // A sound sqlite database that is not an rpmdb.
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    conn.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1);")
        .unwrap();
    let other = conn.serialize(rusqlite::MAIN_DB).unwrap().to_vec();
    let err = read_database(&other).unwrap_err();
    assert!(err.to_string().contains("no such table"), "{err}");
}

#[test]
fn ndb_checksum_mismatch() {
    let Some(mut bytes) = fixture(SLE_NDB) else {
        return;
    };
    // Slot 2 holds the first package; flip a byte in the middle of its blob.
    let block = le32(&bytes, 2 * 16 + 8) as usize;
    bytes[block * 16 + 100] ^= 0x55;
    let db = read_database(&bytes).unwrap();
    assert_eq!(db.packages.len(), 34);
    assert!(matches!(
        db.problems[..],
        [Error::Ndb(NdbError::Checksum { pkg: 1, .. })]
    ));
}

/// Deterministic pseudo-random byte flips over whole files: any outcome but a panic or a hang.
#[test]
fn random_damage_never_panics() {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for rel in [
        "rpm/syft-dive/Packages",
        "rpm/ubi8-libuuid/Packages",
        SLE_NDB,
        "rpm/fedora36-tzdata/rpmdb.sqlite",
    ] {
        let Some(bytes) = fixture(rel) else { return };
        for _ in 0..100 {
            let mut copy = bytes.clone();
            for _ in 0..1 + next() % 8 {
                let at = (next() % copy.len() as u64) as usize;
                copy[at] ^= (next() % 255 + 1) as u8;
            }
            let _ = read_database(&copy);
        }
    }
    // Every single byte of a small Berkeley DB, inverted in turn.
    let Some(bytes) = fixture("rpm/syft-dive/Packages") else {
        return;
    };
    for at in 0..bytes.len() {
        let mut copy = bytes.clone();
        copy[at] ^= 0xff;
        let _ = read_database(&copy);
    }
}

/// A big-endian ("swapped") Berkeley DB, as rpm on s390x or old PowerPC writes it: made by
/// byte-swapping every integer libdb stores in native order in the little-endian fixture.
#[test]
fn big_endian_bdb_reads_like_the_little_endian_one() {
    let Some(bytes) = fixture(MARINER_BDB) else {
        return;
    };
    let mut be = bytes.clone();
    let swap32 = |b: &mut [u8], at: usize| b[at..at + 4].reverse();
    let swap16 = |b: &mut [u8], at: usize| b[at..at + 2].reverse();
    for at in [8, 12, 16, 20, 28, 32] {
        swap32(&mut be, at);
    }
    for p in 1..bytes.len() / PAGE {
        let base = p * PAGE;
        let page = &bytes[base..base + PAGE];
        if matches!(page[25], 2 | 13) {
            let entries = u16::from_le_bytes([page[20], page[21]]) as usize;
            for i in 0..entries {
                let offset = u16::from_le_bytes([page[26 + 2 * i], page[27 + 2 * i]]) as usize;
                match (i % 2, page[offset]) {
                    (0, 1) => swap32(&mut be, base + offset + 1), // record number key
                    (1, 3) => {
                        swap32(&mut be, base + offset + 4); // first overflow page
                        swap32(&mut be, base + offset + 8); // total length
                    }
                    _ => {}
                }
                swap16(&mut be, base + 26 + 2 * i);
            }
        }
        for at in [8, 12, 16] {
            swap32(&mut be, base + at);
        }
        swap16(&mut be, base + 20);
        swap16(&mut be, base + 22);
    }
    let le = read_database(&bytes).unwrap();
    let swapped = read_database(&be).unwrap();
    assert!(swapped.problems.is_empty(), "{:?}", swapped.problems);
    assert_eq!(swapped.packages, le.packages);
}
