//! Reading SBOM documents back into the model: cairn's own JSON (lossless), SPDX 2.2/2.3
//! (JSON and tag-value), SPDX 3.0.1 JSON-LD and CycloneDX 1.4–1.7 (JSON, and XML through
//! `cdx_xml`), so that two documents — or a document and an image — can be compared and
//! converted.
//!
//! What cairn writes comes back as far as the format holds it: package identities,
//! licenses, suppliers, copyright, CPEs, dependencies, the image's layers with each
//! package's layer, the provenance cairn writes as comments and properties, warnings and
//! completeness (the README's loss table lists what each format cannot hold). Documents
//! from other tools are read for what they share with these; what cannot be mapped is
//! named in the notes.

use crate::model::*;
use serde_json::Value;
use std::collections::BTreeMap;

/// The largest document read, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 512 << 20;

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("the document is {0} bytes, over the {MAX_DOCUMENT_BYTES}-byte limit")]
    TooLarge(usize),
    #[error("not JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("not an SBOM cairn reads (cairn JSON, SPDX 2.x JSON or tag-value, SPDX 3 JSON-LD, CycloneDX JSON or XML)")]
    Unknown,
    #[error("{0}")]
    Invalid(String),
}

/// Which format a document is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detected {
    Cairn,
    SpdxJson,
    SpdxTagValue,
    Spdx3Json,
    CycloneDxJson,
    CycloneDxXml,
}

/// What a document says, in the model, with notes on what could not be mapped.
#[derive(Debug)]
pub struct Read {
    pub sbom: Sbom,
    pub format: Detected,
    pub notes: Vec<String>,
}

/// Read a document as `format`, whatever it looks like: an error when it is not one.
pub fn read_as(bytes: &[u8], format: Detected) -> Result<Read, ReadError> {
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(ReadError::TooLarge(bytes.len()));
    }
    let json = || serde_json::from_slice::<Value>(bytes);
    match format {
        Detected::SpdxTagValue => Ok(tag_value(&String::from_utf8_lossy(bytes))),
        Detected::Cairn => Ok(Read {
            sbom: serde_json::from_value(json()?)?,
            format,
            notes: vec![],
        }),
        Detected::SpdxJson => spdx_json(&json()?),
        Detected::Spdx3Json => spdx3_json(&json()?),
        Detected::CycloneDxJson => cyclonedx_json(&json()?),
        Detected::CycloneDxXml => cyclonedx_xml(bytes),
    }
}

/// CycloneDX XML: the JSON document it stands for, read as JSON is.
fn cyclonedx_xml(bytes: &[u8]) -> Result<Read, ReadError> {
    let (v, unmapped) = crate::cdx_xml::to_json(bytes)?;
    let mut r = cyclonedx_json(&v)?;
    r.format = Detected::CycloneDxXml;
    r.notes.extend(unmapped);
    Ok(r)
}

/// The bytes after leading whitespace.
fn content(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(0);
    &bytes[start..]
}

/// Whether `head` (a document's first bytes) starts like a document [`read`] tells apart —
/// SPDX tag-value, JSON or XML — which an image archive (a tar) does not.
pub fn looks_like_document(head: &[u8]) -> bool {
    let rest = content(head);
    rest.starts_with(b"SPDXVersion:")
        || rest.starts_with(b"{")
        || crate::cdx_xml::looks_like_xml(rest)
}

/// Read a document, telling its format from its contents.
pub fn read(bytes: &[u8]) -> Result<Read, ReadError> {
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(ReadError::TooLarge(bytes.len()));
    }
    let rest = content(bytes);
    if rest.starts_with(b"SPDXVersion:") {
        let text = String::from_utf8_lossy(rest);
        return Ok(tag_value(&text));
    }
    if crate::cdx_xml::looks_like_xml(rest) {
        return cyclonedx_xml(rest);
    }
    if !rest.starts_with(b"{") {
        return Err(ReadError::Unknown);
    }
    let v: Value = serde_json::from_slice(rest)?;
    read_json(v, 0)
}

/// A JSON document: an SBOM, or an SBOM wrapped as attestations carry it (an in-toto
/// statement's predicate, inside a DSSE envelope, inside a Sigstore bundle), unwrapped
/// at most [`MAX_WRAPPING`] times. Unwrapping checks no signature: a note says so.
fn read_json(v: Value, depth: usize) -> Result<Read, ReadError> {
    if let Some((inner, note)) = unwrap_attestation(&v)? {
        if depth >= MAX_WRAPPING {
            return Err(ReadError::Invalid(
                "attestations wrapped inside each other too deeply".into(),
            ));
        }
        let mut r = read_json(inner, depth + 1)?;
        r.notes.insert(0, note);
        return Ok(r);
    }
    if v.get("format_version").is_some() && v.get("packages").is_some() {
        let sbom: Sbom = serde_json::from_value(v)?;
        return Ok(Read {
            sbom,
            format: Detected::Cairn,
            notes: vec![],
        });
    }
    if v.get("spdxVersion").is_some() {
        return spdx_json(&v);
    }
    if v.get("@graph").is_some() && context_is_spdx3(v.get("@context")) {
        return spdx3_json(&v);
    }
    if v.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX") {
        return cyclonedx_json(&v);
    }
    Err(ReadError::Unknown)
}

/// How many wrappers (bundle, envelope, statement) are taken off at most.
pub const MAX_WRAPPING: usize = 3;

