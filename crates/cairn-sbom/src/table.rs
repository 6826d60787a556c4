//! The default human output: one row per package.

use crate::model::Sbom;
use crate::text::escape_control;
use comfy_table::{presets::NOTHING, Table};

pub(crate) fn render(sbom: &Sbom) -> String {
    let mut t = Table::new();
    t.load_preset(NOTHING);
    t.set_header(vec!["NAME", "VERSION", "TYPE", "LAYER", "LICENSE"]);
    for p in &sbom.packages {
        let layer = p
            .evidence
            .introduced_in
            .map(|i| {
                if p.evidence.changes.is_empty() {
                    i.to_string()
                } else {
                    let later: Vec<String> = p
                        .evidence
                        .changes
                        .iter()
                        .map(|c| c.layer.to_string())
                        .collect();
                    format!("{i} (changed in {})", later.join(","))
                }
            })
            .unwrap_or_default();
        let declared = p.licenses.declared.as_deref().unwrap_or_default();
        t.add_row(vec![
            escape_control(&p.name).into_owned(),
            escape_control(&p.version).into_owned(),
            escape_control(&p.kind).into_owned(),
            layer,
            escape_control(declared).into_owned(),
        ]);
    }
    let mut s = t.to_string();
    // comfy-table pads every cell; trailing spaces help no one.
    s = s.lines().map(str::trim_end).collect::<Vec<_>>().join("\n");
    s.push('\n');
    if !sbom.complete {
        s.push_str("\nINCOMPLETE: some inputs could not be read; packages may be missing:\n");
        for w in &sbom.warnings {
            s.push_str(&format!("  - {}\n", escape_control(&w.to_string())));
        }
    }
    s
}
