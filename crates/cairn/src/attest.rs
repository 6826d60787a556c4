//! `cairn attest`, `cairn verify-attestation`, `cairn referrers`,
//! `cairn publish-key` and `cairn generate-key-pair`: SBOMs signed as in-toto
//! attestations in Sigstore bundles, attached to images as OCI 1.1
//! referrers, verified with keys delivered through TUF. The formats are
//! `cairn-attest`'s, the registry calls `cairn-registry`'s, the TUF client
//! and repository `cairn-tuf`'s; this module joins them.

use crate::publish::TufClientArgs;
use crate::scan::SourceArgs;
use crate::tuf::repo::{add_documents, open_repo, CommitArgs, DirKeyring, KeyArgs, Passphrase};
use crate::Verbosity;
use anyhow::{bail, Context, Result};
use cairn_attest::bundle::MAX_BUNDLE_BYTES;
use cairn_attest::key::MAX_PUBLIC_KEY_BYTES;
use cairn_attest::{
    Bundle, PublicKey, Signed, Statement, Subject, CYCLONEDX_PREDICATE, SPDX_PREDICATE,
};
use cairn_image::{Image, SourceKind};
use cairn_registry::{Descriptor, Reference, ReferrersVia, MANIFEST_MEDIA_TYPE};
use cairn_sbom::{escape_control, Format};
use cairn_tuf::keyfile::{KeyType, PrivateKey};
use cairn_tuf::repo::NewTarget;
use clap::{Args, ValueEnum};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Where attestation public keys are published in a TUF repository:
/// `attestation-keys/<sha256 of the SubjectPublicKeyInfo>.pub`.
pub const KEY_TARGET_PREFIX: &str = "attestation-keys/";
/// The artifact type of a Sigstore bundle referrer.
pub const BUNDLE_ARTIFACT_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// The OCI empty descriptor's media type and content (`{}`).
const EMPTY_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";
const EMPTY_CONFIG: &[u8] = b"{}";
/// The most referrers of one image that are fetched and tried.
const MAX_BUNDLES_TRIED: usize = 64;

#[derive(Clone, Copy, ValueEnum)]
pub enum PredicateKind {
    /// SPDX 2.3 JSON (`https://spdx.dev/Document`).
    Spdx,
    /// CycloneDX JSON (`https://cyclonedx.org/bom`).
    Cyclonedx,
}

impl PredicateKind {
    fn format(self) -> Format {
        match self {
            PredicateKind::Spdx => Format::SpdxJson,
            PredicateKind::Cyclonedx => Format::CycloneDxJson,
        }
    }
    fn predicate_type(self) -> &'static str {
        match self {
            PredicateKind::Spdx => SPDX_PREDICATE,
            PredicateKind::Cyclonedx => CYCLONEDX_PREDICATE,
        }
    }
}

#[derive(Args)]
pub struct AttestArgs {
    /// The image to scan and attest (any image cairn scans), or a file: the subject is
    /// the image's manifest digest, or for an archive without one (a docker-archive) the
    /// file's sha256.
    target: String,
    /// The private key to sign with, ECDSA P-256 or ed25519: cosign's `cosign.key`
    /// (its password from COSIGN_PASSWORD), or PKCS#8 PEM, optionally encrypted (what
    /// `cairn generate-key-pair`, OpenSSL or python's cryptography write).
    #[arg(long, value_name = "KEYFILE")]
    key: PathBuf,
    /// Name of an environment variable holding the key's passphrase (without it an
    /// encrypted key is asked for on the terminal).
    #[arg(long, value_name = "VAR")]
    passphrase_env: Option<String>,
    /// The SBOM format of the predicate.
    #[arg(long = "type", value_enum, default_value = "spdx")]
    predicate: PredicateKind,
    /// Attest this SBOM document (SPDX 2 JSON or CycloneDX JSON, any tool's) instead of
    /// scanning: TARGET may then be any file (the subject is its sha256), or an image
    /// (its manifest digest, read without scanning).
    #[arg(long, value_name = "DOC", conflicts_with_all = ["predicate", "files"])]
    sbom: Option<PathBuf>,
    /// Write the bundle here (default: standard output, unless --push).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Attach the bundle to the image in its registry as an OCI 1.1 referrer.
    #[arg(long)]
    push: bool,
    /// List every file with its digests in the SBOM.
    #[arg(long)]
    files: bool,
    #[command(flatten)]
    source: SourceArgs,
}

