//! The fleet benchmark's two halves (bench/fleet.sh runs them):
//!
//! `fleet gen AVAIL OUTDIR IMAGES` writes IMAGES cairn JSON SBOMs made from a real package
//! list (`apt-cache dumpavail`: Debian bookworm and bookworm-security, names, versions,
//! architectures, sections): 20 base images of about 200 Debian packages on two shared
//! layers, each in two versions (bookworm, then with the security updates), and 500
//! repositories of 20 tags on them, each tag one application layer of about 100 packages
//! (Debian libraries and the Python and Node packages Debian ships, as pypi and npm purls)
//! whose versions move between tags. Deterministic: a fixed-seed generator.
//!
//! `fleet queries URL RUNS` times the queries the issue names on a database ingested from
//! them, each RUNS times, and prints the median and the slowest.

use std::collections::BTreeMap;
use std::time::Instant;

use cairn_sbom::{Evidence, Layer, Licenses, Location, Package, Sbom, Source, Tool};

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[derive(Clone)]
struct Avail {
    name: String,
    arch: String,
    section: String,
    priority: String,
    /// Every version the archive has, oldest first.
    versions: Vec<String>,
}

fn read_avail(path: &str) -> Vec<Avail> {
    let text = std::fs::read_to_string(path).expect("AVAIL");
    let mut by_name: BTreeMap<String, Avail> = BTreeMap::new();
    for stanza in text.split("\n\n") {
        let mut f: BTreeMap<&str, &str> = BTreeMap::new();
        for line in stanza.lines() {
            if let Some((k, v)) = line.split_once(": ") {
                if !line.starts_with(' ') {
                    f.insert(k, v);
                }
            }
        }
        let (Some(name), Some(version)) = (f.get("Package"), f.get("Version")) else {
            continue;
        };
        let e = by_name.entry(name.to_string()).or_insert_with(|| Avail {
            name: name.to_string(),
            arch: f.get("Architecture").unwrap_or(&"amd64").to_string(),
            section: f.get("Section").unwrap_or(&"misc").to_string(),
            priority: f.get("Priority").unwrap_or(&"optional").to_string(),
            versions: Vec::new(),
        });
        if !e.versions.iter().any(|v| v == version) {
            e.versions.push(version.to_string());
        }
    }
    let mut all: Vec<Avail> = by_name.into_values().collect();
    for a in &mut all {
        a.versions
            .sort_by(|x, y| cairn_catalog::compare_versions("deb", x, y).unwrap());
    }
    all
}

fn digest(parts: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    format!("sha256:{}", hex::encode(h.finalize()))
}

