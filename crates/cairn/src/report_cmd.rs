//! `cairn report IMAGE --html FILE`: one self-contained HTML page of the image — summary,
//! layer timeline with waste, searchable package table, license totals, each package's
//! evidence — from the same scan and layer report as `cairn layers`.

use crate::layers::DockerfileArgs;
use crate::scan::SourceArgs;
use crate::Verbosity;
use anyhow::Result;
use clap::Args;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct ReportArgs {
    /// The image, as `cairn sbom` takes it.
    image: String,
    /// Write the HTML report to FILE (one file; it fetches nothing).
    #[arg(long, value_name = "FILE")]
    html: PathBuf,
    #[command(flatten)]
    dockerfile: DockerfileArgs,
    #[command(flatten)]
    source: SourceArgs,
}

/// Files of each package the page lists (it says how many there are in all).
pub const FILES_LISTED: usize = 50;

/// A package as the page needs it: everything but the bulk — its first
/// [`FILES_LISTED`] files (path and layer, no digests), license statements without their
/// full texts, and of its metadata the first line of the description and the homepage —
/// so that the page of a large image stays small (`cairn explain` and `-o json` have all).
fn slim(p: &cairn_sbom::Package) -> Value {
    let mut v = serde_json::to_value(p).expect("the model serializes");
    let files: Vec<Value> = p
        .files
        .iter()
        .take(FILES_LISTED)
        .map(|f| json!({"path": f.path, "layer": f.layer}))
        .collect();
    v["files"] = json!(files);
    v["files_count"] = json!(p.files.len());
    let mut meta = serde_json::Map::new();
    if let Some(d) = p.metadata.get("description") {
        let first: String = d.lines().next().unwrap_or("").chars().take(200).collect();
        meta.insert("description".into(), json!(first));
    }
    if let Some(h) = p.metadata.get("homepage") {
        meta.insert("homepage".into(), json!(h));
    }
    v["metadata"] = Value::Object(meta);
    if let Some(ev) = v["licenses"]["evidence"].as_array_mut() {
        for e in ev {
            if let Some(o) = e.as_object_mut() {
                o.remove("text");
            }
        }
    }
    if let Some(o) = v.as_object_mut() {
        o.remove("cpes");
    }
    v
}

/// The data the page is built from: the SBOM (removed packages included, each package
/// slimmed by [`slim`]), the layer report, and the totals with the declared licenses
/// counted.
pub fn data(sbom: &cairn_sbom::Sbom, layers: &cairn_explain::layers::Layers) -> Value {
    let mut licenses: BTreeMap<String, u64> = BTreeMap::new();
    for p in &sbom.packages {
        let l = p.licenses.declared.as_deref().unwrap_or("NOASSERTION");
        *licenses.entry(l.to_owned()).or_default() += 1;
    }
    let t = &layers.totals;
    let mut doc = serde_json::to_value(sbom).expect("the model serializes");
    doc["packages"] = sbom.packages.iter().map(slim).collect();
    doc["removed"] = sbom.removed.iter().map(slim).collect();
    doc["files"] = json!([]);
    // Dependencies as index pairs: package ids are long (a language package's carries its
    // path), and a large image has several edges per package.
    let index: BTreeMap<&str, usize> = sbom
        .packages
        .iter()
        .enumerate()
        .map(|(i, p)| (p.id.as_str(), i))
        .collect();
    let deps: Vec<[usize; 2]> = sbom
        .relationships
        .iter()
        .filter(|r| r.kind == cairn_sbom::RelationshipKind::DependsOn)
        .filter_map(|r| Some([*index.get(r.from.as_str())?, *index.get(r.to.as_str())?]))
        .collect();
    doc["relationships"] = json!([]);
    json!({
        "deps": deps,
        "sbom": doc,
        "layers": layers.layers,
        "steps": layers.steps,
        "totals": {
            "packages": t.packages,
            "layers": t.layers,
            "bytes_added": t.bytes_added,
            "bytes_wasted": t.bytes_wasted,
            "unowned_files": t.unowned_files,
            "unowned_bytes": t.unowned_bytes,
            "licenses": licenses,
        },
    })
}

pub fn run(args: ReportArgs, v: Verbosity) -> Result<ExitCode> {
    args.dockerfile.read()?;
    let s = crate::scan::scan(&args.image, &args.source, false, v)?;
    let layers = crate::layers::report(&s, &args.dockerfile)?;
    let page = crate::report::render(&data(&s.scan.sbom, &layers));
    crate::output::write(&args.html, page.as_bytes())?;
    if crate::scan::report_incomplete(&s.scan.sbom, v) {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