#[derive(Args)]
pub struct VerifyAttestationArgs {
    /// The image whose attestations to verify (they are found among its referrers in
    /// its registry, or given with --bundle), or a bundle file alone.
    target: String,
    /// A bundle to verify (repeatable) instead of the image's referrers.
    #[arg(long, value_name = "FILE")]
    bundle: Vec<PathBuf>,
    /// Verify with this public key (PEM) instead of keys fetched through TUF.
    #[arg(long, value_name = "PUBKEY", conflicts_with_all = ["root", "metadata_url"])]
    key: Option<PathBuf>,
    /// The TUF repository's trusted root (with --metadata-url): keys are the targets
    /// `attestation-keys/HINT.pub`, HINT being the bundle's key hint.
    #[arg(long, requires = "metadata_url")]
    root: Option<PathBuf>,
    /// Base URL of the TUF repository's metadata.
    #[arg(long, requires = "root")]
    metadata_url: Option<String>,
    /// Base URL of the TUF repository's targets (default: beside the metadata).
    #[arg(long)]
    targets_url: Option<String>,
    /// Keep the TUF client's trusted metadata here between runs.
    #[arg(long)]
    metadata_dir: Option<PathBuf>,
    /// PEM file of CA certificates for the TUF repository.
    #[arg(long, env = "CAIRN_CA_FILE", value_name = "FILE")]
    tuf_ca_file: Option<PathBuf>,
    /// Speak plain HTTP to the TUF repository.
    #[arg(long, env = "CAIRN_ALLOW_HTTP", value_parser = clap::builder::BoolishValueParser::new())]
    allow_http: bool,
    /// Also scan the image and compare the attested SBOM with what it has now.
    #[arg(long)]
    rescan: bool,
    #[command(flatten)]
    source: SourceArgs,
}

#[derive(Args)]
pub struct ReferrersArgs {
    /// The image (in a registry).
    image: String,
    /// Print the referrers lists as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    source: SourceArgs,
}

#[derive(Args)]
pub struct PublishKeyArgs {
    /// The public key (PEM SubjectPublicKeyInfo: `cosign.pub`, or the `.pub` of
    /// `cairn generate-key-pair`).
    key: PathBuf,
    /// The TUF repository directory.
    #[arg(long)]
    repo: PathBuf,
    #[command(flatten)]
    keys: KeyArgs,
    /// Add the key to this role instead of the one the delegations choose.
    #[arg(long)]
    role: Option<String>,
    /// Remove the key instead: verifiers refuse attestations it signed once clients
    /// see the new metadata.
    #[arg(long)]
    revoke: bool,
    #[command(flatten)]
    commit: CommitArgs,
}

#[derive(Args)]
pub struct GenerateKeyArgs {
    /// Write PREFIX.key (PKCS#8 PEM, mode 0600) and PREFIX.pub.
    #[arg(long, default_value = "cairn")]
    output_key_prefix: PathBuf,
    /// ecdsa-p256 (cosign's) or ed25519.
    #[arg(long, default_value = "ecdsa-p256", value_parser = ["ecdsa-p256", "ed25519"])]
    key_type: String,
    /// Encrypt the private key with the passphrase in this environment variable.
    #[arg(long, value_name = "VAR")]
    passphrase_env: Option<String>,
}

/// What an attestation is about.
struct Subjected {
    subject: Subject,
    /// `sha256:HEX`.
    digest: String,
}

