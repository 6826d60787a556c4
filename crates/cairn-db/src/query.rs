//! Questions across images: which images have a package (by name or purl, with a version
//! range), which have a layer, one image's SBOM back, a repository's history, and the
//! drift between two versions of an image.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

use crate::ingest::split_reference;
use crate::vers::{short_range, Range, Vers};
use crate::{limits, Db, Error, Value};

/// A package query: `NAME`, `NAME@VERSION`, `NAME<3.0.13` (`<`, `<=`, `>`, `>=`, `=`, `!=`,
/// comma-separated for all of them), or a package URL (`pkg:deb/debian/openssl`, with
/// `@VERSION` for one version), optionally narrowed by a `vers:` range and an ecosystem. A
/// NAME with a `/` is a namespace and a name, as npm (`@types/node`) and Go
/// (`github.com/spf13/cobra`) write them.
#[derive(Clone, Debug, PartialEq)]
pub struct PackageQuery {
    pub name: String,
    pub ecosystem: Option<String>,
    pub namespace: Option<String>,
    /// An exact version, compared as text.
    pub version: Option<String>,
    pub range: Range,
}

impl std::str::FromStr for PackageQuery {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let s = s.trim();
        if s.starts_with("pkg:") {
            let u: packageurl::PackageUrl = s
                .parse()
                .map_err(|e| Error::Invalid(format!("{s:?}: {e}")))?;
            return Ok(PackageQuery {
                name: u.name().to_owned(),
                ecosystem: Some(u.ty().to_owned()),
                namespace: u.namespace().map(str::to_owned),
                version: u.version().map(str::to_owned),
                range: Range::Any,
            });
        }
        // A name with a namespace as its ecosystem writes it (`@types/node`,
        // `github.com/spf13/cobra`) is the purl's namespace and name.
        let split = |name: &str| match name.rsplit_once('/') {
            Some((ns, n)) if !ns.is_empty() && !n.is_empty() => (Some(ns.to_owned()), n.to_owned()),
            _ => (None, name.to_owned()),
        };
        if let Some(i) = s.find(['<', '>', '=', '!']) {
            let name = s[..i].trim();
            if name.is_empty() {
                return Err(Error::Invalid(format!("{s:?}: no package name")));
            }
            let (namespace, name) = split(name);
            return Ok(PackageQuery {
                name,
                ecosystem: None,
                namespace,
                version: None,
                range: short_range(&s[i..])?,
            });
        }
        let (name, version) = match s.rsplit_once('@') {
            Some((n, v)) if !n.is_empty() => (n, Some(v.to_owned())),
            _ => (s, None),
        };
        if name.is_empty() {
            return Err(Error::Invalid("an empty package query".into()));
        }
        let (namespace, name) = split(name);
        Ok(PackageQuery {
            name,
            ecosystem: None,
            namespace,
            version,
            range: Range::Any,
        })
    }
}

impl PackageQuery {
    /// Narrows the query to a `vers:` range (and its ecosystem).
    pub fn with_vers(mut self, v: Vers) -> Result<Self, Error> {
        if let Some(e) = &self.ecosystem {
            if *e != v.ecosystem {
                return Err(Error::Invalid(format!(
                    "a vers:{} range for a {e} package",
                    v.ecosystem
                )));
            }
        }
        self.ecosystem = Some(v.ecosystem);
        self.range = match self.range {
            Range::Any => v.range,
            r => Range::And(vec![r, v.range]),
        };
        Ok(self)
    }
}

/// An image version as stored.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ImageRow {
    pub repository: String,
    pub tag: String,
    pub digest: String,
    pub scanned_at: String,
    pub complete: bool,
}

/// A package found in an image.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PackageHit {
    pub image: ImageRow,
    pub ecosystem: String,
    pub name: String,
    pub version: String,
    pub purl: String,
    pub license: Option<String>,
    /// The layer that introduced it in that image: its index and diff id.
    pub layer: Option<usize>,
    pub layer_diff_id: Option<String>,
}

/// An image that has a layer.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LayerHit {
    pub image: ImageRow,
    pub position: usize,
    pub diff_id: String,
    pub digest: Option<String>,
    pub created_by: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "change", rename_all = "lowercase")]
pub enum DriftChange {
    Added {
        version: String,
    },
    Removed {
        version: String,
    },
    Upgraded {
        from: String,
        to: String,
    },
    Downgraded {
        from: String,
        to: String,
    },
    /// A change the ecosystem's order cannot rank.
    Changed {
        from: String,
        to: String,
    },
}

/// What changed between two image versions, package by package.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Drift {
    pub from: ImageRow,
    pub to: ImageRow,
    /// (ecosystem, namespace, name) and the change.
    pub changes: Vec<(String, String, String, DriftChange)>,
}

