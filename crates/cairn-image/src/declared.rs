//! SBOMs that come with an image from outside its layers: what its builder declared.
//!
//! - BuildKit (`docker buildx build --sbom`) stores its SBOM as an in-toto statement in an
//!   *attestation manifest* beside the image in the index (platform `unknown/unknown`,
//!   `vnd.docker.reference.type: attestation-manifest`), not as an OCI referrer; every
//!   source whose index lists one has it ([`Image::attestation_manifests`]).
//! - In a registry, OCI 1.1 referrers of the image (through the referrers API or the
//!   `sha256-<hex>` tag schema) with an SPDX, CycloneDX, in-toto or Sigstore bundle
//!   artifact type, as `cosign attest --new-bundle-format`, `oras attach` and `cairn attest
//!   --push` leave them.
//!
//! The documents are returned as bytes (digest- and size-checked against their
//! descriptors) with where they came from; reading them is `cairn-sbom`'s job. Nothing
//! here fails the scan: a document that cannot be fetched is a problem in the list.

use crate::limits::Limits;
use crate::manifest::Descriptor;
use crate::registry::{client, RegistryOptions};
use crate::source::{AttachedManifest, Image, SourceKind};
use crate::store::{verified_within, Doc, Store};
use cairn_registry::Reference;
use serde::Deserialize;

/// The largest declared document read (each).
pub const MAX_DECLARED_BYTES: u64 = 64 << 20;
/// The most declared documents read from one image (attestation layers and referrers).
pub const MAX_DECLARED_DOCS: usize = 64;

/// Predicate types of SBOM statements (BuildKit writes the first).
const SBOM_PREDICATES: [&str; 3] = [
    "https://spdx.dev/Document",
    "https://cyclonedx.org/bom",
    "https://cyclonedx.org/schema",
];

/// Referrer artifact types that hold an SBOM (or a statement or bundle of one).
const SBOM_ARTIFACT_TYPES: [&str; 6] = [
    "application/spdx+json",
    "application/vnd.cyclonedx+json",
    "application/vnd.cyclonedx+xml",
    "application/vnd.in-toto+json",
    "application/vnd.dev.sigstore.bundle.v0.3+json",
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
];

/// A declared document.
#[derive(Debug, Clone)]
pub struct Attached {
    /// Where it came from: `BuildKit attestation sha256:… (layer sha256:…)`, or
    /// `referrer sha256:… (artifact type)`.
    pub origin: String,
    pub bytes: Vec<u8>,
}

/// What [`attached`] found.
#[derive(Debug, Clone, Default)]
pub struct AttachedDocs {
    pub docs: Vec<Attached>,
    /// Documents that could not be fetched or checked.
    pub problems: Vec<Problem>,
}

/// A declared document that could not be fetched or checked: where, and why.
#[derive(Debug, Clone)]
pub struct Problem {
    pub origin: String,
    pub why: String,
}

impl AttachedDocs {
    fn problem(&mut self, origin: impl Into<String>, why: impl Into<String>) {
        self.problems.push(Problem {
            origin: origin.into(),
            why: why.into(),
        });
    }
}

#[derive(Deserialize)]
struct ManifestIn {
    #[serde(default)]
    layers: Vec<LayerIn>,
}

#[derive(Deserialize)]
struct LayerIn {
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
    digest: String,
    size: u64,
    #[serde(default)]
    annotations: std::collections::BTreeMap<String, String>,
}

/// `store`'s `digest`, read whole under `limit` and checked against `size` and `digest`
/// (as every manifest and config is: [`verified_within`]).
fn read_checked(
    store: &dyn Store,
    digest: &str,
    size: u64,
    limit: u64,
    doc: Doc,
) -> Result<Vec<u8>, String> {
    let d = Descriptor {
        media_type: None,
        digest: digest.to_owned(),
        size,
        platform: None,
        annotations: None,
    };
    verified_within(store, &d, doc, limit).map_err(|e| e.to_string())
}

/// Every SBOM the image carries outside its layers or points to (see the module).
pub fn attached(image: &Image, registry: &RegistryOptions, limits: &Limits) -> AttachedDocs {
    let mut out = AttachedDocs::default();
    for m in &image.attestation_manifests {
        buildkit(image.store().as_ref(), m, limits, &mut out);
    }
    if image.kind == SourceKind::Registry {
        referrers(image, registry, &mut out);
    }
    out
}

