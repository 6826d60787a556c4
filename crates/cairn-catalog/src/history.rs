//! Package provenance from the package databases' own history, for every OS cataloger
//! (dpkg's `status` and `status.d/*`, rpm's database, apk's `installed`): every layer's
//! version of each database file is parsed, so the layer that introduced a package, the
//! layers that changed its version, and a removal and reinstall are read from the
//! databases, not inferred from file ownership.
//!
//! The rules are the same over any record type: the caller says how to parse one version
//! of a file and how to key and version its records.

use cairn_image::{ChangeKind, FsView, Node};
use cairn_sbom::{Location, OwnedFile, PackageChange, PackageChangeKind, Warning, WarningKind};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// One database file, live or removed.
pub(crate) struct DbFile<'a> {
    /// Absolute path.
    pub path: String,
    pub node: &'a Node,
}

/// The databases at `paths` (absolute), in that order, whether live or removed.
pub(crate) fn databases<'a>(view: &'a FsView, paths: &[&str]) -> Vec<DbFile<'a>> {
    paths
        .iter()
        .filter_map(|p| {
            let node = view.get(p).or_else(|| view.removed(p))?;
            (!node.versions.is_empty()).then(|| DbFile {
                path: format!("/{}", p.trim_start_matches('/')),
                node,
            })
        })
        .collect()
}

/// A record as found in the final state: which file and which layer's version of it.
pub(crate) struct Entry<T> {
    pub path: String,
    pub layer: usize,
    pub record: Arc<T>,
}

pub(crate) struct PkgHistory {
    pub introduced: usize,
    /// The layer from which the current version is the one installed.
    pub settled_at: usize,
    pub changes: Vec<PackageChange>,
    /// Layers in which this package's database entry changed.
    pub db_layers: BTreeSet<usize>,
}

pub(crate) struct Timeline<T> {
    /// The installed records after the last layer, by key.
    pub final_state: BTreeMap<String, Entry<T>>,
    pub history: BTreeMap<String, PkgHistory>,
    /// Packages some layer installed and a later one removed for good: the last record of
    /// each, and the layer that removed it.
    pub removed: BTreeMap<String, (Entry<T>, usize)>,
}

impl<T> Timeline<T> {
    /// Every record to report: the final state's, then each removed package's last record
    /// with the layer that removed it.
    pub fn entries(&self) -> impl Iterator<Item = (&String, &Entry<T>, Option<usize>)> {
        let live = self.final_state.iter().map(|(k, e)| (k, e, None));
        let gone = self.removed.iter().map(|(k, (e, at))| (k, e, Some(*at)));
        live.chain(gone)
    }
}

/// What one version of a database file parsed into.
pub(crate) struct Parsed<T> {
    pub records: Vec<Arc<T>>,
}

