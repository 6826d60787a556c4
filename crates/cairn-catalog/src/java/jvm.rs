//! A Java runtime's `release` file (`JAVA_VERSION="17.0.15"`, `IMPLEMENTOR="Debian"`,
//! ...), which every OpenJDK build writes at the top of its installation.

use std::collections::BTreeMap;

/// Largest `release` file read (real ones are under 2 KiB).
pub(crate) const MAX_RELEASE: u64 = 64 << 10;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Release {
    pub fields: BTreeMap<String, String>,
}

impl Release {
    /// `None` for a file named `release` that is not a Java runtime's (no `JAVA_VERSION`).
    pub(crate) fn parse(bytes: &[u8]) -> Option<Release> {
        let text = std::str::from_utf8(bytes).ok()?;
        let mut fields = BTreeMap::new();
        for line in text.lines() {
            let Some((k, v)) = line.split_once('=') else {
                continue;
            };
            let k = k.trim();
            if k.is_empty()
                || !k
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
            {
                continue;
            }
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v);
            fields.insert(k.to_owned(), v.to_owned());
        }
        fields
            .get("JAVA_VERSION")
            .is_some_and(|v| !v.is_empty())
            .then_some(Release { fields })
    }

    pub(crate) fn get(&self, k: &str) -> Option<&str> {
        self.fields
            .get(k)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub(crate) fn version(&self) -> &str {
        self.get("JAVA_VERSION").unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debian_openjdk_release() {
        let r = Release::parse(b"IMPLEMENTOR=\"Debian\"\nJAVA_RUNTIME_VERSION=\"17.0.15+6-Debian-1deb12u1\"\nJAVA_VERSION=\"17.0.15\"\nJAVA_VERSION_DATE=\"2025-04-15\"\nSOURCE=\"\"\n").unwrap();
        assert_eq!(r.version(), "17.0.15");
        assert_eq!(r.get("IMPLEMENTOR"), Some("Debian"));
        assert_eq!(r.get("SOURCE"), None);
        assert!(Release::parse(b"VERSION=1\n").is_none());
        assert!(Release::parse(b"\xff\xfe").is_none());
    }
}