/// The subject of `image`: its manifest digest, else (an archive without one) the
/// archive file's sha256.
fn subject_of(image: &Image) -> Result<Subjected> {
    if let Some(d) = &image.manifest_digest {
        let hex = d
            .strip_prefix("sha256:")
            .with_context(|| format!("the manifest digest {d} is not sha256"))?;
        let name = image
            .repository
            .clone()
            .unwrap_or_else(|| image.name.clone());
        return Ok(Subjected {
            subject: Subject::sha256(&name, hex),
            digest: d.clone(),
        });
    }
    let path = Path::new(&image.location);
    if matches!(
        image.kind,
        SourceKind::DockerArchive | SourceKind::OciArchive
    ) && path.is_file()
    {
        return file_subject(path);
    }
    bail!(
        "{} has no manifest digest and is not a file: there is nothing to name it by in an attestation",
        escape_control(&image.location)
    )
}

fn read_private_key(path: &Path, passphrase_env: Option<String>) -> Result<PrivateKey> {
    let bytes = zeroize::Zeroizing::new(read_bounded(
        path,
        cairn_tuf::keyfile::MAX_KEY_FILE_SIZE as usize,
    )?);
    let key = if cairn_attest::cosign::is_cosign_key(&bytes) {
        // cosign's own file: its password from --passphrase-env, else COSIGN_PASSWORD as
        // cosign reads it, else the terminal.
        let password = match passphrase_env.as_deref() {
            Some(var) => zeroize::Zeroizing::new(std::env::var(var).map_err(|_| {
                crate::scan::UsageError(format!("the passphrase variable {var} is not set"))
            })?),
            None => match std::env::var("COSIGN_PASSWORD") {
                Ok(p) => zeroize::Zeroizing::new(p),
                Err(_) if std::io::IsTerminal::is_terminal(&std::io::stdin()) => {
                    zeroize::Zeroizing::new(
                        rpassword::prompt_password(format!(
                            "Password for the cosign key {}: ",
                            path.display()
                        ))
                        .context("reading the password")?,
                    )
                }
                Err(_) => bail!(
                    "{}: a cosign key needs its password: set COSIGN_PASSWORD or pass --passphrase-env VAR",
                    path.display()
                ),
            },
        };
        let der = zeroize::Zeroizing::new(
            cairn_attest::cosign::decrypt(&bytes, password.as_bytes())
                .with_context(|| path.display().to_string())?,
        );
        PrivateKey::from_pkcs8_der(&der).with_context(|| path.display().to_string())?
    } else {
        Passphrase::new(passphrase_env)
            .read_key(path)?
            .with_context(|| format!("reading the key {}", path.display()))?
    };
    match key.key_type() {
        KeyType::EcdsaP256 | KeyType::Ed25519 => Ok(key),
        other => bail!(
            "{}: a {} key; attestations are signed with ECDSA P-256 or ed25519",
            path.display(),
            other.name()
        ),
    }
}

fn read_public_key(path: &Path) -> Result<PublicKey> {
    let bytes = read_bounded(path, MAX_PUBLIC_KEY_BYTES)?;
    PublicKey::from_pem(&bytes).with_context(|| path.display().to_string())
}

fn registry_client(
    image: &Image,
    ro: &cairn_image::RegistryOptions,
) -> Result<cairn_registry::Client> {
    if image.kind != SourceKind::Registry {
        bail!(
            "{} is not an image in a registry: referrers live in registries",
            escape_control(&image.location)
        );
    }
    let r = Reference::parse(&image.location)?;
    Ok(cairn_image::registry_client(&r, ro)?)
}

/// The subject of a plain file: its name and sha256.
fn file_subject(path: &Path) -> Result<Subjected> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).with_context(|| format!("reading {}", path.display()))?;
    let hex = hex::encode(hasher.finalize());
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(Subjected {
        subject: Subject::sha256(&name, &hex),
        digest: format!("sha256:{hex}"),
    })
}

/// An SBOM document given with `--sbom`: its JSON and predicate type.
fn given_predicate(path: &Path) -> Result<(serde_json::Value, &'static str)> {
    let bytes = read_bounded(path, cairn_sbom::MAX_DOCUMENT_BYTES)?;
    let read = cairn_sbom::read(&bytes).with_context(|| format!("reading {}", path.display()))?;
    let predicate_type = match read.format {
        cairn_sbom::Detected::SpdxJson => SPDX_PREDICATE,
        cairn_sbom::Detected::CycloneDxJson => CYCLONEDX_PREDICATE,
        other => bail!(
            "{}: a {other:?} document; an attested SBOM is SPDX 2 JSON or CycloneDX JSON",
            path.display()
        ),
    };
    let value = serde_json::from_slice(&bytes).context("the document's JSON")?;
    Ok((value, predicate_type))
}

