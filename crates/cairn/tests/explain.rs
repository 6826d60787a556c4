//! `cairn explain`, `cairn layers`, `cairn diff` and `cairn lock` on the fixture images:
//! the demo (an upgrade, a purge) and two application images a version apart on two
//! versions of a base image (fixtures/build-app-images.sh), checked against their ground
//! truth and against counts this test makes itself from the layer tars.

mod common;

use common::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};

fn images() -> PathBuf {
    root().join("fixtures/images")
}

fn app(n: u32) -> String {
    images().join(format!("app-{n}/oci")).display().to_string()
}

fn json_of(args: &[&str]) -> Value {
    let out = cairn_ok(args);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

#[test]
fn every_package_of_every_fixture_has_evidence_and_a_layer() {
    for img in [
        "demo/docker-archive.tar",
        "demo/oci",
        "alpine-apk/oci",
        "fedora-rpm/oci",
        "lang/oci",
        "app-1/oci",
        "app-2/oci",
    ] {
        let path = images().join(img);
        let sbom = scan_json(path.to_str().unwrap());
        let layers = sbom["source"]["layers"].as_array().unwrap().len() as u64;
        let pkgs = sbom["packages"].as_array().unwrap();
        assert!(!pkgs.is_empty(), "{img}");
        for p in pkgs {
            let ev = &p["evidence"];
            assert!(
                !ev["locations"].as_array().unwrap().is_empty(),
                "{img}: {} has no evidence location",
                p["id"]
            );
            let layer = ev["introduced_in"].as_u64().unwrap_or(u64::MAX);
            assert!(layer < layers, "{img}: {} has no layer", p["id"]);
        }
    }
}

/// libexpat1 is installed by layer 1 at 2.5.0-1+deb12u2 and upgraded by layer 2 to
/// 2.5.0-1+deb12u5: both layers, both versions, both build commands.
#[test]
fn explain_an_upgraded_package_shows_both_layers_and_versions() {
    let demo = demo().join("docker-archive.tar");
    let demo = demo.to_str().unwrap();
    let e = json_of(&["explain", demo, "libexpat1", "--json", "-q"]);
    let e = &e.as_array().unwrap()[0];
    assert_eq!(e["in_final_image"], true);
    assert_eq!(e["package"]["version"], "2.5.0-1+deb12u5");
    assert_eq!(e["introduced_in"]["index"], 1);
    assert_eq!(e["version_from"]["index"], 2);
    let up = e["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "version-changed")
        .unwrap();
    assert_eq!(up["layer"]["index"], 2);
    assert_eq!(up["from_version"], "2.5.0-1+deb12u2");
    assert_eq!(up["to_version"], "2.5.0-1+deb12u5");
    assert_eq!(e["listed_in"][0]["path"], "/var/lib/dpkg/status");
    // The entry as read: the status file's last version, which layer 3's purge wrote.
    assert_eq!(e["listed_in"][0]["layer"], 3);
    assert!(e["listed_in"][0]["lines"][0].as_u64().unwrap() > 0);
    // Its files, each with the layer whose version is visible.
    let files = e["files"].as_array().unwrap();
    assert!(files
        .iter()
        .any(|f| f["path"] == "/lib/x86_64-linux-gnu/libexpat.so.1.8.10" && f["layer"] == 2));
    assert!(e["depends_on"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["name"] == "libc6"));
    let text = cairn_ok(&["explain", demo, "libexpat1@2.5.0-1+deb12u5", "-q"]);
    for want in [
        "2.5.0-1+deb12u2 -> 2.5.0-1+deb12u5",
        "installed by layer 1",
        "apt-get install -y libexpat1=2.5.0-1+deb12u2 netbase libtasn1-6",
        "layer 2",
        "apt-get install -y --only-upgrade libexpat1",
        "/var/lib/dpkg/status lines",
        "depends on: libc6",
    ] {
        assert!(text.contains(want), "{want:?} not in:\n{text}");
    }
    // libc6 is required by libexpat1, in its own explanation.
    let libc = json_of(&["explain", demo, "pkg:deb/debian/libc6", "--json", "-q"]);
    assert!(libc[0]["required_by"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["name"] == "libexpat1"));
}

/// netbase is installed by layer 1 and purged by layer 3: explained, with where it was
/// installed and removed, and that the final image does not have it.
#[test]
fn explain_a_purged_package_says_where_it_came_and_went() {
    let demo = demo().join("oci");
    let demo = demo.to_str().unwrap();
    let e = json_of(&["explain", demo, "netbase", "--json", "-q"]);
    let e = &e.as_array().unwrap()[0];
    assert_eq!(e["in_final_image"], false);
    assert_eq!(e["introduced_in"]["index"], 1);
    assert_eq!(e["removed_in"]["index"], 3);
    assert!(e["removed_in"]["created_by"]
        .as_str()
        .unwrap()
        .contains("apt-get purge -y netbase"));
    // The files it had, none of which any layer has now.
    let files = e["files"].as_array().unwrap();
    assert!(files.iter().any(|f| f["path"] == "/etc/services"));
    assert!(files.iter().all(|f| f["layer"].is_null()));
    let text = cairn_ok(&["explain", demo, "netbase", "-q"]);
    assert!(text.contains("NOT IN THE FINAL IMAGE"), "{text}");
    assert!(text.contains("removed by layer 3"), "{text}");
}

#[test]
fn explain_names_what_it_cannot_find() {
    let demo = demo().join("oci");
    let out = cairn(&["explain", demo.to_str().unwrap(), "libexpat", "-q"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no package libexpat"), "{err}");
    assert!(err.contains("similar names: libexpat1"), "{err}");
    let out = cairn(&["explain", demo.to_str().unwrap(), "pkg:", "-q"]);
    assert_eq!(out.status.code(), Some(2));
}

/// The ground truth of an image: `dpkg-query -W` of its final root filesystem, as
/// name (without the architecture) -> version.
fn truth_of(dir: &str) -> BTreeMap<String, String> {
    std::fs::read_to_string(images().join(dir).join("truth/final.tsv"))
        .unwrap()
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0].split(':').next().unwrap().to_owned(), f[1].to_owned())
        })
        .collect()
}