/// (ecosystem, namespace, name) → the versions an image has.
type PackageSet = BTreeMap<(String, String, String), Vec<String>>;

const IMAGE_COLS: &str = "i.repository, i.tag, i.digest, i.scanned_at, i.complete";

/// Only the latest image version of each repository (the one scanned last).
const LATEST: &str = "NOT EXISTS (SELECT 1 FROM images j WHERE j.repository = i.repository
    AND (j.scanned_at > i.scanned_at OR (j.scanned_at = i.scanned_at AND j.id > i.id)))";

fn image_row(r: &[Value]) -> ImageRow {
    let t = |i: usize| r[i].text().unwrap_or_default().to_owned();
    ImageRow {
        repository: t(0),
        tag: t(1),
        digest: t(2),
        scanned_at: t(3),
        complete: r[4].int() == Some(1),
    }
}

impl Db {
    /// Every image (or, with `latest`, every repository's latest image) that has a package
    /// matching `q`. A version range is answered from the sort keys, per ecosystem; versions
    /// that cannot be ordered (outside their ecosystem's grammar, or of an ecosystem with no
    /// order) never match a range, only an exact `@VERSION`.
    pub fn packages(&mut self, q: &PackageQuery, latest: bool) -> Result<Vec<PackageHit>, Error> {
        let mut params: Vec<Value> = vec![q.name.as_str().into()];
        let mut conds = vec!["p.name = $1".to_owned()];
        if let Some(ns) = &q.namespace {
            params.push(ns.as_str().into());
            conds.push(format!("p.namespace = ${}", params.len()));
        }
        if let Some(v) = &q.version {
            params.push(v.as_str().into());
            conds.push(format!("p.version = ${}", params.len()));
        }
        if q.range != Range::Any {
            let ecosystems: Vec<String> = match &q.ecosystem {
                Some(e) => vec![e.clone()],
                None => self
                    .conn
                    .query(
                        "SELECT DISTINCT ecosystem FROM packages WHERE name = $1",
                        &[q.name.as_str().into()],
                    )?
                    .into_iter()
                    .filter_map(|r| r.into_iter().next()?.into_text())
                    .collect(),
            };
            let mut alts = Vec::new();
            for e in &ecosystems {
                let mut p = params.clone();
                if let Some(sql) = q.range.sql(e, "p.version_key", &mut p) {
                    p.push(e.as_str().into());
                    alts.push(format!("(p.ecosystem = ${} AND {sql})", p.len()));
                    params = p;
                } else if q.ecosystem.is_some() {
                    return Err(Error::Invalid(format!(
                        "a version in the range is not a {e} version cairn can order"
                    )));
                }
            }
            if alts.is_empty() {
                return Ok(Vec::new());
            }
            conds.push(format!("({})", alts.join(" OR ")));
        } else if let Some(e) = &q.ecosystem {
            params.push(e.as_str().into());
            conds.push(format!("p.ecosystem = ${}", params.len()));
        }
        // Three small questions rather than one wide join: the matching package rows (few),
        // the images that have them (an index-only scan of image_packages joined to images),
        // and the diff ids of the few layers that introduced them. Sorted here, by bytes.
        let sql = format!(
            "SELECT p.id, p.ecosystem, p.name, p.version, p.purl, p.license FROM packages p
             WHERE {} LIMIT {}",
            conds.join(" AND "),
            limits::MAX_ROWS
        );
        let packages: HashMap<i64, Vec<Value>> = self
            .conn
            .query(&sql, &params)?
            .into_iter()
            .filter_map(|r| Some((r[0].int()?, r)))
            .collect();
        let mut ids: Vec<i64> = packages.keys().copied().collect();
        ids.sort_unstable();
        let mut rows = Vec::new();
        for chunk in ids.chunks(500) {
            let (marks, params) = crate::ingest::in_list(chunk);
            let sql = format!(
                "SELECT ip.package_id, ip.layer, ip.layer_id, {IMAGE_COLS}
                 FROM image_packages ip JOIN images i ON i.id = ip.image_id
                 WHERE ip.package_id IN {marks}{}",
                if latest {
                    format!(" AND {LATEST}")
                } else {
                    String::new()
                }
            );
            rows.extend(self.conn.query(&sql, &params)?);
            if rows.len() > limits::MAX_ROWS {
                return Err(Error::Invalid(format!(
                    "more than {} answers: narrow the query",
                    limits::MAX_ROWS
                )));
            }
        }
        let mut layer_ids: Vec<i64> = rows.iter().filter_map(|r| r[2].int()).collect();
        layer_ids.sort_unstable();
        layer_ids.dedup();
        let mut diff_ids: HashMap<i64, String> = HashMap::new();
        for chunk in layer_ids.chunks(500) {
            let (marks, params) = crate::ingest::in_list(chunk);
            for r in self.conn.query(
                &format!("SELECT id, diff_id FROM layers WHERE id IN {marks}"),
                &params,
            )? {
                if let (Some(id), Some(d)) = (r[0].int(), r[1].text()) {
                    diff_ids.insert(id, d.to_owned());
                }
            }
        }
        let mut hits: Vec<PackageHit> = rows
            .into_iter()
            .filter_map(|r| {
                let p = packages.get(&r[0].int()?)?;
                let t = |v: &Value| v.text().unwrap_or_default().to_owned();
                let (layer, layer_id) = (r[1].int(), r[2].int());
                let mut r = r.into_iter().skip(3);
                let mut next = || r.next().and_then(Value::into_text).unwrap_or_default();
                let image = ImageRow {
                    repository: next(),
                    tag: next(),
                    digest: next(),
                    scanned_at: next(),
                    complete: false,
                };
                let complete = r.next().and_then(|v| v.int()) == Some(1);
                Some(PackageHit {
                    image: ImageRow { complete, ..image },
                    ecosystem: t(&p[1]),
                    name: t(&p[2]),
                    version: t(&p[3]),
                    purl: t(&p[4]),
                    license: p[5].text().map(str::to_owned),
                    layer: layer.map(|l| l as usize),
                    layer_diff_id: layer_id.and_then(|id| diff_ids.get(&id).cloned()),
                })
            })
            .collect();
        hits.sort_by(|a, b| {
            (
                &a.image.repository,
                &a.image.tag,
                &a.image.scanned_at,
                &a.image.digest,
                &a.purl,
            )
                .cmp(&(
                    &b.image.repository,
                    &b.image.tag,
                    &b.image.scanned_at,
                    &b.image.digest,
                    &b.purl,
                ))
        });
        Ok(hits)
    }

