//! Catalogers: each reads the filesystem view of an image and returns the packages of one
//! ecosystem with their evidence. This crate also runs the whole pipeline — open the
//! source, scan its layers once for every file any cataloger declared, run the catalogers,
//! assemble the SBOM — so that the binary only parses arguments and prints.
//!
//! A cataloger declares up front which paths it needs (`patterns`), so each layer is read
//! exactly once. It attaches provenance (database file, line range, layer) where it finds a
//! fact; nothing downstream reconstructs it.
#![forbid(unsafe_code)]

mod apk;
pub mod base;
mod binary;
pub mod deb822;
pub mod declared;
pub mod distro;
mod dotnet;
mod dpkg;
mod fold;
mod golang;
mod history;
mod java;
mod lang;
pub mod license;
mod npm;
mod php;
mod purl;
mod python;
/// The rule for tests whose fixtures may be missing, shared with the other crates' tests.
#[cfg(test)]
#[path = "../../../fixtures/require.rs"]
mod require;
mod rpm;
mod ruby;
mod rust;
mod version;

use cairn_image::{
    Extractor, FsView, Image, Limits, PathPattern, Platform, ScanOptions, SourceSpec, ViewWarning,
    ViewWarningKind,
};
use cairn_sbom::{
    Distro, File, Layer, Package, Relationship, RelationshipKind, Sbom, Source, Tool, Warning,
    WarningKind,
};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::sync::Arc;

pub use apk::installed as apk_installed;
pub use cairn_image::Error as ImageError;
pub use version::compare as compare_versions;
pub use version::sort_key as version_sort_key;

/// What a cataloger gets to look at.
pub struct Context<'a> {
    pub view: &'a FsView,
    pub image: &'a Image,
    pub distro: Option<&'a Distro>,
    /// What the scan's package databases may still materialise as owned files.
    pub budget: &'a ScanBudget,
}

pub use cairn_rpmdb::FileBudget;

/// The owned-file budget of a whole scan ([`Limits::owned_files_per_scan`]), shared by the
/// catalogers running in parallel. Each database reads under a [`FileBudget`] reserved from
/// it ([`Limits::owned_files_per_database`] at most) and gives back what it did not use, so
/// the total that every database, in every layer's version, materialises stays bounded.
#[derive(Debug)]
pub struct ScanBudget {
    files: std::sync::atomic::AtomicU64,
    bytes: std::sync::atomic::AtomicU64,
    per_database: (u64, u64),
}

impl ScanBudget {
    pub fn new(limits: &Limits) -> ScanBudget {
        ScanBudget {
            files: limits.owned_files_per_scan.0.into(),
            bytes: limits.owned_files_per_scan.1.into(),
            per_database: limits.owned_files_per_database,
        }
    }

    fn reserve(counter: &std::sync::atomic::AtomicU64, most: u64) -> u64 {
        use std::sync::atomic::Ordering::Relaxed;
        let mut got = 0;
        let _ = counter.fetch_update(Relaxed, Relaxed, |left| {
            got = left.min(most);
            Some(left - got)
        });
        got
    }

    /// A budget for reading one database.
    pub fn database(&self) -> FileBudget {
        FileBudget {
            files: Self::reserve(&self.files, self.per_database.0),
            path_bytes: Self::reserve(&self.bytes, self.per_database.1),
        }
    }

    /// Give back what a database's reading left of its budget.
    pub fn give_back(&self, left: FileBudget) {
        use std::sync::atomic::Ordering::Relaxed;
        self.files.fetch_add(left.files, Relaxed);
        self.bytes.fetch_add(left.path_bytes, Relaxed);
    }
}

/// Problems met while cataloging, each naming what it concerns. An `incomplete` one means
/// packages or facts may be missing: the SBOM is then marked incomplete.
#[derive(Debug, Default)]
pub struct Warnings {
    pub list: Vec<Warning>,
}

impl Warnings {
    pub fn push(&mut self, w: Warning) {
        self.list.push(w);
    }
    pub fn incomplete(&self) -> bool {
        self.list.iter().any(|w| w.incomplete)
    }
}

