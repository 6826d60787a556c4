//! Other tools' SBOMs of the fixture images — Syft's SPDX 2.3 JSON and tag-value and
//! CycloneDX JSON and XML, Trivy's SPDX 2.3 JSON and CycloneDX JSON, made by
//! fixtures/build-peer-sboms.sh and committed in fixtures/peers/ — are read without error,
//! and `cairn diff` of cairn's SBOM against each lists exactly the packages where the two
//! disagree. cairn's SBOMs of these images are exact against each ecosystem's own ground
//! truth (ground_truth.rs, pkgdb_images.rs, lang.rs; the demo image's is checked again
//! here), so every difference listed is a place where the other tool is wrong or reports
//! differently (a Debian-owned Python or npm package twice, a version without its epoch).

mod common;
use common::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const IMAGES: [&str; 5] = ["demo", "alpine-apk", "fedora-rpm", "lang", "lang2"];
const DOCS: [&str; 6] = [
    "syft.spdx.json",
    "syft.spdx",
    "syft.cdx.json",
    "syft.cdx.xml",
    "trivy.spdx.json",
    "trivy.cdx.json",
];

fn peers() -> PathBuf {
    root().join("fixtures/peers")
}

/// The JSON document that lists the same packages as `doc` (itself when it is JSON): the
/// tag-value and XML documents are checked against the tool's JSON of the same image.
fn json_twin(image: &str, doc: &str) -> PathBuf {
    let name = match doc.strip_suffix(".xml") {
        Some(stem) => format!("{image}.{stem}.json"),
        None if doc.ends_with(".json") => format!("{image}.{doc}"),
        None => format!("{image}.{doc}.json"),
    };
    peers().join(name)
}

type Id = (String, String, String);

/// (purl type, name, version) of each package, with how many records carry it: a crate
/// that both a lock file and a binary list is two records, and a tool that lists it once
/// disagrees about one of them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Ids(BTreeMap<Id, usize>);

