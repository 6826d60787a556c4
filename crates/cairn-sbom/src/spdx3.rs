//! SPDX 3.0.1 as JSON-LD: the core, software, simple-licensing and build profiles.
//!
//! The same graph as the SPDX 2.3 writer, as SPDX 3 elements: the document's root element
//! is an `software_Sbom` (of type "analyzed": made by analysing an image after its build)
//! whose root is the image, a `software_Package` that `contains` its operating system and
//! its layers; each layer `contains` the packages it installed and is the output
//! (`hasOutput`) of a `build_Build` carrying its build command; packages `dependsOn` each
//! other and `contains` the files listed with `--files`. Licenses are
//! `simplelicensing_LicenseExpression`s that packages have as declared and concluded
//! licenses; suppliers are `Person`s and `Organization`s with their email addresses;
//! warnings are `Annotation`s on what they concern, and `contains` relationships are
//! `complete`, or `incomplete` when a warning says packages may be missing. Element ids are
//! the SPDX 2 ids after the document's namespace.

use crate::ids::short_hash;
use crate::model::*;
use crate::spdx::{self, Doc};
use serde_json::{json, Value};
use std::collections::BTreeMap;

const CONTEXT: &str = "https://spdx.org/rdf/3.0.1/spdx-context.jsonld";
const CREATION: &str = "_:creationinfo";
/// The kind of build a layer's `build_Build` is: a step of an image's build, as the OCI
/// image configuration's history records it.
const LAYER_BUILD_TYPE: &str =
    "https://github.com/opencontainers/image-spec/blob/v1.1.0/config.md#properties";

struct Graph<'a> {
    ns: String,
    doc: Doc<'a>,
    elements: Vec<Value>,
    /// `Name <email>` -> the agent's id.
    agents: BTreeMap<String, String>,
    /// License expression -> its element's id.
    licenses: BTreeMap<String, String>,
    /// (from, type) -> to, with whether the relationship is a complete enumeration.
    relationships: BTreeMap<(String, &'static str), Vec<String>>,
}

impl<'a> Graph<'a> {
    fn id(&self, local: &str) -> String {
        format!("{}#{local}", self.ns)
    }

    fn push(&mut self, mut v: Value) {
        v["creationInfo"] = json!(CREATION);
        self.elements.push(v);
    }

    /// The agent a `Name <email>` field names, added once.
    fn agent(&mut self, who: &str) -> String {
        if let Some(id) = self.agents.get(who) {
            return id.clone();
        }
        let a = spdx::actor(who);
        let id = self.id(&format!("Agent-{}", short_hash(&[who])));
        let mut v = json!({
            "type": if a.organization { "Organization" } else { "Person" },
            "spdxId": id,
            "name": a.name,
        });
        if let Some(e) = &a.email {
            v["externalIdentifier"] = json!([{
                "type": "ExternalIdentifier",
                "externalIdentifierType": "email",
                "identifier": e,
            }]);
        }
        self.push(v);
        self.agents.insert(who.to_owned(), id.clone());
        id
    }

    /// The element of a license expression, added once, with the texts of the LicenseRefs
    /// it names.
    fn license(&mut self, expr: &str) -> String {
        if let Some(id) = self.licenses.get(expr) {
            return id.clone();
        }
        let id = self.id(&format!("License-{}", short_hash(&[expr])));
        let mut v = json!({
            "type": "simplelicensing_LicenseExpression",
            "spdxId": id,
            "simplelicensing_licenseExpression": expr,
        });
        let refs: Vec<Value> = expr
            .split(|c: char| c.is_whitespace() || c == '(' || c == ')')
            .filter(|t| t.starts_with("LicenseRef-"))
            .filter(|r| self.doc.extracted.contains_key(*r))
            .map(|r| json!({"type": "DictionaryEntry", "key": r, "value": self.id(r)}))
            .collect();
        if !refs.is_empty() {
            v["simplelicensing_customIdToUri"] = json!(refs);
        }
        self.push(v);
        self.licenses.insert(expr.to_owned(), id.clone());
        id
    }