/// What a cataloger found.
#[derive(Debug, Default)]
pub struct Findings {
    pub packages: Vec<Package>,
    /// Packages an earlier layer's database listed that the final image does not have
    /// (see [`Sbom::removed`]).
    pub removed: Vec<Package>,
    pub relationships: Vec<Relationship>,
    pub warnings: Warnings,
}

pub trait Cataloger: Sync {
    fn name(&self) -> &'static str;
    /// The files whose contents this cataloger needs whole, declared before the scan.
    fn patterns(&self) -> Vec<PathPattern> {
        Vec::new()
    }
    /// Code run inside the layer pass on the entries it chooses, leaving typed facts
    /// (`cx.view.facts(name)`) instead of contents: for many files, or large ones.
    fn extractors(&self) -> Vec<Arc<dyn Extractor>> {
        Vec::new()
    }
    fn catalog(&self, cx: &Context) -> Findings;
}

/// Resolve "package FROM needs one of NAMES" (package names, provided capabilities or file
/// paths, tried in order) to DEPENDS_ON relationships on installed packages: each edge once,
/// never a package on itself, and nothing for a need no installed package meets.
pub(crate) fn depends_on(
    needs: Vec<(String, Vec<String>)>,
    providers: &BTreeMap<String, Vec<String>>,
) -> Vec<Relationship> {
    let mut edges = std::collections::BTreeSet::new();
    for (from, names) in needs {
        if let Some(to) = names
            .iter()
            .find_map(|n| providers.get(n))
            .and_then(|ids| ids.first())
        {
            if *to != from {
                edges.insert((from, to.clone()));
            }
        }
    }
    edges
        .into_iter()
        .map(|(from, to)| Relationship {
            from,
            kind: RelationshipKind::DependsOn,
            to,
        })
        .collect()
}

/// Every cataloger cairn has, in a fixed order.
pub fn catalogers() -> Vec<Box<dyn Cataloger>> {
    vec![
        Box::new(dpkg::Dpkg::default()),
        Box::new(rpm::Rpm),
        Box::new(apk::Apk),
        Box::new(golang::Go),
        Box::new(rust::Rust),
        Box::new(npm::Npm),
        Box::new(python::Python),
        Box::new(java::Java),
        Box::new(ruby::Ruby),
        Box::new(php::Php),
        Box::new(dotnet::Dotnet),
    ]
}

/// How to scan.
#[derive(Clone, Default)]
pub struct Options {
    pub platform: Option<Platform>,
    /// List every file with its digests.
    pub files: bool,
    pub limits: Limits,
    pub progress: Option<Arc<cairn_image::Progress>>,
    /// Layers read at once (`None`: one per core).
    pub jobs: Option<usize>,
    /// Creation time (RFC 3339); `None` reads SOURCE_DATE_EPOCH, else the clock.
    pub created: Option<String>,
    /// Paths left out of the scan (`--exclude`, parsed by `cairn_image::exclusions`).
    pub exclude: Vec<PathPattern>,
    /// For a root filesystem directory: stay on the root's filesystem.
    pub one_file_system: bool,
    /// How to reach registries, for registry images.
    pub registry: cairn_image::RegistryOptions,
    /// The image this one was built on (`--base`), opened, to tell its layers apart
    /// exactly; without it the build history is read (see [`base`]).
    pub base: Option<Image>,
    /// Also read the SBOMs the image's makers declared (attestation manifests, registry
    /// referrers, SBOM files in the image) into [`Scan::declared`].
    pub declared: bool,
    /// Decoded layers shared by the scans of this process (`cairn fleet scan`): see
    /// [`cairn_image::LayerCache`].
    pub layer_cache: Option<Arc<cairn_image::LayerCache>>,
}

/// Open a source without reading its layers (to size a progress bar, say).
pub fn open(spec: &SourceSpec, opts: &Options) -> Result<Image, ImageError> {
    let open = cairn_image::OpenOptions {
        platform: opts.platform.clone(),
        limits: opts.limits.clone(),
        registry: opts.registry.clone(),
    };
    cairn_image::open_with(spec, &open)
}

