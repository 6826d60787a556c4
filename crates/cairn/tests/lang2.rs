//! The Java, Ruby, PHP and .NET packages of the `lang2` fixture image
//! (fixtures/build-lang2-image.sh: Debian's jars, gems and PHP libraries, an application
//! built by Maven offline, gems installed by RubyGems, a vendor/ tree made by Composer,
//! PyPI's pythonnet) against the ground truth each ecosystem's own tool recorded: `mvn
//! dependency:list` and the jars' own pom.properties, RubyGems' `Gem::Specification.load`,
//! `composer show`, and the deps.json itself.

mod common;
use common::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;

fn image() -> PathBuf {
    root().join("fixtures/images/lang2")
}

fn truth(p: &str) -> String {
    std::fs::read_to_string(image().join("truth").join(p)).unwrap()
}

fn sbom() -> Option<Value> {
    let tar = image().join("docker-archive.tar");
    if !require(&tar.display().to_string(), tar.exists()) {
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

fn packages<'a>(sbom: &'a Value, ty: &str) -> Vec<&'a Value> {
    sbom["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["type"] == ty)
        .collect()
}

fn at<'a>(ps: &[&'a Value], path: &str) -> Vec<&'a Value> {
    ps.iter()
        .copied()
        .filter(|p| p["evidence"]["locations"][0]["path"] == path)
        .collect()
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// The merged (folded) language records of the OS packages.
fn merged(sbom: &Value, ty: &str) -> BTreeSet<(String, String)> {
    sbom["packages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| {
            p["evidence"]["merged"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter(|m| m["type"] == ty)
        .map(|m| (s(&m["name"]), s(&m["version"])))
        .collect()
}

#[test]
fn the_spring_boot_jar_holds_exactly_what_maven_resolved() {
    let Some(sbom) = sbom() else { return };
    let maven = packages(&sbom, "maven");
    let boot = at(&maven, "/opt/app/demo-app-1.4.2.jar");
    // mvn dependency:list: group:artifact:jar:version:scope
    let want: BTreeSet<String> = truth("java/mvn-dependency-list.txt")
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            format!("pkg:maven/{}/{}@{}", f[0], f[1], f[3])
        })
        .collect();
    let nested: BTreeSet<String> = boot
        .iter()
        .filter(|p| p["metadata"]["path-in-archive"].is_string())
        .map(|p| s(&p["purl"]))
        .collect();
    assert_eq!(nested, want);
    let app = boot
        .iter()
        .find(|p| p["metadata"]["path-in-archive"].is_null())
        .unwrap();
    assert_eq!(app["purl"], "pkg:maven/org.example.cairn/demo-app@1.4.2");
    assert_eq!(app["metadata"]["identified-by"], "pom.properties");
    // The pom's <licenses>, as SPDX.
    assert_eq!(app["licenses"]["declared"], "Apache-2.0");
    // Each nested jar is the application's child, and was introduced by the build step
    // that copied it (layer 3, 0-based 2).
    let rels = sbom["relationships"].as_array().unwrap();
    for p in boot
        .iter()
        .filter(|p| p["metadata"]["path-in-archive"].is_string())
    {
        assert!(
            rels.iter()
                .any(|r| r["from"] == app["id"] && r["to"] == p["id"] && r["kind"] == "contains"),
            "{}",
            p["id"]
        );
        assert_eq!(p["evidence"]["introduced_in"], 2);
    }
    // The nested jars are the Debian jars' own metadata.
    let poms = truth("java/pom-properties.txt");
    for p in &boot[..] {
        if p["metadata"]["path-in-archive"].is_string() {
            assert!(
                poms.contains(&format!("artifactId={}", s(&p["name"]))),
                "{}",
                p["name"]
            );
            assert!(poms.contains(&format!("version={}", s(&p["version"]))));
        }
    }
}