/// What `v` wraps, when it is a Sigstore bundle, a DSSE envelope of an in-toto
/// statement, or an in-toto statement; with a note saying what was taken off.
fn unwrap_attestation(v: &Value) -> Result<Option<(Value, String)>, ReadError> {
    use base64::Engine as _;
    let is_str =
        |k: &str, f: &dyn Fn(&str) -> bool| v.get(k).and_then(Value::as_str).is_some_and(f);
    if is_str("mediaType", &|t| {
        t.starts_with("application/vnd.dev.sigstore.bundle")
    }) {
        let Some(env) = v.get("dsseEnvelope") else {
            return Err(ReadError::Invalid(
                "a Sigstore bundle without a DSSE envelope holds no SBOM".into(),
            ));
        };
        return Ok(Some((
            env.clone(),
            "read from a Sigstore bundle (its signature is not checked when reading: `cairn verify-attestation` checks it)".into(),
        )));
    }
    if is_str("payloadType", &|t| t == "application/vnd.in-toto+json") {
        let payload = v.get("payload").and_then(Value::as_str).unwrap_or("");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(payload)
            .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(payload))
            .map_err(|_| ReadError::Invalid("the DSSE payload is not base64".into()))?;
        let inner: Value = serde_json::from_slice(&bytes)?;
        return Ok(Some((
            inner,
            "read from a DSSE envelope (its signature is not checked when reading)".into(),
        )));
    }
    if is_str("_type", &|t| t.starts_with("https://in-toto.io/Statement/")) {
        let predicate_type = v.get("predicateType").and_then(Value::as_str).unwrap_or("");
        let Some(p) = v.get("predicate") else {
            return Err(ReadError::Invalid(
                "an in-toto statement without a predicate".into(),
            ));
        };
        return Ok(Some((
            p.clone(),
            format!("read from the predicate ({predicate_type}) of an in-toto statement"),
        )));
    }
    Ok(None)
}

/// The type and the `arch` qualifier of a package URL.
fn purl_parts(purl: &str) -> (String, Option<String>) {
    let rest = purl.strip_prefix("pkg:").unwrap_or("");
    // The purl specification's type: ASCII letters, digits, `.`, `+`, `-`; anything else
    // (a document may hold anything) is no type.
    let kind = rest
        .split(['/', '@', '?', '#'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let kind = if kind.len() <= 64
        && kind
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'-'))
    {
        kind
    } else {
        String::new()
    };
    let arch = purl
        .split_once('?')
        .map(|(_, q)| q.split('#').next().unwrap_or(""))
        .and_then(|q| {
            q.split('&')
                .find_map(|kv| kv.strip_prefix("arch="))
                .map(str::to_owned)
        });
    (kind, arch)
}

fn empty_sbom(name: String) -> Sbom {
    Sbom {
        format_version: FORMAT_VERSION.into(),
        tool: Tool {
            name: String::new(),
            version: String::new(),
        },
        creator: None,
        created: String::new(),
        source: Source {
            kind: "sbom".into(),
            name: name.clone(),
            path: name,
            tags: vec![],
            manifest_digest: None,
            image_id: None,
            platform: None,
            layers: vec![],
            repository: None,
            index_digest: None,
            purl: None,
            base: None,
            supplier: None,
            license: None,
        },
        distro: None,
        packages: vec![],
        files: vec![],
        relationships: vec![],
        complete: true,
        warnings: vec![],
        removed: vec![],
    }
}

/// A package from its identity. A version without the epoch its purl's `epoch` qualifier
/// names (Trivy writes deb and rpm versions so) gets it back, as dpkg and rpm print it.
fn package(id: String, name: String, version: String, purl: String) -> Package {
    let (kind, arch) = purl_parts(&purl);
    let epoch = purl
        .split_once('?')
        .map(|(_, q)| q.split('#').next().unwrap_or(""))
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("epoch=")))
        .filter(|e| {
            !e.is_empty() && e.len() <= 10 && e.bytes().all(|b| b.is_ascii_digit()) && *e != "0"
        });
    let version = match epoch {
        Some(e) if !version.is_empty() && !version.starts_with(&format!("{e}:")) => {
            format!("{e}:{version}")
        }
        _ => version,
    };
    Package {
        id,
        name,
        version,
        arch,
        kind: if kind.is_empty() {
            "unknown".into()
        } else {
            kind
        },
        purl,
        ..Package::default()
    }
}

fn license(v: Option<&str>) -> Option<String> {
    v.map(str::trim)
        .filter(|l| !l.is_empty() && *l != "NOASSERTION" && *l != "NONE")
        .map(str::to_owned)
}

/// A layer package's pieces, as cairn's SPDX writer spells them.
struct SpdxLayer {
    index: usize,
    digest: Option<String>,
    summary: String,
    description: String,
    comment: Option<String>,
}

impl SpdxLayer {
    /// Layer `index` from its SPDX 2 or 3 JSON package, whose version is under `version`.
    fn from_json(index: usize, p: &Value, version: &str) -> SpdxLayer {
        SpdxLayer {
            index,
            digest: str_of(p, version).map(str::to_owned),
            summary: str_of(p, "summary").unwrap_or("").to_owned(),
            description: str_of(p, "description").unwrap_or("").to_owned(),
            comment: str_of(p, "comment").map(str::to_owned),
        }
    }

    fn into_layer(self) -> Layer {
        let diff_id = self
            .description
            .strip_prefix("diff id ")
            .map(|d| d.trim().to_owned());
        // versionInfo is the blob digest, or the diff id when there is no blob digest.
        let digest = self.digest.filter(|d| Some(d) != diff_id.as_ref());
        Layer {
            index: self.index,
            digest,
            diff_id,
            media_type: None,
            size: 0,
            created_by: self.comment,
            created: None,
            comment: None,
            base: self.summary.contains("from its base image"),
        }
    }
}

fn layer_index(spdx_id: &str) -> Option<usize> {
    spdx_id.strip_prefix("SPDXRef-Layer-")?.parse().ok()
}

/// The SPDX document once its packages and relationships are read, in either syntax.
struct SpdxDoc {
    name: String,
    created: String,
    creator: Option<String>,
    /// The person or organization among the creators, `Name <email>`.
    author: Option<String>,
    root: Option<String>,
    /// SPDX id → (name, version, purl, license, source info, purpose).
    packages: Vec<SpdxPackage>,
    layers: Vec<SpdxLayer>,
    relationships: Vec<(String, String, String)>,
    /// (SPDX id, comment) of each annotation.
    annotations: Vec<(String, String)>,
}

#[derive(Default)]
struct SpdxPackage {
    spdx_id: String,
    name: String,
    version: String,
    purl: Option<String>,
    license: Option<String>,
    source_info: Option<String>,
    purpose: Option<String>,
    checksum: Option<String>,
    /// `Name <email>`.
    supplier: Option<String>,
    copyright: Option<String>,
    cpes: Vec<String>,
    homepage: Option<String>,
    summary: Option<String>,
    description: Option<String>,
    comment: Option<String>,
}