/// The differences between two ground truths, as `(kind, name, before, after)`.
fn truth_diff(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) -> BTreeSet<Diff> {
    let mut out = BTreeSet::new();
    for (n, v) in a {
        match b.get(n) {
            None => out.insert(("removed".into(), n.clone(), Some(v.clone()), None)),
            Some(w) if w != v => out.insert((
                "changed".into(),
                n.clone(),
                Some(v.clone()),
                Some(w.clone()),
            )),
            _ => false,
        };
    }
    for (n, w) in b {
        if !a.contains_key(n) {
            out.insert(("added".into(), n.clone(), None, Some(w.clone())));
        }
    }
    out
}

type Diff = (String, String, Option<String>, Option<String>);

fn diff_set(d: &Value) -> BTreeSet<Diff> {
    let mut out = BTreeSet::new();
    for (list, kind) in [
        ("added", "added"),
        ("removed", "removed"),
        ("upgraded", "changed"),
        ("downgraded", "changed"),
        ("changed", "changed"),
    ] {
        for x in d[list].as_array().unwrap() {
            let v = |side: &str| x[side]["version"].as_str().map(str::to_owned);
            out.insert((
                kind.into(),
                x["name"].as_str().unwrap().to_owned(),
                v("before"),
                v("after"),
            ));
        }
    }
    out
}

