//! SPDX 2.3, as JSON and as tag-value. The document DESCRIBES the image (or directory) as a
//! package; an image CONTAINS each of its layers as a package of its own (digest, diff id,
//! build command, base image or not), and each layer CONTAINS the packages it installed
//! (a directory CONTAINS its packages directly); packages DEPENDS_ON each other as their
//! databases say, and CONTAINS the files listed with `--files`. Declared licenses come from
//! the packages' own statements, and cairn concludes what they declare (it finds no evidence
//! against a declaration); where nothing is declared, both are NOASSERTION. Copyright text
//! is the packages' own (DEP-5 `Copyright:` fields); suppliers are the packages'
//! maintainers, the distribution's vendor and the image's stated supplier (`--supplier`).

use crate::ids::{document_digest, id_safe, spdx_ref};
use crate::model::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;

const NOASSERTION: &str = "NOASSERTION";

/// The SPDX ids of a document's elements and what hangs off them, shared by the SPDX 2
/// writers and the SPDX 3 one (which puts the same ids after its namespace).
pub(crate) struct Doc<'a> {
    pub(crate) sbom: &'a Sbom,
    pub(crate) root_ref: String,
    pub(crate) os_ref: Option<String>,
    pub(crate) pkg_refs: BTreeMap<&'a str, String>,
    pub(crate) file_refs: BTreeMap<&'a str, String>,
    /// LicenseRef id -> (name, text)
    pub(crate) extracted: BTreeMap<String, (String, String)>,
    /// Package id -> verification code, for packages that contain listed files.
    codes: BTreeMap<&'a str, String>,
    /// SPDX id -> the annotations (warnings) on it.
    pub(crate) notes: BTreeMap<String, Vec<String>>,
    /// The layers' SPDX ids, by index; empty for a directory.
    pub(crate) layer_refs: Vec<String>,
}

/// Whether the source's layers are packages of the document: an image's are, a
/// directory's one pseudo-layer is not.
pub(crate) fn layered(sbom: &Sbom) -> bool {
    sbom.source.kind != "dir" && !sbom.source.layers.is_empty()
}

/// The SPDX id of layer `i`.
pub(crate) fn layer_ref(i: usize) -> String {
    format!("SPDXRef-Layer-{i}")
}

/// What a layer package says of itself, for people and for reading back: `summary`
/// names the layer and whether it is the base image's, `description` its diff id.
pub(crate) fn layer_summary(l: &Layer) -> String {
    if l.base {
        format!("layer {} of the image, from its base image", l.index)
    } else {
        format!("layer {} of the image", l.index)
    }
}

