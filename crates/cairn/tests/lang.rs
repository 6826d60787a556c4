//! The language packages of the `lang` fixture image (fixtures/build-lang-images.sh: real
//! packages from PyPI, npm, Debian, a Go program and a cargo-auditable Rust program built
//! there) against the ground truth each ecosystem's own tool recorded when the image was
//! built: `go version -m`, `rust-audit-info`, `pip inspect`/`pip list`, `npm ls --all`.
//! Every language package must carry its evidence file, and the layer and build step that
//! introduced it, in every output format.

mod common;
use common::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;

fn image() -> PathBuf {
    root().join("fixtures/images/lang")
}

fn truth_dir() -> PathBuf {
    image().join("truth")
}

/// The fixture (or a skip, see fixtures/require.rs).
fn need(p: &std::path::Path) -> bool {
    require(&p.display().to_string(), p.exists())
}

fn sbom() -> Option<Value> {
    let tar = image().join("docker-archive.tar");
    if !need(&tar) {
        return None;
    }
    let out = cairn(&["sbom", tar.to_str().unwrap(), "-q", "-o", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn packages_at<'a>(sbom: &'a Value, path: &str) -> Vec<&'a Value> {
    sbom["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["evidence"]["locations"][0]["path"] == path)
        .collect()
}

fn set(v: impl IntoIterator<Item = (String, String)>) -> BTreeSet<(String, String)> {
    v.into_iter().collect()
}

fn name_version(ps: &[&Value]) -> BTreeSet<(String, String)> {
    set(ps.iter().map(|p| {
        (
            p["name"].as_str().unwrap().to_owned(),
            p["version"].as_str().unwrap().to_owned(),
        )
    }))
}

/// `go version -m` output: the binary's path, and (module, version) for the main module,
/// each dependency (its replacement when it has one) and the standard library.
fn go_truth(text: &str) -> (String, BTreeSet<(String, String)>, Option<String>) {
    let mut lines = text.lines();
    let first = lines.next().unwrap();
    let (path, go) = first.rsplit_once(": ").unwrap();
    let mut out = BTreeSet::new();
    out.insert(("stdlib".to_owned(), go.to_owned()));
    let mut ldflags = None;
    let mut last: Option<(String, String)> = None;
    for l in lines {
        let f: Vec<&str> = l.trim_start_matches('\t').split('\t').collect();
        match f[0] {
            "mod" | "dep" => {
                if let Some(x) = last.take() {
                    out.insert(x);
                }
                last = Some((f[1].to_owned(), f[2].to_owned()));
            }
            "=>" if !f[2].is_empty() => last = Some((f[1].to_owned(), f[2].to_owned())),
            "build" => {
                if let Some(v) = f[1].strip_prefix("-ldflags=") {
                    ldflags = Some(v.trim_matches('"').to_owned());
                }
            }
            _ => {}
        }
    }
    if let Some(x) = last {
        out.insert(x);
    }
    (format!("/{}", path.trim_start_matches('/')), out, ldflags)
}

#[test]
fn go_binaries_match_go_version_m() {
    let Some(sbom) = sbom() else { return };
    let dir = truth_dir().join("go");
    assert!(dir.is_dir(), "{}", dir.display());
    let mut seen = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
        let (path, mut want, ldflags) = go_truth(&text);
        // A (devel) main module built with -X main.version=V is reported at vV; a GOPATH
        // build's main package (no `mod` line) is its main module.
        if let Some(v) = ldflags.as_deref().and_then(|f| {
            f.split_whitespace()
                .find_map(|w| w.strip_prefix("main.version="))
        }) {
            let devel = want
                .iter()
                .find(|(_, ver)| ver == "(devel)")
                .cloned()
                .unwrap();
            want.remove(&devel);
            want.insert((devel.0, format!("v{v}")));
        }
        if !text.contains("\tmod\t") {
            let main = text
                .lines()
                .find_map(|l| l.strip_prefix("\tpath\t"))
                .unwrap();
            want.insert((main.to_owned(), "(devel)".to_owned()));
        }
        let got: Vec<&Value> = packages_at(&sbom, &path)
            .into_iter()
            .filter(|p| p["type"] == "golang")
            .collect();
        assert_eq!(name_version(&got), want, "{path}");
        for p in &got {
            assert_eq!(p["origin"], "binary", "{path}");
        }
        seen += 1;
    }
    assert!(seen >= 4, "the image has Go programs of every format");
}

#[test]
fn the_go_program_a_deb_ships_is_its_child_not_a_duplicate() {
    let Some(sbom) = sbom() else { return };
    let fzf: Vec<&Value> = packages_at(&sbom, "/usr/bin/fzf");
    let deb = fzf.iter().find(|p| p["type"] == "deb");
    let deb_id = sbom["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "fzf" && p["type"] == "deb")
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .expect("the fzf deb");
    assert!(deb.is_none()); // the deb's evidence is dpkg's status file
    let modules: Vec<&&Value> = fzf.iter().filter(|p| p["type"] == "golang").collect();
    assert!(!modules.is_empty());
    for m in modules {
        let contains =
            sbom["relationships"].as_array().unwrap().iter().any(|r| {
                r["from"] == deb_id.as_str() && r["kind"] == "contains" && r["to"] == m["id"]
            });
        assert!(contains, "{} is a child of the fzf deb", m["id"]);
    }
}

#[test]
fn the_cargo_auditable_binary_matches_rust_audit_info() {
    let Some(sbom) = sbom() else { return };
    let dir = truth_dir().join("rust");
    assert!(dir.is_dir(), "{}", dir.display());
    for e in std::fs::read_dir(&dir).unwrap() {
        let e = e.unwrap();
        let truth: Value =
            serde_json::from_str(&std::fs::read_to_string(e.path()).unwrap()).unwrap();
        let want = set(truth["packages"].as_array().unwrap().iter().map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["version"].as_str().unwrap().to_owned(),
            )
        }));
        let bin = e.file_name().to_string_lossy().replace(".audit.json", "");
        let path = format!("/usr/local/bin/{bin}");
        let got: Vec<&Value> = packages_at(&sbom, &path);
        assert_eq!(name_version(&got), want, "{path}");
        assert!(got
            .iter()
            .all(|p| p["type"] == "cargo" && p["origin"] == "binary"));
    }
}

