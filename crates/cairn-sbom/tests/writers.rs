//! The writers on small SBOMs built in code: what each format must say about a package,
//! and what text from an image must never be able to do to a document or a terminal.

use cairn_sbom::*;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

const CREATED: &str = "2023-11-14T22:13:20Z";

fn sbom(packages: Vec<Package>) -> Sbom {
    Sbom {
        format_version: FORMAT_VERSION.into(),
        tool: Tool {
            name: "cairn".into(),
            version: "0.0.0-test".into(),
        },
        creator: None,
        created: CREATED.into(),
        source: Source {
            kind: "docker-archive".into(),
            name: "example/image:1".into(),
            path: "image.tar".into(),
            tags: vec!["example/image:1".into()],
            manifest_digest: Some(format!("sha256:{}", "1".repeat(64))),
            image_id: Some(format!("sha256:{}", "2".repeat(64))),
            platform: Some("linux/amd64".into()),
            repository: None,
            index_digest: None,
            purl: None,
            base: None,
            supplier: None,
            license: None,
            layers: vec![Layer {
                index: 0,
                digest: Some(format!("sha256:{}", "3".repeat(64))),
                diff_id: None,
                media_type: None,
                size: 10,
                created_by: Some("ADD rootfs.tar /".into()),
                created: None,
                comment: None,
                base: false,
            }],
        },
        distro: Some(Distro {
            id: "debian".into(),
            version_id: Some("12".into()),
            version_codename: None,
            pretty_name: Some("Debian GNU/Linux 12 (bookworm)".into()),
            id_like: vec![],
            vendor: None,
            url: None,
            evidence: Location {
                path: "/etc/os-release".into(),
                layer: 0,
                lines: None,
            },
        }),
        packages,
        files: vec![],
        relationships: vec![],
        complete: true,
        warnings: vec![],
        removed: vec![],
    }
}

fn package(id: &str, name: &str, version: &str) -> Package {
    Package {
        id: id.into(),
        name: name.into(),
        version: version.into(),
        arch: Some("amd64".into()),
        kind: "deb".into(),
        cataloger: "dpkg".into(),
        purl: format!("pkg:deb/debian/{name}@{version}?arch=amd64"),
        cpes: vec![],
        source_package: None,
        maintainer: None,
        copyright: None,
        installed_size: None,
        licenses: Licenses::default(),
        metadata: BTreeMap::new(),
        evidence: Evidence {
            locations: vec![Location {
                path: "/var/lib/dpkg/status".into(),
                layer: 0,
                lines: Some((1, 9)),
            }],
            introduced_in: Some(0),
            changes: vec![],
            removed_in: None,
            merged: vec![],
        },
        files: vec![],
        files_truncated: false,
        origin: Origin::Installed,
        dev: false,
    }
}

fn file(path: &str, sha1: &str) -> File {
    File {
        id: format!("file:{path}"),
        path: path.into(),
        size: 0,
        layer: 0,
        sha1: sha1.into(),
        sha256: "0".repeat(64),
    }
}

fn contains(from: &str, to: &str) -> Relationship {
    Relationship {
        from: from.into(),
        kind: RelationshipKind::Contains,
        to: to.into(),
    }
}

fn spdx_json(s: &Sbom) -> Value {
    serde_json::from_str(&render(s, Format::SpdxJson)).unwrap()
}

fn cyclonedx(s: &Sbom) -> Value {
    serde_json::from_str(&render(s, Format::CycloneDxJson)).unwrap()
}

/// The SPDX JSON package with this name.
fn spdx_package<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no package {name}"))
}

/// Every tag the tag-value writer uses. A line outside a text block that starts with any
/// other word would be a line the writer did not mean to write.
const TAGS: &[&str] = &[
    "SPDXVersion",
    "DataLicense",
    "SPDXID",
    "DocumentName",
    "DocumentNamespace",
    "DocumentComment",
    "Creator",
    "Created",
    "PackageName",
    "PackageVersion",
    "PackageDownloadLocation",
    "FilesAnalyzed",
    "PackageVerificationCode",
    "PrimaryPackagePurpose",
    "PackageSupplier",
    "PackageChecksum",
    "PackageSourceInfo",
    "PackageLicenseConcluded",
    "PackageLicenseDeclared",
    "PackageCopyrightText",
    "PackageHomePage",
    "PackageComment",
    "PackageSummary",
    "PackageDescription",
    "ExternalRef",
    "ExternalRefComment",
    "FileName",
    "FileChecksum",
    "LicenseConcluded",
    "FileCopyrightText",
    "FileComment",
    "Relationship",
    "LicenseID",
    "ExtractedText",
    "LicenseName",
    "Annotator",
    "AnnotationDate",
    "AnnotationType",
    "SPDXREF",
    "AnnotationComment",
];

