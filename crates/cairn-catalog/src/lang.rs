//! What the language catalogers share: reading their extractors' facts from the view (with
//! a warning for every visible file that could not be read), the layer that introduced a
//! package from its file's history, and the shape of a language package.

use crate::Warnings;
use cairn_image::{FactRef, FsView, SourceKind};
use cairn_sbom::{Evidence, Location, Origin, Package, Warning, WarningKind};
use std::any::Any;

/// Largest manifest or lock file a language cataloger reads (`package.json`, `METADATA`,
/// `package-lock.json`, `Cargo.lock`, ...): bigger ones are reported and left out.
pub(crate) const MAX_MANIFEST: u64 = 32 << 20;

/// The visible facts of type `T` that extractor `name` found, each with the version of
/// the file it is about. Every visible file the extractor could not read (damaged, over a
/// bound) becomes a warning that names it, and marks the SBOM incomplete.
pub(crate) fn visible<'a, T: Any + Send + Sync>(
    view: &'a FsView,
    name: &str,
    warnings: &mut Warnings,
) -> Vec<(FactRef<'a>, &'a T)> {
    let mut out = Vec::new();
    for f in view.facts(name).filter(|f| f.visible) {
        if let Some(e) = f.error() {
            let kind = if e.over_limit {
                WarningKind::Limit
            } else {
                WarningKind::Malformed
            };
            warnings.push(
                Warning::new(kind, format!("{name}: {e}"))
                    .at(format!("/{}", f.path), Some(f.layer))
                    .incomplete(),
            );
        } else if let Some(t) = f.get::<T>() {
            out.push((f, t));
        }
    }
    out
}

/// Facts of type `T` about files that a later layer removed and no layer wrote again: the
/// last version of each such file, with the layer that removed it. These are the packages
/// an earlier layer had installed and a later one uninstalled (`pip uninstall`, `npm
/// uninstall -g`, a deleted directory).
pub(crate) fn removed<'a, T: Any + Send + Sync>(
    view: &'a FsView,
    name: &str,
) -> Vec<(FactRef<'a>, &'a T, usize)> {
    let mut last: std::collections::BTreeMap<&str, FactRef<'a>> = Default::default();
    for f in view.facts(name).filter(|f| !f.visible) {
        last.insert(f.path, f);
    }
    last.into_values()
        .filter_map(|f| {
            let node = view
                .get(f.path)
                .map_or_else(|| view.removed(f.path), |_| None)?;
            let gone = node.history.last()?;
            if gone.kind != cairn_image::ChangeKind::Removed || gone.layer <= f.layer {
                return None;
            }
            Some((f, f.get::<T>()?, gone.layer))
        })
        .collect()
}

/// Mark a package built from a removed file's fact as not in the final image.
pub(crate) fn mark_removed(p: &mut Package, layer: usize) {
    p.evidence.removed_in = Some(layer);
    p.evidence.changes.push(cairn_sbom::PackageChange {
        layer,
        kind: cairn_sbom::PackageChangeKind::Removed,
        from_version: Some(p.version.clone()),
        to_version: None,
        paths: vec![],
    });
}

/// The layer from which `f`'s path has held the same package: its earlier versions are
/// walked back while `same` says they still describe it (a later layer that rewrote the
/// file without changing the package does not count as installing it).
pub(crate) fn introduced<T: Any + Send + Sync>(
    view: &FsView,
    name: &str,
    f: &FactRef,
    same: impl Fn(&T) -> bool,
) -> usize {
    // One lookup of this path: walking every fact per package would be quadratic in the
    // number of manifests (an image may hold tens of thousands of package.json files).
    let versions: Vec<FactRef> = view
        .facts_at(name, f.path)
        .filter(|g| g.layer <= f.layer)
        .collect();
    let mut layer = f.layer;
    for g in versions.iter().rev().skip(1) {
        match g.get::<T>() {
            Some(t) if same(t) && history_unbroken(view, f.path, g.layer, layer) => layer = g.layer,
            _ => break,
        }
    }
    layer
}

/// Whether no layer between `from` and `to` removed the path.
fn history_unbroken(view: &FsView, path: &str, from: usize, to: usize) -> bool {
    let node = view.get(path).or_else(|| view.removed(path));
    node.is_none_or(|n| {
        !n.history
            .iter()
            .any(|c| c.layer > from && c.layer < to && c.kind == cairn_image::ChangeKind::Removed)
    })
}

/// The location of the file version a fact is about.
pub(crate) fn location(f: &FactRef) -> Location {
    Location {
        path: format!("/{}", f.path),
        layer: f.layer,
        lines: None,
    }
}

/// Whether the scan is of a directory (where lock files and manifests are read as declared
/// packages) rather than an image.
pub(crate) fn is_dir_scan(kind: SourceKind) -> bool {
    matches!(kind, SourceKind::Dir)
}

/// A language package with what every one has. Its id is the purl and the place it was
/// found: the same distribution installed in two environments is two packages.
pub(crate) fn package(
    kind: &str,
    cataloger: &str,
    name: &str,
    version: &str,
    purl: String,
    at: Location,
    introduced_in: usize,
) -> Package {
    Package {
        id: format!("{purl}#{}", at.path),
        name: name.to_owned(),
        version: version.to_owned(),
        kind: kind.to_owned(),
        cataloger: cataloger.to_owned(),
        purl,
        evidence: Evidence {
            locations: vec![at],
            introduced_in: Some(introduced_in),
            ..Evidence::default()
        },
        origin: Origin::Installed,
        ..Package::default()
    }
}

/// DEPENDS_ON edges among the packages one file lists (a lock file, an `installed.json`, a
/// `deps.json`), by name: `ids` maps each listed name to its package's id, `needs` gives
/// each name's dependencies by name. A dependency the file does not list has no edge.
pub(crate) fn edges_by_name<'a>(
    ids: &std::collections::BTreeMap<&str, String>,
    needs: impl IntoIterator<Item = (&'a str, &'a [String])>,
) -> Vec<cairn_sbom::Relationship> {
    let providers = ids
        .iter()
        .map(|(n, id)| (n.to_string(), vec![id.clone()]))
        .collect();
    let needs = needs
        .into_iter()
        .filter_map(|(name, deps)| {
            let from = ids.get(name)?;
            Some(deps.iter().map(move |d| (from.clone(), vec![d.clone()])))
        })
        .flatten()
        .collect();
    crate::depends_on(needs, &providers)
}

/// Deepest nesting of arrays and tables (or objects) accepted in a lock file: real ones nest
/// a few levels; parsers that recurse must not be handed a file that nests thousands.
pub(crate) const MAX_NESTING: usize = 64;

/// Refuse text whose `[`/`{` nesting (outside quoted strings) goes deeper than `max`. A
/// cheap pass before a recursive parser (TOML, YAML) sees the file.
pub(crate) fn nesting_within(text: &[u8], max: usize) -> Result<(), String> {
    let (mut depth, mut quote, mut escaped) = (0usize, None::<u8>, false);
    for &b in text {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if b == b'\\' && q == b'"' {
                escaped = true;
            } else if b == q || b == b'\n' {
                quote = None;
            }
            continue;
        }
        match b {
            b'"' | b'\'' => quote = Some(b),
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return Err(format!("nested more than {max} levels deep (the limit)"));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}
