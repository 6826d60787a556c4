//! The same query tests against SQLite and a real PostgreSQL 15 (started on a free loopback
//! port by test-services). The images are the fixture family base-1, base-2, app-1 and
//! app-2 (real Debian packages; app-N is built FROM base-N), scanned here; every expected
//! answer is computed from their ground truth (`truth/final.tsv`, `dpkg-query -W` of each
//! final root filesystem) and their OCI configs, never written down by hand.

#[path = "../../../fixtures/require.rs"]
mod require;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use cairn_db::{Db, Identity, ImageRecord, PackageQuery, Vers};

const IMAGES: [(&str, &str, &str); 4] = [
    ("base-1", "registry.test/base", "1"),
    ("base-2", "registry.test/base", "2"),
    ("app-1", "registry.test/app", "1"),
    ("app-2", "registry.test/app", "2"),
];

fn fixture(name: &str) -> PathBuf {
    require::workspace_root().join("fixtures/images").join(name)
}

/// name → version, from `dpkg-query -W` of the image's root filesystem (which writes
/// `NAME:ARCH` for multi-arch packages).
fn truth(name: &str) -> BTreeMap<String, String> {
    let t = std::fs::read_to_string(fixture(name).join("truth/final.tsv")).unwrap();
    t.lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0].split(':').next().unwrap().to_owned(), f[1].to_owned())
        })
        .collect()
}