    /// Every image (or every repository's latest) that has the layer named by `digest`:
    /// its diff id or the digest of its stored blob.
    pub fn layer(&mut self, digest: &str, latest: bool) -> Result<Vec<LayerHit>, Error> {
        let mut ids: Vec<i64> = self
            .conn
            .query("SELECT id FROM layers WHERE diff_id = $1", &[digest.into()])?
            .iter()
            .filter_map(|r| r[0].int())
            .collect();
        if ids.is_empty() {
            ids = self
                .conn
                .query(
                    "SELECT DISTINCT layer_id FROM image_layers WHERE digest = $1",
                    &[digest.into()],
                )?
                .iter()
                .filter_map(|r| r[0].int())
                .collect();
        }
        let mut out = Vec::new();
        for id in ids {
            let sql = format!(
                "SELECT {IMAGE_COLS}, il.position, l.diff_id, il.digest, il.created_by
                 FROM image_layers il
                 JOIN layers l ON l.id = il.layer_id
                 JOIN images i ON i.id = il.image_id
                 WHERE il.layer_id = $1 {}
                 ORDER BY i.repository, i.tag, i.scanned_at, i.digest
                 LIMIT {}",
                if latest {
                    format!("AND {LATEST}")
                } else {
                    String::new()
                },
                limits::MAX_ROWS
            );
            out.extend(
                self.conn
                    .query(&sql, &[id.into()])?
                    .into_iter()
                    .map(|r| LayerHit {
                        image: image_row(&r),
                        position: r[5].int().unwrap_or(0) as usize,
                        diff_id: r[6].text().unwrap_or_default().to_owned(),
                        digest: r[7].text().map(str::to_owned),
                        created_by: r[8].text().map(str::to_owned),
                    }),
            );
        }
        Ok(out)
    }

    /// The image versions a reference names: `REPO:TAG` (every digest it has had),
    /// `REPO@DIGEST`, `REPO:TAG@DIGEST`, a bare `sha256:…` digest, or `REPO` (all).
    /// Oldest scan first.
    pub fn images(&mut self, reference: &str) -> Result<Vec<ImageRow>, Error> {
        let mut conds = Vec::new();
        let mut params: Vec<Value> = Vec::new();
        if reference.contains(':') && !reference.contains('/') && reference.starts_with("sha") {
            params.push(reference.into());
            conds.push("i.digest = $1".to_owned());
        } else {
            let (repo, tag, digest) = split_reference(reference);
            params.push(repo.into());
            conds.push("i.repository = $1".to_owned());
            if let Some(t) = tag {
                params.push(t.into());
                conds.push(format!("i.tag = ${}", params.len()));
            }
            if let Some(d) = digest {
                params.push(d.into());
                conds.push(format!("i.digest = ${}", params.len()));
            }
        }
        let sql = format!(
            "SELECT {IMAGE_COLS} FROM images i WHERE {} ORDER BY i.scanned_at, i.id LIMIT {}",
            conds.join(" AND "),
            limits::MAX_ROWS
        );
        Ok(self
            .conn
            .query(&sql, &params)?
            .iter()
            .map(|r| image_row(r))
            .collect())
    }

