//! The installed package as an SBOM needs it, read from a verified [`Header`].
//!
//! Field semantics follow rpm's query tags (`%{NAME}`, `%{EPOCH}`, …): a tag that is absent or
//! holds rpm's "(none)" placeholder becomes `None`, never an empty string.

use std::borrow::Cow;

use crate::error::HeaderError;
use crate::header::Header;
use crate::tag;

/// One installed rpm package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpmPackage {
    pub name: String,
    /// `None` when the package has no epoch, which rpm treats as distinct from epoch 0 in
    /// `%{EPOCH}` output but as 0 in version comparison.
    pub epoch: Option<u32>,
    pub version: String,
    pub release: String,
    /// `None` for the `gpg-pubkey` pseudo-packages, which have no arch.
    pub arch: Option<String>,
    pub license: Option<String>,
    /// The source rpm's file name, e.g. `bash-5.2.15-3.fc38.src.rpm`.
    pub source_rpm: Option<String>,
    pub vendor: Option<String>,
    /// Installed size in bytes (`LONGSIZE` when present, else `SIZE`).
    pub size: Option<u64>,
    /// Module stream label (RHEL 8+ modular packages).
    pub modularity_label: Option<String>,
    /// Capability names this package requires (`rpmlib(...)` and file paths included).
    pub requires: Vec<String>,
    /// Capability names this package provides.
    pub provides: Vec<String>,
    /// The algorithm of every digest in `files`.
    pub digest_algorithm: DigestAlgorithm,
    pub files: Vec<RpmFile>,
    /// The header lists more files than the [`FileBudget`] allowed to materialise: `files`
    /// holds the first ones only.
    pub files_truncated: bool,
}

/// How much of the file lists (paths joined from dirnames and basenames) reading may
/// materialise. The join is where a small header becomes a large allocation (one long
/// dirname shared by many basenames), so the bound is on what is built, not on the input.
/// One budget is shared by every package read with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileBudget {
    /// Files still allowed.
    pub files: u64,
    /// Bytes of joined paths still allowed.
    pub path_bytes: u64,
}

impl FileBudget {
    /// What [`crate::read_database`] allows one database: a million files, 128 MiB of paths
    /// (the largest real databases list a few hundred thousand files in some tens of MiB).
    pub const DEFAULT: FileBudget = FileBudget {
        files: 1_000_000,
        path_bytes: 128 << 20,
    };

    /// Take one path of `len` bytes out of the budget, or say it does not fit.
    pub fn take(&mut self, len: usize) -> bool {
        let len = len as u64;
        if self.files == 0 || self.path_bytes < len {
            return false;
        }
        self.files -= 1;
        self.path_bytes -= len;
        true
    }
}

/// One file the package owns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpmFile {
    /// Absolute path, as rpm installed it.
    pub path: String,
    /// Hex digest of the file's content; `None` for directories, symlinks and other files
    /// rpm does not digest.
    pub digest: Option<String>,
    /// Unix mode bits (`FILEMODES`), when the header carries them.
    pub mode: Option<u16>,
    /// Size in bytes (`LONGFILESIZES` or `FILESIZES`), when the header carries them.
    pub size: Option<u64>,
    /// `FILEFLAGS` (`RPMFILE_CONFIG`, `RPMFILE_DOC`, `RPMFILE_GHOST`, …).
    pub flags: FileFlags,
}

/// rpm's per-file flags (`rpmfileAttrs_e`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct FileFlags(pub u32);

impl FileFlags {
    pub const CONFIG: u32 = 1 << 0;
    pub const DOC: u32 = 1 << 1;
    pub const MISSINGOK: u32 = 1 << 3;
    pub const NOREPLACE: u32 = 1 << 4;
    pub const GHOST: u32 = 1 << 6;
    pub const LICENSE: u32 = 1 << 7;

