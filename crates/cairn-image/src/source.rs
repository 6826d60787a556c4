//! Opening an image: deciding what kind of source a path is, reading its manifests and
//! config, choosing a platform, and describing its layers in order.

use crate::blob::{BlobRef, TarIndex};
use crate::error::{Error, Result};
use crate::manifest::{
    self, Descriptor, DockerManifestEntry, History, ImageConfig, ManifestOrIndex,
};
use crate::Limits;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Manifests, indexes and configs are small; anything bigger is refused.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceKind {
    /// `docker save` output (manifest.json, or the legacy `repositories` layout).
    DockerArchive,
    /// An OCI image layout directory (oci-layout, index.json, blobs/).
    OciDir,
    /// A tar archive of an OCI image layout.
    OciArchive,
    /// A plain root filesystem directory.
    Dir,
}

impl SourceKind {
    pub fn prefix(self) -> &'static str {
        match self {
            SourceKind::DockerArchive => "docker-archive",
            SourceKind::OciDir => "oci-dir",
            SourceKind::OciArchive => "oci-archive",
            SourceKind::Dir => "dir",
        }
    }
}

/// What the user asked to scan: a path, and the kind if a prefix forced it.
#[derive(Clone, Debug)]
pub struct SourceSpec {
    pub kind: Option<SourceKind>,
    pub path: PathBuf,
}

impl SourceSpec {
    /// Parse `[docker-archive:|oci-dir:|oci-archive:|dir:]PATH`, as Syft users write it.
    pub fn parse(s: &str) -> Result<SourceSpec> {
        if let Some((prefix, rest)) = s.split_once(':') {
            let kind = match prefix {
                "docker-archive" => Some(SourceKind::DockerArchive),
                "oci-dir" => Some(SourceKind::OciDir),
                "oci-archive" => Some(SourceKind::OciArchive),
                "dir" => Some(SourceKind::Dir),
                // A plain path that happens to contain a colon (`./a:b`) is still a path.
                p if Path::new(s).exists() || p.contains('/') || p.contains('.') => None,
                p => return Err(Error::UnknownPrefix(p.to_owned())),
            };
            if let Some(kind) = kind {
                return Ok(SourceSpec {
                    kind: Some(kind),
                    path: PathBuf::from(rest),
                });
            }
        }
        Ok(SourceSpec {
            kind: None,
            path: PathBuf::from(s),
        })
    }

    /// Decide the kind from the path itself when no prefix forced it.
    pub fn detect(&self) -> Result<SourceKind> {
        self.detect_indexed(&Limits::default()).map(|(k, _)| k)
    }

    /// The kind, and the member index of an archive when detecting needed to read it.
    fn detect_indexed(&self, limits: &Limits) -> Result<(SourceKind, Option<TarIndex>)> {
        if let Some(k) = self.kind {
            return Ok((k, None));
        }
        let p = &self.path;
        let meta = std::fs::metadata(p).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::NotFound(p.clone()),
            _ => Error::Io {
                path: p.clone(),
                source: e,
            },
        })?;
        if meta.is_dir() {
            if p.join("index.json").is_file() && p.join("oci-layout").is_file() {
                return Ok((SourceKind::OciDir, None));
            }
            return Ok((SourceKind::Dir, None));
        }
        let index = TarIndex::read(p, limits)?;
        if index.contains("manifest.json") || index.contains("repositories") {
            Ok((SourceKind::DockerArchive, Some(index)))
        } else if index.contains("index.json") {
            Ok((SourceKind::OciArchive, Some(index)))
        } else {
            Err(Error::UnknownKind {
                path: p.clone(),
                reason: "a tar archive with neither manifest.json, repositories nor index.json"
                    .into(),
            })
        }
    }
}

/// `os/arch[/variant]`, e.g. `linux/arm64/v8`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub arch: String,
    pub variant: Option<String>,
}

impl Default for Platform {
    fn default() -> Self {
        Platform {
            os: "linux".into(),
            arch: "amd64".into(),
            variant: None,
        }
    }
}