impl SpdxDoc {
    fn into_read(self, format: Detected) -> Read {
        let mut sbom = empty_sbom(self.name);
        sbom.created = self.created;
        sbom.creator = self.author;
        if let Some(c) = self.creator {
            let (n, v) = c.rsplit_once('-').unwrap_or((&c, ""));
            sbom.tool = Tool {
                name: n.to_owned(),
                version: v.to_owned(),
            };
        }
        let mut notes = Vec::new();
        let mut layers: Vec<Layer> = self.layers.into_iter().map(SpdxLayer::into_layer).collect();
        layers.sort_by_key(|l| l.index);
        let mut layer_of: BTreeMap<&str, usize> = BTreeMap::new();
        for (a, k, b) in &self.relationships {
            if k == "CONTAINS" {
                if let Some(i) = layer_index(a) {
                    layer_of.insert(b.as_str(), i);
                }
            }
        }
        let described: Option<&str> = self
            .relationships
            .iter()
            .find(|(a, k, _)| a == "SPDXRef-DOCUMENT" && k == "DESCRIBES")
            .map(|(_, _, b)| b.as_str())
            .or(self.root.as_deref());
        let mut ids: BTreeMap<String, String> = BTreeMap::new();
        let mut unnamed = 0;
        for p in self.packages {
            if Some(p.spdx_id.as_str()) == described {
                sbom.source.name = p.name.clone();
                sbom.source.supplier = p.supplier.clone();
                sbom.source.license = p.license.clone();
                sbom.source.image_id = Some(p.version.clone()).filter(|v| !v.is_empty());
                sbom.source.kind = match p.purpose.as_deref() {
                    Some("CONTAINER") => "image".into(),
                    _ => "sbom".into(),
                };
                continue;
            }
            if p.purpose.as_deref() == Some("OPERATING-SYSTEM") {
                let evidence = p
                    .source_info
                    .as_deref()
                    .and_then(|s| s.strip_prefix("acquired distribution info from "))
                    .and_then(|s| s.strip_suffix(')'))
                    .and_then(|s| s.rsplit_once(" (layer "))
                    .and_then(|(path, l)| {
                        Some(Location {
                            path: path.to_owned(),
                            layer: l.parse().ok()?,
                            lines: None,
                        })
                    });
                sbom.distro = Some(distro(
                    p.name,
                    Some(p.version).filter(|v| !v.is_empty()),
                    p.description,
                    p.supplier,
                    p.homepage,
                    evidence,
                ));
                continue;
            }
            let Some(purl) = p.purl.clone() else {
                unnamed += 1;
                continue;
            };
            // Known by its element id: two records may share a purl (a lock file's and a
            // binary's), and the document tells them apart.
            let id = if p.spdx_id.is_empty() {
                purl.clone()
            } else {
                p.spdx_id.clone()
            };
            let mut pkg = package(id, p.name, p.version, purl);
            pkg.licenses.declared = p.license;
            pkg.cataloger = p
                .source_info
                .as_deref()
                .and_then(|s| s.strip_prefix("acquired package info from "))
                .and_then(|s| s.split_whitespace().next())
                .unwrap_or("")
                .to_owned();
            pkg.evidence.introduced_in = layer_of.get(p.spdx_id.as_str()).copied();
            pkg.maintainer = p.supplier;
            pkg.copyright = p.copyright;
            pkg.cpes = p.cpes;
            if let Some(h) = p.homepage {
                pkg.metadata.insert("homepage".into(), h);
            }
            if let Some(d) = p.summary {
                pkg.metadata.insert("description".into(), d);
            }
            if let Some(c) = &p.comment {
                provenance_back(c, &mut pkg);
            }
            // The layer that holds a package is the one that installed its version.
            if let Some(held) = layer_of.get(p.spdx_id.as_str()) {
                if pkg.installed_in() != Some(*held) {
                    pkg.evidence.introduced_in = Some(*held);
                    pkg.evidence.changes.clear();
                }
            }
            let _ = p.checksum;
            ids.insert(p.spdx_id, pkg.id.clone());
            sbom.packages.push(pkg);
        }
        if unnamed > 0 {
            notes.push(format!(
                "{unnamed} package(s) without a package URL were left out (a package is known by its purl)"
            ));
        }
        for (a, k, b) in &self.relationships {
            if k == "DEPENDS_ON" {
                if let (Some(f), Some(t)) = (ids.get(a), ids.get(b)) {
                    sbom.relationships.push(Relationship {
                        from: f.clone(),
                        kind: RelationshipKind::DependsOn,
                        to: t.clone(),
                    });
                }
            }
        }
        for (on, comment) in &self.annotations {
            if let Some(mut w) = warning(comment) {
                w.package = ids.get(on).cloned();
                sbom.warnings.push(w);
            }
        }
        sbom.source.layers = layers;
        set_base(&mut sbom);
        sbom.normalize();
        Read {
            sbom,
            format,
            notes,
        }
    }
}

/// The distribution an OS element names: os-release's ID, VERSION_ID, PRETTY_NAME, vendor
/// and home page, and where it was found (unknown: the document does not say).
fn distro(
    id: String,
    version_id: Option<String>,
    pretty_name: Option<String>,
    vendor: Option<String>,
    url: Option<String>,
    evidence: Option<Location>,
) -> Distro {
    Distro {
        id,
        version_id,
        version_codename: None,
        pretty_name,
        id_like: vec![],
        vendor,
        url,
        evidence: evidence.unwrap_or_default(),
    }
}

/// The base image, as far as the layers say which are its.
fn set_base(sbom: &mut Sbom) {
    let n = sbom.source.layers.iter().take_while(|l| l.base).count();
    if n > 0 {
        sbom.source.base = Some(BaseImage {
            name: None,
            digest: None,
            layers: n,
            from: "document".into(),
        });
    }
}

/// A warning from what cairn's writers say of one in an annotation,
/// `cairn warning (KIND[, incomplete]): TEXT`; the text keeps the path, layer and lines.
pub(crate) fn warning(comment: &str) -> Option<Warning> {
    let rest = comment.strip_prefix("cairn warning (")?;
    let (head, text) = rest.split_once("): ")?;
    let mut parts = head.split(", ");
    let kind: WarningKind = serde_json::from_value(Value::String(parts.next()?.into())).ok()?;
    let mut w = Warning::new(kind, text);
    w.incomplete = parts.any(|p| p == "incomplete");
    Some(w)
}

