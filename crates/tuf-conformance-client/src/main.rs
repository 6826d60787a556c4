//! Client-under-test for the tuf-conformance suite
//! (<https://github.com/theupdateframework/tuf-conformance>, CLIENT-CLI.md).
//!
//! ```text
//! tuf-conformance-client --metadata-dir D init ROOT
//! tuf-conformance-client --metadata-url U --metadata-dir D refresh
//! tuf-conformance-client --metadata-url U --metadata-dir D --target-name P... \
//!     --target-dir T --target-base-url TU download
//! ```
//! Exit status 0 on success, 1 on any failure. All logic is in `cairn-tuf`;
//! the clock is read through libc (`clock_gettime`), so `faketime` applies.

use anyhow::{bail, Context, Result};
use cairn_tuf::fetcher::{HttpFetcher, HttpTimeouts, TlsOptions};
use cairn_tuf::updater::Download;
use cairn_tuf::{Config, TrustedSet, Updater};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(about = "TUF conformance client on cairn-tuf")]
struct Cli {
    #[arg(long)]
    metadata_dir: PathBuf,
    #[arg(long)]
    metadata_url: Option<String>,
    #[arg(long)]
    target_name: Vec<String>,
    #[arg(long)]
    target_dir: Option<PathBuf>,
    #[arg(long)]
    target_base_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Trust ROOT as the initial root (no network).
    Init { trusted_root: PathBuf },
    /// Update top-level metadata.
    Refresh,
    /// Update metadata and download each --target-name in order.
    Download,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tuf-conformance-client: error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Init { trusted_root } => {
            let data = std::fs::read(&trusted_root)
                .with_context(|| format!("reading {}", trusted_root.display()))?;
            // Refuse a root that does not even verify against itself.
            TrustedSet::new(&data, 0).context("initial root")?;
            std::fs::create_dir_all(&cli.metadata_dir)?;
            cairn_tuf::updater::write_atomic(&cli.metadata_dir.join("root.json"), &data)?;
            Ok(())
        }
        Command::Refresh => {
            let url = cli.metadata_url.context("--metadata-url is required")?;
            refreshed(&cli.metadata_dir, &url)?;
            Ok(())
        }
        Command::Download => {
            let url = cli.metadata_url.context("--metadata-url is required")?;
            let target_dir = cli.target_dir.context("--target-dir is required")?;
            let target_base = cli
                .target_base_url
                .context("--target-base-url is required")?;
            if cli.target_name.is_empty() {
                bail!("--target-name is required");
            }
            let mut updater = refreshed(&cli.metadata_dir, &url)?;
            // All searches first (their bins fetched together), then the
            // targets not cached yet, fetched together.
            let infos = updater.target_infos(&cli.target_name)?;
            let mut wanted = Vec::new();
            for (name, info) in cli.target_name.iter().zip(&infos) {
                let info = info
                    .as_ref()
                    .ok_or_else(|| cairn_tuf::Error::TargetNotFound(name.clone()))?;
                let dest = cairn_tuf::updater::target_file_path(&target_dir, name);
                if !cairn_tuf::updater::is_cached(info, &dest) {
                    wanted.push((name, info, dest));
                }
            }
            let downloads: Vec<Download<'_>> = wanted
                .iter()
                .map(|(name, info, dest)| Download {
                    target_path: name,
                    info,
                    dest,
                })
                .collect();
            updater
                .download_targets(&downloads, &target_base)
                .context("downloading targets")?;
            // The process ends here: leave the trusted metadata (a hashed-bin
            // repository's is a million small allocations, 40 ms to free) to the OS.
            std::mem::forget(updater);
            Ok(())
        }
    }
}

/// An updater over `dir` and `url`, refreshed: the top-level metadata is current.
/// The suite serves its repository over plain HTTP on loopback, so the client
/// allows it (cairn's own client refuses it unless told otherwise).
fn refreshed(dir: &Path, url: &str) -> Result<Updater<HttpFetcher>> {
    let tls = TlsOptions {
        allow_http: true,
        ..TlsOptions::default()
    };
    let fetcher = HttpFetcher::with_options(&tls, HttpTimeouts::default())?;
    let mut updater = Updater::new(dir, url, fetcher, Config::default())?;
    updater.refresh()?;
    Ok(updater)
}