impl FromStr for Platform {
    type Err = Error;
    fn from_str(s: &str) -> Result<Platform> {
        let parts: Vec<&str> = s.split('/').collect();
        match parts.as_slice() {
            [os, arch] if !os.is_empty() && !arch.is_empty() => Ok(Platform {
                os: os.to_string(),
                arch: arch.to_string(),
                variant: None,
            }),
            [os, arch, v] if !os.is_empty() && !arch.is_empty() && !v.is_empty() => Ok(Platform {
                os: os.to_string(),
                arch: arch.to_string(),
                variant: Some(v.to_string()),
            }),
            _ => Err(Error::BadPlatform(s.to_owned())),
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.arch)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// One layer of an image, in order from the base (index 0).
#[derive(Clone, Debug)]
pub struct LayerInfo {
    pub index: usize,
    /// Digest of the blob as stored (compressed), when the image states it.
    pub digest: Option<String>,
    /// Digest of the uncompressed tar (the config's `rootfs.diff_ids`).
    pub diff_id: Option<String>,
    pub media_type: Option<String>,
    /// Size of the blob as stored.
    pub size: u64,
    /// The build step that made the layer (image history `created_by`).
    pub created_by: Option<String>,
    /// When the build step ran (image history `created`).
    pub created: Option<String>,
    pub comment: Option<String>,
    pub(crate) blob: Option<BlobRef>,
    pub(crate) verify: Verify,
}

impl LayerInfo {
    /// The most specific identifier known for the layer, for messages and ids.
    pub fn id(&self) -> String {
        self.digest
            .clone()
            .or_else(|| self.diff_id.clone())
            .unwrap_or_else(|| format!("layer-{}", self.index))
    }
}

/// How a layer blob is checked while it streams.
#[derive(Clone, Debug)]
pub(crate) enum Verify {
    /// sha256/sha512 of the stored bytes, and their length.
    Blob { digest: String, size: Option<u64> },
    /// sha256 of the decompressed tar.
    DiffId(String),
    /// Nothing to check against (legacy archives, root filesystem directories).
    None,
}

/// An opened image: what it is and its layers, ready to be scanned.
#[derive(Clone, Debug)]
pub struct Image {
    pub kind: SourceKind,
    pub path: PathBuf,
    /// A human name: the first repo tag, the OCI ref name, or the path.
    pub name: String,
    pub tags: Vec<String>,
    pub manifest_digest: Option<String>,
    /// The config digest, which is the image id.
    pub config_digest: Option<String>,
    pub platform: Option<Platform>,
    pub created: Option<String>,
    pub layers: Vec<LayerInfo>,
    /// Set for image formats that carry no digests at all (legacy docker-archive).
    pub unverified: bool,
}

/// Open the source, reading manifests and choosing the platform, without reading layers.
pub fn open(spec: &SourceSpec, platform: Option<&Platform>) -> Result<Image> {
    open_with(spec, platform, &Limits::default())
}

/// [`open`] under the given limits (JSON sizes, archive entries, layer count).
pub fn open_with(spec: &SourceSpec, platform: Option<&Platform>, limits: &Limits) -> Result<Image> {
    let (kind, index) = spec.detect_indexed(limits)?;
    let path = spec.path.clone();
    let index = || match index {
        Some(i) => Ok(i),
        None => TarIndex::read(&path, limits),
    };
    match kind {
        SourceKind::Dir => open_dir(&path, platform),
        SourceKind::DockerArchive => {
            let index = index()?;
            open_docker_archive(&path, &index, platform, limits)
        }
        SourceKind::OciArchive => {
            let index = index()?;
            let store = Store::Archive(&index);
            open_oci(kind, &path, &store, platform, limits)
        }
        SourceKind::OciDir => {
            let store = Store::Dir(&path);
            open_oci(kind, &path, &store, platform, limits)
        }
    }
}

fn open_dir(path: &Path, platform: Option<&Platform>) -> Result<Image> {
    if !path.is_dir() {
        return Err(Error::UnknownKind {
            path: path.to_owned(),
            reason: "dir: needs a directory".into(),
        });
    }
    Ok(Image {
        kind: SourceKind::Dir,
        path: path.to_owned(),
        name: path.display().to_string(),
        tags: vec![],
        manifest_digest: None,
        config_digest: None,
        platform: platform.cloned(),
        created: None,
        layers: vec![LayerInfo {
            index: 0,
            digest: None,
            diff_id: None,
            media_type: None,
            size: 0,
            created_by: None,
            created: None,
            comment: Some(format!("root filesystem directory {}", path.display())),
            blob: None,
            verify: Verify::None,
        }],
        unverified: true,
    })
}

/// Map history entries that made a layer (not `empty_layer`) onto layers, in order.
pub(crate) fn layer_history(history: &[History], n_layers: usize) -> Vec<Option<History>> {
    let mut out: Vec<Option<History>> = history
        .iter()
        .filter(|h| !h.empty_layer.unwrap_or(false))
        .cloned()
        .map(Some)
        .collect();
    // When history and layers disagree in count, align from the top of the image only if
    // the counts match; otherwise keep what can be matched from the base.
    out.resize(n_layers, None);
    out
}

fn sha256_hex_of(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)))
}