    pub fn is_config(self) -> bool {
        self.0 & Self::CONFIG != 0
    }
    pub fn is_doc(self) -> bool {
        self.0 & Self::DOC != 0
    }
    /// A ghost file is owned by the package but not shipped in it; it may be absent on disk.
    pub fn is_ghost(self) -> bool {
        self.0 & Self::GHOST != 0
    }
}

/// rpm's `FILEDIGESTALGO` values, which are OpenPGP hash algorithm ids (RFC 4880 §9.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigestAlgorithm {
    Md5,
    Sha1,
    Ripemd160,
    Md2,
    Tiger192,
    Haval5_160,
    Sha256,
    Sha384,
    Sha512,
    Sha224,
    Unknown(u32),
}

impl DigestAlgorithm {
    pub fn from_pgp_id(id: u32) -> Self {
        match id {
            1 => Self::Md5,
            2 => Self::Sha1,
            3 => Self::Ripemd160,
            5 => Self::Md2,
            6 => Self::Tiger192,
            7 => Self::Haval5_160,
            8 => Self::Sha256,
            9 => Self::Sha384,
            10 => Self::Sha512,
            11 => Self::Sha224,
            other => Self::Unknown(other),
        }
    }

    /// Lower-case name as SBOM formats spell it (`sha256`), `unknown` for unassigned ids.
    pub fn name(self) -> &'static str {
        match self {
            Self::Md5 => "md5",
            Self::Sha1 => "sha1",
            Self::Ripemd160 => "ripemd160",
            Self::Md2 => "md2",
            Self::Tiger192 => "tiger192",
            Self::Haval5_160 => "haval-5-160",
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
            Self::Sha224 => "sha224",
            Self::Unknown(_) => "unknown",
        }
    }
}

impl std::fmt::Display for DigestAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

fn owned(value: Option<Cow<'_, str>>) -> Option<String> {
    value
        .filter(|v| !v.is_empty() && v != "(none)")
        .map(Cow::into_owned)
}

fn required(h: &Header<'_>, tag: u32, name: &'static str) -> Result<String, HeaderError> {
    owned(h.string(tag)?).ok_or(HeaderError::MissingTag { tag, name })
}

fn owned_array(value: Option<Vec<Cow<'_, str>>>) -> Vec<String> {
    value
        .unwrap_or_default()
        .into_iter()
        .map(Cow::into_owned)
        .collect()
}

impl RpmPackage {
    /// Reads the package fields from a verified header. Fails if NAME, VERSION or RELEASE is
    /// missing, if a tag has a type rpm never writes for it, or if the file arrays disagree.
    pub fn from_header(h: &Header<'_>) -> Result<Self, HeaderError> {
        let mut budget = FileBudget::DEFAULT;
        Self::from_header_within(h, &mut budget)
    }

    /// [`RpmPackage::from_header`], materialising file paths only while `budget` lasts; the
    /// rest are left out and `files_truncated` is set.
    pub fn from_header_within(
        h: &Header<'_>,
        budget: &mut FileBudget,
    ) -> Result<Self, HeaderError> {
        let size = match h.u64(tag::LONGSIZE)? {
            Some(size) => Some(size),
            None => h.u32(tag::SIZE)?.map(u64::from),
        };
        // rpm's default when the tag is absent (packages built before rpm 4.6).
        let (files, files_truncated) = files(h, budget)?;
        let digest_algorithm = h
            .u32(tag::FILEDIGESTALGO)?
            .map_or(DigestAlgorithm::Md5, DigestAlgorithm::from_pgp_id);
        Ok(RpmPackage {
            name: required(h, tag::NAME, "NAME")?,
            epoch: h.u32(tag::EPOCH)?,
            version: required(h, tag::VERSION, "VERSION")?,
            release: required(h, tag::RELEASE, "RELEASE")?,
            arch: owned(h.string(tag::ARCH)?),
            license: owned(h.string(tag::LICENSE)?),
            source_rpm: owned(h.string(tag::SOURCERPM)?),
            vendor: owned(h.string(tag::VENDOR)?),
            size,
            modularity_label: owned(h.string(tag::MODULARITYLABEL)?),
            requires: owned_array(h.string_array(tag::REQUIRENAME)?),
            provides: owned_array(h.string_array(tag::PROVIDENAME)?),
            digest_algorithm,
            files,
            files_truncated,
        })
    }
}

