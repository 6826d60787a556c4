//! `cairn db`: ingest SBOMs (or scan images) into the fleet database and query it.

use crate::scan::{SourceArgs, UsageError};
use crate::Verbosity;
use anyhow::{Context, Result};
use cairn_db::{Db, Identity, ImageRecord, PackageQuery, Vers};
use cairn_sbom::escape_control;
use clap::{Args, Subcommand};
use rayon::prelude::*;
use std::path::PathBuf;
use std::process::ExitCode;

/// Which database.
#[derive(Args, Clone)]
pub struct DbUrl {
    /// The database: postgres://USER@HOST:PORT/DB (or postgresql://; add ?sslmode=require
    /// for TLS), sqlite:PATH, or a file path (SQLite). Default: $CAIRN_DB, else cairn.db in the user's data directory
    /// ($XDG_DATA_HOME/cairn, else ~/.local/share/cairn).
    #[arg(long = "db", value_name = "URL", env = "CAIRN_DB")]
    pub url: Option<String>,
    /// For PostgreSQL over TLS (`?sslmode=require`): also trust the CA certificates in this
    /// PEM file (the system's are trusted too).
    #[arg(long = "db-ca-file", value_name = "FILE", env = "CAIRN_DB_CA_FILE")]
    pub ca_file: Option<PathBuf>,
}

impl DbUrl {
    pub fn resolve(&self) -> Result<String> {
        if let Some(u) = &self.url {
            return Ok(u.clone());
        }
        let base = std::env::var_os("XDG_DATA_HOME")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME")
                    .filter(|h| !h.is_empty())
                    .map(|h| PathBuf::from(h).join(".local/share"))
            })
            .ok_or_else(|| {
                UsageError("no --db, $CAIRN_DB, $XDG_DATA_HOME or $HOME: give --db".into())
            })?;
        Ok(base.join("cairn/cairn.db").display().to_string())
    }

    pub fn open(&self) -> Result<Db> {
        let url = self.resolve()?;
        Db::open_with(&url, self.ca_file.as_deref())
            .with_context(|| format!("opening the database {}", cairn_db::redact(&url)))
    }
}

#[derive(Args)]
pub struct DbArgs {
    #[command(subcommand)]
    command: DbCommand,
}

#[derive(Subcommand)]
enum DbCommand {
    /// Store SBOMs in the database: documents (cairn JSON, SPDX 2 JSON or tag-value, SPDX 3,
    /// CycloneDX JSON or XML, from any tool) or images, scanned first. An image version is
    /// its repository, tag and digest; ingesting it again with the same document changes
    /// nothing, with another replaces it.
    Ingest(Box<IngestArgs>),
    /// Ask the database: packages by name or purl with a version range, images by layer,
    /// an image's SBOM, a repository's history, the drift between two image versions.
    Query(QueryArgs),
}

#[derive(Args)]
pub struct IngestArgs {
    /// SBOM files or images (any source `cairn sbom` takes).
    #[arg(required = true, value_name = "SBOM|IMAGE")]
    inputs: Vec<String>,
    #[command(flatten)]
    db: DbUrl,
    /// The repository to store them under (default: what the SBOM names).
    #[arg(long, value_name = "NAME")]
    repository: Option<String>,
    /// The tag to store them under (default: what the SBOM names, else none).
    #[arg(long, value_name = "TAG")]
    tag: Option<String>,
    /// Documents per transaction.
    #[arg(long, value_name = "N", default_value_t = 200,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    batch: u32,
    /// Print what was stored as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    source: SourceArgs,
}

#[derive(Args)]
pub struct QueryArgs {
    #[command(subcommand)]
    what: Query,
    #[command(flatten)]
    db: DbUrl,
    /// Print JSON instead of a table.
    #[arg(long, global = true)]
    json: bool,
    /// Only each repository's latest image version (the one scanned last).
    #[arg(long, global = true)]
    latest: bool,
}

#[derive(Subcommand)]
enum Query {
    /// Images with a package: NAME, NAME@VERSION, NAME<3.0.13 (also <=, >, >=, =, !=,
    /// comma-separated for several), or a package URL (pkg:deb/debian/openssl[@VERSION]).
    Package {
        spec: String,
        /// Narrow to a purl version range, e.g. 'vers:deb/>=3.0.0|<3.0.13'.
        #[arg(long, value_name = "VERS")]
        vers: Option<String>,
        /// Only packages of this ecosystem (purl type: deb, rpm, apk, pypi, npm, …).
        #[arg(long = "type", value_name = "TYPE")]
        ecosystem: Option<String>,
    },
    /// Images that have a layer, by its diff id or its blob digest.
    Layer { digest: String },
    /// An image's SBOM, back out of the database (REPO:TAG, REPO@DIGEST or a digest; the
    /// latest scan of what it names).
    Image {
        reference: String,
        /// Output as FORMAT[=FILE], as `cairn sbom -o` (default: table).
        #[arg(short = 'o', long = "output", value_name = "FORMAT[=FILE]")]
        outputs: Vec<String>,
    },
    /// The image versions of a repository (or of REPO:TAG), oldest scan first.
    History { reference: String },
    /// Packages added, removed, upgraded and downgraded from one image version to another
    /// (REPO:TAG, REPO@DIGEST or a digest each).
    Drift { from: String, to: String },
    /// Rows per table and the database's size.
    Stats,
}