fn open_docker_archive(
    path: &Path,
    index: &TarIndex,
    platform: Option<&Platform>,
    limits: &Limits,
) -> Result<Image> {
    if index.contains("manifest.json") {
        let bytes = index.blob("manifest.json")?.read_small(limits.max_json)?;
        let entries: Vec<DockerManifestEntry> = manifest::parse("manifest.json", &bytes)?;
        let entry = entries.into_iter().next().ok_or_else(|| Error::Manifest {
            file: "manifest.json".into(),
            reason: "lists no image".into(),
        })?;
        let cfg_blob = index.blob(&entry.config)?;
        let cfg_bytes = cfg_blob.read_small(limits.max_json)?;
        let config: ImageConfig = manifest::parse(&entry.config, &cfg_bytes)?;
        let config_digest = sha256_hex_of(&cfg_bytes);
        // Docker 25+ names blobs by digest; check the config against its name too.
        if let Some(hex) = entry.config.strip_prefix("blobs/sha256/") {
            let want = format!("sha256:{hex}");
            if want != config_digest {
                return Err(Error::DigestMismatch {
                    what: entry.config.clone(),
                    expected: want,
                    actual: config_digest,
                });
            }
        }
        check_platform(&config, platform)?;
        let diff_ids = config
            .rootfs
            .as_ref()
            .map(|r| r.diff_ids.clone())
            .unwrap_or_default();
        if !diff_ids.is_empty() && diff_ids.len() != entry.layers.len() {
            return Err(Error::Manifest {
                file: entry.config.clone(),
                reason: format!(
                    "config lists {} diff_ids but manifest.json lists {} layers",
                    diff_ids.len(),
                    entry.layers.len()
                ),
            });
        }
        let history = layer_history(config.history.as_deref().unwrap_or(&[]), entry.layers.len());
        let mut layers = Vec::new();
        too_many_layers("manifest.json", entry.layers.len(), limits)?;
        for (i, name) in entry.layers.iter().enumerate() {
            let blob = index.blob(name)?;
            let diff_id = diff_ids.get(i).cloned();
            let (digest, verify) = match name.strip_prefix("blobs/sha256/") {
                Some(hex) => {
                    let d = format!("sha256:{hex}");
                    (
                        Some(d.clone()),
                        Verify::Blob {
                            digest: d,
                            size: None,
                        },
                    )
                }
                None => match &diff_id {
                    Some(d) => (None, Verify::DiffId(d.clone())),
                    None => (None, Verify::None),
                },
            };
            let h = history[i].clone().unwrap_or_default();
            layers.push(LayerInfo {
                index: i,
                digest,
                diff_id,
                media_type: None,
                size: blob.len,
                created_by: h.created_by,
                created: h.created,
                comment: h.comment,
                blob: Some(blob),
                verify,
            });
        }
        let tags = entry.repo_tags.unwrap_or_default();
        return Ok(Image {
            kind: SourceKind::DockerArchive,
            path: path.to_owned(),
            name: tags
                .first()
                .cloned()
                .unwrap_or_else(|| path.display().to_string()),
            tags,
            manifest_digest: None,
            config_digest: Some(config_digest),
            platform: Some(platform_of(&config)),
            created: config.created,
            unverified: layers.iter().any(|l| matches!(l.verify, Verify::None)),
            layers,
        });
    }
    open_legacy_docker_archive(path, index, limits)
}

