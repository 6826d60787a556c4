//! `Cargo.lock` (versions 1 to 4): every `[[package]]` with its source, checksum and
//! dependencies (`name`, `name version` or `name version (source)`).

use serde::Deserialize;

/// Most packages read from one lock file.
pub(crate) const MAX_PACKAGES: usize = 100_000;

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub(crate) struct LockedPackage {
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub checksum: Option<String>,
    #[serde(default)]
    pub dependencies: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub(crate) struct CargoLock {
    #[serde(default)]
    pub version: Option<u32>,
    #[serde(default, rename = "package")]
    pub packages: Vec<LockedPackage>,
}

impl CargoLock {
    pub fn parse(bytes: &[u8]) -> Result<CargoLock, String> {
        let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8".to_owned())?;
        crate::lang::nesting_within(bytes, crate::lang::MAX_NESTING)?;
        let lock: CargoLock = toml::from_str(text).map_err(|e| {
            let mut m = e.message().to_owned();
            if let Some(span) = e.span() {
                let line = text[..span.start.min(text.len())].lines().count().max(1);
                m = format!("line {line}: {m}");
            }
            m
        })?;
        if lock.packages.len() > MAX_PACKAGES {
            return Err(format!(
                "{} packages, over the limit of {MAX_PACKAGES}",
                lock.packages.len()
            ));
        }
        Ok(lock)
    }

    /// The package a dependency entry names: `name` alone when only one version is locked,
    /// else `name version`.
    pub fn resolve(&self, dep: &str) -> Option<usize> {
        let mut w = dep.split_whitespace();
        let name = w.next()?;
        let version = w.next();
        let mut hits = self
            .packages
            .iter()
            .enumerate()
            .filter(|(_, p)| p.name == name && version.is_none_or(|v| p.version == v));
        let first = hits.next()?.0;
        hits.next().is_none().then_some(first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cairns_own_lock_file_parses_with_edges() {
        let bytes =
            std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.lock")).unwrap();
        let lock = CargoLock::parse(&bytes).unwrap();
        assert_eq!(lock.version, Some(4));
        let tar = lock.packages.iter().find(|p| p.name == "tar").unwrap();
        assert!(tar.source.as_deref().unwrap().starts_with("registry+"));
        assert!(tar.checksum.is_some());
        let me = lock
            .packages
            .iter()
            .find(|p| p.name == "cairn-catalog")
            .unwrap();
        assert!(me.source.is_none());
        assert!(me.dependencies.iter().all(|d| lock.resolve(d).is_some()));
    }

    #[test]
    fn broken_and_deep_lock_files_are_errors() {
        assert!(CargoLock::parse(b"[[package]]\nname = \"a\"\n").is_err()); // no version
        assert!(CargoLock::parse(b"[[package]\nname=")
            .unwrap_err()
            .contains("line"));
        let deep = format!("x = {}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(CargoLock::parse(deep.as_bytes()).is_err());
        assert!(CargoLock::parse(b"\xff\xfe").is_err());
    }
}