pub fn run(args: DbArgs, v: Verbosity) -> Result<ExitCode> {
    match args.command {
        DbCommand::Ingest(a) => ingest(*a, v),
        DbCommand::Query(a) => query(a, v),
    }
}

fn ingest(args: IngestArgs, v: Verbosity) -> Result<ExitCode> {
    if args.source.reads_stdin() && args.inputs.len() > 1 {
        return Err(UsageError(
            "--password-stdin gives one image's password: ingest images one at a time, or give credentials through the Docker config".into(),
        )
        .into());
    }
    let mut db = args.db.open()?;
    let id = Identity {
        repository: args.repository.clone(),
        tag: args.tag.clone(),
    };
    let mut total = cairn_db::IngestReport::default();
    let mut incomplete = Vec::new();
    for chunk in args.inputs.chunks(args.batch as usize) {
        // Documents are read and parsed on every core; images are scanned one at a time
        // (each scan uses every core itself).
        let docs = chunk.iter().all(|i| crate::diff::is_document(i));
        let read = |input: &String| -> Result<ImageRecord> {
            let (sbom, _) = crate::diff::sbom_of(input, &args.source, v)?;
            let mut id = id.clone();
            // A registry image is stored under the tag it was asked for.
            if id.tag.is_none() && sbom.source.kind == "registry" {
                let r = input.strip_prefix("registry:").unwrap_or(input);
                id.tag = cairn_registry::Reference::parse(r).ok().and_then(|r| r.tag);
            }
            ImageRecord::from_sbom(&sbom, &id)
                .with_context(|| format!("storing {}", escape_control(input)))
        };
        let recs: Vec<Result<ImageRecord>> = if docs {
            chunk.par_iter().map(read).collect()
        } else {
            chunk.iter().map(read).collect()
        };
        let recs: Vec<ImageRecord> = recs.into_iter().collect::<Result<_>>()?;
        for (r, input) in recs.iter().zip(chunk) {
            if !r.complete {
                incomplete.push(input.clone());
            }
        }
        let rep = db.ingest(&recs).context("writing to the database")?;
        total.added += rep.added;
        total.replaced += rep.replaced;
        total.unchanged += rep.unchanged;
        total.new_packages += rep.new_packages;
        total.rows += rep.rows;
    }
    if total.added + total.replaced > 0 {
        db.optimize()
            .context("updating the database's statistics")?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&total)?);
    } else if !v.quiet {
        eprintln!(
            "cairn: {}: {} image versions added, {} replaced, {} already there; {} new package records",
            db.url(),
            total.added,
            total.replaced,
            total.unchanged,
            total.new_packages
        );
    }
    for i in &incomplete {
        eprintln!(
            "cairn: warning: the SBOM of {} is INCOMPLETE (stored as such)",
            escape_control(i)
        );
    }
    Ok(if incomplete.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Columns printed with their widths, each cell escaped for the terminal.
fn table(head: &[&str], rows: Vec<Vec<String>>) -> String {
    let rows: Vec<Vec<String>> = rows
        .into_iter()
        .map(|r| {
            r.into_iter()
                .map(|c| escape_control(&c).into_owned())
                .collect()
        })
        .collect();
    let mut w: Vec<usize> = head.iter().map(|h| h.len()).collect();
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let mut out = String::new();
    let line = |cells: Vec<&str>, out: &mut String| {
        let n = cells.len();
        for (i, c) in cells.into_iter().enumerate() {
            out.push_str(c);
            if i + 1 < n {
                out.push_str(&" ".repeat(w[i] - c.chars().count() + 2));
            }
        }
        out.push('\n');
    };
    line(head.to_vec(), &mut out);
    for r in &rows {
        line(r.iter().map(String::as_str).collect(), &mut out);
    }
    out
}

fn image_name(i: &cairn_db::ImageRow) -> String {
    if i.tag.is_empty() {
        i.repository.clone()
    } else {
        format!("{}:{}", i.repository, i.tag)
    }
}

fn short(d: &str) -> String {
    match d.split_once(':') {
        Some((alg, hex)) if hex.len() > 12 => format!("{alg}:{}", &hex[..12]),
        _ => d.to_owned(),
    }
}

/// `value` as JSON, or the table `table` makes of it.
fn show<T: serde::Serialize>(
    json: bool,
    value: &T,
    table: impl FnOnce(&T) -> String,
) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(value)?);
    } else {
        print!("{}", table(value));
    }
    Ok(())
}