/// Scan an opened image into an SBOM.
pub fn scan(image: &Image, opts: &Options) -> Result<Sbom, ImageError> {
    scan_timed(image, opts).map(|(sbom, _)| sbom)
}

/// What `-v` tells about a scan beyond the SBOM: where the time went and what was
/// deliberately left out.
#[derive(Debug, Clone, Default)]
pub struct Timings {
    /// Reading and merging the layers.
    pub layers: std::time::Duration,
    /// Running the catalogers and assembling the SBOM.
    pub catalog: std::time::Duration,
    /// Directories of a root filesystem not scanned (`/proc` and other virtual filesystems,
    /// other mounts under `--one-file-system`), one line each.
    pub skipped: Vec<String>,
    /// What each extractor of the layer pass was offered and read.
    pub extractors: Vec<cairn_image::ExtractStats>,
}

/// `scan`, also saying where the time went.
pub fn scan_timed(image: &Image, opts: &Options) -> Result<(Sbom, Timings), ImageError> {
    scan_full(image, opts).map(|s| (s.sbom, s.timings))
}

/// A scan with what explaining it needs: the SBOM (with the packages earlier layers
/// removed), and the filesystem view in which every path keeps every layer that wrote,
/// changed or removed it, with each layer's byte counts. The view is bounded by the same
/// limits as the scan ([`Limits::max_paths`], the content limits); nothing is read twice.
pub struct Scan {
    pub sbom: Sbom,
    pub view: FsView,
    pub timings: Timings,
    /// The declared SBOMs (with [`Options::declared`]; empty otherwise).
    pub declared: Vec<declared::Declared>,
}

