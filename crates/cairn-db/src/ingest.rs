//! From an SBOM to rows: [`ImageRecord::from_sbom`] takes what is stored out of the model,
//! [`crate::Db::ingest`] writes a batch of records in one transaction.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read as _;

use sha2::{Digest, Sha256};

use crate::backend::{Col, Value};
use crate::{limits, Db, Error};

/// What names an image version when the SBOM does not (or to override it).
#[derive(Clone, Debug, Default)]
pub struct Identity {
    pub repository: Option<String>,
    pub tag: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LayerRecord {
    /// The layer's diff id (its digest when the document gives no diff id).
    pub diff_id: String,
    /// The digest of the stored (compressed) blob.
    pub digest: Option<String>,
    pub created_by: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PackageRecord {
    /// The purl type (`deb`, `pypi`, …), or the package's kind when it has no purl.
    pub ecosystem: String,
    pub namespace: String,
    pub name: String,
    pub version: String,
    pub purl: String,
    pub license: Option<String>,
    /// Index of the layer that introduced it, when known.
    pub layer: Option<usize>,
    /// Owned files: path and `algorithm:value` digest.
    pub files: Vec<(String, Option<String>)>,
}

/// One image version as the database stores it.
#[derive(Clone, Debug)]
pub struct ImageRecord {
    pub repository: String,
    pub tag: String,
    pub digest: String,
    pub scanned_at: String,
    pub complete: bool,
    pub layers: Vec<LayerRecord>,
    pub packages: Vec<PackageRecord>,
    /// The SBOM as cairn JSON.
    document: Vec<u8>,
    /// Its SHA-256 (hex) and its stored form (zstd), made with the record: records are
    /// made on every core, and stored one after another.
    sha256: String,
    packed: Vec<u8>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct IngestReport {
    /// Image versions new to the database.
    pub added: usize,
    /// Image versions that were there with another document, now replaced.
    pub replaced: usize,
    /// Image versions that were there with this very document.
    pub unchanged: usize,
    /// Package rows new to the database (the rest were shared with images already in).
    pub new_packages: usize,
    /// Join rows written (packages and layers of the images added or replaced).
    pub rows: usize,
}

fn bounded(s: &str) -> Result<&str, Error> {
    if s.len() > limits::MAX_FIELD {
        return Err(Error::Invalid(format!(
            "a field of {} bytes (over {} bytes): {}…",
            s.len(),
            limits::MAX_FIELD,
            s.chars().take(60).collect::<String>()
        )));
    }
    Ok(s)
}

/// Splits `registry:5000/repo/name:tag` or `name@sha256:…` into repository, tag and digest.
pub(crate) fn split_reference(r: &str) -> (String, Option<String>, Option<String>) {
    let (r, digest) = match r.split_once('@') {
        Some((a, d)) => (a, Some(d.to_owned())),
        None => (r, None),
    };
    let slash = r.rfind('/').map_or(0, |i| i + 1);
    match r[slash..].rfind(':') {
        Some(i) => (
            r[..slash + i].to_owned(),
            Some(r[slash + i + 1..].to_owned()),
            digest,
        ),
        None => (r.to_owned(), None, digest),
    }
}

impl ImageRecord {
    /// The record of `sbom`. Fails when the SBOM is over [`limits`] or names no image at
    /// all (no repository, tag or name).
    pub fn from_sbom(sbom: &cairn_sbom::Sbom, id: &Identity) -> Result<ImageRecord, Error> {
        let src = &sbom.source;
        if sbom.packages.len() > limits::MAX_PACKAGES {
            return Err(Error::Invalid(format!(
                "{} packages in one SBOM (limit {})",
                sbom.packages.len(),
                limits::MAX_PACKAGES
            )));
        }
        if src.layers.len() > limits::MAX_LAYERS {
            return Err(Error::Invalid(format!(
                "{} layers in one SBOM (limit {})",
                src.layers.len(),
                limits::MAX_LAYERS
            )));
        }
        let named = src
            .tags
            .first()
            .map(String::as_str)
            .or((!src.name.is_empty()).then_some(src.name.as_str()));
        let (mut ref_repo, mut ref_tag, ref_digest) =
            named.map(split_reference).unwrap_or_default();
        // An OCI layout names its image by a tag alone (`org.opencontainers.image.ref.name`
        // "1"): the image is the path, the name its tag.
        let local = matches!(
            src.kind.as_str(),
            "oci-dir" | "oci-archive" | "docker-archive"
        );
        if local && ref_tag.is_none() && !ref_repo.contains('/') && !src.path.is_empty() {
            ref_tag = Some(std::mem::replace(&mut ref_repo, src.path.clone()));
        }
        let repository = id
            .repository
            .clone()
            .or_else(|| src.repository.clone())
            .or((!ref_repo.is_empty()).then_some(ref_repo))
            .ok_or_else(|| Error::Invalid("the SBOM names no image: give a repository".into()))?;
        let tag = id.tag.clone().or(ref_tag).unwrap_or_default();
        let document = serde_json::to_vec(sbom).map_err(|e| Error::Invalid(e.to_string()))?;
        let digest = src
            .manifest_digest
            .clone()
            .or(ref_digest)
            .or_else(|| src.image_id.clone())
            .unwrap_or_else(|| format!("sha256:{}", hex::encode(Sha256::digest(&document))));
        let layers = src
            .layers
            .iter()
            .map(|l| {
                let id = l.diff_id.clone().or_else(|| l.digest.clone());
                LayerRecord {
                    // A layer with neither (a directory scan's one pseudo-layer) is named by
                    // the image and its position, so it is shared with nothing.
                    diff_id: id.unwrap_or_else(|| format!("{digest}#{}", l.index)),
                    digest: l.digest.clone(),
                    created_by: l.created_by.clone(),
                }
            })
            .collect();
        let mut packages = Vec::with_capacity(sbom.packages.len());
        for p in &sbom.packages {
            let purl = p.purl.parse::<packageurl::PackageUrl>().ok();
            let (ecosystem, namespace, name) = match &purl {
                Some(u) => (
                    u.ty().to_owned(),
                    u.namespace().unwrap_or_default().to_owned(),
                    u.name().to_owned(),
                ),
                None => (p.kind.clone(), String::new(), p.name.clone()),
            };
            let mut files: Vec<(String, Option<String>)> = p
                .files
                .iter()
                .take(limits::MAX_FILES_PER_PACKAGE)
                .map(|f| {
                    (
                        f.path.clone(),
                        f.digest
                            .as_ref()
                            .map(|d| format!("{}:{}", d.algorithm, d.value)),
                    )
                })
                .collect();
            files.sort();
            files.dedup_by(|a, b| a.0 == b.0);
            for (path, _) in &files {
                bounded(path)?;
            }
            for f in [&ecosystem, &namespace, &name, &p.version, &p.purl] {
                bounded(f)?;
            }
            if let Some(l) = &p.licenses.declared {
                bounded(l)?;
            }
            packages.push(PackageRecord {
                ecosystem,
                namespace,
                name,
                version: p.version.clone(),
                purl: p.purl.clone(),
                license: p.licenses.declared.clone(),
                layer: p.evidence.introduced_in,
                files,
            });
        }
        Ok(ImageRecord {
            repository: bounded(&repository)?.to_owned(),
            tag: bounded(&tag)?.to_owned(),
            digest: bounded(&digest)?.to_owned(),
            scanned_at: sbom.created.clone(),
            complete: sbom.complete,
            layers,
            packages,
            sha256: String::new(),
            packed: Vec::new(),
            document: Vec::new(),
        }
        .with_document(document))
    }

    /// The SBOM as stored: cairn JSON.
    pub fn document(&self) -> &[u8] {
        &self.document
    }

    /// The record with another document (a rescan of the same image version, say).
    pub fn with_document(mut self, document: Vec<u8>) -> ImageRecord {
        self.sha256 = hex::encode(Sha256::digest(&document));
        self.packed = compress(&document);
        self.document = document;
        self
    }
}

impl PackageRecord {
    /// The identity of the shared row: every stored field of the record.
    fn key(&self) -> [u8; 16] {
        let mut h = Sha256::new();
        for f in [
            &self.ecosystem,
            &self.namespace,
            &self.name,
            &self.version,
            &self.purl,
        ] {
            h.update(f.as_bytes());
            h.update([0]);
        }
        match &self.license {
            Some(l) => h.update(l.as_bytes()),
            None => h.update([0xff]),
        }
        let mut k = [0; 16];
        k.copy_from_slice(&h.finalize()[..16]);
        k
    }
}

/// A stored document: zstd of the cairn JSON.
pub(crate) fn compress(doc: &[u8]) -> Vec<u8> {
    zstd::bulk::compress(doc, 3).expect("compressing into memory does not fail")
}

/// The document back, bounded by the reader's own limit.
pub(crate) fn decompress(body: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    zstd::stream::read::Decoder::new(body)
        .map_err(|e| e.to_string())?
        .take(cairn_sbom::MAX_DOCUMENT_BYTES as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| e.to_string())?;
    Ok(out)
}

/// Join rows of a batch, written with one bulk insert per table when the batch ends.
#[derive(Default)]
struct Pending {
    layers: Vec<Vec<Value>>,
    packages: Vec<Vec<Value>>,
}

impl Pending {
    /// Forgets the rows of an image version about to be replaced in the same batch.
    fn drop_image(&mut self, id: i64) {
        let other = |r: &Vec<Value>| r[0].int() != Some(id);
        self.layers.retain(other);
        self.packages.retain(other);
    }
}

/// Rows per multi-row statement (under SQLite's and PostgreSQL's parameter limits).
const CHUNK: usize = 400;

impl Db {
    /// Brings the planner's statistics and PostgreSQL's visibility map up to date after a
    /// large ingest, so that package and layer queries are index-only scans at once rather
    /// than after autovacuum's next visit (PostgreSQL: `VACUUM (ANALYZE)` of the tables,
    /// which only reads what changed; SQLite: `ANALYZE`).
    pub fn optimize(&mut self) -> Result<(), Error> {
        if self.conn.is_postgres() {
            self.conn
                .batch("VACUUM (ANALYZE) image_packages, image_layers, images, packages, layers")
        } else {
            self.conn.batch("ANALYZE")
        }
    }

    /// Writes a batch of image versions in one transaction: all of them or, on an error,
    /// none. Rows shared with images already stored (packages, layers, documents) are
    /// reused.
    pub fn ingest(&mut self, batch: &[ImageRecord]) -> Result<IngestReport, Error> {
        self.conn.begin_write()?;
        let mut fresh_packages = Vec::new();
        let mut fresh_layers = Vec::new();
        let r = (|| {
            let mut report = IngestReport::default();
            let mut pending = Pending::default();
            // In repository order, so that concurrent batches meet rows in one order.
            let mut order: Vec<&ImageRecord> = batch.iter().collect();
            order.sort_by(|a, b| {
                (&a.repository, &a.tag, &a.digest).cmp(&(&b.repository, &b.tag, &b.digest))
            });
            for rec in order {
                self.ingest_one(
                    rec,
                    &mut report,
                    &mut pending,
                    &mut fresh_packages,
                    &mut fresh_layers,
                )?;
            }
            self.conn.bulk_insert(
                "image_layers",
                &[
                    ("image_id", Col::Int),
                    ("position", Col::Int),
                    ("layer_id", Col::Int),
                    ("digest", Col::Text),
                    ("created_by", Col::Text),
                ],
                &pending.layers,
            )?;
            self.conn.bulk_insert(
                "image_packages",
                &[
                    ("image_id", Col::Int),
                    ("package_id", Col::Int),
                    ("layer", Col::Int),
                    ("layer_id", Col::Int),
                ],
                &pending.packages,
            )?;
            Ok(report)
        })();
        match self.conn.finish(r) {
            Ok(rep) => Ok(rep),
            Err(e) => {
                // Ids handed out inside the rolled-back transaction are gone.
                for k in fresh_packages {
                    self.packages.remove(&k);
                }
                for k in fresh_layers {
                    self.layers.remove(&k);
                }
                Err(e)
            }
        }
    }

    fn ingest_one(
        &mut self,
        rec: &ImageRecord,
        report: &mut IngestReport,
        pending: &mut Pending,
        fresh_packages: &mut Vec<[u8; 16]>,
        fresh_layers: &mut Vec<String>,
    ) -> Result<(), Error> {
        let sha = rec.sha256.clone();
        let existing = self.conn.query(
            "SELECT i.id, d.sha256 FROM images i JOIN documents d ON d.id = i.document_id
             WHERE i.repository = $1 AND i.tag = $2 AND i.digest = $3",
            &crate::image_params(&rec.repository, &rec.tag, &rec.digest),
        )?;
        if let Some(row) = existing.first() {
            if row[1].text() == Some(sha.as_str()) {
                report.unchanged += 1;
                return Ok(());
            }
        }
        self.conn.execute(
            "INSERT INTO documents (sha256, body) VALUES ($1, $2) ON CONFLICT (sha256) DO NOTHING",
            &[sha.as_str().into(), rec.packed.clone().into()],
        )?;
        let doc_id = self
            .conn
            .query(
                "SELECT id FROM documents WHERE sha256 = $1",
                &[sha.as_str().into()],
            )?
            .first()
            .and_then(|r| r[0].int())
            .ok_or_else(|| Error::Invalid("document row vanished".into()))?;
        let now = crate::now();
        let image_id = match existing.first().and_then(|r| r[0].int()) {
            Some(id) => {
                pending.drop_image(id);
                self.conn.execute(
                    "DELETE FROM image_packages WHERE image_id = $1",
                    &[id.into()],
                )?;
                self.conn
                    .execute("DELETE FROM image_layers WHERE image_id = $1", &[id.into()])?;
                self.conn.execute(
                    "UPDATE images SET scanned_at = $2, ingested_at = $3, complete = $4,
                     document_id = $5 WHERE id = $1",
                    &[
                        id.into(),
                        rec.scanned_at.as_str().into(),
                        now.as_str().into(),
                        i64::from(rec.complete).into(),
                        doc_id.into(),
                    ],
                )?;
                report.replaced += 1;
                id
            }
            None => {
                let rows = self.conn.query(
                    "INSERT INTO images (repository, tag, digest, scanned_at, ingested_at,
                     complete, document_id) VALUES ($1, $2, $3, $4, $5, $6, $7)
                     ON CONFLICT (repository, tag, digest) DO NOTHING RETURNING id",
                    &[
                        rec.repository.as_str().into(),
                        rec.tag.as_str().into(),
                        rec.digest.as_str().into(),
                        rec.scanned_at.as_str().into(),
                        now.as_str().into(),
                        i64::from(rec.complete).into(),
                        doc_id.into(),
                    ],
                )?;
                match rows.first().and_then(|r| r[0].int()) {
                    Some(id) => id,
                    None => {
                        // Another worker stored this image version a moment ago.
                        report.unchanged += 1;
                        return Ok(());
                    }
                }
            }
        };
        report.added += usize::from(existing.is_empty());
        report.rows += rec.packages.len() + rec.layers.len();

        // Layers, shared by diff id.
        let layer_ids = self.layer_ids(&rec.layers, fresh_layers)?;
        pending.layers.extend(
            rec.layers
                .iter()
                .zip(&layer_ids)
                .enumerate()
                .map(|(i, (l, id))| {
                    vec![
                        image_id.into(),
                        (i as i64).into(),
                        (*id).into(),
                        l.digest.clone().into(),
                        l.created_by.clone().into(),
                    ]
                }),
        );

        // Packages, shared by their record.
        let ids = self.package_ids(&rec.packages, fresh_packages, report)?;
        let mut per_image: BTreeMap<i64, Option<usize>> = BTreeMap::new();
        for (p, id) in rec.packages.iter().zip(ids) {
            let e = per_image.entry(id).or_insert(p.layer);
            *e = match (*e, p.layer) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        pending
            .packages
            .extend(per_image.into_iter().map(|(id, layer)| {
                let layer_id = layer.and_then(|l| layer_ids.get(l).copied());
                vec![
                    image_id.into(),
                    id.into(),
                    layer.map(|l| l as i64).into(),
                    layer_id.into(),
                ]
            }));
        Ok(())
    }

    fn layer_ids(
        &mut self,
        layers: &[LayerRecord],
        fresh: &mut Vec<String>,
    ) -> Result<Vec<i64>, Error> {
        let want: BTreeSet<&str> = layers
            .iter()
            .map(|l| l.diff_id.as_str())
            .filter(|d| !self.layers.contains_key(*d))
            .collect();
        for chunk in want.into_iter().collect::<Vec<_>>().chunks(CHUNK) {
            let marks = placeholders(chunk.len(), 1, 0);
            let params: Vec<Value> = chunk.iter().map(|d| (*d).into()).collect();
            self.conn.execute(
                &format!(
                    "INSERT INTO layers (diff_id) VALUES {marks} ON CONFLICT (diff_id) DO NOTHING"
                ),
                &params,
            )?;
            let marks = placeholders(1, chunk.len(), 0);
            for r in self.conn.query(
                &format!("SELECT diff_id, id FROM layers WHERE diff_id IN {marks}"),
                &params,
            )? {
                if let (Some(d), Some(id)) = (r[0].text(), r[1].int()) {
                    self.layers.insert(d.to_owned(), id);
                    fresh.push(d.to_owned());
                }
            }
        }
        layers
            .iter()
            .map(|l| {
                self.layers
                    .get(&l.diff_id)
                    .copied()
                    .ok_or_else(|| Error::Invalid(format!("layer {} not stored", l.diff_id)))
            })
            .collect()
    }

    fn package_ids(
        &mut self,
        packages: &[PackageRecord],
        fresh: &mut Vec<[u8; 16]>,
        report: &mut IngestReport,
    ) -> Result<Vec<i64>, Error> {
        let keys: Vec<[u8; 16]> = packages.iter().map(PackageRecord::key).collect();
        // Sorted, so that two workers inserting overlapping packages lock them in the same
        // order and never deadlock.
        let mut want: BTreeMap<[u8; 16], &PackageRecord> = BTreeMap::new();
        for (k, p) in keys.iter().zip(packages) {
            if !self.packages.contains_key(k) {
                want.entry(*k).or_insert(p);
            }
        }
        let want: Vec<([u8; 16], &PackageRecord)> = want.into_iter().collect();
        for chunk in want.chunks(CHUNK) {
            let mut params = Vec::with_capacity(chunk.len() * 8);
            for (k, p) in chunk {
                params.extend([
                    Value::Blob(k.to_vec()),
                    p.ecosystem.as_str().into(),
                    p.namespace.as_str().into(),
                    p.name.as_str().into(),
                    p.version.as_str().into(),
                    cairn_catalog::version_sort_key(&p.ecosystem, &p.version).into(),
                    p.purl.as_str().into(),
                    p.license.clone().into(),
                ]);
            }
            let marks = placeholders(chunk.len(), 8, 0);
            let inserted: HashMap<Vec<u8>, i64> = self
                .conn
                .query(
                    &format!(
                        "INSERT INTO packages (pkg_key, ecosystem, namespace, name, version,
                         version_key, purl, license) VALUES {marks}
                         ON CONFLICT (pkg_key) DO NOTHING RETURNING pkg_key, id"
                    ),
                    &params,
                )?
                .into_iter()
                .filter_map(|r| Some((r[0].blob()?.to_vec(), r[1].int()?)))
                .collect();
            report.new_packages += inserted.len();
            let mut file_rows = Vec::new();
            let mut missing = Vec::new();
            for (k, p) in chunk {
                match inserted.get(k.as_slice()) {
                    Some(&id) => {
                        self.packages.insert(*k, id);
                        fresh.push(*k);
                        for (path, digest) in &p.files {
                            file_rows.push(vec![
                                id.into(),
                                path.as_str().into(),
                                digest.clone().into(),
                            ]);
                        }
                    }
                    None => missing.push(Value::Blob(k.to_vec())),
                }
            }
            self.conn.bulk_insert(
                "package_files",
                &[
                    ("package_id", Col::Int),
                    ("path", Col::Text),
                    ("digest", Col::Text),
                ],
                &file_rows,
            )?;
            if !missing.is_empty() {
                let marks = placeholders(1, missing.len(), 0);
                for r in self.conn.query(
                    &format!("SELECT pkg_key, id FROM packages WHERE pkg_key IN {marks}"),
                    &missing,
                )? {
                    if let (Some(k), Some(id)) = (r[0].blob(), r[1].int()) {
                        if let Ok(k) = <[u8; 16]>::try_from(k) {
                            self.packages.insert(k, id);
                            fresh.push(k);
                        }
                    }
                }
            }
        }
        keys.iter()
            .map(|k| {
                self.packages
                    .get(k)
                    .copied()
                    .ok_or_else(|| Error::Invalid("package row not stored".into()))
            })
            .collect()
    }
}

/// `($1, $2, …)` and its parameters: an `IN` list of `items`.
pub(crate) fn in_list<T: Clone + Into<Value>>(items: &[T]) -> (String, Vec<Value>) {
    (
        placeholders(1, items.len(), 0),
        items.iter().cloned().map(Into::into).collect(),
    )
}

/// `($1, $2), ($3, $4)` for `rows` rows of `cols` columns, numbered after `offset`.
pub(crate) fn placeholders(rows: usize, cols: usize, offset: usize) -> String {
    let mut s = String::new();
    for r in 0..rows {
        if r > 0 {
            s.push_str(", ");
        }
        s.push('(');
        for c in 0..cols {
            if c > 0 {
                s.push_str(", ");
            }
            s.push('$');
            s.push_str(&(offset + r * cols + c + 1).to_string());
        }
        s.push(')');
    }
    s
}