/// app-1 and app-2 are a version apart: the diff lists exactly the differences between
/// their ground truths, each with the layer of app-2 that caused it — the base image's
/// layer for what base-2 changed (a package in base-2's own ground truth), app-2's RUN
/// layer for the rest — and a removal no layer of app-2 made is told as such.
#[test]
fn diff_of_two_images_a_version_apart_is_their_ground_truths_difference() {
    let d = json_of(&["diff", &app(1), &app(2), "--json", "-q"]);
    let want = truth_diff(&truth_of("app-1"), &truth_of("app-2"));
    assert_eq!(diff_set(&d), want);
    assert!(!want.is_empty());
    let base2 = truth_of("base-2");
    for list in ["added", "upgraded", "downgraded", "changed"] {
        for x in d[list].as_array().unwrap() {
            let name = x["name"].as_str().unwrap();
            let version = x["after"]["version"].as_str().unwrap();
            let from_base = base2.get(name).map(String::as_str) == Some(version);
            let layer = &x["layer"];
            assert_eq!(layer["index"], if from_base { 0 } else { 1 }, "{name}");
            assert_eq!(x["base"], from_base, "{name}");
            let cmd = layer["created_by"].as_str().unwrap();
            if from_base {
                assert!(cmd.contains("ADD file:"), "{name}: {cmd}");
            } else {
                assert!(cmd.contains("apt-get install"), "{name}: {cmd}");
            }
        }
    }
    for x in d["removed"].as_array().unwrap() {
        assert!(x["layer"].is_null(), "no layer of app-2 had {}", x["name"]);
        assert_eq!(
            x["base"], false,
            "{} came with app-1's own layer",
            x["name"]
        );
    }
    // The upgrades are upgrades by dpkg's order, not just changes.
    let up: Vec<&str> = d["upgraded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap())
        .collect();
    assert_eq!(up, ["libexpat1", "zlib1g"]);
    let text = cairn_ok(&["diff", &app(1), &app(2), "-q"]);
    assert!(
        text.contains("2 from the base image, 3 from the image's own layers"),
        "{text}"
    );
    // --exit-code: 1 when they differ, 0 when not.
    let out = cairn(&["diff", &app(1), &app(2), "--exit-code", "-q"]);
    assert_eq!(out.status.code(), Some(1));
    let out = cairn(&["diff", &app(2), &app(2), "--exit-code", "-q"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "no differences\n");
}

/// An SBOM document cairn wrote, read back, is the image it came from: no differences, in
/// every format; and a document diffs against another image as the image itself does.
#[test]
fn diff_of_an_sbom_file_against_its_image_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    let image_diff = json_of(&["diff", &app(1), &app(2), "--json", "-q"]);
    for (format, name) in [
        ("json", "app.json"),
        ("spdx-json", "app.spdx.json"),
        ("spdx-tag-value", "app.spdx"),
        ("cyclonedx-json", "app.cdx.json"),
    ] {
        let file = dir.path().join(name);
        let spec = format!("{format}={}", file.display());
        cairn_ok(&["sbom", &app(2), "-o", &spec, "-q"]);
        let f = file.to_str().unwrap();
        let out = cairn(&["diff", f, &app(2), "--exit-code", "-q"]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{format}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let out = cairn(&["diff", &app(2), f, "--exit-code", "-q"]);
        assert_eq!(out.status.code(), Some(0), "{format}, reversed");
        // From app-1's image to app-2's document: the same differences, the same layers.
        let d = json_of(&["diff", &app(1), f, "--json", "-q"]);
        assert_eq!(diff_set(&d), diff_set(&image_diff), "{format}");
        for list in ["added", "upgraded"] {
            let layers = |d: &Value| -> Vec<(String, Value, Value)> {
                d[list]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| {
                        (
                            x["name"].as_str().unwrap().to_owned(),
                            x["layer"]["index"].clone(),
                            x["base"].clone(),
                        )
                    })
                    .collect()
            };
            assert_eq!(layers(&d), layers(&image_diff), "{format} {list}");
        }
    }
}

/// What a layer tar holds, as this test reads it: regular files (size, hard link or
/// not), symbolic links, whiteouts, opaque directories.
struct Entry {
    path: String,
    kind: u8,
    size: u64,
    target: String,
    data: Vec<u8>,
}

fn layer_entries(blob: &[u8]) -> Vec<Entry> {
    let raw: Box<dyn Read> = if blob.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::read::GzDecoder::new(blob))
    } else if blob.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Box::new(zstd::Decoder::new(blob).unwrap())
    } else {
        Box::new(blob)
    };
    let mut out = Vec::new();
    let mut ar = tar::Archive::new(raw);
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let path = e
            .path()
            .unwrap()
            .to_string_lossy()
            .trim_start_matches("./")
            .trim_end_matches('/')
            .to_owned();
        let h = e.header();
        let kind = h.entry_type().as_byte();
        let size = h.size().unwrap();
        let target = e
            .link_name()
            .unwrap()
            .map(|t| t.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut data = Vec::new();
        if path.starts_with("var/lib/dpkg/info/") && path.ends_with(".list") {
            e.read_to_end(&mut data).unwrap();
        }
        out.push(Entry {
            path,
            kind,
            size,
            target,
            data,
        });
    }
    out
}

