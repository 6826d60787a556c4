//! Entry points for fuzzing (cargo feature `fuzzing`, which only `fuzz/` enables): the layer
//! reader and the image's JSON documents on bytes in memory, through the code a scan runs,
//! and the check that what a scan materialises stays within its [`Limits`].
//!
//! Nothing in cairn calls this module. What it adds to the real path is only what a file
//! on disk would give: [`scan_layers`] feeds each layer's bytes where a blob's stream would
//! be (as an OCI layer, checked against its own sha256), and the `parse_*` functions start
//! where a blob of that many bytes has been read. The docker-archive and OCI-archive
//! readers need a file; their fuzz target writes one and calls [`crate::open_with`].

use crate::blob::check_small;
use crate::error::{Error, Result};
use crate::fs::{check_path, FsView, Node, NodeKind, MAX_LINK_HOPS, MAX_PATH_BYTES};
use crate::layer;
use crate::manifest;
use crate::source::{self, LayerInfo, Platform, Verify};
use crate::{ChangeKind, Limits, PathPattern, ScanOptions};
use sha2::Digest;
use std::collections::HashSet;
use std::sync::atomic::AtomicU64;

pub use crate::manifest::{Descriptor, DockerManifestEntry, ImageConfig, ManifestOrIndex};

/// Limits small enough for a fuzzer to reach each of them with inputs of a few kilobytes
/// (a tar entry costs 512 bytes; gzip and zstd reach the size limits).
pub fn small_limits() -> Limits {
    Limits {
        max_content: 2 << 10,
        max_kept_bytes: 8 << 10,
        max_layer_bytes: 1 << 20,
        max_ratio: 20,
        bomb_floor: 64 << 10,
        max_layer_entries: 24,
        max_paths: 40,
        max_archive_entries: 24,
        max_json: 4 << 10,
        max_layers: 6,
        owned_files_per_database: (1_000, 64 << 10),
        owned_files_per_scan: (3_000, 192 << 10),
    }
}

/// Scan options that keep the contents and the digests of every file, so that every
/// content limit is in play.
pub fn keep_everything(limits: &Limits) -> ScanOptions {
    ScanOptions {
        contents: vec![PathPattern::new("/**")],
        file_digests: true,
        limits: limits.clone(),
        ..Default::default()
    }
}

/// Separates the layers of one fuzz input (see [`split_layers`]).
pub const LAYER_SEPARATOR: &[u8] = b"--cairn-next-layer--";

/// A fuzz input cut into layers at each [`LAYER_SEPARATOR`], base first.
pub fn split_layers(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while let Some(i) = rest
        .windows(LAYER_SEPARATOR.len())
        .position(|w| w == LAYER_SEPARATOR)
    {
        out.push(&rest[..i]);
        rest = &rest[i + LAYER_SEPARATOR.len()..];
    }
    out.push(rest);
    out
}

/// One layer's stored bytes (tar, gzip or zstd), decoded and applied to an empty view with
/// every file's contents kept ([`keep_everything`]).
pub fn scan_layer_bytes(bytes: &[u8], limits: &Limits) -> Result<FsView> {
    scan_layers(&[bytes], &keep_everything(limits))
}

/// Layers' stored bytes, base first, decoded by the layer reader and applied in order as
/// [`FsView::scan`] does, each checked against its own sha256 as an OCI layer is checked
/// against its descriptor. They are decoded one after another (a scan decodes them in
/// parallel), so which contents fit under `max_kept_bytes` does not depend on timing.
pub fn scan_layers(layers: &[&[u8]], opts: &ScanOptions) -> Result<FsView> {
    source::too_many_layers("fuzz input", layers.len(), &opts.limits)?;
    let infos: Vec<LayerInfo> = layers
        .iter()
        .enumerate()
        .map(|(index, bytes)| {
            let digest = format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)));
            LayerInfo {
                index,
                digest: Some(digest.clone()),
                diff_id: None,
                media_type: None,
                size: bytes.len() as u64,
                created_by: None,
                created: None,
                comment: None,
                blob: None,
                verify: Verify::Blob {
                    digest,
                    size: Some(bytes.len() as u64),
                },
            }
        })
        .collect();
    let kept = AtomicU64::new(0);
    let sel = crate::extract::Selection::new(opts);
    let indexes = infos
        .iter()
        .zip(layers)
        .map(|(info, bytes)| layer::read_layer_from(*bytes, info, opts, &sel, &kept))
        .collect::<Result<Vec<_>>>()?;
    FsView::merge(indexes, &infos, opts, &sel)
}

