//! Explanations of a scan, built from what the scan kept (the SBOM with its evidence and
//! removed packages, and the filesystem view with every path's history), never from a
//! second look at the layers:
//!
//! - [`explain`]: one package's chain of evidence — the database entry that lists it, the
//!   layer and build step that installed it, what later layers did to it, its
//!   dependencies both ways, and the OS package that owns a language package;
//! - [`layers`]: the image layer by layer — each build step, what packages it added,
//!   changed and removed, the bytes it wrote and how many of them later layers threw away,
//!   and the files it wrote that no package owns;
//! - [`diff`]: two images (or SBOMs) package by package, each difference tied to the layer
//!   of the second image that caused it, base-image changes told apart.
//!
//! Each result is a plain serializable structure (the `--json` output) with a terminal
//! rendering beside it ([`text`]).
#![forbid(unsafe_code)]

pub mod declared;
pub mod diff;
pub mod dockerfile;
pub mod explain;
pub mod layers;
pub mod text;

use cairn_sbom::{Layer, Package, Sbom};
use serde::Serialize;

/// A layer, as an explanation names it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct LayerRef {
    pub index: usize,
    /// The stored blob's digest, else the diff id.
    pub digest: Option<String>,
    /// Size of the stored blob.
    pub size: u64,
    /// The build step that made it.
    pub created_by: Option<String>,
    /// It belongs to the base image.
    pub base: bool,
}

impl LayerRef {
    /// Layer `index` of `sbom`, as far as the SBOM describes it.
    pub fn of(sbom: &Sbom, index: usize) -> LayerRef {
        // By index, not position: a document read back may list its layers sparsely.
        let at = sbom.source.layers.get(index).filter(|l| l.index == index);
        match at.or_else(|| sbom.source.layers.iter().find(|l| l.index == index)) {
            Some(l) => LayerRef::from_layer(l),
            None => LayerRef {
                index,
                digest: None,
                size: 0,
                created_by: None,
                base: false,
            },
        }
    }

    fn from_layer(l: &Layer) -> LayerRef {
        LayerRef {
            index: l.index,
            digest: l.digest.clone().or_else(|| l.diff_id.clone()),
            size: l.size,
            created_by: l.created_by.clone(),
            base: l.base,
        }
    }
}

/// A package, as an explanation names it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct PackageRef {
    pub id: String,
    pub name: String,
    pub version: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// Its package URL: what tells apart two packages of one name (Maven artifacts of two
    /// groups, npm packages of two scopes).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub purl: String,
}

impl PackageRef {
    pub fn of(p: &Package) -> PackageRef {
        PackageRef {
            id: p.id.clone(),
            name: p.name.clone(),
            version: p.version.clone(),
            kind: p.kind.clone(),
            purl: p.purl.clone(),
        }
    }
}