/// The layer blobs of an OCI layout, in order.
fn oci_layers(dir: &Path) -> Vec<Vec<u8>> {
    let blob = |d: &str| {
        std::fs::read(
            dir.join("blobs/sha256")
                .join(d.trim_start_matches("sha256:")),
        )
        .unwrap()
    };
    let index: Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let m: Value =
        serde_json::from_slice(&blob(index["manifests"][0]["digest"].as_str().unwrap())).unwrap();
    m["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| blob(l["digest"].as_str().unwrap()))
        .collect()
}

#[derive(Default, Debug, PartialEq)]
struct Counted {
    files: u64,
    bytes: u64,
    wasted_files: u64,
    wasted_bytes: u64,
    unowned: BTreeSet<String>,
    unowned_bytes: u64,
}

/// Replays the layers as a container runtime does, counting per layer the regular files
/// and bytes it wrote (hard links add no bytes), the ones later layers overwrote or
/// deleted, and the files of the final image it wrote that no dpkg `.list` names (paths
/// resolved through the image's symbolic links) outside dpkg's own directory.
fn count_from_tars(layers: &[Vec<u8>]) -> Vec<Counted> {
    // path -> (layer that wrote it, own bytes, is a regular file, size as seen: a hard
    // link has its target's)
    let mut live: BTreeMap<String, (usize, u64, bool, u64)> = BTreeMap::new();
    let mut links: BTreeMap<String, String> = BTreeMap::new();
    let mut lists: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut out: Vec<Counted> = (0..layers.len()).map(|_| Counted::default()).collect();
    // A file's data with several names (hard links) is one inode: path -> inode, and per
    // inode its live names, bytes and writer. Its bytes are wasted when the last name goes.
    let mut inode_of: BTreeMap<String, usize> = BTreeMap::new();
    let mut inodes: Inodes = Vec::new();
    type Inodes = Vec<(u32, u64, usize)>;
    fn discard(
        out: &mut [Counted],
        (inode_of, inodes): (&mut BTreeMap<String, usize>, &mut Inodes),
        path: &str,
        v: (usize, u64, bool, u64),
    ) {
        if !v.2 {
            return;
        }
        let (layer, bytes) = match inode_of.remove(path) {
            Some(n) => {
                inodes[n].0 -= 1;
                if inodes[n].0 > 0 {
                    return;
                }
                (inodes[n].2, inodes[n].1)
            }
            None => (v.0, v.1),
        };
        out[layer].wasted_files += 1;
        out[layer].wasted_bytes += bytes;
    }
    for (i, blob) in layers.iter().enumerate() {
        let entries = layer_entries(blob);
        for e in &entries {
            let name = e.path.rsplit('/').next().unwrap();
            let parent = e.path.rsplit_once('/').map_or("", |(p, _)| p);
            let doomed: Vec<String> = if name == ".wh..wh..opq" {
                let prefix = format!("{parent}/");
                live.keys()
                    .filter(|k| k.starts_with(&prefix))
                    .cloned()
                    .collect()
            } else if let Some(gone) = name.strip_prefix(".wh.") {
                let p = if parent.is_empty() {
                    gone.to_owned()
                } else {
                    format!("{parent}/{gone}")
                };
                let prefix = format!("{p}/");
                live.keys()
                    .filter(|k| **k == p || k.starts_with(&prefix))
                    .cloned()
                    .collect()
            } else {
                continue;
            };
            for k in doomed {
                let v = live.remove(&k).unwrap();
                links.remove(&k);
                lists.remove(&k);
                discard(&mut out, (&mut inode_of, &mut inodes), &k, v);
            }
        }
        for e in entries {
            let name = e.path.rsplit('/').next().unwrap();
            if name.starts_with(".wh.") || e.path.is_empty() {
                continue;
            }
            let regular = matches!(e.kind, b'0' | b'\0' | b'1');
            let own = if e.kind == b'1' { 0 } else { e.size };
            let seen = if e.kind == b'1' {
                live.get(e.target.trim_start_matches("./"))
                    .map_or(0, |t| t.3)
            } else {
                e.size
            };
            let target = e.target.trim_start_matches("./").to_owned();
            let target_file = live.get(&target).is_some_and(|t| t.2);
            if let Some(old) = live.insert(e.path.clone(), (i, own, regular, seen)) {
                discard(&mut out, (&mut inode_of, &mut inodes), &e.path, old);
            }
            if e.kind == b'1' && target_file && target != e.path {
                let n = match inode_of.get(&target) {
                    Some(&n) => n,
                    None => {
                        let t = live[&target];
                        inodes.push((1, t.1, t.0));
                        inode_of.insert(target.clone(), inodes.len() - 1);
                        inodes.len() - 1
                    }
                };
                inodes[n].0 += 1;
                inode_of.insert(e.path.clone(), n);
            }
            links.remove(&e.path);
            if e.kind == b'2' {
                links.insert(e.path.clone(), e.target.clone());
            }
            if regular {
                out[i].files += 1;
                out[i].bytes += own;
            }
            if !e.data.is_empty() {
                lists.insert(e.path.clone(), e.data);
            }
        }
    }
    let resolve = |p: &str| -> String {
        let mut segs: Vec<String> = Vec::new();
        let mut todo: Vec<String> = p
            .split('/')
            .filter(|s| !s.is_empty())
            .rev()
            .map(str::to_owned)
            .collect();
        let mut hops = 0;
        while let Some(s) = todo.pop() {
            segs.push(s);
            let cur = segs.join("/");
            if let Some(t) = links.get(&cur) {
                hops += 1;
                assert!(hops < 40);
                segs.pop();
                if t.starts_with('/') {
                    segs.clear();
                }
                for part in t.split('/').filter(|s| !s.is_empty()).rev() {
                    todo.push(part.to_owned());
                }
            }
            if segs.last().map(String::as_str) == Some("..") {
                segs.pop();
                segs.pop();
            } else if segs.last().map(String::as_str) == Some(".") {
                segs.pop();
            }
        }
        segs.join("/")
    };
    let owned: BTreeSet<String> = lists
        .values()
        .flat_map(|l| {
            String::from_utf8_lossy(l)
                .lines()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .map(|p| resolve(&p))
        .collect();
    for (path, (layer, _, regular, seen)) in &live {
        if !regular || owned.contains(path) || path.starts_with("var/lib/dpkg/") {
            continue;
        }
        out[*layer].unowned.insert(format!("/{path}"));
        out[*layer].unowned_bytes += seen;
    }
    out
}

/// `cairn layers --dockerfile`: each layer (and each empty step) mapped to the
/// instruction that built it, and the waste and unowned-file figures equal to the count
/// this test makes from the layer tars.
#[test]
fn layers_maps_each_layer_to_its_instruction_and_counts_match_the_tars() {
    for n in [1, 2] {
        let dir = images().join(format!("app-{n}"));
        let dockerfile = dir.join("Dockerfile");
        let text = std::fs::read_to_string(&dockerfile).unwrap();
        let line_of = |kw: &str| {
            text.lines()
                .position(|l| l.starts_with(kw))
                .map(|i| i as u64 + 1)
                .unwrap()
        };
        let r = json_of(&[
            "layers",
            &app(n),
            "--dockerfile",
            dockerfile.to_str().unwrap(),
            "--json",
            "-q",
        ]);
        let layers = r["layers"].as_array().unwrap();
        assert_eq!(layers.len(), 3);
        assert!(layers[0]["instruction"].is_null(), "the base image's layer");
        assert_eq!(layers[0]["base"], true);
        assert_eq!(layers[1]["instruction"]["line"], line_of("RUN"));
        assert_eq!(layers[2]["instruction"]["line"], line_of("COPY"));
        assert_eq!(layers[1]["base"], false);
        let steps = r["steps"].as_array().unwrap();
        let empty: Vec<(String, Value)> = steps
            .iter()
            .filter(|s| s["empty"] == true)
            .map(|s| {
                (
                    s["created_by"].as_str().unwrap().to_owned(),
                    s["instruction"]["line"].clone(),
                )
            })
            .collect();
        assert_eq!(
            empty,
            [
                ("/bin/sh -c #(nop)  CMD [\"sh\"]".to_owned(), Value::Null),
                (format!("ENV APP_VERSION={n}"), line_of("ENV").into()),
                (
                    "CMD [\"/bin/cat\", \"/opt/app/hello.txt\"]".to_owned(),
                    line_of("CMD").into()
                ),
            ]
        );
        let counted = count_from_tars(&oci_layers(&dir.join("oci")));
        for (l, c) in layers.iter().zip(&counted) {
            let got = Counted {
                files: l["files_added"].as_u64().unwrap(),
                bytes: l["bytes_added"].as_u64().unwrap(),
                wasted_files: l["files_wasted"].as_u64().unwrap(),
                wasted_bytes: l["bytes_wasted"].as_u64().unwrap(),
                unowned: l["unowned"]["paths"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p.as_str().unwrap().to_owned())
                    .collect(),
                unowned_bytes: l["unowned"]["bytes"].as_u64().unwrap(),
            };
            assert_eq!(&got, c, "app-{n} layer {}", l["index"]);
            assert_eq!(
                l["unowned"]["count"].as_u64().unwrap(),
                c.unowned.len() as u64
            );
        }
        assert!(counted[2].unowned.contains("/opt/app/hello.txt"));
    }
    // The demo: an upgrade, a purge and a deleted directory waste bytes of earlier layers.
    let demo = demo().join("oci");
    let r = json_of(&["layers", demo.to_str().unwrap(), "--json", "-q"]);
    let counted = count_from_tars(&oci_layers(&demo));
    for (l, c) in r["layers"].as_array().unwrap().iter().zip(&counted) {
        assert_eq!(
            l["bytes_wasted"].as_u64().unwrap(),
            c.wasted_bytes,
            "demo layer {}",
            l["index"]
        );
        assert_eq!(l["files_wasted"].as_u64().unwrap(), c.wasted_files);
        assert_eq!(l["bytes_added"].as_u64().unwrap(), c.bytes);
        assert_eq!(
            l["unowned"]["count"].as_u64().unwrap(),
            c.unowned.len() as u64,
            "demo layer {}",
            l["index"]
        );
    }
    assert!(
        counted[1].wasted_bytes > 0,
        "the upgrade replaced layer 1's libexpat"
    );
    let l3 = &r["layers"][3];
    assert_eq!(l3["packages_removed"][0]["name"], "netbase");
    assert_eq!(r["layers"][2]["packages_upgraded"][0]["name"], "libexpat1");
}

/// The base image is told apart by `--base` (diff ids), by the manifest's base
/// annotations, or from the history, and the three agree.
#[test]
fn the_base_image_is_found_three_ways() {
    let base1 = images().join("base-1/oci");
    let by_base = scan_json_with(&app(1), &["--base", base1.to_str().unwrap()]);
    let b = &by_base["source"]["base"];
    assert_eq!(
        (b["layers"].as_u64(), b["from"].as_str()),
        (Some(1), Some("base-image"))
    );
    let by_history = scan_json(&app(1));
    assert_eq!(by_history["source"]["base"]["layers"], 1);
    assert_eq!(by_history["source"]["base"]["from"], "history");
    let annotated = scan_json(&app(2));
    let b = &annotated["source"]["base"];
    assert_eq!(b["name"], "cairn/base:2");
    let index: Value =
        serde_json::from_slice(&std::fs::read(images().join("base-2/oci/index.json")).unwrap())
            .unwrap();
    assert_eq!(b["digest"], index["manifests"][0]["digest"]);
    // The demo's history has no base image step: no base claimed.
    assert!(scan_json(demo().join("oci").to_str().unwrap())["source"]["base"].is_null());
}

fn scan_json_with(image: &str, extra: &[&str]) -> Value {
    let mut args = vec!["sbom", image, "-o", "json", "-q"];
    args.extend_from_slice(extra);
    json_of(&args)
}

/// `cairn lock`: the base image pinned by digest, each `apt-get install` package pinned to
/// the version the image has, every other byte unchanged; locking again changes nothing.
#[test]
fn lock_pins_the_base_image_and_packages_to_what_the_image_has() {
    let dir = tempfile::tempdir().unwrap();
    let dockerfile = images().join("app-1/Dockerfile");
    let base1 = images().join("base-1/oci");
    let out = dir.path().join("Dockerfile.locked");
    cairn_ok(&[
        "lock",
        dockerfile.to_str().unwrap(),
        "--image",
        &app(1),
        "--base",
        base1.to_str().unwrap(),
        "--offline",
        "-o",
        out.to_str().unwrap(),
        "-q",
    ]);
    let index: Value =
        serde_json::from_slice(&std::fs::read(base1.join("index.json")).unwrap()).unwrap();
    let digest = index["manifests"][0]["digest"].as_str().unwrap();
    let truth = truth_of("app-1");
    let want = std::fs::read_to_string(&dockerfile)
        .unwrap()
        .replace("FROM cairn/base:1", &format!("FROM cairn/base:1@{digest}"))
        .replace(
            "      libexpat1 netbase",
            &format!(
                "      libexpat1={} netbase={}",
                truth["libexpat1"], truth["netbase"]
            ),
        );
    let locked = std::fs::read_to_string(&out).unwrap();
    assert_eq!(locked, want);
    let again = dir.path().join("again");
    cairn_ok(&[
        "lock",
        out.to_str().unwrap(),
        "--image",
        &app(1),
        "--offline",
        "-o",
        again.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(std::fs::read_to_string(&again).unwrap(), locked);
    // `FROM ${BASE}`: the global ARG's default is pinned, with the digest app-2's manifest
    // states for its base (its annotations); the RUN under a --mount flag is pinned too.
    let out = cairn(&[
        "lock",
        images().join("app-2/Dockerfile").to_str().unwrap(),
        "--image",
        &app(2),
        "--offline",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let index: Value =
        serde_json::from_slice(&std::fs::read(images().join("base-2/oci/index.json")).unwrap())
            .unwrap();
    let digest = index["manifests"][0]["digest"].as_str().unwrap();
    let pinned = format!("ARG BASE=cairn/base:2@{digest}\nFROM ${{BASE}} AS app");
    assert!(stdout.contains(&pinned), "{stdout}");
    assert!(stdout.contains(&format!("libtasn1-6={}", truth_of("app-2")["libtasn1-6"])));
    // Without a digest to pin to (no --base, no annotations, no registry asked), the base
    // is reported as not pinned.
    let out = cairn(&[
        "lock",
        dockerfile.to_str().unwrap(),
        "--image",
        &app(1),
        "--offline",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("base image cairn/base:1 not pinned"),
        "{stderr}"
    );
}

/// A language package an OS package ships (Debian's python3-requests holds requests
/// 2.28.1's egg-info) is explained through that package, which owns it; the one pip
/// installed beside it is owned by none.
#[test]
fn a_language_package_names_the_os_package_that_owns_it() {
    let lang = images().join("lang/oci");
    let lang = lang.to_str().unwrap();
    let e = json_of(&["explain", lang, "pkg:pypi/requests@2.28.1", "--json", "-q"]);
    let e = e.as_array().unwrap();
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0]["owned_by"]["name"], "python3-requests");
    assert_eq!(e[0]["owned_by"]["type"], "deb");
    assert_eq!(e[0]["matched_record"]["purl"], "pkg:pypi/requests@2.28.1");
    let e = json_of(&["explain", lang, "pkg:pypi/requests@2.32.3", "--json", "-q"]);
    assert_eq!(e[0]["package"]["type"], "pypi");
    assert!(e[0]["owned_by"].is_null());
    let text = cairn_ok(&["explain", lang, "requests@2.28.1", "-q"]);
    assert!(
        text.contains("is part of the deb package python3-requests"),
        "{text}"
    );
}
