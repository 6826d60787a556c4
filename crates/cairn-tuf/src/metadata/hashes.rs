//! Hashes of metadata and target files: the `hashes` object and its checks.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use sha2::Digest;

/// Hash algorithm → hex digest, sorted by algorithm name.
///
/// A sorted vector rather than a `BTreeMap`: targets metadata holds one of
/// these per target, and a `BTreeMap`'s first node alone costs about half a
/// kilobyte, which dominated the memory of a client holding many hashed bins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hashes(Vec<(String, String)>);

impl Hashes {
    /// The digest listed for `algorithm`.
    pub fn get(&self, algorithm: &str) -> Option<&str> {
        self.find(algorithm).ok().map(|i| self.0[i].1.as_str())
    }
    /// Sets the digest for `algorithm`; returns the previous one.
    pub fn insert(&mut self, algorithm: String, digest: String) -> Option<String> {
        match self.find(&algorithm) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, digest)),
            Err(i) => {
                self.0.insert(i, (algorithm, digest));
                None
            }
        }
    }
    pub fn remove(&mut self, algorithm: &str) -> Option<String> {
        self.find(algorithm).ok().map(|i| self.0.remove(i).1)
    }
    /// (algorithm, digest) pairs, sorted by algorithm.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(a, d)| (a.as_str(), d.as_str()))
    }
    pub fn algorithms(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(a, _)| a.as_str())
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    fn find(&self, algorithm: &str) -> std::result::Result<usize, usize> {
        self.0.binary_search_by(|(a, _)| a.as_str().cmp(algorithm))
    }
}

impl std::ops::Index<&str> for Hashes {
    type Output = str;
    fn index(&self, algorithm: &str) -> &str {
        self.get(algorithm).expect("hash algorithm listed")
    }
}

impl FromIterator<(String, String)> for Hashes {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        let mut h = Hashes::default();
        for (a, d) in iter {
            h.insert(a, d);
        }
        h
    }
}

impl Serialize for Hashes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (a, d) in &self.0 {
            m.serialize_entry(a, d)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for Hashes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Hashes;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of hash algorithm to hex digest")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Hashes, A::Error> {
                let mut h = Hashes::default();
                while let Some((a, d)) = map.next_entry::<String, String>()? {
                    if h.get(&a).is_some() {
                        return Err(serde::de::Error::custom(format_args!(
                            "hash algorithm {a:?} listed twice"
                        )));
                    }
                    h.insert(a, d);
                }
                Ok(h)
            }
        }
        d.deserialize_map(V)
    }
}

/// Checks `data` against every listed hash. An algorithm this client cannot
/// compute is an error: a file that cannot be checked is not accepted.
pub fn verify_hashes(what: &str, hashes: &Hashes, data: &[u8]) -> Result<()> {
    let mut h = MultiHasher::new(what, hashes)?;
    h.update(data);
    h.finish()
}

/// Incremental form of [`verify_hashes`], for targets streamed to disk.
pub struct MultiHasher<'a> {
    what: &'a str,
    expected: &'a Hashes,
    states: Vec<(&'a str, HashState)>,
}

enum HashState {
    Sha224(sha2::Sha224),
    Sha256(sha2::Sha256),
    Sha384(sha2::Sha384),
    Sha512(sha2::Sha512),
}

impl<'a> MultiHasher<'a> {
    pub fn new(what: &'a str, expected: &'a Hashes) -> Result<Self> {
        let mut states = Vec::new();
        for alg in expected.algorithms() {
            let st = match alg {
                "sha224" => HashState::Sha224(Default::default()),
                "sha256" => HashState::Sha256(Default::default()),
                "sha384" => HashState::Sha384(Default::default()),
                "sha512" => HashState::Sha512(Default::default()),
                other => {
                    return Err(Error::UnsupportedHash {
                        what: what.into(),
                        algorithm: other.into(),
                    })
                }
            };
            states.push((alg, st));
        }
        Ok(MultiHasher {
            what,
            expected,
            states,
        })
    }

    pub fn update(&mut self, data: &[u8]) {
        for (_, st) in &mut self.states {
            match st {
                HashState::Sha224(h) => h.update(data),
                HashState::Sha256(h) => h.update(data),
                HashState::Sha384(h) => h.update(data),
                HashState::Sha512(h) => h.update(data),
            }
        }
    }

    pub fn finish(self) -> Result<()> {
        for (alg, st) in self.states {
            let got = match st {
                HashState::Sha224(h) => hex::encode(h.finalize()),
                HashState::Sha256(h) => hex::encode(h.finalize()),
                HashState::Sha384(h) => hex::encode(h.finalize()),
                HashState::Sha512(h) => hex::encode(h.finalize()),
            };
            if got != self.expected[alg] {
                return Err(Error::HashMismatch {
                    what: self.what.into(),
                    algorithm: alg.into(),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_keep_algorithm_order_and_round_trip() {
        let h: Hashes = serde_json::from_str(r#"{"sha512": "bb", "sha256": "aa"}"#).unwrap();
        assert_eq!(
            h.iter().collect::<Vec<_>>(),
            [("sha256", "aa"), ("sha512", "bb")]
        );
        assert_eq!(&h["sha512"], "bb");
        assert_eq!(
            serde_json::to_string(&h).unwrap(),
            r#"{"sha256":"aa","sha512":"bb"}"#
        );
        // Only reachable without the strict parser, which refuses this first.
        assert!(serde_json::from_str::<Hashes>(r#"{"sha256": "a", "sha256": "b"}"#).is_err());
        assert!(serde_json::from_str::<Hashes>(r#"{"sha256": 1}"#).is_err());
    }
}
