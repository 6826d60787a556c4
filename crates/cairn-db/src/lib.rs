//! cairn's fleet database: every image's SBOM stored once, packages, layers and files shared
//! across images, in an embedded SQLite file or in PostgreSQL, with one schema
//! ([`schema`]) and one set of statements for both.
//!
//! ```no_run
//! let mut db = cairn_db::Db::open("sqlite:fleet.db")?;
//! # let sbom: cairn_sbom::Sbom = unimplemented!();
//! let record = cairn_db::ImageRecord::from_sbom(&sbom, &Default::default())?;
//! db.ingest(&[record])?;
//! let hits = db.packages(&"openssl<3.0.13".parse()?, false)?;
//! # Ok::<(), cairn_db::Error>(())
//! ```
//!
//! Ingestion is idempotent: an image version is (repository, tag, digest); ingesting the
//! same document again changes nothing, a different document for it replaces the old one,
//! and a batch is one transaction, so a worker killed mid-way leaves every image either
//! wholly in or wholly out.

mod backend;
mod ingest;
pub mod plan;
mod query;
pub mod schema;
mod vers;

pub use backend::Value;
pub use ingest::{Identity, ImageRecord, IngestReport, LayerRecord, PackageRecord};
pub use query::{Drift, DriftChange, ImageRow, LayerHit, PackageHit, PackageQuery};
pub use vers::{Range, Vers};

use backend::Conn;
use std::collections::HashMap;

/// Bounds on what one ingested document may make the database store.
pub mod limits {
    /// Packages of one image (a larger SBOM is refused, not cut short).
    pub const MAX_PACKAGES: usize = 200_000;
    /// Layers of one image.
    pub const MAX_LAYERS: usize = 1_000;
    /// Owned files of one package kept in `package_files` (past it the package's file list
    /// is stored cut short; the document keeps them all).
    pub const MAX_FILES_PER_PACKAGE: usize = 100_000;
    /// Bytes of one name, version, purl, license or path stored in a row.
    pub const MAX_FIELD: usize = 4_096;
    /// Images per query answer (`--limit` can lower it).
    pub const MAX_ROWS: usize = 1_000_000;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("postgres: {}", chain(.0))]
    Postgres(#[from] postgres::Error),
    #[error("the database has schema version {found}; this cairn knows up to {supported}: upgrade cairn")]
    SchemaTooNew { found: i64, supported: i64 },
    #[error(
        "database URL {0:?}: expected postgres://…, postgresql://…, sqlite:PATH or a file path"
    )]
    Url(String),
    #[error("{0}")]
    Invalid(String),
    #[error("stored document {0} does not read back: {1}")]
    Document(String, String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// An open database, migrated to [`schema::VERSION`].
pub struct Db {
    conn: Conn,
    /// Ids of rows committed earlier in this session (never of an uncommitted batch).
    packages: HashMap<[u8; 16], i64>,
    layers: HashMap<String, i64>,
    url: String,
}

impl Db {
    /// Opens (creating if need be) the database named by `url`: `postgres://…` or
    /// `postgresql://…` (libpq's URL form; with `sslmode=require` over TLS, the server's
    /// certificate checked against the system's roots and any `ca_file` of
    /// [`Db::open_with`], its name against the host; without it in plain text, for loopback
    /// or a trusted network), `sqlite:PATH`, or a plain file path (SQLite).
    pub fn open(url: &str) -> Result<Db, Error> {
        Db::open_with(url, None)
    }

    /// [`Db::open`], trusting the CA certificates of the PEM file `ca_file` (as well as the
    /// system's) for PostgreSQL over TLS.
    pub fn open_with(url: &str, ca_file: Option<&std::path::Path>) -> Result<Db, Error> {
        let conn = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let client = if wants_tls(url) {
                let tls = tokio_postgres_rustls::MakeRustlsConnect::new(tls_config(ca_file)?);
                postgres::Client::connect(url, tls)?
            } else {
                postgres::Client::connect(url, postgres::NoTls)?
            };
            Conn::Postgres {
                client: Box::new(client),
                statements: HashMap::new(),
            }
        } else {
            let path = url.strip_prefix("sqlite:").unwrap_or(url);
            if path.is_empty() || url.contains("://") {
                return Err(Error::Url(url.to_owned()));
            }
            if let Some(dir) = std::path::Path::new(path).parent() {
                if !dir.as_os_str().is_empty() {
                    std::fs::create_dir_all(dir)?;
                }
            }
            let c = rusqlite::Connection::open(path)?;
            // WAL: readers do not wait for a writer; NORMAL sync is durable at each
            // checkpoint and never corrupts; a busy timeout lets several processes share.
            c.busy_timeout(std::time::Duration::from_secs(60))?;
            c.execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
            )?;
            Conn::Sqlite(c)
        };
        let mut db = Db {
            conn,
            packages: HashMap::new(),
            layers: HashMap::new(),
            url: redact(url),
        };
        schema::migrate(&mut db.conn)?;
        Ok(db)
    }

    /// The URL it was opened with, any password taken out.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn is_postgres(&self) -> bool {
        self.conn.is_postgres()
    }

    /// Counts of rows per table, and the database's size in bytes.
    pub fn stats(&mut self) -> Result<Stats, Error> {
        let mut counts = Vec::new();
        for t in [
            "images",
            "documents",
            "layers",
            "image_layers",
            "packages",
            "package_files",
            "image_packages",
        ] {
            let r = self.conn.query(&format!("SELECT COUNT(*) FROM {t}"), &[])?;
            counts.push((t.to_owned(), r[0][0].int().unwrap_or(0)));
        }
        let mut table_bytes = Vec::new();
        if self.conn.is_postgres() {
            for (t, _) in &counts {
                let r = self
                    .conn
                    .query(&format!("SELECT pg_total_relation_size('{t}')"), &[])?;
                table_bytes.push((t.clone(), r[0][0].int().unwrap_or(0)));
            }
        }
        let size = if self.conn.is_postgres() {
            self.conn
                .query("SELECT pg_database_size(current_database())", &[])?
                .first()
                .and_then(|r| r[0].int())
        } else {
            let p = self.conn.query("PRAGMA page_count", &[])?;
            let s = self.conn.query("PRAGMA page_size", &[])?;
            Some(p[0][0].int().unwrap_or(0) * s[0][0].int().unwrap_or(0))
        };
        Ok(Stats {
            rows: counts,
            bytes: size,
            table_bytes,
        })
    }
}

