//! A root filesystem directory as a single layer, read the way one scans a live host or VM.
//!
//! - Symbolic links are recorded, never followed on the host (entries are stat'ed without
//!   following, files are opened with `O_NOFOLLOW`); they are resolved later inside the
//!   image view only.
//! - Special files (FIFOs, sockets, devices) are recorded as such and never opened; files
//!   are opened with `O_NONBLOCK`, so one that became a FIFO since it was stat'ed cannot hang
//!   the scan either.
//! - Directories that are mount points of virtual filesystems (proc, sysfs, cgroup, ...,
//!   from `/proc/self/mountinfo`) are recorded but not descended into; when the root is the
//!   host's own `/`, neither are `/proc`, `/sys`, `/dev` and `/run`; with
//!   `--one-file-system`, neither is any directory on another device than the root.
//! - A path that cannot be read (permission denied, vanished mid-walk, a name too long for
//!   the OS, ...) is skipped with a message naming it and the OS error, and the walk goes on.
//!
//! Known limit: a directory is listed by its host path, so a directory swapped for a
//! symbolic link between being stat'ed and being listed would be followed (std has no
//! `openat`); the final component of every file opened is checked.

use crate::error::{io_err, Result};
use crate::extract::{take, Probe, Selection, Taken};
use crate::fs::NodeKind;
use crate::layer::{fits, Added, Entry, Extra, LayerIndex, Op};
use crate::{ScanOptions, ViewWarning, ViewWarningKind};
use std::collections::BTreeMap;
use std::fs::{DirEntry, Metadata};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

/// Filesystem types that are kernel or runtime interfaces, not files of the system scanned.
const VIRTUAL_FS: &[&str] = &[
    "proc",
    "sysfs",
    "devtmpfs",
    "devpts",
    "cgroup",
    "cgroup2",
    "securityfs",
    "debugfs",
    "tracefs",
    "pstore",
    "bpf",
    "mqueue",
    "hugetlbfs",
    "fusectl",
    "configfs",
    "binfmt_misc",
    "autofs",
    "efivarfs",
    "nsfs",
    "rpc_pipefs",
];

/// Directories never scanned when the root is the host's own `/`, whatever is mounted on
/// them: process, kernel, device and runtime state.
const HOST_RUNTIME: &[&str] = &["proc", "sys", "dev", "run"];

pub(crate) fn read_dir(
    root: &Path,
    opts: &ScanOptions,
    sel: &Selection,
    kept: &AtomicU64,
) -> Result<LayerIndex> {
    let root_meta = std::fs::metadata(root).map_err(io_err(root))?;
    let canonical = root.canonicalize().map_err(io_err(root))?;
    let mut prune = virtual_mounts(&canonical, &mount_table());
    if is_host_root(&canonical, &root_meta) {
        for d in HOST_RUNTIME {
            prune
                .entry((*d).to_owned())
                .or_insert_with(|| "runtime state of the host".into());
        }
    }
    let mut index = LayerIndex::default();
    let mut stack = vec![String::new()];
    while let Some(rel) = stack.pop() {
        let dir = root.join(&rel);
        let (mut children, failed) = list(&dir);
        if let Some(e) = failed {
            if rel.is_empty() && children.is_empty() {
                return Err(io_err(&dir)(e)); // the root itself: nothing to scan
            }
            let wanted = opts.contents.iter().any(|p| p.may_match_below(&rel));
            unreadable(&mut index, &rel, "directory", &e, wanted);
        }
        children.sort_by_key(|e| e.file_name());
        for child in children.into_iter().rev() {
            let name = child.file_name().to_string_lossy().into_owned();
            let path = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            if opts.excluded(&path) {
                continue;
            }
            let want = sel.wants_contents(&path);
            let host = child.path();
            // fstatat on the open directory, without following a symbolic link.
            let meta = match child.metadata() {
                Ok(m) => m,
                Err(e) => {
                    let below = opts.contents.iter().any(|p| p.may_match_below(&path));
                    unreadable(&mut index, &path, "entry", &e, want || below);
                    continue;
                }
            };
            let mode = meta.permissions().mode();
            let ft = meta.file_type();
            let mut added = Added::new(NodeKind::Other, 0, mode);
            if ft.is_dir() {
                added.kind = NodeKind::Dir;
                if let Some(why) = prune.get(&path) {
                    index.skipped.push(format!("/{path}: {why}, not scanned"));
                } else if opts.one_file_system && meta.dev() != root_meta.dev() {
                    index.skipped.push(format!(
                        "/{path}: another filesystem (--one-file-system), not scanned"
                    ));
                } else {
                    stack.push(path.clone());
                }
            } else if ft.is_symlink() {
                match std::fs::read_link(&host) {
                    Ok(t) => added.kind = NodeKind::Symlink(t.to_string_lossy().into()),
                    Err(e) => {
                        unreadable(&mut index, &path, "symbolic link", &e, want);
                        continue;
                    }
                }
            } else if ft.is_file() {
                added.kind = NodeKind::File;
                added.size = meta.len();
                let keep = want && fits(meta.len(), &path, None, opts, kept, &mut index);
                if keep || opts.file_digests || sel.may_take(&path) {
                    match read_file(&host, &meta, &path, keep, opts, sel, kept) {
                        Ok(t) => {
                            added.extra = Extra {
                                hardlink: None,
                                content: t.content.map(Arc::from),
                                digests: t.digests,
                                facts: t.facts,
                            }
                            .boxed()
                        }
                        // Still recorded: the file exists, its contents are unknown.
                        Err(e) => unreadable(&mut index, &path, "file", &e, keep),
                    }
                }
            }
            // Anything else (FIFO, socket, device) stays NodeKind::Other and is never opened.
            index.entries.push(Entry {
                path: path.into(),
                op: Op::Add(added),
            });
        }
    }
    Ok(index)
}

