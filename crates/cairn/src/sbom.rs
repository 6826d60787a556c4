//! `cairn sbom IMAGE [-o FORMAT[=FILE]]...`

use crate::Verbosity;
use anyhow::{Context, Result};
use cairn_catalog::Options;
use cairn_image::{Platform, Progress, SourceKind, SourceSpec};
use cairn_sbom::{escape_control, Format};
use clap::Args;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct SbomArgs {
    /// The image: a docker-archive tarball, an OCI layout directory or archive, a root
    /// filesystem directory, or an image in a registry (`nginx:1.25`,
    /// `ghcr.io/org/app@sha256:…`, `localhost:5000/app`). An existing path is that path.
    /// Prefix with docker-archive:, oci-dir:, oci-archive:, dir: or registry: to force the
    /// kind.
    image: String,
    /// Output as FORMAT, to stdout or to FILE; repeat for several. Formats: table (default),
    /// json, spdx-json, spdx-tag-value, cyclonedx-json.
    #[arg(short = 'o', long = "output", value_name = "FORMAT[=FILE]")]
    outputs: Vec<String>,
    /// Platform to pick from a multi-platform image, as os/arch[/variant].
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    platform: Option<String>,
    /// List every file of the image with its SHA-1 and SHA-256 digests.
    #[arg(long)]
    files: bool,
    /// Leave out paths matching GLOB (repeat for several), as Syft does: it starts with /,
    /// ./, */ or **/ and is relative to the image or directory root; * and ? match within
    /// one path segment, ** any number of segments. A matching directory is not descended
    /// into.
    #[arg(long = "exclude", value_name = "GLOB")]
    exclude: Vec<String>,
    /// For a directory: do not descend into other mounted filesystems.
    #[arg(long)]
    one_file_system: bool,
    /// Layers read at once (default: one per core; from a registry at least 4, since each
    /// layer downloads while it decodes).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    parallel: Option<u16>,
    #[command(flatten)]
    registry: RegistryArgs,
}

/// How to reach a registry.
#[derive(Args)]
#[command(next_help_heading = "Registry")]
pub struct RegistryArgs {
    /// Speak plain HTTP to the registry (never done unless asked).
    #[arg(long)]
    insecure: bool,
    /// Trust the CA certificates in this PEM file as well as the system's (repeatable).
    #[arg(long = "ca-file", value_name = "FILE")]
    ca_files: Vec<PathBuf>,
    /// Log in as USER (the password is read from stdin with --password-stdin). Without
    /// it, credentials come from the Docker config ($DOCKER_CONFIG/config.json or
    /// ~/.docker/config.json, its credential helpers included), else none.
    #[arg(long, value_name = "USER", requires = "password_stdin")]
    username: Option<String>,
    /// Read the password for --username from stdin.
    #[arg(long, requires = "username")]
    password_stdin: bool,
    /// Keep downloaded layer blobs in DIR, named by digest, so that a rescan downloads
    /// only the layers it has not seen (off by default; nothing is written without it).
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// The most the cache may hold, in GiB; the least recently used blobs go first.
    #[arg(long, value_name = "GIB", default_value_t = 20, requires = "cache_dir")]
    cache_max_gib: u64,
}

impl RegistryArgs {
    fn options(&self) -> Result<cairn_image::RegistryOptions> {
        let password = if self.password_stdin {
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .context("reading the password from stdin")?;
            let p = line.trim_end_matches(['\r', '\n']).to_owned();
            if p.is_empty() {
                return Err(
                    UsageError("--password-stdin: stdin gave an empty password".into()).into(),
                );
            }
            Some(p)
        } else {
            None
        };
        Ok(cairn_image::RegistryOptions {
            insecure: self.insecure,
            ca_files: self.ca_files.clone(),
            username: self.username.clone(),
            password,
            cache: self
                .cache_dir
                .as_ref()
                .map(|dir| cairn_image::CacheOptions {
                    dir: dir.clone(),
                    max_bytes: self.cache_max_gib.saturating_mul(1 << 30),
                }),
        })
    }
}

struct Output {
    format: Format,
    file: Option<PathBuf>,
}

