//! Writing the files a user names on the command line.
//!
//! A regular file is written whole or not at all: a temporary file beside it,
//! flushed, then renamed into place. A path that is not a regular file — a
//! device such as `/dev/null`, a FIFO, `/dev/stdout` — is written in place:
//! renaming over it would replace the device node with a regular file (for
//! root, `/dev/null` itself). A symbolic link is followed, so the link stays
//! and the file it points to is replaced.

use anyhow::{Context, Result};
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Where a write to `path` lands.
pub enum Destination {
    /// A regular file, existing or not, to replace atomically.
    File(PathBuf),
    /// Something else that already exists (device, FIFO, socket): written in place.
    Special(PathBuf),
}

impl Destination {
    pub fn of(path: &Path) -> Destination {
        match fs::metadata(path) {
            Ok(m) if !m.is_file() && !m.is_dir() => Destination::Special(path.to_path_buf()),
            // A link to an existing file: replace the file, keep the link.
            Ok(_) if is_symlink(path) => {
                Destination::File(fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()))
            }
            _ => Destination::File(path.to_path_buf()),
        }
    }
}

fn is_symlink(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// Writes `data` to `path`, whole or not at all where `path` is a regular file.
pub fn write(path: &Path, data: &[u8]) -> Result<()> {
    copy_to(path, &mut &data[..])
}

/// Copies all of `src` to `path`, as [`write`] does.
pub fn copy_to(path: &Path, src: &mut dyn Read) -> Result<()> {
    match Destination::of(path) {
        Destination::Special(p) => File::options()
            .write(true)
            .open(&p)
            .and_then(|mut f| io::copy(src, &mut f).map(drop))
            .with_context(|| format!("writing {}", p.display())),
        Destination::File(p) => {
            replace(&p, src).with_context(|| format!("writing {}", p.display()))
        }
    }
}

fn replace(path: &Path, src: &mut dyn Read) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // Created as `File::create` would (0666 less the umask), not tempfile's 0600.
    let mut tmp = tempfile::Builder::new()
        .prefix(".cairn-tmp-")
        .permissions(fs::Permissions::from_mode(0o666))
        .tempfile_in(dir)?;
    io::copy(src, tmp.as_file_mut())?;
    tmp.as_file_mut().flush()?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