/// What cairn's SPDX writers say of a package's provenance in its comment, back as
/// evidence: the layer that introduced it, version changes and reinstalls by later layers,
/// and the database entries that list it (path, lines, layer).
fn provenance_back(comment: &str, p: &mut Package) {
    let number = |s: &str| -> Option<usize> {
        let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        s[..end].parse().ok()
    };
    if let Some(i) = comment
        .find("Introduced in layer ")
        .and_then(|at| number(&comment[at + "Introduced in layer ".len()..]))
    {
        p.evidence.introduced_in = Some(i);
    }
    for (at, _) in comment.match_indices(" Layer ") {
        let rest = &comment[at + " Layer ".len()..];
        let Some(layer) = number(rest) else { continue };
        let Some(what) = rest.split_once(": ").map(|(_, w)| w) else {
            continue;
        };
        let change = |kind, from: Option<&str>, to: Option<&str>| PackageChange {
            layer,
            kind,
            from_version: from.map(str::to_owned),
            to_version: to.map(str::to_owned),
            paths: vec![],
        };
        if let Some(v) = what.strip_prefix("version changed from ") {
            let v = v.split(". ").next().unwrap_or(v).trim_end_matches('.');
            if let Some((a, b)) = v.split_once(" to ") {
                p.evidence.changes.push(change(
                    PackageChangeKind::VersionChanged,
                    Some(a),
                    Some(b),
                ));
            }
        } else if what.starts_with("reinstalled.") {
            p.evidence
                .changes
                .push(change(PackageChangeKind::Reinstalled, None, None));
        }
    }
    for (at, _) in comment.match_indices(" Listed in ") {
        let rest = &comment[at + " Listed in ".len()..];
        let Some((what, after)) = rest.split_once(" (from layer ") else {
            continue;
        };
        let Some(layer) = number(after) else { continue };
        let (path, lines) = match what.rsplit_once(" lines ") {
            Some((path, ab)) => {
                let lines = ab
                    .split_once('-')
                    .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)));
                (path, lines)
            }
            None => (what, None),
        };
        p.evidence.locations.push(Location {
            path: path.to_owned(),
            layer,
            lines,
        });
    }
}

/// An SPDX 2 actor (`Person: Name (email)`) as `Name <email>`; NOASSERTION is nobody.
fn actor(s: &str) -> Option<String> {
    let s = s.trim();
    if s.is_empty() || s == "NOASSERTION" {
        return None;
    }
    let s = ["Person:", "Organization:", "Tool:"]
        .iter()
        .find_map(|k| s.strip_prefix(k))
        .unwrap_or(s)
        .trim();
    Some(
        match s.strip_suffix(')').and_then(|s| s.rsplit_once(" (")) {
            Some((name, email)) if email.contains('@') => format!("{} <{email}>", name.trim()),
            Some((name, "")) => name.trim().to_owned(),
            _ => s.to_owned(),
        },
    )
}

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn spdx_json(v: &Value) -> Result<Read, ReadError> {
    let version = str_of(v, "spdxVersion").unwrap_or("");
    if !version.starts_with("SPDX-2.") {
        return Err(ReadError::Invalid(format!(
            "spdxVersion {version:?}: only SPDX 2.x JSON is read"
        )));
    }
    let mut doc = SpdxDoc {
        name: str_of(v, "name").unwrap_or("").to_owned(),
        created: v
            .pointer("/creationInfo/created")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
        creator: v
            .pointer("/creationInfo/creators")
            .and_then(Value::as_array)
            .and_then(|c| {
                c.iter()
                    .filter_map(Value::as_str)
                    .find_map(|c| c.strip_prefix("Tool: "))
            })
            .map(str::to_owned),
        author: v
            .pointer("/creationInfo/creators")
            .and_then(Value::as_array)
            .and_then(|c| {
                c.iter()
                    .filter_map(Value::as_str)
                    .find(|c| c.starts_with("Person:") || c.starts_with("Organization:"))
            })
            .and_then(actor),
        root: v
            .get("documentDescribes")
            .and_then(Value::as_array)
            .and_then(|d| d.first())
            .and_then(Value::as_str)
            .map(str::to_owned),
        packages: vec![],
        layers: vec![],
        relationships: vec![],
        annotations: vec![],
    };
    for p in v
        .get("packages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let id = str_of(p, "SPDXID").unwrap_or("").to_owned();
        if let Some(index) = layer_index(&id) {
            doc.layers
                .push(SpdxLayer::from_json(index, p, "versionInfo"));
            continue;
        }
        let purl = p
            .get("externalRefs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|r| str_of(r, "referenceType") == Some("purl") && r.get("comment").is_none())
            .and_then(|r| str_of(r, "referenceLocator"))
            .map(str::to_owned);
        doc.packages.push(SpdxPackage {
            spdx_id: id.clone(),
            name: str_of(p, "name").unwrap_or("").to_owned(),
            version: str_of(p, "versionInfo").unwrap_or("").to_owned(),
            purl,
            license: license(str_of(p, "licenseDeclared")),
            source_info: str_of(p, "sourceInfo").map(str::to_owned),
            purpose: str_of(p, "primaryPackagePurpose").map(str::to_owned),
            checksum: None,
            supplier: str_of(p, "supplier").and_then(actor),
            copyright: license(str_of(p, "copyrightText")),
            cpes: p
                .get("externalRefs")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|r| str_of(r, "referenceType").is_some_and(|t| t.starts_with("cpe")))
                .filter_map(|r| str_of(r, "referenceLocator"))
                .map(str::to_owned)
                .collect(),
            homepage: str_of(p, "homepage").map(str::to_owned),
            summary: str_of(p, "summary").map(str::to_owned),
            description: str_of(p, "description").map(str::to_owned),
            comment: str_of(p, "comment").map(str::to_owned),
        });
        for a in p
            .get("annotations")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(c) = str_of(a, "comment") {
                doc.annotations.push((id.clone(), c.to_owned()));
            }
        }
    }
    for r in v
        .get("relationships")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let (Some(a), Some(k), Some(b)) = (
            str_of(r, "spdxElementId"),
            str_of(r, "relationshipType"),
            str_of(r, "relatedSpdxElement"),
        ) {
            doc.relationships
                .push((a.to_owned(), k.to_owned(), b.to_owned()));
        }
    }
    Ok(doc.into_read(Detected::SpdxJson))
}

