//! The layered filesystem view: the image's layers applied in order, with whiteouts and
//! opaque directories, where every path keeps the list of layers that added, changed or
//! removed it. Removed paths are kept aside with their history so that a question such as
//! "which layer deleted this package's files?" has an answer.

use crate::error::{Error, Result};
use crate::layer::{self, Added, LayerIndex, Op};
use crate::source::{Image, LayerInfo};
use crate::{PathPattern, ScanOptions};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeKind {
    File,
    Dir,
    /// A symbolic link and its target as written in the layer.
    Symlink(String),
    /// Devices, fifos and other special files.
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Added,
    Modified,
    Removed,
}

/// One layer's effect on a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Change {
    pub layer: usize,
    pub kind: ChangeKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileDigests {
    pub sha1: String,
    pub sha256: String,
}

#[derive(Clone, Debug)]
pub struct Node {
    pub kind: NodeKind,
    pub size: u64,
    pub mode: u32,
    /// Every layer that touched this path, oldest first.
    pub history: Vec<Change>,
    /// For files whose contents were requested: the contents each layer wrote, oldest first.
    pub versions: Vec<(usize, Arc<[u8]>)>,
    pub digests: Option<FileDigests>,
}

impl Node {
    /// The layer whose version of this path is the visible one.
    pub fn layer(&self) -> usize {
        self.history.last().map(|c| c.layer).unwrap_or(0)
    }

    /// The layer that first created the path (after its last removal, if any).
    pub fn introduced(&self) -> usize {
        let start = self
            .history
            .iter()
            .rposition(|c| c.kind == ChangeKind::Added)
            .unwrap_or(0);
        self.history.get(start).map(|c| c.layer).unwrap_or(0)
    }

    /// The visible contents, if they were requested.
    pub fn content(&self) -> Option<&Arc<[u8]>> {
        self.versions.last().map(|(_, c)| c)
    }
}

/// The merged filesystem of an image. Paths are stored without a leading `/`; every method
/// accepts them with or without it.
#[derive(Debug, Default)]
pub struct FsView {
    nodes: BTreeMap<String, Node>,
    removed: BTreeMap<String, Node>,
    warnings: Vec<String>,
    notes: Vec<String>,
    skipped: Vec<String>,
    layers: usize,
}

fn key(path: &str) -> &str {
    path.trim_start_matches('/').trim_end_matches('/')
}

/// The literal directory prefix of a pattern, to limit a glob to one subtree.
fn literal_prefix(p: &PathPattern) -> String {
    let mut out = Vec::new();
    for seg in p.as_str().split('/').filter(|s| !s.is_empty()) {
        if seg.contains(['*', '?']) {
            break;
        }
        out.push(seg);
    }
    out.join("/")
}

