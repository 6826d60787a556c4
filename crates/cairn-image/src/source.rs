//! Opening an image: deciding what kind of source a path is, reading its manifests and
//! config, choosing a platform, and describing its layers in order.

use crate::blob::TarIndex;
use crate::error::{Error, Result};
use crate::manifest::{
    self, Descriptor, DockerManifestEntry, History, ImageConfig, ManifestOrIndex,
};
use crate::store::{self, Archive, LayoutDir, RootDir, Store};
use crate::Limits;
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

/// What kind of source an image came from. The behaviour of each lives in its [`Store`];
/// the kind only labels the image (and says whether it is a directory scan).
#[non_exhaustive]
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
    /// An image in an OCI Distribution registry.
    Registry,
}

impl SourceKind {
    pub fn prefix(self) -> &'static str {
        match self {
            SourceKind::DockerArchive => "docker-archive",
            SourceKind::OciDir => "oci-dir",
            SourceKind::OciArchive => "oci-archive",
            SourceKind::Dir => "dir",
            SourceKind::Registry => "registry",
        }
    }

    const PREFIXED: [SourceKind; 5] = [
        SourceKind::DockerArchive,
        SourceKind::OciDir,
        SourceKind::OciArchive,
        SourceKind::Dir,
        SourceKind::Registry,
    ];
}

/// Sources other tools take that cairn does not read: named so that `docker:nginx` is an
/// error that says so rather than a Docker Hub lookup of an image called `docker`.
const FOREIGN_PREFIXES: [&str; 6] = [
    "docker",
    "podman",
    "containerd",
    "singularity",
    "file",
    "oci-registry",
];

/// What the user asked to scan: a local path or a registry reference, and the kind if a
/// prefix forced it.
#[derive(Clone, Debug)]
pub struct SourceSpec {
    pub kind: Option<SourceKind>,
    /// A path, or for [`SourceKind::Registry`] an image reference as the user wrote it.
    pub location: String,
}

impl SourceSpec {
    /// Parse `[docker-archive:|oci-dir:|oci-archive:|dir:|registry:]PATH-OR-REFERENCE`, as
    /// Syft users write it. Without a prefix, an existing path is that path; anything that
    /// looks like a path (starts with `/`, `.` or `~`, or names a tar archive) is a local
    /// path too, missing or not; anything else is an image in a registry (`nginx`,
    /// `ghcr.io/org/app:1`, `localhost:5000/app@sha256:…`).
    pub fn parse(s: &str) -> Result<SourceSpec> {
        if let Some((prefix, rest)) = s.split_once(':') {
            if let Some(kind) = SourceKind::PREFIXED
                .into_iter()
                .find(|k| k.prefix() == prefix)
            {
                return Ok(SourceSpec {
                    kind: Some(kind),
                    location: rest.to_owned(),
                });
            }
            if FOREIGN_PREFIXES.contains(&prefix) && !Path::new(s).exists() {
                return Err(Error::UnknownPrefix(prefix.to_owned()));
            }
        }
        let kind = (!Path::new(s).exists() && !looks_like_path(s)).then_some(SourceKind::Registry);
        Ok(SourceSpec {
            kind,
            location: s.to_owned(),
        })
    }

    /// The local path this spec names (meaningless for a registry reference).
    pub fn path(&self) -> &Path {
        Path::new(&self.location)
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
        let p = self.path();
        let meta = std::fs::metadata(p).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::NotFound(p.to_owned()),
            _ => Error::Io {
                path: p.to_owned(),
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
                path: p.to_owned(),
                reason: "a tar archive with neither manifest.json, repositories nor index.json"
                    .into(),
            })
        }
    }
}

/// Whether a string the user typed is meant as a local path rather than an image reference.
fn looks_like_path(s: &str) -> bool {
    const ARCHIVES: [&str; 6] = [
        ".tar",
        ".tar.gz",
        ".tgz",
        ".tar.zst",
        ".tar.zstd",
        ".tar.xz",
    ];
    s.starts_with(['/', '.', '~']) || s.contains('\\') || ARCHIVES.iter().any(|x| s.ends_with(x))
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
    /// The blob's name in the image's [`Store`] (a digest, or an archive member).
    pub(crate) blob: Option<String>,
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

/// One build step of the image (an entry of the config's `history`), empty steps (`ENV`,
/// `CMD`, …) included, with the layer it made.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Step {
    /// The command that ran (`created_by`).
    pub created_by: Option<String>,
    pub created: Option<String>,
    pub comment: Option<String>,
    /// The step changed no files (`empty_layer`).
    pub empty: bool,
    /// The layer it made, for a step that is not empty.
    pub layer: Option<usize>,
}