/// Whether a JSON-LD `@context` is SPDX 3's (a URL, or a list holding one).
fn context_is_spdx3(c: Option<&Value>) -> bool {
    let is = |v: &Value| v.as_str().is_some_and(|s| s.contains("spdx.org/rdf/3."));
    match c {
        Some(Value::Array(a)) => a.iter().any(is),
        Some(v) => is(v),
        None => false,
    }
}

/// The ids a JSON-LD reference names: a string, an object with an id, or a list of either.
fn refs_of(v: Option<&Value>) -> Vec<&str> {
    fn one(v: &Value) -> Option<&str> {
        v.as_str()
            .or_else(|| str_of(v, "spdxId"))
            .or_else(|| str_of(v, "@id"))
    }
    match v {
        Some(Value::Array(a)) => a.iter().filter_map(one).collect(),
        Some(v) => one(v).into_iter().collect(),
        None => vec![],
    }
}

/// SPDX 3.0.1 JSON-LD, as the compact form the SPDX context gives (the form every tool
/// writes): elements in `@graph`, known by `spdxId`. Read into the same document as SPDX 2,
/// with the ids' local parts (after `#`) as SPDX ids and the relationship types in SPDX 2's
/// spelling.
fn spdx3_json(v: &Value) -> Result<Read, ReadError> {
    let graph = v
        .get("@graph")
        .and_then(Value::as_array)
        .ok_or_else(|| ReadError::Invalid("SPDX 3: @graph is not a list".into()))?;
    let type_of = |e: &Value| {
        str_of(e, "type")
            .or_else(|| str_of(e, "@type"))
            .unwrap_or("")
            .trim_start_matches("spdx:")
            .to_owned()
    };
    let local = |id: &str| -> String { id.rsplit_once('#').map_or(id, |(_, l)| l).to_owned() };
    let mut by_id: BTreeMap<&str, &Value> = BTreeMap::new();
    for e in graph {
        if let Some(id) = str_of(e, "spdxId").or_else(|| str_of(e, "@id")) {
            by_id.insert(id, e);
        }
    }
    let agent = |id: &str| -> Option<String> {
        let a = by_id.get(id)?;
        let name = str_of(a, "name")?.trim().to_owned();
        let email = a
            .get("externalIdentifier")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|x| str_of(x, "externalIdentifierType") == Some("email"))
            .and_then(|x| str_of(x, "identifier"));
        Some(match email {
            Some(e) => format!("{name} <{e}>"),
            None => name,
        })
    };
    let mut doc = SpdxDoc {
        name: String::new(),
        created: String::new(),
        creator: None,
        author: None,
        root: None,
        packages: vec![],
        layers: vec![],
        relationships: vec![],
        annotations: vec![],
    };
    let mut declared: BTreeMap<String, String> = BTreeMap::new();
    for e in graph {
        let id = str_of(e, "spdxId").unwrap_or("");
        match type_of(e).as_str() {
            "CreationInfo" => {
                doc.created = str_of(e, "created").unwrap_or("").to_owned();
                doc.creator = refs_of(e.get("createdUsing"))
                    .first()
                    .and_then(|t| by_id.get(t))
                    .and_then(|t| str_of(t, "name"))
                    .map(str::to_owned);
                doc.author = refs_of(e.get("createdBy"))
                    .into_iter()
                    .filter(|a| {
                        by_id.get(a).is_some_and(|a| {
                            matches!(str_of(a, "type"), Some("Person" | "Organization"))
                        })
                    })
                    .find_map(&agent);
            }
            "SpdxDocument" => doc.name = str_of(e, "name").unwrap_or("").to_owned(),
            "software_Sbom" => {
                doc.root = refs_of(e.get("rootElement")).first().map(|r| local(r));
            }
            "Relationship" => {
                let kind = match str_of(e, "relationshipType").unwrap_or("") {
                    "contains" => "CONTAINS",
                    "dependsOn" => "DEPENDS_ON",
                    "hasDeclaredLicense" => {
                        let from = refs_of(e.get("from"));
                        if let (Some(f), Some(t)) = (from.first(), refs_of(e.get("to")).first()) {
                            if let Some(x) = by_id
                                .get(t)
                                .and_then(|l| str_of(l, "simplelicensing_licenseExpression"))
                            {
                                declared.insert(local(f), x.to_owned());
                            }
                        }
                        continue;
                    }
                    _ => continue,
                };
                for f in refs_of(e.get("from")) {
                    for t in refs_of(e.get("to")) {
                        doc.relationships.push((local(f), kind.into(), local(t)));
                    }
                }
            }
            "Annotation" => {
                if let (Some(on), Some(st)) =
                    (refs_of(e.get("subject")).first(), str_of(e, "statement"))
                {
                    doc.annotations.push((local(on), st.to_owned()));
                }
            }
            "software_Package" => {
                let spdx_id = local(id);
                if let Some(index) = layer_index(&spdx_id) {
                    doc.layers
                        .push(SpdxLayer::from_json(index, e, "software_packageVersion"));
                    continue;
                }
                let ext = e
                    .get("externalIdentifier")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten();
                doc.packages.push(SpdxPackage {
                    spdx_id,
                    name: str_of(e, "name").unwrap_or("").to_owned(),
                    version: str_of(e, "software_packageVersion")
                        .unwrap_or("")
                        .to_owned(),
                    purl: str_of(e, "software_packageUrl")
                        .or_else(|| {
                            ext.clone()
                                .find(|x| {
                                    str_of(x, "externalIdentifierType") == Some("packageUrl")
                                        && x.get("comment").is_none()
                                })
                                .and_then(|x| str_of(x, "identifier"))
                        })
                        .map(str::to_owned),
                    license: None,
                    source_info: str_of(e, "software_sourceInfo").map(str::to_owned),
                    purpose: str_of(e, "software_primaryPurpose").map(|p| {
                        match p {
                            "container" => "CONTAINER",
                            "operatingSystem" => "OPERATING-SYSTEM",
                            _ => "LIBRARY",
                        }
                        .to_owned()
                    }),
                    checksum: None,
                    supplier: refs_of(e.get("suppliedBy")).first().and_then(|a| agent(a)),
                    copyright: license(str_of(e, "software_copyrightText")),
                    cpes: ext
                        .filter(|x| {
                            str_of(x, "externalIdentifierType")
                                .is_some_and(|t| t.starts_with("cpe"))
                        })
                        .filter_map(|x| str_of(x, "identifier"))
                        .map(str::to_owned)
                        .collect(),
                    homepage: str_of(e, "software_homePage").map(str::to_owned),
                    summary: str_of(e, "summary").map(str::to_owned),
                    description: str_of(e, "description").map(str::to_owned),
                    comment: str_of(e, "comment").map(str::to_owned),
                });
            }
            _ => {}
        }
    }
    if doc.name.is_empty() && doc.packages.is_empty() {
        return Err(ReadError::Invalid(
            "SPDX 3: no SpdxDocument and no software_Package in @graph".into(),
        ));
    }
    for p in &mut doc.packages {
        p.license = license(declared.get(&p.spdx_id).map(String::as_str));
    }
    // The document's root element describes the image, as DESCRIBES does in SPDX 2.
    if let Some(r) = doc.root.clone() {
        doc.relationships
            .push(("SPDXRef-DOCUMENT".into(), "DESCRIBES".into(), r));
    }
    Ok(doc.into_read(Detected::Spdx3Json))
}

