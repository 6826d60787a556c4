//! `cairn db` from the command line: ingesting real documents and images into SQLite,
//! querying them back, and refusing bad input with a clear message and the right exit code.

mod common;

use common::*;
use std::process::Output;

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn ingest_query_and_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("f.db").display());
    let peers = root().join("fixtures/peers");
    let syft = peers.join("demo.syft.spdx.json");
    let demo = demo().join("docker-archive.tar");
    let o = cairn(&[
        "db",
        "ingest",
        "--db",
        &db,
        "--json",
        syft.to_str().unwrap(),
        demo.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", err(&o));
    let rep: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(rep["added"], 2, "{rep}");
    // Again: nothing new.
    let o = cairn(&[
        "db",
        "ingest",
        "--db",
        &db,
        "--json",
        syft.to_str().unwrap(),
    ]);
    let rep: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (rep["added"].as_u64(), rep["unchanged"].as_u64()),
        (Some(0), Some(1))
    );

    // The demo's libexpat1 was upgraded in a later layer: the query names that layer, and
    // the range query agrees with dpkg on the scan's own version.
    let scan = scan_json(demo.to_str().unwrap());
    let expat = scan["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "libexpat1")
        .unwrap();
    let v = expat["version"].as_str().unwrap();
    let q = |spec: &str| {
        let o = cairn(&["db", "query", "--db", &db, "--json", "package", spec]);
        assert!(o.status.success(), "{spec}: {}", err(&o));
        serde_json::from_slice::<Vec<serde_json::Value>>(&o.stdout).unwrap()
    };
    let at = q(&format!("libexpat1@{v}"));
    assert!(!at.is_empty());
    assert!(
        at.iter()
            .any(|h| h["layer"] == expat["evidence"]["introduced_in"]),
        "{at:?}"
    );
    assert!(q(&format!("libexpat1<{v}"))
        .iter()
        .all(|h| h["version"] != v));
    assert!(q(&format!("libexpat1<={v}"))
        .iter()
        .any(|h| h["version"] == v));
    assert!(q(&format!("libexpat1>{v}"))
        .iter()
        .all(|h| h["version"] != v));

    // The image is stored under the name its archive gives it (RepoTags): the history
    // lists it, and its SBOM comes back as SPDX the SPDX tools accept.
    let name = scan["source"]["tags"][0].as_str().unwrap();
    let (repo, _) = name.rsplit_once(':').unwrap();
    let h = cairn(&["db", "query", "--db", &db, "--json", "history", repo]);
    let hist: Vec<serde_json::Value> = serde_json::from_slice(&h.stdout).unwrap();
    assert_eq!(hist.len(), 1, "{hist:?}");
    // A docker-archive has no manifest digest: the image is named by its image id.
    let src = &scan["source"];
    let want = src["manifest_digest"]
        .as_str()
        .or(src["image_id"].as_str())
        .unwrap();
    assert_eq!(hist[0]["digest"], want);
    let out = dir.path().join("back.spdx.json");
    let o = cairn(&[
        "db",
        "query",
        "--db",
        &db,
        "image",
        name,
        "-o",
        &format!("spdx-json={}", out.display()),
    ]);
    assert!(o.status.success(), "{}", err(&o));
    pyspdxtools(&out);

    // Refusals.
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, b"{\"not\": \"an sbom\"}").unwrap();
    let o = cairn(&["db", "ingest", "--db", &db, junk.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(err(&o).contains("junk.json"), "{}", err(&o));
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&syft).unwrap()).unwrap();
    for p in doc["packages"].as_array_mut().unwrap() {
        p["versionInfo"] = serde_json::Value::String("9".repeat(5000));
    }
    let long = dir.path().join("long.spdx.json");
    std::fs::write(&long, serde_json::to_vec(&doc).unwrap()).unwrap();
    let o = cairn(&[
        "db",
        "ingest",
        "--db",
        &db,
        "--repository",
        "long",
        long.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("5000 bytes"), "{}", err(&o));
    for (args, code) in [
        (vec!["package", "<1"], 2),
        (vec!["package", "openssl", "--vers", "vers:deb/<1|<1"], 2),
        (vec!["image", "nothing:here"], 2),
    ] {
        let mut a = vec!["db", "query", "--db", db.as_str()];
        a.extend(args.iter());
        let o = cairn(&a);
        assert_eq!(o.status.code(), Some(code), "{args:?}: {}", err(&o));
    }
    let o = cairn(&[
        "db",
        "query",
        "--db",
        "postgres://cairn@127.0.0.1:1/none",
        "stats",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("opening the database postgres://cairn@127.0.0.1:1/none"),
        "{}",
        err(&o)
    );
    let o = cairn(&["db", "query", "--db", "mysql://x/y", "stats"]);
    assert_eq!(o.status.code(), Some(1));
}
