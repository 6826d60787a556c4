//! `cairn publish` and `cairn verify`: SBOMs delivered through TUF.
//!
//! `publish` scans an image and adds its SBOMs to a cairn TUF repository as
//! `sboms/sha256/HEX.cairn.json`, `.spdx.json` and `.cdx.json`, where HEX
//! names the image: its manifest digest, or for a docker-archive (which has
//! no manifest) its image id. `verify` fetches the cairn JSON of the same
//! name through the TUF client, so that a forged, swapped, stale or replayed
//! SBOM is refused by the specification's checks, then re-scans the image and
//! compares the two package by package.

use crate::scan::SourceArgs;
use crate::tuf::repo::{add_documents, open_repo, CommitArgs, DirKeyring, KeyArgs};
use crate::Verbosity;
use anyhow::{bail, Context, Result};
use cairn_sbom::{escape_control, Format, Sbom};
use cairn_tuf::fetcher::{DefaultFetcher, TlsOptions};
use cairn_tuf::metadata::TargetFile;
use cairn_tuf::repo::NewTarget;
use cairn_tuf::{Config, Updater};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

/// The documents published per image: (suffix, format, media type).
const DOCUMENTS: [(&str, Format, &str); 3] = [
    (
        "cairn.json",
        Format::Json,
        "application/vnd.cairn.sbom+json",
    ),
    ("spdx.json", Format::SpdxJson, "application/spdx+json"),
    (
        "cdx.json",
        Format::CycloneDxJson,
        "application/vnd.cyclonedx+json",
    ),
];

#[derive(Args)]
pub struct PublishArgs {
    /// The image to scan (any image reference or path cairn scans).
    image: String,
    /// The TUF repository directory (made with `cairn tuf init`).
    #[arg(long)]
    repo: PathBuf,
    #[command(flatten)]
    keys: KeyArgs,
    /// Add the SBOMs to this role instead of the one the delegations choose.
    #[arg(long)]
    role: Option<String>,
    /// List every file with its digests in the SBOMs.
    #[arg(long)]
    files: bool,
    #[command(flatten)]
    commit: CommitArgs,
    #[command(flatten)]
    source: SourceArgs,
}

#[derive(Args)]
pub struct VerifyArgs {
    /// The image to verify.
    image: String,
    #[command(flatten)]
    tuf: TufClientArgs,
    #[command(flatten)]
    source: SourceArgs,
}

/// Where a TUF repository is and how it is trusted (the client side).
#[derive(Args, Clone)]
#[command(next_help_heading = "TUF")]
pub struct TufClientArgs {
    /// The repository's trusted root, obtained out of band (used when the
    /// metadata directory holds no trusted root yet).
    #[arg(long)]
    pub root: PathBuf,
    /// Base URL of the repository's metadata.
    #[arg(long)]
    pub metadata_url: String,
    /// Base URL of the repository's targets (default: the metadata URL with its
    /// last `metadata` segment replaced by `targets`).
    #[arg(long)]
    pub targets_url: Option<String>,
    /// Keep the client's trusted metadata here between runs, which protects
    /// against rollback and freeze attacks across runs (default: a temporary
    /// directory, trusting --root afresh each time).
    #[arg(long)]
    pub metadata_dir: Option<PathBuf>,
    /// PEM file of CA certificates to trust for the TUF repository instead of
    /// the system's roots (`--ca-file` is the registry's).
    #[arg(long, env = "CAIRN_CA_FILE", value_name = "FILE")]
    pub tuf_ca_file: Option<PathBuf>,
    /// Speak plain HTTP to the TUF repository (refused unless asked).
    #[arg(long, env = "CAIRN_ALLOW_HTTP", value_parser = clap::builder::BoolishValueParser::new())]
    pub allow_http: bool,
}

/// A TUF client, refreshed: every file fetched through it is verified.
pub struct TufClient {
    up: Updater<DefaultFetcher>,
    targets_url: String,
    _temp: Option<tempfile::TempDir>,
}

fn tuf_failed(what: &str) -> String {
    format!("TUF verification failed ({what})")
}