/// Every language package says where it was found and which layer (and so which build
/// step) put it there, in cairn's JSON, SPDX and CycloneDX.
#[test]
fn every_language_package_carries_its_evidence_and_layer_in_every_format() {
    let tar = image().join("docker-archive.tar");
    if !need(&tar) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (j, s, c) = (
        dir.path().join("a.json"),
        dir.path().join("a.spdx.json"),
        dir.path().join("a.cdx.json"),
    );
    let out = cairn(&[
        "sbom",
        tar.to_str().unwrap(),
        "-q",
        "-o",
        &format!("json={}", j.display()),
        "-o",
        &format!("spdx-json={}", s.display()),
        "-o",
        &format!("cyclonedx-json={}", c.display()),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read =
        |p: &PathBuf| -> Value { serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap() };
    let (cairn, spdx, cdx) = (read(&j), read(&s), read(&c));
    let layers = cairn["source"]["layers"].as_array().unwrap();
    let spdx_pkgs = spdx["packages"].as_array().unwrap();
    let cdx_all = cdx_components(&cdx);
    let mut checked = 0;
    for p in cairn["packages"].as_array().unwrap() {
        if matches!(p["type"].as_str(), Some("deb")) {
            continue;
        }
        let at = p["evidence"]["locations"][0]["path"].as_str().unwrap();
        let layer = p["evidence"]["introduced_in"]
            .as_u64()
            .expect("introduced_in") as usize;
        let step = layers[layer]["created_by"].as_str().unwrap();
        assert!(!step.is_empty());
        let purl = p["purl"].as_str().unwrap();
        let s = spdx_pkgs
            .iter()
            .find(|x| {
                x["externalRefs"][0]["referenceLocator"] == purl
                    && x["comment"]
                        .as_str()
                        .is_some_and(|c| c.contains(&format!("Listed in {at} (")))
            })
            .unwrap_or_else(|| panic!("{purl} at {at} in SPDX"));
        let comment = s["comment"].as_str().unwrap();
        let read = &p["evidence"]["locations"][0]["layer"];
        assert!(
            comment.contains(&format!("Introduced in layer {layer} (")),
            "{comment}"
        );
        assert!(
            comment.contains(&format!("{at} (from layer {read})")),
            "{at} {read}: {comment}"
        );
        let c = cdx_all
            .iter()
            .find(|x| x["bom-ref"] == p["id"])
            .unwrap_or_else(|| panic!("{} in CycloneDX", p["id"]));
        assert_eq!(c["evidence"]["occurrences"][0]["location"], at);
        let props = c["properties"].as_array().unwrap();
        let prop = |n: &str| {
            props
                .iter()
                .find(|x| x["name"] == n)
                .map(|x| x["value"].clone())
        };
        assert_eq!(
            prop("cairn:introduced-in-layer"),
            Some(Value::from(layer.to_string()))
        );
        assert!(prop("cairn:introduced-by")
            .unwrap()
            .as_str()
            .unwrap()
            .contains(&step[..step.len().min(40)]));
        checked += 1;
    }
    assert!(checked > 20, "{checked} language packages checked");
}

/// (name, version) of every package in `npm ls --all --json` output, nested ones included.
fn npm_ls(v: &Value, out: &mut BTreeSet<(String, String)>) {
    if let Some(deps) = v["dependencies"].as_object() {
        for (name, d) in deps {
            if let Some(version) = d["version"].as_str() {
                out.insert((name.clone(), version.to_owned()));
            }
            npm_ls(d, out);
        }
    }
}

#[test]
fn installed_npm_packages_match_npm_ls_and_the_layer_that_ran_npm() {
    let Some(sbom) = sbom() else { return };
    let layers = sbom["source"]["layers"].as_array().unwrap();
    for (truth, root) in [
        ("layer-9.app.ls.json", "/app/node_modules/"),
        ("layer-9.global.ls.json", "/usr/local/lib/node_modules/"),
    ] {
        let text = std::fs::read_to_string(truth_dir().join("npm").join(truth)).unwrap();
        let mut want = BTreeSet::new();
        npm_ls(&serde_json::from_str(&text).unwrap(), &mut want);
        let got: Vec<&Value> = sbom["packages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| {
                p["type"] == "npm"
                    && p["evidence"]["locations"][0]["path"]
                        .as_str()
                        .unwrap()
                        .starts_with(root)
            })
            .collect();
        assert_eq!(name_version(&got), want, "{root}");
        for p in got {
            let l = p["evidence"]["introduced_in"].as_u64().unwrap() as usize;
            let step = layers[l]["created_by"].as_str().unwrap();
            assert!(step.contains("npm ci"), "{}: {step}", p["name"]);
            assert!(p["purl"].as_str().unwrap().starts_with("pkg:npm/"));
        }
    }
    // A package a later layer uninstalled is gone.
    assert!(!sbom["packages"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == "is-number"));
}

/// Debian's node-* and python3-* packages install package.json trees under
/// /usr/share/nodejs and distributions under /usr/lib/python3/dist-packages: each is
/// reported once, as the deb, with the npm identity kept as a merged record saying why.
#[test]
fn debian_node_and_python_packages_are_reported_once_as_the_deb() {
    let Some(sbom) = sbom() else { return };
    let pkgs = sbom["packages"].as_array().unwrap();
    assert!(!pkgs.iter().any(|p| p["type"] == "npm"
        && p["evidence"]["locations"][0]["path"]
            .as_str()
            .unwrap()
            .starts_with("/usr/share/nodejs/")));
    for deb in ["node-semver", "node-lru-cache", "node-yallist"] {
        let p = pkgs.iter().find(|p| p["name"] == deb).unwrap();
        let merged = p["evidence"]["merged"].as_array().unwrap();
        assert!(
            merged
                .iter()
                .any(|m| m["type"] == "npm" && m["reason"].as_str().unwrap().contains(deb)),
            "{deb}: {merged:?}"
        );
    }
}

fn gunzip(path: &std::path::Path) -> Vec<u8> {
    use std::io::Read;
    let gz = std::fs::read(path).unwrap();
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// A Go program whose build info is damaged, one whose module info claims 2^62 bytes, a
/// truncated Cargo.lock and go.mod, and a TOML bomb: each a warning naming the file, the
/// SBOM marked incomplete, and everything else still reported.
#[test]
fn damaged_executables_and_lock_files_are_warnings_naming_them() {
    let bin = root().join("fixtures/buildinfo/go-app-linux.gz");
    if !need(&bin) {
        return;
    }
    let good = gunzip(&bin);
    let at = (0..good.len())
        .step_by(16)
        .find(|&i| good[i..].starts_with(b"\xff Go buildinf:"))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("usr/bin")).unwrap();
    std::fs::create_dir_all(root.join("src/a")).unwrap();
    std::fs::create_dir_all(root.join("src/b")).unwrap();
    std::fs::write(root.join("usr/bin/good"), &good).unwrap();
    let mut pointers = good.clone();
    pointers[at + 15] &= !0x2; // pre-1.18 layout: strings no longer inline
    std::fs::write(root.join("usr/bin/old-format"), &pointers).unwrap();
    let mut huge = good.clone();
    let v = huge[at + 32] as usize;
    huge.splice(
        at + 33 + v..at + 35 + v,
        [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40],
    );
    std::fs::write(root.join("usr/bin/huge-modinfo"), &huge).unwrap();
    std::fs::write(
        root.join("src/a/Cargo.lock"),
        "version = 4\n\n[[package]]\nname = \"x\"\nvers",
    )
    .unwrap();
    std::fs::write(
        root.join("src/b/Cargo.lock"),
        format!("a = {}{}", "[".repeat(50_000), "]".repeat(50_000)),
    )
    .unwrap();
    std::fs::write(root.join("src/a/go.mod"), "module a\nrequire (\n\tb v1\n").unwrap();
    let out = cairn(&["sbom", &format!("dir:{}", root.display()), "-o", "json"]);
    assert_eq!(out.status.code(), Some(1), "incomplete: exit 1");
    let sbom: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sbom["complete"], false);
    let warned: BTreeSet<(String, String)> = sbom["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["path"].as_str().unwrap_or("").to_owned(),
                w["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for (path, kind) in [
        ("/usr/bin/old-format", "malformed"),
        ("/usr/bin/huge-modinfo", "limit"),
        ("/src/a/Cargo.lock", "malformed"),
        ("/src/b/Cargo.lock", "malformed"),
        ("/src/a/go.mod", "malformed"),
    ] {
        assert!(
            warned.contains(&(path.to_owned(), kind.to_owned())),
            "{path} {kind}: {warned:?}"
        );
    }
    // The intact program is still there, with its modules.
    let good: Vec<&Value> = packages_at(&sbom, "/usr/bin/good");
    assert_eq!(good.len(), 4, "main, stdlib and two modules");
}

/// Declared packages in a directory scan of the lock-file projects (fixtures/lang/dir,
/// written by the real tools) against each tool's own listing.
#[test]
fn declared_go_cargo_and_npm_packages_match_their_tools() {
    let dir = root().join("fixtures/lang/dir");
    if !need(&dir) {
        return;
    }
    let out = cairn(&[
        "sbom",
        &format!("dir:{}", dir.display()),
        "-q",
        "-o",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sbom: Value = serde_json::from_slice(&out.stdout).unwrap();
    let declared = |path: &str| -> Vec<&Value> {
        packages_at(&sbom, path)
            .into_iter()
            .filter(|p| p["origin"] == "declared")
            .collect()
    };
    // go list -m all: the main module first, then every required module.
    let text = std::fs::read_to_string(dir.join("go/truth.go-list-m-all.txt")).unwrap();
    let want = set(text.lines().skip(1).map(|l| {
        let (m, v) = l.split_once(' ').unwrap();
        (m.to_owned(), v.to_owned())
    }));
    assert_eq!(name_version(&declared("/go/go.mod")), want);
    // cargo metadata: every package of the lock file, the root crate included.
    let meta: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("rust/truth.cargo-metadata-packages.json")).unwrap(),
    )
    .unwrap();
    let want = set(meta.as_array().unwrap().iter().map(|p| {
        (
            p["name"].as_str().unwrap().to_owned(),
            p["version"].as_str().unwrap().to_owned(),
        )
    }));
    assert_eq!(name_version(&declared("/rust/Cargo.lock")), want);
    // npm ls --all: every locked package; the dev ones marked.
    let mut all = BTreeSet::new();
    npm_ls(
        &serde_json::from_str(
            &std::fs::read_to_string(dir.join("js-npm/truth.npm-ls.json")).unwrap(),
        )
        .unwrap(),
        &mut all,
    );
    let mut prod = BTreeSet::new();
    npm_ls(
        &serde_json::from_str(
            &std::fs::read_to_string(dir.join("js-npm/truth.npm-ls-prod.json")).unwrap(),
        )
        .unwrap(),
        &mut prod,
    );
    let locked = declared("/js-npm/package-lock.json");
    assert_eq!(name_version(&locked), all);
    let dev: Vec<&Value> = locked
        .iter()
        .copied()
        .filter(|p| p["dev"] == true)
        .collect();
    let want_dev: BTreeSet<(String, String)> = all.difference(&prod).cloned().collect();
    assert_eq!(name_version(&dev), want_dev);
}

/// Every Python distribution `pip inspect` sees in each site directory of the final image,
/// with its version, installer and PEP 639 license, is one cairn record at that metadata
/// (a pypi package, or folded into the Debian package that owns all its files); and each
/// is introduced by the first layer after which `pip list` shows that version.
#[test]
fn python_distributions_match_pip_inspect_and_pip_list_per_layer() {
    let Some(sbom) = sbom() else { return };
    let dir = truth_dir().join("pip");
    // (metadata directory or egg-info file) -> (name, version, introduced_in, installer,
    // declared license) as cairn has it.
    let mut got: std::collections::BTreeMap<String, (String, String, Option<u64>, Value, Value)> =
        Default::default();
    let meta_dir = |path: &str| -> String {
        match path.rsplit_once('/') {
            Some((d, f)) if f == "METADATA" || f == "PKG-INFO" => d.to_owned(),
            _ => path.to_owned(),
        }
    };
    for p in sbom["packages"].as_array().unwrap() {
        if p["type"] == "pypi" && p["origin"] == "installed" {
            let at = p["evidence"]["locations"][0]["path"].as_str().unwrap();
            got.insert(
                meta_dir(at),
                (
                    p["name"].as_str().unwrap().to_lowercase(),
                    p["version"].as_str().unwrap().to_owned(),
                    p["evidence"]["introduced_in"].as_u64(),
                    p["metadata"]["installer"].clone(),
                    p["licenses"]["declared"].clone(),
                ),
            );
        }
        for m in p["evidence"]["merged"].as_array().into_iter().flatten() {
            if m["type"] == "pypi" {
                let at = m["locations"][0]["path"].as_str().unwrap();
                got.insert(
                    meta_dir(at),
                    (
                        m["name"].as_str().unwrap().to_lowercase(),
                        m["version"].as_str().unwrap().to_owned(),
                        p["evidence"]["introduced_in"].as_u64(),
                        Value::Null,
                        Value::Null,
                    ),
                );
            }
        }
    }
    let mut sites = 0;
    let mut want_paths = BTreeSet::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let Some(site) = name
            .strip_prefix("final.")
            .and_then(|n| n.strip_suffix(".inspect.json"))
        else {
            continue;
        };
        sites += 1;
        let inspect: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        for d in inspect["installed"].as_array().unwrap() {
            let m = &d["metadata"];
            let (name, version) = (
                m["name"].as_str().unwrap().to_lowercase(),
                m["version"].as_str().unwrap().to_owned(),
            );
            let at = d["metadata_location"].as_str().unwrap().to_owned();
            let rec = got
                .get(&at)
                .unwrap_or_else(|| panic!("{name} {version} at {at} is not in the SBOM"));
            assert_eq!((&rec.0, &rec.1), (&name, &version), "{at}");
            if rec.4 != Value::Null {
                if let Some(expr) = m["license_expression"].as_str() {
                    assert_eq!(rec.4, expr, "{at}");
                }
                assert_eq!(rec.3, d["installer"], "{at}");
            }
            // The first layer (1-based in the truth files) whose `pip list` has it.
            let first = (1..=9)
                .find(|n| {
                    let f = dir.join(format!("layer-{n}.{site}.list.json"));
                    let Ok(b) = std::fs::read(&f) else {
                        return false;
                    };
                    let list: Value = serde_json::from_slice(&b).unwrap();
                    list.as_array().unwrap().iter().any(|x| {
                        x["name"].as_str().unwrap().to_lowercase() == name
                            && x["version"] == version.as_str()
                    })
                })
                .unwrap();
            assert_eq!(rec.2, Some(first as u64 - 1), "{name} {version} at {at}");
            want_paths.insert(at);
        }
    }
    assert_eq!(sites, 4, "four site directories");
    let got_paths: BTreeSet<String> = got.keys().cloned().collect();
    assert_eq!(got_paths, want_paths, "cairn reports no other distribution");
}