pub fn attest(args: AttestArgs, v: Verbosity) -> Result<ExitCode> {
    let key = read_private_key(&args.key, args.passphrase_env.clone())?;
    let public = PublicKey::from_pem(key.public_key_pem().as_bytes())?;
    // Refused before the scan, not after it.
    if args.push && cairn_image::SourceSpec::parse(&args.target)?.kind != Some(SourceKind::Registry)
    {
        bail!(
            "{} is not an image in a registry: referrers live in registries",
            escape_control(&args.target)
        );
    }
    let (subject, predicate, predicate_type, image, registry) = match &args.sbom {
        Some(doc) => {
            let (predicate, predicate_type) = given_predicate(doc)?;
            let as_path = Path::new(&args.target);
            if as_path.is_file() && !looks_like_image_archive(as_path) {
                (
                    file_subject(as_path)?,
                    predicate,
                    predicate_type,
                    None,
                    None,
                )
            } else {
                let (image, ro) = crate::scan::open(&args.target, &args.source)?;
                (
                    subject_of(&image)?,
                    predicate,
                    predicate_type,
                    Some(image),
                    Some(ro),
                )
            }
        }
        None => {
            let scanned = crate::scan::scan(&args.target, &args.source, args.files, v)?;
            let sbom = &scanned.scan.sbom;
            if !sbom.complete {
                crate::scan::report_incomplete(sbom, v);
                bail!("the scan is incomplete: an incomplete SBOM is not attested");
            }
            let document = cairn_sbom::render(sbom, args.predicate.format());
            let predicate: serde_json::Value =
                serde_json::from_str(&document).context("the SBOM writer's own JSON")?;
            (
                subject_of(&scanned.image)?,
                predicate,
                args.predicate.predicate_type(),
                Some(scanned.image),
                Some(scanned.registry),
            )
        }
    };
    let statement = Statement::new(vec![subject.subject.clone()], predicate_type, predicate);
    let bundle = Bundle::sign(&statement, &key, &public)?;
    let bytes = bundle.to_json();
    if let Some(out) = &args.output {
        crate::output::write(out, &bytes)?;
    } else if !args.push {
        use std::io::Write;
        std::io::stdout().write_all(&bytes)?;
    }
    if args.push {
        let (Some(image), Some(registry)) = (&image, &registry) else {
            bail!("--push needs an image in a registry, not a file");
        };
        let client = registry_client(image, registry)?;
        let (digest, via) = push_referrer(&client, &subject.digest, &bytes, &statement)?;
        if !v.quiet {
            let how = match via {
                ReferrersVia::Api => "the registry's referrers API",
                ReferrersVia::TagSchema => "the referrers tag schema",
            };
            eprintln!(
                "cairn: attached {digest} to {}@{} (via {how})",
                escape_control(&image.location),
                subject.digest
            );
        }
    }
    if !v.quiet {
        eprintln!(
            "cairn: attested {} ({}) with key {}",
            escape_control(&statement.describe_subjects()),
            statement.predicate_type,
            public.fingerprint()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Whether a file is an image archive cairn opens (a tar with `manifest.json` or
/// `index.json`), as opposed to any other file attested by its bytes.
fn looks_like_image_archive(path: &Path) -> bool {
    cairn_image::SourceSpec::parse(&path.display().to_string())
        .ok()
        .and_then(|spec| cairn_image::open_with(&spec, &cairn_image::OpenOptions::default()).ok())
        .is_some()
}

/// Pushes `bundle` as a referrer of `subject`, as cosign's new bundle format does: an
/// OCI image manifest with the bundle's artifact type, the empty config, the bundle as
/// its one layer and cosign's annotations.
fn push_referrer(
    client: &cairn_registry::Client,
    subject: &str,
    bundle: &[u8],
    statement: &Statement,
) -> Result<(String, ReferrersVia)> {
    let subject_manifest = client
        .manifest(subject, cairn_image::declared::MAX_REFERRER_MANIFEST)
        .with_context(|| format!("reading the subject manifest {subject}"))?;
    let subject_desc = Descriptor {
        media_type: subject_manifest
            .media_type
            .clone()
            .unwrap_or_else(|| MANIFEST_MEDIA_TYPE.to_string()),
        digest: subject.to_string(),
        size: subject_manifest.bytes.len() as u64,
        artifact_type: None,
        annotations: BTreeMap::new(),
    };
    client
        .push_blob(EMPTY_CONFIG)
        .context("pushing the empty config")?;
    client.push_blob(bundle).context("pushing the bundle")?;
    let mut config = Descriptor::of(EMPTY_MEDIA_TYPE, EMPTY_CONFIG);
    config.annotations.clear();
    let layer = Descriptor::of(BUNDLE_ARTIFACT_TYPE, bundle);
    let annotations = BTreeMap::from([
        (
            "dev.sigstore.bundle.content".to_string(),
            "dsse-envelope".to_string(),
        ),
        (
            "dev.sigstore.bundle.predicateType".to_string(),
            statement.predicate_type.clone(),
        ),
        (
            "org.opencontainers.image.created".to_string(),
            cairn_tuf::time::format_utc(cairn_tuf::time::now_unix()),
        ),
    ]);
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_MEDIA_TYPE,
        "artifactType": BUNDLE_ARTIFACT_TYPE,
        "config": config,
        "layers": [layer],
        "subject": subject_desc,
        "annotations": annotations,
    });
    let bytes = serde_json::to_vec(&manifest).expect("a manifest serializes");
    let mut desc = Descriptor::of(MANIFEST_MEDIA_TYPE, &bytes);
    desc.artifact_type = Some(BUNDLE_ARTIFACT_TYPE.to_string());
    desc.annotations = annotations;
    let via = client
        .attach(subject, &bytes, &desc)
        .context("attaching the bundle")?;
    Ok((desc.digest, via))
}

/// A bundle to verify, with where it came from (for messages).
struct Found {
    from: String,
    /// The bundle or envelope, or why the bytes are neither.
    signed: std::result::Result<Signed, String>,
}

impl Found {
    fn new(from: String, bytes: &[u8]) -> Found {
        let signed = Signed::from_json(bytes)
            .map_err(|e| format!("not a Sigstore bundle or DSSE envelope: {e}"));
        Found { from, signed }
    }
}

fn read_bounded(path: &Path, max: usize) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(max as u64 + 1).read_to_end(&mut bytes))
        .with_context(|| format!("reading {}", path.display()))?;
    if bytes.len() > max {
        bail!("{} is over the {max}-byte limit", path.display());
    }
    Ok(bytes)
}

