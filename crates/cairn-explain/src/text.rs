//! Terminal renderings of explanations, layer reports and diffs: short lines, the most
//! important fact first, every path and command escaped so that no input can drive the
//! terminal.

use crate::diff::{Diff, Difference};
use crate::explain::Explanation;
use crate::layers::Layers;
use crate::LayerRef;
use cairn_sbom::{escape_control, PackageChangeKind};
use std::fmt::Write;

/// Files listed per package in `explain`'s text (all of them are in `--json`).
pub const FILES_SHOWN: usize = 10;
/// Unowned files listed per layer in `layers`' text.
pub const UNOWNED_SHOWN: usize = 10;

fn esc(s: &str) -> String {
    escape_control(s).into_owned()
}

fn layer(l: &LayerRef) -> String {
    let mut s = format!("layer {}", l.index);
    if l.base {
        s.push_str(" (base image)");
    }
    if let Some(d) = &l.digest {
        s.push_str(&format!(" {}", short_digest(d)));
    }
    s
}

fn command(l: &LayerRef) -> String {
    match &l.created_by {
        Some(c) => esc(&one_line(c)),
        None => "(no build command recorded)".into(),
    }
}

/// `sha256:` and the first 12 characters of the digest, escaped (a digest read back from a
/// document may be anything).
fn short_digest(d: &str) -> String {
    let short = match d.split_once(':') {
        Some((alg, hex)) if hex.chars().count() > 12 => {
            format!("{alg}:{}", hex.chars().take(12).collect::<String>())
        }
        _ => d.to_owned(),
    };
    esc(&short)
}

fn one_line(s: &str) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > 160 {
        let cut: String = s.chars().take(157).collect();
        format!("{cut}...")
    } else {
        s
    }
}

