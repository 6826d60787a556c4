//! `cairn explain IMAGE NAME[@VERSION]|PURL`: each matching package's chain of evidence.

use crate::scan::{SourceArgs, UsageError};
use crate::Verbosity;
use anyhow::{bail, Result};
use cairn_explain::explain::{explain, Query};
use cairn_sbom::escape_control;
use clap::Args;
use std::process::ExitCode;

#[derive(Args)]
pub struct ExplainArgs {
    /// The image, as `cairn sbom` takes it.
    image: String,
    /// The package: NAME, NAME@VERSION or a package URL (`pkg:deb/debian/libc6`; given
    /// qualifiers must match, absent ones match anything).
    package: String,
    /// Print JSON (every file and change, not only the first).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    source: SourceArgs,
}

pub fn run(args: ExplainArgs, v: Verbosity) -> Result<ExitCode> {
    let query = Query::parse(&args.package).map_err(UsageError)?;
    let s = crate::scan::scan_with(&args.image, &args.source, false, true, v)?;
    let sbom = &s.scan.sbom;
    let mut found = explain(sbom, Some(&s.scan.view), &query);
    cairn_explain::declared::annotate(&mut found, &s.scan.declared);
    if found.is_empty() {
        let wanted = args.package.to_lowercase();
        // The name without a version: `@scope/name@1.0` is `@scope/name`.
        let wanted = match wanted.rfind('@').filter(|&i| i > 0) {
            Some(i) => &wanted[..i],
            None => wanted.as_str(),
        };
        let mut near: Vec<&str> = sbom
            .packages
            .iter()
            .chain(&sbom.removed)
            .map(|p| p.name.as_str())
            .filter(|n| !wanted.is_empty() && n.to_lowercase().contains(wanted))
            .collect();
        near.sort_unstable();
        near.dedup();
        near.truncate(10);
        let hint = if near.is_empty() {
            String::new()
        } else {
            format!("; similar names: {}", near.join(", "))
        };
        bail!(
            "no package {} in {} ({} packages, {} removed by a layer){}",
            escape_control(&args.package),
            escape_control(&args.image),
            sbom.packages.len(),
            sbom.removed.len(),
            escape_control(&hint)
        );
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&found)?);
    } else {
        let texts: Vec<String> = found.iter().map(cairn_explain::text::explanation).collect();
        print!("{}", texts.join("\n"));
    }
    if crate::scan::report_incomplete(sbom, v) {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
