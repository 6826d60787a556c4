//! `cairn diff A B`: two images, or SBOM documents, package by package.

use crate::scan::SourceArgs;
use crate::Verbosity;
use anyhow::Result;
use cairn_sbom::{escape_control, Sbom};
use clap::Args;
use std::path::Path;
use std::process::ExitCode;

#[derive(Args)]
pub struct DiffArgs {
    /// The first image, or an SBOM file (cairn JSON, SPDX 2 JSON or tag-value, SPDX 3
    /// JSON-LD, CycloneDX JSON; cairn's or another tool's).
    a: String,
    /// The second image, or an SBOM file.
    b: String,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// Exit with status 1 when they differ (0 when they do not).
    #[arg(long)]
    exit_code: bool,
    #[command(flatten)]
    source: SourceArgs,
}

/// Whether `arg` names an SBOM document rather than an image: a regular file that starts
/// like JSON, XML or SPDX tag-value (image archives are tars).
pub(crate) fn is_document(arg: &str) -> bool {
    use std::io::Read;
    let path = Path::new(arg);
    if !path.is_file() {
        return false;
    }
    let mut head = [0u8; 64];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .unwrap_or(0);
    cairn_sbom::looks_like_document(&head[..n])
}

/// The SBOM `arg` names: a document read, or an image scanned (then `true`).
pub(crate) fn sbom_of(arg: &str, source: &SourceArgs, v: Verbosity) -> Result<(Sbom, bool)> {
    if is_document(arg) {
        return Ok((crate::sbom::read_document(arg, v)?, false));
    }
    Ok((crate::scan::scan(arg, source, false, v)?.scan.sbom, true))
}

fn load(arg: &str, source: &SourceArgs, v: Verbosity) -> Result<Sbom> {
    let (sbom, scanned) = sbom_of(arg, source, v)?;
    if scanned && !sbom.complete && !v.quiet {
        eprintln!(
            "cairn: warning: the scan of {} is INCOMPLETE; differences may be missing",
            escape_control(arg)
        );
    }
    Ok(sbom)
}

pub fn run(args: DiffArgs, v: Verbosity) -> Result<ExitCode> {
    let a = load(&args.a, &args.source, v)?;
    let b = load(&args.b, &args.source, v)?;
    let d = cairn_explain::diff::diff(&a, &b);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&d)?);
    } else {
        print!("{}", cairn_explain::text::diff(&d));
    }
    // An incomplete side may hide differences: that is an exit 1 too, as for `sbom`.
    let incomplete = !a.complete || !b.complete;
    Ok(if (args.exit_code && !d.is_empty()) || incomplete {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
