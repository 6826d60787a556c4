//! The layered filesystem view: the image's layers applied in order, with whiteouts and
//! opaque directories, where every path keeps the list of layers that added, changed or
//! removed it. Removed paths are kept aside with their history so that a question such as
//! "which layer deleted this package's files?" has an answer.

use crate::error::{Error, Result};
use crate::extract::{ExtractStats, FactRef, FactResult, Selection};
use crate::layer::{self, Added, Extra, LayerIndex, Op};
use crate::source::{Image, LayerInfo};
use crate::{PathPattern, ScanOptions, ViewWarning, ViewWarningKind};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeKind {
    File,
    Dir,
    /// A symbolic link and its target as written in the layer.
    Symlink(Box<str>),
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

/// Every layer that touched a path, oldest first. Almost every path is touched by one
/// layer only, so one change is kept inline: a view of millions of paths then costs no
/// allocation per path for its history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum History {
    One(Change),
    Many(Vec<Change>),
}

impl History {
    pub fn push(&mut self, c: Change) {
        match self {
            History::One(first) => *self = History::Many(vec![*first, c]),
            History::Many(v) => v.push(c),
        }
    }
}

impl std::ops::Deref for History {
    type Target = [Change];
    fn deref(&self) -> &[Change] {
        match self {
            History::One(c) => std::slice::from_ref(c),
            History::Many(v) => v,
        }
    }
}

impl<'a> IntoIterator for &'a History {
    type Item = &'a Change;
    type IntoIter = std::slice::Iter<'a, Change>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl From<Vec<Change>> for History {
    fn from(v: Vec<Change>) -> History {
        match v.as_slice() {
            [c] => History::One(*c),
            _ => History::Many(v),
        }
    }
}

/// The contents each layer wrote to a path, oldest first; most paths have none, and then
/// this costs one pointer.
// A boxed Vec on purpose: one pointer in every node instead of a Vec's three words.
#[allow(clippy::box_collection)]
#[derive(Clone, Debug, Default)]
pub struct Versions(Option<Box<Vec<Version>>>);

/// The layer that wrote a version of a file, and its bytes.
pub type Version = (usize, Arc<[u8]>);

impl Versions {
    pub fn push(&mut self, v: (usize, Arc<[u8]>)) {
        self.0.get_or_insert_with(Default::default).push(v);
    }
}

impl std::ops::Deref for Versions {
    type Target = [(usize, Arc<[u8]>)];
    fn deref(&self) -> &[(usize, Arc<[u8]>)] {
        self.0.as_deref().map_or(&[], |v| v.as_slice())
    }
}

impl From<Vec<(usize, Arc<[u8]>)>> for Versions {
    fn from(v: Vec<(usize, Arc<[u8]>)>) -> Versions {
        Versions((!v.is_empty()).then(|| Box::new(v)))
    }
}

/// What one layer did to the files of the image, counted as the layers are applied: what
/// it wrote, and how much of that later layers threw away (the waste that image-size
/// tools such as dive report). Regular files only; a hard link adds no bytes of its own.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct LayerStats {
    /// Regular files the layer wrote (hard links included).
    pub files: u64,
    /// Bytes of the regular files it wrote.
    pub bytes: u64,
    /// Files it wrote that a later layer overwrote or deleted.
    pub wasted_files: u64,
    /// Bytes of those files.
    pub wasted_bytes: u64,
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
    pub history: History,
    /// For files whose contents were requested: the contents each layer wrote, oldest first.
    pub versions: Versions,
    pub digests: Option<Box<FileDigests>>,
}

impl Node {
    /// Whether the visible version is a regular file, its size and the layer that wrote it.
    fn written(&self) -> (bool, u64, usize) {
        (self.kind == NodeKind::File, self.size, self.layer())
    }

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

    /// The layer that last wrote this path (for a removed path: before it was removed).
    pub fn last_written(&self) -> Option<usize> {
        self.history
            .iter()
            .rev()
            .find(|c| c.kind != ChangeKind::Removed)
            .map(|c| c.layer)
    }

    /// The contents of the last write and the layer that wrote them, if they were read.
    /// When the last layer to write the path was not read (its version was over the content
    /// limit, or it made the path a link or a directory), there is none: older contents
    /// never stand in for newer ones.
    pub fn version(&self) -> Option<(usize, &Arc<[u8]>)> {
        let (layer, c) = self.versions.last()?;
        (Some(*layer) == self.last_written()).then_some((*layer, c))
    }