/// The build steps of a config's history, each non-empty one given the next layer. With no
/// history, one step per layer without a command.
pub(crate) fn steps_of(history: &[History], n_layers: usize) -> Vec<Step> {
    if history.is_empty() {
        return (0..n_layers)
            .map(|i| Step {
                layer: Some(i),
                ..Step::default()
            })
            .collect();
    }
    let mut next = 0;
    history
        .iter()
        .map(|h| {
            let empty = h.empty_layer.unwrap_or(false);
            let layer = (!empty && next < n_layers).then(|| {
                next += 1;
                next - 1
            });
            Step {
                created_by: h.created_by.clone(),
                created: h.created.clone(),
                comment: h.comment.clone(),
                empty,
                layer,
            }
        })
        .collect()
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
/// A manifest an index attaches to the image (its digest, size and media type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachedManifest {
    pub digest: String,
    pub size: u64,
    pub media_type: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Image {
    pub kind: SourceKind,
    /// What was opened: the path, or the registry reference in full
    /// (`docker.io/library/nginx:latest`).
    pub location: String,
    /// A human name: the first repo tag, the OCI ref name, the reference, or the path.
    pub name: String,
    pub tags: Vec<String>,
    /// For a registry image: its repository with the registry (`docker.io/library/nginx`).
    pub repository: Option<String>,
    pub manifest_digest: Option<String>,
    /// The digest of the image index (or manifest list) the manifest was chosen from.
    pub index_digest: Option<String>,
    /// The config digest, which is the image id.
    pub config_digest: Option<String>,
    pub platform: Option<Platform>,
    pub created: Option<String>,
    pub layers: Vec<LayerInfo>,
    /// Every build step, empty ones included (the config's `history`), in order.
    pub steps: Vec<Step>,
    /// The config's labels (`org.opencontainers.image.base.name`, …).
    pub labels: BTreeMap<String, String>,
    /// The config's `author`.
    pub author: Option<String>,
    /// The manifest's annotations (`org.opencontainers.image.base.digest`, …).
    pub annotations: BTreeMap<String, String>,
    /// Set for image formats that carry no digests at all (legacy docker-archive).
    pub unverified: bool,
    /// The attestation manifests the image index lists for this image (BuildKit's
    /// `vnd.docker.reference.type: attestation-manifest` entries whose
    /// `vnd.docker.reference.digest` is this manifest), read by [`crate::declared`].
    pub attestation_manifests: Vec<AttachedManifest>,
    /// Where the blobs are.
    pub(crate) store: Arc<dyn Store>,
}

/// How to open a source: the platform to pick, the limits, and for registry images how to
/// reach the registry.
#[derive(Clone, Debug, Default)]
pub struct OpenOptions {
    /// The platform to pick from an index; linux/amd64 when none is asked for.
    pub platform: Option<Platform>,
    pub limits: Limits,
    /// Connection, credentials and cache for registry images.
    pub registry: crate::RegistryOptions,
}

/// Open the source, reading manifests and choosing the platform, without reading layers.
pub fn open(spec: &SourceSpec, platform: Option<&Platform>) -> Result<Image> {
    open_with(
        spec,
        &OpenOptions {
            platform: platform.cloned(),
            ..Default::default()
        },
    )
}

/// [`open`] with every option: limits (JSON sizes, archive entries, layer count) and the
/// registry's connection.
pub fn open_with(spec: &SourceSpec, options: &OpenOptions) -> Result<Image> {
    let limits = &options.limits;
    let platform = options.platform.as_ref();
    let (kind, index) = spec.detect_indexed(limits)?;
    let path = spec.path().to_owned();
    let index = || match index {
        Some(i) => Ok(i),
        None => TarIndex::read(&path, limits),
    };
    match kind {
        SourceKind::Registry => crate::registry::open(&spec.location, options),
        SourceKind::Dir => open_dir(&path, platform),
        SourceKind::DockerArchive => {
            let store = Archive {
                index: index()?,
                by_digest: false,
            };
            open_docker_archive(&path, store, platform, limits)
        }
        SourceKind::OciArchive => {
            let store = Archive {
                index: index()?,
                by_digest: true,
            };
            let top = store
                .index
                .blob("index.json")?
                .read_small(limits.max_json)?;
            let mut image = resolve(Arc::new(store), Top::layout(top), platform, limits)?;
            image.set_location(kind, &path);
            Ok(image)
        }
        SourceKind::OciDir => {
            let store = LayoutDir { root: path.clone() };
            let top = store.file("index.json")?.read_small(limits.max_json)?;
            let mut image = resolve(Arc::new(store), Top::layout(top), platform, limits)?;
            image.set_location(kind, &path);
            Ok(image)
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
        location: path.display().to_string(),
        name: path.display().to_string(),
        tags: vec![],
        repository: None,
        manifest_digest: None,
        index_digest: None,
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
        steps: steps_of(&[], 1),
        labels: BTreeMap::new(),
        author: None,
        annotations: BTreeMap::new(),
        unverified: true,
        attestation_manifests: Vec::new(),
        store: Arc::new(RootDir {
            root: path.to_owned(),
        }),
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

fn open_docker_archive(
    path: &Path,
    store: Archive,
    platform: Option<&Platform>,
    limits: &Limits,
) -> Result<Image> {
    if !store.index.contains("manifest.json") {
        return open_legacy_docker_archive(path, store, limits);
    }
    let bytes = store.read_small("manifest.json", limits.max_json)?;
    let entries: Vec<DockerManifestEntry> = manifest::parse("manifest.json", &bytes)?;
    let entry = entries.into_iter().next().ok_or_else(|| Error::Manifest {
        file: "manifest.json".into(),
        reason: "lists no image".into(),
    })?;
    let cfg_bytes = store.read_small(&entry.config, limits.max_json)?;
    let config: ImageConfig = manifest::parse(&entry.config, &cfg_bytes)?;
    let config_digest = store::sha256_of(&cfg_bytes);
    // Docker 25+ names blobs by digest; check the config against its name too.
    if let Some(hex) = entry.config.strip_prefix("blobs/sha256/") {
        store::check_digest(&entry.config, &format!("sha256:{hex}"), &cfg_bytes)?;
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
        let size = store.member(name)?.len;
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
            size,
            created_by: h.created_by,
            created: h.created,
            comment: h.comment,
            blob: Some(name.clone()),
            verify,
        });
    }
    let tags = entry.repo_tags.unwrap_or_default();
    Ok(Image {
        kind: SourceKind::DockerArchive,
        location: path.display().to_string(),
        name: tags
            .first()
            .cloned()
            .unwrap_or_else(|| path.display().to_string()),
        tags,
        repository: None,
        manifest_digest: None,
        index_digest: None,
        config_digest: Some(config_digest),
        platform: Some(platform_of(&config)),
        created: config.created.clone(),
        unverified: layers.iter().any(|l| matches!(l.verify, Verify::None)),
        attestation_manifests: Vec::new(),
        steps: steps_of(config.history.as_deref().unwrap_or(&[]), layers.len()),
        labels: labels_of(&config),
        author: config.author.clone(),
        annotations: BTreeMap::new(),
        layers,
        store: Arc::new(store),
    })
}

/// `docker save` before Docker 1.10: `repositories` names the top layer id, and each layer
/// directory's `json` names its parent.
fn open_legacy_docker_archive(path: &Path, store: Archive, limits: &Limits) -> Result<Image> {
    let bytes = store.read_small("repositories", limits.max_json)?;
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
            manifest::parse(&name, &store.read_small(&name, limits.max_json)?)?;
        next = json.parent.clone();
        chain.push((id, json));
    }
    chain.reverse();
    let mut layers = Vec::new();
    for (i, (id, json)) in chain.into_iter().enumerate() {
        let name = format!("{id}/layer.tar");
        let size = store.member(&name)?.len;
        layers.push(LayerInfo {
            index: i,
            digest: None,
            diff_id: None,
            media_type: None,
            size,
            created_by: json
                .container_config
                .and_then(|c| c.cmd)
                .map(|c| c.join(" ")),
            created: None,
            comment: json.comment,
            blob: Some(name),
            verify: Verify::None,
        });
    }
    Ok(Image {
        kind: SourceKind::DockerArchive,
        location: path.display().to_string(),
        name: tag.clone(),
        tags: vec![tag],
        repository: None,
        manifest_digest: None,
        index_digest: None,
        config_digest: None,
        platform: None,
        created: None,
        steps: layers
            .iter()
            .map(|l| Step {
                created_by: l.created_by.clone(),
                comment: l.comment.clone(),
                layer: Some(l.index),
                ..Step::default()
            })
            .collect(),
        layers,
        labels: BTreeMap::new(),
        author: None,
        annotations: BTreeMap::new(),
        unverified: true,
        attestation_manifests: Vec::new(),
        store: Arc::new(store),
    })
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

/// Where the walk down to an image manifest starts.
pub(crate) struct Top {
    /// Its name in messages (`index.json`, or the reference).
    pub name: String,
    pub bytes: Vec<u8>,
    /// Its descriptor when it is itself a blob (a registry's manifest by tag or digest);
    /// `None` for an OCI layout's `index.json`, which is not.
    pub desc: Option<Descriptor>,
}

impl Top {
    fn layout(bytes: Vec<u8>) -> Top {
        Top {
            name: "index.json".into(),
            bytes,
            desc: None,
        }
    }
}

/// From the top index or manifest down to an image, for every source that names blobs by
/// digest (OCI layouts and archives, registries): follow indexes, picking the platform,
/// read the manifest and config through the store with their digests checked, and describe
/// the layers. `kind` and `location` are the caller's to set.
pub(crate) fn resolve(
    store: Arc<dyn Store>,
    top: Top,
    platform: Option<&Platform>,
    limits: &Limits,
) -> Result<Image> {
    let wanted = platform.cloned().unwrap_or_default();
    let mut current: ManifestOrIndex = manifest::parse(&top.name, &top.bytes)?;
    let mut chosen: Option<Descriptor> = top.desc.clone();
    let mut index_digest = None;
    let mut attestations = Vec::new();
    // Follow nested indexes down to an image manifest (bounded, so a cycle cannot hang us).
    for _depth in 0..8 {
        if !is_index(&current, chosen.as_ref()) {
            break;
        }
        if let Some(d) = &chosen {
            index_digest = Some(d.digest.clone());
        }
        let manifests = current.manifests.clone().unwrap_or_default();
        let d = select_manifest(&manifests, &wanted, platform.is_some())?;
        attestations.extend(attestation_manifests_of(&manifests, &d.digest));
        let bytes = store::verified(store.as_ref(), &d, store::Doc::Manifest, limits)?;
        current = manifest::parse(&d.digest, &bytes)?;
        chosen = Some(d);
    }
    let chosen = chosen.ok_or_else(|| Error::Manifest {
        file: top.name.clone(),
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
    let cfg_bytes = store::verified(store.as_ref(), &cfg_desc, store::Doc::Blob, limits)?;
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
        split_digest(&d.digest)?;
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
            blob: Some(d.digest.clone()),
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
    Ok(Image {
        kind: SourceKind::OciDir,
        location: String::new(),
        name: ref_name.clone().unwrap_or_default(),
        tags: ref_name.into_iter().collect(),
        repository: None,
        manifest_digest: Some(chosen.digest),
        index_digest,
        config_digest: Some(cfg_desc.digest),
        platform: Some(platform_of(&config)),
        created: config.created.clone(),
        steps: steps_of(config.history.as_deref().unwrap_or(&[]), layers.len()),
        labels: labels_of(&config),
        author: config.author.clone(),
        annotations: current.annotations.clone().unwrap_or_default(),
        layers,
        unverified: false,
        attestation_manifests: attestations,
        store,
    })
}

impl Image {
    /// Name a local image by its path (unless the layout named it) and set its kind.
    fn set_location(&mut self, kind: SourceKind, path: &Path) {
        self.kind = kind;
        self.location = path.display().to_string();
        if self.name.is_empty() {
            self.name = self.location.clone();
        }
    }
}

fn labels_of(config: &ImageConfig) -> BTreeMap<String, String> {
    config
        .config
        .as_ref()
        .and_then(|c| c.labels.clone())
        .unwrap_or_default()
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

/// The attestation manifests BuildKit lists in an index for the manifest `digest`.
fn attestation_manifests_of(manifests: &[Descriptor], digest: &str) -> Vec<AttachedManifest> {
    manifests
        .iter()
        .filter(|m| {
            let a = m.annotations.as_ref();
            let get = |k: &str| a.and_then(|a| a.get(k)).map(String::as_str);
            get("vnd.docker.reference.type") == Some("attestation-manifest")
                && get("vnd.docker.reference.digest") == Some(digest)
        })
        .map(|m| AttachedManifest {
            digest: m.digest.clone(),
            size: m.size,
            media_type: m.media_type.clone(),
        })
        .collect()
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
    /// The directory of a root filesystem directory source.
    pub(crate) fn rootfs(&self) -> Option<&Path> {
        self.store.root_dir()
    }

    /// Where the image's blobs are.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }
}
