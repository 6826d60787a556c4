//! `cairn layers IMAGE [--dockerfile FILE]`: the image layer by layer.

use crate::scan::{Scanned, SourceArgs, UsageError};
use crate::Verbosity;
use anyhow::{Context, Result};
use cairn_explain::layers::{Instruction, Layers};
use clap::Args;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

/// How to read the Dockerfile the image was built from.
#[derive(Args, Clone)]
pub struct DockerfileArgs {
    /// The Dockerfile the image was built from: each build step is matched to the
    /// instruction that made it.
    #[arg(long, value_name = "FILE")]
    pub dockerfile: Option<PathBuf>,
    /// The stage that was built (`docker build --target`); default the last.
    #[arg(long, value_name = "STAGE", requires = "dockerfile")]
    pub target: Option<String>,
    /// A build argument the image was built with (`--build-arg NAME=VALUE`, repeatable).
    #[arg(long = "build-arg", value_name = "NAME=VALUE", requires = "dockerfile")]
    pub build_args: Vec<String>,
}

impl DockerfileArgs {
    /// The Dockerfile's text and its parse, when one was given.
    pub fn read(&self) -> Result<Option<(String, cairn_dockerfile::Dockerfile)>> {
        let Some(path) = &self.dockerfile else {
            return Ok(None);
        };
        let mut args = BTreeMap::new();
        for a in &self.build_args {
            let (k, v) = a
                .split_once('=')
                .ok_or_else(|| UsageError(format!("--build-arg {a}: expected NAME=VALUE")))?;
            args.insert(k.to_owned(), v.to_owned());
        }
        let bytes = read_bounded(path, cairn_dockerfile::MAX_DOCKERFILE_BYTES as u64)?;
        let df = cairn_dockerfile::parse_bytes(&bytes, &args)
            .with_context(|| format!("parsing {}", path.display()))?;
        Ok(Some((String::from_utf8_lossy(&bytes).into_owned(), df)))
    }

    /// Each build step's instruction, when a Dockerfile was given.
    pub fn instructions(&self, s: &Scanned) -> Result<Option<Vec<Option<Instruction>>>> {
        Ok(self.read()?.map(|(_, df)| {
            cairn_explain::dockerfile::instructions(&df, self.target.as_deref(), &s.image.steps)
        }))
    }
}

/// A file read whole, refused past `max` bytes before reading.
pub fn read_bounded(path: &std::path::Path, max: u64) -> Result<Vec<u8>> {
    use std::io::Read;
    let f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut bytes = Vec::new();
    f.take(max + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {}", path.display()))?;
    if bytes.len() as u64 > max {
        anyhow::bail!("{} is over the {max}-byte limit", path.display());
    }
    Ok(bytes)
}

#[derive(Args)]
pub struct LayersArgs {
    /// The image, as `cairn sbom` takes it.
    image: String,
    #[command(flatten)]
    dockerfile: DockerfileArgs,
    /// Print JSON (every unowned file, up to 1,000 per layer).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    source: SourceArgs,
}

/// The layer report of a scanned image.
pub fn report(s: &Scanned, dockerfile: &DockerfileArgs) -> Result<Layers> {
    let instructions = dockerfile.instructions(s)?;
    Ok(cairn_explain::layers::report(
        &s.scan.sbom,
        &s.scan.view,
        &s.image.steps,
        instructions.as_deref(),
    ))
}

pub fn run(args: LayersArgs, v: Verbosity) -> Result<ExitCode> {
    // A Dockerfile that does not parse is found out before the image is read.
    args.dockerfile.read()?;
    let s = crate::scan::scan(&args.image, &args.source, false, v)?;
    let r = report(&s, &args.dockerfile)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        print!("{}", cairn_explain::text::layers(&r));
    }
    if crate::scan::report_incomplete(&s.scan.sbom, v) {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
