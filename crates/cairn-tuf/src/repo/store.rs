//! Where a repository's files live. The editor reads and writes through
//! [`Store`], so a repository can be a directory ([`DirStore`]), memory in
//! tests, or an object store later, without touching the editor.

use std::io;
use std::path::{Path, PathBuf};

/// Files of a repository, addressed by `/`-separated paths relative to its
/// top (`metadata/1.root.json`, `metadata/timestamp.json`).
pub trait Store: Sync {
    /// The file's bytes, or `None` when it does not exist.
    fn read(&self, path: &str) -> io::Result<Option<Vec<u8>>>;
    /// Names of the files directly in `dir` (empty when it does not exist).
    fn list(&self, dir: &str) -> io::Result<Vec<String>>;
    /// Creates or replaces `path` atomically: a reader sees the old bytes or
    /// the new ones, never a mix, and a killed writer leaves the old file.
    fn write(&self, path: &str, data: &[u8]) -> io::Result<()>;
    /// Writes a file that nothing refers to yet (a new metadata version): it
    /// need not be atomic, since clients reach it only through files written
    /// after it, and a later commit writes it again whole.
    fn write_new(&self, path: &str, data: &[u8]) -> io::Result<()> {
        self.write(path, data)
    }
    /// Like [`Store::write`], and the bytes are on disk when it returns: used
    /// for the file that makes a new repository state visible (timestamp).
    fn write_durable(&self, path: &str, data: &[u8]) -> io::Result<()> {
        self.write(path, data)
    }
}

/// A repository in a directory: `DIR/metadata/…` and `DIR/targets/…`.
#[derive(Debug, Clone)]
pub struct DirStore {
    root: PathBuf,
}

impl DirStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DirStore { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file system path of repository path `rel`. Refuses paths that
    /// could leave the directory (`..`, absolute, empty parts).
    pub fn path(&self, rel: &str) -> io::Result<PathBuf> {
        if rel.is_empty()
            || rel.starts_with('/')
            || rel
                .split('/')
                .any(|p| p.is_empty() || p == "." || p == ".." || p.contains('\0'))
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{rel:?} is not a path inside the repository"),
            ));
        }
        Ok(self.root.join(rel))
    }

    fn write_impl(&self, rel: &str, data: &[u8], sync: bool) -> io::Result<()> {
        use std::io::Write;
        let path = self.path(rel)?;
        let dir = path.parent().expect("a joined path has a parent");
        std::fs::create_dir_all(dir)?;
        let mut tmp = tempfile::Builder::new().prefix(".tmp-").tempfile_in(dir)?;
        tmp.write_all(data)?;
        if sync {
            tmp.as_file().sync_all()?;
        }
        tmp.persist(&path).map_err(|e| e.error)?;
        if sync {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    }
}

impl Store for DirStore {
    fn read(&self, rel: &str) -> io::Result<Option<Vec<u8>>> {
        match std::fs::read(self.path(rel)?) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn list(&self, rel: &str) -> io::Result<Vec<String>> {
        let dir = self.path(rel)?;
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry?;
            if let Some(name) = entry.file_name().to_str() {
                names.push(name.to_string());
            }
        }
        names.sort();
        Ok(names)
    }

    fn write(&self, rel: &str, data: &[u8]) -> io::Result<()> {
        self.write_impl(rel, data, false)
    }

    fn write_durable(&self, rel: &str, data: &[u8]) -> io::Result<()> {
        self.write_impl(rel, data, true)
    }

    fn write_new(&self, rel: &str, data: &[u8]) -> io::Result<()> {
        let path = self.path(rel)?;
        let write = || -> io::Result<()> {
            let mut f = std::fs::File::create(&path)?;
            std::io::Write::write_all(&mut f, data)
        };
        match write() {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                std::fs::create_dir_all(path.parent().expect("a joined path has a parent"))?;
                write()
            }
            other => other,
        }
    }
}

/// A repository in memory, for tests.
#[derive(Debug, Default)]
pub struct MemoryStore {
    files: std::sync::Mutex<std::collections::BTreeMap<String, Vec<u8>>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }
    /// A store holding `files`.
    pub fn new_from(files: std::collections::BTreeMap<String, Vec<u8>>) -> Self {
        MemoryStore {
            files: std::sync::Mutex::new(files),
        }
    }
    /// A copy of every file.
    pub fn files(&self) -> std::collections::BTreeMap<String, Vec<u8>> {
        self.files.lock().expect("not poisoned").clone()
    }
}

impl Store for MemoryStore {
    fn read(&self, path: &str) -> io::Result<Option<Vec<u8>>> {
        Ok(self.files.lock().expect("not poisoned").get(path).cloned())
    }
    fn list(&self, dir: &str) -> io::Result<Vec<String>> {
        let prefix = format!("{dir}/");
        Ok(self
            .files
            .lock()
            .expect("not poisoned")
            .keys()
            .filter_map(|k| k.strip_prefix(&prefix))
            .filter(|rest| !rest.contains('/'))
            .map(str::to_string)
            .collect())
    }
    fn write(&self, path: &str, data: &[u8]) -> io::Result<()> {
        self.files
            .lock()
            .expect("not poisoned")
            .insert(path.to_string(), data.to_vec());
        Ok(())
    }
}
