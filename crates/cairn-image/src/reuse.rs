//! Decoded layers reused across the scans of one process (`cairn fleet scan`): a base
//! layer that twenty images of a shard share is decoded once, not twenty times.
//!
//! A layer is kept only when its blob digest and diff id are both known and were checked
//! as it streamed (so the key names exactly the bytes decoded), under a key that also
//! names what the scan asked of the layer pass (the extractors, the content patterns, the
//! exclusions, file digests), so a scan that asks something else decodes again. Reused
//! contents are charged to the new scan's budget like decoded ones; a layer that met any
//! warning is not kept. The cache holds at most its byte bound
//! (entries and kept contents, estimated), dropping the oldest layer first.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use crate::layer::{LayerIndex, Op};
use crate::source::Verify;
use crate::{LayerInfo, ScanOptions};

/// Decoded layers kept for later scans in the same process.
pub struct LayerCache {
    max_bytes: u64,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Each layer with its estimated size and the bytes of contents it keeps.
    map: HashMap<String, (Arc<LayerIndex>, u64, u64)>,
    order: VecDeque<String>,
    bytes: u64,
    hits: u64,
    misses: u64,
}

impl LayerCache {
    /// A cache of at most `max_bytes` of decoded layers.
    pub fn new(max_bytes: u64) -> LayerCache {
        LayerCache {
            max_bytes,
            inner: Mutex::default(),
        }
    }

    /// (layers reused, layers decoded and offered to the cache).
    pub fn stats(&self) -> (u64, u64) {
        let i = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        (i.hits, i.misses)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The key of `layer` for a scan that asks what `opts` asks, or `None` when the layer's
/// bytes are not named and checked by both its digests.
pub(crate) fn key(layer: &LayerInfo, opts: &ScanOptions, names: &[&str]) -> Option<String> {
    if matches!(layer.verify, Verify::None) {
        return None;
    }
    let (digest, diff_id) = (layer.digest.as_ref()?, layer.diff_id.as_ref()?);
    Some(format!(
        "{digest} {diff_id} {names:?} {:?} {:?} {} {:?}",
        opts.contents, opts.exclude, opts.file_digests, opts.limits
    ))
}

/// Bytes a decoded layer holds, roughly, and the contents it keeps (charged to a scan).
fn size(index: &LayerIndex) -> (u64, u64) {
    let (mut total, mut kept) = (0u64, 0u64);
    for e in index.entries.iter() {
        total += 48 + e.path.len() as u64;
        if let Op::Add(a) = &e.op {
            if let Some(x) = &a.extra {
                total += 128 + 256 * x.facts.len() as u64;
                if let Some(c) = &x.content {
                    kept += c.len() as u64;
                }
            }
        }
    }
    (total + kept, kept)
}

impl LayerCache {
    /// The layer decoded earlier, its contents charged to this scan's `kept`; `None` when it
    /// is not here or the scan's budget cannot take its contents.
    pub(crate) fn get(
        &self,
        key: &str,
        opts: &ScanOptions,
        kept: &AtomicU64,
    ) -> Option<LayerIndex> {
        let (index, _, contents) = self.lock().map.get(key).cloned()?;
        if !crate::layer::may_keep(kept, contents, &opts.limits) {
            return None;
        }
        self.lock().hits += 1;
        Some((*index).clone())
    }

    /// Keeps a layer just decoded, if it fits. A layer with warnings is not kept: what it
    /// met may have depended on that scan (its budget for contents), not on the layer.
    pub(crate) fn put(&self, key: String, index: &LayerIndex) {
        let (bytes, contents) = size(index);
        let mut i = self.lock();
        i.misses += 1;
        if bytes > self.max_bytes || i.map.contains_key(&key) || !index.warnings.is_empty() {
            return;
        }
        while i.bytes + bytes > self.max_bytes {
            let Some(old) = i.order.pop_front() else {
                break;
            };
            if let Some((_, b, _)) = i.map.remove(&old) {
                i.bytes -= b;
            }
        }
        i.bytes += bytes;
        i.order.push_back(key.clone());
        i.map
            .insert(key, (Arc::new(index.clone()), bytes, contents));
    }
}
