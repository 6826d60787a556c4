//! Writing to a registry and OCI 1.1 referrers: blob uploads (monolithic
//! `POST` + `PUT`), manifest `PUT`s, and the artifacts attached to a
//! manifest, through the referrers API where the registry has it and the
//! `sha256-<hex>` tag schema (the distribution specification's fallback)
//! where it does not.

use std::collections::BTreeMap;

use reqwest::header::{ACCEPT, CONTENT_LENGTH, CONTENT_TYPE, LOCATION};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::client::{header_str, Client, Kind, Target};
use crate::digest::parse_digest;
use crate::error::{Error, Result};

/// The OCI image index media type (referrers lists are indexes).
pub const INDEX_MEDIA_TYPE: &str = "application/vnd.oci.image.index.v1+json";
/// The OCI image manifest media type.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// The largest referrers list read (an index of a few thousand descriptors).
pub const MAX_REFERRERS_BYTES: u64 = 4 << 20;
/// The most descriptors a referrers list may hold.
pub const MAX_REFERRERS: usize = 10_000;

/// A content descriptor, as manifests and indexes list them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Descriptor {
    #[serde(rename = "mediaType")]
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    #[serde(
        rename = "artifactType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub artifact_type: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Descriptor {
    /// A descriptor of `bytes` (sha256).
    pub fn of(media_type: &str, bytes: &[u8]) -> Descriptor {
        Descriptor {
            media_type: media_type.to_string(),
            digest: format!("sha256:{}", hex::encode(Sha256::digest(bytes))),
            size: bytes.len() as u64,
            artifact_type: None,
            annotations: BTreeMap::new(),
        }
    }
}

/// How the registry answered a manifest `PUT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    /// The manifest's digest (computed, and checked against the registry's
    /// `Docker-Content-Digest` when it sends one).
    pub digest: String,
    /// The `OCI-Subject` header: the registry indexed the manifest's subject
    /// itself (it has the referrers API).
    pub subject_indexed: Option<String>,
}

/// Where a referrers list came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferrersVia {
    /// `GET /v2/<name>/referrers/<digest>`.
    Api,
    /// The `sha256-<hex>` tag (the registry has no referrers API).
    TagSchema,
}

/// The artifacts attached to a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referrers {
    pub via: ReferrersVia,
    pub descriptors: Vec<Descriptor>,
}

#[derive(Deserialize)]
struct IndexIn {
    #[serde(default)]
    manifests: Vec<Descriptor>,
}

/// The fallback tag of a subject digest: `<alg>-<hex>`, at most 128 characters.
pub fn fallback_tag(digest: &str) -> Result<String> {
    parse_digest(digest)?;
    let tag = digest.replacen(':', "-", 1);
    Ok(tag.chars().take(128).collect())
}

/// An index listing `descriptors`, as the referrers API and the tag schema
/// store it.
pub fn referrers_index(descriptors: &[Descriptor]) -> Vec<u8> {
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": INDEX_MEDIA_TYPE,
        "manifests": descriptors,
    });
    serde_json::to_vec(&index).expect("an index serializes")
}

fn parse_index(bytes: &[u8], what: &str, registry: &str) -> Result<Vec<Descriptor>> {
    let index: IndexIn = serde_json::from_slice(bytes).map_err(|e| Error::Protocol {
        registry: registry.to_string(),
        detail: format!("{what} is not an image index: {e}"),
    })?;
    if index.manifests.len() > MAX_REFERRERS {
        return Err(Error::TooLarge {
            what: format!("{what} ({} descriptors)", index.manifests.len()),
            limit: MAX_REFERRERS as u64,
        });
    }
    Ok(index.manifests)
}

impl Client {
    /// Whether the repository has the blob (`HEAD`).
    pub fn has_blob(&self, digest: &str) -> Result<bool> {
        parse_digest(digest)?;
        let inner = &*self.inner;
        let url = inner.blob_url(digest);
        let resp = inner.execute(Kind::Push, Target::Blob(digest), &|http| http.head(&url))?;
        match resp.status() {
            StatusCode::OK => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(inner.status_error(resp, Target::Blob(digest))),
        }
    }

    /// Uploads `bytes` as a blob unless the repository has it already:
    /// `POST /v2/<name>/blobs/uploads/`, then one `PUT` of the whole blob to
    /// the upload location with its digest. Returns the digest.
    pub fn push_blob(&self, bytes: &[u8]) -> Result<String> {
        let digest = format!("sha256:{}", hex::encode(Sha256::digest(bytes)));
        if self.has_blob(&digest)? {
            return Ok(digest);
        }
        let inner = &*self.inner;
        let target = Target::Blob(&digest);
        let start = format!("{}/v2/{}/blobs/uploads/", inner.base, inner.repository);
        let resp = inner.execute(Kind::Push, target, &|http| {
            http.post(&start).header(CONTENT_LENGTH, "0")
        })?;
        if resp.status() != StatusCode::ACCEPTED {
            return Err(inner.status_error(resp, target));
        }
        let location = header_str(resp.headers(), LOCATION.as_str())
            .ok_or_else(|| Error::Protocol {
                registry: inner.registry.clone(),
                detail: "a blob upload was started without a Location".into(),
            })?
            .to_string();
        let mut url = reqwest::Url::parse(&inner.base)
            .and_then(|base| base.join(&location))
            .map_err(|e| Error::Protocol {
                registry: inner.registry.clone(),
                detail: format!("the upload Location {location:?} is not a URL: {e}"),
            })?;
        url.query_pairs_mut().append_pair("digest", &digest);
        let body = bytes.to_vec();
        let resp = inner.execute(Kind::Push, target, &|http| {
            http.put(url.clone())
                .header(CONTENT_TYPE, "application/octet-stream")
                .body(body.clone())
        })?;
        if resp.status() != StatusCode::CREATED {
            return Err(inner.status_error(resp, target));
        }
        Ok(digest)
    }