/// Decode every layer, largest first, each worker taking the next one as it finishes.
/// Layers differ in size by several times: rayon's halving of the list in image order
/// can leave one core decoding the two big layers while the other sits idle, so the
/// order is the classic longest-first schedule instead. After an error no new layer is
/// started; the error of the lowest failing layer is returned.
fn read_layers(layers: &[LayerInfo], opts: &ScanOptions) -> Result<Vec<LayerIndex>> {
    let mut order: Vec<usize> = (0..layers.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(layers[i].size));
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let slots: Vec<Mutex<Option<Result<LayerIndex>>>> =
        layers.iter().map(|_| Mutex::new(None)).collect();
    let workers = rayon::current_num_threads().min(layers.len());
    rayon::scope(|s| {
        for _ in 0..workers {
            s.spawn(|_| {
                while !failed.load(Ordering::Relaxed) {
                    let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) else {
                        break;
                    };
                    let r = layer::read_layer(&layers[i], opts);
                    if r.is_err() {
                        failed.store(true, Ordering::Relaxed);
                    }
                    *slots[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
                }
            });
        }
    });
    let mut out = Vec::with_capacity(layers.len());
    let mut first_err = None;
    for slot in slots {
        match slot.into_inner().unwrap_or_else(|e| e.into_inner()) {
            Some(Ok(idx)) => out.push(idx),
            Some(Err(e)) => {
                first_err.get_or_insert(e);
            }
            None => {} // not started after another layer failed
        }
    }
    match first_err {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

impl FsView {
    /// Scan an image: decode every layer in parallel, then apply them in order.
    pub fn scan(image: &Image, opts: &ScanOptions) -> Result<FsView> {
        let indexes: Vec<LayerIndex> = if let Some(root) = image.rootfs() {
            vec![crate::rootfs::read_dir(root, opts)?]
        } else {
            read_layers(&image.layers, opts)?
        };
        let mut view = FsView::default();
        for (i, idx) in indexes.into_iter().enumerate() {
            view.apply(i, idx);
        }
        view.layers = image.layers.len();
        Ok(view)
    }

    pub fn layer_count(&self) -> usize {
        self.layers
    }

    /// Non-fatal problems met while reading (e.g. a requested file over the size limit).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Problems that cost nothing a cataloger asked for (e.g. an unreadable directory in a
    /// root filesystem where no requested file can be).
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// Directories of a root filesystem that were deliberately not scanned (virtual
    /// filesystems such as `/proc`, other mounts under `--one-file-system`).
    pub fn skipped(&self) -> &[String] {
        &self.skipped
    }

    fn apply(&mut self, layer: usize, index: LayerIndex) {
        self.warnings.extend(index.warnings);
        self.notes.extend(index.notes);
        self.skipped.extend(index.skipped);
        // Whiteouts and opaque markers hide lower layers only, so they go first.
        for e in &index.entries {
            match e.op {
                Op::Whiteout => self.remove_tree(&e.path, layer, true),
                Op::Opaque => self.remove_tree(&e.path, layer, false),
                Op::Add(_) => {}
            }
        }
        for e in index.entries {
            if let Op::Add(added) = e.op {
                self.add(e.path, added, layer);
            }
        }
    }

    fn add(&mut self, path: String, added: Added, layer: usize) {
        let Added {
            kind,
            mut size,
            mode,
            hardlink,
            content,
            mut digests,
        } = added;
        let mut versions_from_link = None;
        if let Some(target) = &hardlink {
            if let Some(t) = self.nodes.get(target.as_str()) {
                size = t.size;
                digests = t.digests.clone();
                versions_from_link = t.content().cloned();
            } else {
                self.warnings.push(format!(
                    "layer {layer}: hard link /{path} points at /{target}, which does not exist"
                ));
            }
        }
        let content = content.or(versions_from_link);
        if kind != NodeKind::Dir {
            // A non-directory replacing a directory takes its subtree with it.
            if matches!(self.nodes.get(path.as_str()), Some(n) if n.kind == NodeKind::Dir) {
                self.remove_tree(&path, layer, false);
            }
        }
        match self.nodes.get_mut(path.as_str()) {
            Some(node) => {
                node.history.push(Change {
                    layer,
                    kind: ChangeKind::Modified,
                });
                node.kind = kind;
                node.size = size;
                node.mode = mode;
                node.digests = digests;
                if let Some(c) = content {
                    node.versions.push((layer, c));
                }
            }
            None => {
                let (mut history, mut versions) = match self.removed.remove(path.as_str()) {
                    Some(old) => (old.history, old.versions),
                    None => (Vec::new(), Vec::new()),
                };
                history.push(Change {
                    layer,
                    kind: ChangeKind::Added,
                });
                if let Some(c) = content {
                    versions.push((layer, c));
                }
                self.nodes.insert(
                    path,
                    Node {
                        kind,
                        size,
                        mode,
                        history,
                        versions,
                        digests,
                    },
                );
            }
        }
    }

    /// Remove `path`'s subtree (and `path` itself when `itself`), recording the removal.
    fn remove_tree(&mut self, path: &str, layer: usize, itself: bool) {
        let prefix = if path.is_empty() {
            String::new()
        } else {
            format!("{path}/")
        };
        let mut doomed: Vec<String> = self
            .nodes
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(k, _)| k.clone())
            .collect();
        if itself && self.nodes.contains_key(path) {
            doomed.push(path.to_owned());
        }
        for k in doomed {
            if let Some(mut node) = self.nodes.remove(&k) {
                node.history.push(Change {
                    layer,
                    kind: ChangeKind::Removed,
                });
                self.removed.insert(k, node);
            }
        }
    }

    /// The node at exactly this path (no symlink is followed).
    pub fn get(&self, path: &str) -> Option<&Node> {
        self.nodes.get(key(path))
    }

    /// A path that existed in some layer and was removed by a later one.
    pub fn removed(&self, path: &str) -> Option<&Node> {
        self.removed.get(key(path))
    }

    /// Every live path with its node, in path order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Node)> {
        self.nodes.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Every removed path with its node, in path order.
    pub fn iter_removed(&self) -> impl Iterator<Item = (&str, &Node)> {
        self.removed.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Live paths matching a pattern (no symlink is followed), in path order.
    pub fn glob(&self, pattern: &PathPattern) -> Vec<(&str, &Node)> {
        Self::glob_in(&self.nodes, pattern)
    }

    /// Removed paths matching a pattern: files that some layer wrote and a later one deleted.
    pub fn glob_removed(&self, pattern: &PathPattern) -> Vec<(&str, &Node)> {
        Self::glob_in(&self.removed, pattern)
    }

    fn glob_in<'a>(
        map: &'a BTreeMap<String, Node>,
        pattern: &PathPattern,
    ) -> Vec<(&'a str, &'a Node)> {
        let prefix = literal_prefix(pattern);
        map.range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .filter(|(k, _)| pattern.matches(k))
            .map(|(k, v)| (k.as_str(), v))
            .collect()
    }

    /// Follow symbolic links in every component of `path`, never leaving the image root
    /// (`..` at the root stays at the root, absolute targets are taken from the image root).
    /// Returns the final path and its node, `Ok(None)` when it does not exist, and an error
    /// for a link loop.
    pub fn resolve(&self, path: &str) -> Result<Option<(String, &Node)>> {
        let mut hops = 0;
        let mut pending: Vec<String> = key(path)
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .rev()
            .collect();
        let mut done: Vec<String> = Vec::new();
        while let Some(seg) = pending.pop() {
            match seg.as_str() {
                "." => continue,
                ".." => {
                    done.pop();
                    continue;
                }
                _ => {}
            }
            done.push(seg);
            let cur = done.join("/");
            match self.nodes.get(&cur) {
                // Layers may leave parent directories implicit: only the last component
                // has to exist.
                None if !pending.is_empty() => {}
                None => return Ok(None),
                Some(Node {
                    kind: NodeKind::Symlink(target),
                    ..
                }) => {
                    hops += 1;
                    if hops > 40 {
                        return Err(Error::Layer {
                            layer: self.nodes[&cur].layer(),
                            digest: format!("/{cur}"),
                            reason: format!("symbolic link loop resolving /{}", key(path)),
                        });
                    }
                    done.pop();
                    if target.starts_with('/') {
                        done.clear();
                    }
                    for s in target.split('/').filter(|s| !s.is_empty()).rev() {
                        pending.push(s.to_owned());
                    }
                }
                Some(_) => {}
            }
        }
        let cur = done.join("/");
        Ok(self.nodes.get(&cur).map(|n| (cur, n)))
    }

    /// The visible contents of a file, following symlinks; `None` if it does not exist, is
    /// not a file, or its contents were not requested.
    pub fn read(&self, path: &str) -> Result<Option<&Arc<[u8]>>> {
        Ok(self.resolve(path)?.and_then(|(_, n)| n.content()))
    }

    /// Describe a layer for messages.
    pub fn describe_layer(layer: &LayerInfo) -> String {
        format!("layer {} ({})", layer.index, layer.id())
    }
}
