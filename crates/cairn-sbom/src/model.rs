//! The SBOM model. Field docs double as the documentation of cairn's JSON format, whose
//! JSON Schema (`docs/cairn-sbom.schema.json`) is generated from these types.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Version of cairn's own JSON format.
pub const FORMAT_VERSION: &str = "1";

/// A Software Bill of Materials for one scanned source.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Sbom {
    /// Always "1" for this version of the format.
    pub format_version: String,
    pub tool: Tool,
    /// Who made the SBOM with the tool, `Name` or `Name <email>` (`--creator`): the
    /// person or organization SPDX and CycloneDX name as its author.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator: Option<String>,
    /// RFC 3339 creation time (from SOURCE_DATE_EPOCH when set).
    pub created: String,
    pub source: Source,
    /// The operating system distribution, when one was identified.
    pub distro: Option<Distro>,
    /// Packages, sorted by name, version, then id.
    pub packages: Vec<Package>,
    /// Files, only when asked for (`--files`), sorted by path.
    pub files: Vec<File>,
    /// Relationships between packages and files, sorted.
    pub relationships: Vec<Relationship>,
    /// False when something could not be read and packages may be missing: see `warnings`
    /// (exactly when one of them is `incomplete`).
    pub complete: bool,
    /// Problems met while scanning, sorted.
    pub warnings: Vec<Warning>,
    /// Packages a package database listed in an earlier layer that are not in the final
    /// image (purged, or replaced under another name): not part of the bill of materials,
    /// kept so that `explain`, `layers` and `diff` can say where they went. Their evidence
    /// names the layer that removed them (`removed_in`). Only cairn's own JSON carries them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<Package>,
}

/// A problem met while scanning, with what it concerns, so that a consumer can tell which
/// file, layer, entry or package is affected.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord)]
pub struct Warning {
    pub kind: WarningKind,
    /// The file in the image it concerns (absolute), if one.
    pub path: Option<String>,
    /// The layer whose version of that file, or whose entries, it concerns.
    pub layer: Option<usize>,
    /// First and last line (1-based) of the entry it concerns.
    pub lines: Option<(usize, usize)>,
    /// The id of the package it concerns, if one.
    pub package: Option<String>,
    /// Whether packages, files or facts may be missing because of it; the SBOM is then
    /// marked incomplete.
    pub incomplete: bool,
    /// What happened, for people; it does not repeat the path, layer or lines.
    pub message: String,
}

#[derive(
    Clone, Copy, Debug, Serialize, Deserialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord,
)]
#[serde(rename_all = "kebab-case")]
pub enum WarningKind {
    /// A file or directory could not be read.
    Unreadable,
    /// A package database, or an entry in it, is damaged or not in its format.
    Malformed,
    /// A limit that protects against hostile input was reached; what is past it is left out.
    Limit,
    /// A path is over the kernel's limits (PATH_MAX, NAME_MAX) and was not used.
    InvalidPath,
    /// A link that points nowhere, or a symbolic link loop.
    Link,
    /// The same package record is listed more than once; it is reported once.
    Duplicate,
    /// Different records claim the same package identity; each is reported.
    Conflict,
}

impl Warning {
    pub fn new(kind: WarningKind, message: impl Into<String>) -> Warning {
        Warning {
            kind,
            path: None,
            layer: None,
            lines: None,
            package: None,
            incomplete: false,
            message: message.into(),
        }
    }

    /// The file (and the layer whose version of it) the warning concerns.
    pub fn at(mut self, path: impl Into<String>, layer: Option<usize>) -> Warning {
        self.path = Some(path.into());
        self.layer = layer;
        self
    }

    pub fn lines(mut self, lines: (usize, usize)) -> Warning {
        self.lines = Some(lines);
        self
    }

    pub fn package(mut self, id: impl Into<String>) -> Warning {
        self.package = Some(id.into());
        self
    }

    /// Packages or facts may be missing because of this.
    pub fn incomplete(mut self) -> Warning {
        self.incomplete = true;
        self
    }
}

/// `PATH (layer N) lines A-B: MESSAGE`, as much of it as is known.
impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut sep = "";
        if let Some(p) = &self.path {
            f.write_str(p)?;
            sep = " ";
        }
        if let Some(l) = self.layer {
            write!(f, "{sep}(layer {l})")?;
            sep = " ";
        }
        if let Some((a, b)) = self.lines {
            if a == b {
                write!(f, "{sep}line {a}")?;
            } else {
                write!(f, "{sep}lines {a}-{b}")?;
            }
            sep = " ";
        }
        if let Some(p) = &self.package {
            write!(f, "{sep}[{p}]")?;
            sep = " ";
        }
        if !sep.is_empty() {
            f.write_str(": ")?;
        }
        f.write_str(&self.message)
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