/// Walks every layer that changed one of `dbs`, parsing each distinct version of each file
/// once. `parse(db, layer, bytes, is_final)` parses one version; `is_final` is true for the
/// visible version, the one whose problems a caller should report. Within one layer the
/// first database listing a key wins.
pub(crate) fn build<T>(
    dbs: &[DbFile],
    mut parse: impl FnMut(&DbFile, usize, &[u8], bool) -> Parsed<T>,
    key: impl Fn(&T) -> String,
    version: impl Fn(&T) -> String,
) -> Timeline<T> {
    let layers: BTreeSet<usize> = dbs
        .iter()
        .flat_map(|d| d.node.history.iter().map(|c| c.layer))
        .collect();
    let mut parsed: BTreeMap<(usize, usize), Arc<Vec<Arc<T>>>> = BTreeMap::new();
    let mut prev: BTreeMap<String, (String, usize, Arc<T>)> = BTreeMap::new();
    let mut history: BTreeMap<String, PkgHistory> = BTreeMap::new();
    let mut ever_removed: BTreeSet<String> = BTreeSet::new();
    let mut removed: BTreeMap<String, (Entry<T>, usize)> = BTreeMap::new();
    // Whether the latest layer left a database unread: then nothing is known of the final
    // state, and no package may be called removed for it.
    let mut unknown_now = false;
    for &layer in &layers {
        let mut state: BTreeMap<String, (String, usize, Arc<T>)> = BTreeMap::new();
        let mut unknown = false;
        for (di, db) in dbs.iter().enumerate() {
            // The file as of this layer: its last change at or before it.
            let Some(change) = db.node.history.iter().rev().find(|c| c.layer <= layer) else {
                continue;
            };
            if change.kind == ChangeKind::Removed {
                continue;
            }
            // The bytes that layer wrote. When they were not read (over the content limit,
            // a warning already says so), an older version must not stand in for them: the
            // database is unknown in that layer.
            let Some((vi, (vlayer, bytes))) = db
                .node
                .versions
                .iter()
                .enumerate()
                .rev()
                .find(|(_, (l, _))| *l == change.layer)
            else {
                unknown = true;
                continue;
            };
            let records = parsed
                .entry((di, vi))
                .or_insert_with(|| {
                    let is_final = vi + 1 == db.node.versions.len()
                        && db.node.history.last().map(|c| c.kind) != Some(ChangeKind::Removed)
                        && db.node.version().is_some();
                    Arc::new(parse(db, *vlayer, bytes, is_final).records)
                })
                .clone();
            let mut mine = BTreeSet::new();
            for r in records.iter() {
                let mut k = key(r);
                // Several versions of one package in one database (rpm's install-only
                // packages, such as kernels): each after the first is its own package.
                if mine.contains(&k) {
                    k = format!("{k}@{}", version(r));
                }
                mine.insert(k.clone());
                state
                    .entry(k)
                    .or_insert_with(|| (db.path.clone(), *vlayer, r.clone()));
            }
        }
        // A layer whose database was not read (a warning says so) tells nothing: its
        // packages are neither removed nor installed by it, the state before it stands.
        unknown_now = unknown;
        if unknown {
            continue;
        }
        for (k, (_, _, r)) in &state {
            let v = version(r);
            match prev.get(k) {
                None => match history.get_mut(k) {
                    Some(h) if ever_removed.contains(k) => {
                        h.settled_at = layer;
                        h.db_layers.insert(layer);
                        h.changes.push(PackageChange {
                            layer,
                            kind: PackageChangeKind::Reinstalled,
                            from_version: None,
                            to_version: Some(v),
                            paths: vec![],
                        });
                    }
                    _ => {
                        history.insert(
                            k.clone(),
                            PkgHistory {
                                introduced: layer,
                                settled_at: layer,
                                changes: vec![],
                                db_layers: BTreeSet::from([layer]),
                            },
                        );
                    }
                },
                Some((_, _, old)) => {
                    let old_v = version(old);
                    if old_v != v {
                        if let Some(h) = history.get_mut(k) {
                            h.settled_at = layer;
                            h.db_layers.insert(layer);
                            h.changes.push(PackageChange {
                                layer,
                                kind: PackageChangeKind::VersionChanged,
                                from_version: Some(old_v),
                                to_version: Some(v),
                                paths: vec![],
                            });
                        }
                    }
                }
            }
        }
        for (k, (path, vlayer, record)) in &prev {
            if !state.contains_key(k) {
                let last = Entry {
                    path: path.clone(),
                    layer: *vlayer,
                    record: record.clone(),
                };
                removed.insert(k.clone(), (last, layer));
                ever_removed.insert(k.clone());
                if let Some(h) = history.get_mut(k) {
                    h.db_layers.insert(layer);
                    h.changes.push(PackageChange {
                        layer,
                        kind: PackageChangeKind::Removed,
                        from_version: Some(version(record)),
                        to_version: None,
                        paths: vec![],
                    });
                }
            }
        }
        prev = state;
    }
    removed.retain(|k, _| !prev.contains_key(k));
    if unknown_now {
        // An older version must not stand in for the unread final one.
        prev.clear();
        removed.clear();
    }
    Timeline {
        removed,
        final_state: prev
            .into_iter()
            .map(|(k, (path, layer, record))| {
                (
                    k,
                    Entry {
                        path,
                        layer,
                        record,
                    },
                )
            })
            .collect(),
        history,
    }
}

/// Later layers that overwrote or deleted the package's files without the database
/// recording a change of the package.
pub(crate) fn file_changes(
    view: &FsView,
    files: &[OwnedFile],
    h: &PkgHistory,
) -> Vec<PackageChange> {
    let mut by: BTreeMap<(usize, bool), Vec<String>> = BTreeMap::new();
    for f in files {
        let Some(node) = view.get(&f.path).or_else(|| view.removed(&f.path)) else {
            continue;
        };
        for c in &node.history {
            if c.layer <= h.settled_at || h.db_layers.contains(&c.layer) {
                continue;
            }
            let removed = c.kind == ChangeKind::Removed;
            by.entry((c.layer, removed))
                .or_default()
                .push(f.path.clone());
        }
    }
    by.into_iter()
        .map(|((layer, removed), paths)| PackageChange {
            layer,
            kind: if removed {
                PackageChangeKind::FilesRemoved
            } else {
                PackageChangeKind::FilesModified
            },
            from_version: None,
            to_version: None,
            paths,
        })
        .collect()
}

