//! `cairn tuf`: trust a root, refresh metadata, fetch a verified target.
//!
//! ```text
//! cairn tuf --metadata-dir D trust ROOT.json
//! cairn tuf --metadata-dir D --metadata-url U refresh
//! cairn tuf --metadata-dir D --metadata-url U fetch TARGET --targets-url T -o PATH
//! ```
//! URLs may be `https://`, `file://`, or `http://` with `--allow-http`.
//! HTTPS trusts the system's roots, or only the CAs of `--ca-file`. Errors
//! name the attack a check refused ("rollback refused", "freeze attack
//! refused", ...); the exit status is 1 on any error.

use crate::output::{self, Destination};
use anyhow::{bail, Context, Result};
use cairn_tuf::fetcher::{DefaultFetcher, TlsOptions};
use cairn_tuf::metadata::Role;
use cairn_tuf::{Config, TrustedSet, Updater};
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Args)]
pub struct TufArgs {
    /// Directory of trusted metadata (created by `trust`).
    #[arg(long, env = "CAIRN_TUF_METADATA_DIR", global = true)]
    metadata_dir: Option<PathBuf>,
    /// Base URL of the repository's metadata.
    #[arg(long, env = "CAIRN_TUF_METADATA_URL", global = true)]
    metadata_url: Option<String>,
    #[command(flatten)]
    tls: ClientTls,
    #[command(subcommand)]
    command: TufCommand,
}

#[derive(Subcommand)]
enum TufCommand {
    #[command(flatten)]
    Repo(super::repo::RepoCommand),
    /// Trust ROOT as the initial root of the repository (no network access).
    Trust {
        /// A root.json obtained out of band.
        root: PathBuf,
        /// Replace an already trusted root.
        #[arg(long)]
        force: bool,
    },
    /// Update root, timestamp, snapshot and targets metadata.
    Refresh,
    /// Resolve TARGET through the delegations and download it, verified, to PATH.
    Fetch {
        /// Target path as the repository names it.
        target: String,
        /// Base URL of the repository's targets.
        #[arg(long, env = "CAIRN_TUF_TARGETS_URL")]
        targets_url: String,
        /// Where to write the target.
        #[arg(short, long)]
        output: PathBuf,
    },
}

/// How a TUF client reaches a repository over the network: the flags that
/// `cairn tuf` has and that any other command fetching through TUF flattens
/// (`#[command(flatten)] tls: ClientTls`).
#[derive(Args, Debug, Clone, Default)]
pub(crate) struct ClientTls {
    /// PEM file of CA certificates to trust instead of the system's roots
    /// (replaces them, like curl --cacert).
    #[arg(long, env = "CAIRN_CA_FILE", global = true, value_name = "FILE")]
    ca_file: Option<PathBuf>,
    /// Allow plain http:// URLs (metadata signatures are still checked, but
    /// anyone on the path can withhold updates or see what is fetched).
    #[arg(
        long,
        env = "CAIRN_ALLOW_HTTP",
        global = true,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    allow_http: bool,
}

impl ClientTls {
    /// A fetcher for `https://`, `file://` and (if allowed) `http://` URLs;
    /// fails when the CA file is unreadable or holds no certificate.
    pub(crate) fn fetcher(&self) -> Result<DefaultFetcher> {
        let options = TlsOptions {
            ca_file: self.ca_file.clone(),
            allow_http: self.allow_http,
        };
        Ok(DefaultFetcher::with_tls(&options)?)
    }
}

pub fn run(args: TufArgs) -> Result<()> {
    let args = match args.command {
        TufCommand::Repo(cmd) => return super::repo::run(cmd),
        command => TufArgs { command, ..args },
    };
    let dir = args
        .metadata_dir
        .context("--metadata-dir (or CAIRN_TUF_METADATA_DIR) is required")?;
    let tls = args.tls;
    let updater = |url: Option<String>| -> Result<Updater<DefaultFetcher>> {
        let url = url.context("--metadata-url (or CAIRN_TUF_METADATA_URL) is required")?;
        let fetcher = tls.fetcher()?;
        Updater::new(&dir, &url, fetcher, Config::default())
            .with_context(|| format!("loading trusted root from {}", dir.display()))
    };
    match args.command {
        TufCommand::Trust { root, force } => {
            let data =
                std::fs::read(&root).with_context(|| format!("reading {}", root.display()))?;
            let set = TrustedSet::new(&data, cairn_tuf::time::now_unix())
                .with_context(|| format!("{} is not a usable root", root.display()))?;
            let dest = dir.join("root.json");
            if dest.exists() && !force {
                bail!(
                    "{} already holds a trusted root; pass --force to replace it",
                    dir.display()
                );
            }
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            cairn_tuf::updater::write_atomic(&dest, &data)?;
            let r = set.root();
            println!(
                "trusted root version {} (expires {}) in {}",
                r.version(),
                r.expires.as_str(),
                dir.display()
            );
            Ok(())
        }
        TufCommand::Refresh => {
            let mut up = updater(args.metadata_url)?;
            up.refresh().context("refresh failed")?;
            let t = up.trusted();
            println!(
                "root v{}, timestamp v{}, snapshot v{}, targets v{}",
                t.root().version(),
                t.timestamp().map_or(0, |m| m.version()),
                t.snapshot().map_or(0, |m| m.version()),
                t.targets("targets").map_or(0, |m| m.version()),
            );
            Ok(())
        }
        TufCommand::Repo(_) => unreachable!("handled above"),
        TufCommand::Fetch {
            target,
            targets_url,
            output,
        } => {
            let mut up = updater(args.metadata_url)?;
            up.refresh().context("refresh failed")?;
            let info = up
                .target_info(&target)
                .with_context(|| format!("looking up {target}"))?
                .ok_or_else(|| cairn_tuf::Error::TargetNotFound(target.clone()))?;
            match Destination::of(&output) {
                Destination::File(path) => {
                    if !cairn_tuf::updater::is_cached(&info, &path) {
                        up.download_target(&target, &info, &targets_url, &path)
                            .with_context(|| format!("fetching {target}"))?;
                    }
                }
                // A pipe or device gets the target only once it is whole and verified.
                Destination::Special(path) => {
                    let dir = tempfile::tempdir().context("creating a temporary directory")?;
                    let staged = dir.path().join("target");
                    up.download_target(&target, &info, &targets_url, &staged)
                        .with_context(|| format!("fetching {target}"))?;
                    let mut f = std::fs::File::open(&staged)
                        .with_context(|| format!("reading {}", staged.display()))?;
                    output::copy_to(&path, &mut f)?;
                }
            }
            let (alg, hash) = info.hashes.iter().next().expect("validated: non-empty");
            println!(
                "{target}: {} bytes, {alg} {hash}, written to {}",
                info.length,
                output.display()
            );
            Ok(())
        }
    }
}