/// The bundles attached to `digest` in its registry.
fn referrer_bundles(client: &cairn_registry::Client, digest: &str) -> Result<Vec<Found>> {
    let list = client.referrers(digest)?;
    let mut out = Vec::new();
    for d in list
        .descriptors
        .iter()
        .filter(|d| d.artifact_type.as_deref() == Some(BUNDLE_ARTIFACT_TYPE))
        .take(MAX_BUNDLES_TRIED)
    {
        let Some(bytes) =
            cairn_image::declared::referrer_document(client, &d.digest, MAX_BUNDLE_BYTES as u64)
                .map_err(|e| anyhow::anyhow!("referrer {}: {e}", d.digest))?
        else {
            continue;
        };
        out.push(Found::new(format!("referrer {}", d.digest), &bytes));
    }
    Ok(out)
}

/// Where verification keys come from.
enum Keys {
    Given(PublicKey),
    Tuf(Box<crate::publish::TufClient>),
}

impl Keys {
    /// The keys that may have signed a bundle with `hint`, or why there are none.
    fn for_hint(&mut self, hint: Option<&str>) -> Result<std::result::Result<PublicKey, String>> {
        match self {
            Keys::Given(k) => Ok(Ok(k.clone())),
            Keys::Tuf(tuf) => {
                let Some(hint) =
                    hint.filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
                else {
                    return Ok(Err(format!(
                        "the bundle's key hint {:?} is not a key fingerprint cairn publishes through TUF (pass --key)",
                        hint.unwrap_or("")
                    )));
                };
                let hint = hint.to_ascii_lowercase();
                let target = format!("{KEY_TARGET_PREFIX}{hint}.pub");
                let Some((bytes, _)) = tuf.fetch(&target, MAX_PUBLIC_KEY_BYTES as u64)? else {
                    return Ok(Err(format!(
                        "key {hint} is not published through TUF (no target {target}): revoked, or never published"
                    )));
                };
                let key = PublicKey::from_pem(&bytes)
                    .with_context(|| format!("the TUF target {target}"))?;
                if key.fingerprint() != hint {
                    return Ok(Err(format!(
                        "the TUF target {target} holds key {}, not the key its name says",
                        key.fingerprint()
                    )));
                }
                Ok(Ok(key))
            }
        }
    }
}