/// The warning for a file list a limit cut short, read from `at` (the caller names the
/// package).
pub(crate) fn truncated(at: &Location) -> Warning {
    let mut w = Warning::new(
        WarningKind::Limit,
        "the database lists more owned files than the owned-file limits allow; the file list is truncated",
    )
    .at(at.path.clone(), Some(at.layer))
    .incomplete();
    if let Some(l) = at.lines {
        w = w.lines(l);
    }
    w
}

/// Owned paths no Linux system could have (see `cairn_image::check_path`): counted, the
/// first remembered, and reported in one warning rather than one per path.
#[derive(Default)]
pub(crate) struct Refused {
    count: usize,
    /// The first one's reason and, when known, its line.
    first: Option<(String, Option<usize>)>,
}

impl Refused {
    /// Whether `path` may be used; if not it is counted, with its line when known.
    pub(crate) fn allows(&mut self, path: &str, line: Option<usize>) -> bool {
        match cairn_image::check_path(path) {
            Ok(()) => true,
            Err(reason) => {
                self.count += 1;
                self.first.get_or_insert((reason, line));
                false
            }
        }
    }

    /// The warning for what was refused from the file at `at`: on the first refused line
    /// when it is known, else on `at`'s lines.
    pub(crate) fn warning(self, at: &Location) -> Option<Warning> {
        let (reason, line) = self.first?;
        let w = Warning::new(
            WarningKind::InvalidPath,
            format!("{} owned path(s) refused, the first: {reason}", self.count),
        )
        .at(at.path.clone(), Some(at.layer));
        Some(match line.map(|l| (l, l)).or(at.lines) {
            Some(lines) => w.lines(lines),
            None => w,
        })
    }
}

/// The items whose path a Linux system could have; the others are left out with one
/// warning for the package.
pub(crate) fn valid_paths<'a, T: 'a>(
    items: impl Iterator<Item = &'a T>,
    path: impl Fn(&T) -> &str,
    id: &str,
    at: &Location,
    warnings: &mut crate::Warnings,
) -> Vec<&'a T> {
    let mut refused = Refused::default();
    let kept: Vec<&T> = items.filter(|i| refused.allows(path(i), None)).collect();
    if let Some(w) = refused.warning(at) {
        warnings.push(w.package(id));
    }
    kept
}

/// The layer whose version of `path` is visible, or `None` if no layer has it now (a ghost
/// file, or one a later layer deleted).
pub(crate) fn live_layer(view: &FsView, path: &str) -> Option<usize> {
    view.resolve(path).ok().flatten().map(|(_, n)| n.layer())
}