    /// `PUT /v2/<name>/manifests/<reference>` (a tag, or the manifest's own
    /// digest).
    pub fn put_manifest(&self, reference: &str, media_type: &str, bytes: &[u8]) -> Result<Pushed> {
        let digest = format!("sha256:{}", hex::encode(Sha256::digest(bytes)));
        if reference.contains(':') && reference != digest {
            return Err(Error::DigestMismatch {
                what: "the manifest pushed by digest".into(),
                expected: reference.to_string(),
                actual: digest,
            });
        }
        let inner = &*self.inner;
        let target = Target::Manifest(reference);
        let url = format!(
            "{}/v2/{}/manifests/{reference}",
            inner.base, inner.repository
        );
        let body = bytes.to_vec();
        let resp = inner.execute(Kind::Push, target, &|http| {
            http.put(&url)
                .header(CONTENT_TYPE, media_type)
                .body(body.clone())
        })?;
        if resp.status() != StatusCode::CREATED {
            return Err(inner.status_error(resp, target));
        }
        if let Some(said) = header_str(resp.headers(), "docker-content-digest") {
            if said.trim() != digest {
                return Err(Error::DigestMismatch {
                    what: format!("manifest {}", inner.describe(target)),
                    expected: digest,
                    actual: said.trim().to_string(),
                });
            }
        }
        Ok(Pushed {
            digest,
            subject_indexed: header_str(resp.headers(), "oci-subject").map(|s| s.trim().into()),
        })
    }

    /// The artifacts whose `subject` is `digest`: from the referrers API, or
    /// from the fallback tag when the registry has no such API (an empty list
    /// when neither lists anything).
    pub fn referrers(&self, digest: &str) -> Result<Referrers> {
        parse_digest(digest)?;
        let inner = &*self.inner;
        let target = Target::Manifest(digest);
        let url = format!("{}/v2/{}/referrers/{digest}", inner.base, inner.repository);
        let resp = inner.execute(Kind::Push, target, &|http| {
            http.get(&url).header(ACCEPT, INDEX_MEDIA_TYPE)
        })?;
        let what = format!("the referrers of {}", inner.describe(target));
        let index_type = header_str(resp.headers(), CONTENT_TYPE.as_str())
            .is_some_and(|t| t.split(';').next().map(str::trim) == Some(INDEX_MEDIA_TYPE));
        match resp.status() {
            StatusCode::OK if index_type => {
                let bytes = inner.read_limited(resp, MAX_REFERRERS_BYTES, &what)?;
                Ok(Referrers {
                    via: ReferrersVia::Api,
                    descriptors: parse_index(&bytes, &what, &inner.registry)?,
                })
            }
            // No API (404, or a route that answers something else): the tag schema.
            StatusCode::OK | StatusCode::NOT_FOUND => {
                drop(resp);
                Ok(Referrers {
                    via: ReferrersVia::TagSchema,
                    descriptors: self.tag_schema(digest)?,
                })
            }
            _ => Err(inner.status_error(resp, target)),
        }
    }

    fn tag_schema(&self, digest: &str) -> Result<Vec<Descriptor>> {
        let tag = fallback_tag(digest)?;
        match self.manifest(&tag, MAX_REFERRERS_BYTES) {
            Ok(m) => parse_index(
                &m.bytes,
                &format!("the referrers tag {tag}"),
                &self.inner.registry,
            ),
            Err(Error::NotFound { .. }) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// Pushes `manifest` (an OCI image manifest whose `subject` is `subject`)
    /// by digest, and when the registry does not index it itself (no
    /// `OCI-Subject` in its answer), adds it to the `sha256-<hex>` fallback
    /// tag's index. `descriptor` is what a referrers list says of it
    /// (artifact type, annotations). Returns how it was attached.
    pub fn attach(
        &self,
        subject: &str,
        manifest: &[u8],
        descriptor: &Descriptor,
    ) -> Result<ReferrersVia> {
        parse_digest(subject)?;
        let pushed = self.put_manifest(&descriptor.digest, &descriptor.media_type, manifest)?;
        if pushed.subject_indexed.is_some() {
            return Ok(ReferrersVia::Api);
        }
        let tag = fallback_tag(subject)?;
        let mut list = self.tag_schema(subject)?;
        list.retain(|d| d.digest != pushed.digest);
        list.push(descriptor.clone());
        self.put_manifest(&tag, INDEX_MEDIA_TYPE, &referrers_index(&list))?;
        Ok(ReferrersVia::TagSchema)
    }
}