/// What was scanned.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Source {
    /// docker-archive, oci-dir, oci-archive, dir or registry.
    pub kind: String,
    /// Image name (first tag or OCI ref name) or the path scanned.
    pub name: String,
    pub path: String,
    pub tags: Vec<String>,
    /// Digest of the image manifest, when the source has one.
    pub manifest_digest: Option<String>,
    /// The image id: the digest of its config.
    pub image_id: Option<String>,
    /// os/arch[/variant].
    pub platform: Option<String>,
    pub layers: Vec<Layer>,
    /// For a registry image: the repository with its registry (`docker.io/library/nginx`).
    #[serde(default)]
    pub repository: Option<String>,
    /// The digest of the image index (manifest list) the manifest was chosen from.
    #[serde(default)]
    pub index_digest: Option<String>,
    /// The image's package URL, `pkg:oci/NAME@DIGEST?repository_url=…`, when it came from a
    /// registry (a local image has no repository to name).
    #[serde(default)]
    pub purl: Option<String>,
    /// The base image the image was built on, as far as the image tells.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<BaseImage>,
    /// Who supplies the image, `Name` or `Name <email>`: `--supplier`, else what the image
    /// states (the `org.opencontainers.image.vendor` or `.authors` annotation or label,
    /// the config's `author`, a `maintainer` label). The supplier of its layers too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplier: Option<String>,
    /// The image's license, as its `org.opencontainers.image.licenses` annotation or label
    /// states it (an SPDX expression).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
}

/// The image this one was built `FROM`: its first `layers` layers are the base's.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct BaseImage {
    /// Its name (`org.opencontainers.image.base.name`), when the image states it.
    pub name: Option<String>,
    /// Its manifest digest (`org.opencontainers.image.base.digest`), when stated.
    pub digest: Option<String>,
    /// How many of the image's layers, from the bottom, are the base image's.
    pub layers: usize,
    /// How that was decided: `base-image` (compared with the base image's own layers,
    /// `--base`), or `history` (the base image's last step, its `CMD` or `ENTRYPOINT`,
    /// found in the build history).
    pub from: String,
}

/// One layer of the image, base first.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Layer {
    pub index: usize,
    /// Digest of the stored (usually compressed) blob.
    pub digest: Option<String>,
    /// Digest of the uncompressed tar.
    pub diff_id: Option<String>,
    pub media_type: Option<String>,
    pub size: u64,
    /// The build step that made it (image history `created_by`).
    pub created_by: Option<String>,
    pub created: Option<String>,
    pub comment: Option<String>,
    /// The layer belongs to the base image the image was built on (see [`Source::base`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub base: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Distro {
    /// os-release ID, e.g. "debian".
    pub id: String,
    /// os-release VERSION_ID, e.g. "12".
    pub version_id: Option<String>,
    pub version_codename: Option<String>,
    pub pretty_name: Option<String>,
    pub id_like: Vec<String>,
    /// Who makes the distribution: os-release's VENDOR_NAME, else its NAME.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// os-release's VENDOR_URL, else its HOME_URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The file it was read from.
    pub evidence: Location,
}

