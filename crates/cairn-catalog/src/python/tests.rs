//! The cataloger over views built in memory from tar layers of the real files in
//! `testdata/`.

use super::*;
use cairn_image::fuzzing::scan_layers;
use cairn_image::{Limits, ScanOptions};
use cairn_sbom::RelationshipKind;
use tar::{EntryType, Header};

/// A file of `testdata/`, for every test of this module.
pub(crate) fn testdata(path: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/src/python/testdata/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// A layer: (path in the image, contents). A `.wh.` name is a whiteout.
fn tar(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in entries {
        let mut h = Header::new_gnu();
        h.set_entry_type(EntryType::Regular);
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        b.append_data(&mut h, name, &data[..]).unwrap();
    }
    b.into_inner().unwrap()
}

/// The real files of a dist-info (or egg-info) directory of testdata, under `site`.
fn dist(site: &str, dir: &str, names: &[&str]) -> Vec<(String, Vec<u8>)> {
    let info = dir.rsplit('/').next().unwrap();
    names
        .iter()
        .map(|n| {
            (
                format!("{site}/{info}/{n}"),
                testdata(&format!("{dir}/{n}")),
            )
        })
        .collect()
}

fn layer(entries: Vec<(String, Vec<u8>)>) -> Vec<u8> {
    let refs: Vec<(&str, Vec<u8>)> = entries
        .iter()
        .map(|(p, d)| (p.as_str(), d.clone()))
        .collect();
    tar(&refs)
}

fn scan(layers: &[&[u8]], kind: SourceKind) -> Findings {
    let opts = ScanOptions {
        extractors: Python.extractors(),
        ..ScanOptions::default()
    };
    let view = scan_layers(layers, &opts).unwrap();
    catalog_view(&view, kind, &ScanBudget::new(&Limits::default()))
}

const DEB: &str = "usr/lib/python3/dist-packages";
const LOCAL: &str = "usr/local/lib/python3.11/site-packages";
const VENV: &str = "opt/app/venv/lib/python3.11/site-packages";

fn image() -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let mut l0 = Vec::new();
    // Debian's packages: egg-info directories in dist-packages.
    l0.extend(dist(
        DEB,
        "debian/six-1.16.0.egg-info",
        &["PKG-INFO", "top_level.txt"],
    ));
    l0.extend(dist(
        DEB,
        "debian/PyGObject-3.42.2.egg-info",
        &["PKG-INFO", "requires.txt", "top_level.txt"],
    ));
    l0.push((DEB.to_owned() + "/six.py", b"# six\n".to_vec()));
    // distutils' egg-info file.
    l0.push((
        "usr/lib/python2.7/lib-dynload/Python-2.7.18-py2.7.egg-info".into(),
        testdata("egg/Python-2.7.18-py2.7.egg-info"),
    ));
    // A second site-packages of the system Python: an easy_install egg.
    l0.extend(dist(
        &format!("{LOCAL}/six-1.16.0-py3.11.egg"),
        "egg/six-1.16.0-py3.11.egg/EGG-INFO",
        &["PKG-INFO", "top_level.txt"],
    ));
    l0.push((
        format!("{LOCAL}/six-1.16.0-py3.11.egg/six.py"),
        b"# six\n".to_vec(),
    ));
    // Files named like metadata outside a metadata directory describe nothing.
    l0.push((
        "opt/app/src/METADATA".into(),
        b"Name: decoy\nVersion: 1\n".to_vec(),
    ));
    l0.push((
        "opt/app/docs/PKG-INFO".into(),
        b"Name: decoy\nVersion: 1\n".to_vec(),
    ));
    l0.push((
        "opt/app/requirements.txt".into(),
        b"flask==3.0.0\n".to_vec(),
    ));

    // A virtual environment, as pip installed it.
    let mut l1 = Vec::new();
    l1.extend(dist(
        VENV,
        "site-packages/requests-2.32.3.dist-info",
        &[
            "METADATA",
            "RECORD",
            "INSTALLER",
            "direct_url.json",
            "top_level.txt",
        ],
    ));
    for f in ["__init__.py", "api.py"] {
        l1.push((format!("{VENV}/requests/{f}"), b"# requests\n".to_vec()));
    }
    l1.extend(dist(
        VENV,
        "site-packages/charset_normalizer-3.4.0.dist-info",
        &["METADATA", "RECORD", "INSTALLER"],
    ));
    l1.push(("opt/app/venv/bin/normalizer".into(), b"#!python\n".to_vec()));
    for d in ["idna-3.10", "certifi-2024.8.30", "urllib3-2.2.3"] {
        l1.extend(dist(
            VENV,
            &format!("site-packages/{d}.dist-info"),
            &["METADATA"],
        ));
    }
    // A legacy install with installed-files.txt.
    l1.extend(dist(
        VENV,
        "egg/six-1.16.0-py3.11.egg-info",
        &["PKG-INFO", "installed-files.txt", "top_level.txt"],
    ));
    l1.push((format!("{VENV}/six.py"), b"# six\n".to_vec()));

    // An upgrade: pip removes the old dist-info and writes the new one; a file of
    // requests is patched in place.
    let l2 = vec![
        (format!("{VENV}/.wh.urllib3-2.2.3.dist-info"), Vec::new()),
        (
            format!("{VENV}/urllib3-2.5.0.dist-info/METADATA"),
            testdata("site-packages/urllib3-2.5.0.dist-info/METADATA"),
        ),
        (format!("{VENV}/requests/api.py"), b"# patched\n".to_vec()),
    ];
    (layer(l0), layer(l1), layer(l2))
}