impl Ids {
    fn new() -> Self {
        Self::default()
    }
    fn insert(&mut self, id: Id) {
        *self.0.entry(id).or_default() += 1;
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// The records of `self` that `other` does not match, one for one.
    fn minus(&self, other: &Ids) -> Ids {
        let mut out = Ids::new();
        for (id, n) in &self.0 {
            let left = n.saturating_sub(other.0.get(id).copied().unwrap_or(0));
            if left > 0 {
                out.0.insert(id.clone(), left);
            }
        }
        out
    }
    fn iter(&self) -> impl Iterator<Item = &Id> {
        self.0
            .iter()
            .flat_map(|(id, n)| std::iter::repeat_n(id, *n))
    }
}

impl FromIterator<Id> for Ids {
    fn from_iter<I: IntoIterator<Item = Id>>(iter: I) -> Self {
        let mut out = Ids::new();
        for id in iter {
            out.insert(id);
        }
        out
    }
}

fn purl_type(purl: &str) -> String {
    purl.trim_start_matches("pkg:")
        .split(['/', '@'])
        .next()
        .unwrap_or("")
        .to_owned()
}

/// A package's name as the tools' identities compare it: a Maven artifact with its group
/// (Syft writes a group it does not know as the artifact id again, `pkg:maven/demo/demo`;
/// cairn leaves it out), every other name as written.
fn ident_name(name: &str, purl: &str) -> String {
    let path = purl.trim_start_matches("pkg:");
    let path = path.split(['@', '?', '#']).next().unwrap_or("");
    match path.split('/').collect::<Vec<_>>()[..] {
        ["maven", ns, _] => format!("{ns}/{name}"),
        _ => name.to_owned(),
    }
}

/// A version as dpkg and rpm print it: with the epoch a purl's `epoch` qualifier names.
fn with_epoch(version: &str, purl: &str) -> String {
    let epoch = purl
        .split_once('?')
        .and_then(|(_, q)| q.split('&').find_map(|kv| kv.strip_prefix("epoch=")));
    match epoch {
        Some(e) if e != "0" && !version.starts_with(&format!("{e}:")) => format!("{e}:{version}"),
        _ => version.to_owned(),
    }
}

/// The packages a peer's JSON document lists, read here from the raw JSON (not through
/// cairn's reader): SPDX packages and CycloneDX components (nested too) with a purl, but
/// not the image itself (the SPDX package the document DESCRIBES; CycloneDX keeps it in
/// `metadata.component`, outside `components`).
fn raw_ids(doc: &Value) -> Ids {
    let mut out = Ids::new();
    let described: BTreeSet<&str> = doc["relationships"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| {
            r["spdxElementId"] == "SPDXRef-DOCUMENT" && r["relationshipType"] == "DESCRIBES"
        })
        .filter_map(|r| r["relatedSpdxElement"].as_str())
        .chain(
            doc["documentDescribes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str),
        )
        .collect();
    if let Some(pkgs) = doc["packages"].as_array() {
        for p in pkgs
            .iter()
            .filter(|p| !described.contains(p["SPDXID"].as_str().unwrap_or("")))
        {
            let purl = p["externalRefs"].as_array().and_then(|r| {
                r.iter()
                    .find(|r| r["referenceType"] == "purl")
                    .and_then(|r| r["referenceLocator"].as_str())
            });
            if let Some(purl) = purl {
                let v = p["versionInfo"].as_str().unwrap_or("");
                out.insert((
                    purl_type(purl),
                    ident_name(p["name"].as_str().unwrap(), purl),
                    with_epoch(v, purl),
                ));
            }
        }
    }
    let mut stack: Vec<&Value> = doc["components"].as_array().into_iter().flatten().collect();
    while let Some(c) = stack.pop() {
        if let Some(purl) = c["purl"].as_str() {
            let v = c["version"].as_str().unwrap_or("");
            out.insert((
                purl_type(purl),
                ident_name(c["name"].as_str().unwrap(), purl),
                with_epoch(v, purl),
            ));
        }
        stack.extend(c["components"].as_array().into_iter().flatten());
    }
    out
}

fn cairn_ids(sbom: &Value) -> Ids {
    sbom["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["type"].as_str().unwrap().to_owned(),
                ident_name(
                    p["name"].as_str().unwrap(),
                    p["purl"].as_str().unwrap_or(""),
                ),
                p["version"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// What `cairn diff --json A B` says only A has and only B has, as package ids.
fn diff_sides(a: &Path, b: &Path) -> (Ids, Ids) {
    let out = cairn(&[
        "diff",
        "--json",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "-q",
    ]);
    assert!(
        out.status.success(),
        "diff {} {}: {}",
        a.display(),
        b.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = |p: &Value| {
        let purl_kind = p["type"].as_str().unwrap().to_owned();
        (
            purl_kind,
            ident_name(
                p["name"].as_str().unwrap(),
                p["purl"].as_str().unwrap_or(""),
            ),
            p["version"].as_str().unwrap().to_owned(),
        )
    };
    let (mut only_a, mut only_b) = (Ids::new(), Ids::new());
    for k in ["added", "removed", "upgraded", "downgraded", "changed"] {
        for x in d[k].as_array().unwrap() {
            if !x["before"].is_null() {
                only_a.insert(id(&x["before"]));
            }
            if !x["after"].is_null() {
                only_b.insert(id(&x["after"]));
            }
        }
    }
    (only_a, only_b)
}

fn image_path(name: &str) -> PathBuf {
    root()
        .join("fixtures/images")
        .join(name)
        .join("docker-archive.tar")
}

#[test]
fn every_peer_document_is_read_without_error() {
    for image in IMAGES {
        for doc in DOCS {
            // Trivy cannot scan jars offline (its Java analyzer needs the Java DB from
            // ghcr.io), so the Java image has Syft's documents only.
            if image == "lang2" && doc.starts_with("trivy") {
                continue;
            }
            let f = peers().join(format!("{image}.{doc}"));
            if !require(&f.display().to_string(), f.exists()) {
                return;
            }
            let out = cairn(&["convert", f.to_str().unwrap(), "-o", "json"]);
            assert!(
                out.status.success(),
                "{}: {}",
                f.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            let sbom: Value = serde_json::from_slice(&out.stdout).unwrap();
            let read = cairn_ids(&sbom);
            // Every package the document lists with a purl comes back (for tag-value and
            // XML: every package the tool's JSON of the image lists).
            let raw: Value =
                serde_json::from_str(&std::fs::read_to_string(json_twin(image, doc)).unwrap())
                    .unwrap();
            assert_eq!(read, raw_ids(&raw), "{image}.{doc}");
            assert!(!read.is_empty(), "{image}.{doc}");
        }
    }
}

/// The demo image's cairn SBOM is the ground truth (dpkg-query after its last layer), so
/// the differences are where the peers are wrong.
#[test]
fn cairn_diff_lists_exactly_where_each_peer_disagrees() {
    let dir = tempfile::tempdir().unwrap();
    for image in IMAGES {
        let img = image_path(image);
        if !require(&img.display().to_string(), img.exists()) {
            return;
        }
        let own = dir.path().join(format!("{image}.json"));
        cairn_ok(&[
            "sbom",
            img.to_str().unwrap(),
            "-q",
            "-o",
            &format!("json={}", own.display()),
        ]);
        let sbom: Value = serde_json::from_str(&std::fs::read_to_string(&own).unwrap()).unwrap();
        let ours = cairn_ids(&sbom);
        if image == "demo" {
            let truth: Ids = truth(truth_layers() - 1)
                .into_iter()
                .map(|(n, v, _)| ("deb".to_owned(), n, v))
                .collect();
            assert_eq!(ours, truth, "cairn's demo SBOM is dpkg's own list");
        }
        for doc in DOCS {
            // Trivy cannot scan jars offline (its Java analyzer needs the Java DB from
            // ghcr.io), so the Java image has Syft's documents only.
            if image == "lang2" && doc.starts_with("trivy") {
                continue;
            }
            let f = peers().join(format!("{image}.{doc}"));
            let raw: Value =
                serde_json::from_str(&std::fs::read_to_string(json_twin(image, doc)).unwrap())
                    .unwrap();
            let theirs = raw_ids(&raw);
            let (only_ours, only_theirs) = diff_sides(&own, &f);
            assert_eq!(
                only_ours,
                ours.minus(&theirs),
                "{image}.{doc}: what only cairn has"
            );
            assert_eq!(
                only_theirs,
                theirs.minus(&ours),
                "{image}.{doc}: what only the peer has"
            );
        }
    }
}

/// What the peers get wrong on these images, as the diff shows it: Trivy's Fedora package
/// has no package type (`pkg:none`), and Syft and Trivy report the Debian-owned Python and
/// npm packages of the language image a second time (cairn reports each once, as the deb
/// package, with the language identity as evidence), while Syft misses the Rust crates.
#[test]
fn the_peers_known_disagreements_are_listed() {
    let dir = tempfile::tempdir().unwrap();
    let own = dir.path().join("fedora.json");
    cairn_ok(&[
        "sbom",
        image_path("fedora-rpm").to_str().unwrap(),
        "-q",
        "-o",
        &format!("json={}", own.display()),
    ]);
    let (ours, theirs) = diff_sides(&own, &peers().join("fedora-rpm.trivy.cdx.json"));
    assert_eq!(
        ours.iter().cloned().collect::<Vec<_>>(),
        [("rpm".into(), "tzdata".into(), "2022a-2.fc36".into())]
    );
    assert_eq!(
        theirs.iter().cloned().collect::<Vec<_>>(),
        [("none".into(), "tzdata".into(), "2022a-2.fc36".into())]
    );
    let own = dir.path().join("lang.json");
    cairn_ok(&[
        "sbom",
        image_path("lang").to_str().unwrap(),
        "-q",
        "-o",
        &format!("json={}", own.display()),
    ]);
    let sbom: Value = serde_json::from_str(&std::fs::read_to_string(&own).unwrap()).unwrap();
    // The language identities cairn folded into deb packages.
    let folded: BTreeSet<(String, String)> = sbom["packages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["evidence"]["merged"].as_array().into_iter().flatten())
        .map(|m| {
            (
                m["name"].as_str().unwrap().to_owned(),
                m["version"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(!folded.is_empty());
    let (ours, theirs) = diff_sides(&own, &peers().join("lang.syft.spdx.json"));
    let extra: BTreeSet<(String, String)> = theirs
        .iter()
        .map(|(_, n, v)| (n.clone(), v.clone()))
        .collect();
    assert_eq!(
        extra, folded,
        "what only Syft has is what cairn reports once, as its deb package"
    );
    assert!(ours.iter().any(|(t, n, _)| t == "cargo" && n == "serde"));
}