/// SPDX tag-value: `Tag: value` lines, where a value may be `<text>…</text>` over several
/// lines; a `PackageName` starts a package.
fn tag_value(text: &str) -> Read {
    let mut doc = SpdxDoc {
        name: String::new(),
        created: String::new(),
        creator: None,
        author: None,
        root: None,
        packages: vec![],
        layers: vec![],
        relationships: vec![],
        annotations: vec![],
    };
    let mut cur: Option<(SpdxPackage, String, String)> = None; // package, summary, description
    let mut comment: Option<String> = None;
    let mut in_package = false;
    let mut seen_external_comment = false;
    let mut annotated: Option<String> = None;
    let flush = |doc: &mut SpdxDoc,
                 cur: &mut Option<(SpdxPackage, String, String)>,
                 comment: &mut Option<String>| {
        if let Some((p, summary, description)) = cur.take() {
            match layer_index(&p.spdx_id) {
                Some(index) => doc.layers.push(SpdxLayer {
                    index,
                    digest: Some(p.version).filter(|v| !v.is_empty()),
                    summary,
                    description,
                    comment: comment.take(),
                }),
                None => doc.packages.push(p),
            }
        }
        *comment = None;
    };
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let Some((tag, value)) = line.split_once(':') else {
            continue;
        };
        let mut value = value.trim().to_owned();
        if let Some(rest) = value.strip_prefix("<text>") {
            // Each line is looked at once, for where the block closes.
            let mut body = rest.to_owned();
            let mut closed = body.contains("</text>");
            while !closed {
                match lines.next() {
                    Some(l) => {
                        body.push('\n');
                        body.push_str(l);
                        closed = l.contains("</text>");
                    }
                    None => break,
                }
            }
            value = body.split("</text>").next().unwrap_or("").to_owned();
        }
        match tag.trim() {
            "DocumentName" => doc.name = value,
            "Created" => doc.created = value,
            "Creator" => {
                if let Some(t) = value.strip_prefix("Tool: ") {
                    doc.creator.get_or_insert(t.to_owned());
                } else if doc.author.is_none() {
                    doc.author = actor(&value);
                }
            }
            "PackageName" => {
                flush(&mut doc, &mut cur, &mut comment);
                in_package = true;
                seen_external_comment = false;
                cur = Some((
                    SpdxPackage {
                        name: value,
                        ..SpdxPackage::default()
                    },
                    String::new(),
                    String::new(),
                ));
            }
            "FileName" => {
                flush(&mut doc, &mut cur, &mut comment);
                in_package = false;
            }
            "SPDXID" if in_package => {
                if let Some((p, _, _)) = cur.as_mut() {
                    p.spdx_id = value;
                }
            }
            "PackageVersion" => with(&mut cur, |p, _, _| p.version = value),
            "PackageLicenseDeclared" => with(&mut cur, |p, _, _| p.license = license(Some(&value))),
            "PackageSourceInfo" => with(&mut cur, |p, _, _| p.source_info = Some(value)),
            "PrimaryPackagePurpose" => with(&mut cur, |p, _, _| p.purpose = Some(value)),
            "PackageSummary" => with(&mut cur, |p, s, _| {
                p.summary = Some(value.clone());
                *s = value
            }),
            "PackageSupplier" => with(&mut cur, |p, _, _| p.supplier = actor(&value)),
            "PackageCopyrightText" => with(&mut cur, |p, _, _| p.copyright = license(Some(&value))),
            "PackageHomePage" => with(&mut cur, |p, _, _| p.homepage = Some(value)),
            "SPDXREF" => annotated = Some(value),
            "AnnotationComment" => {
                if let Some(on) = annotated.take() {
                    doc.annotations.push((on, value));
                }
            }
            "PackageDescription" => with(&mut cur, |p, _, d| {
                p.description = Some(value.clone());
                *d = value
            }),
            "PackageComment" if in_package => {
                with(&mut cur, |p, _, _| p.comment = Some(value.clone()));
                comment = Some(value)
            }
            "ExternalRef" => with(&mut cur, |p, _, _| {
                // `CATEGORY TYPE LOCATOR`: the locator is the rest of the line.
                let mut parts = value.splitn(3, ' ');
                match (parts.next(), parts.next(), parts.next()) {
                    // The first purl is the package's own; later ones are merged records.
                    (Some(_), Some("purl"), Some(loc))
                        if p.purl.is_none() && !seen_external_comment =>
                    {
                        p.purl = Some(loc.to_owned());
                    }
                    (Some(_), Some("purl"), _) => {}
                    (Some(_), Some(t), Some(loc)) if t.starts_with("cpe") => {
                        p.cpes.push(loc.to_owned())
                    }
                    _ => {}
                }
            }),
            "ExternalRefComment" => seen_external_comment = true,
            "Relationship" => {
                let parts: Vec<&str> = value.split_whitespace().collect();
                if let [a, k, b] = parts[..] {
                    doc.relationships
                        .push((a.to_owned(), k.to_owned(), b.to_owned()));
                }
            }
            _ => {}
        }
    }
    flush(&mut doc, &mut cur, &mut comment);
    doc.into_read(Detected::SpdxTagValue)
}