/// The one place the walk reports a path it could not read (and then goes on without it).
/// `wanted`: a cataloger asked for this file, or for files that may be below this
/// directory, so packages may be missing; that is a warning, which marks the SBOM
/// incomplete. Anything else is a note: reported, but the SBOM stays complete.
fn unreadable(index: &mut LayerIndex, path: &str, what: &str, e: &std::io::Error, wanted: bool) {
    let message = if wanted {
        format!("{what} cannot be read ({e}); a cataloger needs it, packages may be missing")
    } else {
        format!("{what} cannot be read ({e}); skipped, no cataloger needs it")
    };
    index.warnings.push(ViewWarning {
        kind: ViewWarningKind::Unreadable,
        path: format!("/{path}"),
        layer: None,
        incomplete: wanted,
        message,
    });
}

/// The entries of a directory, and the error that stopped listing it, if one did.
fn list(dir: &Path) -> (Vec<DirEntry>, Option<std::io::Error>) {
    let mut out = Vec::new();
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => return (out, Some(e)),
    };
    for e in rd {
        match e {
            Ok(e) => out.push(e),
            Err(e) => return (out, Some(e)),
        }
    }
    (out, None)
}

/// Read a regular file the walk found, without following a symbolic link or blocking on a
/// FIFO that may have replaced it since, and only if it is still the file that was stat'ed.
fn read_file(
    host: &Path,
    seen: &Metadata,
    path: &str,
    keep: bool,
    opts: &ScanOptions,
    sel: &Selection,
    kept: &AtomicU64,
) -> std::io::Result<Taken> {
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(host)?;
    let now = f.metadata()?;
    if !now.is_file() || now.dev() != seen.dev() || now.ino() != seen.ino() {
        return Err(std::io::Error::other(
            "replaced by another file during the scan",
        ));
    }
    let probe = Probe {
        path,
        mode: seen.permissions().mode(),
        size: seen.len(),
    };
    take(&mut f, probe, keep, opts, sel, kept)
}

/// Whether `root` is the host's own `/` (directly, or by another name for it).
fn is_host_root(canonical: &Path, meta: &Metadata) -> bool {
    canonical == Path::new("/")
        || std::fs::metadata("/").is_ok_and(|m| m.dev() == meta.dev() && m.ino() == meta.ino())
}

