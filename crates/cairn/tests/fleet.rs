//! The fan-out on a real scheduler: the fixture family (base-1, base-2, app-1, app-2; real
//! Debian packages, app-N built FROM base-N) pushed to a loopback registry, planned into
//! shards, scanned by a Slurm job array (slurmctld + slurmd on loopback, auth/none) into a
//! real PostgreSQL 15, and compared with a single-process ingest of the same images. Then a
//! shard killed mid-way and run again.

mod common;

use common::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use test_registry::{Fault, Options, Proxy, Registry};

const IMAGES: [(&str, &str); 4] = [
    ("base-1", "base:1"),
    ("base-2", "base:2"),
    ("app-1", "app:1"),
    ("app-2", "app:2"),
];

/// A registry holding the four images, or `None` (skip; a failure under CI).
fn registry() -> Option<Registry> {
    if !require(
        "docker-registry, skopeo, htpasswd and openssl (scripts/setup installs them)",
        Registry::available(),
    ) || !require(
        "fixtures/images/app-2",
        root().join("fixtures/images/app-2/oci").exists(),
    ) {
        return None;
    }
    let reg = Registry::start(Options::default());
    for (dir, dest) in IMAGES {
        let tag = dest.split(':').nth(1).unwrap();
        let src = format!(
            "oci:{}:{tag}",
            root()
                .join("fixtures/images")
                .join(dir)
                .join("oci")
                .display()
        );
        reg.push(&src, dest, false);
    }
    Some(reg)
}

fn refs_file(dir: &Path, host: &str) -> String {
    let list: String = IMAGES
        .iter()
        .map(|(_, r)| format!("{host}/{r}\n"))
        .collect();
    let p = dir.join("refs.txt");
    std::fs::write(&p, format!("# the fleet\n{list}")).unwrap();
    format!("@{}", p.display())
}