impl<'a> Doc<'a> {
    pub(crate) fn new(sbom: &'a Sbom) -> Doc<'a> {
        let root_ref = spdx_ref("DocumentRoot", &sbom.source.name, &sbom.source.name);
        let os_ref = sbom
            .distro
            .as_ref()
            .map(|d| spdx_ref("OperatingSystem", &d.id, &d.id));
        let pkg_refs: BTreeMap<&str, String> = sbom
            .packages
            .iter()
            .map(|p| {
                (
                    p.id.as_str(),
                    spdx_ref("Package", &format!("{}-{}", p.kind, p.name), &p.id),
                )
            })
            .collect();
        let file_refs = sbom
            .files
            .iter()
            .map(|f| {
                (
                    f.id.as_str(),
                    spdx_ref("File", f.path.rsplit('/').next().unwrap_or(""), &f.id),
                )
            })
            .collect();
        let mut extracted = BTreeMap::new();
        for p in &sbom.packages {
            for ev in &p.licenses.evidence {
                collect_refs(&ev.spdx, ev, &mut extracted);
            }
            if let Some(d) = &p.licenses.declared {
                for r in license_refs(d) {
                    extracted.entry(r.clone()).or_insert_with(|| {
                        (
                            r.trim_start_matches("LicenseRef-").to_owned(),
                            format!("License named {r} by the package's metadata; no text found."),
                        )
                    });
                }
            }
        }
        if let Some(l) = &sbom.source.license {
            for r in license_refs(l) {
                extracted.entry(r.clone()).or_insert_with(|| {
                    (
                        r.trim_start_matches("LicenseRef-").to_owned(),
                        format!("License named {r} by the image's org.opencontainers.image.licenses; no text found."),
                    )
                });
            }
        }
        // Each warning is an annotation on the element it concerns: its package, else the
        // image.
        let mut notes: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for w in &sbom.warnings {
            let on = w
                .package
                .as_deref()
                .and_then(|p| pkg_refs.get(p))
                .unwrap_or(&root_ref);
            notes
                .entry(on.clone())
                .or_default()
                .push(annotation_comment(w));
        }
        let layer_refs = if layered(sbom) {
            (0..sbom.source.layers.len()).map(layer_ref).collect()
        } else {
            vec![]
        };
        Doc {
            layer_refs,
            sbom,
            root_ref,
            os_ref,
            pkg_refs,
            file_refs,
            extracted,
            codes: verification_codes(sbom),
            notes,
        }
    }

    pub(crate) fn namespace(&self) -> String {
        format!(
            "https://github.com/cairn-sbom/cairn/spdxdocs/{}-{}",
            id_safe(&self.sbom.source.name),
            hex::encode(&document_digest(self.sbom)[..8])
        )
    }

    pub(crate) fn relationships(&self) -> Vec<(String, &'static str, String)> {
        let mut out = vec![(
            "SPDXRef-DOCUMENT".to_owned(),
            "DESCRIBES",
            self.root_ref.clone(),
        )];
        if let Some(os) = &self.os_ref {
            out.push((self.root_ref.clone(), "CONTAINS", os.clone()));
        }
        for l in &self.layer_refs {
            out.push((self.root_ref.clone(), "CONTAINS", l.clone()));
        }
        for p in &self.sbom.packages {
            let container = p
                .installed_in()
                .and_then(|i| self.layer_refs.get(i))
                .unwrap_or(&self.root_ref);
            out.push((
                container.clone(),
                "CONTAINS",
                self.pkg_refs[p.id.as_str()].clone(),
            ));
        }
        for r in &self.sbom.relationships {
            let from = self
                .pkg_refs
                .get(r.from.as_str())
                .or_else(|| self.file_refs.get(r.from.as_str()));
            let to = self
                .pkg_refs
                .get(r.to.as_str())
                .or_else(|| self.file_refs.get(r.to.as_str()));
            if let (Some(f), Some(t)) = (from, to) {
                let kind = match r.kind {
                    RelationshipKind::Contains => "CONTAINS",
                    RelationshipKind::DependsOn => "DEPENDS_ON",
                };
                out.push((f.clone(), kind, t.clone()));
            }
        }
        out
    }
}

fn collect_refs(expr: &str, ev: &LicenseEvidence, out: &mut BTreeMap<String, (String, String)>) {
    for r in license_refs(expr) {
        let text = ev
            .text
            .clone()
            .filter(|t| !t.trim().is_empty())
            .unwrap_or_else(|| {
                format!(
                    "License named \"{}\" in {}; no license text found there.",
                    ev.value, ev.location.path
                )
            });
        out.entry(r.clone()).or_insert((ev.value.clone(), text));
    }
}

fn license_refs(expr: &str) -> Vec<String> {
    expr.split(|c: char| c.is_whitespace() || c == '(' || c == ')')
        .filter(|t| t.starts_with("LicenseRef-"))
        .map(str::to_owned)
        .collect()
}

/// Who a maintainer or supplier field names: organization or person, name, email.
pub(crate) struct Actor {
    pub(crate) organization: bool,
    pub(crate) name: String,
    pub(crate) email: Option<String>,
}

/// `Name <email>` as an actor: teams and lists are organizations, the rest people.
pub(crate) fn actor(m: &str) -> Actor {
    // An actor is one line (a database field may continue over several).
    let m = &tv_line(m);
    // `Name <email>`, and npm's `Name <email> (url)`, whose URL an actor cannot hold.
    let (name, email) = match m.split_once('<') {
        Some((n, e)) => (n.trim(), Some(e.split('>').next().unwrap_or(e).trim())),
        None => (m.trim(), None),
    };
    let lower = name.to_lowercase();
    let organization = [
        "team",
        "maintainers",
        "project",
        "group",
        "developers",
        "debian",
        "ubuntu",
        "list",
        "foundation",
        "corp",
        "inc.",
        "ltd",
        "llc",
        "gmbh",
        "company",
    ]
    .iter()
    .any(|w| lower.contains(w));
    Actor {
        organization,
        name: name.to_owned(),
        email: email.filter(|e| !e.is_empty()).map(str::to_owned),
    }
}

/// SPDX 2 supplier syntax, `Person: Name (email)`.
fn supplier(maintainer: Option<&str>) -> String {
    let Some(m) = maintainer else {
        return NOASSERTION.into();
    };
    let a = actor(m);
    let kind = if a.organization {
        "Organization"
    } else {
        "Person"
    };
    match a.email {
        Some(e) => format!("{kind}: {} ({e})", a.name),
        None => format!("{kind}: {}", a.name),
    }
}

/// The document's creators: the tool, and who ran it when `--creator` says.
fn creators(sbom: &Sbom) -> Vec<String> {
    let mut out = vec![format!("Tool: {}-{}", sbom.tool.name, sbom.tool.version)];
    if let Some(c) = &sbom.creator {
        out.push(supplier(Some(c)));
    }
    out
}

/// A layer for humans: index, digest and the build step that made it.
pub(crate) fn layer_text(sbom: &Sbom, i: usize) -> String {
    match sbom.source.layers.get(i) {
        Some(l) => {
            let id = l
                .digest
                .as_deref()
                .or(l.diff_id.as_deref())
                .unwrap_or("no digest");
            match &l.created_by {
                Some(c) => format!("layer {i} ({id}, created by: {c})"),
                None => format!("layer {i} ({id})"),
            }
        }
        None => format!("layer {i}"),
    }
}

/// The provenance of a package as one paragraph, for SPDX comments.
pub(crate) fn provenance(sbom: &Sbom, p: &Package) -> String {
    let mut s = String::new();
    match p.origin {
        Origin::Installed => {}
        Origin::Declared => s.push_str("Declared by a lock file or manifest, not seen installed. "),
        Origin::Binary => {
            s.push_str("Compiled into an executable, as its build information says. ")
        }
    }
    if p.dev {
        s.push_str("A development dependency. ");
    }
    if let Some(i) = p.evidence.introduced_in {
        s.push_str(&format!("Introduced in {}.", layer_text(sbom, i)));
    }
    for c in &p.evidence.changes {
        let what = match c.kind {
            PackageChangeKind::VersionChanged => format!(
                "version changed from {} to {}",
                c.from_version.as_deref().unwrap_or("?"),
                c.to_version.as_deref().unwrap_or("?")
            ),
            PackageChangeKind::Reinstalled => "reinstalled".into(),
            PackageChangeKind::Removed => "removed from the package database".into(),
            PackageChangeKind::FilesModified => format!("modified {}", c.paths.join(", ")),
            PackageChangeKind::FilesRemoved => format!("removed {}", c.paths.join(", ")),
        };
        s.push_str(&format!(" Layer {}: {what}.", c.layer));
    }
    for l in &p.evidence.locations {
        match l.lines {
            Some((a, b)) => s.push_str(&format!(
                " Listed in {} lines {a}-{b} (from layer {}).",
                l.path, l.layer
            )),
            None => s.push_str(&format!(" Listed in {} (from layer {}).", l.path, l.layer)),
        }
    }
    if p.files_truncated {
        s.push_str(" Its file list is truncated: the database lists more files than a limit allowed to read.");
    }
    for m in &p.evidence.merged {
        let at: Vec<&str> = m.locations.iter().map(|l| l.path.as_str()).collect();
        s.push_str(&format!(
            " Also found by the {} cataloger as {} ({}), not reported separately: {}.",
            m.cataloger,
            m.purl,
            at.join(", "),
            m.reason
        ));
    }
    s.trim().to_owned()
}

pub(crate) fn source_info(p: &Package) -> String {
    let db: Vec<&str> = p
        .evidence
        .locations
        .iter()
        .map(|l| l.path.as_str())
        .collect();
    format!(
        "acquired package info from {} database: {}",
        p.cataloger,
        db.join(", ")
    )
}

pub(crate) fn document_comment(sbom: &Sbom) -> String {
    let mut s = format!(
        "Scanned {} ({}) with {} {}.",
        sbom.source.name, sbom.source.kind, sbom.tool.name, sbom.tool.version
    );
    if !sbom.complete {
        s.push_str(" INCOMPLETE: some inputs could not be read, packages may be missing:");
        for w in &sbom.warnings {
            s.push_str(&format!(" {w};"));
        }
    }
    s
}

fn root_version(sbom: &Sbom) -> Option<String> {
    sbom.source.image_id.clone()
}

/// The license cairn concludes for a package: the one its own files declare (cairn
/// finds no evidence against a declaration, and concludes nothing where there is none).
fn concluded(declared: Option<&str>) -> &str {
    declared.unwrap_or(NOASSERTION)
}

/// The distribution as an SPDX supplier: the organization os-release names.
fn os_supplier(d: &Distro) -> String {
    match &d.vendor {
        Some(v) => format!("Organization: {}", tv_line(v).trim()),
        None => NOASSERTION.into(),
    }
}

/// A package of the document's own making (the image, its OS, a layer): nothing about its
/// download, licenses, copyright or supplier is asserted unless the image states it.
fn unasserted(name: &str, id: &str, purpose: &str) -> Value {
    json!({
        "name": name,
        "SPDXID": id,
        "downloadLocation": NOASSERTION,
        "filesAnalyzed": false,
        "licenseConcluded": NOASSERTION,
        "licenseDeclared": NOASSERTION,
        "copyrightText": NOASSERTION,
        "supplier": NOASSERTION,
        "primaryPackagePurpose": purpose,
    })
}

pub(crate) fn json(sbom: &Sbom) -> String {
    let doc = Doc::new(sbom);
    let mut packages = Vec::new();
    let src = &sbom.source;
    let purpose = if src.kind == "dir" {
        "OTHER"
    } else {
        "CONTAINER"
    };
    let mut root = unasserted(&src.name, &doc.root_ref, purpose);
    root["supplier"] = json!(supplier(src.supplier.as_deref()));
    if let Some(l) = &src.license {
        root["licenseDeclared"] = json!(l);
        root["licenseConcluded"] = json!(l);
    }
    if let Some(v) = root_version(sbom) {
        root["versionInfo"] = json!(v);
    }
    if let Some(id) = &src.image_id {
        if let Some(hex) = id.strip_prefix("sha256:") {
            root["checksums"] = json!([{"algorithm": "SHA256", "checksumValue": hex}]);
        }
    }
    if let Some(purl) = &src.purl {
        root["externalRefs"] = json!([{
            "referenceCategory": "PACKAGE-MANAGER",
            "referenceType": "purl",
            "referenceLocator": purl,
        }]);
    }
    let layers: Vec<String> = (0..src.layers.len()).map(|i| layer_text(sbom, i)).collect();
    if !layers.is_empty() {
        root["comment"] = json!(format!("Layers: {}", layers.join("; ")));
    }
    let notes = annotations_on(&doc, &doc.root_ref);
    if !notes.is_empty() {
        root["annotations"] = json!(notes);
    }
    packages.push(root);
    if let (Some(d), Some(os_ref)) = (&sbom.distro, &doc.os_ref) {
        let mut os = unasserted(&d.id, os_ref, "OPERATING-SYSTEM");
        os["supplier"] = json!(os_supplier(d));
        if let Some(u) = &d.url {
            os["homepage"] = json!(u);
        }
        os["sourceInfo"] = json!(format!(
            "acquired distribution info from {} (layer {})",
            d.evidence.path, d.evidence.layer
        ));
        if let Some(v) = &d.version_id {
            os["versionInfo"] = json!(v);
        }
        if let Some(pn) = &d.pretty_name {
            os["description"] = json!(pn);
        }
        packages.push(os);
    }
    for (l, id) in sbom.source.layers.iter().zip(&doc.layer_refs) {
        let mut v = unasserted(&format!("layer {}", l.index), id, "ARCHIVE");
        v["supplier"] = json!(supplier(src.supplier.as_deref()));
        v["summary"] = json!(layer_summary(l));
        if let Some(d) = l.digest.as_ref().or(l.diff_id.as_ref()) {
            v["versionInfo"] = json!(d);
        }
        if let Some(hex) = l.digest.as_deref().and_then(|d| d.strip_prefix("sha256:")) {
            v["checksums"] = json!([{"algorithm": "SHA256", "checksumValue": hex}]);
        }
        if let Some(d) = &l.diff_id {
            v["description"] = json!(format!("diff id {d}"));
        }
        if let Some(c) = &l.created_by {
            v["comment"] = json!(c);
        }
        packages.push(v);
    }
    for p in &sbom.packages {
        let mut refs = vec![
            json!({"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": p.purl}),
        ];
        for c in &p.cpes {
            refs.push(json!({"referenceCategory": "SECURITY", "referenceType": "cpe23Type", "referenceLocator": c}));
        }
        for m in &p.evidence.merged {
            refs.push(json!({"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": m.purl, "comment": format!("found by the {} cataloger; {}", m.cataloger, m.reason)}));
        }
        let mut v = json!({
            "name": p.name,
            "SPDXID": doc.pkg_refs[p.id.as_str()],
            "versionInfo": p.version,
            "supplier": supplier(p.maintainer.as_deref()),
            "downloadLocation": NOASSERTION,
            "filesAnalyzed": false,
            "sourceInfo": source_info(p),
            "licenseConcluded": concluded(p.licenses.declared.as_deref()),
            "licenseDeclared": p.licenses.declared.as_deref().unwrap_or(NOASSERTION),
            "copyrightText": p.copyright.as_deref().unwrap_or(NOASSERTION),
            "externalRefs": refs,
            "primaryPackagePurpose": "LIBRARY",
        });
        if let Some(code) = doc.codes.get(p.id.as_str()) {
            v["filesAnalyzed"] = json!(true);
            v["packageVerificationCode"] = json!({"packageVerificationCodeValue": code});
        }
        let c = provenance(sbom, p);
        if !c.is_empty() {
            v["comment"] = json!(c);
        }
        let notes = annotations_on(&doc, &doc.pkg_refs[p.id.as_str()]);
        if !notes.is_empty() {
            v["annotations"] = json!(notes);
        }
        if let Some(d) = p.metadata.get("description") {
            v["summary"] = json!(d.lines().next().unwrap_or(d));
        }
        if let Some(h) = p.metadata.get("homepage") {
            v["homepage"] = json!(h);
        }
        packages.push(v);
    }
    let files: Vec<Value> = sbom
        .files
        .iter()
        .map(|f| {
            json!({
                "fileName": file_name(&f.path),
                "SPDXID": doc.file_refs[f.id.as_str()],
                "checksums": [
                    {"algorithm": "SHA1", "checksumValue": f.sha1},
                    {"algorithm": "SHA256", "checksumValue": f.sha256},
                ],
                "licenseConcluded": NOASSERTION,
                "copyrightText": NOASSERTION,
                "comment": format!("layer {}", f.layer),
            })
        })
        .collect();
    let relationships: Vec<Value> = doc
        .relationships()
        .into_iter()
        .map(
            |(a, k, b)| json!({"spdxElementId": a, "relationshipType": k, "relatedSpdxElement": b}),
        )
        .collect();
    let mut out = json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": src.name,
        "documentNamespace": doc.namespace(),
        "comment": document_comment(sbom),
        "creationInfo": {
            "created": sbom.created,
            "creators": creators(sbom),
        },
        "packages": packages,
        "relationships": relationships,
    });
    if !files.is_empty() {
        out["files"] = json!(files);
    }
    if !doc.extracted.is_empty() {
        out["hasExtractedLicensingInfos"] = doc
            .extracted
            .iter()
            .map(|(id, (name, text))| json!({"licenseId": id, "name": name, "extractedText": text}))
            .collect();
    }
    let mut s = serde_json::to_string_pretty(&out).expect("serializes");
    s.push('\n');
    s
}