#[test]
fn nested_war_in_ear_shaded_copied_metadata_and_version_files() {
    let Some(sbom) = sbom() else { return };
    let maven = packages(&sbom, "maven");
    let ear: BTreeSet<(String, String, String)> = at(&maven, "/opt/app/demo.ear")
        .iter()
        .map(|p| {
            (
                s(&p["name"]),
                s(&p["version"]),
                s(&p["metadata"]["path-in-archive"]),
            )
        })
        .collect();
    assert_eq!(
        ear,
        [
            ("demo", "1.4.2", ""),
            ("demo-app", "1.4.2", "demo-web.war"),
            (
                "commons-cli",
                "1.5.0",
                "demo-web.war!/WEB-INF/lib/commons-cli-1.5.0.jar"
            ),
        ]
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect()
    );
    // Debian's surefire jar: its own identity, the modules it shades (their classes are
    // in it), and commons-io's copied metadata (no commons-io class is) as a note only.
    let surefire = at(&maven, "/opt/app/common-java5.jar");
    let names: BTreeSet<String> = surefire.iter().map(|p| s(&p["name"])).collect();
    assert_eq!(
        names,
        [
            "common-java5",
            "maven-shared-utils",
            "surefire-api",
            "surefire-logger-api"
        ]
        .map(String::from)
        .into()
    );
    assert!(
        truth("java/archives.txt").contains("META-INF/maven/commons-io/commons-io/pom.properties")
    );
    let top = surefire
        .iter()
        .find(|p| p["name"] == "common-java5")
        .unwrap();
    assert!(s(&top["metadata"]["not-shipped-1"]).starts_with("commons-io:commons-io:2.11.0"));
    for p in surefire.iter().filter(|p| p["name"] != "common-java5") {
        assert_eq!(p["metadata"]["shaded"], "true");
    }
    // No Maven metadata: the version file says what it is.
    let tool = at(&maven, "/opt/tools/uber-tool.jar");
    assert_eq!(tool.len(), 1);
    assert_eq!(tool[0]["version"], "2.3.1");
    assert_eq!(tool[0]["metadata"]["version-from"], "version.properties");
}

#[test]
fn debian_owned_jars_gems_and_the_jre_are_reported_once_as_the_deb() {
    let Some(sbom) = sbom() else { return };
    let all = sbom["packages"].as_array().unwrap();
    for p in all {
        let path = s(&p["evidence"]["locations"][0]["path"]);
        if p["type"] != "deb" {
            assert!(
                !path.starts_with("/usr/share/java/")
                    && !path.starts_with("/usr/share/rubygems-integration/")
                    && !path.starts_with("/usr/lib/jvm/"),
                "{} at {path} is owned by a deb",
                p["name"]
            );
        }
    }
    let maven = merged(&sbom, "maven");
    for (n, v) in [
        ("commons-lang3", "3.12.0"),
        ("guava", "31.1-jre"),
        ("commons-cli", "1.5.0"),
    ] {
        assert!(maven.contains(&(n.into(), v.into())), "{n} {maven:?}");
    }
    // RubyGems' own reading of Debian's gemspecs.
    let gems = merged(&sbom, "gem");
    for line in truth("ruby/usr_share_rubygems-integration_all.tsv").lines() {
        let f: Vec<&str> = line.split('\t').collect();
        assert!(gems.contains(&(f[0].into(), f[1].into())), "{line}");
    }
    let jre = all
        .iter()
        .find(|p| p["name"] == "openjdk-17-jre-headless")
        .unwrap();
    assert!(jre["evidence"]["merged"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["name"] == "openjdk"));
    // The runtime outside dpkg is a package of its own.
    let opt = all
        .iter()
        .find(|p| p["evidence"]["locations"][0]["path"] == "/opt/java/openjdk/release")
        .unwrap();
    assert_eq!(opt["name"], "openjdk");
    assert!(s(&jre["version"]).starts_with(&s(&opt["version"])));
}