/// A package record as a cataloger would write it, for `ecosystem` (deb, pypi or npm).
fn package(a: &Avail, version: &str, layer: usize) -> Package {
    let (kind, name, version, purl) = if let Some(n) = a.name.strip_prefix("python3-") {
        // Debian's python3-foo is PyPI's foo at the upstream version.
        let up = upstream(version);
        (
            "pypi",
            n.to_string(),
            up.clone(),
            format!("pkg:pypi/{n}@{up}"),
        )
    } else if let Some(n) = a.name.strip_prefix("node-") {
        let up = upstream(version);
        (
            "npm",
            n.to_string(),
            up.clone(),
            format!("pkg:npm/{n}@{up}"),
        )
    } else {
        (
            "deb",
            a.name.clone(),
            version.to_string(),
            format!(
                "pkg:deb/debian/{}@{}?arch={}&distro=debian-12",
                a.name,
                version.replace('+', "%2B"),
                a.arch
            ),
        )
    };
    let db = match kind {
        "deb" => "/var/lib/dpkg/status".to_string(),
        "pypi" => format!("/usr/lib/python3/dist-packages/{name}-{version}.dist-info/METADATA"),
        _ => format!("/usr/share/nodejs/{name}/package.json"),
    };
    Package {
        id: purl.clone(),
        name,
        version,
        arch: (kind == "deb").then(|| a.arch.clone()),
        kind: kind.into(),
        cataloger: match kind {
            "deb" => "dpkg",
            "pypi" => "python",
            _ => "npm",
        }
        .into(),
        purl,
        licenses: Licenses::default(),
        metadata: [("section".to_string(), a.section.clone())].into(),
        evidence: Evidence {
            locations: vec![Location {
                path: db,
                layer,
                lines: None,
            }],
            introduced_in: Some(layer),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// `1:2.3-4` → `2.3`: the upstream version, as PyPI and npm know it.
fn upstream(v: &str) -> String {
    let v = v.split_once(':').map_or(v, |x| x.1);
    let v = v.rsplit_once('-').map_or(v, |x| x.0);
    v.split(['+', '~']).next().unwrap_or(v).to_string()
}

fn layer(index: usize, id: &str, created_by: &str, size: u64) -> Layer {
    Layer {
        index,
        digest: Some(digest(&["blob", id])),
        diff_id: Some(digest(&["diff", id])),
        media_type: Some("application/vnd.oci.image.layer.v1.tar+gzip".into()),
        size,
        created_by: Some(created_by.into()),
        created: None,
        comment: None,
        base: index < 2,
    }
}

fn gen(avail: &str, out: &str, images: usize) {
    let all = read_avail(avail);
    let pick = |f: &dyn Fn(&Avail) -> bool| -> Vec<Avail> {
        all.iter().filter(|a| f(a)).cloned().collect()
    };
    // What nearly every real image has beside the required set.
    let common = [
        "libssl3",
        "zlib1g",
        "libc6",
        "libsqlite3-0",
        "libcurl4",
        "libxml2",
        "libexpat1",
    ];
    let required = pick(&|a| {
        matches!(a.priority.as_str(), "required" | "important") || common.contains(&a.name.as_str())
    });
    let libs = pick(&|a| a.section == "libs");
    let lang = pick(&|a| {
        (a.name.starts_with("python3-") || a.name.starts_with("node-"))
            && a.versions
                .iter()
                .all(|v| cairn_catalog::version_sort_key("pypi", &upstream(v)).is_some())
    });
    let updated: Vec<&Avail> = all.iter().filter(|a| a.versions.len() > 1).collect();
    eprintln!(
        "fleet gen: {} packages in the list ({} required/important, {} libs, {} python3/node, {} with a security update)",
        all.len(),
        required.len(),
        libs.len(),
        lang.len(),
        updated.len()
    );
    std::fs::create_dir_all(out).unwrap();
    let mut rng = Rng(0x5eed_cafe);
    // 20 bases: required + ~100 libraries; version 1 is bookworm, version 2 takes the
    // security updates of what it has.
    let bases: Vec<Vec<Avail>> = (0..20)
        .map(|_| {
            let mut b = required.clone();
            for _ in 0..(200usize.saturating_sub(required.len())) {
                b.push(libs[rng.below(libs.len())].clone());
            }
            b.sort_by(|x, y| x.name.cmp(&y.name));
            b.dedup_by(|x, y| x.name == y.name);
            b
        })
        .collect();
    let repos = images.div_ceil(20).max(1);
    let mut written = 0;
    let mut total_packages = 0;
    'outer: for r in 0..repos {
        let base = r % bases.len();
        let mut app: Vec<Avail> = (0..100)
            .map(|i| {
                if i % 2 == 0 {
                    lang[rng.below(lang.len())].clone()
                } else {
                    libs[rng.below(libs.len())].clone()
                }
            })
            .collect();
        app.sort_by(|x, y| x.name.cmp(&y.name));
        app.dedup_by(|x, y| x.name == y.name);
        // Per app package: the version index each tag uses (moves up now and then).
        let mut at: Vec<usize> = app.iter().map(|_| 0).collect();
        for t in 0..20 {
            if written == images {
                break 'outer;
            }
            let base_version = usize::from(t >= 10);
            for (i, a) in app.iter().enumerate() {
                if t > 0 && at[i] + 1 < a.versions.len() && rng.below(4) == 0 {
                    at[i] += 1;
                }
            }
            let mut packages = Vec::new();
            for a in &bases[base] {
                let v = &a.versions[base_version.min(a.versions.len() - 1)];
                let l = if base_version == 1 && a.versions.len() > 1 {
                    1
                } else {
                    0
                };
                packages.push(package(a, v, l));
            }
            for (i, a) in app.iter().enumerate() {
                packages.push(package(a, &a.versions[at[i]], 2));
            }
            packages
                .sort_by(|x, y| (&x.name, &x.version, &x.id).cmp(&(&y.name, &y.version, &y.id)));
            packages.dedup_by(|x, y| x.id == y.id);
            total_packages += packages.len();
            let repo = format!("registry.example/team-{}/service-{r}", r % 25);
            let tag = format!("1.{t}.0");
            let b = format!("base-{base}");
            let bv = format!("base-{base}-v{base_version}");
            let layers = vec![
                layer(
                    0,
                    &b,
                    "/bin/sh -c #(nop) ADD file:rootfs.tar in / ",
                    30_000_000,
                ),
                layer(
                    1,
                    &bv,
                    "RUN /bin/sh -c apt-get update && apt-get upgrade -y # buildkit",
                    8_000_000,
                ),
                layer(
                    2,
                    &format!("{repo}:{tag}"),
                    "RUN /bin/sh -c pip install -r requirements.txt && npm ci # buildkit",
                    20_000_000,
                ),
            ];
            let sbom = Sbom {
                format_version: "1".into(),
                tool: Tool {
                    name: "cairn".into(),
                    version: env!("CARGO_PKG_VERSION").into(),
                },
                creator: None,
                created: format!("2026-11-{:02}T{:02}:00:00Z", 1 + t, r % 24),
                source: Source {
                    kind: "registry".into(),
                    name: repo.clone(),
                    path: format!("{repo}:{tag}"),
                    tags: vec![format!("{repo}:{tag}")],
                    manifest_digest: Some(digest(&["manifest", &repo, &tag])),
                    image_id: Some(digest(&["config", &repo, &tag])),
                    platform: Some("linux/amd64".into()),
                    layers,
                    repository: Some(repo.clone()),
                    index_digest: None,
                    purl: None,
                    base: None,
                    supplier: None,
                    license: None,
                },
                distro: None,
                packages,
                files: vec![],
                relationships: vec![],
                complete: true,
                warnings: vec![],
                removed: vec![],
            };
            let path = format!("{out}/{written:05}.json");
            std::fs::write(&path, serde_json::to_vec(&sbom).unwrap()).unwrap();
            written += 1;
        }
    }
    eprintln!(
        "fleet gen: {written} SBOMs, {:.0} packages each on average, in {out}",
        total_packages as f64 / written.max(1) as f64
    );
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, f64, T) {
    let mut ts = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        last = Some(f());
        ts.push(t.elapsed().as_secs_f64() * 1e3);
    }
    ts.sort_by(f64::total_cmp);
    (ts[ts.len() / 2], ts[ts.len() - 1], last.unwrap())
}

fn queries(url: &str, runs: usize) {
    let mut db = cairn_db::Db::open(url).unwrap();
    let stats = db.stats().unwrap();
    let rows: Vec<String> = stats.rows.iter().map(|(t, n)| format!("{t} {n}")).collect();
    println!("rows: {}", rows.join(", "));
    if let Some(b) = stats.bytes {
        println!("size: {:.1} MB", b as f64 / 1e6);
    }
    if !stats.table_bytes.is_empty() {
        let t: Vec<String> = stats
            .table_bytes
            .iter()
            .map(|(t, b)| format!("{t} {:.1} MB", *b as f64 / 1e6))
            .collect();
        println!("tables with their indexes: {}", t.join(", "));
    }
    // A version-range query across all images: a package every base has, below the
    // version its second build takes (so half the images match).
    let q: cairn_db::PackageQuery = "libssl3<3.0.20-1~deb12u2".parse().unwrap();
    let (med, max, hits) = time(runs, || db.packages(&q, false).unwrap());
    println!(
        "query libssl3<3.0.20-1~deb12u2 (all images): {} hits, median {med:.2} ms, max {max:.2} ms",
        hits.len()
    );
    let (med, max, hits) = time(runs, || db.packages(&q, true).unwrap());
    println!(
        "query libssl3<3.0.20-1~deb12u2 --latest: {} hits, median {med:.2} ms, max {max:.2} ms",
        hits.len()
    );
    let q: cairn_db::PackageQuery = "pkg:pypi/requests"
        .parse::<cairn_db::PackageQuery>()
        .unwrap()
        .with_vers("vers:pypi/<2.30".parse().unwrap())
        .unwrap();
    let (med, max, hits) = time(runs, || db.packages(&q, false).unwrap());
    println!(
        "query pkg:pypi/requests vers:pypi/<2.30: {} hits, median {med:.2} ms, max {max:.2} ms",
        hits.len()
    );
    // Layer → images: an application layer (one image) and a base layer (hundreds).
    let app = digest(&["diff", "registry.example/team-7/service-7:1.3.0"]);
    let (med, max, hits) = time(runs, || db.layer(&app, false).unwrap());
    println!(
        "layer → images (an application layer): {} images, median {med:.3} ms, max {max:.3} ms",
        hits.len()
    );
    let base = digest(&["diff", "base-3-v1"]);
    let (med, max, hits) = time(runs, || db.layer(&base, false).unwrap());
    println!(
        "layer → images (a base layer): {} images, median {med:.2} ms, max {max:.2} ms",
        hits.len()
    );
    let a = db.image("registry.example/team-7/service-7:1.3.0").unwrap();
    let b = db
        .image("registry.example/team-7/service-7:1.12.0")
        .unwrap();
    let (med, max, d) = time(runs, || db.drift(&a, &b).unwrap());
    println!(
        "drift between two tags: {} changes, median {med:.2} ms, max {max:.2} ms",
        d.changes.len()
    );
    let (med, max, _) = time(runs.min(20), || db.document(&a).unwrap());
    println!("an image's SBOM back: median {med:.2} ms, max {max:.2} ms");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("gen") if args.len() == 5 => gen(&args[2], &args[3], args[4].parse().unwrap()),
        Some("queries") if args.len() == 4 => queries(&args[2], args[3].parse().unwrap()),
        _ => {
            eprintln!("usage: fleet gen AVAIL OUTDIR IMAGES | fleet queries URL RUNS");
            std::process::exit(2);
        }
    }
}