/// Read a tag-value document line by line, as SPDX 2.3 defines the format, failing on
/// anything the writer should never produce: every line is blank, a `#` comment,
/// `Tag: value` with a tag from [`TAGS`], or inside a `<text>` block. A block opens only
/// right after `Tag: ` (where spdx-tools' lexer looks for one) and closes at the first
/// `</text>`, which must end its line. Single-line values hold no control character and no
/// `<text>`. Returns the (tag, value) pairs, text blocks whole.
fn tag_value(doc: &str) -> Vec<(String, String)> {
    assert!(doc.ends_with('\n'), "the document ends with a newline");
    let mut out = Vec::new();
    let mut block: Option<(String, String)> = None;
    for (n, line) in doc[..doc.len() - 1].split('\n').enumerate() {
        let n = n + 1;
        if let Some((tag, mut text)) = block.take() {
            match line.find("</text>") {
                Some(i) => {
                    assert_eq!(&line[i + 7..], "", "line {n}: text after </text>: {line:?}");
                    text.push_str(&line[..i]);
                    out.push((tag, text));
                }
                None => {
                    text.push_str(line);
                    text.push('\n');
                    block = Some((tag, text));
                }
            }
            continue;
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (tag, value) = line
            .split_once(": ")
            .unwrap_or_else(|| panic!("line {n} is not `Tag: value`: {line:?}"));
        assert!(
            TAGS.contains(&tag),
            "line {n}: unknown tag {tag:?}: {line:?}"
        );
        match value.strip_prefix("<text>") {
            Some(rest) => match rest.find("</text>") {
                Some(i) => {
                    assert_eq!(&rest[i + 7..], "", "line {n}: text after </text>: {line:?}");
                    out.push((tag.into(), rest[..i].into()));
                }
                None => block = Some((tag.into(), format!("{rest}\n"))),
            },
            None => {
                assert!(
                    !value.chars().any(char::is_control) && !value.contains("<text>"),
                    "line {n}: a single-line value with a control character or <text>: {line:?}"
                );
                out.push((tag.into(), value.into()));
            }
        }
    }
    assert!(block.is_none(), "a text block is never closed: {block:?}");
    out
}

fn values<'a>(tv: &'a [(String, String)], tag: &str) -> Vec<&'a str> {
    tv.iter()
        .filter(|(t, _)| t == tag)
        .map(|(_, v)| v.as_str())
        .collect()
}

fn is_spdx_id(id: &str) -> bool {
    id.strip_prefix("SPDXRef-").is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
    })
}

/// Names that `id_safe` maps to the same text (`a-b`), and some that are nothing but
/// characters it replaces.
const ODD_NAMES: &[&str] = &[
    "a b", "a/b", "a_b", "a:b", "a\nb", "a-b", "a<b", "", "ü", "😀",
];

fn odd_sbom() -> Sbom {
    let mut s = sbom(
        ODD_NAMES
            .iter()
            .enumerate()
            .map(|(i, n)| package(&format!("pkg:deb/debian/{i}"), n, "1"))
            .collect(),
    );
    s.source.name = "registry:5000/odd name:tag".into();
    s.distro.as_mut().unwrap().id = "de bian/ü".into();
    s.files = ["/a b", "/a_b", "/dir/", "/ü", "/x/a b"]
        .iter()
        .map(|p| file(p, &"a".repeat(40)))
        .collect();
    s.relationships = s
        .files
        .iter()
        .map(|f| contains("pkg:deb/debian/0", &f.id))
        .collect();
    s.normalize();
    s
}