#[test]
fn every_installed_form_in_every_environment() {
    let (l0, l1, l2) = image();
    let found = scan(&[&l0, &l1, &l2], SourceKind::DockerArchive);
    assert!(found.warnings.list.is_empty(), "{:?}", found.warnings.list);
    /// purl, metadata path, its layer, the introducing layer, the declared license.
    type Row = (String, String, usize, Option<usize>, Option<String>);
    let mut got: Vec<Row> = found
        .packages
        .iter()
        .map(|p| {
            (
                p.purl.clone(),
                p.evidence.locations[0].path.clone(),
                p.evidence.locations[0].layer,
                p.evidence.introduced_in,
                p.licenses.declared.clone(),
            )
        })
        .collect();
    got.sort();
    let s = |x: &str| x.to_owned();
    let want = vec![
        (
            s("pkg:pypi/certifi@2024.8.30"),
            format!("/{VENV}/certifi-2024.8.30.dist-info/METADATA"),
            1,
            Some(1),
            Some(s("MPL-2.0")),
        ),
        (
            s("pkg:pypi/charset-normalizer@3.4.0"),
            format!("/{VENV}/charset_normalizer-3.4.0.dist-info/METADATA"),
            1,
            Some(1),
            Some(s("MIT")),
        ),
        (
            s("pkg:pypi/idna@3.10"),
            format!("/{VENV}/idna-3.10.dist-info/METADATA"),
            1,
            Some(1),
            Some(s("LicenseRef-BSD-License")),
        ),
        (
            s("pkg:pypi/pygobject@3.42.2"),
            format!("/{DEB}/PyGObject-3.42.2.egg-info/PKG-INFO"),
            0,
            Some(0),
            Some(s("LGPL-2.0-or-later")),
        ),
        (
            s("pkg:pypi/python@2.7.18"),
            s("/usr/lib/python2.7/lib-dynload/Python-2.7.18-py2.7.egg-info"),
            0,
            Some(0),
            Some(s("PSF-2.0")),
        ),
        (
            s("pkg:pypi/requests@2.32.3"),
            format!("/{VENV}/requests-2.32.3.dist-info/METADATA"),
            1,
            Some(1),
            Some(s("Apache-2.0")),
        ),
        (
            s("pkg:pypi/six@1.16.0"),
            format!("/{VENV}/six-1.16.0-py3.11.egg-info/PKG-INFO"),
            1,
            Some(1),
            Some(s("MIT")),
        ),
        (
            s("pkg:pypi/six@1.16.0"),
            format!("/{DEB}/six-1.16.0.egg-info/PKG-INFO"),
            0,
            Some(0),
            Some(s("MIT")),
        ),
        (
            s("pkg:pypi/six@1.16.0"),
            format!("/{LOCAL}/six-1.16.0-py3.11.egg/EGG-INFO/PKG-INFO"),
            0,
            Some(0),
            Some(s("MIT")),
        ),
        (
            s("pkg:pypi/urllib3@2.5.0"),
            format!("/{VENV}/urllib3-2.5.0.dist-info/METADATA"),
            2,
            Some(2),
            Some(s("MIT")),
        ),
    ];
    assert_eq!(got, want);
    for p in &found.packages {
        assert_eq!((p.kind.as_str(), p.cataloger.as_str()), ("pypi", "python"));
        assert_eq!(p.origin, Origin::Installed);
        assert_eq!(p.id, format!("{}#{}", p.purl, p.evidence.locations[0].path));
    }
    let by = |purl: &str, at: &str| {
        found
            .packages
            .iter()
            .find(|p| p.purl == purl && p.evidence.locations[0].path.contains(at))
            .unwrap()
    };

    // The upgrade: the new version, introduced by the layer that wrote it, and what it
    // replaced.
    let u = by("pkg:pypi/urllib3@2.5.0", VENV);
    assert_eq!(u.evidence.changes.len(), 1);
    assert_eq!(
        u.evidence.changes[0].kind,
        PackageChangeKind::VersionChanged
    );
    assert_eq!(u.evidence.changes[0].from_version.as_deref(), Some("2.2.3"));
    assert_eq!(u.evidence.changes[0].layer, 2);

    // requests: its RECORD files, resolved under site-packages, with pip's digests and the
    // layer of each; the file a later layer patched is a change.
    let r = by("pkg:pypi/requests@2.32.3", VENV);
    assert_eq!(r.name, "requests");
    // Every one of RECORD's 44 rows.
    assert_eq!(r.files.len(), 44);
    assert!(!r.files_truncated);
    let init = r
        .files
        .iter()
        .find(|f| f.path == format!("/{VENV}/requests/__init__.py"))
        .unwrap();
    assert_eq!(init.layer, Some(1));
    assert_eq!(init.digest.as_ref().unwrap().algorithm, "sha256");
    assert_eq!(init.digest.as_ref().unwrap().value.len(), 64);
    let api = r
        .files
        .iter()
        .find(|f| f.path.ends_with("requests/api.py"))
        .unwrap();
    assert_eq!(api.layer, Some(2));
    let installer = r
        .files
        .iter()
        .find(|f| f.path.ends_with("dist-info/INSTALLER"))
        .unwrap();
    assert_eq!(installer.layer, Some(1));
    // Listed but not in the image (the .pyc files pip compiled were left out here).
    assert!(r
        .files
        .iter()
        .any(|f| f.path.ends_with(".pyc") && f.layer.is_none()));
    assert_eq!(
        r.evidence
            .changes
            .iter()
            .map(|c| (c.layer, c.kind, c.paths.clone()))
            .collect::<Vec<_>>(),
        vec![(
            2,
            PackageChangeKind::FilesModified,
            vec![format!("/{VENV}/requests/api.py")]
        )]
    );
    let locs: Vec<&str> = r
        .evidence
        .locations
        .iter()
        .map(|l| l.path.rsplit('/').next().unwrap())
        .collect();
    assert_eq!(
        locs,
        vec![
            "METADATA",
            "RECORD",
            "INSTALLER",
            "direct_url.json",
            "top_level.txt"
        ]
    );
    assert_eq!(r.metadata["installer"], "pip");
    assert_eq!(r.metadata["summary"], "Python HTTP for Humans.");
    assert_eq!(r.metadata["homepage"], "https://requests.readthedocs.io");
    assert_eq!(r.metadata["site_packages"], format!("/{VENV}"));
    assert_eq!(
        r.metadata["direct_url"],
        "file:///tmp/pyt/dl/requests-2.32.3-py3-none-any.whl"
    );
    assert_eq!(r.metadata["top_level"], "requests");

    // A script RECORD lists outside site-packages.
    let c = by("pkg:pypi/charset-normalizer@3.4.0", VENV);
    assert!(c
        .files
        .iter()
        .any(|f| f.path == "/opt/app/venv/bin/normalizer" && f.layer == Some(1)));

    // installed-files.txt is relative to the egg-info directory.
    let six_venv = by("pkg:pypi/six@1.16.0", VENV);
    let paths: Vec<(&str, Option<usize>)> = six_venv
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.layer))
        .collect();
    assert!(paths.contains(&(&format!("/{VENV}/six.py"), Some(1))));
    assert!(paths.contains(&(
        &format!("/{VENV}/six-1.16.0-py3.11.egg-info/PKG-INFO"),
        Some(1)
    )));
    // An egg owns every file in it.
    let egg = by("pkg:pypi/six@1.16.0", LOCAL);
    assert_eq!(
        egg.files
            .iter()
            .map(|f| f.path.as_str())
            .collect::<Vec<_>>(),
        vec![
            format!("/{LOCAL}/six-1.16.0-py3.11.egg/EGG-INFO/PKG-INFO"),
            format!("/{LOCAL}/six-1.16.0-py3.11.egg/EGG-INFO/top_level.txt"),
            format!("/{LOCAL}/six-1.16.0-py3.11.egg/six.py"),
        ]
    );

    // Requirements resolve in the distribution's own site-packages: requests' four to the
    // venv's, urllib3 to the upgraded one. PyGObject's pycairo is not installed.
    let mut edges: Vec<(String, String)> = found
        .relationships
        .iter()
        .map(|rel| {
            assert_eq!(rel.kind, RelationshipKind::DependsOn);
            let name = |id: &str| id.split('#').next().unwrap().to_owned();
            (name(&rel.from), name(&rel.to))
        })
        .collect();
    edges.sort();
    assert_eq!(
        edges,
        vec![
            (
                s("pkg:pypi/requests@2.32.3"),
                s("pkg:pypi/certifi@2024.8.30")
            ),
            (
                s("pkg:pypi/requests@2.32.3"),
                s("pkg:pypi/charset-normalizer@3.4.0")
            ),
            (s("pkg:pypi/requests@2.32.3"), s("pkg:pypi/idna@3.10")),
            (s("pkg:pypi/requests@2.32.3"), s("pkg:pypi/urllib3@2.5.0")),
        ]
    );
    let to_urllib3 = found
        .relationships
        .iter()
        .find(|rel| rel.to.starts_with("pkg:pypi/urllib3"))
        .unwrap();
    assert_eq!(to_urllib3.from, r.id);
    assert_eq!(to_urllib3.to, u.id);
}

