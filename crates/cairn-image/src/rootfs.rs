//! A root filesystem directory as a single layer. Symbolic links are recorded, never
//! followed on the host; special files are recorded as such and never opened.

use crate::error::{io_err, Result};
use crate::fs::NodeKind;
use crate::layer::{fits, read_entry, Added, Entry, Extra, LayerIndex, Op};
use crate::ScanOptions;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

pub(crate) fn read_dir(root: &Path, opts: &ScanOptions, kept: &AtomicU64) -> Result<LayerIndex> {
    let mut index = LayerIndex::default();
    let mut stack = vec![String::new()];
    while let Some(rel) = stack.pop() {
        let dir = root.join(&rel);
        let mut children: Vec<_> = std::fs::read_dir(&dir)
            .map_err(io_err(&dir))?
            .collect::<std::result::Result<_, _>>()
            .map_err(io_err(&dir))?;
        children.sort_by_key(|e| e.file_name());
        for child in children.into_iter().rev() {
            let name = child.file_name().to_string_lossy().into_owned();
            let path = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let host = child.path();
            let meta = std::fs::symlink_metadata(&host).map_err(io_err(&host))?;
            let mode = meta.permissions().mode();
            let ft = meta.file_type();
            let mut added = Added::new(NodeKind::Other, 0, mode);
            if ft.is_dir() {
                added.kind = NodeKind::Dir;
                stack.push(path.clone());
            } else if ft.is_symlink() {
                let t = std::fs::read_link(&host).map_err(io_err(&host))?;
                added.kind = NodeKind::Symlink(t.to_string_lossy().into());
            } else if ft.is_file() {
                added.kind = NodeKind::File;
                added.size = meta.len();
                let want = opts.contents.iter().any(|p| p.matches(&path));
                let keep = want && fits(meta.len(), &path, None, opts, kept, &mut index);
                if keep || opts.file_digests {
                    let mut f = std::fs::File::open(&host).map_err(io_err(&host))?;
                    let (bytes, d) =
                        read_entry(&mut f, keep, opts.file_digests).map_err(io_err(&host))?;
                    added.extra = Extra::new(None, bytes.map(Arc::from), d);
                }
            }
            index.entries.push(Entry {
                path: path.into(),
                op: Op::Add(added),
            });
        }
    }
    Ok(index)
}
