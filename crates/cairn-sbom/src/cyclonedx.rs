//! CycloneDX 1.7 JSON and XML (and 1.6: the document is the same, and valid in both; the
//! XML is this same document, rendered by `cdx_xml`). The image is metadata.component; packages are components with purl,
//! CPE, licenses and `evidence` (identity with the method that found it, occurrences with
//! the database file, line and layer), so the provenance does not live only in cairn's own
//! format. An image's layers are components of their own (`cairn-layer-N`, with digest,
//! diff id, build command and whether the base image's), each holding in its `components`
//! the packages it installed: image → layer → package, as CycloneDX nests assemblies. A
//! scan that could not read everything says so in `compositions`.

use crate::ids::{document_digest, uuid_from};
use crate::model::*;
use crate::spdx::{annotation_comment, layer_summary, layer_text, layered, provenance};
use serde_json::{json, Value};
use std::collections::BTreeMap;

fn prop(name: &str, value: impl Into<String>) -> Value {
    json!({"name": name, "value": value.into()})
}

fn licenses(p: &Package) -> Option<Value> {
    let d = p.licenses.declared.as_ref()?;
    Some(json!([{"expression": d, "acknowledgement": "declared"}]))
}

/// Components another package contains (the modules compiled into a Go program that a deb
/// ships) go inside that package's `components`, as CycloneDX expresses containment; the
/// rest stay at the top. Each child is nested under its first container only.
fn nest(sbom: &Sbom, flat: Vec<Value>) -> Vec<Value> {
    let ids: std::collections::BTreeSet<&str> =
        sbom.packages.iter().map(|p| p.id.as_str()).collect();
    let mut parent: BTreeMap<&str, &str> = BTreeMap::new();
    for r in &sbom.relationships {
        if r.kind == RelationshipKind::Contains
            && ids.contains(r.from.as_str())
            && ids.contains(r.to.as_str())
        {
            parent.entry(r.to.as_str()).or_insert(r.from.as_str());
        }
    }
    if parent.is_empty() {
        return flat;
    }
    let mut children: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut top = Vec::new();
    for c in flat {
        let r = c["bom-ref"].as_str().unwrap_or("").to_owned();
        // Only one level: a container that is itself contained stays where it is.
        match parent.get(r.as_str()) {
            Some(p) if !parent.contains_key(p) => {
                children.entry((*p).to_owned()).or_default().push(c)
            }
            _ => top.push(c),
        }
    }
    for c in &mut top {
        if let Some(kids) = c["bom-ref"].as_str().and_then(|r| children.remove(r)) {
            c["components"] = json!(kids);
        }
    }
    top
}

/// The bom-ref of layer `i`.
pub(crate) fn layer_ref(i: usize) -> String {
    format!("cairn-layer-{i}")
}

/// An image's layers as components, each holding the top-level package components it
/// installed; the others (the operating system, packages with no layer) stay at the top.
fn by_layer(sbom: &Sbom, top: Vec<Value>) -> Vec<Value> {
    if !layered(sbom) {
        return top;
    }
    let layer_of: BTreeMap<&str, usize> = sbom
        .packages
        .iter()
        .filter_map(|p| Some((p.id.as_str(), p.installed_in()?)))
        .filter(|(_, l)| *l < sbom.source.layers.len())
        .collect();
    let mut held: Vec<Vec<Value>> = vec![Vec::new(); sbom.source.layers.len()];
    let mut rest = Vec::new();
    for c in top {
        match c["bom-ref"].as_str().and_then(|r| layer_of.get(r)) {
            Some(&l) => held[l].push(c),
            None => rest.push(c),
        }
    }
    let mut out = Vec::new();
    for (l, kids) in sbom.source.layers.iter().zip(held) {
        let mut props = vec![
            prop("cairn:layer:index", l.index.to_string()),
            prop("cairn:layer:base", l.base.to_string()),
        ];
        if let Some(d) = &l.digest {
            props.push(prop("cairn:layer:digest", d));
        }
        if let Some(d) = &l.diff_id {
            props.push(prop("cairn:layer:diff-id", d));
        }
        if let Some(c) = &l.created_by {
            props.push(prop("cairn:layer:created-by", c));
        }
        let mut c = json!({
            "bom-ref": layer_ref(l.index),
            "type": "file",
            "name": format!("layer {}", l.index),
            "description": layer_summary(l),
            "properties": props,
        });
        if let Some(d) = l.digest.as_ref().or(l.diff_id.as_ref()) {
            c["version"] = json!(d);
        }
        if let Some(s) = &sbom.source.supplier {
            c["supplier"] = json!({"name": s});
        }
        if let Some(hex) = l.digest.as_deref().and_then(|d| d.strip_prefix("sha256:")) {
            c["hashes"] = json!([{"alg": "SHA-256", "content": hex}]);
        }
        if !kids.is_empty() {
            c["components"] = json!(kids);
        }
        out.push(c);
    }
    rest.extend(out);
    rest
}