/// `docker save` before Docker 1.10: `repositories` names the top layer id, and each layer
/// directory's `json` names its parent.
fn open_legacy_docker_archive(path: &Path, index: &TarIndex, limits: &Limits) -> Result<Image> {
    let bytes = index.blob("repositories")?.read_small(limits.max_json)?;
    let repos: std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>> =
        manifest::parse("repositories", &bytes)?;
    let (tag, top) = repos
        .iter()
        .flat_map(|(repo, tags)| {
            tags.iter()
                .map(move |(t, id)| (format!("{repo}:{t}"), id.clone()))
        })
        .next()
        .ok_or_else(|| Error::Manifest {
            file: "repositories".into(),
            reason: "names no image".into(),
        })?;
    let mut chain = Vec::new();
    let mut next = Some(top);
    while let Some(id) = next {
        if chain.iter().any(|(c, _): &(String, _)| *c == id) || chain.len() > 1000 {
            return Err(Error::Manifest {
                file: format!("{id}/json"),
                reason: "layer parent chain loops".into(),
            });
        }
        too_many_layers("repositories", chain.len() + 1, limits)?;
        let name = format!("{id}/json");
        let json: manifest::LegacyLayerJson =
            manifest::parse(&name, &index.blob(&name)?.read_small(limits.max_json)?)?;
        next = json.parent.clone();
        chain.push((id, json));
    }
    chain.reverse();
    let mut layers = Vec::new();
    for (i, (id, json)) in chain.into_iter().enumerate() {
        let blob = index.blob(&format!("{id}/layer.tar"))?;
        layers.push(LayerInfo {
            index: i,
            digest: None,
            diff_id: None,
            media_type: None,
            size: blob.len,
            created_by: json
                .container_config
                .and_then(|c| c.cmd)
                .map(|c| c.join(" ")),
            created: None,
            comment: json.comment,
            blob: Some(blob),
            verify: Verify::None,
        });
    }
    Ok(Image {
        kind: SourceKind::DockerArchive,
        path: path.to_owned(),
        name: tag.clone(),
        tags: vec![tag],
        manifest_digest: None,
        config_digest: None,
        platform: None,
        created: None,
        layers,
        unverified: true,
    })
}

/// Where an OCI layout's blobs are: a directory, or an archive of one.
enum Store<'a> {
    Dir(&'a Path),
    Archive(&'a TarIndex),
}

impl Store<'_> {
    fn file(&self, name: &str) -> Result<BlobRef> {
        match self {
            Store::Dir(root) => BlobRef::file(name.to_owned(), root.join(name)),
            Store::Archive(index) => index.blob(name),
        }
    }

    fn blob(&self, digest: &str) -> Result<BlobRef> {
        let (alg, hex) = split_digest(digest)?;
        self.file(&format!("blobs/{alg}/{hex}"))
    }

    /// Read a small blob and check it against its descriptor.
    fn verified(&self, d: &Descriptor, limits: &Limits) -> Result<Vec<u8>> {
        let bytes = self.blob(&d.digest)?.read_small(limits.max_json)?;
        if bytes.len() as u64 != d.size {
            return Err(Error::SizeMismatch {
                what: d.digest.clone(),
                expected: d.size,
                actual: bytes.len() as u64,
            });
        }
        let actual = digest_of(&d.digest, &bytes)?;
        if actual != d.digest {
            return Err(Error::DigestMismatch {
                what: d.digest.clone(),
                expected: d.digest.clone(),
                actual,
            });
        }
        Ok(bytes)
    }
}