    fn relate(&mut self, from: &str, kind: &'static str, to: String) {
        self.relationships
            .entry((from.to_owned(), kind))
            .or_default()
            .push(to);
    }

    /// The licenses a package declares, which cairn also concludes.
    fn licensed(&mut self, element: &str, expr: Option<&str>) {
        if let Some(l) = expr {
            let lic = self.license(l);
            self.relate(element, "hasDeclaredLicense", lic.clone());
            self.relate(element, "hasConcludedLicense", lic);
        }
    }
}

fn hash(algorithm: &str, value: &str) -> Value {
    json!({"type": "Hash", "algorithm": algorithm, "hashValue": value})
}

/// An SPDX 3 DateTimeStamp (`YYYY-MM-DDThh:mm:ssZ`, no fraction) from an RFC 3339 time in
/// UTC, or nothing when it is not one.
fn timestamp(t: &str) -> Option<String> {
    let t = t.strip_suffix('Z')?;
    let whole = t.split('.').next()?;
    let ok = whole.len() == 19
        && whole.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            10 => b == b'T',
            13 | 16 => b == b':',
            _ => b.is_ascii_digit(),
        });
    ok.then(|| format!("{whole}Z"))
}

pub(crate) fn json(sbom: &Sbom) -> String {
    let doc = Doc::new(sbom);
    let ns = doc.namespace();
    let mut g = Graph {
        ns,
        doc,
        elements: vec![],
        agents: BTreeMap::new(),
        licenses: BTreeMap::new(),
        relationships: BTreeMap::new(),
    };
    let src = &sbom.source;
    let tool = g.id("Tool-cairn");
    let tool_name = format!("{}-{}", sbom.tool.name, sbom.tool.version);
    g.push(json!({"type": "Tool", "spdxId": tool, "name": tool_name}));
    // The SBOM is made by who ran the tool (`--creator`), else by the tool on its own: a
    // software agent, named as the tool is.
    let creator = match &sbom.creator {
        Some(c) => g.agent(c),
        None => {
            let id = g.id("Agent-cairn");
            g.push(json!({"type": "SoftwareAgent", "spdxId": id, "name": tool_name}));
            id
        }
    };
    let created = timestamp(&sbom.created).unwrap_or_else(|| "1970-01-01T00:00:00Z".into());

    let root = g.id(&g.doc.root_ref.clone());
    let mut image = json!({
        "type": "software_Package",
        "spdxId": root,
        "name": src.name,
        "software_primaryPurpose": if src.kind == "dir" { "other" } else { "container" },
    });
    if let Some(v) = &src.image_id {
        image["software_packageVersion"] = json!(v);
        if let Some(hex) = v.strip_prefix("sha256:") {
            image["verifiedUsing"] = json!([hash("sha256", hex)]);
        }
    }
    if let Some(p) = &src.purl {
        image["software_packageUrl"] = json!(p);
    }
    if let Some(s) = &src.supplier {
        image["suppliedBy"] = json!(g.agent(s));
    }
    let layers: Vec<String> = (0..src.layers.len())
        .map(|i| spdx::layer_text(sbom, i))
        .collect();
    if !layers.is_empty() {
        image["comment"] = json!(format!("Layers: {}", layers.join("; ")));
    }
    g.push(image);
    g.licensed(&root, src.license.as_deref());

    if let (Some(d), Some(os_ref)) = (&sbom.distro, g.doc.os_ref.clone()) {
        let id = g.id(&os_ref);
        let mut os = json!({
            "type": "software_Package",
            "spdxId": id,
            "name": d.id,
            "software_primaryPurpose": "operatingSystem",
            "software_sourceInfo": format!(
                "acquired distribution info from {} (layer {})",
                d.evidence.path, d.evidence.layer
            ),
        });
        if let Some(v) = &d.version_id {
            os["software_packageVersion"] = json!(v);
        }
        if let Some(pn) = &d.pretty_name {
            os["description"] = json!(pn);
        }
        if let Some(u) = &d.url {
            os["software_homePage"] = json!(u);
        }
        if let Some(v) = &d.vendor {
            os["suppliedBy"] = json!(g.agent(v));
        }
        g.push(os);
    }

    for (l, lref) in sbom.source.layers.iter().zip(g.doc.layer_refs.clone()) {
        let id = g.id(&lref);
        let mut v = json!({
            "type": "software_Package",
            "spdxId": id,
            "name": format!("layer {}", l.index),
            "software_primaryPurpose": "archive",
            "summary": spdx::layer_summary(l),
        });
        if let Some(d) = l.digest.as_ref().or(l.diff_id.as_ref()) {
            v["software_packageVersion"] = json!(d);
        }
        if let Some(hex) = l.digest.as_deref().and_then(|d| d.strip_prefix("sha256:")) {
            v["verifiedUsing"] = json!([hash("sha256", hex)]);
        }
        if let Some(d) = &l.diff_id {
            v["description"] = json!(format!("diff id {d}"));
        }
        if let Some(c) = &l.created_by {
            v["comment"] = json!(c);
        }
        if let Some(s) = &src.supplier {
            v["suppliedBy"] = json!(g.agent(s));
        }
        g.push(v);
        // The build step that made the layer, as the image's history records it.
        if l.created_by.is_some() || l.created.is_some() {
            let build = g.id(&format!("Build-{}", l.index));
            let mut b = json!({
                "type": "build_Build",
                "spdxId": build,
                "build_buildType": LAYER_BUILD_TYPE,
                "build_buildId": format!("{}#layer-{}", src.image_id.as_deref().unwrap_or(&src.name), l.index),
            });
            if let Some(c) = &l.created_by {
                b["build_parameter"] =
                    json!([{"type": "DictionaryEntry", "key": "created_by", "value": c}]);
                b["comment"] = json!(c);
            }
            if let Some(t) = l.created.as_deref().and_then(timestamp) {
                b["build_buildStartTime"] = json!(t);
            }
            g.push(b);
            g.relate(&build, "hasOutput", id.clone());
        }
    }

    for p in &sbom.packages {
        let id = g.id(&g.doc.pkg_refs[p.id.as_str()].clone());
        // The purl is the package's identity (software_packageUrl) and one of its
        // identifiers, beside its CPEs.
        let mut ids = vec![
            json!({"type": "ExternalIdentifier", "externalIdentifierType": "packageUrl", "identifier": p.purl}),
        ];
        for c in &p.cpes {
            ids.push(json!({"type": "ExternalIdentifier", "externalIdentifierType": "cpe23", "identifier": c}));
        }
        for m in &p.evidence.merged {
            ids.push(json!({
                "type": "ExternalIdentifier",
                "externalIdentifierType": "packageUrl",
                "identifier": m.purl,
                "comment": format!("found by the {} cataloger; {}", m.cataloger, m.reason),
            }));
        }
        let mut v = json!({
            "type": "software_Package",
            "spdxId": id,
            "name": p.name,
            "software_packageVersion": p.version,
            "software_packageUrl": p.purl,
            "software_primaryPurpose": "library",
            "software_sourceInfo": spdx::source_info(p),
        });
        v["externalIdentifier"] = json!(ids);
        if let Some(m) = &p.maintainer {
            v["suppliedBy"] = json!(g.agent(m));
        }
        if let Some(c) = &p.copyright {
            v["software_copyrightText"] = json!(c);
        }
        if let Some(h) = p.metadata.get("homepage") {
            v["software_homePage"] = json!(h);
        }
        if let Some(d) = p.metadata.get("description") {
            v["summary"] = json!(d.lines().next().unwrap_or(d));
        }
        let c = spdx::provenance(sbom, p);
        if !c.is_empty() {
            v["comment"] = json!(c);
        }
        g.push(v);
        g.licensed(&id, p.licenses.declared.as_deref());
    }

    for (lref, (name, text)) in g.doc.extracted.clone() {
        let id = g.id(&lref);
        g.push(json!({
            "type": "simplelicensing_SimpleLicensingText",
            "spdxId": id,
            "name": name,
            "simplelicensing_licenseText": text,
        }));
    }

    for f in &sbom.files {
        let id = g.id(&g.doc.file_refs[f.id.as_str()].clone());
        g.push(json!({
            "type": "software_File",
            "spdxId": id,
            "name": f.path,
            "software_fileKind": "file",
            "verifiedUsing": [hash("sha1", &f.sha1), hash("sha256", &f.sha256)],
            "comment": format!("layer {}", f.layer),
        }));
    }

    for (a, k, b) in g.doc.relationships() {
        let kind = match k {
            "CONTAINS" => "contains",
            "DEPENDS_ON" => "dependsOn",
            // The document's root element says what it describes.
            _ => continue,
        };
        let (a, b) = (g.id(&a), g.id(&b));
        g.relate(&a, kind, b);
    }
    let completeness = if sbom.complete {
        "complete"
    } else {
        "incomplete"
    };
    let relationships = std::mem::take(&mut g.relationships);
    for ((from, kind), mut to) in relationships {
        to.sort();
        to.dedup();
        let id = g.id(&format!(
            "Relationship-{kind}-{}",
            short_hash(&[&from, kind])
        ));
        let mut r = json!({
            "type": "Relationship",
            "spdxId": id,
            "from": from,
            "relationshipType": kind,
            "to": to,
        });
        // What an image or a layer contains is all cairn found, or says it may not be.
        if kind == "contains" && (from == root || g.doc.layer_refs.iter().any(|l| from == g.id(l)))
        {
            r["completeness"] = json!(completeness);
        }
        g.push(r);
    }

    let notes: Vec<(String, String)> = g
        .doc
        .notes
        .iter()
        .flat_map(|(on, c)| c.iter().map(move |c| (on.clone(), c.clone())))
        .collect();
    for (n, (on, comment)) in notes.into_iter().enumerate() {
        let id = g.id(&format!("Annotation-{n}"));
        let subject = g.id(&on);
        g.push(json!({
            "type": "Annotation",
            "spdxId": id,
            "annotationType": "other",
            "subject": subject,
            "statement": comment,
        }));
    }

    let data_license = g.license("CC0-1.0");
    let all: Vec<Value> = g.elements.iter().map(|e| e["spdxId"].clone()).collect();
    let bom = g.id("SBOM");
    let mut graph = vec![json!({
        "type": "CreationInfo",
        "@id": CREATION,
        "specVersion": "3.0.1",
        "created": created,
        "createdBy": [creator],
        "createdUsing": [tool],
    })];
    graph.push(json!({
        "type": "SpdxDocument",
        "spdxId": g.id("DOCUMENT"),
        "creationInfo": CREATION,
        "name": src.name,
        "comment": spdx::document_comment(sbom),
        "dataLicense": data_license,
        "profileConformance": ["core", "software", "simpleLicensing", "build"],
        "rootElement": [bom],
        "element": all.iter().cloned().chain([json!(bom)]).collect::<Vec<_>>(),
    }));
    graph.push(json!({
        "type": "software_Sbom",
        "spdxId": bom,
        "creationInfo": CREATION,
        "name": src.name,
        "software_sbomType": ["analyzed"],
        "rootElement": [root],
        "element": all,
    }));
    graph.append(&mut g.elements);
    let out = json!({"@context": CONTEXT, "@graph": graph});
    let mut s = serde_json::to_string_pretty(&out).expect("serializes");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::timestamp;

    #[test]
    fn timestamps_lose_their_fraction_and_keep_utc_only() {
        assert_eq!(
            timestamp("2023-11-14T22:13:20Z").as_deref(),
            Some("2023-11-14T22:13:20Z")
        );
        assert_eq!(
            timestamp("2024-01-02T03:04:05.123456789Z").as_deref(),
            Some("2024-01-02T03:04:05Z")
        );
        assert_eq!(timestamp("2024-01-02T03:04:05+01:00"), None);
        assert_eq!(timestamp("yesterday"), None);
    }
}