/// Bytes for people: 1.5 MB, 320 kB, 12 B (SI units, as `docker images` prints).
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1000.0 && u + 1 < UNITS.len() {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

pub fn explanation(e: &Explanation) -> String {
    let mut o = String::new();
    let p = &e.package;
    if let Some(m) = &e.matched_record {
        let _ = writeln!(
            o,
            "{} {} ({}, found by the {} cataloger) is part of the {} package {} {}: {}",
            esc(&m.name),
            esc(&m.version),
            esc(&m.kind),
            esc(&m.cataloger),
            esc(&p.kind),
            esc(&p.name),
            esc(&p.version),
            esc(&m.reason)
        );
        for l in &m.locations {
            let _ = writeln!(o, "  its record: {} (layer {})", esc(&l.path), l.layer);
        }
    }
    let _ = writeln!(o, "{} {} ({})", esc(&p.name), esc(&p.version), esc(&p.kind));
    let _ = writeln!(o, "  purl: {}", esc(&e.purl));
    if !e.in_final_image {
        let _ = writeln!(
            o,
            "  NOT IN THE FINAL IMAGE: an earlier layer installed it and a later one removed it"
        );
    }
    if let Some(d) = &e.licenses.declared {
        let _ = writeln!(o, "  license: {}", esc(d));
    }
    let _ = writeln!(o, "  listed in:");
    for (i, l) in e.listed_in.iter().enumerate() {
        let lines = match l.lines {
            Some((a, b)) if a == b => format!(" line {a}"),
            Some((a, b)) => format!(" lines {a}-{b}"),
            None => String::new(),
        };
        let inside = match (&e.path_in_archive, i) {
            (Some(p), 0) => format!("!/{}", esc(p)),
            _ => String::new(),
        };
        let _ = writeln!(o, "    {}{inside}{lines} (layer {})", esc(&l.path), l.layer);
    }
    if let Some(l) = &e.introduced_in {
        let _ = writeln!(o, "  installed by {}, {}", layer(l), bytes(l.size));
        let _ = writeln!(o, "    {}", command(l));
    }
    if let Some(l) = &e.version_from {
        let _ = writeln!(o, "  version {} installed by {}", esc(&p.version), layer(l));
    }
    for c in &e.changes {
        // The removal for good is told below, with the layer that did it.
        if c.kind == PackageChangeKind::Removed && Some(&c.layer) == e.removed_in.as_ref() {
            continue;
        }
        let what = match c.kind {
            PackageChangeKind::VersionChanged => format!(
                "upgraded {} -> {}",
                esc(c.from_version.as_deref().unwrap_or("?")),
                esc(c.to_version.as_deref().unwrap_or("?"))
            ),
            PackageChangeKind::Reinstalled => format!(
                "installed again ({})",
                esc(c.to_version.as_deref().unwrap_or("?"))
            ),
            PackageChangeKind::Removed => "removed from the package database".into(),
            PackageChangeKind::FilesModified => format!("overwrote {} of its files", c.paths.len()),
            PackageChangeKind::FilesRemoved => format!("deleted {} of its files", c.paths.len()),
        };
        let _ = writeln!(o, "  {}: {what}", layer(&c.layer));
        let _ = writeln!(o, "    {}", command(&c.layer));
        for path in c.paths.iter().take(FILES_SHOWN) {
            let _ = writeln!(o, "      {}", esc(path));
        }
        if c.paths.len() > FILES_SHOWN {
            let _ = writeln!(o, "      ... {} more", c.paths.len() - FILES_SHOWN);
        }
    }
    if let Some(l) = &e.removed_in {
        let _ = writeln!(o, "  removed by {}", layer(l));
        let _ = writeln!(o, "    {}", command(l));
    }
    if !e.files.is_empty() {
        let by: Vec<String> = e
            .files_by_layer
            .iter()
            .map(|(l, n)| match l.as_str() {
                "gone" => format!("{n} gone"),
                l => format!("{n} from layer {l}"),
            })
            .collect();
        let _ = writeln!(o, "  owns {} files ({}):", e.files.len(), by.join(", "));
        for f in e.files.iter().take(FILES_SHOWN) {
            let at = f
                .layer
                .map_or_else(|| "gone".to_owned(), |l| format!("layer {l}"));
            let _ = writeln!(o, "    {} ({at})", esc(&f.path));
        }
        if e.files.len() > FILES_SHOWN {
            let _ = writeln!(
                o,
                "    ... {} more (--json lists all)",
                e.files.len() - FILES_SHOWN
            );
        }
    }
    if let Some(owner) = e.owned_by.as_ref().filter(|_| e.matched_record.is_none()) {
        let _ = writeln!(
            o,
            "  its files belong to the {} package {} {}",
            esc(&owner.kind),
            esc(&owner.name),
            esc(&owner.version)
        );
    }
    for d in &e.declared {
        let _ = writeln!(
            o,
            "  declared {} {} ({}) {}",
            esc(&d.name),
            esc(&d.version),
            esc(&d.purl),
            esc(&d.evidence.join("; "))
        );
    }
    for m in &e.merged {
        let _ = writeln!(
            o,
            "  also found by the {} cataloger as {}: {}",
            esc(&m.cataloger),
            esc(&m.purl),
            esc(&m.reason)
        );
    }
    let names = |v: &[crate::PackageRef]| {
        v.iter()
            .map(|p| esc(&p.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !e.depends_on.is_empty() {
        let _ = writeln!(o, "  depends on: {}", names(&e.depends_on));
    }
    if !e.required_by.is_empty() {
        let _ = writeln!(o, "  required by: {}", names(&e.required_by));
    }
    for w in &e.warnings {
        let _ = writeln!(o, "  warning: {}", esc(&w.to_string()));
    }
    o
}

pub fn layers(r: &Layers) -> String {
    let mut o = String::new();
    for s in &r.steps {
        let cmd = s
            .created_by
            .as_deref()
            .map(|c| esc(&one_line(c)))
            .unwrap_or_else(|| "(no build command recorded)".into());
        let base = if s.base { " [base image]" } else { "" };
        let Some(li) = s.layer else {
            let _ = writeln!(o, "     (no layer){base}  {cmd}");
            if let Some(i) = &s.instruction {
                let _ = writeln!(
                    o,
                    "        Dockerfile line {}: {}",
                    i.line,
                    esc(&one_line(&i.text))
                );
            }
            continue;
        };
        let Some(l) = r.layers.get(li) else { continue };
        let _ = writeln!(o, "layer {li}{base}  {cmd}");
        if let Some(i) = &l.instruction {
            let _ = writeln!(
                o,
                "        Dockerfile line {}: {}",
                i.line,
                esc(&one_line(&i.text))
            );
        }
        if let Some(d) = l.digest.as_ref().or(l.diff_id.as_ref()) {
            let _ = writeln!(o, "        {} ({} stored)", esc(d), bytes(l.size));
        }
        let _ = writeln!(
            o,
            "        wrote {} files, {}; {} of them ({}) overwritten or deleted later",
            l.files_added,
            bytes(l.bytes_added),
            l.files_wasted,
            bytes(l.bytes_wasted)
        );
        let _ = writeln!(
            o,
            "        packages: +{} added, ^{} upgraded, v{} downgraded, -{} removed",
            l.packages_added.len(),
            l.packages_upgraded.len(),
            l.packages_downgraded.len(),
            l.packages_removed.len()
        );
        for c in &l.packages_upgraded {
            let _ = writeln!(
                o,
                "          ^ {} {} -> {}",
                esc(&c.name),
                esc(&c.from),
                esc(&c.to)
            );
        }
        for c in &l.packages_downgraded {
            let _ = writeln!(
                o,
                "          v {} {} -> {}",
                esc(&c.name),
                esc(&c.from),
                esc(&c.to)
            );
        }
        for p in &l.packages_removed {
            let _ = writeln!(o, "          - {} {}", esc(&p.name), esc(&p.version));
        }
        for m in &l.packages_modified {
            let verb = if m.removed { "deleted" } else { "overwrote" };
            let _ = writeln!(
                o,
                "          ! {verb} {} files of {}",
                m.paths.len(),
                esc(&m.name)
            );
        }
        if l.unowned.count > 0 {
            let _ = writeln!(
                o,
                "        {} files ({}) no package owns:",
                l.unowned.count,
                bytes(l.unowned.bytes)
            );
            for p in l.unowned.paths.iter().take(UNOWNED_SHOWN) {
                let _ = writeln!(o, "          {}", esc(p));
            }
            if l.unowned.count > UNOWNED_SHOWN as u64 {
                let _ = writeln!(
                    o,
                    "          ... {} more (--json lists them)",
                    l.unowned.count - UNOWNED_SHOWN as u64
                );
            }
        }
    }
    let t = &r.totals;
    let _ = writeln!(
        o,
        "{} layers, {} packages; {} written, {} of it overwritten or deleted by later layers; {} files ({}) no package owns",
        t.layers,
        t.packages,
        bytes(t.bytes_added),
        bytes(t.bytes_wasted),
        t.unowned_files,
        bytes(t.unowned_bytes)
    );
    o
}

fn difference(d: &Difference, verb: &str) -> String {
    let v = |p: &Option<crate::PackageRef>| p.as_ref().map(|p| esc(&p.version)).unwrap_or_default();
    let mut s = match verb {
        "+" => format!("+ {} {}", esc(&d.name), v(&d.after)),
        "-" => format!("- {} {}", esc(&d.name), v(&d.before)),
        _ => format!(
            "{verb} {} {} -> {}",
            esc(&d.name),
            v(&d.before),
            v(&d.after)
        ),
    };
    s.push_str(&format!(" ({})", esc(&d.kind)));
    match &d.layer {
        Some(l) => s.push_str(&format!("\n    {}: {}", layer(l), command(l))),
        None if d.base => s.push_str("\n    came with the base image"),
        None => s.push_str("\n    no layer of the second image installed it"),
    }
    s
}

pub fn diff(d: &Diff) -> String {
    if d.is_empty() {
        return "no differences\n".into();
    }
    let mut o = String::new();
    for (list, verb, title) in [
        (&d.added, "+", "added"),
        (&d.removed, "-", "removed"),
        (&d.upgraded, "^", "upgraded"),
        (&d.downgraded, "v", "downgraded"),
        (&d.changed, "~", "changed (versions not comparable)"),
    ] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(o, "{title} ({}):", list.len());
        for x in list {
            let _ = writeln!(o, "  {}", difference(x, verb));
        }
    }
    if !d.licenses.is_empty() {
        let _ = writeln!(o, "license changed ({}):", d.licenses.len());
        for l in &d.licenses {
            let _ = writeln!(
                o,
                "  {} {}: {} -> {}",
                esc(&l.package.name),
                esc(&l.package.version),
                esc(l.before.as_deref().unwrap_or("NOASSERTION")),
                esc(l.after.as_deref().unwrap_or("NOASSERTION"))
            );
        }
    }
    let base = [&d.added, &d.removed, &d.upgraded, &d.downgraded, &d.changed]
        .iter()
        .flat_map(|l| l.iter())
        .filter(|x| x.base)
        .count();
    let total =
        d.added.len() + d.removed.len() + d.upgraded.len() + d.downgraded.len() + d.changed.len();
    let _ = writeln!(
        o,
        "{total} package differences ({base} from the base image, {} from the image's own layers), {} license changes",
        total - base,
        d.licenses.len()
    );
    o
}

/// The declared SBOMs compared with the scan (`cairn sbom --declared`).
pub fn declared(reports: &[crate::declared::DocumentReport]) -> String {
    let mut o = String::new();
    if reports.is_empty() {
        o.push_str("no declared SBOM: no BuildKit attestation, no SBOM referrer, no *.spdx.json, *.cdx.json or .spdx-* file in the image\n");
        return o;
    }
    let entry = |e: &crate::declared::Entry| {
        format!(
            "{} {}  {}  [{}]",
            esc(&e.name),
            esc(&e.version),
            esc(&e.purl),
            esc(&e.evidence.join("; "))
        )
    };
    for r in reports {
        let _ = write!(o, "declared SBOM: {}", esc(&r.origin));
        if let Some(l) = r.layer {
            let _ = write!(o, " (written by layer {l})");
        }
        o.push('\n');
        for n in &r.notes {
            let _ = writeln!(o, "  note: {}", esc(n));
        }
        if let Some(e) = &r.error {
            let _ = writeln!(o, "  not compared: {}", esc(e));
            continue;
        }
        let _ = writeln!(
            o,
            "  {} packages declared: {} declared but absent, {} present but undeclared, {} with another version",
            r.declared_packages,
            r.absent.len(),
            r.undeclared.len(),
            r.versions.len()
        );
        if !r.absent.is_empty() {
            let _ = writeln!(o, "  declared but absent ({}):", r.absent.len());
            for e in &r.absent {
                let _ = writeln!(o, "    - {}", entry(e));
            }
        }
        if !r.undeclared.is_empty() {
            let _ = writeln!(o, "  present but undeclared ({}):", r.undeclared.len());
            for e in &r.undeclared {
                let _ = writeln!(o, "    + {}", entry(e));
            }
        }
        if !r.versions.is_empty() {
            let _ = writeln!(o, "  versions disagree ({}):", r.versions.len());
            for v in &r.versions {
                let _ = writeln!(
                    o,
                    "    ~ {}: declared {}, found {}  [{}] [{}]",
                    esc(&v.found.name),
                    esc(&v.declared.version),
                    esc(&v.found.version),
                    esc(&v.declared.evidence.join("; ")),
                    esc(&v.found.evidence.join("; "))
                );
            }
        }
    }
    o
}