/// An image with more layers than [`Limits::max_layers`] is refused before any is read.
pub(crate) fn too_many_layers(manifest: &str, layers: usize, limits: &Limits) -> Result<()> {
    if layers > limits.max_layers {
        return Err(Error::OverLimit {
            what: format!("{manifest}: layers"),
            limit: limits.max_layers as u64,
        });
    }
    Ok(())
}

pub(crate) fn split_digest(digest: &str) -> Result<(&str, &str)> {
    let bad = || Error::Manifest {
        file: digest.to_owned(),
        reason: "not a valid digest (want sha256:<64 hex> or sha512:<128 hex>)".into(),
    };
    let (alg, hex) = digest.split_once(':').ok_or_else(bad)?;
    let len = match alg {
        "sha256" => 64,
        "sha512" => 128,
        _ => return Err(bad()),
    };
    if hex.len() != len
        || !hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(bad());
    }
    Ok((alg, hex))
}

fn digest_of(like: &str, bytes: &[u8]) -> Result<String> {
    use sha2::Digest;
    let (alg, _) = split_digest(like)?;
    Ok(match alg {
        "sha512" => format!("sha512:{}", hex::encode(sha2::Sha512::digest(bytes))),
        _ => sha256_hex_of(bytes),
    })
}

pub(crate) fn is_index(m: &ManifestOrIndex, d: Option<&Descriptor>) -> bool {
    let mt = m
        .media_type
        .as_deref()
        .or_else(|| d.and_then(|d| d.media_type.as_deref()))
        .unwrap_or("");
    mt.contains("index")
        || mt.contains("manifest.list")
        || (m.manifests.is_some() && m.layers.is_none())
}

fn open_oci(
    kind: SourceKind,
    path: &Path,
    store: &Store,
    platform: Option<&Platform>,
    limits: &Limits,
) -> Result<Image> {
    let index_bytes = store.file("index.json")?.read_small(limits.max_json)?;
    let top: ManifestOrIndex = manifest::parse("index.json", &index_bytes)?;
    let wanted = platform.cloned().unwrap_or_default();
    let mut current = top;
    let mut chosen: Option<Descriptor> = None;
    // Follow nested indexes down to an image manifest (bounded, so a cycle cannot hang us).
    for _depth in 0..8 {
        if !is_index(&current, chosen.as_ref()) {
            break;
        }
        let manifests = current.manifests.clone().unwrap_or_default();
        let d = select_manifest(&manifests, &wanted, platform.is_some())?;
        let bytes = store.verified(&d, limits)?;
        current = manifest::parse(&d.digest, &bytes)?;
        chosen = Some(d);
    }
    let chosen = chosen.ok_or_else(|| Error::Manifest {
        file: "index.json".into(),
        reason: "is not an image index".into(),
    })?;
    if is_index(&current, Some(&chosen)) {
        return Err(Error::Manifest {
            file: chosen.digest,
            reason: "indexes nested too deeply".into(),
        });
    }
    let cfg_desc = current.config.clone().ok_or_else(|| Error::Manifest {
        file: chosen.digest.clone(),
        reason: "image manifest has no config".into(),
    })?;
    let cfg_bytes = store.verified(&cfg_desc, limits)?;
    let config: ImageConfig = manifest::parse(&cfg_desc.digest, &cfg_bytes)?;
    if chosen.platform.is_none() {
        check_platform(&config, platform)?;
    }
    let descs = current.layers.clone().unwrap_or_default();
    too_many_layers(&chosen.digest, descs.len(), limits)?;
    let diff_ids = config
        .rootfs
        .as_ref()
        .map(|r| r.diff_ids.clone())
        .unwrap_or_default();
    if !diff_ids.is_empty() && diff_ids.len() != descs.len() {
        return Err(Error::Manifest {
            file: cfg_desc.digest.clone(),
            reason: format!(
                "config lists {} diff_ids but the manifest lists {} layers",
                diff_ids.len(),
                descs.len()
            ),
        });
    }
    let history = layer_history(config.history.as_deref().unwrap_or(&[]), descs.len());
    let mut layers = Vec::new();
    for (i, d) in descs.iter().enumerate() {
        let blob = store.blob(&d.digest)?;
        let h = history[i].clone().unwrap_or_default();
        layers.push(LayerInfo {
            index: i,
            digest: Some(d.digest.clone()),
            diff_id: diff_ids.get(i).cloned(),
            media_type: d.media_type.clone(),
            size: d.size,
            created_by: h.created_by,
            created: h.created,
            comment: h.comment,
            blob: Some(blob),
            verify: Verify::Blob {
                digest: d.digest.clone(),
                size: Some(d.size),
            },
        });
    }
    let ref_name = chosen
        .annotations
        .as_ref()
        .and_then(|a| a.get("org.opencontainers.image.ref.name").cloned());
    let name = ref_name
        .clone()
        .unwrap_or_else(|| path.display().to_string());
    Ok(Image {
        kind,
        path: path.to_owned(),
        name,
        tags: ref_name.into_iter().collect(),
        manifest_digest: Some(chosen.digest),
        config_digest: Some(cfg_desc.digest),
        platform: Some(platform_of(&config)),
        created: config.created,
        layers,
        unverified: false,
    })
}