/// The diff ids of the image's layers, from its OCI config.
fn diff_ids(name: &str) -> Vec<String> {
    let dir = fixture(name).join("oci");
    let blob = |d: &str| {
        let p = dir
            .join("blobs/sha256")
            .join(d.trim_start_matches("sha256:"));
        serde_json::from_slice::<serde_json::Value>(&std::fs::read(p).unwrap()).unwrap()
    };
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let manifest = blob(index["manifests"][0]["digest"].as_str().unwrap());
    let config = blob(manifest["config"]["digest"].as_str().unwrap());
    config["rootfs"]["diff_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap().to_owned())
        .collect()
}

/// The scans, each with a scan time one minute after the one before, so that "latest" is
/// the second version of each repository.
fn records() -> Option<Vec<ImageRecord>> {
    if !require::require("fixtures/images", fixture("app-2").join("oci").exists()) {
        return None;
    }
    let mut out = Vec::new();
    for (i, (dir, repo, tag)) in IMAGES.iter().enumerate() {
        let spec =
            cairn_image::SourceSpec::parse(fixture(dir).join("oci").to_str().unwrap()).unwrap();
        let opts = cairn_catalog::Options {
            created: Some(format!("2026-12-0{}T00:00:00Z", i / 2 + 1)),
            ..Default::default()
        };
        let image = cairn_catalog::open(&spec, &opts).unwrap();
        let sbom = cairn_catalog::scan(&image, &opts).unwrap();
        let id = Identity {
            repository: Some(repo.to_string()),
            tag: Some(tag.to_string()),
        };
        out.push(ImageRecord::from_sbom(&sbom, &id).unwrap());
    }
    Some(out)
}

fn dpkg_hits(db: &mut Db, q: &str, latest: bool) -> BTreeSet<(String, String, String)> {
    db.packages(&q.parse().unwrap(), latest)
        .unwrap()
        .into_iter()
        .filter(|h| h.ecosystem == "deb")
        .map(|h| {
            (
                format!("{}:{}", h.image.repository, h.image.tag),
                h.name,
                h.version,
            )
        })
        .collect()
}

fn check(db: &mut Db) {
    let Some(recs) = records() else { return };
    let report = db.ingest(&recs).unwrap();
    assert_eq!((report.added, report.replaced, report.unchanged), (4, 0, 0));
    // Packages are shared: base-1's packages are stored once for base-1 and app-1.
    let counts = db.stats().unwrap().rows;
    let count = |t: &str| counts.iter().find(|c| c.0 == t).unwrap().1;
    let per_image: i64 = IMAGES.iter().map(|i| truth(i.0).len() as i64).sum();
    let distinct: BTreeSet<(String, String)> =
        IMAGES.iter().flat_map(|i| truth(i.0).into_iter()).collect();
    assert_eq!(count("images"), 4);
    assert_eq!(count("image_packages"), per_image);
    assert_eq!(count("packages"), distinct.len() as i64);
    let layers: BTreeSet<String> = IMAGES.iter().flat_map(|i| diff_ids(i.0)).collect();
    assert_eq!(count("layers"), layers.len() as i64);

    // Version ranges, for every package at every version any image has: the database's
    // answer from its sort keys equals dpkg's order applied to the ground truth.
    let truths: Vec<(String, BTreeMap<String, String>)> = IMAGES
        .iter()
        .map(|(d, r, t)| (format!("{r}:{t}"), truth(d)))
        .collect();
    let mut checked = 0;
    for (name, pivot) in &distinct {
        for op in ["<", "<=", ">", ">=", "="] {
            let q = format!("{name}{op}{pivot}");
            let range: PackageQuery = q.parse().unwrap();
            let want: BTreeSet<(String, String, String)> = truths
                .iter()
                .filter_map(|(img, t)| {
                    let v = t.get(name)?;
                    range
                        .range
                        .contains("deb", v)
                        .unwrap()
                        .then(|| (img.clone(), name.clone(), v.clone()))
                })
                .collect();
            assert_eq!(dpkg_hits(db, &q, false), want, "{q}");
            checked += 1;
        }
    }
    assert!(checked > 100, "{checked}");

    // The same through a purl and a vers range.
    let (name, v1) = distinct
        .iter()
        .find(|(n, v)| truths.iter().any(|(_, t)| t.get(n).is_some_and(|w| w != v)))
        .expect("a package whose version differs between the images")
        .clone();
    let q = format!("pkg:deb/debian/{name}")
        .parse::<PackageQuery>()
        .unwrap()
        .with_vers(format!("vers:deb/<={v1}").parse::<Vers>().unwrap())
        .unwrap();
    let got: BTreeSet<String> = db
        .packages(&q, false)
        .unwrap()
        .into_iter()
        .map(|h| h.version)
        .collect();
    let want: BTreeSet<String> = truths
        .iter()
        .filter_map(|(_, t)| t.get(&name).cloned())
        .filter(|v| {
            cairn_catalog::compare_versions("deb", v, &v1) != Some(std::cmp::Ordering::Greater)
        })
        .collect();
    assert_eq!(got, want, "{name} <= {v1}");
    assert!(!got.is_empty());

    // Latest per repository: only tag 2 of each (scanned a day later).
    let all = dpkg_hits(db, "base-files", false);
    let latest = dpkg_hits(db, "base-files", true);
    assert_eq!(all.len(), 4);
    let want: BTreeSet<_> = all
        .iter()
        .filter(|h| h.0.ends_with(":2"))
        .cloned()
        .collect();
    assert_eq!(latest, want);

    // Layer → images: exactly the images whose config lists the diff id, by diff id and by
    // the blob digest alike.
    for layer in &layers {
        let want: BTreeSet<String> = IMAGES
            .iter()
            .filter(|i| diff_ids(i.0).contains(layer))
            .map(|(_, r, t)| format!("{r}:{t}"))
            .collect();
        let hits = db.layer(layer, false).unwrap();
        let got: BTreeSet<String> = hits
            .iter()
            .map(|h| format!("{}:{}", h.image.repository, h.image.tag))
            .collect();
        assert_eq!(got, want, "{layer}");
        if let Some(blob) = hits[0].digest.clone() {
            let by_blob: BTreeSet<String> = db
                .layer(&blob, false)
                .unwrap()
                .iter()
                .map(|h| format!("{}:{}", h.image.repository, h.image.tag))
                .collect();
            assert_eq!(by_blob, want, "{blob}");
        }
    }
    // base-1's layers are app-1's first ones: stored once, found in both.
    assert_eq!(db.layer(&diff_ids("base-1")[0], false).unwrap().len(), 2);

    // Each image's SBOM comes back whole.
    for (rec, (_, repo, tag)) in recs.iter().zip(IMAGES) {
        let row = db.image(&format!("{repo}:{tag}")).unwrap();
        assert_eq!(row.digest, rec.digest);
        let doc = db.document(&row).unwrap();
        assert_eq!(serde_json::to_vec(&doc).unwrap(), rec.document());
    }
    // History of a repository, oldest first.
    let hist: Vec<String> = db
        .images("registry.test/app")
        .unwrap()
        .into_iter()
        .map(|r| r.tag)
        .collect();
    assert_eq!(hist, ["1", "2"]);

    // Drift app:1 → app:2 is the ground truth's difference, with dpkg's direction.
    let a = db.image("registry.test/app:1").unwrap();
    let b = db.image("registry.test/app:2").unwrap();
    let drift = db.drift(&a, &b).unwrap();
    let (ta, tb) = (truth("app-1"), truth("app-2"));
    let mut want = BTreeSet::new();
    for n in ta.keys().chain(tb.keys()) {
        let c = match (ta.get(n), tb.get(n)) {
            (Some(x), None) => format!("removed {x}"),
            (None, Some(y)) => format!("added {y}"),
            (Some(x), Some(y)) if x != y => {
                match cairn_catalog::compare_versions("deb", x, y).unwrap() {
                    std::cmp::Ordering::Less => format!("upgraded {x} {y}"),
                    _ => format!("downgraded {x} {y}"),
                }
            }
            _ => continue,
        };
        want.insert(format!("{n} {c}"));
    }
    let got: BTreeSet<String> = drift
        .changes
        .iter()
        .filter(|c| c.0 == "deb")
        .map(|(_, _, n, c)| {
            let c = serde_json::to_value(c).unwrap();
            let kind = c["change"].as_str().unwrap().to_owned();
            let vs: Vec<&str> = ["version", "from", "to"]
                .iter()
                .filter_map(|k| c[k].as_str())
                .collect();
            format!("{n} {kind} {}", vs.join(" "))
        })
        .collect();
    assert_eq!(got, want);
    assert!(!want.is_empty());

    // Idempotent: the same batch again changes nothing.
    let again = db.ingest(&recs).unwrap();
    assert_eq!((again.added, again.replaced, again.unchanged), (0, 0, 4));
    assert_eq!(db.stats().unwrap().rows, counts);

    // A rescan of one image version (a new document) replaces it: nothing doubled.
    let mut re = recs[2].clone();
    re.scanned_at = "2026-12-09T00:00:00Z".into();
    let doc = [re.document(), b" "].concat();
    let re = re.with_document(doc);
    let r = db.ingest(&[re]).unwrap();
    assert_eq!((r.added, r.replaced, r.unchanged), (0, 1, 0));
    let after = db.stats().unwrap().rows;
    let c = |t: &str| after.iter().find(|c| c.0 == t).unwrap().1;
    assert_eq!(c("image_packages"), per_image);
    assert_eq!(c("images"), 4);
    // Now app:1 is the repository's latest scan.
    let latest = dpkg_hits(db, "base-files", true);
    assert!(
        latest.iter().any(|h| h.0 == "registry.test/app:1"),
        "{latest:?}"
    );

    // Namespaced names as their ecosystems write them, from Syft's SBOM of the lang image.
    let p = require::workspace_root().join("fixtures/peers/lang.syft.cdx.json");
    let read = cairn_sbom::read(&std::fs::read(&p).unwrap()).unwrap();
    let id = Identity {
        repository: Some("peers/lang".into()),
        tag: Some("syft".into()),
    };
    db.ingest(&[ImageRecord::from_sbom(&read.sbom, &id).unwrap()])
        .unwrap();
    for (q, purl) in [
        ("@types/debug", "pkg:npm/%40types/debug@"),
        (
            "example.com/cairn/hello-go",
            "pkg:golang/example.com/cairn/hello-go@",
        ),
    ] {
        let hits = db.packages(&q.parse().unwrap(), false).unwrap();
        assert!(!hits.is_empty(), "{q}");
        assert!(
            hits.iter().all(|h| h.purl.starts_with(purl)),
            "{q}: {hits:?}"
        );
    }

    // Other tools' documents go in through the readers.
    for peer in ["demo.syft.spdx.json", "demo.trivy.cdx.json"] {
        let p = require::workspace_root().join("fixtures/peers").join(peer);
        let read = cairn_sbom::read(&std::fs::read(&p).unwrap()).unwrap();
        let id = Identity {
            repository: Some(format!("peers/{peer}")),
            tag: Some("demo".into()),
        };
        let rec = ImageRecord::from_sbom(&read.sbom, &id).unwrap();
        assert!(rec.packages.len() > 10, "{peer}");
        db.ingest(&[rec]).unwrap();
        let hits = db.packages(&"base-files".parse().unwrap(), false).unwrap();
        assert!(
            hits.iter()
                .any(|h| h.image.repository == format!("peers/{peer}")),
            "{peer}: {hits:?}"
        );
    }
}

#[test]
fn sqlite_answers_the_fleet_queries() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = Db::open(dir.path().join("fleet.db").to_str().unwrap()).unwrap();
    check(&mut db);
    // Reopening migrates nothing and keeps everything.
    drop(db);
    let mut db = Db::open(&format!("sqlite:{}", dir.path().join("fleet.db").display())).unwrap();
    assert_eq!(db.images("registry.test/app").unwrap().len(), 2);
}