impl TufClientArgs {
    fn targets_url(&self) -> Result<String> {
        if let Some(t) = &self.targets_url {
            return Ok(t.clone());
        }
        let m = self.metadata_url.trim_end_matches('/');
        match m.strip_suffix("metadata") {
            Some(base) if base.ends_with('/') => Ok(format!("{base}targets")),
            _ => bail!("--targets-url is needed: the metadata URL does not end in /metadata"),
        }
    }

    /// Checks the URLs, trusts the root (first run) and refreshes the top-level
    /// metadata.
    pub fn connect(&self) -> Result<TufClient> {
        let targets_url = self.targets_url()?;
        let fetcher = DefaultFetcher::with_tls(&TlsOptions {
            ca_file: self.tuf_ca_file.clone(),
            allow_http: self.allow_http,
        })?;
        for url in [&self.metadata_url, &targets_url] {
            if url.starts_with("http://") && !self.allow_http {
                bail!("plain HTTP refused for {url}: pass --allow-http to allow it");
            }
        }
        let mut temp = None;
        let dir = match &self.metadata_dir {
            Some(d) => d.clone(),
            None => {
                let t = tempfile::tempdir().context("creating a temporary directory")?;
                let p = t.path().to_path_buf();
                temp = Some(t);
                p
            }
        };
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        if !dir.join("root.json").exists() {
            let root = std::fs::read(&self.root)
                .with_context(|| format!("reading {}", self.root.display()))?;
            cairn_tuf::TrustedSet::new(&root, cairn_tuf::time::now_unix()).with_context(|| {
                format!(
                    "TUF verification failed: {} is not a usable root",
                    self.root.display()
                )
            })?;
            cairn_tuf::updater::write_atomic(&dir.join("root.json"), &root)?;
        }
        let mut up = Updater::new(&dir, &self.metadata_url, fetcher, Config::default())
            .with_context(|| tuf_failed("loading the trusted root"))?;
        up.refresh()
            .with_context(|| tuf_failed("refreshing metadata"))?;
        Ok(TufClient {
            up,
            targets_url,
            _temp: temp,
        })
    }
}

impl TufClient {
    /// The verified contents of `target` (at most `max` bytes), or `None` when
    /// the repository does not list it.
    pub fn fetch(&mut self, target: &str, max: u64) -> Result<Option<(Vec<u8>, TargetFile)>> {
        let Some(info) = self
            .up
            .target_info(target)
            .with_context(|| tuf_failed(&format!("looking up {target}")))?
        else {
            return Ok(None);
        };
        if info.length > max {
            bail!(
                "{target} is {} bytes in the TUF metadata, over the {max}-byte limit",
                info.length
            );
        }
        let staged = tempfile::tempdir()?;
        let file = staged.path().join("target");
        self.up
            .download_target(target, &info, &self.targets_url, &file)
            .with_context(|| tuf_failed(&format!("downloading {target}")))?;
        Ok(Some((std::fs::read(&file)?, info)))
    }
}

/// The target path prefix of an image's SBOMs: `sboms/sha256/HEX`.
fn image_key(sbom: &Sbom) -> Result<(String, String)> {
    let digest = sbom
        .source
        .manifest_digest
        .as_deref()
        .or(sbom.source.image_id.as_deref())
        .context("the image has neither a manifest digest nor an image id to name its SBOMs by (a directory scan cannot be published)")?;
    let hex = digest
        .strip_prefix("sha256:")
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .with_context(|| format!("image digest {digest:?} is not a sha256 digest"))?;
    Ok((format!("sboms/sha256/{hex}"), digest.to_string()))
}