/// An image index (`index.json`, a nested index, a Docker manifest list) as an OCI source
/// reads it: refused over `max_json`, parsed, and the manifest for linux/amd64 (or the only
/// one) chosen from it, with a valid digest.
pub fn parse_index(bytes: &[u8], limits: &Limits) -> Result<Descriptor> {
    check_small("index.json", bytes.len() as u64, limits.max_json)?;
    let index: ManifestOrIndex = manifest::parse("index.json", bytes)?;
    if !source::is_index(&index, None) {
        return Err(Error::Manifest {
            file: "index.json".into(),
            reason: "is not an image index".into(),
        });
    }
    let manifests = index.manifests.unwrap_or_default();
    let chosen = source::select_manifest(&manifests, &Platform::default(), false)?;
    source::split_digest(&chosen.digest)?;
    Ok(chosen)
}

/// An image manifest (OCI, Docker v2) as an OCI source reads it: refused over `max_json`,
/// parsed, with a config, at most `max_layers` layers and valid digests.
pub fn parse_manifest(bytes: &[u8], limits: &Limits) -> Result<ManifestOrIndex> {
    check_small("manifest", bytes.len() as u64, limits.max_json)?;
    let m: ManifestOrIndex = manifest::parse("manifest", bytes)?;
    let bad = |reason: &str| Error::Manifest {
        file: "manifest".into(),
        reason: reason.into(),
    };
    if source::is_index(&m, None) {
        return Err(bad("is an image index"));
    }
    let config = m
        .config
        .as_ref()
        .ok_or_else(|| bad("image manifest has no config"))?;
    source::split_digest(&config.digest)?;
    let layers = m.layers.as_deref().unwrap_or_default();
    source::too_many_layers("manifest", layers.len(), limits)?;
    for d in layers {
        source::split_digest(&d.digest)?;
    }
    Ok(m)
}

/// An image config as a source reads it: refused over `max_json`, parsed, and its history
/// matched to its layers (`rootfs.diff_ids`).
pub fn parse_config(bytes: &[u8], limits: &Limits) -> Result<ImageConfig> {
    check_small("config", bytes.len() as u64, limits.max_json)?;
    let config: ImageConfig = manifest::parse("config", bytes)?;
    let layers = config.rootfs.as_ref().map_or(0, |r| r.diff_ids.len());
    let _ = source::layer_history(config.history.as_deref().unwrap_or(&[]), layers);
    let _ = source::platform_of(&config);
    Ok(config)
}

/// A `docker save` manifest.json as the docker-archive reader reads it: refused over
/// `max_json`, parsed, and its first image's layers counted against `max_layers`.
pub fn parse_docker_manifest(bytes: &[u8], limits: &Limits) -> Result<Vec<DockerManifestEntry>> {
    check_small("manifest.json", bytes.len() as u64, limits.max_json)?;
    let entries: Vec<DockerManifestEntry> = manifest::parse("manifest.json", bytes)?;
    let first = entries.first().ok_or_else(|| Error::Manifest {
        file: "manifest.json".into(),
        reason: "lists no image".into(),
    })?;
    source::too_many_layers("manifest.json", first.layers.len(), limits)?;
    Ok(entries)
}

/// Rewrite the checksum of every tar header in `tar`, walking headers as a tar reader does
/// (a header, its GNU sparse extension blocks, its data rounded up to 512 bytes), so that a
/// fuzzer's mutations reach past the checksum. Input that starts like gzip or zstd is left
/// alone. A PAX `size` record is not followed: after one, the walk may lose step.
pub fn fix_tar_checksums(tar: &mut [u8]) {
    if layer::is_compressed(tar) {
        return;
    }
    let mut pos = 0usize;
    while let Some(header) = tar.get_mut(pos..pos + 512) {
        pos += 512;
        if header.iter().all(|&b| b == 0) {
            continue;
        }
        header[148..156].fill(b' ');
        let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
        header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        let size = tar_number(&header[124..136]);
        // A GNU sparse header's isextended flag, then each extension block's.
        if header[156] == b'S' && header[482] != 0 {
            while let Some(ext) = tar.get(pos..pos + 512) {
                pos += 512;
                if ext[504] == 0 {
                    break;
                }
            }
        }
        let Some(next) = size
            .checked_add(511)
            .and_then(|s| usize::try_from(s & !511).ok())
            .and_then(|s| pos.checked_add(s))
        else {
            return;
        };
        pos = next;
    }
}

