//! `rpmdb.sqlite` (rpm 4.16+: Fedora 33+, RHEL 9, CBL-Mariner): one row per package in the
//! `Packages` table, `hnum` the record number and `blob` the header.
//!
//! The database is deserialized into an in-memory, read-only sqlite connection from the bytes
//! the caller holds, so nothing is written to disk and no path is needed. rpm keeps the file
//! in WAL mode; an in-memory database cannot use a WAL, so the copy's header is switched to
//! rollback-journal mode first. That reads what the main file holds, i.e. everything rpm
//! has checkpointed (it checkpoints when it closes the database); a `-wal` file beside it
//! is not consulted.

use std::io::Read;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

use crate::error::SqliteError;
use crate::RawRecord;

pub(crate) const MAGIC: &[u8; 16] = b"SQLite format 3\0";
const HEADER_LEN: usize = 100;

/// Reads every `(hnum, blob)` row of the `Packages` table, in `hnum` order.
pub fn read(bytes: &[u8]) -> Result<Vec<RawRecord<'static>>, SqliteError> {
    if bytes.len() < HEADER_LEN || !bytes.starts_with(MAGIC) {
        return Err(SqliteError::NotADatabase);
    }
    let mut header = [0u8; HEADER_LEN];
    header.copy_from_slice(&bytes[..HEADER_LEN]);
    // File format write/read versions: 2 means WAL, 1 means rollback journal.
    if header[18] == 2 {
        header[18] = 1;
    }
    if header[19] == 2 {
        header[19] = 1;
    }
    let mut conn = Connection::open_in_memory_with_flags(
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let source = (&header[..]).chain(&bytes[HEADER_LEN..]);
    conn.deserialize_read_exact(rusqlite::MAIN_DB, source, bytes.len(), true)?;
    conn.pragma_update(None, "query_only", true)?;
    let mut stmt = conn.prepare("SELECT hnum, blob FROM Packages ORDER BY hnum")?;
    let rows = stmt.query_map([], |row| {
        let hnum: i64 = row.get(0)?;
        // A value that is not a blob or text cannot be a header; an empty blob makes the
        // header parser report it against this record instead of failing the whole query.
        let blob = match row.get_ref(1)? {
            ValueRef::Blob(b) | ValueRef::Text(b) => b.to_vec(),
            _ => Vec::new(),
        };
        Ok(RawRecord {
            // rpm's record numbers are u32 everywhere; a larger hnum is kept distinguishable.
            record: u32::try_from(hnum).unwrap_or(u32::MAX),
            blob: blob.into(),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