#[test]
fn postgres_answers_the_same_fleet_queries() {
    let Some(pg) = test_services::Postgres::start_with(&["fsync=off"]) else {
        return;
    };
    let mut db = Db::open(&pg.url()).unwrap();
    assert!(db.is_postgres());
    check(&mut db);
    drop(db);
    let mut db = Db::open(&pg.url()).unwrap();
    assert_eq!(db.images("registry.test/app").unwrap().len(), 2);
}

#[test]
fn bad_urls_and_queries_are_refused() {
    assert!(Db::open("mysql://x").is_err());
    assert!(Db::open("sqlite:").is_err());
    for q in ["", "<1.0", "openssl<", "pkg:", "openssl>=1,2"] {
        assert!(q.parse::<PackageQuery>().is_err(), "{q:?}");
    }
    for v in [
        "vers:deb/",
        "vers:/<1",
        "deb/<1",
        "vers:deb/<1|<1",
        "vers:pypi/<not a version",
        "vers:deb/<%zz",
    ] {
        assert!(v.parse::<Vers>().is_err(), "{v:?}");
    }
    let many = format!(
        "vers:deb/{}",
        (0..65)
            .map(|i| format!("!={i}"))
            .collect::<Vec<_>>()
            .join("|")
    );
    assert!(many.parse::<Vers>().is_err());
}

/// PostgreSQL over TLS: a server that refuses plain TCP, its certificate signed by a CA of
/// the test's own. With `sslmode=require` and that CA, the same fleet queries pass; without
/// the CA the certificate is refused; without `sslmode` the server refuses the connection.
#[test]
fn postgres_over_tls_answers_the_same_fleet_queries() {
    let Some(pg) = test_services::Postgres::start_tls() else {
        return;
    };
    let url = format!("{}?sslmode=require", pg.url());
    let ca = pg.ca_file();
    let mut db = Db::open_with(&url, Some(&ca)).unwrap();
    check(&mut db);
    let e = Db::open(&url)
        .err()
        .expect("an unknown CA is refused")
        .to_string();
    assert!(e.to_lowercase().contains("certificate"), "{e}");
    assert!(Db::open(&pg.url()).is_err(), "plain TCP was accepted");
    let bad = std::env::temp_dir().join(format!("cairn-not-pem-{}", std::process::id()));
    std::fs::write(&bad, b"not a certificate").unwrap();
    assert!(Db::open_with(&url, Some(&bad)).is_err());
    let _ = std::fs::remove_file(&bad);
}
