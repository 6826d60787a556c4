//! Hostile and damaged archives over views built in memory: each gives a warning naming
//! the file (and the entry inside it), never a panic, and the rest of the scan completes.

use super::*;
use cairn_image::fuzzing::scan_layers;
use cairn_image::ScanOptions;
use std::io::Write;
use zip::write::SimpleFileOptions;
use zip::CompressionMethod;

fn zip(entries: &[(&str, &[u8], CompressionMethod)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data, method) in entries {
        w.start_file(
            *name,
            SimpleFileOptions::default().compression_method(*method),
        )
        .unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn pom(group: &str, artifact: &str, version: &str) -> Vec<u8> {
    format!("groupId={group}\nartifactId={artifact}\nversion={version}\n").into_bytes()
}

fn good_jar() -> Vec<u8> {
    let p = pom("org.example", "good", "1.0");
    zip(&[
        (
            "META-INF/maven/org.example/good/pom.properties",
            &p,
            CompressionMethod::Deflated,
        ),
        (
            "org/example/good/A.class",
            b"\xca\xfe\xba\xbe",
            CompressionMethod::Stored,
        ),
    ])
}

fn tar(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_cksum();
        b.append_data(&mut h, name, &data[..]).unwrap();
    }
    b.into_inner().unwrap()
}

fn scan(entries: &[(&str, Vec<u8>)]) -> Findings {
    let opts = ScanOptions {
        extractors: Java.extractors(),
        ..ScanOptions::default()
    };
    let layer = tar(entries);
    let view = scan_layers(&[&layer], &opts).unwrap();
    catalog_view(&view)
}

fn warning_about(out: &Findings, path: &str, says: &str) {
    assert!(
        out.warnings.list.iter().any(|w| (w.message.contains(path)
            || w.path.as_deref() == Some(path))
            && w.message.contains(says)
            && w.incomplete),
        "no warning naming {path} saying {says:?}: {:?}",
        out.warnings.list
    );
}

fn found(out: &Findings, name: &str) -> bool {
    out.packages.iter().any(|p| p.name == name)
}

#[test]
fn a_zip_bomb_stops_at_the_inflate_budget() {
    // 1.1 GiB of zeros deflate to about 1 MiB; nested so that reading it inflates it.
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .large_file(true);
    w.start_file("BOOT-INF/lib/zeros.jar", opts).unwrap();
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..(MAX_INFLATED >> 20) + 64 {
        w.write_all(&chunk).unwrap();
    }
    let bomb = w.finish().unwrap().into_inner();
    assert!(bomb.len() < 8 << 20);
    let out = scan(&[("app/bomb.jar", bomb), ("app/good.jar", good_jar())]);
    warning_about(&out, "/app/bomb.jar!/BOOT-INF/lib/zeros.jar", "limit");
    assert!(found(&out, "good"));
}

#[test]
fn truncated_and_non_zip_archives_are_named() {
    let g = good_jar();
    let out = scan(&[
        ("app/cut.jar", g[..g.len() / 2].to_vec()),
        ("app/text.war", b"not a zip at all".to_vec()),
        ("app/good.jar", good_jar()),
    ]);
    warning_about(&out, "/app/cut.jar", "zip");
    warning_about(&out, "/app/text.war", "zip");
    assert!(found(&out, "good"));
}

#[test]
fn an_archive_nested_fifty_deep_is_read_to_the_depth_limit() {
    let mut inner = good_jar();
    for i in 0..50 {
        let name = format!("lib/level-{i}.jar");
        inner = zip(&[(&name, &inner, CompressionMethod::Stored)]);
    }
    let out = scan(&[("app/deep.jar", inner), ("app/good.jar", good_jar())]);
    warning_about(
        &out,
        "/app/deep.jar!/",
        &format!("nested more than {MAX_DEPTH} archives deep"),
    );
    // The outer levels are still reported, by their file names (`level-49.jar` is
    // `level` version 49).
    assert!(found(&out, "deep"));
    let levels = out.packages.iter().filter(|p| p.name == "level").count();
    assert_eq!(levels, MAX_DEPTH);
    assert!(found(&out, "good"));
}

#[test]
fn a_malformed_pom_is_a_warning_and_the_properties_still_identify_the_jar() {
    let p = pom("org.example", "lib", "2.0");
    let jar = zip(&[
        (
            "META-INF/maven/org.example/lib/pom.properties",
            &p,
            CompressionMethod::Deflated,
        ),
        (
            "META-INF/maven/org.example/lib/pom.xml",
            b"<project><licenses></project>",
            CompressionMethod::Deflated,
        ),
        (
            "org/example/lib/A.class",
            b"\xca\xfe",
            CompressionMethod::Stored,
        ),
    ]);
    let out = scan(&[("app/lib-2.0.jar", jar)]);
    warning_about(
        &out,
        "/app/lib-2.0.jar!/META-INF/maven/org.example/lib/pom.xml",
        "well-formed",
    );
    let lib = out.packages.iter().find(|p| p.name == "lib").unwrap();
    assert_eq!(lib.purl, "pkg:maven/org.example/lib@2.0");
}

#[test]
fn identity_falls_back_from_manifest_to_file_name_marked_as_such() {
    let mf = b"Manifest-Version: 1.0\nImplementation-Title: Tool\nImplementation-Version: 3.1\nBundle-License: https://www.apache.org/licenses/LICENSE-2.0.txt\n";
    let with_manifest = zip(&[("META-INF/MANIFEST.MF", mf, CompressionMethod::Deflated)]);
    let bare = zip(&[("x/A.class", b"\xca\xfe", CompressionMethod::Stored)]);
    let out = scan(&[
        ("opt/tool.jar", with_manifest),
        ("opt/bare-0.9.1.jar", bare),
    ]);
    let tool = out.packages.iter().find(|p| p.name == "tool").unwrap();
    assert_eq!(
        (
            tool.version.as_str(),
            tool.metadata["version-from"].as_str()
        ),
        ("3.1", "MANIFEST.MF")
    );
    assert_eq!(tool.licenses.declared.as_deref(), Some("Apache-2.0"));
    let bare = out.packages.iter().find(|p| p.name == "bare").unwrap();
    assert_eq!(
        (
            bare.version.as_str(),
            bare.metadata["version-from"].as_str()
        ),
        ("0.9.1", "file name")
    );
    assert!(out.warnings.list.is_empty(), "{:?}", out.warnings.list);
}
