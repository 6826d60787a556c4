//! `cairn lock Dockerfile --image IMAGE`: the Dockerfile with its base image pinned by
//! digest and each package its package-manager commands install pinned to the version the
//! image has.

use crate::layers::DockerfileArgs;
use crate::scan::{SourceArgs, UsageError};
use crate::Verbosity;
use anyhow::{Context, Result};
use cairn_dockerfile::{Ecosystem, PinTarget, Pins, UnpinnedReason};
use cairn_sbom::{escape_control, Sbom};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct LockArgs {
    /// The Dockerfile to pin.
    dockerfile: PathBuf,
    /// The image built from it, whose versions are the pins.
    #[arg(long, value_name = "IMAGE")]
    image: String,
    /// Write the pinned Dockerfile to FILE (default: stdout).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// A build argument the image was built with (`--build-arg NAME=VALUE`, repeatable).
    #[arg(long = "build-arg", value_name = "NAME=VALUE")]
    build_args: Vec<String>,
    /// The stage that was built (`docker build --target`); default the last.
    #[arg(long, value_name = "STAGE")]
    target: Option<String>,
    /// Do not ask registries for the digest of a base image the image does not name.
    #[arg(long)]
    offline: bool,
    #[command(flatten)]
    source: SourceArgs,
}

/// Pins from a scanned image: package versions from its SBOM; the base image's digest from
/// what the image states (`org.opencontainers.image.base.*`, or `--base`), else from the
/// registry that serves the `FROM` reference.
struct ImagePins<'a> {
    sbom: &'a Sbom,
    registry: &'a cairn_image::RegistryOptions,
    offline: bool,
    /// The image the built stage's chain starts `FROM`: the one whose digest the image
    /// states (or `--base` gives). Other stages' bases are other images.
    built_from: Option<String>,
}

/// The base reference of the stage that was built (the last, or `--target`): the root of
/// its `FROM` chain.
fn built_from(df: &cairn_dockerfile::Dockerfile, target: Option<&str>) -> Option<String> {
    let stage = df.target_stage(target)?;
    let root = *df.ancestry(stage).first()?;
    match &df.stages.get(root)?.base {
        cairn_dockerfile::Base::Image(r) => Some(r.clone()),
        _ => None,
    }
}

/// PEP 503: names compare lowercase with runs of `-`, `_` and `.` as one `-`.
fn pep503(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

impl Pins for ImagePins<'_> {
    fn base_digest(&self, image_ref: &str) -> Option<String> {
        if let Some(b) = self.sbom.source.base.as_ref().filter(|b| b.layers > 0) {
            // The base the image states (or `--base` gives) is this FROM's when it names
            // this reference, or when this is the FROM the built stage starts from.
            let named = b.name.as_deref() == Some(image_ref)
                || self.built_from.as_deref() == Some(image_ref);
            if let (true, Some(d)) = (named, &b.digest) {
                return Some(d.clone());
            }
        }
        if self.offline {
            return None;
        }
        let spec = cairn_image::SourceSpec::parse(&format!("registry:{image_ref}")).ok()?;
        let opts = cairn_catalog::Options {
            registry: self.registry.clone(),
            ..Default::default()
        };
        let image = cairn_catalog::open(&spec, &opts).ok()?;
        // A multi-platform reference is pinned to its index, so the pin works on every
        // platform the tag served.
        image.index_digest.or(image.manifest_digest)
    }

    fn version(&self, ecosystem: Ecosystem, name: &str) -> Option<String> {
        let kind = match ecosystem {
            Ecosystem::Deb => "deb",
            Ecosystem::Apk => "apk",
            Ecosystem::Pypi => "pypi",
            Ecosystem::Npm => "npm",
        };
        // Python names compare PEP 503-normalized; the others as written.
        let key = |n: &str| match ecosystem {
            Ecosystem::Pypi => pep503(n),
            _ => n.to_owned(),
        };
        let want = key(name);
        let mut versions: Vec<&str> = self
            .sbom
            .packages
            .iter()
            .filter(|p| p.kind == kind && key(&p.name) == want)
            .map(|p| p.version.as_str())
            .collect();
        versions.sort_unstable();
        versions.dedup();
        // Two versions of one name (two Python environments, say) leave the choice open.
        match versions[..] {
            [v] => Some(v.to_owned()),
            _ => None,
        }
    }
}

fn reason(r: &UnpinnedReason) -> &'static str {
    match r {
        UnpinnedReason::Unknown => "the image does not have it (or has several versions)",
        UnpinnedReason::Variable => "it is a variable",
        UnpinnedReason::Glob => "it is a pattern",
        UnpinnedReason::NotAName => "it is not a package name",
        UnpinnedReason::Unsupported => "that form cannot be pinned",
        UnpinnedReason::InvalidPin => "what the image gives is not a valid version or digest",
    }
}

pub fn run(args: LockArgs, v: Verbosity) -> Result<ExitCode> {
    let dfa = DockerfileArgs {
        dockerfile: Some(args.dockerfile.clone()),
        target: args.target.clone(),
        build_args: args.build_args.clone(),
    };
    let (text, df) = dfa
        .read()?
        .ok_or_else(|| UsageError("no Dockerfile".into()))?;
    let s = crate::scan::scan(&args.image, &args.source, false, v)?;
    let pins = ImagePins {
        sbom: &s.scan.sbom,
        registry: &s.registry,
        offline: args.offline,
        built_from: built_from(&df, args.target.as_deref()),
    };
    let locked = cairn_dockerfile::lock(&text, &df, &pins)
        .with_context(|| format!("pinning {}", args.dockerfile.display()))?;
    match &args.output {
        Some(f) => crate::output::write(f, locked.text.as_bytes())?,
        None => print!("{}", locked.text),
    }
    if !v.quiet {
        let what = |t: &PinTarget| match t {
            PinTarget::BaseImage => "base image".to_owned(),
            PinTarget::Package(e) => format!("{e:?} package").to_lowercase(),
        };
        eprintln!(
            "cairn: pinned {} ({} left as written)",
            locked.pinned.len(),
            locked.unpinned.len()
        );
        for u in &locked.unpinned {
            eprintln!(
                "cairn: line {}: {} {} not pinned: {}",
                u.line,
                what(&u.target),
                escape_control(&u.token),
                reason(&u.reason)
            );
        }
    }
    if crate::scan::report_incomplete(&s.scan.sbom, v) {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
