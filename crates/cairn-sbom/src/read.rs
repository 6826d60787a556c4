//! Reading SBOM documents back into the model: cairn's own JSON (lossless), and the SPDX
//! 2.3 (JSON and tag-value) and CycloneDX 1.6 and 1.7 JSON documents cairn writes, so that two
//! documents — or a document and an image — can be compared.
//!
//! From SPDX and CycloneDX the package identities come back (name, version, package URL
//! and so type and architecture, declared license, cataloger), their dependencies, and
//! the image's layers (index, digest, diff id, build command, base or not) with each
//! package's layer: the layer that CONTAINS it, read back as the layer that introduced
//! it. Facts those formats do not carry as data (evidence line ranges, owned files,
//! warnings) do not come back. Documents from other tools are read for what they share
//! with these; what cannot be mapped is named in the notes.

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
    #[error("not an SBOM cairn reads (cairn JSON, SPDX 2.x JSON or tag-value, CycloneDX JSON)")]
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
    CycloneDxJson,
}

/// What a document says, in the model, with notes on what could not be mapped.
#[derive(Debug)]
pub struct Read {
    pub sbom: Sbom,
    pub format: Detected,
    pub notes: Vec<String>,
}

/// Read a document, telling its format from its contents.
pub fn read(bytes: &[u8]) -> Result<Read, ReadError> {
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(ReadError::TooLarge(bytes.len()));
    }
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(0);
    let rest = &bytes[start..];
    if rest.starts_with(b"SPDXVersion:") {
        let text = String::from_utf8_lossy(rest);
        return Ok(tag_value(&text));
    }
    if !rest.starts_with(b"{") {
        return Err(ReadError::Unknown);
    }
    let v: Value = serde_json::from_slice(rest)?;
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
    if v.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX") {
        return cyclonedx_json(&v);
    }
    Err(ReadError::Unknown)
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

/// A package from its identity.
fn package(id: String, name: String, version: String, purl: String) -> Package {
    let (kind, arch) = purl_parts(&purl);
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
    root: Option<String>,
    /// SPDX id → (name, version, purl, license, source info, purpose).
    packages: Vec<SpdxPackage>,
    layers: Vec<SpdxLayer>,
    relationships: Vec<(String, String, String)>,
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
}

impl SpdxDoc {
    fn into_read(self, format: Detected) -> Read {
        let mut sbom = empty_sbom(self.name);
        sbom.created = self.created;
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
                sbom.source.image_id = Some(p.version.clone()).filter(|v| !v.is_empty());
                sbom.source.kind = match p.purpose.as_deref() {
                    Some("CONTAINER") => "image".into(),
                    _ => "sbom".into(),
                };
                continue;
            }
            if p.purpose.as_deref() == Some("OPERATING-SYSTEM") {
                continue;
            }
            let Some(purl) = p.purl.clone() else {
                unnamed += 1;
                continue;
            };
            let mut pkg = package(purl.clone(), p.name, p.version, purl);
            pkg.licenses.declared = p.license;
            pkg.cataloger = p
                .source_info
                .as_deref()
                .and_then(|s| s.strip_prefix("acquired package info from "))
                .and_then(|s| s.split_whitespace().next())
                .unwrap_or("")
                .to_owned();
            pkg.evidence.introduced_in = layer_of.get(p.spdx_id.as_str()).copied();
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
        root: v
            .get("documentDescribes")
            .and_then(Value::as_array)
            .and_then(|d| d.first())
            .and_then(Value::as_str)
            .map(str::to_owned),
        packages: vec![],
        layers: vec![],
        relationships: vec![],
    };
    for p in v
        .get("packages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let id = str_of(p, "SPDXID").unwrap_or("").to_owned();
        if let Some(index) = layer_index(&id) {
            doc.layers.push(SpdxLayer {
                index,
                digest: str_of(p, "versionInfo").map(str::to_owned),
                summary: str_of(p, "summary").unwrap_or("").to_owned(),
                description: str_of(p, "description").unwrap_or("").to_owned(),
                comment: str_of(p, "comment").map(str::to_owned),
            });
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
            spdx_id: id,
            name: str_of(p, "name").unwrap_or("").to_owned(),
            version: str_of(p, "versionInfo").unwrap_or("").to_owned(),
            purl,
            license: license(str_of(p, "licenseDeclared")),
            source_info: str_of(p, "sourceInfo").map(str::to_owned),
            purpose: str_of(p, "primaryPackagePurpose").map(str::to_owned),
            checksum: None,
        });
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

/// SPDX tag-value: `Tag: value` lines, where a value may be `<text>…</text>` over several
/// lines; a `PackageName` starts a package.
fn tag_value(text: &str) -> Read {
    let mut doc = SpdxDoc {
        name: String::new(),
        created: String::new(),
        creator: None,
        root: None,
        packages: vec![],
        layers: vec![],
        relationships: vec![],
    };
    let mut cur: Option<(SpdxPackage, String, String)> = None; // package, summary, description
    let mut comment: Option<String> = None;
    let mut in_package = false;
    let mut seen_external_comment = false;
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
            "PackageSummary" => with(&mut cur, |_, s, _| *s = value),
            "PackageDescription" => with(&mut cur, |_, _, d| *d = value),
            "PackageComment" if in_package => comment = Some(value),
            "ExternalRef" => with(&mut cur, |p, _, _| {
                // `CATEGORY TYPE LOCATOR`: the locator is the rest of the line.
                let mut parts = value.splitn(3, ' ');
                if let (Some(_), Some("purl"), Some(loc)) =
                    (parts.next(), parts.next(), parts.next())
                {
                    // The first purl is the package's own; later ones are merged records.
                    if p.purl.is_none() && !seen_external_comment {
                        p.purl = Some(loc.to_owned());
                    }
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
    }
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
                    p.licenses.declared = c
                        .get("licenses")
                        .and_then(Value::as_array)
                        .and_then(|l| l.first())
                        .and_then(|l| {
                            str_of(l, "expression")
                                .or_else(|| l.pointer("/license/id").and_then(Value::as_str))
                        })
                        .and_then(|l| license(Some(l)));
                    p.evidence.introduced_in = layer;
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
    sbom.source.layers.sort_by_key(|l| l.index);
    set_base(&mut sbom);
    sbom.normalize();
    Ok(Read {
        sbom,
        format: Detected::CycloneDxJson,
        notes,
    })
}