/// Rebuilds the file list from `DIRNAMES[DIRINDEXES[i]] + BASENAMES[i]` (or `OLDFILENAMES` in
/// headers from before rpm 4.0) and pairs each path with the per-file arrays. Paths are
/// built only while `budget` lasts; the flag says some were left out.
fn files(h: &Header<'_>, budget: &mut FileBudget) -> Result<(Vec<RpmFile>, bool), HeaderError> {
    let mut truncated = false;
    let mut keep = |len: usize| {
        let fits = !truncated && budget.take(len);
        truncated |= !fits;
        fits
    };
    let (paths, listed): (Vec<String>, usize) = match h.string_array(tag::BASENAMES)? {
        Some(basenames) => {
            let dirnames = h.string_array(tag::DIRNAMES)?.unwrap_or_default();
            let dirindexes = h.u32_array(tag::DIRINDEXES)?.unwrap_or_default();
            if dirindexes.len() != basenames.len() {
                return Err(HeaderError::FileList(format!(
                    "{} basenames but {} dirindexes",
                    basenames.len(),
                    dirindexes.len()
                )));
            }
            let mut paths = Vec::new();
            for (base, &index) in basenames.iter().zip(&dirindexes) {
                let dir = dirnames.get(index as usize).ok_or_else(|| {
                    HeaderError::FileList(format!(
                        "dirindex {index} but only {} dirnames",
                        dirnames.len()
                    ))
                })?;
                if keep(dir.len() + base.len()) {
                    paths.push(format!("{dir}{base}"));
                }
            }
            (paths, basenames.len())
        }
        None => {
            let old = h.string_array(tag::OLDFILENAMES)?.unwrap_or_default();
            let listed = old.len();
            let paths = old
                .into_iter()
                .take_while(|p| keep(p.len()))
                .map(Cow::into_owned)
                .collect();
            (paths, listed)
        }
    };
    let n = listed;
    let digests = per_file(h.string_array(tag::FILEDIGESTS)?, n, "FILEDIGESTS")?;
    let modes = per_file(h.u16_array(tag::FILEMODES)?, n, "FILEMODES")?;
    let sizes = match h.u64_array(tag::LONGFILESIZES)? {
        Some(long) => per_file(Some(long), n, "LONGFILESIZES")?,
        None => per_file(
            h.u32_array(tag::FILESIZES)?
                .map(|v| v.into_iter().map(u64::from).collect()),
            n,
            "FILESIZES",
        )?,
    };
    let flags = per_file(h.u32_array(tag::FILEFLAGS)?, n, "FILEFLAGS")?;
    let files = paths
        .into_iter()
        .enumerate()
        .map(|(i, path)| RpmFile {
            path,
            digest: digests
                .as_ref()
                .map(|d| d[i].as_ref())
                .filter(|d| !d.is_empty())
                .map(str::to_owned),
            mode: modes.as_ref().map(|m| m[i]),
            size: sizes.as_ref().map(|s| s[i]),
            flags: FileFlags(flags.as_ref().map_or(0, |f| f[i])),
        })
        .collect();
    Ok((files, truncated))
}

/// A per-file array must have one element per file when present.
fn per_file<T>(
    values: Option<Vec<T>>,
    files: usize,
    name: &str,
) -> Result<Option<Vec<T>>, HeaderError> {
    match values {
        Some(v) if v.len() != files => Err(HeaderError::FileList(format!(
            "{name} has {} elements for {files} files",
            v.len()
        ))),
        other => Ok(other),
    }
}