fn with(
    cur: &mut Option<(SpdxPackage, String, String)>,
    f: impl FnOnce(&mut SpdxPackage, &mut String, &mut String),
) {
    if let Some((p, s, d)) = cur.as_mut() {
        f(p, s, d);
    }
}

fn property<'a>(c: &'a Value, name: &str) -> Option<&'a str> {
    c.get("properties")
        .and_then(Value::as_array)?
        .iter()
        .find(|p| str_of(p, "name") == Some(name))
        .and_then(|p| str_of(p, "value"))
}

/// A component's license: an expression, else its licenses' ids (or names) joined by AND.
fn cdx_license(c: &Value) -> Option<String> {
    let list = c.get("licenses").and_then(Value::as_array)?;
    if let Some(e) = list.iter().find_map(|l| str_of(l, "expression")) {
        return license(Some(e));
    }
    let ids: Vec<&str> = list
        .iter()
        .filter_map(|l| {
            l.pointer("/license/id")
                .or_else(|| l.pointer("/license/name"))
                .and_then(Value::as_str)
        })
        .collect();
    license(Some(&ids.join(" AND ")))
}

/// What cairn's CycloneDX writer puts in a component's properties and evidence, back in
/// the model: origin, scope, architecture, source package, size, the layer that introduced
/// it and what later layers did, and where it was found.
fn cdx_evidence(c: &Value, p: &mut Package) {
    let props = c
        .get("properties")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|x| Some((str_of(x, "name")?, str_of(x, "value")?)));
    for (name, value) in props {
        match name {
            "cairn:origin" => {
                if let Ok(o) = serde_json::from_value(Value::String(value.into())) {
                    p.origin = o;
                }
            }
            "cairn:dev" => p.dev = value == "true",
            "cairn:package:arch" => p.arch = Some(value.into()),
            "cairn:package:source-name" => {
                p.source_package.get_or_insert(SourceRef {
                    name: String::new(),
                    version: None,
                });
                if let Some(s) = p.source_package.as_mut() {
                    s.name = value.into();
                }
            }
            "cairn:package:source-version" => {
                if let Some(s) = p.source_package.as_mut() {
                    s.version = Some(value.into());
                }
            }
            "cairn:package:installed-size" => p.installed_size = value.parse().ok(),
            "cairn:introduced-in-layer" => p.evidence.introduced_in = value.parse().ok(),
            n if n.starts_with("cairn:change:") => {
                // `layer N: KIND[ FROM -> TO][ PATHS]`
                let Some((layer, rest)) = value
                    .strip_prefix("layer ")
                    .and_then(|r| r.split_once(": "))
                else {
                    continue;
                };
                let (kind, rest) = rest.split_once(' ').unwrap_or((rest, ""));
                let (Ok(layer), Ok(kind)) = (
                    layer.parse(),
                    serde_json::from_value::<PackageChangeKind>(Value::String(kind.into())),
                ) else {
                    continue;
                };
                let mut ch = PackageChange {
                    layer,
                    kind,
                    from_version: None,
                    to_version: None,
                    paths: vec![],
                };
                match kind {
                    PackageChangeKind::VersionChanged => {
                        if let Some((a, b)) = rest.split_once(" -> ") {
                            ch.from_version = Some(a.into());
                            ch.to_version = Some(b.into());
                        }
                    }
                    PackageChangeKind::FilesModified | PackageChangeKind::FilesRemoved => {
                        ch.paths = rest
                            .split(' ')
                            .filter(|s| !s.is_empty())
                            .map(Into::into)
                            .collect();
                    }
                    _ => {}
                }
                p.evidence.changes.push(ch);
            }
            _ => {}
        }
    }
    for o in c
        .pointer("/evidence/occurrences")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(path) = str_of(o, "location") else {
            continue;
        };
        // cairn names the layer first in the context: `layer N (…)`.
        let layer = str_of(o, "additionalContext")
            .and_then(|t| t.strip_prefix("layer "))
            .and_then(|t| t.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse().ok());
        if let Some(layer) = layer {
            let line = o.get("line").and_then(Value::as_u64).map(|l| l as usize);
            p.evidence.locations.push(Location {
                path: path.to_owned(),
                layer,
                lines: line.map(|l| (l, l)),
            });
        }
    }
}