    /// The visible contents, if they were requested and read (see [`Node::version`]).
    pub fn content(&self) -> Option<&Arc<[u8]>> {
        self.version().map(|(_, c)| c)
    }
}

/// The longest path the kernel takes (`PATH_MAX`, including the terminating NUL).
pub const MAX_PATH_BYTES: usize = 4096;
/// The longest name of one path segment (`NAME_MAX`).
pub const MAX_NAME_BYTES: usize = 255;
/// Symbolic links followed while resolving one path before it is called a loop (Linux's
/// `MAXSYMLINKS`).
pub const MAX_LINK_HOPS: usize = 40;

/// Refuse a path no Linux system could use: over `PATH_MAX` bytes in all, or with a segment
/// over `NAME_MAX`. Paths read from package databases are checked with this before they
/// are resolved, so a hostile database cannot make resolution costly.
pub fn check_path(path: &str) -> std::result::Result<(), String> {
    if path.len() >= MAX_PATH_BYTES {
        return Err(format!(
            "path of {} bytes is over the kernel's {MAX_PATH_BYTES}-byte limit",
            path.len()
        ));
    }
    if let Some(seg) = path.split('/').find(|s| s.len() > MAX_NAME_BYTES) {
        return Err(format!(
            "path segment of {} bytes is over the kernel's {MAX_NAME_BYTES}-byte limit",
            seg.len()
        ));
    }
    Ok(())
}

/// A path for a message: whole when short, else its start and its length.
pub fn shorten(path: &str) -> String {
    const KEEP: usize = 96;
    if path.len() <= KEEP {
        return path.to_owned();
    }
    let mut end = KEEP;
    while !path.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes)", &path[..end], path.len())
}

/// FNV-1a over `/seg1/seg2/...`, extended one segment at a time, so that every prefix of a
/// path being resolved has its hash at the cost of its last segment.
#[derive(Clone, Copy)]
struct PathHash(u64);

impl PathHash {
    const ROOT: PathHash = PathHash(0xcbf2_9ce4_8422_2325);

    fn push(self, seg: &str) -> PathHash {
        const PRIME: u64 = 0x0000_0100_0000_01b3;
        let mut h = (self.0 ^ u64::from(b'/')).wrapping_mul(PRIME);
        for b in seg.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(PRIME);
        }
        PathHash(h)
    }

    fn of(path: &str) -> PathHash {
        path.split('/')
            .filter(|s| !s.is_empty())
            .fold(PathHash::ROOT, PathHash::push)
    }
}

/// The merged filesystem of an image. Paths are stored without a leading `/`; every method
/// accepts them with or without it.
#[derive(Debug, Default)]
pub struct FsView {
    nodes: BTreeMap<Box<str>, Node>,
    removed: BTreeMap<Box<str>, Node>,
    /// `PathHash` of every live symbolic link, so that `resolve` only looks up real links.
    symlinks: HashSet<u64>,
    warnings: Vec<ViewWarning>,
    skipped: Vec<String>,
    layers: usize,
    /// What extractors found, per path, oldest version first.
    facts: BTreeMap<Box<str>, Vec<StoredFact>>,
    /// Extractor names, by index.
    extractors: Vec<&'static str>,
    extract_stats: Vec<ExtractStats>,
    /// Per layer, what it wrote and what of that later layers discarded.
    layer_stats: Vec<LayerStats>,
    /// Files with more than one name (hard links), while the layers are applied: each
    /// name's group, and per group how many names are live, the bytes and the layer that
    /// wrote them. The bytes are wasted only when the last name goes.
    link_of: HashMap<Box<str>, usize>,
    link_groups: Vec<LinkGroup>,
}

/// One file's data shared by several names (see [`FsView::link_of`]).
#[derive(Debug, Clone, Copy)]
struct LinkGroup {
    names: u32,
    size: u64,
    layer: usize,
}

