//! `cairn fleet plan` and `cairn fleet scan`: a fleet's images split into shards for an
//! existing scheduler's array job, each shard scanned into the database by one task.

use crate::db::DbUrl;
use crate::scan::{SourceArgs, UsageError};
use crate::Verbosity;
use anyhow::{Context, Result};
use cairn_db::plan::{self, Candidate, Plan};
use cairn_db::{Identity, ImageRecord};
use cairn_sbom::escape_control;
use clap::{Args, Subcommand};
use rayon::prelude::*;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct FleetArgs {
    #[command(subcommand)]
    command: FleetCommand,
}

#[derive(Subcommand)]
enum FleetCommand {
    /// List a fleet's images, pin each to its digest, and split them into shards that keep
    /// images sharing layers together. SOURCEs: catalog:REGISTRY[/PREFIX] (every tag of
    /// every repository the registry's catalog lists, under PREFIX), kubectl:FILE (the
    /// images of `kubectl get pods -o json` output; - for stdin), @FILE (image references,
    /// one per line), or an image reference.
    Plan(PlanArgs),
    /// Scan one shard of a plan into the database: the shard is --shard, else
    /// $JOB_COMPLETION_INDEX (Kubernetes Indexed Jobs), $SLURM_ARRAY_TASK_ID (Slurm job
    /// arrays) or $AWS_BATCH_JOB_ARRAY_INDEX (AWS Batch). Image versions already in the
    /// database are skipped, so a shard killed mid-way is simply run again.
    Scan(ScanArgs),
}

#[derive(Args)]
pub struct PlanArgs {
    #[arg(required = true, value_name = "SOURCE")]
    sources: Vec<String>,
    /// Where to write the plan (JSON).
    #[arg(short = 'o', long = "output", value_name = "PLAN")]
    output: PathBuf,
    /// How many shards (array tasks).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    shards: u32,
    /// Repositories read from a catalog, at most.
    #[arg(long, default_value_t = 100_000)]
    max_repositories: usize,
    /// Tags read per repository, at most.
    #[arg(long, default_value_t = 10_000)]
    max_tags: usize,
    #[command(flatten)]
    source: SourceArgs,
}

#[derive(Args)]
pub struct ScanArgs {
    /// The plan `cairn fleet plan` wrote.
    plan: PathBuf,
    /// The shard to scan (default: from the scheduler's environment).
    #[arg(long, value_name = "I")]
    shard: Option<usize>,
    /// Scan the shard's images again even if the database has them.
    #[arg(long)]
    rescan: bool,
    /// Memory for decoded layers kept between the shard's images, so that a layer several
    /// of them share is decoded once (0: decode every layer of every image).
    #[arg(long, value_name = "MIB", default_value_t = 1024)]
    layer_memory_mib: u64,
    #[command(flatten)]
    db: DbUrl,
    #[command(flatten)]
    source: SourceArgs,
}

pub fn run(args: FleetArgs, v: Verbosity) -> Result<ExitCode> {
    match args.command {
        FleetCommand::Plan(a) => plan(a, v),
        FleetCommand::Scan(a) => scan(a, v),
    }
}

fn read_input(path: &str) -> Result<Vec<u8>> {
    use std::io::Read;
    let mut b = Vec::new();
    let limit = plan::MAX_INPUT_BYTES;
    if path == "-" {
        std::io::stdin()
            .lock()
            .take(limit + 1)
            .read_to_end(&mut b)?;
    } else {
        std::fs::File::open(path)
            .with_context(|| format!("opening {}", escape_control(path)))?
            .take(limit + 1)
            .read_to_end(&mut b)?;
    }
    if b.len() as u64 > limit {
        anyhow::bail!("{}: over {limit} bytes", escape_control(path));
    }
    Ok(b)
}

/// Image references a source names.
fn references(src: &str, args: &PlanArgs, opts: &cairn_catalog::Options) -> Result<Vec<String>> {
    if let Some(file) = src.strip_prefix("kubectl:") {
        return Ok(plan::references_from_kubectl(&read_input(file)?)?);
    }
    if let Some(file) = src.strip_prefix('@') {
        let text = String::from_utf8(read_input(file)?)
            .map_err(|_| anyhow::anyhow!("{}: not UTF-8", escape_control(file)))?;
        return Ok(plan::references_from_list(&text));
    }
    if let Some(reg) = src.strip_prefix("catalog:") {
        let (host, prefix) = reg.split_once('/').unwrap_or((reg, ""));
        let reference = cairn_registry::Reference::parse(&format!("{host}/catalog"))
            .map_err(|e| UsageError(format!("{src}: {e}")))?;
        let client = cairn_image::registry_client(&reference, &opts.registry)?;
        let repos = client
            .catalog(args.max_repositories)
            .with_context(|| format!("listing the catalog of {host}"))?;
        let mut out = Vec::new();
        for repo in repos
            .into_iter()
            .filter(|r| prefix.is_empty() || r == prefix || r.starts_with(&format!("{prefix}/")))
        {
            let r = cairn_registry::Reference::parse(&format!("{host}/{repo}"))
                .map_err(|e| UsageError(format!("{host}/{repo}: {e}")))?;
            let c = cairn_image::registry_client(&r, &opts.registry)?;
            for tag in c
                .tags(args.max_tags)
                .with_context(|| format!("listing the tags of {host}/{repo}"))?
            {
                out.push(format!("{host}/{repo}:{tag}"));
            }
        }
        return Ok(out);
    }
    Ok(vec![src.to_owned()])
}

