//! `cairn sbom IMAGE [-o FORMAT[=FILE]]...`

use crate::scan::{SourceArgs, UsageError};
use crate::Verbosity;
use anyhow::{Context, Result};
use cairn_sbom::{escape_control, Format};
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
    /// json, spdx-json (SPDX 2.3), spdx-tag-value, spdx3-json (SPDX 3.0.1 JSON-LD),
    /// cyclonedx-json (CycloneDX 1.7), cyclonedx-json@1.6, cyclonedx-xml (CycloneDX 1.7
    /// XML), cyclonedx-xml@1.6.
    #[arg(short = 'o', long = "output", value_name = "FORMAT[=FILE]")]
    outputs: Vec<String>,
    /// List every file of the image with its SHA-1 and SHA-256 digests.
    #[arg(long)]
    files: bool,
    /// Also read the SBOMs the image's makers declared — BuildKit attestation manifests in
    /// its index, SBOM referrers in its registry, *.spdx.json / *.cdx.json / Bitnami
    /// .spdx-* files in it — and report how each differs from the scan: packages declared
    /// but absent, present but undeclared, versions that disagree, with evidence. The
    /// report goes to stdout (to stderr when an SBOM output does).
    #[arg(long)]
    declared: bool,
    #[command(flatten)]
    source: SourceArgs,
}

pub(crate) struct Output {
    format: Format,
    file: Option<PathBuf>,
}

pub(crate) fn parse_outputs(specs: &[String]) -> Result<Vec<Output>> {
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
    let mut outputs = parse_outputs(&args.outputs)?;
    // With --declared and no -o, the report is the output.
    if args.declared && args.outputs.is_empty() {
        outputs.clear();
    }
    let scanned = crate::scan::scan_with(&args.image, &args.source, args.files, args.declared, v)?;
    let code = emit(&scanned.scan.sbom, &outputs, v)?;
    if args.declared {
        let reports = cairn_explain::declared::report(&scanned.scan.declared, &scanned.scan.sbom);
        let text = cairn_explain::text::declared(&reports);
        if outputs.iter().any(|o| o.file.is_none()) {
            eprint!("{text}");
        } else {
            print!("{text}");
        }
    }
    Ok(code)
}

#[derive(Args)]
pub struct ConvertArgs {
    /// The SBOM document (`-` for stdin): cairn JSON, SPDX 2.2/2.3 JSON or tag-value,
    /// SPDX 3.0.1 JSON-LD, or CycloneDX 1.4–1.7 JSON, from cairn or another tool.
    input: String,
    /// Output as FORMAT, to stdout or to FILE; repeat for several (the formats of `sbom`).
    #[arg(short = 'o', long = "output", value_name = "FORMAT[=FILE]")]
    outputs: Vec<String>,
}

/// Read an SBOM document, the notes on what could not be mapped to stderr.
pub fn read_document(arg: &str, v: Verbosity) -> Result<cairn_sbom::Sbom> {
    let limit = cairn_sbom::MAX_DOCUMENT_BYTES as u64;
    let bytes = if arg == "-" {
        use std::io::Read;
        let mut b = Vec::new();
        std::io::stdin()
            .lock()
            .take(limit + 1)
            .read_to_end(&mut b)
            .context("reading stdin")?;
        b
    } else {
        crate::layers::read_bounded(std::path::Path::new(arg), limit)?
    };
    let read =
        cairn_sbom::read(&bytes).with_context(|| format!("reading {}", escape_control(arg)))?;
    if !v.quiet {
        for n in &read.notes {
            eprintln!("cairn: {}: {}", escape_control(arg), escape_control(n));
        }
    }
    Ok(read.sbom)
}

/// `cairn convert IN -o FORMAT[=FILE]`: a document in another format, with every fact the
/// target can hold (see the loss table in the README). Exit 1 when the document says it is
/// incomplete, as for a scan.
pub fn convert(args: ConvertArgs, v: Verbosity) -> Result<ExitCode> {
    let outputs = parse_outputs(&args.outputs)?;
    let sbom = read_document(&args.input, v)?;
    emit(&sbom, &outputs, v)
}

pub(crate) fn emit(sbom: &cairn_sbom::Sbom, outputs: &[Output], v: Verbosity) -> Result<ExitCode> {
    for o in outputs {
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