/// A fact about one version of a path.
#[derive(Debug)]
struct StoredFact {
    layer: usize,
    extractor: u16,
    result: FactResult,
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

/// Layers read at once from a registry when not asked otherwise, at least: downloads wait
/// on the network, so more than one per core keeps the cores busy (Trivy pulls five).
const REMOTE_WORKERS: usize = 4;

/// Decode every layer, largest first, each worker taking the next one as it finishes.
/// Layers differ in size by several times: halving the list in image order can leave one
/// core decoding the two big layers while the other sits idle, so the order is the classic
/// longest-first schedule instead. There are `opts.jobs` workers (one per core unless
/// asked otherwise, and at least [`REMOTE_WORKERS`] for a registry): plain threads, since
/// a worker reading from a registry also waits on the network. After an error no new layer
/// is started; the error of the lowest failing layer is returned. A layer whose blob could not be read (corrupt, or not matching its
/// digest) is reported to the store (a cache drops its copy).
fn read_layers(
    image: &Image,
    opts: &ScanOptions,
    sel: &Selection,
    kept: &AtomicU64,
) -> Result<Vec<LayerIndex>> {
    let layers = &image.layers;
    let mut order: Vec<usize> = (0..layers.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(layers[i].size));
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let slots: Vec<Mutex<Option<Result<LayerIndex>>>> =
        layers.iter().map(|_| Mutex::new(None)).collect();
    let store = image.store().as_ref();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let default = if store.remote() {
        cores.max(REMOTE_WORKERS)
    } else {
        cores
    };
    let workers = opts.jobs.unwrap_or(default).clamp(1, layers.len().max(1));
    let names = sel.names();
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                while !failed.load(Ordering::Relaxed) {
                    let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) else {
                        break;
                    };
                    let key = opts
                        .layer_cache
                        .as_ref()
                        .and_then(|_| crate::reuse::key(&layers[i], opts, &names));
                    let cached = match (&opts.layer_cache, &key) {
                        (Some(c), Some(k)) => c.get(k, opts, kept),
                        _ => None,
                    };
                    let r = match cached {
                        Some(index) => Ok(index),
                        None => {
                            let r = layer::read_layer(store, &layers[i], opts, sel, kept);
                            if let (Some(c), Some(k), Ok(index)) = (&opts.layer_cache, &key, &r) {
                                c.put(k.clone(), index);
                            }
                            r
                        }
                    };
                    match &r {
                        Ok(_) => {
                            if let Some(p) = &opts.progress {
                                p.layers.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        Err(_) => {
                            if let Some(blob) = &layers[i].blob {
                                store.rejected(blob);
                            }
                            failed.store(true, Ordering::Relaxed);
                        }
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
        let kept = AtomicU64::new(0);
        let sel = Selection::new(opts);
        let indexes: Vec<LayerIndex> = if let Some(root) = image.rootfs() {
            vec![crate::rootfs::read_dir(root, opts, &sel, &kept)?]
        } else {
            read_layers(image, opts, &sel, &kept)?
        };
        Self::merge(indexes, &image.layers, opts, &sel)
    }

    /// Apply decoded layers in order, under the limit on paths.
    pub(crate) fn merge(
        indexes: Vec<LayerIndex>,
        layers: &[LayerInfo],
        opts: &ScanOptions,
        sel: &Selection,
    ) -> Result<FsView> {
        let mut view = FsView::default();
        for (i, idx) in indexes.into_iter().enumerate() {
            view.apply(i, idx);
            let paths = (view.nodes.len() + view.removed.len()) as u64;
            if paths > opts.limits.max_paths {
                return Err(Error::Layer {
                    layer: i,
                    digest: layers.get(i).map(LayerInfo::id).unwrap_or_default(),
                    reason: format!(
                        "the image has more than {} paths (the limit on paths in one image)",
                        opts.limits.max_paths
                    ),
                });
            }
        }
        view.layers = layers.len();
        view.layer_stats
            .resize(layers.len().max(1), LayerStats::default());
        view.link_of = HashMap::new();
        view.link_groups = Vec::new();
        view.index_links();
        view.extractors = sel.names();
        view.extract_stats = sel.stats();
        Ok(view)
    }

    /// Once every layer is applied: the set of link hashes `resolve` asks.
    fn index_links(&mut self) {
        self.symlinks = self
            .nodes
            .iter()
            .filter(|(_, n)| matches!(n.kind, NodeKind::Symlink(_)))
            .map(|(k, _)| PathHash::of(k).0)
            .collect();
    }

    pub fn layer_count(&self) -> usize {
        self.layers
    }

    /// What each layer wrote and what of it later layers overwrote or deleted, by layer.
    pub fn layer_stats(&self) -> &[LayerStats] {
        &self.layer_stats
    }

    /// The version of `node` (at `path`) that a later layer is discarding: counted as
    /// waste of the layer that wrote it — for a file with several names, when its last
    /// name goes (its data stays in the image while one is left).
    fn discard(&mut self, path: &str, (is_file, size, layer): (bool, u64, usize)) {
        if !is_file {
            return;
        }
        let (size, layer) = match self.link_of.remove(path) {
            Some(g) => {
                let group = &mut self.link_groups[g];
                group.names = group.names.saturating_sub(1);
                if group.names > 0 {
                    return;
                }
                (group.size, group.layer)
            }
            None => (size, layer),
        };
        if let Some(s) = self.layer_stats.get_mut(layer) {
            s.wasted_files += 1;
            s.wasted_bytes += size;
        }
    }

    /// `path` becomes another name of the regular file at `target`.
    fn link(&mut self, target: &str, path: &str) {
        let g = match self.link_of.get(target) {
            Some(&g) => g,
            None => {
                let Some(t) = self.nodes.get(target) else {
                    return;
                };
                let g = self.link_groups.len();
                self.link_groups.push(LinkGroup {
                    names: 1,
                    size: t.size,
                    layer: t.layer(),
                });
                self.link_of.insert(target.into(), g);
                g
            }
        };
        self.link_groups[g].names += 1;
        self.link_of.insert(path.into(), g);
    }

    /// Non-fatal problems met while reading (e.g. a requested file over the size limit).
    pub fn warnings(&self) -> &[ViewWarning] {
        &self.warnings
    }

    /// Directories of a root filesystem that were deliberately not scanned (virtual
    /// filesystems such as `/proc`, other mounts under `--one-file-system`).
    pub fn skipped(&self) -> &[String] {
        &self.skipped
    }

    fn apply(&mut self, layer: usize, index: LayerIndex) {
        if self.layer_stats.len() <= layer {
            self.layer_stats.resize(layer + 1, LayerStats::default());
        }
        self.warnings.extend(index.warnings);
        self.skipped.extend(index.skipped);
        // Whiteouts and opaque markers hide lower layers only, so they go first.
        for e in index.entries.iter() {
            match e.op {
                Op::Whiteout => self.remove_tree(&e.path, layer, true),
                Op::Opaque => self.remove_tree(&e.path, layer, false),
                Op::Add(_) => {}
            }
        }
        for chunk in index.entries.into_chunks() {
            for e in chunk {
                if let Op::Add(added) = e.op {
                    self.add(e.path, added, layer);
                }
            }
        }
    }

    fn add(&mut self, path: Box<str>, added: Added, layer: usize) {
        let Added {
            kind,
            mut size,
            mode,
            extra,
        } = added;
        let Extra {
            hardlink,
            content,
            digests,
            mut facts,
        } = extra.map(|e| *e).unwrap_or_default();
        let mut digests = digests.map(Box::new);
        let mut versions_from_link = None;
        if let Some(target) = &hardlink {
            if let Some(t) = self.nodes.get(&**target) {
                size = t.size;
                digests = t.digests.clone();
                versions_from_link = t.content().cloned();
                if let Some(theirs) = self.facts.get(&**target) {
                    let last = t.last_written();
                    facts = theirs
                        .iter()
                        .filter(|f| Some(f.layer) == last)
                        .map(|f| (f.extractor, f.result.clone()))
                        .collect();
                }
            } else {
                self.warnings.push(ViewWarning {
                    kind: ViewWarningKind::Link,
                    path: format!("/{path}"),
                    layer: Some(layer),
                    incomplete: false,
                    message: format!("hard link to /{target}, which does not exist"),
                });
            }
        }
        let content = content.or(versions_from_link);
        if kind == NodeKind::File {
            let s = &mut self.layer_stats[layer];
            s.files += 1;
            if hardlink.is_none() {
                s.bytes += size;
            }
        }
        if !facts.is_empty() {
            let list = self.facts.entry(path.clone()).or_default();
            list.extend(facts.into_iter().map(|(extractor, result)| StoredFact {
                layer,
                extractor,
                result,
            }));
        }
        if kind != NodeKind::Dir {
            // A non-directory replacing a directory takes its subtree with it.
            if matches!(self.nodes.get(&*path), Some(n) if n.kind == NodeKind::Dir) {
                self.remove_tree(&path, layer, false);
            }
        }
        if let Some(old) = self.nodes.get(&*path).map(Node::written) {
            self.discard(&path, old);
        }
        if let Some(target) = hardlink.as_deref().filter(|_| kind == NodeKind::File) {
            let regular = self
                .nodes
                .get(target)
                .is_some_and(|t| t.kind == NodeKind::File);
            if regular && target != &*path {
                self.link(target, &path);
            }
        }
        match self.nodes.get_mut(&*path) {
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
                let added = Change {
                    layer,
                    kind: ChangeKind::Added,
                };
                let (history, mut versions) = match self.removed.remove(&*path) {
                    Some(mut old) => {
                        old.history.push(added);
                        (old.history, old.versions)
                    }
                    None => (History::One(added), Versions::default()),
                };
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
        let mut doomed: Vec<Box<str>> = self
            .nodes
            .range::<str, _>((
                std::ops::Bound::Included(prefix.as_str()),
                std::ops::Bound::Unbounded,
            ))
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(k, _)| k.clone())
            .collect();
        if itself && self.nodes.contains_key(path) {
            doomed.push(path.into());
        }
        for k in doomed {
            if let Some((k, mut node)) = self.nodes.remove_entry(&*k) {
                self.discard(&k, node.written());
                node.history.push(Change {
                    layer,
                    kind: ChangeKind::Removed,
                });
                self.removed.insert(k, node);
            }
        }
    }

    /// Every fact the extractor `name` found, in path order, each version of a path oldest
    /// first, with whether it is about the visible version.
    pub fn facts<'a>(&'a self, name: &str) -> impl Iterator<Item = FactRef<'a>> + 'a {
        let idx = self.extractor_index(name);
        self.facts
            .iter()
            .flat_map(move |(path, list)| self.fact_refs(path, list, idx))
    }

    /// The facts the extractor `name` found in one path's versions, oldest first: what
    /// [`FsView::facts`] gives for that path, by one lookup.
    pub fn facts_at<'a>(
        &'a self,
        name: &str,
        path: &str,
    ) -> impl Iterator<Item = FactRef<'a>> + 'a {
        let idx = self.extractor_index(name);
        self.facts
            .get_key_value(key(path))
            .into_iter()
            .flat_map(move |(path, list)| self.fact_refs(path, list, idx))
    }

    fn extractor_index(&self, name: &str) -> Option<usize> {
        self.extractors.iter().position(|n| *n == name)
    }

    fn fact_refs<'a>(
        &'a self,
        path: &'a str,
        list: &'a [StoredFact],
        idx: Option<usize>,
    ) -> impl Iterator<Item = FactRef<'a>> + 'a {
        let last = self.nodes.get(path).and_then(Node::last_written);
        list.iter()
            .filter(move |f| Some(f.extractor as usize) == idx)
            .map(move |f| FactRef {
                path,
                layer: f.layer,
                visible: Some(f.layer) == last,
                result: &f.result,
            })
    }