#[test]
fn requirements_resolve_across_a_system_pythons_site_directories() {
    // requests in /usr/local, its requirements in Debian's dist-packages: one system
    // Python sees both. A venv's distribution does not reach into the system.
    let mut l0 = dist(
        LOCAL,
        "site-packages/requests-2.32.3.dist-info",
        &["METADATA"],
    );
    l0.extend(dist(
        DEB,
        "site-packages/idna-3.10.dist-info",
        &["METADATA"],
    ));
    l0.extend(dist(
        VENV,
        "site-packages/requests-2.32.3.dist-info",
        &["METADATA"],
    ));
    let found = scan(&[&layer(l0)], SourceKind::OciDir);
    let edges: Vec<(&str, &str)> = found
        .relationships
        .iter()
        .map(|r| (r.from.as_str(), r.to.as_str()))
        .collect();
    assert_eq!(
        edges,
        vec![(
            &*format!("pkg:pypi/requests@2.32.3#/{LOCAL}/requests-2.32.3.dist-info/METADATA"),
            &*format!("pkg:pypi/idna@3.10#/{DEB}/idna-3.10.dist-info/METADATA")
        )]
    );
}

#[test]
fn lock_files_are_declared_packages_in_dir_scans_only() {
    let mut l0: Vec<(String, Vec<u8>)> = [
        "poetry.lock",
        "uv.lock",
        "Pipfile.lock",
        "pylock.toml",
        "requirements.txt",
    ]
    .iter()
    .map(|n| (format!("src/{n}"), testdata(&format!("locks/{n}"))))
    .collect();
    l0.push((
        "src/requirements-dev.txt".into(),
        b"iniconfig==2.0.0\n".to_vec(),
    ));
    let l0 = layer(l0);
    assert!(scan(&[&l0], SourceKind::DockerArchive).packages.is_empty());
    let found = scan(&[&l0], SourceKind::Dir);
    assert!(found.warnings.list.is_empty(), "{:?}", found.warnings.list);
    let mut got: Vec<(String, String, bool)> = found
        .packages
        .iter()
        .map(|p| {
            assert_eq!(p.origin, Origin::Declared);
            (p.evidence.locations[0].path.clone(), p.purl.clone(), p.dev)
        })
        .collect();
    got.sort();
    let dev_in = |file: &str| -> Vec<(String, String, bool)> {
        let dev_known = ["poetry.lock", "uv.lock", "Pipfile.lock"].contains(&file);
        [
            ("pkg:pypi/idna@3.10", false),
            ("pkg:pypi/iniconfig@2.0.0", dev_known),
            ("pkg:pypi/python-dateutil@2.9.0.post0", false),
            ("pkg:pypi/six@1.17.0", false),
        ]
        .iter()
        .map(|(p, d)| (format!("/src/{file}"), p.to_string(), *d))
        .collect()
    };
    let mut want = Vec::new();
    for f in [
        "Pipfile.lock",
        "poetry.lock",
        "pylock.toml",
        "requirements.txt",
        "uv.lock",
    ] {
        want.extend(dev_in(f));
    }
    want.push((
        "/src/requirements-dev.txt".into(),
        "pkg:pypi/iniconfig@2.0.0".into(),
        true,
    ));
    want.sort();
    assert_eq!(got, want);
    // Lines of requirements entries; dependencies within a lock file.
    let six_req = found
        .packages
        .iter()
        .find(|p| p.purl == "pkg:pypi/six@1.17.0" && p.id.ends_with("requirements.txt"))
        .unwrap();
    assert_eq!(six_req.evidence.locations[0].lines, Some((8, 8)));
    let edges: Vec<(&str, &str)> = found
        .relationships
        .iter()
        .map(|r| (r.from.as_str(), r.to.as_str()))
        .collect();
    for lock in ["poetry.lock", "uv.lock"] {
        let from = format!("pkg:pypi/python-dateutil@2.9.0.post0#/src/{lock}");
        let to = format!("pkg:pypi/six@1.17.0#/src/{lock}");
        assert!(edges.contains(&(from.as_str(), to.as_str())), "{edges:?}");
    }
}

