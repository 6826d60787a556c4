//! `cairn sbom IMAGE [-o FORMAT[=FILE]]...`

use crate::scan::{SourceArgs, UsageError};
use crate::Verbosity;
use anyhow::{Context, Result};
use cairn_sbom::Format;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct SbomArgs {
    /// The image: a docker-archive tarball, an OCI layout directory or archive, a root
    /// filesystem directory, or an image in a registry (`nginx:1.25`,
    /// `ghcr.io/org/app@sha256:…`, `localhost:5000/app`). An existing path is that path.
    /// Prefix with docker-archive:, oci-dir:, oci-archive:, dir: or registry: to force the
    /// kind.
    image: String,
    /// Output as FORMAT, to stdout or to FILE; repeat for several. Formats: table (default),
    /// json, spdx-json, spdx-tag-value, cyclonedx-json (CycloneDX 1.7), cyclonedx-json@1.6.
    #[arg(short = 'o', long = "output", value_name = "FORMAT[=FILE]")]
    outputs: Vec<String>,
    /// List every file of the image with its SHA-1 and SHA-256 digests.
    #[arg(long)]
    files: bool,
    #[command(flatten)]
    source: SourceArgs,
}

struct Output {
    format: Format,
    file: Option<PathBuf>,
}

fn parse_outputs(specs: &[String]) -> Result<Vec<Output>> {
    let mut out = Vec::new();
    for s in specs {
        let (name, file) = match s.split_once('=') {
            Some((n, f)) if !f.is_empty() => (n, Some(PathBuf::from(f))),
            Some((n, _)) => (n, None),
            None => (s.as_str(), None),
        };
        let Some(format) = Format::parse(name) else {
            let known: Vec<&str> = Format::ALL.iter().map(|(n, _)| *n).collect();
            return Err(UsageError(format!(
                "unknown output format '{name}' (known: {})",
                known.join(", ")
            ))
            .into());
        };
        out.push(Output { format, file });
    }
    if out.is_empty() {
        out.push(Output {
            format: Format::Table,
            file: None,
        });
    }
    if out.iter().filter(|o| o.file.is_none()).count() > 1 {
        return Err(UsageError(
            "only one output can go to stdout; give the others a file (-o FORMAT=FILE)".into(),
        )
        .into());
    }
    Ok(out)
}

pub fn run(args: SbomArgs, v: Verbosity) -> Result<ExitCode> {
    let outputs = parse_outputs(&args.outputs)?;
    let scanned = crate::scan::scan(&args.image, &args.source, args.files, v)?;
    let sbom = &scanned.scan.sbom;
    for o in &outputs {
        let text = cairn_sbom::render(sbom, o.format);
        match &o.file {
            Some(f) => crate::output::write(f, text.as_bytes())?,
            None => {
                let mut out = std::io::stdout().lock();
                out.write_all(text.as_bytes())
                    .context("writing to stdout")?;
                out.flush().ok();
            }
        }
    }
    if crate::scan::report_incomplete(sbom, v) {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