/// An error with its causes, `a: b: c` (a TLS failure says why the certificate was refused).
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

/// Whether a PostgreSQL URL asks for TLS (`sslmode=require` or `prefer`; libpq's default,
/// `prefer`, is not assumed: without `sslmode` cairn speaks plain text, as before).
fn wants_tls(url: &str) -> bool {
    url.split(['?', '&'])
        .any(|kv| matches!(kv, "sslmode=require" | "sslmode=prefer"))
}

/// rustls with aws-lc: the system's root certificates and those of `ca_file`.
fn tls_config(ca_file: Option<&std::path::Path>) -> Result<rustls::ClientConfig, Error> {
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(native.certs);
    if let Some(path) = ca_file {
        let certs = rustls_pki_types::CertificateDer::pem_file_iter(path)
            .and_then(|it| it.collect::<std::result::Result<Vec<_>, _>>())
            .map_err(|e| Error::Invalid(format!("{}: {e}", path.display())))?;
        if certs.is_empty() {
            return Err(Error::Invalid(format!(
                "{}: holds no PEM certificate",
                path.display()
            )));
        }
        for c in certs {
            roots
                .add(c)
                .map_err(|e| Error::Invalid(format!("{}: {e}", path.display())))?;
        }
    }
    rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| Error::Invalid(e.to_string()))
    .map(|b| b.with_root_certificates(roots).with_no_client_auth())
}

/// What [`Db::stats`] tells.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    /// Rows per table.
    pub rows: Vec<(String, i64)>,
    /// The database's size on disk (PostgreSQL's `pg_database_size`, SQLite's pages).
    pub bytes: Option<i64>,
    /// PostgreSQL: each table's size with its indexes (`pg_total_relation_size`).
    pub table_bytes: Vec<(String, i64)>,
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`: a database URL fit to
/// print.
pub fn redact(url: &str) -> String {
    if let Some(rest) = url.split_once("://") {
        if let Some((auth, host)) = rest.1.split_once('@') {
            if let Some((user, _)) = auth.split_once(':') {
                return format!("{}://{user}:***@{host}", rest.0);
            }
        }
    }
    url.to_owned()
}

/// The parameters that name one image version: repository, tag and digest.
pub(crate) fn image_params(repository: &str, tag: &str, digest: &str) -> [Value; 3] {
    [repository.into(), tag.into(), digest.into()]
}

/// The current time, RFC 3339 in UTC to the second.
pub(crate) fn now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
