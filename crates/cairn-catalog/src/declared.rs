//! SBOMs the image's makers declared, read as evidence beside what the scan found: the
//! documents attached outside the layers (`cairn_image::declared`: BuildKit attestation
//! manifests, registry referrers) and SBOM files inside the image (`*.spdx.json`,
//! `*.cdx.json`, and Bitnami's `.spdx-*` files), each read into the model by
//! `cairn_sbom::read` (which takes statements, envelopes and bundles off).
//! Only with `Options::declared`: a plain scan reads none of them.

use cairn_image::{FsView, Image, NodeKind, PathPattern};
use cairn_sbom::Sbom;

/// Files inside the image that are SBOMs.
pub(crate) fn patterns() -> Vec<PathPattern> {
    ["**/*.spdx.json", "**/*.cdx.json", "**/.spdx-*"]
        .into_iter()
        .map(PathPattern::new)
        .collect()
}

/// One declared document, read.
#[derive(Debug, Clone)]
pub struct Declared {
    /// Where it came from: a path in the image, a BuildKit attestation, a referrer.
    pub origin: String,
    /// For a file in the image: its path and the layer that wrote it.
    pub path: Option<String>,
    pub layer: Option<usize>,
    /// The document in the model; `None` when it could not be read (`error` says why).
    pub sbom: Option<Sbom>,
    /// What reading it noted (the wrapper taken off, what could not be mapped).
    pub notes: Vec<String>,
    pub error: Option<String>,
}

fn read(origin: String, path: Option<String>, layer: Option<usize>, bytes: &[u8]) -> Declared {
    let (sbom, notes, error) = match cairn_sbom::read(bytes) {
        Ok(r) => (Some(r.sbom), r.notes, None),
        Err(e) => (None, Vec::new(), Some(e.to_string())),
    };
    Declared {
        origin,
        path,
        layer,
        sbom,
        notes,
        error,
    }
}

/// Every declared document of the scanned image, in a fixed order: attached ones (as the
/// index and the registry list them), then files by path.
pub(crate) fn collect(image: &Image, view: &FsView, opts: &crate::Options) -> Vec<Declared> {
    let attached = cairn_image::declared::attached(image, &opts.registry, &opts.limits);
    let mut out: Vec<Declared> = attached
        .docs
        .iter()
        .map(|a| read(a.origin.clone(), None, None, &a.bytes))
        .collect();
    out.extend(attached.problems.into_iter().map(|p| Declared {
        origin: p.origin,
        path: None,
        layer: None,
        sbom: None,
        notes: Vec::new(),
        error: Some(p.why),
    }));
    let pats = patterns();
    let mut files: Vec<(&str, &cairn_image::Node)> = view
        .iter()
        .filter(|(p, n)| n.kind == NodeKind::File && pats.iter().any(|pat| pat.matches(p)))
        .collect();
    files.sort_by(|a, b| a.0.cmp(b.0));
    for (rel, node) in files {
        let path = if rel.starts_with('/') {
            rel.to_string()
        } else {
            format!("/{rel}")
        };
        let path = path.as_str();
        let layer = node.last_written();
        match node.version() {
            Some((layer, bytes)) => out.push(read(
                path.to_string(),
                Some(path.to_string()),
                Some(layer),
                bytes,
            )),
            None => out.push(Declared {
                origin: path.to_string(),
                path: Some(path.to_string()),
                layer,
                sbom: None,
                notes: Vec::new(),
                error: Some(format!(
                    "not read: over the {}-byte content limit",
                    opts.limits.max_content
                )),
            }),
        }
    }
    out
}