#[test]
fn damaged_and_oversized_metadata_are_warnings_naming_the_file() {
    let big = vec![b'x'; (MAX_MANIFEST + 1) as usize];
    let record = testdata("site-packages/requests-2.32.3.dist-info/RECORD");
    let truncated_record = record[..record.len() - 40].to_vec();
    let l0 = layer(vec![
        (
            format!("{VENV}/bin-0.1.dist-info/METADATA"),
            b"\x7fELF\x02\x01\x01\x00".to_vec(),
        ),
        (
            format!("{VENV}/noversion-1.dist-info/METADATA"),
            b"Metadata-Version: 2.1\nName: noversion\n".to_vec(),
        ),
        (format!("{VENV}/huge-1.dist-info/METADATA"), big),
        (
            format!("{VENV}/requests-2.32.3.dist-info/METADATA"),
            testdata("site-packages/requests-2.32.3.dist-info/METADATA"),
        ),
        (
            format!("{VENV}/requests-2.32.3.dist-info/RECORD"),
            truncated_record,
        ),
        (
            format!("{VENV}/latin1-1.0.dist-info/METADATA"),
            b"Name: latin1\nVersion: 1.0\nAuthor: Ren\xe9\n".to_vec(),
        ),
        (
            format!("{VENV}/x-1.dist-info/direct_url.json"),
            b"{\"url\":".to_vec(),
        ),
    ]);
    let opts = ScanOptions {
        extractors: Python.extractors(),
        ..ScanOptions::default()
    };
    let view = scan_layers(&[&l0], &opts).unwrap();
    // The oversized file was refused unread: the metadata extractor read only the others.
    let stats = view
        .extract_stats()
        .iter()
        .find(|s| s.name == METADATA)
        .unwrap()
        .clone();
    assert!(stats.bytes < 20_000, "{stats:?}");
    let found = catalog_view(
        &view,
        SourceKind::DockerArchive,
        &ScanBudget::new(&Limits::default()),
    );
    let names: Vec<&str> = found.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, vec!["latin1", "requests"]);
    /// The file (its directory's name and its own), kind, incomplete, lines.
    type Row = (String, WarningKind, bool, Option<(usize, usize)>);
    let mut w: Vec<Row> = found
        .warnings
        .list
        .iter()
        .map(|w| {
            (
                w.path
                    .clone()
                    .unwrap()
                    .rsplit('/')
                    .nth(1)
                    .unwrap()
                    .to_owned()
                    + "/"
                    + w.path.as_deref().unwrap().rsplit('/').next().unwrap(),
                w.kind,
                w.incomplete,
                w.lines,
            )
        })
        .collect();
    w.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        w,
        vec![
            (
                s("bin-0.1.dist-info/METADATA"),
                WarningKind::Malformed,
                true,
                None
            ),
            (
                s("huge-1.dist-info/METADATA"),
                WarningKind::Limit,
                true,
                None
            ),
            (
                s("latin1-1.0.dist-info/METADATA"),
                WarningKind::Malformed,
                false,
                None
            ),
            (
                s("noversion-1.dist-info/METADATA"),
                WarningKind::Malformed,
                true,
                None
            ),
            (
                s("requests-2.32.3.dist-info/RECORD"),
                WarningKind::Malformed,
                true,
                Some((44, 44))
            ),
            (
                s("x-1.dist-info/direct_url.json"),
                WarningKind::Malformed,
                true,
                None
            ),
        ]
    );
    // The 43 intact rows of the truncated RECORD.
    let r = found
        .packages
        .iter()
        .find(|p| p.name == "requests")
        .unwrap();
    assert_eq!(r.files.len(), 43);
}