/// SPDX file names are relative to the package root: `./usr/bin/x`.
fn file_name(path: &str) -> String {
    format!("./{}", path.trim_start_matches('/'))
}

/// The package verification code (SPDX 2.3 §7.9) over the SHA-1s of the files each package
/// contains, for every package that contains listed files (the others' files were not
/// analyzed). One pass over the relationships, files looked up by id.
fn verification_codes(sbom: &Sbom) -> BTreeMap<&str, String> {
    use sha1::Digest;
    let sha1_of: BTreeMap<&str, &str> = sbom
        .files
        .iter()
        .map(|f| (f.id.as_str(), f.sha1.as_str()))
        .collect();
    let mut sums: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for r in &sbom.relationships {
        if r.kind == RelationshipKind::Contains {
            if let Some(sha1) = sha1_of.get(r.to.as_str()) {
                sums.entry(r.from.as_str()).or_default().push(sha1);
            }
        }
    }
    sums.into_iter()
        .map(|(pkg, mut sums)| {
            sums.sort_unstable();
            (
                pkg,
                hex::encode(sha1::Sha1::digest(sums.concat().as_bytes())),
            )
        })
        .collect()
}

/// The SPDX JSON annotations on one element.
fn annotations_on(doc: &Doc, element: &str) -> Vec<Value> {
    doc.notes
        .get(element)
        .into_iter()
        .flatten()
        .map(|comment| {
            json!({
                "annotationDate": doc.sbom.created,
                "annotationType": "OTHER",
                "annotator": format!("Tool: {}-{}", doc.sbom.tool.name, doc.sbom.tool.version),
                "comment": comment,
            })
        })
        .collect()
}