pub fn verify_attestation(args: VerifyAttestationArgs, v: Verbosity) -> Result<ExitCode> {
    let mut keys = match (&args.key, &args.root, &args.metadata_url) {
        (Some(k), _, _) => Keys::Given(read_public_key(k)?),
        (None, Some(root), Some(url)) => Keys::Tuf(Box::new(
            TufClientArgs {
                root: root.clone(),
                metadata_url: url.clone(),
                targets_url: args.targets_url.clone(),
                metadata_dir: args.metadata_dir.clone(),
                tuf_ca_file: args.tuf_ca_file.clone(),
                allow_http: args.allow_http,
            }
            .connect()?,
        )),
        _ => {
            return Err(crate::scan::UsageError(
                "give the verification key: --key PUBKEY, or --root ROOT --metadata-url URL to fetch it through TUF".into(),
            )
            .into())
        }
    };
    // A bundle file alone: its signature and key are checked, its subject printed.
    let as_path = Path::new(&args.target);
    if args.bundle.is_empty() && as_path.is_file() {
        let found = Found::new(
            as_path.display().to_string(),
            &read_bounded(as_path, MAX_BUNDLE_BYTES)?,
        );
        if found.signed.is_ok() {
            if args.rescan {
                bail!("--rescan needs the image: give it as TARGET and the bundle with --bundle");
            }
            return match check(&found, &mut keys, &[])? {
                Ok(a) => {
                    println!(
                        "VERIFIED: {} signed by key {}; subject {} (not compared with an image: give the image with --bundle to check it)",
                        escape_control(&found.from),
                        a.key,
                        escape_control(&a.statement.describe_subjects())
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(why) => {
                    println!("REFUSED: {}: {why}", escape_control(&found.from));
                    Ok(ExitCode::from(1))
                }
            };
        }
    }
    // Any other file is attested by its bytes; an image by its manifest digest.
    let (subject, image) = if as_path.is_file() && !looks_like_image_archive(as_path) {
        if args.rescan {
            bail!(
                "--rescan needs an image; {} is a plain file",
                as_path.display()
            );
        }
        (file_subject(as_path)?, None)
    } else {
        let (image, ro) = crate::scan::open(&args.target, &args.source)?;
        (subject_of(&image)?, Some((image, ro)))
    };
    // An attestation may be about the platform manifest or about the index it was
    // chosen from (what a tag names for a multi-platform image).
    let mut accepted = vec![subject.digest.clone()];
    if let Some(index) = image.as_ref().and_then(|(i, _)| i.index_digest.clone()) {
        accepted.push(index);
    }
    let found: Vec<Found> = if args.bundle.is_empty() {
        let Some((image, ro)) = &image else {
            bail!("the attestations of a file are given with --bundle FILE");
        };
        let client = registry_client(image, ro)
            .context("the attestations of a local image are given with --bundle FILE")?;
        let mut found = Vec::new();
        for digest in &accepted {
            found.extend(referrer_bundles(&client, digest)?);
        }
        found
    } else {
        args.bundle
            .iter()
            .map(|p| {
                Ok(Found::new(
                    p.display().to_string(),
                    &read_bounded(p, MAX_BUNDLE_BYTES)?,
                ))
            })
            .collect::<Result<_>>()?
    };
    if found.is_empty() {
        println!(
            "REFUSED: {} ({}) has no attestation (no Sigstore bundle among its referrers)",
            escape_control(&args.target),
            subject.digest
        );
        return Ok(ExitCode::from(1));
    }
    let mut verified = None;
    for f in &found {
        match check(f, &mut keys, &accepted)? {
            Ok(a) => {
                let about = accepted
                    .iter()
                    .find(|d| {
                        let (alg, hex) = d.split_once(':').unwrap_or(("sha256", d));
                        a.statement.has_subject(alg, hex)
                    })
                    .unwrap_or(&subject.digest);
                println!(
                    "VERIFIED: {} signed by key {}, subject {about} ({})",
                    escape_control(&f.from),
                    a.key,
                    a.statement.predicate_type
                );
                if a.unchecked_tlog_entries > 0 {
                    println!(
                        "  note: its {} transparency-log entries were not checked (cairn checks the key's signature only)",
                        a.unchecked_tlog_entries
                    );
                }
                if verified.is_none() {
                    verified = Some(a);
                }
            }
            Err(why) => println!("REFUSED: {}: {why}", escape_control(&f.from)),
        }
    }
    let Some(attestation) = verified else {
        return Ok(ExitCode::from(1));
    };
    if !args.rescan {
        return Ok(ExitCode::SUCCESS);
    }
    let predicate = serde_json::to_vec(&attestation.statement.predicate)?;
    let attested = cairn_sbom::read(&predicate)
        .context("reading the attested SBOM")?
        .sbom;
    let scanned = crate::scan::scan(&args.target, &args.source, false, v)?;
    Ok(crate::publish::compare_with_rescan(
        &attested,
        &scanned.scan.sbom,
        &args.target,
        "attested",
        v,
    ))
}

/// Verifies one bundle: a key for its hint, the signature, an SBOM predicate, and
/// (when given) the subject. `Ok(Err(why))` is a refusal; `Err` a failure to check
/// (the TUF repository refused, the network).
fn check(
    found: &Found,
    keys: &mut Keys,
    subjects: &[String],
) -> Result<std::result::Result<cairn_attest::Attestation, String>> {
    let signed = match &found.signed {
        Ok(s) => s,
        Err(why) => return Ok(Err(why.clone())),
    };
    let key = match keys.for_hint(signed.hint())? {
        Ok(k) => k,
        Err(why) => return Ok(Err(why)),
    };
    let a = match signed.verify(std::slice::from_ref(&key)) {
        Ok(a) => a,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let pt = a.statement.predicate_type.as_str();
    if pt != SPDX_PREDICATE && pt != CYCLONEDX_PREDICATE {
        return Ok(Err(format!(
            "the predicate type {pt:?} is not an SBOM ({SPDX_PREDICATE} or {CYCLONEDX_PREDICATE})"
        )));
    }
    let about = |digest: &String| {
        let (alg, hex) = digest.split_once(':').unwrap_or(("sha256", digest));
        a.statement.has_subject(alg, hex)
    };
    if !subjects.is_empty() && !subjects.iter().any(about) {
        return Ok(Err(format!(
            "wrong subject: the attestation is about {}, not {}",
            a.statement.describe_subjects(),
            subjects.join(" or ")
        )));
    }
    Ok(Ok(a))
}

pub fn referrers(args: ReferrersArgs, _v: Verbosity) -> Result<ExitCode> {
    let (image, ro) = crate::scan::open(&args.image, &args.source)?;
    let client = registry_client(&image, &ro)?;
    let mut subjects: Vec<(&str, String)> = Vec::new();
    if let Some(d) = &image.manifest_digest {
        subjects.push(("manifest", d.clone()));
    }
    if let Some(d) = &image.index_digest {
        subjects.push(("index", d.clone()));
    }
    let mut json = Vec::new();
    for (what, digest) in &subjects {
        let list = client.referrers(digest)?;
        let via = match list.via {
            ReferrersVia::Api => "referrers API",
            ReferrersVia::TagSchema => "tag schema",
        };
        if args.json {
            json.push(serde_json::json!({
                "subject": digest,
                "via": via,
                "manifests": list.descriptors,
            }));
            continue;
        }
        println!(
            "{what} {digest}: {} referrer{} ({via})",
            list.descriptors.len(),
            if list.descriptors.len() == 1 { "" } else { "s" }
        );
        for d in &list.descriptors {
            let extra: Vec<String> = d
                .annotations
                .iter()
                .filter(|(k, _)| {
                    k.as_str() == "dev.sigstore.bundle.predicateType"
                        || k.as_str() == "org.opencontainers.image.created"
                })
                .map(|(_, v)| v.clone())
                .collect();
            println!(
                "  {}  {}  {} bytes  {}",
                d.digest,
                escape_control(d.artifact_type.as_deref().unwrap_or(&d.media_type)),
                d.size,
                escape_control(&extra.join("  "))
            );
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&json)?);
    }
    Ok(ExitCode::SUCCESS)
}

pub fn publish_key(args: PublishKeyArgs, v: Verbosity) -> Result<ExitCode> {
    let key = read_public_key(&args.key)?;
    let target = format!("{KEY_TARGET_PREFIX}{}.pub", key.fingerprint());
    let mut repo = open_repo(&args.repo)?;
    let keys = DirKeyring::open(&args.keys)?;
    crate::tuf::repo::load_expiry(&args.keys.dir, &args.commit.expires)?;
    if args.revoke {
        if repo.remove_target(&target)?.is_none() {
            bail!("{target} is not a target of this repository; nothing was written");
        }
    } else {
        let pem = key.to_pem();
        let mut t = NewTarget::from_bytes(pem.as_bytes());
        t.custom = Some(Box::new(serde_json::json!({
            "attestation_key": {
                "algorithm": match key.algorithm() {
                    cairn_attest::Algorithm::EcdsaP256 => "ecdsa-p256",
                    cairn_attest::Algorithm::Ed25519 => "ed25519",
                },
                "keyid": key.keyid(),
            }
        })));
        add_documents(
            &mut repo,
            &args.repo,
            &keys,
            args.role.as_deref(),
            args.commit.partial,
            "the public key",
            vec![(target.clone(), t, pem.into_bytes())],
        )?;
    }
    let done = crate::tuf::repo::commit(&mut repo, &keys, &args.commit)?;
    if !v.quiet {
        let verb = if args.revoke { "revoked" } else { "published" };
        println!("{verb} {target}");
        crate::tuf::repo::report(&done);
    }
    Ok(ExitCode::SUCCESS)
}

pub fn generate_key_pair(args: GenerateKeyArgs, v: Verbosity) -> Result<ExitCode> {
    let kt = match args.key_type.as_str() {
        "ed25519" => KeyType::Ed25519,
        _ => KeyType::EcdsaP256,
    };
    let key = PrivateKey::generate(kt).context("generating a key")?;
    let pass = match &args.passphrase_env {
        Some(var) => Some(zeroize::Zeroizing::new(std::env::var(var).map_err(
            |_| crate::scan::UsageError(format!("the passphrase variable {var} is not set")),
        )?)),
        None => None,
    };
    let pem = key
        .to_pem(pass.as_ref().map(|p| p.as_bytes()))
        .context("encoding the key")?;
    let prefix = args.output_key_prefix.display().to_string();
    let private = PathBuf::from(format!("{prefix}.key"));
    let public = PathBuf::from(format!("{prefix}.pub"));
    for p in [&private, &public] {
        if p.exists() {
            bail!("{} exists: not overwritten", p.display());
        }
    }
    cairn_tuf::keyfile::write_key_file(&private, &pem)?;
    crate::output::write(&public, key.public_key_pem().as_bytes())?;
    if !v.quiet {
        let fp = PublicKey::from_pem(key.public_key_pem().as_bytes())?.fingerprint();
        eprintln!(
            "cairn: wrote {} and {} (key {fp})",
            private.display(),
            public.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