/// A mistake in the command line: exit code 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

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
    let spec = SourceSpec::parse(&args.image)?;
    let platform = args
        .platform
        .as_deref()
        .map(str::parse::<Platform>)
        .transpose()
        .map_err(|e| UsageError(e.to_string()))?;
    let exclude = cairn_image::exclusions(&args.exclude).map_err(UsageError)?;
    let progress = Arc::new(Progress::default());
    let opts = Options {
        platform,
        files: args.files,
        progress: Some(progress.clone()),
        exclude,
        one_file_system: args.one_file_system,
        jobs: args.parallel.map(usize::from),
        registry: args.registry.options()?,
        ..Default::default()
    };
    let start = Instant::now();
    let image =
        cairn_catalog::open(&spec, &opts).with_context(|| format!("opening {}", args.image))?;
    if v.verbose > 0 {
        eprintln!(
            "cairn: {} ({}), {} layers",
            escape_control(&image.name),
            image.kind.prefix(),
            image.layers.len()
        );
    }
    let total: u64 = image.layers.iter().map(|l| l.size).sum();
    let done = Arc::new(AtomicBool::new(false));
    let bar = (!v.quiet && std::io::stderr().is_terminal() && total > 0).then(|| {
        let bar = indicatif::ProgressBar::new(total);
        let verb = if image.kind == SourceKind::Registry {
            "pulling"
        } else {
            "reading"
        };
        bar.set_style(
            indicatif::ProgressStyle::with_template(&format!(
                "{{spinner}} {verb} {{bar:30}} {{bytes}}/{{total_bytes}} {{bytes_per_sec}}, {{msg}} {{elapsed}}"
            ))
            .expect("valid template"),
        );
        let n = image.layers.len();
        let (bar2, progress, done) = (bar.clone(), progress.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                bar2.set_position(progress.bytes.load(Ordering::Relaxed));
                let decoded = progress.layers.load(Ordering::Relaxed);
                bar2.set_message(format!("layers decoded {decoded}/{n}"));
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        bar
    });
    let result = cairn_catalog::scan_timed(&image, &opts);
    done.store(true, Ordering::Relaxed);
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let (sbom, timings) = result.with_context(|| format!("scanning {}", args.image))?;
    if v.verbose > 0 {
        for s in &timings.skipped {
            eprintln!("cairn: skipped {}", escape_control(s));
        }
        eprintln!(
            "cairn: {} packages in {:.2}s (layers {:.2}s, catalogers {:.2}s)",
            sbom.packages.len(),
            start.elapsed().as_secs_f64(),
            timings.layers.as_secs_f64(),
            timings.catalog.as_secs_f64()
        );
        for x in &timings.extractors {
            let per = x.bytes.checked_div(x.entries).unwrap_or(0);
            eprintln!(
                "cairn: extractor {}: offered {} files, read {} ({} bytes, {per} per file), {} facts",
                x.name, x.offered, x.entries, x.bytes, x.facts
            );
        }
    }
    for o in &outputs {
        let text = cairn_sbom::render(&sbom, o.format);
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
    // Warnings quote the image (paths, database garbage): escaped for the terminal.
    let text = |w: &cairn_sbom::Warning| escape_control(&w.to_string()).into_owned();
    if !sbom.complete {
        if v.quiet {
            // Exit status 1 always comes with the reason, even when asked to be quiet.
            let n = sbom.warnings.iter().filter(|w| w.incomplete).count();
            eprintln!(
                "cairn: the SBOM is INCOMPLETE ({n} problem{} that may have cost packages; marked so in every output, listed in its warnings)",
                if n == 1 { "" } else { "s" }
            );
        } else {
            eprintln!("cairn: the SBOM is INCOMPLETE (marked so in every output):");
            for w in &sbom.warnings {
                eprintln!("  - {}", text(w));
            }
        }
        return Ok(ExitCode::from(1));
    }
    if !v.quiet {
        for w in &sbom.warnings {
            eprintln!("cairn: warning: {}", text(w));
        }
    }
    Ok(ExitCode::SUCCESS)
}
