//! Where a blob's bytes live: a whole file, or a byte range of an outer tar archive. Blobs
//! are read with positioned streams, never memory-mapped, so that reading a large image does
//! not count its whole size against the process's resident memory.

use crate::error::{io_err, Error, Result};
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

#[derive(Clone, Debug)]
pub(crate) struct BlobRef {
    /// The name shown in messages (`blobs/sha256/…` or `abc/layer.tar`).
    pub name: String,
    pub path: PathBuf,
    pub offset: u64,
    pub len: u64,
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
        if self.len > limit {
            return Err(Error::TooLarge {
                what: self.name.clone(),
                size: self.len,
                limit,
            });
        }
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

/// The regular files of an uncompressed tar archive (a docker-archive or an OCI archive),
/// indexed by normalized name, with symlinks between members resolved.
pub(crate) struct TarIndex {
    path: PathBuf,
    files: HashMap<String, (u64, u64)>,
    links: HashMap<String, String>,
}

impl TarIndex {
    pub fn read(path: &Path) -> Result<TarIndex> {
        let file = File::open(path).map_err(io_err(path))?;
        let mut magic = [0u8; 4];
        (&file).read_exact(&mut magic).ok();
        if magic[..2] == [0x1f, 0x8b] || magic == [0x28, 0xb5, 0x2f, 0xfd] {
            return Err(Error::UnknownKind {
                path: path.to_owned(),
                reason: "the archive itself is compressed; decompress it first (e.g. gunzip)"
                    .into(),
            });
        }
        let mut archive =
            tar::Archive::new(BufReader::new(File::open(path).map_err(io_err(path))?));
        let mut files = HashMap::new();
        let mut links = HashMap::new();
        let bad = |e: std::io::Error| Error::UnknownKind {
            path: path.to_owned(),
            reason: format!("not a readable tar archive: {e}"),
        };
        // Seek past member data instead of reading it: only the headers matter here.
        for entry in archive.entries_with_seek().map_err(bad)? {
            let entry = entry.map_err(bad)?;
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