fn query(args: QueryArgs, v: Verbosity) -> Result<ExitCode> {
    let mut db = args.db.open()?;
    let bad = |e: cairn_db::Error| anyhow::Error::new(UsageError(e.to_string()));
    match args.what {
        Query::Package {
            spec,
            vers,
            ecosystem,
        } => {
            let mut q: PackageQuery = spec.parse().map_err(bad)?;
            if let Some(e) = ecosystem {
                if q.ecosystem.as_ref().is_some_and(|x| *x != e) {
                    return Err(UsageError(format!("--type {e} for a {spec} purl")).into());
                }
                q.ecosystem = Some(e);
            }
            if let Some(vers) = vers {
                let r: Vers = vers.parse().map_err(bad)?;
                q = q.with_vers(r).map_err(bad)?;
            }
            let hits = db.packages(&q, args.latest)?;
            show(args.json, &hits, |hits| {
                let rows = hits
                    .iter()
                    .map(|h| {
                        vec![
                            image_name(&h.image),
                            short(&h.image.digest),
                            h.name.clone(),
                            h.version.clone(),
                            h.ecosystem.clone(),
                            match (h.layer, &h.layer_diff_id) {
                                (Some(l), Some(d)) => format!("{l} {}", short(d)),
                                (Some(l), None) => l.to_string(),
                                _ => String::new(),
                            },
                        ]
                    })
                    .collect();
                table(
                    &["IMAGE", "DIGEST", "NAME", "VERSION", "TYPE", "LAYER"],
                    rows,
                )
            })?;
            if !args.json && !v.quiet {
                let images: std::collections::BTreeSet<_> = hits
                    .iter()
                    .map(|h| (&h.image.repository, &h.image.tag, &h.image.digest))
                    .collect();
                eprintln!(
                    "cairn: {} packages in {} image versions",
                    hits.len(),
                    images.len()
                );
            }
        }
        Query::Layer { digest } => {
            show(args.json, &db.layer(&digest, args.latest)?, |hits| {
                let rows = hits
                    .iter()
                    .map(|h| {
                        vec![
                            image_name(&h.image),
                            short(&h.image.digest),
                            h.position.to_string(),
                            h.created_by.clone().unwrap_or_default(),
                        ]
                    })
                    .collect();
                table(&["IMAGE", "DIGEST", "LAYER", "CREATED BY"], rows)
            })?;
        }
        Query::Image { reference, outputs } => {
            let row = db.image(&reference).map_err(bad)?;
            let sbom = db.document(&row)?;
            let mut outputs = outputs;
            if args.json && outputs.is_empty() {
                outputs.push("json".into());
            }
            return crate::sbom::emit(&sbom, &crate::sbom::parse_outputs(&outputs)?, v);
        }
        Query::History { reference } => {
            show(args.json, &db.images(&reference)?, |rows| {
                let t = rows
                    .iter()
                    .map(|r| {
                        vec![
                            image_name(r),
                            r.digest.clone(),
                            r.scanned_at.clone(),
                            if r.complete { "yes" } else { "NO" }.into(),
                        ]
                    })
                    .collect();
                table(&["IMAGE", "DIGEST", "SCANNED", "COMPLETE"], t)
            })?;
        }
        Query::Drift { from, to } => {
            let a = db.image(&from).map_err(bad)?;
            let b = db.image(&to).map_err(bad)?;
            show(args.json, &db.drift(&a, &b)?, |d| {
                use cairn_db::DriftChange::*;
                let rows = d
                    .changes
                    .iter()
                    .map(|(eco, _, name, c)| {
                        let (kind, from, to) = match c {
                            Added { version } => ("added", "", version.as_str()),
                            Removed { version } => ("removed", version.as_str(), ""),
                            Upgraded { from, to } => ("upgraded", from.as_str(), to.as_str()),
                            Downgraded { from, to } => ("downgraded", from.as_str(), to.as_str()),
                            Changed { from, to } => ("changed", from.as_str(), to.as_str()),
                        };
                        vec![
                            kind.into(),
                            name.clone(),
                            eco.clone(),
                            from.into(),
                            to.into(),
                        ]
                    })
                    .collect();
                format!(
                    "{} ({}) → {} ({})\n{}",
                    escape_control(&image_name(&d.from)),
                    short(&d.from.digest),
                    escape_control(&image_name(&d.to)),
                    short(&d.to.digest),
                    table(&["CHANGE", "NAME", "TYPE", "FROM", "TO"], rows)
                )
            })?;
        }
        Query::Stats => {
            show(args.json, &db.stats()?, |s| {
                let mut rows: Vec<Vec<String>> = s
                    .rows
                    .iter()
                    .map(|(t, n)| vec![t.clone(), n.to_string()])
                    .collect();
                if let Some(b) = s.bytes {
                    rows.push(vec!["(bytes on disk)".into(), b.to_string()]);
                }
                table(&["TABLE", "ROWS"], rows)
            })?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