fn cyclonedx_json(v: &Value) -> Result<Read, ReadError> {
    let root = v.pointer("/metadata/component");
    let name = root
        .and_then(|r| str_of(r, "name"))
        .unwrap_or("")
        .to_owned();
    let mut sbom = empty_sbom(name);
    sbom.created = v
        .pointer("/metadata/timestamp")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    if let Some(r) = root {
        sbom.source.image_id = str_of(r, "version").map(str::to_owned);
        sbom.source.kind = property(r, "cairn:source:kind")
            .unwrap_or(match str_of(r, "type") {
                Some("container") => "image",
                _ => "sbom",
            })
            .to_owned();
        sbom.source.purl = str_of(r, "purl").map(str::to_owned);
        let props = r
            .get("properties")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|x| Some((str_of(x, "name")?, str_of(x, "value")?.to_owned())));
        for (name, value) in props {
            match name {
                "cairn:source:path" => sbom.source.path = value,
                "cairn:image:repository" => sbom.source.repository = Some(value),
                "cairn:image:manifest-digest" => sbom.source.manifest_digest = Some(value),
                "cairn:image:index-digest" => sbom.source.index_digest = Some(value),
                "cairn:image:platform" => sbom.source.platform = Some(value),
                "cairn:image:tag" => sbom.source.tags.push(value),
                _ => {}
            }
        }
        sbom.source.supplier = r
            .pointer("/supplier/name")
            .and_then(Value::as_str)
            .map(str::to_owned);
        sbom.source.license = cdx_license(r);
    }
    let root_ref = root.and_then(|r| str_of(r, "bom-ref")).unwrap_or("");
    for a in v
        .get("annotations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(mut w) = str_of(a, "text").and_then(warning) {
            w.package = refs_of(a.get("subjects"))
                .first()
                .filter(|s| **s != root_ref)
                .map(|s| s.to_string());
            sbom.warnings.push(w);
        }
    }
    sbom.creator = v.pointer("/metadata/authors/0").and_then(|a| {
        let name = str_of(a, "name")?;
        Some(match str_of(a, "email") {
            Some(e) => format!("{name} <{e}>"),
            None => name.to_owned(),
        })
    });
    if let Some(t) = v
        .pointer("/metadata/tools/components")
        .and_then(Value::as_array)
        .and_then(|t| t.first())
    {
        sbom.tool = Tool {
            name: str_of(t, "name").unwrap_or("").to_owned(),
            version: str_of(t, "version").unwrap_or("").to_owned(),
        };
    }
    let mut notes = Vec::new();
    let mut unnamed = 0;
    // Walk the component tree; a layer component gives its index to what it holds.
    let mut stack: Vec<(&Value, Option<usize>)> = v
        .get("components")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| (c, None))
        .collect();
    let mut walked = 0usize;
    while let Some((c, layer)) = stack.pop() {
        walked += 1;
        if walked > 10_000_000 {
            return Err(ReadError::Invalid("more than 10,000,000 components".into()));
        }
        let bom_ref = str_of(c, "bom-ref").unwrap_or("");
        let mut held_by = layer;
        if let Some(i) = property(c, "cairn:layer:index").and_then(|i| i.parse::<usize>().ok()) {
            sbom.source.layers.push(Layer {
                index: i,
                digest: property(c, "cairn:layer:digest").map(str::to_owned),
                diff_id: property(c, "cairn:layer:diff-id").map(str::to_owned),
                media_type: None,
                size: 0,
                created_by: property(c, "cairn:layer:created-by").map(str::to_owned),
                created: None,
                comment: None,
                base: property(c, "cairn:layer:base") == Some("true"),
            });
            held_by = Some(i);
        } else {
            match (str_of(c, "type"), str_of(c, "purl")) {
                (Some("operating-system"), _) if sbom.distro.is_none() => {
                    let o = c.pointer("/evidence/occurrences/0");
                    let evidence = o.and_then(|o| {
                        Some(Location {
                            path: str_of(o, "location")?.to_owned(),
                            layer: str_of(o, "additionalContext")?
                                .strip_prefix("layer ")?
                                .split(|c: char| !c.is_ascii_digit())
                                .next()?
                                .parse()
                                .ok()?,
                            lines: None,
                        })
                    });
                    sbom.distro = Some(distro(
                        str_of(c, "name").unwrap_or("").to_owned(),
                        str_of(c, "version").map(str::to_owned),
                        str_of(c, "description").map(str::to_owned),
                        c.pointer("/supplier/name")
                            .and_then(Value::as_str)
                            .map(str::to_owned),
                        c.pointer("/supplier/url/0")
                            .and_then(Value::as_str)
                            .map(str::to_owned),
                        evidence,
                    ));
                }
                (Some("operating-system" | "file"), _) => {}
                (_, Some(purl)) => {
                    let id = if bom_ref.is_empty() { purl } else { bom_ref };
                    let mut p = package(
                        id.to_owned(),
                        str_of(c, "name").unwrap_or("").to_owned(),
                        str_of(c, "version").unwrap_or("").to_owned(),
                        purl.to_owned(),
                    );
                    p.cataloger = property(c, "cairn:cataloger").unwrap_or("").to_owned();
                    p.licenses.declared = cdx_license(c);
                    p.maintainer = c
                        .pointer("/supplier/name")
                        .and_then(Value::as_str)
                        .or_else(|| str_of(c, "publisher"))
                        .map(str::to_owned);
                    p.copyright = str_of(c, "copyright").map(str::to_owned);
                    p.cpes = str_of(c, "cpe").map(str::to_owned).into_iter().collect();
                    if let Some(d) = str_of(c, "description") {
                        p.metadata.insert("description".into(), d.to_owned());
                    }
                    cdx_evidence(c, &mut p);
                    // The layer that holds a component installed its version.
                    if p.installed_in() != layer {
                        p.evidence.introduced_in = layer;
                        p.evidence.changes.clear();
                    }
                    sbom.packages.push(p);
                }
                _ => unnamed += 1,
            }
        }
        for k in c
            .get("components")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            stack.push((k, held_by));
        }
    }
    if unnamed > 0 {
        notes.push(format!(
            "{unnamed} component(s) without a package URL were left out (a package is known by its purl)"
        ));
    }
    let ids: std::collections::BTreeSet<String> =
        sbom.packages.iter().map(|p| p.id.clone()).collect();
    for d in v
        .get("dependencies")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(from) = str_of(d, "ref").filter(|r| ids.contains(*r)) else {
            continue;
        };
        for to in d
            .get("dependsOn")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(to) = to.as_str().filter(|t| ids.contains(*t)) {
                sbom.relationships.push(Relationship {
                    from: from.to_owned(),
                    kind: RelationshipKind::DependsOn,
                    to: to.to_owned(),
                });
            }
        }
    }
    // A document that says it is incomplete, without a warning cairn wrote, stays so.
    let said_incomplete = v
        .get("compositions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| str_of(c, "aggregate"))
        .find(|a| a.starts_with("incomplete"));
    if let Some(a) = said_incomplete {
        if !sbom.warnings.iter().any(|w| w.incomplete) {
            sbom.warnings.push(
                Warning::new(
                    WarningKind::Unreadable,
                    format!(
                        "the document says its inventory is incomplete (composition aggregate {a})"
                    ),
                )
                .incomplete(),
            );
        }
    }
    sbom.source.layers.sort_by_key(|l| l.index);
    set_base(&mut sbom);
    sbom.normalize();
    Ok(Read {
        sbom,
        format: Detected::CycloneDxJson,
        notes,
    })
}