fn s(x: &str) -> String {
    x.to_owned()
}

#[test]
fn the_owned_file_budget_truncates_a_file_list() {
    let l0 = layer(dist(
        VENV,
        "site-packages/requests-2.32.3.dist-info",
        &["METADATA", "RECORD"],
    ));
    let opts = ScanOptions {
        extractors: Python.extractors(),
        ..ScanOptions::default()
    };
    let view = scan_layers(&[&l0], &opts).unwrap();
    let limits = Limits {
        owned_files_per_database: (10, 1 << 20),
        ..Limits::default()
    };
    let found = catalog_view(&view, SourceKind::DockerArchive, &ScanBudget::new(&limits));
    let r = &found.packages[0];
    assert_eq!(r.files.len(), 10);
    assert!(r.files_truncated);
    assert_eq!(found.warnings.list.len(), 1);
    assert_eq!(found.warnings.list[0].kind, WarningKind::Limit);
    assert!(found.warnings.list[0].incomplete);
}

#[test]
fn names_normalize_as_pep_503_says() {
    assert_eq!(normalize("Foo.Bar__baz--Qux"), "foo-bar-baz-qux");
    assert_eq!(normalize("charset_normalizer"), "charset-normalizer");
    assert_eq!(normalize("PyGObject"), "pygobject");
    assert_eq!(
        Layout::of("usr/lib/python3/dist-packages/x-1.dist-info/METADATA")
            .unwrap()
            .environment(),
        "system python3"
    );
    assert_eq!(
        Layout::of(&format!("{VENV}/x-1.dist-info/METADATA"))
            .unwrap()
            .environment(),
        format!("/{VENV}")
    );
    assert_eq!(Layout::of("opt/EGG-INFO/PKG-INFO"), None);
    assert_eq!(join("a/b/c", "../../../../etc/x"), "/etc/x");
    assert_eq!(join("a/b", "/usr/share/x"), "/usr/share/x");
    assert_eq!(join("a/b", "./c//d"), "/a/b/c/d");
}