    /// Every repository stored, in order.
    pub fn repositories(&mut self) -> Result<Vec<String>, Error> {
        Ok(self
            .conn
            .query(
                "SELECT DISTINCT repository FROM images ORDER BY repository",
                &[],
            )?
            .into_iter()
            .filter_map(|r| r.into_iter().next()?.into_text())
            .collect())
    }

    /// The one image version a reference means: the latest scanned of those it names.
    pub fn image(&mut self, reference: &str) -> Result<ImageRow, Error> {
        self.images(reference)?
            .pop()
            .ok_or_else(|| Error::Invalid(format!("no image {reference:?} in the database")))
    }

    /// The SBOM stored for an image version, read back into the model.
    pub fn document(&mut self, image: &ImageRow) -> Result<cairn_sbom::Sbom, Error> {
        let rows = self.conn.query(
            "SELECT d.body, d.sha256 FROM images i JOIN documents d ON d.id = i.document_id
             WHERE i.repository = $1 AND i.tag = $2 AND i.digest = $3",
            &crate::image_params(&image.repository, &image.tag, &image.digest),
        )?;
        let row = rows
            .first()
            .ok_or_else(|| Error::Invalid(format!("no image {}", image.digest)))?;
        let sha = row[1].text().unwrap_or_default().to_owned();
        let bytes = crate::ingest::decompress(row[0].blob().unwrap_or_default())
            .map_err(|e| Error::Document(sha.clone(), e))?;
        serde_json::from_slice(&bytes).map_err(|e| Error::Document(sha, e.to_string()))
    }

    fn image_packages(&mut self, image: &ImageRow) -> Result<PackageSet, Error> {
        let rows = self.conn.query(
            "SELECT p.ecosystem, p.namespace, p.name, p.version
             FROM images i JOIN image_packages ip ON ip.image_id = i.id
             JOIN packages p ON p.id = ip.package_id
             WHERE i.repository = $1 AND i.tag = $2 AND i.digest = $3",
            &crate::image_params(&image.repository, &image.tag, &image.digest),
        )?;
        let mut m = PackageSet::new();
        for r in rows {
            let t = |i: usize| r[i].text().unwrap_or_default().to_owned();
            m.entry((t(0), t(1), t(2))).or_default().push(t(3));
        }
        for v in m.values_mut() {
            v.sort();
            v.dedup();
        }
        Ok(m)
    }

    /// What changed from image version `a` to `b`: packages added, removed, and changed
    /// version (upgraded or downgraded by the ecosystem's order).
    pub fn drift(&mut self, a: &ImageRow, b: &ImageRow) -> Result<Drift, Error> {
        let pa = self.image_packages(a)?;
        let pb = self.image_packages(b)?;
        let mut changes = Vec::new();
        let keys: std::collections::BTreeSet<_> = pa.keys().chain(pb.keys()).cloned().collect();
        for k in keys {
            let (va, vb) = (pa.get(&k), pb.get(&k));
            let mut push = |c| changes.push((k.0.clone(), k.1.clone(), k.2.clone(), c));
            match (va, vb) {
                (Some(x), None) => {
                    for v in x {
                        push(DriftChange::Removed { version: v.clone() });
                    }
                }
                (None, Some(y)) => {
                    for v in y {
                        push(DriftChange::Added { version: v.clone() });
                    }
                }
                (Some(x), Some(y)) if x != y => {
                    if x.len() == 1 && y.len() == 1 {
                        let (from, to) = (x[0].clone(), y[0].clone());
                        push(match cairn_catalog::compare_versions(&k.0, &from, &to) {
                            Some(Ordering::Less) => DriftChange::Upgraded { from, to },
                            Some(Ordering::Greater) => DriftChange::Downgraded { from, to },
                            _ => DriftChange::Changed { from, to },
                        });
                    } else {
                        for v in x.iter().filter(|v| !y.contains(v)) {
                            push(DriftChange::Removed { version: v.clone() });
                        }
                        for v in y.iter().filter(|v| !x.contains(v)) {
                            push(DriftChange::Added { version: v.clone() });
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(Drift {
            from: a.clone(),
            to: b.clone(),
            changes,
        })
    }
}
