//! Opening and scanning an image, with the options every command that scans shares
//! (`sbom`, `explain`, `layers`, `diff`, `report`, `lock`) and the progress bar.

use crate::Verbosity;
use anyhow::{Context, Result};
use cairn_catalog::{Options, Scan};
use cairn_image::{Image, Platform, Progress, SourceKind, SourceSpec};
use cairn_sbom::escape_control;
use clap::Args;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How to read an image (every option but the image itself).
#[derive(Args, Clone)]
pub struct SourceArgs {
    /// Platform to pick from a multi-platform image, as os/arch[/variant].
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    platform: Option<String>,
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
    /// The image this one was built FROM (any image reference or path): its layers are told
    /// apart exactly by their diff ids. Without it the base image is read from the build
    /// history (its closing CMD or ENTRYPOINT).
    #[arg(long, value_name = "IMAGE")]
    base: Option<String>,
    /// Who supplies the image and its layers, as `NAME` or `NAME <EMAIL>`, for the SBOM's
    /// supplier fields (Syft's --source-supplier); without it, what the image states (the
    /// org.opencontainers.image.vendor or .authors annotation or label, the config's
    /// author, a maintainer label).
    #[arg(long, value_name = "NAME")]
    supplier: Option<String>,
    /// Who makes the SBOM, as `NAME` or `NAME <EMAIL>`: the person or organization the
    /// documents name as their author beside the tool (SPDX creators, CycloneDX
    /// metadata.authors).
    #[arg(long, value_name = "NAME")]
    creator: Option<String>,
    #[command(flatten)]
    registry: RegistryArgs,
}

/// How to reach a registry.
#[derive(Args, Clone)]
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

/// A mistake in the command line: exit code 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// An image, scanned, with the view its explanations need.
pub struct Scanned {
    pub image: Image,
    pub scan: Scan,
    /// How registries were reached (credentials read once).
    pub registry: cairn_image::RegistryOptions,
}

/// Open and scan `image` (as the user wrote it), with a progress bar on a terminal.
/// `files` lists every file with its digests.
pub fn scan(image: &str, args: &SourceArgs, files: bool, v: Verbosity) -> Result<Scanned> {
    scan_with(image, args, files, false, v)
}

/// [`scan`], also reading the SBOMs the image's makers declared when `declared`.
pub fn scan_with(
    image: &str,
    args: &SourceArgs,
    files: bool,
    declared: bool,
    v: Verbosity,
) -> Result<Scanned> {
    scan_reusing(image, args, files, declared, None, v)
}

/// [`scan_with`], reusing (and keeping) decoded layers in `cache`.
pub fn scan_reusing(
    image: &str,
    args: &SourceArgs,
    files: bool,
    declared: bool,
    cache: Option<Arc<cairn_image::LayerCache>>,
    v: Verbosity,
) -> Result<Scanned> {
    let spec = SourceSpec::parse(image)?;
    let mut opts = options(args, files)?;
    opts.declared = declared;
    opts.layer_cache = cache;
    let progress = opts.progress.clone().expect("options() sets progress");
    if let Some(b) = &args.base {
        let spec = SourceSpec::parse(b)?;
        let base = cairn_catalog::open(&spec, &opts)
            .with_context(|| format!("opening the base image {b}"))?;
        opts.base = Some(base);
    }
    let start = Instant::now();
    let opened = cairn_catalog::open(&spec, &opts).with_context(|| format!("opening {image}"))?;
    if v.verbose > 0 {
        eprintln!(
            "cairn: {} ({}), {} layers",
            escape_control(&opened.name),
            opened.kind.prefix(),
            opened.layers.len()
        );
    }
    let total: u64 = opened.layers.iter().map(|l| l.size).sum();
    let done = Arc::new(AtomicBool::new(false));
    let bar = (!v.quiet && std::io::stderr().is_terminal() && total > 0).then(|| {
        let bar = indicatif::ProgressBar::new(total);
        let verb = if opened.kind == SourceKind::Registry {
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
        let n = opened.layers.len();
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
    let result = cairn_catalog::scan_full(&opened, &opts);
    done.store(true, Ordering::Relaxed);
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let mut scan = result.with_context(|| format!("scanning {image}"))?;
    if let Some(s) = args
        .supplier
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        scan.sbom.source.supplier = Some(s.to_owned());
    }
    if let Some(c) = args
        .creator
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        scan.sbom.creator = Some(c.to_owned());
    }
    if v.verbose > 0 {
        let timings = &scan.timings;
        for s in &timings.skipped {
            eprintln!("cairn: skipped {}", escape_control(s));
        }
        eprintln!(
            "cairn: {} packages in {:.2}s (layers {:.2}s, catalogers {:.2}s; gzip through {})",
            scan.sbom.packages.len(),
            start.elapsed().as_secs_f64(),
            timings.layers.as_secs_f64(),
            timings.catalog.as_secs_f64(),
            cairn_image::gzip_backend()
        );
        for x in &timings.extractors {
            let per = x.bytes.checked_div(x.entries).unwrap_or(0);
            eprintln!(
                "cairn: extractor {}: offered {} files, read {} ({} bytes, {per} per file), {} facts",
                x.name, x.offered, x.entries, x.bytes, x.facts
            );
        }
    }
    Ok(Scanned {
        image: opened,
        scan,
        registry: opts.registry,
    })
}

impl SourceArgs {
    /// Whether opening an image reads a password from stdin (which only one image can).
    pub fn reads_stdin(&self) -> bool {
        self.registry.password_stdin
    }
}

/// The scan options `args` give.
pub fn options(args: &SourceArgs, files: bool) -> Result<Options> {
    let platform = args
        .platform
        .as_deref()
        .map(str::parse::<Platform>)
        .transpose()
        .map_err(|e| UsageError(e.to_string()))?;
    let exclude = cairn_image::exclusions(&args.exclude).map_err(UsageError)?;
    Ok(Options {
        platform,
        files,
        progress: Some(Arc::new(Progress::default())),
        exclude,
        one_file_system: args.one_file_system,
        jobs: args.parallel.map(usize::from),
        registry: args.registry.options()?,
        ..Default::default()
    })
}

/// Open `image` without scanning it (its manifest, config and layer list only), with
/// the registry options used.
pub fn open(image: &str, args: &SourceArgs) -> Result<(Image, cairn_image::RegistryOptions)> {
    let spec = SourceSpec::parse(image)?;
    let opts = options(args, false)?;
    let opened = cairn_catalog::open(&spec, &opts).with_context(|| format!("opening {image}"))?;
    Ok((opened, opts.registry))
}

/// Tell the user, on stderr, what an incomplete scan could not read; `true` when the
/// scan is incomplete (the command then exits 1).
pub fn report_incomplete(sbom: &cairn_sbom::Sbom, v: Verbosity) -> bool {
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
        return true;
    }
    if !v.quiet {
        for w in &sbom.warnings {
            eprintln!("cairn: warning: {}", text(w));
        }
    }
    false
}