#[test]
fn gems_in_a_gem_home_match_rubygems() {
    let Some(sbom) = sbom() else { return };
    let gems = packages(&sbom, "gem");
    let got: BTreeSet<(String, String, String, String)> = gems
        .iter()
        .map(|p| {
            (
                s(&p["name"]),
                s(&p["version"]),
                s(&p["licenses"]["declared"]),
                s(&p["evidence"]["locations"][0]["path"]),
            )
        })
        .collect();
    let want: BTreeSet<(String, String, String, String)> = truth("ruby/usr_local_bundle.tsv")
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0].into(), f[1].into(), f[2].into(), f[3].into())
        })
        .collect();
    assert_eq!(got, want);
    for p in &gems {
        assert_eq!(
            p["purl"],
            format!("pkg:gem/{}@{}", s(&p["name"]), s(&p["version"]))
        );
        assert_eq!(p["evidence"]["introduced_in"], 3);
    }
    // rack-protection depends on mustermann? No: on rack, which this GEM_HOME lacks; and
    // mustermann on ruby2_keywords, also absent. No edge is invented.
    let ids: BTreeSet<String> = gems.iter().map(|p| s(&p["id"])).collect();
    assert!(!sbom["relationships"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| ids.contains(&s(&r["from"]))
            && r["kind"] == "depends-on"
            && !ids.contains(&s(&r["to"]))));
}

#[test]
fn composer_packages_match_composer_show() {
    let Some(sbom) = sbom() else { return };
    let php = packages(&sbom, "composer");
    let show: Value = serde_json::from_str(&truth("php/composer-show.json")).unwrap();
    let no_dev: Value = serde_json::from_str(&truth("php/composer-show-no-dev.json")).unwrap();
    let names = |v: &Value| -> BTreeSet<(String, String)> {
        v["installed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (s(&p["name"]), s(&p["version"])))
            .collect()
    };
    let got: BTreeSet<(String, String)> = php
        .iter()
        .map(|p| (s(&p["name"]), s(&p["version"])))
        .collect();
    assert_eq!(got, names(&show));
    let prod: BTreeSet<(String, String)> = php
        .iter()
        .filter(|p| p["dev"] != true)
        .map(|p| (s(&p["name"]), s(&p["version"])))
        .collect();
    assert_eq!(prod, names(&no_dev));
    for p in &php {
        assert_eq!(p["licenses"]["declared"], "MIT");
        assert_eq!(
            p["evidence"]["locations"][0]["path"],
            "/srv/php-app/vendor/composer/installed.json"
        );
        let (vendor, name) = s(&p["name"])
            .split_once('/')
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .unwrap();
        assert_eq!(
            p["purl"],
            format!("pkg:composer/{vendor}/{name}@{}", s(&p["version"]))
        );
    }
}

#[test]
fn dotnet_packages_are_the_deps_json_runtime_target() {
    let Some(sbom) = sbom() else { return };
    let nuget = packages(&sbom, "nuget");
    let deps: Value = serde_json::from_str(&truth("dotnet/Python.Runtime.deps.json")).unwrap();
    let target = deps["runtimeTarget"]["name"].as_str().unwrap();
    let entries = deps["targets"][target].as_object().unwrap();
    let want: BTreeSet<(String, String)> = deps["libraries"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, v)| {
            entries.contains_key(*k) && (v["type"] == "package" || v["type"] == "project")
        })
        .map(|(k, _)| {
            let (n, v) = k.split_once('/').unwrap();
            (n.to_owned(), v.to_owned())
        })
        .collect();
    let deps_path =
        "/usr/local/lib/python3.11/site-packages/pythonnet/runtime/Python.Runtime.deps.json";
    let got: BTreeSet<(String, String)> = at(&nuget, deps_path)
        .iter()
        .map(|p| (s(&p["name"]), s(&p["version"])))
        .collect();
    assert_eq!(got, want);
    assert!(!want.is_empty());
    // The assembly beside its deps.json is not reported a second time; the ones with no
    // deps.json are, from their version resource.
    assert!(at(
        &nuget,
        "/usr/local/lib/python3.11/site-packages/pythonnet/runtime/Python.Runtime.dll"
    )
    .is_empty());
    for dll in truth("dotnet/assemblies.txt")
        .lines()
        .filter(|l| l.contains("ClrLoader"))
    {
        let found = at(&nuget, dll);
        assert_eq!(found.len(), 1, "{dll}");
        assert_eq!(found[0]["name"], "ClrLoader");
        assert!(!s(&found[0]["version"]).is_empty());
    }
}