fn ok(out: std::process::Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: {}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// What a database holds, per image version: its digest, its packages (each with the
/// layer that introduced it) and its layers; and the row counts of the shared tables.
type Holdings = (
    BTreeMap<String, (String, String, String)>,
    Vec<(String, i64)>,
);

fn holdings(url: &str) -> Holdings {
    let mut db = cairn_db::Db::open(url).unwrap();
    let mut per_image = BTreeMap::new();
    for repo in db.repositories().unwrap() {
        for row in db.images(&repo).unwrap() {
            let doc = db.document(&row).unwrap();
            per_image.insert(
                format!("{}:{}", row.repository, row.tag),
                (
                    row.digest,
                    serde_json::to_string(&doc.packages).unwrap(),
                    serde_json::to_string(&doc.source.layers).unwrap(),
                ),
            );
        }
    }
    (per_image, db.stats().unwrap().rows)
}

/// The two hold the same, said briefly when not.
fn assert_same(a: &Holdings, b: &Holdings) {
    assert_eq!(
        a.0.keys().collect::<Vec<_>>(),
        b.0.keys().collect::<Vec<_>>()
    );
    for (k, x) in &a.0 {
        let y = &b.0[k];
        assert_eq!(x.0, y.0, "{k}: digest");
        if x.1 != y.1 {
            let xs: Vec<serde_json::Value> = serde_json::from_str(&x.1).unwrap();
            let ys: Vec<serde_json::Value> = serde_json::from_str(&y.1).unwrap();
            let diff: Vec<String> = xs
                .iter()
                .zip(&ys)
                .filter(|(p, q)| p != q)
                .map(|(p, q)| format!("{}: {p:.300} vs {q:.300}", p["id"]))
                .take(2)
                .collect();
            panic!(
                "{k}: packages differ ({} vs {}): {diff:?}",
                xs.len(),
                ys.len()
            );
        }
        assert_eq!(x.2, y.2, "{k}: layers");
    }
    assert_eq!(a.1, b.1, "row counts");
}

/// The single-process answer: `cairn db ingest` of the four images into SQLite.
fn single_process(dir: &Path, host: &str) -> Holdings {
    let db = format!("sqlite:{}", dir.join("single.db").display());
    let mut args = vec!["db", "ingest", "--db", &db, "--insecure"];
    let refs: Vec<String> = IMAGES.iter().map(|(_, r)| format!("{host}/{r}")).collect();
    args.extend(refs.iter().map(String::as_str));
    ok(cairn(&args), "cairn db ingest");
    holdings(&db)
}

#[test]
fn a_slurm_job_array_scans_the_fleet_into_postgres() {
    let Some(reg) = registry() else { return };
    let Some(pg) = test_services::Postgres::start_with(&["fsync=off"]) else {
        return;
    };
    let Some(slurm) = test_services::Slurm::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.json");
    let err = ok(
        cairn(&[
            "fleet",
            "plan",
            &refs_file(dir.path(), &reg.host),
            "--shards",
            "2",
            "--insecure",
            "-o",
            plan.to_str().unwrap(),
        ]),
        "cairn fleet plan",
    );
    assert!(err.contains("4 images in 2 shards"), "{err}");
    let p: serde_json::Value = serde_json::from_slice(&std::fs::read(&plan).unwrap()).unwrap();
    let images = p["images"].as_array().unwrap();
    assert_eq!(images.len(), 4);
    // Images that share a layer are in one shard; both shards have work.
    let shard_of = |i: &serde_json::Value| i["shard"].as_u64().unwrap();
    for a in images {
        for b in images {
            let la: BTreeSet<&str> = a["layers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l[0].as_str().unwrap())
                .collect();
            if b["layers"]
                .as_array()
                .unwrap()
                .iter()
                .any(|l| la.contains(l[0].as_str().unwrap()))
            {
                assert_eq!(
                    shard_of(a),
                    shard_of(b),
                    "{} and {}",
                    a["reference"],
                    b["reference"]
                );
            }
        }
    }
    let shards: BTreeSet<u64> = images.iter().map(shard_of).collect();
    assert_eq!(shards.len(), 2);

    // The job array: one task per shard, each with its own layer cache.
    let url = pg.url();
    let script = format!(
        "exec {} fleet scan {} --db {url} --insecure --cache-dir {}/cache-$SLURM_ARRAY_TASK_ID",
        env!("CARGO_BIN_EXE_cairn"),
        plan.display(),
        dir.path().display()
    );
    let out = Command::new("sbatch")
        .env("SLURM_CONF", slurm.conf())
        .current_dir(dir.path())
        .args(["--wait", "--array=0-1", "-o"])
        .arg(dir.path().join("task-%a.txt"))
        .arg("--wrap")
        .arg(&script)
        .output()
        .unwrap();
    let logs: String = (0..2)
        .map(|i| {
            std::fs::read_to_string(dir.path().join(format!("task-{i}.txt"))).unwrap_or_default()
        })
        .collect();
    assert!(
        out.status.success(),
        "sbatch: {}\n{}\n{logs}",
        String::from_utf8_lossy(&out.stderr),
        out.status
    );
    for i in 0..2 {
        assert!(
            logs.contains(&format!(
                "shard {i} of 2 (SLURM_ARRAY_TASK_ID): 2 images, 2 scanned"
            )),
            "{logs}"
        );
        // Each task downloaded into its own cache.
        assert!(
            dir.path().join(format!("cache-{i}/blobs/sha256")).is_dir(),
            "{logs}"
        );
    }
    // app-N is built FROM base-N: in each shard the base's layers were decoded once and
    // reused for the application image (and the result is still the single-process one).
    let reused: u64 = logs
        .lines()
        .filter_map(|l| l.split("reused ").nth(1))
        .map(|n| n.trim().parse::<u64>().unwrap())
        .sum();
    assert!(reused >= 2, "{logs}");
    let fleet = holdings(&url);
    assert_eq!(fleet.0.len(), 4, "{:?}", fleet.0.keys());
    assert_same(&fleet, &single_process(dir.path(), &reg.host));
}

#[test]
fn a_shard_killed_mid_way_and_run_again_loses_nothing_and_doubles_nothing() {
    let Some(reg) = registry() else { return };
    let Some(pg) = test_services::Postgres::start_with(&["fsync=off"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let plan = |host: &str, out: &Path| {
        ok(
            cairn(&[
                "fleet",
                "plan",
                &refs_file(dir.path(), host),
                "--insecure",
                "-o",
                out.to_str().unwrap(),
            ]),
            "cairn fleet plan",
        );
        serde_json::from_slice::<serde_json::Value>(&std::fs::read(out).unwrap()).unwrap()
    };
    // The shard scans its images in plan order, each pinned to its digest. A proxy holds
    // the last one's manifest (asked for by digest; the plan asked by tag) for a minute, once:
    // the shard is killed while it waits, with the images before it stored.
    let probe = plan(&reg.host, &dir.path().join("probe.json"));
    let last = probe["images"].as_array().unwrap()[3]["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    let proxy = Proxy::start(
        &reg,
        Fault::Delay {
            path_contains: format!("/manifests/{last}"),
            millis: 60_000,
            times: 1,
        },
    );
    let plan_file = dir.path().join("plan.json");
    plan(&proxy.host, &plan_file);
    let url = pg.url();
    let scan = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_cairn"));
        c.args(["fleet", "scan"]).arg(&plan_file).args([
            "--shard",
            "0",
            "--db",
            &url,
            "--insecure",
        ]);
        c
    };
    let images = |url: &str| {
        cairn_db::Db::open(url)
            .map(|mut db| db.stats().unwrap().rows[0].1)
            .unwrap_or(0)
    };
    let mut child = scan().spawn().unwrap();
    let start = Instant::now();
    while images(&url) < 3 {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the shard never stored 3 images"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the shard ended before it was killed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the shard did not wait"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(images(&url), 3);

    // Run again: the three stored images are skipped, the fourth is scanned.
    let err = ok(scan().output().unwrap(), "the shard, run again");
    assert!(err.contains("4 images, 1 scanned, 3 already in"), "{err}");
    let after = holdings(&url);
    // Once more: nothing to do, nothing changes.
    let err = ok(scan().output().unwrap(), "the shard, a third time");
    assert!(err.contains("4 images, 0 scanned, 4 already in"), "{err}");
    assert_same(&holdings(&url), &after);
    // And it equals one uninterrupted single-process ingest of the same images.
    assert_same(&after, &single_process(dir.path(), &proxy.host));
}

/// The Kubernetes Indexed Job manifest is valid against the API schema (PyPI
/// kubernetes-validate, strict: no unknown field), is an Indexed Job, and runs `cairn fleet
/// scan` on the plan its ConfigMap mounts, the database URL from a Secret. A misspelt field is
/// refused, so the validator is not a formality.
#[test]
fn the_kubernetes_indexed_job_manifest_validates() {
    let manifest = root().join("deploy/kubernetes/fleet-scan.yaml");
    let validate = python().parent().unwrap().join("kubernetes-validate");
    assert!(
        validate.exists(),
        "{} (scripts/setup installs it)",
        validate.display()
    );
    for version in ["1.29.0", "1.37.0"] {
        let out = Command::new(&validate)
            .args(["--strict", "-k", version])
            .arg(&manifest)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{version}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&bad, text.replace("  parallelism:", "  paralelism:")).unwrap();
    let out = Command::new(&validate)
        .arg("--strict")
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let check = r#"
import sys, yaml
job = yaml.safe_load(open(sys.argv[1]))
spec = job["spec"]
assert job["kind"] == "Job" and spec["completionMode"] == "Indexed", spec
pod = spec["template"]["spec"]
c = pod["containers"][0]
args = c["args"]
assert args[:2] == ["fleet", "scan"], args
mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
assert args[2] == mounts["plan"] + "/plan.json", (args, mounts)
vols = {v["name"]: v for v in pod["volumes"]}
assert "configMap" in vols["plan"], vols
env = {e["name"]: e for e in c["env"]}
assert "secretKeyRef" in env["CAIRN_DB"]["valueFrom"], env
assert args[args.index("--cache-dir") + 1] == mounts["cache"]
"#;
    let out = Command::new(python())
        .args(["-c", check])
        .arg(&manifest)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The shard comes from the scheduler's variable, and a wrong one is a usage error naming it.
#[test]
fn fleet_scan_takes_its_shard_from_the_scheduler() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.json");
    std::fs::write(
        &plan,
        r#"{"version":1,"shards":2,"images":[],"bytes_per_image":0,"bytes_distinct":0,"bytes_planned":0}"#,
    )
    .unwrap();
    let db = format!("sqlite:{}", dir.path().join("f.db").display());
    let run = |var: &str, val: &str| {
        Command::new(env!("CARGO_BIN_EXE_cairn"))
            .args(["fleet", "scan"])
            .arg(&plan)
            .args(["--db", &db])
            .env_remove("SLURM_ARRAY_TASK_ID")
            .env_remove("JOB_COMPLETION_INDEX")
            .env_remove("AWS_BATCH_JOB_ARRAY_INDEX")
            .env(var, val)
            .output()
            .unwrap()
    };
    for var in [
        "JOB_COMPLETION_INDEX",
        "SLURM_ARRAY_TASK_ID",
        "AWS_BATCH_JOB_ARRAY_INDEX",
    ] {
        let out = run(var, "1");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{err}");
        assert!(
            err.contains(&format!("shard 1 of 2 ({var}): 0 images")),
            "{err}"
        );
        let out = run(var, "2");
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr)
            .contains(&format!("shard 2 (from {var}) of a plan with 2 shards")));
    }
    let out = run("X", "1");
    assert_eq!(out.status.code(), Some(2));
}

/// A plan from the registry's catalog (every tag of every repository, or those under a
/// prefix) and from a cluster's pods as `kubectl get pods -o json` prints them.
#[test]
fn plans_from_a_catalog_and_from_kubectl_output() {
    let Some(reg) = registry() else { return };
    let dir = tempfile::tempdir().unwrap();
    let refs = |src: &str| {
        let out = dir.path().join("plan.json");
        ok(
            cairn(&[
                "fleet",
                "plan",
                src,
                "--insecure",
                "-o",
                out.to_str().unwrap(),
            ]),
            src,
        );
        let p: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
        let mut r: Vec<String> = p["images"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["reference"].as_str().unwrap().to_owned())
            .collect();
        r.sort();
        r
    };
    let host = &reg.host;
    let all: Vec<String> = ["app:1", "app:2", "base:1", "base:2"]
        .iter()
        .map(|r| format!("{host}/{r}"))
        .collect();
    assert_eq!(refs(&format!("catalog:{host}")), all);
    assert_eq!(refs(&format!("catalog:{host}/app")), all[..2]);
    // A pod whose app container the kubelet reports by digest, with a base init container.
    let p = probe_digest(&reg, "app:2");
    let pods = serde_json::json!({"kind": "List", "items": [{"kind": "Pod",
        "spec": {"containers": [{"name": "app", "image": format!("{host}/app:2")}],
                 "initContainers": [{"name": "init", "image": format!("{host}/base:1")}]},
        "status": {"containerStatuses": [{"name": "app",
                   "imageID": format!("{host}/app@{p}")}]}}]});
    let file = dir.path().join("pods.json");
    std::fs::write(&file, pods.to_string()).unwrap();
    assert_eq!(
        refs(&format!("kubectl:{}", file.display())),
        [format!("{host}/app:2"), format!("{host}/base:1")]
    );
}

/// The manifest digest of `reference` in `reg`, as a plan of it records.
fn probe_digest(reg: &Registry, reference: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p.json");
    ok(
        cairn(&[
            "fleet",
            "plan",
            &format!("{}/{reference}", reg.host),
            "--insecure",
            "-o",
            out.to_str().unwrap(),
        ]),
        "probe",
    );
    let p: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    p["images"][0]["digest"].as_str().unwrap().to_owned()
}