/// The host's mount points with their filesystem types: `/proc/self/mountinfo`, else
/// `/proc/mounts`, else none (then only the host-root names are skipped).
fn mount_table() -> Vec<(PathBuf, String)> {
    if let Ok(text) = std::fs::read_to_string("/proc/self/mountinfo") {
        return parse_mountinfo(&text);
    }
    if let Ok(text) = std::fs::read_to_string("/proc/mounts") {
        return parse_mounts(&text);
    }
    Vec::new()
}

/// Mount points of virtual filesystems strictly below `root`, as paths relative to it,
/// each with why it is skipped.
fn virtual_mounts(root: &Path, table: &[(PathBuf, String)]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (mount, fstype) in table {
        if !VIRTUAL_FS.contains(&fstype.as_str()) {
            continue;
        }
        if let Ok(rel) = mount.strip_prefix(root) {
            let rel = rel.to_string_lossy();
            if !rel.is_empty() {
                out.insert(rel.into_owned(), format!("{fstype} mount point"));
            }
        }
    }
    out
}

/// `/proc/self/mountinfo`: `ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - TYPE
/// SOURCE SUPEROPTS`.
fn parse_mountinfo(text: &str) -> Vec<(PathBuf, String)> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            let sep = f.iter().skip(6).position(|x| *x == "-")? + 6;
            Some((
                PathBuf::from(unescape(f.get(4)?)),
                (*f.get(sep + 1)?).to_owned(),
            ))
        })
        .collect()
}

/// `/proc/mounts`: `SOURCE MOUNTPOINT TYPE OPTS FREQ PASSNO`.
fn parse_mounts(text: &str) -> Vec<(PathBuf, String)> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.split(' ');
            let mount = f.nth(1)?;
            Some((PathBuf::from(unescape(mount)), f.next()?.to_owned()))
        })
        .collect()
}

/// Undo the kernel's octal escapes in mount paths (`\040` for a space, `\134` for `\`).
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let octal = b
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match octal {
            Some(d) if b[i] == b'\\' => {
                out.push((d[0] - b'0') << 6 | (d[1] - b'0') << 3 | (d[2] - b'0'));
                i += 4;
            }
            _ => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
22 27 0:21 / /proc rw,relatime - proc proc rw
23 27 0:22 / /sys rw,relatime shared:2 - sysfs sysfs rw
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
50 27 0:40 / /srv/root\\040fs/proc rw - proc proc rw
51 27 0:41 / /srv/root\\040fs/tmp rw - tmpfs tmpfs rw
52 27 0:42 / /srv/root\\040fs rw - proc proc rw
";

    #[test]
    fn mountinfo_is_parsed_with_optional_fields_and_escapes() {
        let t = parse_mountinfo(MOUNTINFO);
        assert_eq!(t[1], (PathBuf::from("/sys"), "sysfs".into()));
        assert_eq!(t[4], (PathBuf::from("/srv/root fs/proc"), "proc".into()));
        assert_eq!(t.len(), 7);
    }

    #[test]
    fn proc_mounts_is_parsed() {
        let t = parse_mounts("proc /proc proc rw 0 0\n/dev/vda / ext4 rw 0 0\n");
        assert_eq!(t[0], (PathBuf::from("/proc"), "proc".into()));
        assert_eq!(t[1], (PathBuf::from("/"), "ext4".into()));
    }

    #[test]
    fn virtual_mounts_are_translated_into_the_root() {
        let t = parse_mountinfo(MOUNTINFO);
        let host: Vec<String> = virtual_mounts(Path::new("/"), &t).into_keys().collect();
        assert_eq!(
            host,
            [
                "proc",
                "srv/root fs",
                "srv/root fs/proc",
                "sys",
                "sys/fs/cgroup/systemd"
            ]
        );
        // The root itself is never skipped; tmpfs holds real files and is scanned.
        let inner = virtual_mounts(Path::new("/srv/root fs"), &t);
        assert_eq!(inner.keys().collect::<Vec<_>>(), ["proc"]);
        assert_eq!(inner["proc"], "proc mount point");
    }

    #[test]
    fn unescape_leaves_other_backslashes() {
        assert_eq!(unescape(r"a\040b\134c\9"), r"a b\c\9");
    }
}