/// A distribution a later layer uninstalled is kept among the removed packages, with the
/// layer that installed it and the one that removed it; the one an upgrade replaced is not
/// (the new version tells that as a version change).
#[test]
fn an_uninstalled_distribution_is_kept_as_removed() {
    let (l0, l1, l2) = image();
    // pip uninstall idna: its dist-info directory goes.
    let l3 = layer(vec![(
        format!("{VENV}/.wh.idna-3.10.dist-info"),
        Vec::new(),
    )]);
    let found = scan(&[&l0, &l1, &l2, &l3], SourceKind::OciDir);
    let removed: Vec<(&str, &str, Option<usize>, Option<usize>)> = found
        .removed
        .iter()
        .map(|p| {
            (
                p.name.as_str(),
                p.version.as_str(),
                p.evidence.introduced_in,
                p.evidence.removed_in,
            )
        })
        .collect();
    assert_eq!(removed, [("idna", "3.10", Some(1), Some(3))]);
    assert!(found.packages.iter().all(|p| p.name != "idna"));
    assert!(found.packages.iter().any(|p| p.name == "urllib3"));
    let p = &found.removed[0];
    assert_eq!(
        p.evidence.changes.last().unwrap().kind,
        PackageChangeKind::Removed
    );
    assert_eq!(
        p.evidence.locations[0].path,
        format!("/{VENV}/idna-3.10.dist-info/METADATA")
    );
}
