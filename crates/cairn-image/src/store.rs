//! Where an image's blobs are kept: the one thing each kind of source supplies.
//!
//! A source kind implements [`Store`]: open a blob by the name its manifest gives it, as a
//! stream. Everything above it is written once and serves every source: the walk from the
//! top manifest or index down to the layers, platform selection, the digest and size checks
//! of manifests and configs ([`verified`]), and the streamed digest check of every layer
//! (`layer.rs`). The stores here are the local ones: an OCI layout directory, an
//! uncompressed tar archive (docker-archive, OCI archive) and a root filesystem directory;
//! the registry's lives in `registry.rs`, the blob cache in `cache.rs`.

use crate::blob::{check_small, BlobRef, TarIndex};
use crate::error::{Error, Result};
use crate::manifest::Descriptor;
use crate::source::split_digest;
use crate::Limits;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

/// A stream of a blob's stored bytes.
pub type BlobStream<'a> = Box<dyn Read + Send + 'a>;

/// Where the blobs of one image are, and how to open them.
///
/// `name` is what the image's manifest calls a blob: a digest (`sha256:…`) in OCI layouts
/// and registries, an archive member (`abc/layer.tar`) in a docker-archive. A store hands
/// out the bytes as stored; it need not check them, because every caller does.
pub trait Store: Send + Sync + fmt::Debug {
    /// The blob's stored bytes as a stream. `size` is what the manifest says, when it does.
    fn open(&self, name: &str, size: Option<u64>) -> Result<BlobStream<'_>>;

    /// A small blob (a manifest, a config) whole, refused over `limit` bytes.
    fn read_small(&self, name: &str, limit: u64) -> Result<Vec<u8>> {
        let mut buf = Vec::new();
        let mut r = self.open(name, None)?.take(limit.saturating_add(1));
        r.read_to_end(&mut buf).map_err(|e| Error::Manifest {
            file: name.to_owned(),
            reason: format!("read error: {e}"),
        })?;
        check_small(name, buf.len() as u64, limit)?;
        Ok(buf)
    }

    /// An image manifest or index by digest, refused over `limit` bytes. In a layout it is
    /// a blob like any other; a registry serves it from its manifests endpoint.
    fn read_manifest(&self, digest: &str, limit: u64) -> Result<Vec<u8>> {
        self.read_small(digest, limit)
    }

    /// The caller could not use the bytes [`Store::open`] gave for `name` (they do not
    /// decode, or do not match the blob's digest or size). A store that keeps copies (the
    /// blob cache) drops its copy.
    fn rejected(&self, _name: &str) {}

    /// Whether reading a blob waits on the network (a registry). The layer pass then runs
    /// more workers than cores, so that one layer's download does not leave a core idle.
    fn remote(&self) -> bool {
        false
    }

    /// For a root filesystem directory: the directory, which the layer pass walks instead
    /// of decoding blobs. `None` for every store of blobs.
    fn root_dir(&self) -> Option<&Path> {
        None
    }
}

/// What a small document read by descriptor is.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Doc {
    /// An image manifest or index.
    Manifest,
    /// A config blob.
    Blob,
}

/// A small document read through `store` and checked against its descriptor: size, then
/// digest.
pub(crate) fn verified(
    store: &dyn Store,
    d: &Descriptor,
    doc: Doc,
    limits: &Limits,
) -> Result<Vec<u8>> {
    verified_within(store, d, doc, limits.max_json)
}

/// [`verified`] under `limit` bytes instead of `max_json` (a declared SBOM, say).
pub(crate) fn verified_within(
    store: &dyn Store,
    d: &Descriptor,
    doc: Doc,
    limit: u64,
) -> Result<Vec<u8>> {
    split_digest(&d.digest)?;
    check_small(&d.digest, d.size, limit)?;
    let bytes = match doc {
        Doc::Manifest => store.read_manifest(&d.digest, limit)?,
        Doc::Blob => store.read_small(&d.digest, limit)?,
    };
    if bytes.len() as u64 != d.size {
        return Err(Error::SizeMismatch {
            what: d.digest.clone(),
            expected: d.size,
            actual: bytes.len() as u64,
        });
    }
    check_digest(&d.digest, &d.digest, &bytes)?;
    Ok(bytes)
}

/// `bytes` hash to `digest` (sha256 or sha512), or a mismatch error about `what`.
pub(crate) fn check_digest(what: &str, digest: &str, bytes: &[u8]) -> Result<()> {
    let actual = digest_of(digest, bytes)?;
    if actual != digest {
        return Err(Error::DigestMismatch {
            what: what.to_owned(),
            expected: digest.to_owned(),
            actual,
        });
    }
    Ok(())
}

/// The digest of `bytes` in the algorithm `like` names.
pub(crate) fn digest_of(like: &str, bytes: &[u8]) -> Result<String> {
    use sha2::Digest;
    let (alg, _) = split_digest(like)?;
    Ok(match alg {
        "sha512" => format!("sha512:{}", hex::encode(sha2::Sha512::digest(bytes))),
        _ => sha256_of(bytes),
    })
}

/// `sha256:HEX` of `bytes`.
pub(crate) fn sha256_of(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)))
}

/// An OCI image layout directory: blobs are `blobs/ALG/HEX` files.
#[derive(Debug)]
pub(crate) struct LayoutDir {
    pub root: PathBuf,
}

impl LayoutDir {
    /// A file of the layout by its path inside it (`index.json`).
    pub fn file(&self, name: &str) -> Result<BlobRef> {
        BlobRef::file(name.to_owned(), self.root.join(name))
    }
}

impl Store for LayoutDir {
    fn open(&self, name: &str, _size: Option<u64>) -> Result<BlobStream<'_>> {
        let (alg, hex) = split_digest(name)?;
        let blob = self.file(&format!("blobs/{alg}/{hex}"))?;
        Ok(Box::new(blob.open()?))
    }

    fn read_small(&self, name: &str, limit: u64) -> Result<Vec<u8>> {
        let (alg, hex) = split_digest(name)?;
        self.file(&format!("blobs/{alg}/{hex}"))?.read_small(limit)
    }
}

/// An uncompressed tar archive of an image: a docker-archive names blobs by member path, an
/// OCI archive by digest (the member `blobs/ALG/HEX`).
#[derive(Debug)]
pub(crate) struct Archive {
    pub index: TarIndex,
    /// Blob names are digests (OCI archive) rather than member paths (docker-archive).
    pub by_digest: bool,
}

impl Archive {
    /// The member holding blob `name`.
    pub fn member(&self, name: &str) -> Result<BlobRef> {
        if self.by_digest {
            let (alg, hex) = split_digest(name)?;
            self.index.blob(&format!("blobs/{alg}/{hex}"))
        } else {
            self.index.blob(name)
        }
    }
}

impl Store for Archive {
    fn open(&self, name: &str, _size: Option<u64>) -> Result<BlobStream<'_>> {
        Ok(Box::new(self.member(name)?.open()?))
    }

    fn read_small(&self, name: &str, limit: u64) -> Result<Vec<u8>> {
        self.member(name)?.read_small(limit)
    }
}

/// A root filesystem directory: no blobs, one "layer" that is the directory itself.
#[derive(Debug)]
pub(crate) struct RootDir {
    pub root: PathBuf,
}

impl Store for RootDir {
    fn open(&self, name: &str, _size: Option<u64>) -> Result<BlobStream<'_>> {
        Err(Error::MissingBlob(format!(
            "{name} (a root filesystem directory has no blobs)"
        )))
    }

    fn root_dir(&self) -> Option<&Path> {
        Some(&self.root)
    }
}