fn plan(args: PlanArgs, v: Verbosity) -> Result<ExitCode> {
    if args.source.reads_stdin() {
        return Err(UsageError(
            "fleet plan opens many images: give credentials through the Docker config, not --password-stdin".into(),
        )
        .into());
    }
    let opts = crate::scan::options(&args.source, false)?;
    let mut refs = Vec::new();
    for s in &args.sources {
        refs.extend(references(s, &args, &opts)?);
        if refs.len() > plan::MAX_IMAGES {
            anyhow::bail!("more than {} images", plan::MAX_IMAGES);
        }
    }
    refs.sort();
    refs.dedup();
    // Manifests and configs only (no layer is read), several registries' worth at once.
    let candidates: Vec<Result<Candidate>> = refs
        .par_iter()
        .map(|r| {
            let spec = cairn_image::SourceSpec::parse(r)?;
            let image = cairn_catalog::open(&spec, &opts)
                .with_context(|| format!("opening {}", escape_control(r)))?;
            let parsed = cairn_registry::Reference::parse(r.strip_prefix("registry:").unwrap_or(r))
                .map_err(|e| UsageError(format!("{r}: {e}")))?;
            let repository = image
                .repository
                .clone()
                .unwrap_or_else(|| format!("{}/{}", parsed.registry, parsed.repository));
            let digest = image
                .manifest_digest
                .clone()
                .ok_or_else(|| anyhow::anyhow!("{r}: no manifest digest"))?;
            let tag = parsed.tag.clone().unwrap_or_default();
            let reference = if tag.is_empty() {
                repository.clone()
            } else {
                format!("{repository}:{tag}")
            };
            let layers = image
                .layers
                .iter()
                .map(|l| (l.digest.clone().unwrap_or_default(), l.size))
                .collect();
            Ok(Candidate {
                reference,
                repository,
                tag,
                digest,
                layers,
            })
        })
        .collect();
    let candidates: Vec<Candidate> = candidates.into_iter().collect::<Result<_>>()?;
    let p = Plan::make(candidates, args.shards as usize)?;
    crate::output::write(&args.output, p.to_json().as_bytes())?;
    if !v.quiet {
        let mb = |b: u64| b as f64 / 1e6;
        eprintln!(
            "cairn: {} images in {} shards; layers {:.1} MB over the images, {:.1} MB distinct, {:.1} MB downloaded by the shards",
            p.images.len(),
            p.shards,
            mb(p.bytes_per_image),
            mb(p.bytes_distinct),
            mb(p.bytes_planned)
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn scan(args: ScanArgs, v: Verbosity) -> Result<ExitCode> {
    if args.source.reads_stdin() {
        return Err(UsageError(
            "fleet scan opens many images: give credentials through the Docker config, not --password-stdin".into(),
        )
        .into());
    }
    let p = Plan::read(&std::fs::read(&args.plan).with_context(|| {
        format!(
            "reading the plan {}",
            escape_control(&args.plan.display().to_string())
        )
    })?)?;
    let (shard, from) = match args.shard {
        Some(i) => (i, "--shard"),
        None => plan::shard_from_env(|k| std::env::var(k).ok())
            .ok_or_else(|| {
                UsageError(
                    "no --shard, and none of JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID, AWS_BATCH_JOB_ARRAY_INDEX is set".into(),
                )
            })??,
    };
    if shard >= p.shards {
        return Err(UsageError(format!(
            "shard {shard} (from {from}) of a plan with {} shards",
            p.shards
        ))
        .into());
    }
    let mut db = args.db.open()?;
    let mine: Vec<&plan::PlanImage> = p.shard(shard).collect();
    let cache = (args.layer_memory_mib > 0).then(|| {
        std::sync::Arc::new(cairn_image::LayerCache::new(
            args.layer_memory_mib.saturating_mul(1 << 20),
        ))
    });
    let (mut scanned, mut skipped, mut incomplete) = (0, 0, 0);
    for im in &mine {
        if !args.rescan
            && db
                .images(&format!("{}:{}@{}", im.repository, im.tag, im.digest))?
                .iter()
                .any(|r| r.tag == im.tag && r.digest == im.digest)
        {
            skipped += 1;
            continue;
        }
        let pinned = im.pinned();
        let s = crate::scan::scan_reusing(&pinned, &args.source, false, false, cache.clone(), v)?;
        let sbom = s.scan.sbom;
        if sbom.source.manifest_digest.as_deref() != Some(im.digest.as_str()) {
            anyhow::bail!(
                "{}: the registry served {:?}, the plan says {}",
                escape_control(&pinned),
                sbom.source.manifest_digest,
                im.digest
            );
        }
        if !sbom.complete {
            incomplete += 1;
            eprintln!(
                "cairn: warning: the scan of {} is INCOMPLETE (stored as such)",
                escape_control(&im.reference)
            );
        }
        let id = Identity {
            repository: Some(im.repository.clone()),
            tag: Some(im.tag.clone()),
        };
        let rec = ImageRecord::from_sbom(&sbom, &id)?;
        // One transaction per image: a kill loses at most the image being scanned.
        db.ingest(&[rec])
            .with_context(|| format!("storing {}", escape_control(&im.reference)))?;
        scanned += 1;
        if v.verbose > 0 {
            eprintln!("cairn: stored {}", escape_control(&im.reference));
        }
    }
    if scanned > 0 {
        db.optimize()
            .context("updating the database's statistics")?;
    }
    if !v.quiet {
        let (reused, decoded) = cache.as_ref().map_or((0, 0), |c| c.stats());
        eprintln!(
            "cairn: shard {shard} of {} ({from}): {} images, {scanned} scanned, {skipped} already in {}; layers decoded {decoded}, reused {reused}",
            p.shards,
            mine.len(),
            db.url()
        );
    }
    Ok(if incomplete == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