fn buildkit(store: &dyn Store, m: &AttachedManifest, limits: &Limits, out: &mut AttachedDocs) {
    let bytes = match read_checked(store, &m.digest, m.size, limits.max_json, Doc::Manifest) {
        Ok(b) => b,
        Err(e) => {
            out.problem(format!("BuildKit attestation manifest {}", m.digest), e);
            return;
        }
    };
    let manifest: ManifestIn = match serde_json::from_slice(&bytes) {
        Ok(m) => m,
        Err(e) => {
            out.problem(
                format!("BuildKit attestation manifest {}", m.digest),
                format!("not a manifest: {e}"),
            );
            return;
        }
    };
    for layer in manifest.layers {
        let predicate = layer.annotations.get("in-toto.io/predicate-type");
        let is_sbom = layer.media_type.as_deref() == Some("application/vnd.in-toto+json")
            && predicate.is_some_and(|p| SBOM_PREDICATES.iter().any(|s| p.starts_with(s)));
        if !is_sbom {
            continue;
        }
        if out.docs.len() >= MAX_DECLARED_DOCS {
            out.problem(
                format!("BuildKit attestation {}", m.digest),
                format!("more than {MAX_DECLARED_DOCS} declared documents: the rest are not read"),
            );
            return;
        }
        let origin = format!("BuildKit attestation {} (layer {})", m.digest, layer.digest);
        match read_checked(
            store,
            &layer.digest,
            layer.size,
            MAX_DECLARED_BYTES,
            Doc::Blob,
        ) {
            Ok(bytes) => out.docs.push(Attached { origin, bytes }),
            Err(e) => out.problem(origin, e),
        }
    }
}

fn referrers(image: &Image, registry: &RegistryOptions, out: &mut AttachedDocs) {
    let Ok(reference) = Reference::parse(&image.location) else {
        return;
    };
    let c = match client(&reference, registry) {
        Ok(c) => c,
        Err(e) => {
            out.problem("referrers", e.to_string());
            return;
        }
    };
    let subjects = [&image.manifest_digest, &image.index_digest];
    for subject in subjects.into_iter().flatten() {
        let list = match c.referrers(subject) {
            Ok(l) => l,
            Err(e) => {
                out.problem(format!("the referrers of {subject}"), e.to_string());
                continue;
            }
        };
        for d in list.descriptors.iter().filter(|d| {
            d.artifact_type
                .as_deref()
                .is_some_and(|t| SBOM_ARTIFACT_TYPES.contains(&t))
        }) {
            if out.docs.len() >= MAX_DECLARED_DOCS {
                out.problem(
                    format!("the referrers of {subject}"),
                    format!(
                        "more than {MAX_DECLARED_DOCS} declared documents: the rest are not read"
                    ),
                );
                return;
            }
            let origin = format!(
                "referrer {} ({})",
                d.digest,
                d.artifact_type.as_deref().unwrap_or("")
            );
            match referrer_document(&c, &d.digest, MAX_DECLARED_BYTES) {
                Ok(Some(bytes)) => out.docs.push(Attached { origin, bytes }),
                Ok(None) => out.problem(origin, "the referrer has no layer"),
                Err(e) => out.problem(origin, e),
            }
        }
    }
}

/// The largest referrer manifest read.
pub const MAX_REFERRER_MANIFEST: u64 = 4 << 20;

/// The document a referrer carries: the first layer of the referrer manifest `digest`,
/// refused over `limit` bytes; `None` when the manifest has no (well-formed) layer.
pub fn referrer_document(
    c: &cairn_registry::Client,
    digest: &str,
    limit: u64,
) -> Result<Option<Vec<u8>>, String> {
    let m = c
        .manifest(digest, MAX_REFERRER_MANIFEST)
        .map_err(|e| e.to_string())?;
    let manifest: serde_json::Value =
        serde_json::from_slice(&m.bytes).map_err(|e| format!("not JSON: {e}"))?;
    let Some(layer) = manifest["layers"]
        .as_array()
        .and_then(|l| l.first())
        .and_then(|l| serde_json::from_value::<LayerIn>(l.clone()).ok())
    else {
        return Ok(None);
    };
    if layer.size > limit {
        return Err(format!(
            "its document is {} bytes, over the {limit}-byte limit",
            layer.size
        ));
    }
    c.blob_bytes(&layer.digest, layer.size)
        .map(Some)
        .map_err(|e| e.to_string())
}