/// A tar number field: octal text, or base-256 when the top bit of its first byte is set.
fn tar_number(field: &[u8]) -> u64 {
    if field[0] & 0x80 != 0 {
        return field[1..].iter().fold(0u64, |n, &b| {
            n.checked_mul(256).map_or(u64::MAX, |n| n | u64::from(b))
        });
    }
    field
        .iter()
        .skip_while(|&&b| b == b' ')
        .take_while(|b| (b'0'..=b'7').contains(b))
        .fold(0u64, |n, &b| {
            n.saturating_mul(8).saturating_add(u64::from(b - b'0'))
        })
}

/// Panic, naming the bound, if `view` holds more than `limits` allow. Checked, for the
/// live and the removed paths together:
///
/// - paths: at most `max_paths`, each, and each symbolic link's target, under
///   [`MAX_PATH_BYTES`];
/// - entries: each layer added or changed at most `max_layer_entries` paths (every added
///   or changed path is one tar entry of that layer);
/// - contents: each kept version is at most `max_content` bytes, and all the distinct
///   versions kept (hard links share their target's) at most `max_kept_bytes`;
/// - digests: a file whose digests were computed was read whole from one layer's
///   decompressed stream, so it is at most `max_layer_bytes`;
/// - history: every path's changes name layers of the view, oldest first, and a live path's
///   last change is not a removal while a removed path's is;
/// - links: [`FsView::resolve`] of every path returns (a loop is an error after
///   [`MAX_LINK_HOPS`] links) with the same answer as a plain resolver that looks every
///   prefix up by name, and never ends on a symbolic link.
pub fn assert_within_limits(view: &FsView, limits: &Limits) {
    let nodes: Vec<(&str, &Node, bool)> = view
        .iter()
        .map(|(p, n)| (p, n, true))
        .chain(view.iter_removed().map(|(p, n)| (p, n, false)))
        .collect();
    assert!(
        nodes.len() as u64 <= limits.max_paths,
        "{} paths, over max_paths {}",
        nodes.len(),
        limits.max_paths
    );
    let layers = view.layer_count();
    let mut writes = vec![0u64; layers];
    let mut kept = HashSet::new();
    let mut kept_bytes = 0u64;
    for &(path, node, live) in &nodes {
        assert!(
            path.len() < MAX_PATH_BYTES,
            "a path of {} bytes, over MAX_PATH_BYTES",
            path.len()
        );
        if let NodeKind::Symlink(target) = &node.kind {
            assert!(
                target.len() < MAX_PATH_BYTES,
                "/{path}: a link target of {} bytes, over MAX_PATH_BYTES",
                target.len()
            );
        }
        let history = &node.history[..];
        assert!(!history.is_empty(), "/{path} has no history");
        assert!(
            history.windows(2).all(|w| w[0].layer <= w[1].layer),
            "/{path}: history out of layer order: {history:?}"
        );
        let last = history.last().expect("not empty");
        assert_eq!(
            last.kind == ChangeKind::Removed,
            !live,
            "/{path}: live {live} but last change {last:?}"
        );
        for c in history {
            assert!(c.layer < layers, "/{path}: change in layer {}", c.layer);
            if c.kind != ChangeKind::Removed {
                writes[c.layer] += 1;
            }
        }
        for (layer, content) in node.versions.iter() {
            assert!(*layer < layers, "/{path}: version of layer {layer}");
            assert!(
                content.len() as u64 <= limits.max_content,
                "/{path}: kept {} bytes, over max_content {}",
                content.len(),
                limits.max_content
            );
            if kept.insert(std::sync::Arc::as_ptr(content) as *const u8 as usize) {
                kept_bytes += content.len() as u64;
            }
        }
        if node.digests.is_some() {
            assert!(
                node.size <= limits.max_layer_bytes,
                "/{path}: {} bytes hashed, over max_layer_bytes {}",
                node.size,
                limits.max_layer_bytes
            );
        }
    }
    assert!(
        kept_bytes <= limits.max_kept_bytes,
        "{kept_bytes} bytes of contents kept, over max_kept_bytes {}",
        limits.max_kept_bytes
    );
    for (layer, n) in writes.iter().enumerate() {
        assert!(
            *n <= limits.max_layer_entries,
            "layer {layer} wrote {n} paths, over max_layer_entries {}",
            limits.max_layer_entries
        );
    }
    for &(path, _, _) in &nodes {
        let path = format!("/{path}");
        let fast = view.resolve(&path);
        let slow = resolve_by_name(view, &path);
        match (&fast, &slow) {
            (Ok(Some((p, n))), Ok(Some(q))) => {
                assert_eq!(p, q, "{path} resolved differently");
                assert!(
                    !matches!(n.kind, NodeKind::Symlink(_)),
                    "{path} resolved to the link {p}"
                );
            }
            (Ok(None), Ok(None)) | (Err(_), Err(())) => {}
            _ => panic!(
                "{path}: resolve gave {:?}, resolving by name {slow:?}",
                fast.as_ref().map(|r| r.as_ref().map(|(p, _)| p))
            ),
        }
        let _ = view.read(&path);
    }
}