#[test]
fn spdx_ids_are_unique_and_id_safe_whatever_the_names() {
    let s = odd_sbom();
    let doc = spdx_json(&s);
    let mut ids = vec![doc["SPDXID"].as_str().unwrap()];
    ids.extend(
        doc["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["SPDXID"].as_str().unwrap()),
    );
    ids.extend(
        doc["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["SPDXID"].as_str().unwrap()),
    );
    // The image, its operating system, its layer, every package and every file.
    assert_eq!(
        ids.len(),
        1 + 2 + s.source.layers.len() + ODD_NAMES.len() + s.files.len()
    );
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "duplicate SPDX ids: {ids:?}");
    for id in &ids {
        assert!(is_spdx_id(id), "not an SPDX id: {id:?}");
    }
    // Relationships name only elements of the document.
    for r in doc["relationships"].as_array().unwrap() {
        for end in ["spdxElementId", "relatedSpdxElement"] {
            assert!(unique.contains(r[end].as_str().unwrap()), "{r}");
        }
    }
    // The namespace is a URI made of the image name: no space or other character a URI
    // cannot hold unescaped.
    let ns = doc["documentNamespace"].as_str().unwrap();
    assert!(
        ns.chars()
            .all(|c| c.is_ascii_alphanumeric() || ":/.-".contains(c)),
        "{ns}"
    );

    // Tag-value gives the same ids.
    let tv = tag_value(&render(&s, Format::SpdxTagValue));
    let tv_ids: BTreeSet<&str> = values(&tv, "SPDXID").into_iter().collect();
    assert_eq!(tv_ids, unique);
}

#[test]
fn cyclonedx_bom_refs_are_unique_and_every_reference_resolves() {
    let mut s = odd_sbom();
    s.relationships.push(Relationship {
        from: "pkg:deb/debian/1".into(),
        kind: RelationshipKind::DependsOn,
        to: "pkg:deb/debian/2".into(),
    });
    s.warnings
        .push(Warning::new(WarningKind::Malformed, "bad").package("pkg:deb/debian/3"));
    s.normalize();
    let bom = cyclonedx(&s);
    let mut refs = vec![bom["metadata"]["component"]["bom-ref"].as_str().unwrap()];
    refs.extend(
        all_components(&bom)
            .iter()
            .map(|c| c["bom-ref"].as_str().unwrap()),
    );
    refs.extend(
        bom["annotations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["bom-ref"].as_str().unwrap()),
    );
    let unique: BTreeSet<&str> = refs.iter().copied().collect();
    assert_eq!(unique.len(), refs.len(), "duplicate bom-refs: {refs:?}");
    for d in bom["dependencies"].as_array().unwrap() {
        assert!(unique.contains(d["ref"].as_str().unwrap()), "{d}");
        for on in d["dependsOn"].as_array().unwrap() {
            assert!(unique.contains(on.as_str().unwrap()), "{d}");
        }
    }
    for c in bom["compositions"].as_array().unwrap() {
        for a in c["assemblies"].as_array().unwrap() {
            assert!(unique.contains(a.as_str().unwrap()), "{c}");
        }
    }
    for a in bom["annotations"].as_array().unwrap() {
        for on in a["subjects"].as_array().unwrap() {
            assert!(unique.contains(on.as_str().unwrap()), "{a}");
        }
    }
}

/// Values that would add a line, forge a tag or open or close a text block if written as
/// they are.
const FORGE: &str =
    "x\nRelationship: SPDXRef-DOCUMENT DESCRIBES SPDXRef-Evil\r\nSPDXID: SPDXRef-Evil";
const OPEN: &str = "<text>\nPackageName: evil-in-text";
const CLOSE: &str = "a</text>\nPackageName: evil-after-close\n<text>";

fn hostile_sbom() -> Sbom {
    let mut p = package(
        "pkg:deb/debian/victim",
        &format!("victim{FORGE}"),
        &format!("1.0{OPEN}"),
    );
    p.maintainer = Some(format!(
        "Mallory {CLOSE} <m@example.org>\nPackageName: evil-maintainer"
    ));
    p.metadata
        .insert("homepage".into(), format!("https://example.org/{CLOSE}"));
    p.metadata
        .insert("description".into(), format!("first line{FORGE}"));
    p.purl = format!("pkg:deb/debian/victim@1{OPEN}");
    p.cpes = vec![format!("cpe:2.3:a:{CLOSE}")];
    p.evidence.locations[0].path = format!("/var/lib/dpkg/status{CLOSE}");
    p.evidence.changes = vec![PackageChange {
        layer: 0,
        kind: PackageChangeKind::FilesModified,
        from_version: None,
        to_version: None,
        paths: vec![format!("/usr/bin/{FORGE}{CLOSE}")],
    }];
    p.licenses.evidence = vec![LicenseEvidence {
        value: format!("custom{CLOSE}"),
        spdx: "LicenseRef-custom".into(),
        location: Location {
            path: format!("/usr/share/doc/{OPEN}/copyright"),
            layer: 0,
            lines: None,
        },
        text: Some(format!("The text.\n{CLOSE}\nMore.")),
    }];
    p.licenses.declared = Some(format!("LicenseRef-custom AND MIT{OPEN}"));
    let mut s = sbom(vec![p]);
    s.source.name = format!("image{FORGE}");
    s.created = format!("{CREATED}{OPEN}");
    let d = s.distro.as_mut().unwrap();
    d.id = format!("debian{FORGE}");
    d.version_id = Some(format!("12{CLOSE}"));
    d.evidence.path = format!("/etc/os-release{CLOSE}");
    s.files = vec![file(&format!("/usr/bin/{FORGE}{OPEN}"), &"a".repeat(40))];
    s.relationships = vec![contains("pkg:deb/debian/victim", &s.files[0].id)];
    s.warnings = vec![
        Warning::new(WarningKind::Malformed, format!("garbage {CLOSE} {FORGE}"))
            .at(format!("/var/lib/{OPEN}"), Some(0))
            .package("pkg:deb/debian/victim")
            .incomplete(),
        Warning::new(
            WarningKind::Unreadable,
            format!("on the image {OPEN}{CLOSE}"),
        ),
    ];
    s.normalize();
    s
}

#[test]
fn tag_value_fields_from_the_image_cannot_add_lines_or_open_or_close_text() {
    let s = hostile_sbom();
    let tv = tag_value(&render(&s, Format::SpdxTagValue));
    // Exactly the elements of the model: the image, its OS, its layer, one package, one
    // file, and the relationships DESCRIBES, image CONTAINS OS, image CONTAINS layer, layer
    // CONTAINS package, package CONTAINS file.
    assert_eq!(values(&tv, "PackageName").len(), 4, "{tv:#?}");
    assert_eq!(values(&tv, "SPDXID").len(), 1 + 4 + 1);
    assert_eq!(values(&tv, "FileName").len(), 1);
    assert_eq!(values(&tv, "Relationship").len(), 5);
    assert_eq!(values(&tv, "LicenseID"), ["LicenseRef-custom"]);
    assert_eq!(values(&tv, "SPDXREF").len(), 2);
    // Every relationship is between elements of the document.
    let ids: BTreeSet<&str> = values(&tv, "SPDXID").into_iter().collect();
    for r in values(&tv, "Relationship") {
        let parts: Vec<&str> = r.split(' ').collect();
        assert_eq!(parts.len(), 3, "{r}");
        assert!(ids.contains(parts[0]) && ids.contains(parts[2]), "{r}");
    }
    // Single-line values lose their line breaks and cannot open a block, but keep the rest.
    let names = values(&tv, "PackageName");
    assert!(names.contains(
        &"victimx Relationship: SPDXRef-DOCUMENT DESCRIBES SPDXRef-Evil  SPDXID: SPDXRef-Evil"
    ));
    assert!(values(&tv, "PackageVersion").contains(&"1.0< text> PackageName: evil-in-text"));
    let supplier = values(&tv, "PackageSupplier");
    assert!(
        supplier
            .iter()
            .all(|s| s.starts_with("Person: ") || *s == "NOASSERTION"),
        "{supplier:?}"
    );
    // Text blocks keep their lines, with `</text>` broken up.
    let extracted = values(&tv, "ExtractedText");
    assert_eq!(
        extracted,
        ["The text.\na</ text>\nPackageName: evil-after-close\n<text>\nMore."]
    );
    // Outside a block `</text>` closes nothing (SPDX's lexer looks for it only in one), so a
    // single-line value keeps it.
    assert!(
        values(&tv, "PackageVersion").contains(&"12a</text> PackageName: evil-after-close < text>")
    );
}

#[test]
fn text_values_keep_their_lines_and_single_line_values_lose_them() {
    let mut p = package("pkg:a", "a", "1");
    p.evidence.locations[0].path = "/var/lib/dpkg/status\nsecond line\r\nthird".into();
    let mut s = sbom(vec![p]);
    s.warnings = vec![Warning::new(WarningKind::Malformed, "one\ntwo </text> three").incomplete()];
    s.normalize();
    let tv = tag_value(&render(&s, Format::SpdxTagValue));
    let comments = values(&tv, "PackageComment");
    assert!(
        comments.contains(
            &"Introduced in layer 0 (sha256:3333333333333333333333333333333333333333333333333333333333333333, created by: ADD rootfs.tar /). Listed in /var/lib/dpkg/status\nsecond line\r\nthird lines 1-9 (from layer 0)."
        ),
        "{comments:#?}"
    );
    assert_eq!(
        values(&tv, "AnnotationComment"),
        ["cairn warning (malformed, incomplete): one\ntwo </ text> three"]
    );
}

#[test]
fn the_package_verification_code_is_the_one_of_spdx_2_3_section_7_9() {
    // SHA-1 of "hello\n" and of "". §7.9: sort the files' SHA-1s (lower-case hex), join
    // them and take the SHA-1 of that:
    //   sha1("da39a3ee5e6b4b0d3255bfef95601890afd80709f572d396fae9206628714fb2ce00f72e94f2258f")
    let hello = "f572d396fae9206628714fb2ce00f72e94f2258f";
    let empty = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
    let code = "219c7df94ad22be03e3a1e17bdef9ea002858258";
    let mut s = sbom(vec![package("pkg:a", "a", "1"), package("pkg:b", "b", "1")]);
    s.files = vec![
        file("/a/hello", hello),
        file("/a/empty", empty),
        file("/other", &"b".repeat(40)),
    ];
    // Listed in the order that does not sort them; /other belongs to no package.
    s.relationships = vec![
        contains("pkg:a", "file:/a/hello"),
        contains("pkg:a", "file:/a/empty"),
    ];
    s.normalize();

    let doc = spdx_json(&s);
    let a = spdx_package(&doc, "a");
    assert_eq!(a["filesAnalyzed"], true);
    assert_eq!(
        a["packageVerificationCode"],
        json!({"packageVerificationCodeValue": code})
    );
    let b = spdx_package(&doc, "b");
    assert_eq!(b["filesAnalyzed"], false);
    assert!(b.get("packageVerificationCode").is_none());

    let tv = tag_value(&render(&s, Format::SpdxTagValue));
    assert_eq!(values(&tv, "PackageVerificationCode"), [code]);
    // image, OS, the layer, a and b; only a analyzed.
    assert_eq!(
        values(&tv, "FilesAnalyzed"),
        ["false", "false", "false", "true", "false"]
    );
}

/// Warnings on a package that may lack facts (`pkg:a`), on a package that does not
/// (`pkg:b`), on a package id the document does not have, and on nothing in particular.
fn warned_sbom() -> Sbom {
    let mut s = sbom(vec![package("pkg:a", "a", "1"), package("pkg:b", "b", "1")]);
    s.warnings = vec![
        Warning::new(WarningKind::Limit, "file list truncated")
            .at("/var/lib/dpkg/status", Some(0))
            .lines((1, 9))
            .package("pkg:a")
            .incomplete(),
        Warning::new(WarningKind::Duplicate, "listed twice").package("pkg:b"),
        Warning::new(WarningKind::Conflict, "gone").package("pkg:not-in-the-document"),
        Warning::new(WarningKind::Unreadable, "cannot read").at("/etc/shadow", Some(0)),
    ];
    s.normalize();
    s
}

#[test]
fn spdx_annotations_are_on_the_package_a_warning_names_else_on_the_image() {
    let s = warned_sbom();
    assert!(!s.complete);
    let doc = spdx_json(&s);
    let comments = |p: &Value| -> Vec<String> {
        p["annotations"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|n| {
                        assert_eq!(n["annotationType"], "OTHER");
                        assert_eq!(n["annotationDate"], CREATED);
                        assert_eq!(n["annotator"], "Tool: cairn-0.0.0-test");
                        n["comment"].as_str().unwrap().to_owned()
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(
        comments(spdx_package(&doc, "a")),
        ["cairn warning (limit, incomplete): /var/lib/dpkg/status (layer 0) lines 1-9 [pkg:a]: file list truncated"]
    );
    assert_eq!(
        comments(spdx_package(&doc, "b")),
        ["cairn warning (duplicate): [pkg:b]: listed twice"]
    );
    assert_eq!(
        comments(spdx_package(&doc, "example/image:1")),
        [
            "cairn warning (unreadable): /etc/shadow (layer 0): cannot read",
            "cairn warning (conflict): [pkg:not-in-the-document]: gone",
        ]
    );
    assert!(spdx_package(&doc, "debian").get("annotations").is_none());
    let comment = doc["comment"].as_str().unwrap();
    assert!(comment.contains("INCOMPLETE"), "{comment}");

    // Tag-value: the same annotations, each on the element's SPDX id.
    let id = |name: &str| {
        spdx_package(&doc, name)["SPDXID"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let tv = tag_value(&render(&s, Format::SpdxTagValue));
    let mut on: Vec<String> = values(&tv, "SPDXREF")
        .into_iter()
        .map(str::to_owned)
        .collect();
    on.sort();
    let mut want = vec![
        id("a"),
        id("b"),
        id("example/image:1"),
        id("example/image:1"),
    ];
    want.sort();
    assert_eq!(on, want);
    assert_eq!(values(&tv, "AnnotationType"), ["OTHER"; 4]);
}

#[test]
fn cyclonedx_annotates_what_a_warning_names_and_marks_that_package_incomplete() {
    let s = warned_sbom();
    let bom = cyclonedx(&s);
    let notes: Vec<(Vec<&str>, &str)> = bom["annotations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            assert_eq!(a["timestamp"], CREATED);
            assert_eq!(a["annotator"]["component"]["name"], "cairn");
            let subjects = a["subjects"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            (subjects, a["text"].as_str().unwrap())
        })
        .collect();
    assert_eq!(
        notes,
        [
            (vec!["cairn-source"], "cairn warning (unreadable): /etc/shadow (layer 0): cannot read"),
            (vec!["pkg:a"], "cairn warning (limit, incomplete): /var/lib/dpkg/status (layer 0) lines 1-9 [pkg:a]: file list truncated"),
            (vec!["pkg:b"], "cairn warning (duplicate): [pkg:b]: listed twice"),
            (vec!["cairn-source"], "cairn warning (conflict): [pkg:not-in-the-document]: gone"),
        ]
    );
    // The image is incomplete, and so is pkg:a; pkg:b's warning lost nothing.
    assert_eq!(
        bom["compositions"],
        json!([
            {"aggregate": "incomplete", "assemblies": ["cairn-source"]},
            {"aggregate": "incomplete", "assemblies": ["pkg:a"]},
        ])
    );
    let props = bom["metadata"]["properties"].as_array().unwrap();
    assert!(props.contains(&json!({"name": "cairn:complete", "value": "false"})));
    assert_eq!(
        props
            .iter()
            .filter(|p| p["name"] == "cairn:warning")
            .count(),
        4
    );
}

#[test]
fn the_document_namespace_and_serial_number_are_deterministic_and_well_formed() {
    let s = warned_sbom();
    let ns = |s: &Sbom| {
        spdx_json(s)["documentNamespace"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let serial = |s: &Sbom| cyclonedx(s)["serialNumber"].as_str().unwrap().to_owned();
    assert_eq!(ns(&s), ns(&s.clone()));
    assert_eq!(serial(&s), serial(&s.clone()));
    let n = ns(&s);
    let hash = n
        .strip_prefix("https://github.com/cairn-sbom/cairn/spdxdocs/example-image-1-")
        .unwrap_or_else(|| panic!("{n}"));
    assert!(
        hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit()),
        "{n}"
    );
    // An RFC 4122 UUID, version 5 (name-based), variant 10xx.
    let u = serial(&s);
    let u = u.strip_prefix("urn:uuid:").unwrap_or_else(|| panic!("{u}"));
    let groups: Vec<&str> = u.split('-').collect();
    assert_eq!(
        groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
        [8, 4, 4, 4, 12],
        "{u}"
    );
    assert!(u.chars().all(|c| c == '-' || c.is_ascii_hexdigit()), "{u}");
    assert!(groups[2].starts_with('5'), "{u}");
    assert!(groups[3].starts_with(['8', '9', 'a', 'b']), "{u}");
    // Another scan time is another document.
    let mut later = s.clone();
    later.created = "2024-01-01T00:00:00Z".into();
    assert_ne!(ns(&s), ns(&later));
    assert_ne!(serial(&s), serial(&later));
}

/// The namespace and serial number were made of the package ids, the image id and the
/// time only: `--files`, another cairn version or other licenses for the same packages
/// gave a different document under the same identifier.
#[test]
fn a_different_document_never_shares_the_namespace_or_serial_number() {
    let s = warned_sbom();
    let ns = |s: &Sbom| {
        spdx_json(s)["documentNamespace"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let serial = |s: &Sbom| cyclonedx(s)["serialNumber"].as_str().unwrap().to_owned();
    let mut with_files = s.clone();
    with_files.files = vec![file("/a", &"a".repeat(40))];
    with_files.relationships = vec![contains("pkg:a", "file:/a")];
    let mut other_version = s.clone();
    other_version.tool.version = "0.0.1-test".into();
    let mut other_license = s.clone();
    other_license.packages[0].licenses.declared = Some("MIT".into());
    let mut fewer_warnings = s.clone();
    fewer_warnings.warnings.pop();
    for (what, other) in [
        ("--files", &with_files),
        ("another cairn version", &other_version),
        ("another license", &other_license),
        ("other warnings", &fewer_warnings),
    ] {
        assert_ne!(
            render(&s, Format::SpdxJson),
            render(other, Format::SpdxJson)
        );
        assert_ne!(ns(&s), ns(other), "{what}");
        assert_ne!(serial(&s), serial(other), "{what}");
    }
    // The same image read from elsewhere is the same SPDX document, with the same
    // namespace; a directory is identified by its path.
    let mut moved = s.clone();
    moved.source.path = "/elsewhere/image.tar".into();
    assert_eq!(
        render(&s, Format::SpdxJson),
        render(&moved, Format::SpdxJson)
    );
    let mut dir = s.clone();
    dir.source.kind = "dir".into();
    dir.source.image_id = None;
    let mut other_dir = dir.clone();
    other_dir.source.path = "elsewhere".into();
    assert_ne!(serial(&dir), serial(&other_dir));
}

#[test]
fn a_complete_sbom_says_so_and_has_no_annotations() {
    let s = sbom(vec![package("pkg:a", "a", "1")]);
    let bom = cyclonedx(&s);
    assert_eq!(
        bom["compositions"],
        json!([{"aggregate": "complete", "assemblies": ["cairn-source"]}])
    );
    assert!(bom.get("annotations").is_none());
    let doc = spdx_json(&s);
    assert!(doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p.get("annotations").is_none()));
    assert!(!doc["comment"].as_str().unwrap().contains("INCOMPLETE"));
}

#[test]
fn normalize_sorts_dedups_and_derives_complete_from_the_warnings() {
    let mut b2 = package("pkg:b#2", "b", "1");
    b2.files = vec![
        OwnedFile {
            path: "/z".into(),
            digest: None,
            layer: Some(0),
        },
        OwnedFile {
            path: "/a".into(),
            digest: None,
            layer: None,
        },
    ];
    let mut s = sbom(vec![
        package("pkg:c", "c", "1"),
        b2,
        package("pkg:b", "b", "1"),
        package("pkg:a2", "a", "2"),
        package("pkg:a10", "a", "10"),
    ]);
    s.files = vec![file("/y", &"1".repeat(40)), file("/x", &"2".repeat(40))];
    let r = |to: &str| contains("pkg:c", to);
    s.relationships = vec![r("file:/y"), r("file:/x"), r("file:/y")];
    let w = Warning::new(WarningKind::Malformed, "m").at("/p", Some(1));
    s.warnings = vec![
        w.clone(),
        Warning::new(WarningKind::Unreadable, "u"),
        w.clone(),
    ];
    s.complete = false;
    s.normalize();

    let order: Vec<(&str, &str, &str)> = s
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str(), p.id.as_str()))
        .collect();
    // By name, version (as text: "10" before "2"), then id.
    assert_eq!(
        order,
        [
            ("a", "10", "pkg:a10"),
            ("a", "2", "pkg:a2"),
            ("b", "1", "pkg:b"),
            ("b", "1", "pkg:b#2"),
            ("c", "1", "pkg:c"),
        ]
    );
    let owned: Vec<&str> = s.packages[3]
        .files
        .iter()
        .map(|f| f.path.as_str())
        .collect();
    assert_eq!(owned, ["/a", "/z"]);
    let files: Vec<&str> = s.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(files, ["/x", "/y"]);
    assert_eq!(s.relationships, [r("file:/x"), r("file:/y")]);
    // Sorted by kind first (unreadable before malformed, as declared), duplicates gone.
    assert_eq!(
        s.warnings,
        [Warning::new(WarningKind::Unreadable, "u"), w.clone()]
    );
    // No warning says anything is missing: complete, whatever it said before.
    assert!(s.complete);

    s.warnings
        .push(Warning::new(WarningKind::Limit, "l").incomplete());
    s.normalize();
    assert!(!s.complete);
    s.warnings.retain(|w| !w.incomplete);
    s.normalize();
    assert!(s.complete);
}

#[test]
fn rendering_is_deterministic_and_independent_of_the_order_things_were_found() {
    let s = warned_sbom();
    let mut shuffled = s.clone();
    shuffled.packages.reverse();
    shuffled.warnings.reverse();
    shuffled.normalize();
    for (name, f) in Format::ALL {
        assert_eq!(render(&s, f), render(&shuffled, f), "{name}");
    }
}

#[test]
fn the_table_escapes_control_characters_and_lists_warnings_when_incomplete() {
    let mut p = package("pkg:a", "evil\u{1b}[2J\nforged 1.0 deb 0", "1\r2");
    p.licenses.declared = Some("MIT\u{202e}TIM".into());
    let mut s = sbom(vec![p]);
    s.warnings = vec![
        Warning::new(WarningKind::Malformed, "bad \u{1b}]0;title\u{7} line\nnext")
            .at("/var/lib/dpkg/status", Some(0))
            .incomplete(),
    ];
    s.normalize();
    let table = render(&s, Format::Table);
    assert!(
        !table.chars().any(|c| c.is_control() && c != '\n'),
        "{table:?}"
    );
    assert_eq!(
        table,
        " NAME                             VERSION  TYPE  LAYER  LICENSE\n \
         evil\\u{1b}[2J\\nforged 1.0 deb 0  1\\r2     deb   0      MIT\\u{202e}TIM\n\
         \n\
         INCOMPLETE: some inputs could not be read; packages may be missing:\n  \
         - /var/lib/dpkg/status (layer 0): bad \\u{1b}]0;title\\u{7} line\\nnext\n"
    );
}

#[test]
fn the_table_of_a_complete_sbom_lists_no_warnings() {
    let mut s = sbom(vec![package("pkg:a", "a", "1")]);
    s.packages[0].evidence.changes = vec![
        PackageChange {
            layer: 2,
            kind: PackageChangeKind::VersionChanged,
            from_version: Some("0".into()),
            to_version: Some("1".into()),
            paths: vec![],
        },
        PackageChange {
            layer: 3,
            kind: PackageChangeKind::FilesRemoved,
            from_version: None,
            to_version: None,
            paths: vec!["/x".into()],
        },
    ];
    s.warnings = vec![Warning::new(WarningKind::Duplicate, "listed twice").package("pkg:a")];
    s.normalize();
    assert_eq!(
        render(&s, Format::Table),
        " NAME  VERSION  TYPE  LAYER               LICENSE\n \
         a     1        deb   0 (changed in 2,3)\n"
    );
}

#[test]
fn escape_control_escapes_what_a_terminal_would_act_on_and_borrows_the_rest() {
    use std::borrow::Cow;
    assert!(matches!(escape_control("plain ü 😀 \\n"), Cow::Borrowed(_)));
    assert_eq!(
        escape_control("\t\u{7f}\u{85}\u{9b}31m"),
        "\\t\\u{7f}\\u{85}\\u{9b}31m"
    );
    assert_eq!(
        escape_control("\u{061c}\u{200e}\u{200f}\u{202a}\u{202e}\u{2066}\u{2069}"),
        "\\u{61c}\\u{200e}\\u{200f}\\u{202a}\\u{202e}\\u{2066}\\u{2069}"
    );
    // Zero-width joiners and the like are not controls: emoji sequences stay intact.
    assert_eq!(escape_control("👩\u{200d}💻"), "👩\u{200d}💻");
}

#[test]
fn a_warning_displays_as_much_of_path_layer_lines_and_package_as_it_knows() {
    let w = || Warning::new(WarningKind::Malformed, "bad entry");
    assert_eq!(w().to_string(), "bad entry");
    assert_eq!(w().at("/etc/x", None).to_string(), "/etc/x: bad entry");
    assert_eq!(
        w().at("/etc/x", Some(2)).to_string(),
        "/etc/x (layer 2): bad entry"
    );
    assert_eq!(
        w().at("/var/lib/dpkg/status", Some(0))
            .lines((3, 3))
            .to_string(),
        "/var/lib/dpkg/status (layer 0) line 3: bad entry"
    );
    assert_eq!(
        w().at("/var/lib/dpkg/status", Some(0))
            .lines((3, 9))
            .package("pkg:deb/debian/a@1")
            .incomplete()
            .to_string(),
        "/var/lib/dpkg/status (layer 0) lines 3-9 [pkg:deb/debian/a@1]: bad entry"
    );
    assert_eq!(w().package("pkg:x").to_string(), "[pkg:x]: bad entry");
    let mut layer_only = w();
    layer_only.layer = Some(4);
    assert_eq!(layer_only.to_string(), "(layer 4): bad entry");
    layer_only.lines = Some((1, 2));
    assert_eq!(layer_only.to_string(), "(layer 4) lines 1-2: bad entry");
}

#[test]
fn json_is_the_model_itself_and_reads_back_equal() {
    let s = hostile_sbom();
    let text = render(&s, Format::Json);
    assert!(text.ends_with("}\n"));
    let back: Sbom = serde_json::from_str(&text).unwrap();
    assert_eq!(back, s);
}

#[test]
fn format_names_parse_and_unknown_ones_do_not() {
    for (name, f) in Format::ALL {
        assert_eq!(Format::parse(name), Some(f));
    }
    assert_eq!(Format::parse("spdx"), None);
    assert_eq!(Format::parse("JSON"), None);
}

/// A deb that kept a Python distribution's identity, the Go modules of a program it ships,
/// and a development dependency from a lock file.
fn language_sbom() -> Sbom {
    let mut deb = package("deb1", "python3-six", "1.16.0-4");
    deb.evidence.merged.push(MergedRecord {
        name: "six".into(),
        version: "1.16.0".into(),
        kind: "pypi".into(),
        purl: "pkg:pypi/six@1.16.0".into(),
        cataloger: "python".into(),
        locations: vec![Location {
            path: "/usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA".into(),
            layer: 0,
            lines: None,
        }],
        reason: "every file of its evidence (2) is owned by the deb package python3-six 1.16.0-4"
            .into(),
    });
    let mut module = package("mod1", "github.com/a/b", "v1.0.0");
    module.kind = "golang".into();
    module.purl = "pkg:golang/github.com/a/b@v1.0.0".into();
    module.origin = Origin::Binary;
    let mut dev = package("dev1", "jest", "29.0.0");
    dev.kind = "npm".into();
    dev.purl = "pkg:npm/jest@29.0.0".into();
    dev.origin = Origin::Declared;
    dev.dev = true;
    let mut s = sbom(vec![deb, module, dev]);
    s.relationships.push(contains("deb1", "mod1"));
    s
}

#[test]
fn folded_identities_binary_children_and_dev_dependencies_in_every_format() {
    let s = language_sbom();
    let cdx = cyclonedx(&s);
    // Packages sit in the layer that installed them: image -> layer -> package.
    let layer = cdx["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["bom-ref"] == "cairn-layer-0")
        .unwrap();
    let top: Vec<&Value> = layer["components"].as_array().unwrap().iter().collect();
    let deb = top.iter().find(|c| c["bom-ref"] == "deb1").unwrap();
    // The Go module is the deb's child, not a top-level component.
    assert_eq!(deb["components"][0]["bom-ref"], "mod1");
    assert!(top.iter().all(|c| c["bom-ref"] != "mod1"));
    let ids: Vec<&str> = deb["evidence"]["identity"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["concludedValue"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"pkg:pypi/six@1.16.0"), "{ids:?}");
    let prop = |c: &Value, n: &str| {
        c["properties"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == n)
            .map(|p| p["value"].as_str().unwrap().to_owned())
    };
    assert!(prop(deb, "cairn:merged:0")
        .unwrap()
        .contains("owned by the deb package"));
    let dev = top.iter().find(|c| c["bom-ref"] == "dev1").unwrap();
    assert_eq!(dev["scope"], "excluded");
    assert_eq!(prop(dev, "cairn:origin").as_deref(), Some("declared"));
    assert_eq!(
        prop(&deb["components"][0], "cairn:origin").as_deref(),
        Some("binary")
    );

    let spdx = spdx_json(&s);
    let deb = spdx_package(&spdx, "python3-six");
    let refs = deb["externalRefs"].as_array().unwrap();
    let six = refs
        .iter()
        .find(|r| r["referenceLocator"] == "pkg:pypi/six@1.16.0")
        .unwrap();
    assert!(six["comment"]
        .as_str()
        .unwrap()
        .contains("python cataloger"));
    assert!(deb["comment"]
        .as_str()
        .unwrap()
        .contains("not reported separately"));
    let m = spdx_package(&spdx, "github.com/a/b");
    let (deb_ref, mod_ref) = (
        deb["SPDXID"].as_str().unwrap(),
        m["SPDXID"].as_str().unwrap(),
    );
    assert!(spdx["relationships"].as_array().unwrap().iter().any(|r| {
        r["spdxElementId"] == deb_ref
            && r["relationshipType"] == "CONTAINS"
            && r["relatedSpdxElement"] == mod_ref
    }));
    assert!(m["comment"]
        .as_str()
        .unwrap()
        .starts_with("Compiled into an executable"));
    let jest = spdx_package(&spdx, "jest");
    assert!(jest["comment"]
        .as_str()
        .unwrap()
        .contains("development dependency"));

    let tv = render(&s, Format::SpdxTagValue);
    let pairs = tag_value(&tv);
    let refs = values(&pairs, "ExternalRef");
    assert!(
        refs.contains(&"PACKAGE-MANAGER purl pkg:pypi/six@1.16.0"),
        "{refs:?}"
    );
    assert!(values(&pairs, "ExternalRefComment")[0].contains("python cataloger"));
}

/// Every component, nested ones included.
fn all_components(bom: &Value) -> Vec<&Value> {
    fn walk<'a>(cs: &'a Value, out: &mut Vec<&'a Value>) {
        for c in cs.as_array().into_iter().flatten() {
            out.push(c);
            walk(&c["components"], out);
        }
    }
    let mut out = Vec::new();
    walk(&bom["components"], &mut out);
    out
}

/// What the SPDX and CycloneDX documents carry comes back from them: each package's
/// identity (name, version, purl and so type and arch), declared license, its layer (the
/// one that CONTAINS it), the dependencies, and the layers themselves.
#[test]
fn documents_read_back_into_the_model() {
    let mut s = odd_sbom();
    s.relationships.push(Relationship {
        from: "pkg:deb/debian/1".into(),
        kind: RelationshipKind::DependsOn,
        to: "pkg:deb/debian/2".into(),
    });
    s.source.layers[0].base = true;
    s.packages[3].licenses.declared = Some("MIT OR Apache-2.0".into());
    s.normalize();
    type Identity = (
        String,
        String,
        String,
        String,
        Option<String>,
        Option<String>,
        Option<usize>,
    );
    let identity = |sb: &Sbom| -> Vec<Identity> {
        let mut v: Vec<_> = sb
            .packages
            .iter()
            .map(|p| {
                (
                    p.name.clone(),
                    p.version.clone(),
                    p.purl.clone(),
                    p.kind.clone(),
                    p.arch.clone(),
                    p.licenses.declared.clone(),
                    p.installed_in(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let deps = |sb: &Sbom| -> Vec<(String, String)> {
        let purl = |id: &str| sb.package(id).unwrap().purl.clone();
        let mut v: Vec<_> = sb
            .relationships
            .iter()
            .filter(|r| r.kind == RelationshipKind::DependsOn)
            .map(|r| (purl(&r.from), purl(&r.to)))
            .collect();
        v.sort();
        v
    };
    for format in [
        Format::SpdxJson,
        Format::SpdxTagValue,
        Format::CycloneDxJson,
        Format::CycloneDxJson16,
        Format::Json,
    ] {
        let read = cairn_sbom::read(render(&s, format).as_bytes()).unwrap();
        let back = &read.sbom;
        let (mut got, mut want) = (identity(back), identity(&s));
        if format == Format::SpdxTagValue {
            // Tag-value keeps a single-line value on its line: a name with a line break in
            // it comes back with a space (the JSON formats keep it as it was).
            for p in &mut want {
                p.0 = p.0.replace('\n', " ");
                p.2 = p.2.replace('\n', " ");
            }
            want.sort();
            got.sort();
        }
        assert_eq!(got, want, "{format:?}");
        assert_eq!(deps(back), deps(&s), "{format:?}");
        let layer = &back.source.layers[0];
        let want = &s.source.layers[0];
        assert_eq!(
            (&layer.digest, &layer.created_by, layer.base),
            (&want.digest, &want.created_by, want.base),
            "{format:?}"
        );
        if format != Format::Json {
            // Read from the layers' base flags (cairn's JSON keeps source.base as written).
            let base = back.source.base.as_ref().map(|b| b.layers);
            assert_eq!(base, Some(1), "{format:?}");
        }
    }
}

/// Input that is no SBOM, or a broken one, is an error, never a panic.
#[test]
fn garbage_is_refused_by_the_readers() {
    for bad in [
        &b""[..],
        b"   ",
        b"\x00\x01binary",
        b"{",
        b"{}",
        b"[1,2]",
        b"{\"spdxVersion\": \"SPDX-3.0\"}",
        b"{\"bomFormat\": \"CycloneDX\", \"components\": [{\"components\": 7}]}",
        b"{\"format_version\": \"1\", \"packages\": 3}",
    ] {
        let r = cairn_sbom::read(bad);
        if let Ok(r) = &r {
            assert!(r.sbom.packages.is_empty(), "{bad:?}");
        }
    }
    // Tag-value that ends inside a text block, or has no packages, reads without panic.
    let r = cairn_sbom::read(
        b"SPDXVersion: SPDX-2.3\nPackageName: x\nPackageComment: <text>never closed",
    )
    .unwrap();
    assert!(
        r.sbom.packages.is_empty(),
        "a package without a purl is left out"
    );
    assert!(!r.notes.is_empty());
}
