#![doc = include_str!("../README.md")]
//!
//! ```no_run
//! let bytes = std::fs::read("/var/lib/rpm/rpmdb.sqlite")?;
//! let db = cairn_rpmdb::read_database(&bytes)?;
//! for p in &db.packages {
//!     println!("{}-{}-{}", p.name, p.version, p.release);
//! }
//! for problem in &db.problems {
//!     eprintln!("warning: {problem}");
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

use std::borrow::Cow;

pub mod bdb;
mod error;
pub mod header;
pub mod ndb;
mod package;
pub mod sqlite;
pub mod tag;

pub use error::{BdbError, Error, HeaderError, NdbError, SqliteError};
pub use header::Header;
pub use package::{DigestAlgorithm, FileBudget, FileFlags, RpmFile, RpmPackage};

/// Where rpm keeps its database, newest layout first. The file name says the format:
/// `rpmdb.sqlite`, `Packages.db` (NDB) or `Packages` (Berkeley DB).
pub const DATABASE_PATHS: &[&str] = &[
    "usr/lib/sysimage/rpm/rpmdb.sqlite",
    "usr/lib/sysimage/rpm/Packages.db",
    "usr/lib/sysimage/rpm/Packages",
    "var/lib/rpm/rpmdb.sqlite",
    "var/lib/rpm/Packages.db",
    "var/lib/rpm/Packages",
];

/// One stored header and the database's id for it.
#[derive(Debug, Clone)]
pub struct RawRecord<'a> {
    /// sqlite `hnum`, Berkeley DB key, or NDB package index: rpm's header instance number.
    pub record: u32,
    pub blob: Cow<'a, [u8]>,
}

/// The storage format, recognised from the file's magic rather than its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Sqlite,
    BerkeleyDb,
    Ndb,
}

impl Format {
    /// Recognises the format from the first bytes of a file.
    pub fn detect(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(sqlite::MAGIC) {
            Some(Self::Sqlite)
        } else if ndb::is_ndb(bytes) {
            Some(Self::Ndb)
        } else if bdb::is_bdb_hash(bytes) {
            Some(Self::BerkeleyDb)
        } else {
            None
        }
    }
}

/// The packages of one database file, in record order, and what could not be read.
#[derive(Debug)]
pub struct Database {
    pub format: Format,
    pub packages: Vec<RpmPackage>,
    /// Records or pages that were skipped, each with its reason; empty for a sound file.
    pub problems: Vec<Error>,
}

/// Reads the raw header records of a database, whatever its format.
pub fn read_records(bytes: &[u8]) -> Result<(Format, Vec<RawRecord<'_>>, Vec<Error>), Error> {
    let format = Format::detect(bytes).ok_or(match bytes.get(..6) {
        // An sqlite-named file with other content is the common "not a database" case; say so.
        Some(b"SQLite") => Error::Sqlite(SqliteError::NotADatabase),
        _ => Error::UnknownFormat,
    })?;
    Ok(match format {
        Format::Sqlite => (format, sqlite::read(bytes)?, Vec::new()),
        Format::BerkeleyDb => {
            let scan = bdb::read(bytes)?;
            (
                format,
                scan.records,
                scan.problems.into_iter().map(Error::from).collect(),
            )
        }
        Format::Ndb => {
            let scan = ndb::read(bytes)?;
            (
                format,
                scan.records,
                scan.problems.into_iter().map(Error::from).collect(),
            )
        }
    })
}

/// Parses one header blob into a package.
pub fn parse_package(blob: &[u8]) -> Result<RpmPackage, HeaderError> {
    RpmPackage::from_header(&Header::parse(blob)?)
}

/// Reads every package of an rpm database file, with [`FileBudget::DEFAULT`] for the file
/// lists of the whole database.
///
/// Fails only when the file is not a database at all; a damaged record is left out and
/// described in [`Database::problems`].
pub fn read_database(bytes: &[u8]) -> Result<Database, Error> {
    let mut budget = FileBudget::DEFAULT;
    read_database_within(bytes, &mut budget)
}

/// [`read_database`] with the caller's budget for the file lists of all its packages; a
/// package whose list did not fit has `files_truncated` set.
pub fn read_database_within(bytes: &[u8], budget: &mut FileBudget) -> Result<Database, Error> {
    let (format, records, mut problems) = read_records(bytes)?;
    let mut packages = Vec::with_capacity(records.len());
    for r in records {
        match Header::parse(&r.blob).and_then(|h| RpmPackage::from_header_within(&h, budget)) {
            Ok(p) => packages.push(p),
            Err(source) => problems.push(Error::Header {
                record: r.record,
                source,
            }),
        }
    }
    Ok(Database {
        format,
        packages,
        problems,
    })
}
