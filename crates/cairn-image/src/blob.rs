//! Where a blob's bytes live: a whole file, or a byte range of an outer tar archive. Blobs
//! are read with positioned streams, never memory-mapped, so that reading a large image does
//! not count its whole size against the process's resident memory.

use crate::error::{io_err, Error, Result};
use crate::Limits;
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tempfile::TempPath;

#[derive(Clone, Debug)]
pub(crate) struct BlobRef {
    /// The name shown in messages (`blobs/sha256/…` or `abc/layer.tar`).
    pub name: String,
    pub path: PathBuf,
    pub offset: u64,
    pub len: u64,
    /// The decompressed copy of a compressed outer archive that `path` names, deleted
    /// when the last blob in it is dropped.
    pub _temp: Option<Arc<TempPath>>,
}

impl BlobRef {
    pub fn file(name: String, path: PathBuf) -> Result<BlobRef> {
        let meta = std::fs::metadata(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::MissingBlob(name.clone())
            } else {
                Error::Io {
                    path: path.clone(),
                    source: e,
                }
            }
        })?;
        if !meta.is_file() {
            return Err(Error::MissingBlob(name));
        }
        Ok(BlobRef {
            name,
            path,
            offset: 0,
            len: meta.len(),
            _temp: None,
        })
    }

    pub fn open(&self) -> Result<impl Read> {
        let mut f = File::open(&self.path).map_err(io_err(&self.path))?;
        f.seek(SeekFrom::Start(self.offset))
            .map_err(io_err(&self.path))?;
        Ok(BufReader::with_capacity(256 * 1024, f.take(self.len)))
    }

    /// Read a small blob (a manifest, a config) whole, refusing anything over `limit`.
    pub fn read_small(&self, limit: u64) -> Result<Vec<u8>> {
        check_small(&self.name, self.len, limit)?;
        let mut buf = Vec::with_capacity(self.len as usize);
        self.open()?
            .read_to_end(&mut buf)
            .map_err(io_err(&self.path))?;
        if buf.len() as u64 != self.len {
            return Err(Error::Manifest {
                file: self.name.clone(),
                reason: format!("truncated: expected {} bytes, read {}", self.len, buf.len()),
            });
        }
        Ok(buf)
    }
}

/// A small document (a manifest, a config) of `len` bytes is refused over `limit`.
pub(crate) fn check_small(name: &str, len: u64, limit: u64) -> Result<()> {
    if len > limit {
        return Err(Error::TooLarge {
            what: name.to_owned(),
            size: len,
            limit,
        });
    }
    Ok(())
}

/// The regular files of an uncompressed tar archive (a docker-archive or an OCI archive),
/// indexed by normalized name, with symlinks between members resolved.
#[derive(Debug)]
pub(crate) struct TarIndex {
    path: PathBuf,
    files: HashMap<String, (u64, u64)>,
    links: HashMap<String, String>,
    temp: Option<Arc<TempPath>>,
}

impl TarIndex {
    /// Index the archive at `path`. A gzip- or zstd-compressed archive (`docker save |
    /// gzip`) is first decompressed once into a temporary file, which lives as long as the
    /// index or any blob taken from it.
    pub fn read(path: &Path, limits: &Limits) -> Result<TarIndex> {
        let mut file = File::open(path).map_err(io_err(path))?;
        let mut magic = [0u8; 4];
        let n = file.read(&mut magic).map_err(io_err(path))?;
        if !crate::layer::is_compressed(&magic[..n]) {
            return Self::read_plain(path, None, limits);
        }
        let unreadable = |e: std::io::Error| Error::Decompress {
            path: path.to_owned(),
            reason: e.to_string(),
        };
        let mut tmp = tempfile::Builder::new()
            .prefix(".cairn-archive-")
            .tempfile()
            .map_err(io_err(&std::env::temp_dir()))?;
        let input = File::open(path).map_err(io_err(path))?;
        crate::layer::decompress_to(input, tmp.as_file_mut(), limits).map_err(unreadable)?;
        let temp = Arc::new(tmp.into_temp_path());
        let index = Self::read_plain(&temp, Some(temp.clone()), limits);
        // Messages name the user's file, not the temporary copy.
        index.map_err(|e| match e {
            Error::UnknownKind { reason, .. } => Error::UnknownKind {
                path: path.to_owned(),
                reason,
            },
            e => e,
        })
    }

    fn read_plain(path: &Path, temp: Option<Arc<TempPath>>, limits: &Limits) -> Result<TarIndex> {
        let mut archive =
            tar::Archive::new(BufReader::new(File::open(path).map_err(io_err(path))?));
        let mut files = HashMap::new();
        let mut links = HashMap::new();
        // The tar crate quotes the offending header bytes: keep the message to one short line.
        let bad = |e: std::io::Error| Error::UnknownKind {
            path: path.to_owned(),
            reason: format!("not a readable tar archive: {}", one_line(&e.to_string())),
        };
        // Seek past member data instead of reading it: only the headers matter here.
        let mut count: u64 = 0;
        for entry in archive.entries_with_seek().map_err(bad)? {
            let entry = entry.map_err(bad)?;
            count += 1;
            if count > limits.max_archive_entries {
                return Err(Error::OverLimit {
                    what: format!("{}: archive entries", path.display()),
                    limit: limits.max_archive_entries,
                });
            }
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let Some(name) = normalize_member(&name) else {
                continue;
            };
            match entry.header().entry_type() {
                tar::EntryType::Regular | tar::EntryType::Continuous => {
                    files.insert(name, (entry.raw_file_position(), entry.size()));
                }
                tar::EntryType::Symlink | tar::EntryType::Link => {
                    if let Some(target) = entry.link_name_bytes() {
                        let target = String::from_utf8_lossy(&target).into_owned();
                        let joined = if entry.header().entry_type() == tar::EntryType::Symlink {
                            match name.rsplit_once('/') {
                                Some((dir, _)) => format!("{dir}/{target}"),
                                None => target,
                            }
                        } else {
                            target
                        };
                        if let Some(t) = normalize_member(&joined) {
                            links.insert(name, t);
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(TarIndex {
            path: path.to_owned(),
            files,
            links,
            temp,
        })
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn get(&self, name: &str) -> Option<BlobRef> {
        let mut name = normalize_member(name)?;
        for _ in 0..16 {
            if let Some(&(offset, len)) = self.files.get(&name) {
                return Some(BlobRef {
                    name,
                    path: self.path.clone(),
                    offset,
                    len,
                    _temp: self.temp.clone(),
                });
            }
            name = self.links.get(&name)?.clone();
        }
        None
    }

    pub fn blob(&self, name: &str) -> Result<BlobRef> {
        self.get(name)
            .ok_or_else(|| Error::MissingBlob(name.to_owned()))
    }
}

/// `s` cut at its first control character and to at most 80 characters.
fn one_line(s: &str) -> String {
    let line: String = s.chars().take_while(|c| !c.is_control()).take(80).collect();
    if line.len() < s.len() {
        format!("{line}…")
    } else {
        line
    }
}

/// Normalize a member name of an outer archive; `None` for names that climb out of it.
fn normalize_member(name: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for seg in name.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}