/// [`FsView::resolve`]'s answer (the final path, or an error) computed plainly: every
/// prefix is looked up by name, without the set of link hashes.
fn resolve_by_name(view: &FsView, path: &str) -> std::result::Result<Option<String>, ()> {
    check_path(path).map_err(|_| ())?;
    let mut hops = 0;
    let mut pending: Vec<&str> = path.split('/').rev().collect();
    let mut cur = String::new();
    let mut starts: Vec<usize> = Vec::new();
    while let Some(seg) = pending.pop() {
        match seg {
            "" | "." => continue,
            ".." => {
                if let Some(start) = starts.pop() {
                    cur.truncate(start);
                }
                continue;
            }
            _ => {}
        }
        starts.push(cur.len());
        if !cur.is_empty() {
            cur.push('/');
        }
        cur.push_str(seg);
        if let Some(Node {
            kind: NodeKind::Symlink(target),
            ..
        }) = view.get(&cur)
        {
            hops += 1;
            if hops > MAX_LINK_HOPS || target.len() > MAX_PATH_BYTES {
                return Err(());
            }
            cur.truncate(starts.pop().expect("pushed above"));
            if target.starts_with('/') {
                cur.clear();
                starts.clear();
            }
            pending.extend(target.split('/').rev());
        }
    }
    Ok(view.get(&cur).map(|_| cur))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tar::{EntryType, Header};

    /// A tar of `(type, name, link target or contents)` entries.
    fn tar(entries: &[(EntryType, &str, &str)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for &(kind, name, arg) in entries {
            let mut h = Header::new_gnu();
            h.set_entry_type(kind);
            h.set_mode(0o644);
            match kind {
                EntryType::Symlink | EntryType::Link => {
                    h.set_size(0);
                    b.append_link(&mut h, name, arg).unwrap();
                }
                _ => {
                    h.set_size(arg.len() as u64);
                    b.append_data(&mut h, name, arg.as_bytes()).unwrap();
                }
            }
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn two_layers_with_whiteouts_and_links_stay_within_limits() {
        use EntryType::*;
        let base = tar(&[
            (Directory, "etc/", ""),
            (Regular, "etc/os-release", "ID=debian\n"),
            (Regular, "etc/gone", "x"),
            (Regular, "etc/opq/old", "old"),
        ]);
        let top = tar(&[
            (Regular, "etc/.wh.gone", ""),
            (Regular, "etc/opq/.wh..wh..opq", ""),
            (Regular, "etc/opq/new", "new"),
            (Link, "etc/hard", "etc/os-release"),
            (Symlink, "etc/abs", "/etc/os-release"),
            (Symlink, "loop", "loop"),
        ]);
        let limits = small_limits();
        let view = scan_layers(&[&base, &top], &keep_everything(&limits)).unwrap();
        assert_within_limits(&view, &limits);
        assert!(view.get("/etc/gone").is_none() && view.removed("/etc/gone").is_some());
        assert!(view.removed("/etc/opq/old").is_some());
        assert_eq!(
            &view.read("/etc/hard").unwrap().unwrap()[..],
            b"ID=debian\n"
        );
        assert_eq!(&view.read("/etc/abs").unwrap().unwrap()[..], b"ID=debian\n");
        assert!(view.resolve("/loop").is_err());
        assert_eq!(
            split_layers(&[&base[..], &top[..]].join(LAYER_SEPARATOR)).len(),
            2
        );
    }

    #[test]
    fn fixed_checksums_let_a_mutated_header_through() {
        let mut t = tar(&[(EntryType::Regular, "etc/passwd", "root:x:0:0\n")]);
        t[0] = b'x'; // xtc/passwd: the checksum no longer matches
        let limits = small_limits();
        assert!(scan_layer_bytes(&t, &limits).is_err());
        fix_tar_checksums(&mut t);
        let view = scan_layer_bytes(&t, &limits).unwrap();
        assert!(view.get("/xtc/passwd").is_some());
    }

    #[test]
    fn json_over_max_json_is_refused_unparsed() {
        let limits = small_limits();
        let big = vec![b' '; limits.max_json as usize + 1];
        assert!(matches!(
            parse_config(&big, &limits),
            Err(Error::TooLarge { .. })
        ));
        assert!(matches!(
            parse_index(&big, &limits),
            Err(Error::TooLarge { .. })
        ));
    }
}