/// Where a fact was found: a file in the image, the layer that wrote the version read, and
/// for database entries the line range of the entry.
#[derive(
    Clone, Debug, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord,
)]
pub struct Location {
    /// Absolute path in the image.
    pub path: String,
    /// Index of the layer whose version of the file was read.
    pub layer: usize,
    /// First and last line (1-based) of the entry, when it is part of a larger file.
    pub lines: Option<(usize, usize)>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Package {
    /// Stable identifier, unique in the document.
    pub id: String,
    pub name: String,
    pub version: String,
    pub arch: Option<String>,
    /// Package type in package URL terms: deb, rpm, apk, pypi, npm, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// The cataloger that found it, e.g. "dpkg".
    pub cataloger: String,
    pub purl: String,
    pub cpes: Vec<String>,
    /// Source package, for binary packages built from one.
    pub source_package: Option<SourceRef>,
    pub maintainer: Option<String>,
    /// Installed size in bytes, as the package database states it.
    pub installed_size: Option<u64>,
    pub licenses: Licenses,
    /// The copyright notices the package's own files state (a Debian package's
    /// machine-readable `copyright` file), one per line; `None` when none states any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copyright: Option<String>,
    /// Other facts from the package database (description, section, homepage, ...).
    pub metadata: BTreeMap<String, String>,
    pub evidence: Evidence,
    /// Files the package database says the package owns, sorted by path.
    pub files: Vec<OwnedFile>,
    /// The database lists more files than a limit allowed to read: `files` holds some only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub files_truncated: bool,
    /// How the package is known to be there.
    #[serde(default)]
    pub origin: Origin,
    /// A development dependency (a lock file's dev, optional-for-development or test
    /// group): not needed to run what was built.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dev: bool,
}

/// How a package is known to be in the image.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    /// Installed: a package database, or an installed package's own metadata
    /// (`*.dist-info`, `node_modules/*/package.json`).
    #[default]
    Installed,
    /// Declared by a lock file or manifest: what a build resolved, not proof that it is
    /// installed.
    Declared,
    /// Compiled into an executable, as its embedded build information says (Go build info,
    /// cargo-auditable).
    Binary,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct SourceRef {
    pub name: String,
    pub version: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Licenses {
    /// The license the package's authors declared, as an SPDX expression; `None` when
    /// nothing declares it (rendered NOASSERTION).
    pub declared: Option<String>,
    /// Each license statement found, where, and what it maps to.
    pub evidence: Vec<LicenseEvidence>,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct LicenseEvidence {
    /// The license as written in the file (e.g. "GPL-2+").
    pub value: String,
    /// Its SPDX expression (e.g. "GPL-2.0-or-later"), `LicenseRef-…` for licenses SPDX does
    /// not list.
    pub spdx: String,
    pub location: Location,
    /// For `LicenseRef-…`: the license text found in the file, if any.
    pub text: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Evidence {
    /// Where the package was found, the package database entry first, then supporting files
    /// (e.g. the list of its files). In the order the cataloger found them.
    pub locations: Vec<Location>,
    /// The layer in which the package, in its current version line, first appeared.
    pub introduced_in: Option<usize>,
    /// What later layers did to the package: upgrades, and changes to its files.
    pub changes: Vec<PackageChange>,
    /// For a package not in the final image: the layer whose package database no longer
    /// lists it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed_in: Option<usize>,
    /// Records of other catalogers that describe this same package and were folded into it
    /// rather than reported twice (a Python distribution whose files a Debian package
    /// owns), each with why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged: Vec<MergedRecord>,
}

/// A package record folded into another one (see [`Evidence::merged`]).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct MergedRecord {
    pub name: String,
    pub version: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub purl: String,
    pub cataloger: String,
    /// Where that cataloger found it.
    pub locations: Vec<Location>,
    /// Why it is not a package of its own.
    pub reason: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct PackageChange {
    pub layer: usize,
    pub kind: PackageChangeKind,
    /// Version before and after, for version changes.
    pub from_version: Option<String>,
    pub to_version: Option<String>,
    /// Owned files the layer modified or removed, for file changes.
    pub paths: Vec<String>,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum PackageChangeKind {
    /// The package database shows a different version from this layer on.
    VersionChanged,
    /// The package was removed and installed again.
    Reinstalled,
    /// The package database no longer lists the package from this layer on (it may be
    /// installed again later).
    Removed,
    /// Files the package owns were overwritten by this layer without a version change.
    FilesModified,
    /// Files the package owns were deleted by this layer.
    FilesRemoved,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct OwnedFile {
    pub path: String,
    /// Digest the package database records for the file.
    pub digest: Option<FileDigest>,
    /// The layer whose version of the file is visible; `None` if no layer has it now.
    pub layer: Option<usize>,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct FileDigest {
    /// md5, sha1, sha256, ...
    pub algorithm: String,
    pub value: String,
}

/// A file in the image (`--files`).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct File {
    pub id: String,
    pub path: String,
    pub size: u64,
    /// The layer whose version is visible.
    pub layer: usize,
    pub sha1: String,
    pub sha256: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord)]
pub struct Relationship {
    pub from: String,
    pub kind: RelationshipKind,
    pub to: String,
}

#[derive(
    Clone, Copy, Debug, Serialize, Deserialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord,
)]
#[serde(rename_all = "kebab-case")]
pub enum RelationshipKind {
    /// A package contains a file.
    Contains,
    /// A package depends on another (resolved to an installed package).
    DependsOn,
}

impl Sbom {
    /// Sort everything that reaches an output, so that output is deterministic.
    pub fn normalize(&mut self) {
        self.packages.sort_by(|a, b| {
            (a.name.as_str(), a.version.as_str(), a.id.as_str()).cmp(&(
                b.name.as_str(),
                b.version.as_str(),
                b.id.as_str(),
            ))
        });
        for p in &mut self.packages {
            p.files.sort_by(|a, b| a.path.cmp(&b.path));
        }
        self.files.sort_by(|a, b| a.path.cmp(&b.path));
        self.relationships.sort();
        self.relationships.dedup();
        self.warnings.sort();
        self.warnings.dedup();
        self.removed.sort_by(|a, b| {
            (a.name.as_str(), a.version.as_str(), a.id.as_str()).cmp(&(
                b.name.as_str(),
                b.version.as_str(),
                b.id.as_str(),
            ))
        });
        self.complete = !self.warnings.iter().any(|w| w.incomplete);
    }

    pub fn package(&self, id: &str) -> Option<&Package> {
        self.packages.iter().find(|p| p.id == id)
    }
}

impl Package {
    /// The layer that installed the version reported: the last layer that changed its
    /// version or installed it again, else the one that introduced it.
    pub fn installed_in(&self) -> Option<usize> {
        self.evidence
            .changes
            .iter()
            .rev()
            .find(|c| {
                matches!(
                    c.kind,
                    PackageChangeKind::VersionChanged | PackageChangeKind::Reinstalled
                )
            })
            .map(|c| c.layer)
            .or(self.evidence.introduced_in)
    }
}