pub fn publish(args: PublishArgs, v: Verbosity) -> Result<ExitCode> {
    // Everything that can fail before signing is done first: keys and
    // repository open, then the scan.
    let mut repo = open_repo(&args.repo)?;
    let keys = DirKeyring::open(&args.keys)?;
    crate::tuf::repo::load_expiry(&args.keys.dir, &args.commit.expires)?;
    let scanned = crate::scan::scan(&args.image, &args.source, args.files, v)?;
    let sbom = &scanned.scan.sbom;
    if !sbom.complete {
        crate::scan::report_incomplete(sbom, v);
        bail!("the scan is incomplete: an incomplete SBOM is not published");
    }
    let (prefix, digest) = image_key(sbom)?;
    let mut docs = Vec::new();
    for (suffix, format, media_type) in DOCUMENTS {
        let text = cairn_sbom::render(sbom, format);
        let mut t = NewTarget::from_bytes(text.as_bytes());
        t.custom = Some(Box::new(serde_json::json!({
            "sbom": {
                "image": {
                    "name": sbom.source.name,
                    "digest": digest,
                    "image_id": sbom.source.image_id,
                    "tags": sbom.source.tags,
                    "platform": sbom.source.platform,
                },
                "format": format.name(),
                "media_type": media_type,
                "generator": concat!("cairn ", env!("CARGO_PKG_VERSION")),
            }
        })));
        docs.push((format!("{prefix}.{suffix}"), t, text.into_bytes()));
    }
    let names: Vec<String> = docs.iter().map(|(p, _, _)| p.clone()).collect();
    add_documents(
        &mut repo,
        &args.repo,
        &keys,
        args.role.as_deref(),
        args.commit.partial,
        "the SBOMs",
        docs,
    )?;
    let done = crate::tuf::repo::commit(&mut repo, &keys, &args.commit)?;
    if !v.quiet {
        for n in &names {
            println!("published {n}");
        }
        crate::tuf::repo::report(&done);
    }
    Ok(ExitCode::SUCCESS)
}

pub fn verify(args: VerifyArgs, v: Verbosity) -> Result<ExitCode> {
    let mut tuf = args.tuf.connect()?;
    let scanned = crate::scan::scan(&args.image, &args.source, false, v)?;
    let fresh = &scanned.scan.sbom;
    let (prefix, digest) = image_key(fresh)?;
    let target = format!("{prefix}.cairn.json");
    let (bytes, info) = tuf
        .fetch(&target, cairn_sbom::MAX_DOCUMENT_BYTES as u64)?
        .with_context(|| {
            format!(
                "no SBOM is published for {} ({digest}): the repository has no target {target}",
                escape_control(&args.image)
            )
        })?;
    let published = cairn_sbom::read(&bytes)
        .with_context(|| format!("reading the published {target}"))?
        .sbom;
    let pub_digest = published
        .source
        .manifest_digest
        .as_deref()
        .or(published.source.image_id.as_deref());
    if pub_digest != Some(digest.as_str()) {
        println!(
            "MISMATCH: the SBOM published as {target} describes image {}, not {digest}",
            pub_digest.unwrap_or("(none)")
        );
        return Ok(ExitCode::from(1));
    }
    println!(
        "{target}: verified through TUF (length {}, sha256 {})",
        info.length,
        info.hashes.get("sha256").unwrap_or("?")
    );
    Ok(compare_with_rescan(
        &published,
        fresh,
        &args.image,
        "published",
        v,
    ))
}

/// The verdict on a signed or TUF-delivered SBOM against a fresh scan of the image
/// (`what`: "published", "attested"): OK (exit 0), or MISMATCH with the differences or
/// INCOMPLETE (exit 1).
pub fn compare_with_rescan(
    claimed: &Sbom,
    fresh: &Sbom,
    image: &str,
    what: &str,
    v: Verbosity,
) -> ExitCode {
    if !fresh.complete {
        crate::scan::report_incomplete(fresh, v);
        println!("INCOMPLETE: the re-scan could not read everything; the comparison may miss differences");
        return ExitCode::from(1);
    }
    let d = cairn_explain::diff::diff(claimed, fresh);
    if d.is_empty() {
        println!(
            "OK: {} matches its {what} SBOM ({} packages)",
            escape_control(image),
            fresh.packages.len()
        );
        ExitCode::SUCCESS
    } else {
        println!(
            "MISMATCH: {} no longer matches its {what} SBOM:",
            escape_control(image)
        );
        print!("{}", cairn_explain::text::diff(&d));
        ExitCode::from(1)
    }
}