/// What an annotation (SPDX's and CycloneDX's) says of a warning.
pub(crate) fn annotation_comment(w: &Warning) -> String {
    let kind = serde_json::to_value(w.kind).expect("serializes");
    let mut s = format!("cairn warning ({}", kind.as_str().unwrap_or(""));
    if w.incomplete {
        s.push_str(", incomplete");
    }
    s.push_str(&format!("): {w}"));
    s
}

/// A value for a single-line tag-value tag: line breaks and other control characters
/// become spaces, so a value from the image can never start a line of its own, and a value
/// that would open a `<text>` block cannot.
pub(crate) fn tv_line(s: &str) -> String {
    let one: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    one.replace("<text>", "< text>")
}

/// A tag-value text field: the value goes in a `<text>` block, which ends only at
/// `</text>`, so one inside the value is broken up.
fn tv_text(s: &str) -> String {
    let clean = s.replace("</text>", "</ text>");
    format!("<text>{clean}</text>")
}

pub(crate) fn tag_value(sbom: &Sbom) -> String {
    use std::fmt::Write;
    let doc = Doc::new(sbom);
    let src = &sbom.source;
    let mut o = String::new();
    let _ = writeln!(o, "SPDXVersion: SPDX-2.3");
    let _ = writeln!(o, "DataLicense: CC0-1.0");
    let _ = writeln!(o, "SPDXID: SPDXRef-DOCUMENT");
    let _ = writeln!(o, "DocumentName: {}", tv_line(&src.name));
    let _ = writeln!(o, "DocumentNamespace: {}", doc.namespace());
    let _ = writeln!(o, "DocumentComment: {}", tv_text(&document_comment(sbom)));
    for c in creators(sbom) {
        let _ = writeln!(o, "Creator: {c}");
    }
    let _ = writeln!(o, "Created: {}", tv_line(&sbom.created));
    let pkg = |o: &mut String,
               name: &str,
               id: &str,
               version: Option<&str>,
               purpose: &str,
               code: Option<String>| {
        let name = tv_line(name);
        let _ = writeln!(o, "\n##### Package: {name}\n");
        let _ = writeln!(o, "PackageName: {name}");
        let _ = writeln!(o, "SPDXID: {id}");
        if let Some(v) = version {
            let _ = writeln!(o, "PackageVersion: {}", tv_line(v));
        }
        let _ = writeln!(o, "PackageDownloadLocation: NOASSERTION");
        match code {
            Some(c) => {
                let _ = writeln!(o, "FilesAnalyzed: true");
                let _ = writeln!(o, "PackageVerificationCode: {c}");
            }
            None => {
                let _ = writeln!(o, "FilesAnalyzed: false");
            }
        }
        let _ = writeln!(o, "PrimaryPackagePurpose: {purpose}");
    };
    pkg(
        &mut o,
        &src.name,
        &doc.root_ref,
        root_version(sbom).as_deref(),
        if src.kind == "dir" {
            "OTHER"
        } else {
            "CONTAINER"
        },
        None,
    );
    let _ = writeln!(o, "PackageSupplier: {}", supplier(src.supplier.as_deref()));
    if let Some(hex) = src
        .image_id
        .as_deref()
        .and_then(|i| i.strip_prefix("sha256:"))
    {
        let _ = writeln!(o, "PackageChecksum: SHA256: {hex}");
    }
    let _ = writeln!(
        o,
        "PackageLicenseConcluded: {}",
        tv_line(src.license.as_deref().unwrap_or(NOASSERTION))
    );
    let _ = writeln!(
        o,
        "PackageLicenseDeclared: {}",
        tv_line(src.license.as_deref().unwrap_or(NOASSERTION))
    );
    let _ = writeln!(o, "PackageCopyrightText: NOASSERTION");
    if let Some(purl) = &src.purl {
        let _ = writeln!(o, "ExternalRef: PACKAGE-MANAGER purl {}", tv_line(purl));
    }
    if !src.layers.is_empty() {
        let layers: Vec<String> = (0..src.layers.len()).map(|i| layer_text(sbom, i)).collect();
        let _ = writeln!(
            o,
            "PackageComment: {}",
            tv_text(&format!("Layers: {}", layers.join("; ")))
        );
    }
    if let (Some(d), Some(os_ref)) = (&sbom.distro, &doc.os_ref) {
        pkg(
            &mut o,
            &d.id,
            os_ref,
            d.version_id.as_deref(),
            "OPERATING-SYSTEM",
            None,
        );
        let _ = writeln!(o, "PackageSupplier: {}", os_supplier(d));
        if let Some(u) = &d.url {
            let _ = writeln!(o, "PackageHomePage: {}", tv_line(u));
        }
        if let Some(pn) = &d.pretty_name {
            let _ = writeln!(o, "PackageDescription: {}", tv_text(pn));
        }
        let _ = writeln!(
            o,
            "PackageSourceInfo: {}",
            tv_text(&format!(
                "acquired distribution info from {} (layer {})",
                d.evidence.path, d.evidence.layer
            ))
        );
        let _ = writeln!(o, "PackageLicenseConcluded: NOASSERTION");
        let _ = writeln!(o, "PackageLicenseDeclared: NOASSERTION");
        let _ = writeln!(o, "PackageCopyrightText: NOASSERTION");
    }
    for (l, id) in sbom.source.layers.iter().zip(&doc.layer_refs) {
        let digest = l.digest.as_ref().or(l.diff_id.as_ref());
        pkg(
            &mut o,
            &format!("layer {}", l.index),
            id,
            digest.map(String::as_str),
            "ARCHIVE",
            None,
        );
        let _ = writeln!(o, "PackageSupplier: {}", supplier(src.supplier.as_deref()));
        if let Some(hex) = l.digest.as_deref().and_then(|d| d.strip_prefix("sha256:")) {
            let _ = writeln!(o, "PackageChecksum: SHA256: {hex}");
        }
        let _ = writeln!(o, "PackageLicenseConcluded: NOASSERTION");
        let _ = writeln!(o, "PackageLicenseDeclared: NOASSERTION");
        let _ = writeln!(o, "PackageCopyrightText: NOASSERTION");
        let _ = writeln!(o, "PackageSummary: {}", tv_text(&layer_summary(l)));
        if let Some(d) = &l.diff_id {
            let _ = writeln!(
                o,
                "PackageDescription: {}",
                tv_text(&format!("diff id {d}"))
            );
        }
        if let Some(c) = &l.created_by {
            let _ = writeln!(o, "PackageComment: {}", tv_text(c));
        }
    }
    for p in &sbom.packages {
        pkg(
            &mut o,
            &p.name,
            &doc.pkg_refs[p.id.as_str()],
            Some(&p.version),
            "LIBRARY",
            doc.codes.get(p.id.as_str()).cloned(),
        );
        let _ = writeln!(o, "PackageSupplier: {}", supplier(p.maintainer.as_deref()));
        let _ = writeln!(o, "PackageSourceInfo: {}", tv_text(&source_info(p)));
        let _ = writeln!(
            o,
            "PackageLicenseConcluded: {}",
            tv_line(concluded(p.licenses.declared.as_deref()))
        );
        let _ = writeln!(
            o,
            "PackageLicenseDeclared: {}",
            tv_line(p.licenses.declared.as_deref().unwrap_or(NOASSERTION))
        );
        let _ = writeln!(
            o,
            "PackageCopyrightText: {}",
            p.copyright
                .as_deref()
                .map(tv_text)
                .unwrap_or_else(|| NOASSERTION.into())
        );
        if let Some(h) = p.metadata.get("homepage") {
            let _ = writeln!(o, "PackageHomePage: {}", tv_line(h));
        }
        let _ = writeln!(o, "ExternalRef: PACKAGE-MANAGER purl {}", tv_line(&p.purl));
        for m in &p.evidence.merged {
            let _ = writeln!(o, "ExternalRef: PACKAGE-MANAGER purl {}", tv_line(&m.purl));
            let _ = writeln!(
                o,
                "ExternalRefComment: {}",
                tv_text(&format!(
                    "found by the {} cataloger; {}",
                    m.cataloger, m.reason
                ))
            );
        }
        for c in &p.cpes {
            let _ = writeln!(o, "ExternalRef: SECURITY cpe23Type {}", tv_line(c));
        }
        let c = provenance(sbom, p);
        if !c.is_empty() {
            let _ = writeln!(o, "PackageComment: {}", tv_text(&c));
        }
    }
    for f in &sbom.files {
        let _ = writeln!(o, "\nFileName: {}", tv_line(&file_name(&f.path)));
        let _ = writeln!(o, "SPDXID: {}", doc.file_refs[f.id.as_str()]);
        let _ = writeln!(o, "FileChecksum: SHA1: {}", f.sha1);
        let _ = writeln!(o, "FileChecksum: SHA256: {}", f.sha256);
        let _ = writeln!(o, "LicenseConcluded: NOASSERTION");
        let _ = writeln!(o, "FileCopyrightText: NOASSERTION");
        let _ = writeln!(o, "FileComment: {}", tv_text(&format!("layer {}", f.layer)));
    }
    let _ = writeln!(o);
    for (a, k, b) in doc.relationships() {
        let _ = writeln!(o, "Relationship: {a} {k} {b}");
    }
    for (id, (name, text)) in &doc.extracted {
        let _ = writeln!(o, "\nLicenseID: {id}");
        let _ = writeln!(o, "ExtractedText: {}", tv_text(text));
        let _ = writeln!(o, "LicenseName: {}", tv_line(name));
    }
    for (on, comment) in doc
        .notes
        .iter()
        .flat_map(|(on, c)| c.iter().map(move |c| (on, c)))
    {
        let _ = writeln!(
            o,
            "\nAnnotator: Tool: {}-{}",
            sbom.tool.name, sbom.tool.version
        );
        let _ = writeln!(o, "AnnotationDate: {}", tv_line(&sbom.created));
        let _ = writeln!(o, "AnnotationType: OTHER");
        let _ = writeln!(o, "SPDXREF: {on}");
        let _ = writeln!(o, "AnnotationComment: {}", tv_text(comment));
    }
    o
}