/// Scan an opened image, keeping the filesystem view (see [`Scan`]).
pub fn scan_full(image: &Image, opts: &Options) -> Result<Scan, ImageError> {
    let started = std::time::Instant::now();
    let cats = catalogers();
    let mut contents = distro::patterns();
    let mut extractors = Vec::new();
    for c in &cats {
        contents.extend(c.patterns());
        extractors.extend(c.extractors());
    }
    if opts.declared {
        contents.extend(declared::patterns());
    }
    // Catalogers that share an extractor (Go and Rust read the same executables) each name
    // it; it runs once.
    let mut names = std::collections::BTreeSet::new();
    extractors.retain(|x: &Arc<dyn Extractor>| names.insert(x.name()));
    // The license text store takes a while to load: do it while the layers are read.
    let preload = std::thread::spawn(license::preload);
    let view = FsView::scan(
        image,
        &ScanOptions {
            contents,
            file_digests: opts.files,
            limits: opts.limits.clone(),
            progress: opts.progress.clone(),
            jobs: opts.jobs,
            exclude: opts.exclude.clone(),
            one_file_system: opts.one_file_system,
            extractors,
            layer_cache: opts.layer_cache.clone(),
        },
    )?;
    let layers_done = std::time::Instant::now();
    let _ = preload.join();
    let mut warnings = Warnings::default();
    for w in view.warnings() {
        warnings.push(view_warning(w));
    }
    let distro = distro::detect(&view, &mut warnings);
    let budget = ScanBudget::new(&opts.limits);
    let cx = Context {
        view: &view,
        image,
        distro: distro.as_ref(),
        budget: &budget,
    };
    let found: Vec<Findings> = cats.par_iter().map(|c| c.catalog(&cx)).collect();
    let mut packages = Vec::new();
    let mut removed = Vec::new();
    let mut relationships = Vec::new();
    for f in found {
        packages.extend(f.packages);
        removed.extend(f.removed);
        relationships.extend(f.relationships);
        warnings.list.extend(f.warnings.list);
    }
    let packages = merge_duplicates(packages, &mut warnings);
    let packages = fold::fold(&view, packages, &mut relationships);
    let files = if opts.files {
        list_files(&view, &packages, &mut relationships)
    } else {
        Vec::new()
    };
    let mut sbom = Sbom {
        format_version: cairn_sbom::FORMAT_VERSION.into(),
        tool: Tool {
            name: "cairn".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        creator: None,
        created: opts.created.clone().unwrap_or_else(now_rfc3339),
        source: source_of(image, opts.base.as_ref()),
        distro,
        packages,
        files,
        relationships,
        complete: !warnings.incomplete(),
        warnings: warnings.list,
        removed,
    };
    sbom.normalize();
    let timings = Timings {
        layers: layers_done - started,
        catalog: layers_done.elapsed(),
        skipped: view.skipped().to_vec(),
        extractors: view.extract_stats().to_vec(),
    };
    let declared = if opts.declared {
        declared::collect(image, &view, opts)
    } else {
        Vec::new()
    };
    Ok(Scan {
        sbom,
        view,
        timings,
        declared,
    })
}

/// The one rule for a package identity (id) found more than once, by any cataloger: records
/// that say the same are one package, with every place they were found as evidence;
/// records that differ are all reported, the later ones with ids made distinct (`ID#2`, …),
/// and a warning names each. Either way every id in the SBOM is unique, which SPDX ids and
/// CycloneDX bom-refs require. (Relationships found for a later conflicting record stay on
/// the first id.)
fn merge_duplicates(packages: Vec<Package>, warnings: &mut Warnings) -> Vec<Package> {
    let mut out: Vec<Package> = Vec::with_capacity(packages.len());
    let mut by_id: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    // The same record, wherever it was found: equal but for where (evidence, and the
    // places its license statements were read).
    let same = |a: &Package, b: &Package| {
        let strip = |p: &Package| {
            let mut p = Package {
                evidence: Default::default(),
                ..p.clone()
            };
            for l in &mut p.licenses.evidence {
                l.location = Default::default();
            }
            p
        };
        strip(a) == strip(b)
    };
    for p in packages {
        let seen = by_id.entry(p.id.clone()).or_default();
        let where_ = p.evidence.locations.first().cloned();
        let warn = |kind, message: String, id: &str| {
            let mut w = Warning::new(kind, message).package(id);
            if let Some(l) = &where_ {
                w = w.at(l.path.clone(), Some(l.layer));
                if let Some(lines) = l.lines {
                    w = w.lines(lines);
                }
            }
            w
        };
        if let Some(&first) = seen.iter().find(|&&i| same(&out[i], &p)) {
            let kept = &mut out[first];
            warnings.push(warn(
                WarningKind::Duplicate,
                format!("{} {} is listed again; reported once", p.name, p.version),
                &kept.id,
            ));
            for l in p.evidence.locations {
                if !kept.evidence.locations.contains(&l) {
                    kept.evidence.locations.push(l);
                }
            }
            continue;
        }
        let mut p = p;
        if !seen.is_empty() {
            let id = format!("{}#{}", p.id, seen.len() + 1);
            warnings.push(warn(
                WarningKind::Conflict,
                format!(
                    "{} {} is listed again with different facts; reported as {id}",
                    p.name, p.version
                ),
                &p.id,
            ));
            p.id = id;
        }
        seen.push(out.len());
        out.push(p);
    }
    out
}

/// A problem of the layer pass in the SBOM's terms.
fn view_warning(w: &ViewWarning) -> Warning {
    let kind = match w.kind {
        ViewWarningKind::Limit => WarningKind::Limit,
        ViewWarningKind::Link => WarningKind::Link,
        ViewWarningKind::Unreadable => WarningKind::Unreadable,
        ViewWarningKind::InvalidPath => WarningKind::InvalidPath,
    };
    let out = Warning::new(kind, w.message.clone()).at(w.path.clone(), w.layer);
    if w.incomplete {
        out.incomplete()
    } else {
        out
    }
}

/// What the image states under `key`: its manifest's annotation, else its config's label.
pub(crate) fn stated(image: &Image, key: &str) -> Option<String> {
    image
        .annotations
        .get(key)
        .or_else(|| image.labels.get(key))
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// Who supplies the image, as it states: the vendor (the distributing entity), else its
/// authors, the config's `author`, a `maintainer` label (the `MAINTAINER` instruction's
/// successor).
fn supplier_of(image: &Image) -> Option<String> {
    stated(image, "org.opencontainers.image.vendor")
        .or_else(|| stated(image, "org.opencontainers.image.authors"))
        .or_else(|| {
            image
                .author
                .as_deref()
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(str::to_owned)
        })
        .or_else(|| stated(image, "maintainer"))
}

fn source_of(image: &Image, base: Option<&Image>) -> Source {
    let base = base::detect(image, base);
    let base_layers = base.as_ref().map_or(0, |b| b.layers);
    Source {
        base,
        supplier: supplier_of(image),
        license: stated(image, "org.opencontainers.image.licenses")
            .map(|l| license::expression(&l))
            .filter(|l| !l.is_empty()),
        kind: image.kind.prefix().into(),
        name: image.name.clone(),
        path: image.location.clone(),
        tags: image.tags.clone(),
        manifest_digest: image.manifest_digest.clone(),
        image_id: image.config_digest.clone(),
        platform: image.platform.as_ref().map(|p| p.to_string()),
        repository: image.repository.clone(),
        index_digest: image.index_digest.clone(),
        purl: image_purl(image),
        layers: image
            .layers
            .iter()
            .map(|l| Layer {
                index: l.index,
                digest: l.digest.clone(),
                diff_id: l.diff_id.clone(),
                media_type: l.media_type.clone(),
                size: l.size,
                created_by: l.created_by.clone(),
                created: l.created.clone(),
                comment: l.comment.clone(),
                base: l.index < base_layers,
            })
            .collect(),
    }
}

/// `pkg:oci/NAME@DIGEST?arch=…&repository_url=…&tag=…` for an image from a registry, as the
/// purl specification's `oci` type spells it: the name is the last segment of the
/// repository, the version the manifest digest.
fn image_purl(image: &Image) -> Option<String> {
    let repo = image.repository.as_deref()?;
    let digest = image.manifest_digest.as_deref()?;
    let name = repo.rsplit('/').next()?;
    let mut purl = packageurl::PackageUrl::new("oci", name.to_ascii_lowercase()).ok()?;
    purl.with_version(digest).ok()?;
    if let Some(p) = &image.platform {
        purl.add_qualifier("arch", p.arch.clone()).ok()?;
    }
    purl.add_qualifier("repository_url", repo.to_owned()).ok()?;
    if let Some(tag) = image.tags.first() {
        purl.add_qualifier("tag", tag.clone()).ok()?;
    }
    Some(purl.to_string())
}

/// Every regular file with its digests; packages CONTAIN the files they own.
fn list_files(view: &FsView, packages: &[Package], rels: &mut Vec<Relationship>) -> Vec<File> {
    let mut owners: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for p in packages {
        for f in &p.files {
            owners
                .entry(f.path.trim_start_matches('/'))
                .or_default()
                .push(&p.id);
        }
    }
    let mut files = Vec::new();
    for (path, node) in view.iter() {
        let Some(d) = &node.digests else { continue };
        let id = format!("file:/{path}");
        for owner in owners.get(path).into_iter().flatten() {
            rels.push(Relationship {
                from: (*owner).to_owned(),
                kind: RelationshipKind::Contains,
                to: id.clone(),
            });
        }
        files.push(File {
            id,
            path: format!("/{path}"),
            size: node.size,
            layer: node.layer(),
            sha1: d.sha1.clone(),
            sha256: d.sha256.clone(),
        });
    }
    files
}

/// RFC 3339 UTC time from SOURCE_DATE_EPOCH, else from the clock.
pub fn now_rfc3339() -> String {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0)
        });
    rfc3339(secs)
}

/// Format seconds since the epoch (civil-from-days, Howard Hinnant's algorithm).
pub fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339_formats_epochs() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(super::rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }
}