/// The CycloneDX specification version a document is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Version {
    V1_6,
    V1_7,
}

impl Version {
    fn number(self) -> &'static str {
        match self {
            Version::V1_6 => "1.6",
            Version::V1_7 => "1.7",
        }
    }
}

pub(crate) fn json(sbom: &Sbom, version: Version) -> String {
    let mut s = serde_json::to_string_pretty(&bom(sbom, version)).expect("serializes");
    s.push('\n');
    s
}

/// The same document in CycloneDX XML.
pub(crate) fn xml(sbom: &Sbom, version: Version) -> String {
    crate::cdx_xml::write(&bom(sbom, version))
}

/// The CycloneDX document, as JSON; the XML writer renders this same value.
fn bom(sbom: &Sbom, version: Version) -> Value {
    let src = &sbom.source;
    let root_ref = "cairn-source";
    let mut root = json!({
        "bom-ref": root_ref,
        "type": if src.kind == "dir" { "file" } else { "container" },
        "name": src.name,
    });
    if let Some(id) = &src.image_id {
        root["version"] = json!(id);
        if let Some(hex) = id.strip_prefix("sha256:") {
            root["hashes"] = json!([{"alg": "SHA-256", "content": hex}]);
        }
    }
    if let Some(purl) = &src.purl {
        root["purl"] = json!(purl);
    }
    if let Some(s) = &src.supplier {
        root["supplier"] = json!({"name": s});
    }
    if let Some(l) = &src.license {
        root["licenses"] = json!([{"expression": l, "acknowledgement": "declared"}]);
    }
    let mut root_props = vec![
        prop("cairn:source:kind", &src.kind),
        prop("cairn:source:path", &src.path),
    ];
    if let Some(r) = &src.repository {
        root_props.push(prop("cairn:image:repository", r));
    }
    if let Some(m) = &src.manifest_digest {
        root_props.push(prop("cairn:image:manifest-digest", m));
    }
    if let Some(m) = &src.index_digest {
        root_props.push(prop("cairn:image:index-digest", m));
    }
    if let Some(p) = &src.platform {
        root_props.push(prop("cairn:image:platform", p));
    }
    for t in &src.tags {
        root_props.push(prop("cairn:image:tag", t));
    }
    for l in &src.layers {
        let i = l.index;
        if let Some(d) = &l.digest {
            root_props.push(prop(&format!("cairn:layer:{i}:digest"), d));
        }
        if let Some(d) = &l.diff_id {
            root_props.push(prop(&format!("cairn:layer:{i}:diff-id"), d));
        }
        if let Some(c) = &l.created_by {
            root_props.push(prop(&format!("cairn:layer:{i}:created-by"), c));
        }
    }
    root["properties"] = json!(root_props);

    let mut components = Vec::new();
    if let Some(d) = &sbom.distro {
        let mut os = json!({
            "bom-ref": format!("os:{}", d.id),
            "type": "operating-system",
            "name": d.id,
        });
        if let Some(v) = &d.version_id {
            os["version"] = json!(v);
        }
        if let Some(p) = &d.pretty_name {
            os["description"] = json!(p);
        }
        if let Some(v) = &d.vendor {
            os["supplier"] = json!({"name": v});
            if let Some(u) = &d.url {
                os["supplier"]["url"] = json!([u]);
            }
        }
        os["evidence"] = json!({"occurrences": [{"location": d.evidence.path, "additionalContext": layer_text(sbom, d.evidence.layer)}]});
        components.push(os);
    }
    for p in &sbom.packages {
        let mut c = json!({
            "bom-ref": p.id,
            "type": "library",
            "name": p.name,
            "version": p.version,
            "purl": p.purl,
        });
        if let Some(cpe) = p.cpes.first() {
            c["cpe"] = json!(cpe);
        }
        if let Some(m) = &p.maintainer {
            c["publisher"] = json!(m);
            c["supplier"] = json!({"name": m});
        }
        if let Some(l) = licenses(p) {
            c["licenses"] = l;
        }
        if let Some(t) = &p.copyright {
            c["copyright"] = json!(t);
        }
        if let Some(d) = p.metadata.get("description") {
            c["description"] = json!(d.lines().next().unwrap_or(d));
        }
        let mut props = vec![prop("cairn:cataloger", &p.cataloger)];
        let origin = serde_json::to_value(p.origin).expect("serializes");
        props.push(prop("cairn:origin", origin.as_str().unwrap_or("")));
        if p.dev {
            // Not needed at run time: CycloneDX's scope for test and build-only components.
            c["scope"] = json!("excluded");
            props.push(prop("cairn:dev", "true"));
        }
        for (n, m) in p.evidence.merged.iter().enumerate() {
            props.push(prop(
                &format!("cairn:merged:{n}"),
                format!("{} ({} cataloger): {}", m.purl, m.cataloger, m.reason),
            ));
        }
        if let Some(a) = &p.arch {
            props.push(prop("cairn:package:arch", a));
        }
        if let Some(s) = &p.source_package {
            props.push(prop("cairn:package:source-name", &s.name));
            if let Some(v) = &s.version {
                props.push(prop("cairn:package:source-version", v));
            }
        }
        if let Some(sz) = p.installed_size {
            props.push(prop("cairn:package:installed-size", sz.to_string()));
        }
        if let Some(i) = p.evidence.introduced_in {
            props.push(prop("cairn:introduced-in-layer", i.to_string()));
            props.push(prop("cairn:introduced-by", layer_text(sbom, i)));
        }
        for (n, ch) in p.evidence.changes.iter().enumerate() {
            let v = serde_json::to_value(ch.kind).expect("serializes");
            let mut text = format!("layer {}: {}", ch.layer, v.as_str().unwrap_or(""));
            if let (Some(a), Some(b)) = (&ch.from_version, &ch.to_version) {
                text.push_str(&format!(" {a} -> {b}"));
            }
            if !ch.paths.is_empty() {
                text.push_str(&format!(" {}", ch.paths.join(" ")));
            }
            props.push(prop(&format!("cairn:change:{n}"), text));
        }
        c["properties"] = json!(props);
        // Evidence: how the identity was established, and every place it was found.
        let mut occurrences: Vec<Value> = Vec::new();
        for l in &p.evidence.locations {
            let mut o = json!({"location": l.path, "additionalContext": layer_text(sbom, l.layer)});
            if let Some((a, _)) = l.lines {
                o["line"] = json!(a);
            }
            occurrences.push(o);
        }
        let methods: Vec<Value> = p
            .evidence
            .locations
            .iter()
            .map(|l| json!({"technique": "manifest-analysis", "confidence": 1, "value": l.path}))
            .collect();
        let mut identity = vec![
            json!({"field": "purl", "confidence": 1, "concludedValue": p.purl, "methods": methods}),
        ];
        // A language record folded into this package: its identity is evidence of this one.
        for m in &p.evidence.merged {
            let methods: Vec<Value> = m
                .locations
                .iter()
                .map(
                    |l| json!({"technique": "manifest-analysis", "confidence": 1, "value": l.path}),
                )
                .collect();
            identity.push(json!({"field": "purl", "confidence": 1, "concludedValue": m.purl, "methods": methods}));
        }
        let mut evidence = json!({
            "identity": identity,
            "occurrences": occurrences,
        });
        // Always the expression form: CycloneDX's license-id enum lags the SPDX list, and
        // an expression may hold any id or LicenseRef.
        if let Some(d) = &p.licenses.declared {
            evidence["licenses"] = json!([{"expression": d}]);
        }
        c["evidence"] = evidence;
        let prov = provenance(sbom, p);
        if !prov.is_empty() {
            c["properties"]
                .as_array_mut()
                .expect("array")
                .push(prop("cairn:provenance", prov));
        }
        components.push(c);
    }
    let components = nest(sbom, components);
    let mut components = by_layer(sbom, components);
    for f in &sbom.files {
        components.push(json!({
            "bom-ref": f.id,
            "type": "file",
            "name": f.path,
            "hashes": [{"alg": "SHA-1", "content": f.sha1}, {"alg": "SHA-256", "content": f.sha256}],
            "properties": [prop("cairn:layer", f.layer.to_string())],
        }));
    }
    let mut deps: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    deps.insert(
        root_ref,
        sbom.packages.iter().map(|p| p.id.as_str()).collect(),
    );
    for p in &sbom.packages {
        deps.entry(p.id.as_str()).or_default();
    }
    for r in &sbom.relationships {
        if r.kind == RelationshipKind::DependsOn {
            deps.entry(r.from.as_str()).or_default().push(r.to.as_str());
        }
    }
    let dependencies: Vec<Value> = deps
        .into_iter()
        .map(|(r, mut on)| {
            on.sort();
            on.dedup();
            json!({"ref": r, "dependsOn": on})
        })
        .collect();
    let mut meta_props = vec![prop("cairn:complete", sbom.complete.to_string())];
    for w in &sbom.warnings {
        meta_props.push(prop("cairn:warning", w.to_string()));
    }
    // Each warning is an annotation on what it concerns (its package, else the image), and a
    // package that may lack facts because of one is an incomplete assembly of its own.
    let tool = json!({"type": "application", "name": sbom.tool.name, "version": sbom.tool.version});
    let known: std::collections::BTreeSet<&str> =
        sbom.packages.iter().map(|p| p.id.as_str()).collect();
    let mut annotations = Vec::new();
    let mut incomplete_pkgs: Vec<&str> = Vec::new();
    for (n, w) in sbom.warnings.iter().enumerate() {
        let on = w
            .package
            .as_deref()
            .filter(|p| known.contains(p))
            .unwrap_or(root_ref);
        if w.incomplete && on != root_ref {
            incomplete_pkgs.push(on);
        }
        annotations.push(json!({
            "bom-ref": format!("cairn-warning-{n}"),
            "subjects": [on],
            "annotator": {"component": tool},
            "timestamp": sbom.created,
            "text": annotation_comment(w),
        }));
    }
    incomplete_pkgs.sort_unstable();
    incomplete_pkgs.dedup();
    let mut compositions = vec![json!({
        "aggregate": if sbom.complete { "complete" } else { "incomplete" },
        "assemblies": [root_ref],
    })];
    if !incomplete_pkgs.is_empty() {
        compositions.push(json!({"aggregate": "incomplete", "assemblies": incomplete_pkgs}));
    }
    let mut bom = json!({
        "$schema": format!("http://cyclonedx.org/schema/bom-{}.schema.json", version.number()),
        "bomFormat": "CycloneDX",
        "specVersion": version.number(),
        "serialNumber": format!("urn:uuid:{}", uuid_from(&document_digest(sbom))),
        "version": 1,
        "metadata": {
            "timestamp": sbom.created,
            "tools": {"components": [{"type": "application", "name": sbom.tool.name, "version": sbom.tool.version}]},
            "component": root,
            "properties": meta_props,
        },
        "components": components,
        "dependencies": dependencies,
        "compositions": compositions,
    });
    if !annotations.is_empty() {
        bom["annotations"] = json!(annotations);
    }
    if let Some(c) = &sbom.creator {
        // CycloneDX wants an email to be one: anything else stays in the name.
        let split = c
            .split_once('<')
            .map(|(n, e)| (n.trim(), e.trim_end_matches('>').trim()))
            .filter(|(_, e)| e.contains('@') && !e.contains(char::is_whitespace));
        let a = match split {
            Some((name, email)) => json!({"name": name, "email": email}),
            None => json!({"name": c.trim()}),
        };
        bom["metadata"]["authors"] = json!([a]);
    }
    bom
}
