//! The `cairn` command: argument parsing, progress and output. Everything else lives in the
//! library crates.
//!
//! Exit codes: 0 success; 1 error, or an SBOM that was written but is incomplete (some input
//! could not be read; the document says so); 2 usage error.

mod attest;
mod db;
mod diff;
mod explain;
mod fleet;
mod layers;
mod lock;
mod output;
mod publish;
mod report;
mod report_cmd;
mod sbom;
mod scan;
mod tuf;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "cairn",
    version,
    about = "Software bills of materials for container images, with the evidence for every package, delivered through TUF"
)]
struct Cli {
    /// Print nothing but errors.
    #[arg(short, long, global = true)]
    quiet: bool,
    /// Print more about what is happening (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scan an image and write its SBOM.
    Sbom(sbom::SbomArgs),
    /// Convert an SBOM document (cairn's or another tool's) to another format.
    Convert(sbom::ConvertArgs),
    /// Explain a package: the evidence that lists it, the layer and build step that
    /// installed it, what later layers did to it, its dependencies.
    Explain(explain::ExplainArgs),
    /// The image layer by layer: build steps, packages added, upgraded and removed, bytes
    /// written and wasted, files no package owns.
    Layers(layers::LayersArgs),
    /// Compare two images or SBOM documents package by package, each difference with the
    /// layer that caused it.
    Diff(diff::DiffArgs),
    /// Pin a Dockerfile's base image and installed packages to what an image built from it
    /// has.
    Lock(lock::LockArgs),
    /// Write a self-contained HTML report of an image: layers, packages, licenses and each
    /// package's evidence.
    Report(report_cmd::ReportArgs),
    /// Print the JSON Schema of cairn's own JSON format (-o json).
    Schema,
    /// A TUF repository: make one, add targets, delegate, rotate keys and sign
    /// (init, add, …), or trust, refresh and fetch from one as a client.
    Tuf(tuf::TufArgs),
    /// Scan an image and publish its SBOMs (cairn JSON, SPDX, CycloneDX) as
    /// targets of a TUF repository, named by the image's digest.
    Publish(publish::PublishArgs),
    /// Fetch an image's published SBOM through TUF, verified, re-scan the image
    /// and say whether it still matches (exit 1 when it does not, or when TUF
    /// verification fails).
    Verify(publish::VerifyArgs),
    /// Scan an image and sign its SBOM as an in-toto attestation (DSSE in a Sigstore
    /// bundle), written out or attached to the image in its registry (--push).
    Attest(attest::AttestArgs),
    /// Verify an image's SBOM attestations (its referrers, or --bundle files) with a key
    /// given or fetched through TUF; with --rescan, compare the SBOM with the image.
    VerifyAttestation(attest::VerifyAttestationArgs),
    /// List what is attached to an image in its registry (OCI 1.1 referrers).
    Referrers(attest::ReferrersArgs),
    /// Publish (or --revoke) an attestation public key as a target of a TUF repository.
    PublishKey(attest::PublishKeyArgs),
    /// Make a key pair for `cairn attest` (ECDSA P-256 as cosign's, or ed25519).
    GenerateKeyPair(attest::GenerateKeyArgs),
    /// The fleet database (SQLite or PostgreSQL): ingest SBOMs or images, and query
    /// packages by version range, images by layer, an image's SBOM, history and drift.
    Db(db::DbArgs),
    /// Fan scans out on a scheduler: plan shards of a fleet's images (from a registry's
    /// catalog, a list, or a cluster's pods), then scan one shard per array task into the
    /// database.
    Fleet(fleet::FleetArgs),
}

/// How much to print on stderr.
#[derive(Clone, Copy)]
pub struct Verbosity {
    pub quiet: bool,
    pub verbose: u8,
}

/// glibc's malloc gives each new thread its own arena, up to eight per core. A scan's
/// threads (layer workers, the rayon pool, the license-text loader) then each keep their own
/// free memory, which measured 14 MB of peak RSS on the bench image (132 MB against 118 MB)
/// for no speed at all. One arena per core keeps threads from contending for one lock.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn limit_malloc_arenas() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let arenas = libc::c_int::try_from(cores).unwrap_or(libc::c_int::MAX);
    // SAFETY: mallopt only sets a glibc malloc parameter; it is called before any other
    // thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, arenas);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn limit_malloc_arenas() {}

fn main() -> ExitCode {
    limit_malloc_arenas();
    let cli = Cli::parse();
    let v = Verbosity {
        quiet: cli.quiet,
        verbose: cli.verbose,
    };
    let result = match cli.command {
        Command::Sbom(args) => sbom::run(args, v),
        Command::Convert(args) => sbom::convert(args, v),
        Command::Explain(args) => explain::run(args, v),
        Command::Layers(args) => layers::run(args, v),
        Command::Diff(args) => diff::run(args, v),
        Command::Lock(args) => lock::run(args, v),
        Command::Report(args) => report_cmd::run(args, v),
        Command::Tuf(args) => tuf::run(args).map(|()| ExitCode::SUCCESS),
        Command::Publish(args) => publish::publish(args, v),
        Command::Verify(args) => publish::verify(args, v),
        Command::Attest(args) => attest::attest(args, v),
        Command::VerifyAttestation(args) => attest::verify_attestation(args, v),
        Command::Referrers(args) => attest::referrers(args, v),
        Command::PublishKey(args) => attest::publish_key(args, v),
        Command::GenerateKeyPair(args) => attest::generate_key_pair(args, v),
        Command::Db(args) => db::run(args, v),
        Command::Fleet(args) => fleet::run(args, v),
        Command::Schema => {
            print!("{}", cairn_sbom::json_schema());
            Ok(ExitCode::SUCCESS)
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            // Errors quote the input (entry names, paths): escaped for the terminal.
            eprintln!(
                "cairn: error: {}",
                cairn_sbom::escape_control(&format!("{e:#}"))
            );
            if e.downcast_ref::<scan::UsageError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}