/// Whether `path` is a directory in the image (live or removed).
pub(crate) fn is_dir(view: &FsView, path: &str) -> bool {
    match view.resolve(path).ok().flatten() {
        Some((_, n)) => n.kind == cairn_image::NodeKind::Dir,
        None => view
            .removed(path)
            .is_some_and(|n| n.kind == cairn_image::NodeKind::Dir),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_image::{Change, NodeKind};

    /// A database file written by the given layers with the given `name version` lines.
    fn node(versions: &[(usize, &str)]) -> Node {
        Node {
            kind: NodeKind::File,
            size: 0,
            mode: 0o644,
            history: versions
                .iter()
                .enumerate()
                .map(|(i, (layer, _))| Change {
                    layer: *layer,
                    kind: if i == 0 {
                        ChangeKind::Added
                    } else {
                        ChangeKind::Modified
                    },
                })
                .collect::<Vec<_>>()
                .into(),
            versions: versions
                .iter()
                .map(|(l, text)| (*l, Arc::from(text.as_bytes())))
                .collect::<Vec<_>>()
                .into(),
            digests: None,
        }
    }

    fn timeline(n: &Node) -> Timeline<(String, String)> {
        let dbs = [DbFile {
            path: "/db".into(),
            node: n,
        }];
        build(
            &dbs,
            |_, _, bytes, _| Parsed {
                records: String::from_utf8_lossy(bytes)
                    .lines()
                    .filter_map(|l| l.split_once(' '))
                    .map(|(n, v)| Arc::new((n.to_owned(), v.to_owned())))
                    .collect(),
            },
            |r| r.0.clone(),
            |r| r.1.clone(),
        )
    }

    #[test]
    fn introductions_upgrades_removals_and_reinstalls() {
        let n = node(&[
            (0, "a 1\nb 1\n"),
            (1, "a 2\nb 1\n"),
            (2, "b 1\n"),
            (3, "a 3\nb 1\n"),
        ]);
        let t = timeline(&n);
        assert!(t.removed.is_empty(), "a was reinstalled");
        assert_eq!(t.final_state.len(), 2);
        assert_eq!(t.final_state["a"].layer, 3);
        let a = &t.history["a"];
        assert_eq!(a.introduced, 0);
        assert_eq!(a.settled_at, 3);
        let kinds: Vec<_> = a.changes.iter().map(|c| (c.layer, c.kind)).collect();
        assert_eq!(
            kinds,
            [
                (1, PackageChangeKind::VersionChanged),
                (2, PackageChangeKind::Removed),
                (3, PackageChangeKind::Reinstalled)
            ]
        );
        assert_eq!(a.db_layers, BTreeSet::from([0, 1, 2, 3]));
        let b = &t.history["b"];
        assert_eq!((b.introduced, b.changes.len()), (0, 0));
    }

    /// rpm's install-only packages (kernels): two versions of one name in one database are
    /// two packages, not one that hides the other.
    #[test]
    fn several_versions_of_one_package_in_one_database() {
        let n = node(&[(0, "kernel 5.1\n"), (1, "kernel 5.1\nkernel 5.2\n")]);
        let t = timeline(&n);
        let keys: Vec<_> = t.final_state.keys().cloned().collect();
        assert_eq!(keys, ["kernel", "kernel@5.2"]);
        assert_eq!(t.history["kernel"].changes.len(), 0);
        assert_eq!(t.history["kernel@5.2"].introduced, 1);
    }

    #[test]
    fn a_removed_database_leaves_no_packages() {
        let mut n = node(&[(0, "a 1\n")]);
        n.history.push(Change {
            layer: 1,
            kind: ChangeKind::Removed,
        });
        assert!(timeline(&n).final_state.is_empty());
    }

    /// A purged package: its last record, the layer that wrote it, and the layer that
    /// removed it.
    #[test]
    fn a_purged_package_is_kept_with_where_it_went() {
        let n = node(&[(0, "a 1\nb 1\n"), (2, "a 2\nb 1\n"), (3, "b 1\n")]);
        let t = timeline(&n);
        let (last, gone) = &t.removed["a"];
        assert_eq!((last.layer, last.record.1.as_str(), *gone), (2, "2", 3));
        assert_eq!(t.history["a"].introduced, 0);
        assert!(!t.removed.contains_key("b"));
    }

    /// A database written by layers 0, 1 and 2 whose layer-1 version (or, with
    /// `final_unread`, its last) was not read (over the content limit).
    fn unread_node(final_unread: bool) -> Node {
        let mut history = vec![
            Change {
                layer: 0,
                kind: ChangeKind::Added,
            },
            Change {
                layer: 1,
                kind: ChangeKind::Modified,
            },
        ];
        let mut versions = vec![(0, Arc::from(&b"a 1\nb 1\n"[..]))];
        if !final_unread {
            history.push(Change {
                layer: 2,
                kind: ChangeKind::Modified,
            });
            versions.push((2, Arc::from(&b"a 1\n"[..])));
        }
        Node {
            kind: NodeKind::File,
            size: 0,
            mode: 0o644,
            history: history.into(),
            versions: versions.into(),
            digests: None,
        }
    }

    /// An unread layer tells nothing: no package is removed or reinstalled by it.
    #[test]
    fn an_unread_database_version_removes_nothing() {
        let t = timeline(&unread_node(false));
        assert_eq!(t.removed.keys().collect::<Vec<_>>(), ["b"]);
        assert_eq!(
            t.removed["b"].1, 2,
            "b went in layer 2, not in the unread layer 1"
        );
        let a = &t.history["a"];
        assert!(
            a.changes.is_empty(),
            "{:?}",
            a.changes.iter().map(|c| c.kind).collect::<Vec<_>>()
        );
        // The final version unread: nothing is known of the final state, nothing removed.
        let t = timeline(&unread_node(true));
        assert!(t.final_state.is_empty() && t.removed.is_empty());
    }
}
