//! Images in OCI Distribution registries, through `cairn-registry`'s client: references as
//! users write them, authentication, and blobs streamed (resumed after a broken connection)
//! straight into the layer pass, never written to disk unless a cache is asked for.

use crate::cache::Cached;
use crate::error::{Error, Result};
use crate::manifest::Descriptor;
use crate::source::{resolve, split_digest, Image, OpenOptions, SourceKind, Top};
use crate::store::{self, BlobStream, Store};
use cairn_registry::{Client, Credentials, Reference};
use std::path::PathBuf;
use std::sync::Arc;

pub use crate::cache::CacheOptions;

/// How to reach registries.
#[derive(Clone, Default)]
pub struct RegistryOptions {
    /// Plain HTTP, only when asked.
    pub insecure: bool,
    /// PEM files of CA certificates trusted besides the system's.
    pub ca_files: Vec<PathBuf>,
    /// Credentials given on the command line; without them, the Docker config's.
    pub username: Option<String>,
    pub password: Option<String>,
    /// Keep layer blobs in a content-addressed cache.
    pub cache: Option<CacheOptions>,
}

impl std::fmt::Debug for RegistryOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryOptions")
            .field("insecure", &self.insecure)
            .field("ca_files", &self.ca_files)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .field("cache", &self.cache)
            .finish()
    }
}

/// Open `reference` in its registry: the manifest is fetched once, by tag or digest, and
/// everything after it by digest (registries count manifest requests against pull limits),
/// through the same index walk, platform choice and digest checks as an OCI layout.
pub(crate) fn open(reference: &str, options: &OpenOptions) -> Result<Image> {
    let err = registry_error(reference);
    let r = Reference::parse(reference).map_err(err)?;
    let full = r.to_string();
    let client = client(&r, &options.registry).map_err(err)?;
    let m = client
        .manifest(r.manifest_ref(), options.limits.max_json)
        .map_err(err)?;
    // What came back by tag is named by its own hash; the registry's header must agree.
    let digest = match m.digest.as_deref() {
        Some(h) if h.starts_with("sha512:") => store::digest_of(h, &m.bytes)?,
        _ => store::sha256_of(&m.bytes),
    };
    if let Some(h) = m.digest.as_deref().filter(|h| split_digest(h).is_ok()) {
        if h != digest {
            return Err(Error::DigestMismatch {
                what: format!("{full}: the manifest (Docker-Content-Digest)"),
                expected: h.to_owned(),
                actual: digest,
            });
        }
    }
    let top = Top {
        name: full.clone(),
        desc: Some(Descriptor {
            media_type: m
                .media_type
                .as_deref()
                .map(|t| t.split(';').next().unwrap_or(t).trim().to_owned()),
            digest,
            size: m.bytes.len() as u64,
            platform: None,
            annotations: None,
        }),
        bytes: m.bytes,
    };
    let mut store: Arc<dyn Store> = Arc::new(Blobs {
        client,
        reference: full.clone(),
    });
    if let Some(cache) = &options.registry.cache {
        store = Arc::new(Cached::new(store, cache)?);
    }
    let mut image = resolve(store, top, options.platform.as_ref(), &options.limits)?;
    image.kind = SourceKind::Registry;
    image.location = full.clone();
    image.name = full;
    image.tags = r.tag.clone().into_iter().collect();
    image.repository = Some(format!("{}/{}", r.registry, r.repository));
    Ok(image)
}

/// A client for `reference`'s repository, reached as `options` say (the client that
/// opening an image uses; also for pushing and listing referrers).
pub fn client(reference: &Reference, options: &RegistryOptions) -> cairn_registry::Result<Client> {
    let credentials = match (&options.username, &options.password) {
        (Some(username), Some(password)) => Some(Credentials {
            username: username.clone(),
            password: password.clone(),
        }),
        _ => None,
    };
    Client::new(
        reference,
        &cairn_registry::Options {
            insecure: options.insecure,
            ca_files: options.ca_files.clone(),
            credentials,
            user_agent: format!("cairn/{}", env!("CARGO_PKG_VERSION")),
            ..Default::default()
        },
    )
}

/// The registry client's error about `reference`, as cairn-image's.
fn registry_error(reference: &str) -> impl Fn(cairn_registry::Error) -> Error + Copy + '_ {
    move |error| Error::Registry {
        reference: reference.to_owned(),
        error: Box::new(error),
    }
}

/// A registry repository's blobs, streamed over HTTP.
struct Blobs {
    client: Client,
    reference: String,
}

impl std::fmt::Debug for Blobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "registry blobs of {}", self.reference)
    }
}

impl Store for Blobs {
    fn open(&self, name: &str, size: Option<u64>) -> Result<BlobStream<'_>> {
        let blob = self
            .client
            .blob(name, size)
            .map_err(registry_error(&self.reference))?;
        Ok(Box::new(blob))
    }

    fn remote(&self) -> bool {
        true
    }

    fn read_manifest(&self, digest: &str, limit: u64) -> Result<Vec<u8>> {
        let m = self
            .client
            .manifest(digest, limit)
            .map_err(registry_error(&self.reference))?;
        Ok(m.bytes)
    }

    fn read_small(&self, name: &str, limit: u64) -> Result<Vec<u8>> {
        self.client
            .blob_bytes(name, limit)
            .map_err(registry_error(&self.reference))
    }
}