/// Syft 1.18's SPDX of the same image (fixtures/peers/lang2.syft.spdx.json, made by
/// fixtures/build-peer-sboms.sh): every Java, Ruby, PHP and .NET package it finds, cairn
/// finds too — as the same package, as a record folded into the OS package that owns its
/// files, as copied Maven metadata it found not shipped, or as the package at the same file
/// identified from better evidence — and cairn finds the deps.json packages Syft misses.
#[test]
fn every_package_syft_finds_cairn_finds_or_explains() {
    let Some(sbom) = sbom() else { return };
    let peer = root().join("fixtures/peers/lang2.syft.spdx.json");
    if !require(&peer.display().to_string(), peer.exists()) {
        return;
    }
    let syft: Value = serde_json::from_str(&std::fs::read_to_string(peer).unwrap()).unwrap();
    let ours = sbom["packages"].as_array().unwrap();
    let purl_type = |p: &str| {
        p.trim_start_matches("pkg:")
            .split('/')
            .next()
            .unwrap_or("")
            .to_owned()
    };
    let path_of = |p: &Value| s(&p["evidence"]["locations"][0]["path"]);
    let dir = |p: &str| {
        p.rsplit_once('/')
            .map_or(String::new(), |(d, _)| d.to_owned())
    };
    let mut same_file = BTreeSet::new();
    let mut theirs_types = BTreeSet::new();
    for p in syft["packages"].as_array().unwrap() {
        let Some(purl) = p["externalRefs"]
            .as_array()
            .and_then(|r| r.iter().find(|r| r["referenceType"] == "purl"))
            .map(|r| s(&r["referenceLocator"]))
        else {
            continue;
        };
        let ty = purl_type(&purl);
        if !["maven", "gem", "composer", "nuget", "generic"].contains(&ty.as_str()) {
            continue;
        }
        theirs_types.insert(ty.clone());
        let (name, version) = (s(&p["name"]), s(&p["versionInfo"]));
        let path = s(&p["sourceInfo"])
            .rsplit(": ")
            .next()
            .unwrap_or_default()
            .to_owned();
        let ty = if ty == "generic" {
            "generic".to_owned()
        } else {
            ty
        };
        if ours.iter().any(|q| {
            q["type"] == ty.as_str()
                && q["name"] == name.as_str()
                && q["version"] == version.as_str()
        }) {
            continue;
        }
        if ours.iter().any(|q| {
            q["evidence"]["merged"].as_array().is_some_and(|m| {
                m.iter().any(|m| {
                    m["type"] == ty.as_str()
                        && m["name"] == name.as_str()
                        && m["version"] == version.as_str()
                })
            })
        }) {
            continue; // folded into the deb that owns the file
        }
        if ours.iter().any(|q| {
            path_of(q) == path
                && q["metadata"].as_object().is_some_and(|m| {
                    m.iter().any(|(k, v)| {
                        k.starts_with("not-shipped-")
                            && s(v).contains(&format!(":{name}:{version} "))
                    })
                })
        }) {
            continue; // Maven metadata without the library's classes
        }
        let here = ours.iter().any(|q| {
            q["type"] == ty.as_str()
                && (path_of(q) == path
                    || (q["name"] == name.as_str() && dir(&path_of(q)) == dir(&path)))
        });
        assert!(
            here,
            "Syft's {purl} at {path} has no counterpart in cairn's SBOM"
        );
        same_file.insert(format!("{name} {version}"));
    }
    // The packages cairn identifies at the same file from better evidence, one by one:
    // the runtime's JAVA_VERSION (Syft: the runtime version string), the war by its own
    // pom.properties (Syft: its file name, no version), the tool jar by its
    // version.properties (Syft: no version), assemblies by ProductVersion (Syft: the
    // four-part FileVersion), and Python.Runtime.dll by the deps.json beside it.
    let want: BTreeSet<String> = [
        "openjdk 17.0.21.1+2-1-deb12u1-Debian",
        "demo-web UNKNOWN",
        "uber-tool UNKNOWN",
        "ClrLoader 1.0.0.0",
        "Python.Runtime 3.2.1.0",
    ]
    .map(String::from)
    .into();
    let same_file: BTreeSet<String> = same_file
        .into_iter()
        .map(|s| s.replace("  ", " "))
        .collect();
    assert_eq!(same_file, want);
    assert!(
        theirs_types.contains("maven")
            && theirs_types.contains("gem")
            && theirs_types.contains("composer")
    );
    // What Syft misses: the deps.json's NuGet packages.
    let syft_names: BTreeSet<String> = syft["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| s(&p["name"]))
        .collect();
    assert!(packages(&sbom, "nuget")
        .iter()
        .any(|p| !syft_names.contains(&s(&p["name"]))));
}

/// `dir:` scans of a Bundler and a Composer project (fixtures/lang/build-dir-lang2.sh):
/// Gemfile.lock's gems are what `bundle list` lists, with their dependency edges;
/// composer.lock's packages are what `composer show --locked` lists, dev ones marked.
#[test]
fn declared_gems_and_composer_packages_match_their_tools() {
    let dir = root().join("fixtures/lang/dir");
    if !require(
        &dir.display().to_string(),
        dir.join("ruby-bundler/Gemfile.lock").exists(),
    ) {
        return;
    }
    let scan = |sub: &str| -> Value {
        let out = cairn(&[
            "sbom",
            &format!("dir:{}", dir.join(sub).display()),
            "-q",
            "-o",
            "json",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let ruby = scan("ruby-bundler");
    let gems = packages(&ruby, "gem");
    let got: BTreeSet<(String, String)> = gems
        .iter()
        .map(|p| (s(&p["name"]), s(&p["version"])))
        .collect();
    let want: BTreeSet<(String, String)> =
        std::fs::read_to_string(dir.join("ruby-bundler/truth.bundle-list.txt"))
            .unwrap()
            .lines()
            .filter_map(|l| l.trim().strip_prefix("* "))
            .map(|l| {
                let (n, v) = l.split_once(" (").unwrap();
                (n.to_owned(), v.trim_end_matches(')').to_owned())
            })
            .collect();
    assert_eq!(got, want);
    assert!(gems.iter().all(|p| p["origin"] == "declared"));
    let id = |n: &str| s(&gems.iter().find(|p| p["name"] == n).unwrap()["id"]);
    let rels = ruby["relationships"].as_array().unwrap();
    for (from, to) in [
        ("rack-protection", "rack"),
        ("mustermann", "ruby2_keywords"),
    ] {
        assert!(
            rels.iter().any(|r| r["from"] == id(from).as_str()
                && r["to"] == id(to).as_str()
                && r["kind"] == "depends-on"),
            "{from} -> {to}"
        );
    }
    let php = scan("php-composer");
    let pkgs = packages(&php, "composer");
    let show = |f: &str| -> BTreeSet<(String, String)> {
        let v: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join("php-composer").join(f)).unwrap(),
        )
        .unwrap();
        v["locked"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (s(&p["name"]), s(&p["version"])))
            .collect()
    };
    let got: BTreeSet<(String, String)> = pkgs
        .iter()
        .map(|p| (s(&p["name"]), s(&p["version"])))
        .collect();
    assert_eq!(got, show("truth.composer-show-locked.json"));
    let prod: BTreeSet<(String, String)> = pkgs
        .iter()
        .filter(|p| p["dev"] != true)
        .map(|p| (s(&p["name"]), s(&p["version"])))
        .collect();
    assert_eq!(prod, show("truth.composer-show-locked-no-dev.json"));
    assert!(pkgs.iter().all(|p| p["origin"] == "declared"));
}

/// `cairn explain` of a jar nested in an archive names the archive, the path inside it, and
/// the build step that put it there.
#[test]
fn explain_names_the_path_inside_the_archive() {
    let tar = image().join("docker-archive.tar");
    if !require(&tar.display().to_string(), tar.exists()) {
        return;
    }
    let out = cairn(&["explain", tar.to_str().unwrap(), "commons-lang3", "-q"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains(
            "/opt/app/demo-app-1.4.2.jar!/BOOT-INF/lib/commons-lang3-3.12.0.jar (layer 2)"
        ),
        "{text}"
    );
    assert!(text.contains("mvn -o package"), "{text}");
    let out = cairn(&[
        "explain",
        tar.to_str().unwrap(),
        "commons-lang3",
        "-q",
        "--json",
    ]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["path_in_archive"] == "BOOT-INF/lib/commons-lang3-3.12.0.jar"));
}