pub(crate) fn platform_of(config: &ImageConfig) -> Platform {
    Platform {
        os: config.os.clone().unwrap_or_else(|| "linux".into()),
        arch: config
            .architecture
            .clone()
            .unwrap_or_else(|| "unknown".into()),
        variant: config.variant.clone(),
    }
}

/// A single-image source only fails the platform check when the user asked for a platform.
pub(crate) fn check_platform(config: &ImageConfig, platform: Option<&Platform>) -> Result<()> {
    let Some(wanted) = platform else {
        return Ok(());
    };
    let have = platform_of(config);
    if have.os == wanted.os
        && have.arch == wanted.arch
        && (wanted.variant.is_none() || wanted.variant == have.variant)
    {
        Ok(())
    } else {
        Err(Error::NoPlatform {
            wanted: wanted.to_string(),
            available: have.to_string(),
        })
    }
}

/// Pick the manifest for `wanted` from an index. Attestation manifests (platform
/// unknown/unknown) are never picked. An index whose entries carry no platform at all and
/// has exactly one entry yields that entry.
pub(crate) fn select_manifest(
    manifests: &[Descriptor],
    wanted: &Platform,
    explicit: bool,
) -> Result<Descriptor> {
    let with_platform: Vec<&Descriptor> = manifests
        .iter()
        .filter(|d| d.platform.as_ref().is_some_and(|p| p.os != "unknown"))
        .collect();
    if with_platform.is_empty() {
        return match manifests {
            [only] if !explicit || only.platform.is_none() => Ok(only.clone()),
            [] => Err(Error::Manifest {
                file: "index".into(),
                reason: "lists no manifests".into(),
            }),
            [first, ..] if !explicit => Ok(first.clone()),
            _ => Err(Error::NoPlatform {
                wanted: wanted.to_string(),
                available: "no platform information".into(),
            }),
        };
    }
    let matches = |d: &&&Descriptor| {
        let p = d.platform.as_ref().expect("filtered above");
        p.os == wanted.os
            && p.architecture == wanted.arch
            && (wanted.variant.is_none() || p.variant == wanted.variant)
    };
    if let Some(d) = with_platform.iter().find(matches) {
        return Ok((*d).clone());
    }
    let available = with_platform
        .iter()
        .map(|d| {
            let p = d.platform.as_ref().expect("filtered above");
            match &p.variant {
                Some(v) => format!("{}/{}/{}", p.os, p.architecture, v),
                None => format!("{}/{}", p.os, p.architecture),
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    Err(Error::NoPlatform {
        wanted: wanted.to_string(),
        available,
    })
}

impl Image {
    /// The absolute path of a root filesystem directory source.
    pub(crate) fn rootfs(&self) -> Option<&Path> {
        (self.kind == SourceKind::Dir).then_some(self.path.as_path())
    }
}