    /// How much each extractor was offered and read.
    pub fn extract_stats(&self) -> &[ExtractStats] {
        &self.extract_stats
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
        self.nodes.iter().map(|(k, v)| (&**k, v))
    }

    /// Every removed path with its node, in path order.
    pub fn iter_removed(&self) -> impl Iterator<Item = (&str, &Node)> {
        self.removed.iter().map(|(k, v)| (&**k, v))
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
        map: &'a BTreeMap<Box<str>, Node>,
        pattern: &PathPattern,
    ) -> Vec<(&'a str, &'a Node)> {
        let prefix = literal_prefix(pattern);
        map.range::<str, _>((
            std::ops::Bound::Included(prefix.as_str()),
            std::ops::Bound::Unbounded,
        ))
        .take_while(|(k, _)| k.starts_with(&prefix))
        .filter(|(k, _)| pattern.matches(k))
        .map(|(k, v)| (&**k, v))
        .collect()
    }

    /// Follow symbolic links in every component of `path`, never leaving the image root
    /// (`..` at the root stays at the root, absolute targets are taken from the image root).
    /// Returns the final path and its node, `Ok(None)` when it does not exist, and an error
    /// for a link loop, a path over the kernel's limits (see [`check_path`]) or a link
    /// target over them.
    ///
    /// The cost is linear in the length of `path` (and of the link targets followed): the
    /// resolved prefix is one string extended and truncated in place, and whether a prefix
    /// is a symbolic link is asked of a set of the links' path hashes, carried along
    /// segment by segment, so only the final path and real links are looked up by name.
    pub fn resolve(&self, path: &str) -> Result<Option<(String, &Node)>> {
        check_path(path).map_err(|reason| Error::Path {
            path: shorten(path),
            reason,
        })?;
        let mut hops = 0;
        // Segments still to walk, last first; link targets are pushed onto it.
        let mut pending: Vec<&str> = key(path).split('/').rev().collect();
        // The resolved prefix, and for each of its segments where it started and the
        // prefix's hash before it.
        let mut cur = String::with_capacity(path.len());
        let mut marks: Vec<(usize, PathHash)> = Vec::new();
        let mut hash = PathHash::ROOT;
        while let Some(seg) = pending.pop() {
            match seg {
                "" | "." => continue,
                ".." => {
                    if let Some((start, h)) = marks.pop() {
                        cur.truncate(start);
                        hash = h;
                    }
                    continue;
                }
                _ => {}
            }
            marks.push((cur.len(), hash));
            if !cur.is_empty() {
                cur.push('/');
            }
            cur.push_str(seg);
            hash = hash.push(seg);
            // Layers may leave parent directories implicit: only the last component has
            // to exist, and only links matter on the way.
            if !pending.is_empty() && !self.symlinks.contains(&hash.0) {
                continue;
            }
            let target = match self.nodes.get(cur.as_str()) {
                None if !pending.is_empty() => continue, // a hash collision
                None => return Ok(None),
                Some(Node {
                    kind: NodeKind::Symlink(target),
                    history,
                    ..
                }) => {
                    hops += 1;
                    if hops > MAX_LINK_HOPS {
                        return Err(Error::Layer {
                            layer: history.last().map(|c| c.layer).unwrap_or(0),
                            digest: format!("/{}", shorten(&cur)),
                            reason: format!(
                                "symbolic link loop (more than {MAX_LINK_HOPS} links) resolving /{}",
                                shorten(key(path))
                            ),
                        });
                    }
                    if target.len() > MAX_PATH_BYTES {
                        return Err(Error::Path {
                            path: format!("/{}", shorten(&cur)),
                            reason: format!(
                                "symbolic link target of {} bytes is over the {MAX_PATH_BYTES}-byte limit",
                                target.len()
                            ),
                        });
                    }
                    target
                }
                Some(_) => continue,
            };
            let (start, h) = marks.pop().expect("pushed above");
            cur.truncate(start);
            hash = h;
            if target.starts_with('/') {
                cur.clear();
                marks.clear();
                hash = PathHash::ROOT;
            }
            pending.extend(target.split('/').rev());
        }
        Ok(self.nodes.get(cur.as_str()).map(|n| (cur, n)))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::{Added, Entry, LayerIndex, Op};

    fn add(path: &str, kind: NodeKind, content: Option<&[u8]>) -> Entry {
        Entry {
            path: path.into(),
            op: Op::Add(Added {
                extra: Extra::new(None, content.map(Arc::from), None),
                ..Added::new(kind, content.map_or(0, |c| c.len() as u64), 0o644)
            }),
        }
    }

    fn view(layers: Vec<Vec<Entry>>) -> FsView {
        let mut v = FsView::default();
        for (i, entries) in layers.into_iter().enumerate() {
            v.apply(
                i,
                LayerIndex {
                    entries: entries.into(),
                    ..Default::default()
                },
            );
        }
        v.index_links();
        v
    }

    /// A file with two names: its bytes are written once, and wasted only when a later
    /// layer removes the last of its names (they stay in the image while one is left).
    #[test]
    fn a_hard_linked_file_is_wasted_when_its_last_name_goes() {
        let link = |path: &str, target: &str| Entry {
            path: path.into(),
            op: Op::Add(Added {
                extra: Extra::new(Some(target.into()), None, None),
                ..Added::new(NodeKind::File, 0, 0o644)
            }),
        };
        let gone = |path: &str| Entry {
            path: path.into(),
            op: Op::Whiteout,
        };
        let data = [7u8; 100];
        let v = view(vec![
            vec![add("a", NodeKind::File, Some(&data)), link("b", "a")],
            vec![gone("a")],
        ]);
        let s = v.layer_stats()[0];
        assert_eq!((s.files, s.bytes), (2, 100));
        assert_eq!(
            (s.wasted_files, s.wasted_bytes),
            (0, 0),
            "b still holds the data"
        );
        let v = view(vec![
            vec![add("a", NodeKind::File, Some(&data)), link("b", "a")],
            vec![gone("a")],
            vec![gone("b")],
        ]);
        let s = v.layer_stats()[0];
        assert_eq!((s.wasted_files, s.wasted_bytes), (1, 100));
        // A plain file overwritten: its bytes are the writer's waste at once.
        let v = view(vec![
            vec![add("c", NodeKind::File, Some(&data))],
            vec![add("c", NodeKind::File, Some(b"new"))],
        ]);
        assert_eq!(v.layer_stats()[0].wasted_bytes, 100);
        assert_eq!(v.layer_stats()[1].bytes, 3);
    }

    /// A 2 MB `/a/a/a/...` (as a hostile `.list` line gives) took 19 s when every segment
    /// rebuilt the joined path; it is refused at once as over PATH_MAX.
    #[test]
    fn a_2mb_deep_path_is_refused_not_resolved() {
        let v = view(vec![vec![add("a", NodeKind::Dir, None)]]);
        let deep = "/a".repeat(1 << 20);
        let start = std::time::Instant::now();
        let err = v.resolve(&deep).unwrap_err().to_string();
        assert!(err.contains("4096-byte limit"), "{err}");
        assert!(
            err.len() < 300,
            "the message quotes the path whole: {}",
            err.len()
        );
        assert!(start.elapsed() < std::time::Duration::from_secs(1));
        let long_name = format!("/usr/{}", "x".repeat(256));
        assert!(v
            .resolve(&long_name)
            .unwrap_err()
            .to_string()
            .contains("255-byte"));
    }

    /// The longest path allowed, deep and through links, resolves correctly.
    #[test]
    fn deep_paths_resolve_through_links_and_dotdot() {
        let deep: String = (0..2000).map(|_| "d/").collect::<String>() + "f";
        let v = view(vec![vec![
            add(&deep, NodeKind::File, Some(b"x")),
            add("l", NodeKind::Symlink("d/d".into()), None),
            add("abs", NodeKind::Symlink("/d".into()), None),
            add("up", NodeKind::Symlink("../../d".into()), None),
        ]]);
        let via_link = format!("/l/{}", &deep[4..]);
        assert_eq!(v.resolve(&via_link).unwrap().unwrap().0, deep);
        let via_abs = format!("/abs/{}", &deep[2..]);
        assert_eq!(v.resolve(&via_abs).unwrap().unwrap().0, deep);
        let via_up = format!("/up/../up/{}", &deep[2..]);
        assert_eq!(v.resolve(&via_up).unwrap().unwrap().0, deep);
        assert!(v.resolve("/l/nothing").unwrap().is_none());
    }

    #[test]
    fn a_link_loop_is_an_error() {
        let v = view(vec![vec![
            add("a", NodeKind::Symlink("b".into()), None),
            add("b", NodeKind::Symlink("a".into()), None),
        ]]);
        assert!(v.resolve("/a/x").unwrap_err().to_string().contains("loop"));
    }

    /// A later layer rewrote the file but its bytes were not read (over a limit, or the path
    /// became a link): the older layer's contents must not be presented as the visible ones.
    #[test]
    fn a_rewrite_that_was_not_read_hides_the_older_contents() {
        let v = view(vec![
            vec![
                add("etc/os-release", NodeKind::File, Some(b"ID=debian\n")),
                add("doc", NodeKind::File, Some(b"old")),
            ],
            vec![
                add("etc/os-release", NodeKind::File, None),
                add("doc", NodeKind::Symlink("/nowhere".into()), None),
            ],
        ]);
        let n = v.get("/etc/os-release").unwrap();
        assert_eq!(n.layer(), 1);
        assert!(n.content().is_none() && n.version().is_none());
        assert!(v.get("/doc").unwrap().version().is_none());
        let v = view(vec![
            vec![add("f", NodeKind::File, Some(b"one"))],
            vec![add("f", NodeKind::File, Some(b"two"))],
        ]);
        let (layer, c) = v.get("/f").unwrap().version().unwrap();
        assert_eq!((layer, &c[..]), (1, &b"two"[..]));
    }
}
