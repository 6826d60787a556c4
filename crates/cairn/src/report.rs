//! `cairn report`'s HTML page: one self-contained file. The stylesheet, the script and the
//! report data are inlined, so opening it fetches nothing (its Content-Security-Policy forbids
//! every fetch as well). The page builds its DOM from the data in
//! `<script type="application/json" id="cairn-data">`, so the markup stays small however many
//! packages there are.
//!
//! The assets are `report/report.{html,css,js}`; the page `cairn report` writes is tested in
//! Chromium by crates/cairn/tests/report.rs (through tests/browser/).

use serde_json::Value;

const HTML: &str = include_str!("report/report.html");
const CSS: &str = include_str!("report/report.css");
const JS: &str = include_str!("report/report.js");

/// The page for `data` (the report data `report_cmd::data` builds: `sbom`, `layers`,
/// `steps`, `totals`).
pub fn render(data: &Value) -> String {
    let json = script_safe_json(data);
    let mut out = String::with_capacity(HTML.len() + CSS.len() + JS.len() + json.len());
    let mut rest = HTML;
    for (marker, fill) in [
        ("/*CAIRN:CSS*/", CSS),
        ("/*CAIRN:DATA*/", json.as_str()),
        ("/*CAIRN:JS*/", JS),
    ] {
        // The markers are in report.html, in this order (a unit test checks it).
        let (before, after) = rest.split_once(marker).unwrap_or((rest, ""));
        out.push_str(before);
        out.push_str(fill);
        rest = after;
    }
    out.push_str(rest);
    out
}

/// `data` as JSON that cannot end the script element it sits in, nor be read as markup:
/// `<`, `>` and `&` become `\u003c`, `\u003e`, `\u0026`, and U+2028/U+2029 (line breaks to
/// old JavaScript parsers) `\u2028`, `\u2029`. JSON has those characters only inside strings,
/// where the escapes mean the same, so the page's `JSON.parse` reads back exactly `data`.
fn script_safe_json(data: &Value) -> String {
    let s = data.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 16);
    for c in s.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::Path;

    fn sample() -> Value {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/report-sample.json");
        let text = std::fs::read_to_string(&path).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    /// The JSON between the data script's tags, parsed.
    fn embedded(page: &str) -> Value {
        let start = page.find(r#"id="cairn-data">"#).unwrap() + r#"id="cairn-data">"#.len();
        let end = start + page[start..].find("</script>").unwrap();
        serde_json::from_str(&page[start..end]).unwrap()
    }

    #[test]
    fn the_template_has_its_markers_in_order_and_the_assets_cannot_break_out() {
        let css = HTML.find("/*CAIRN:CSS*/").unwrap();
        let data = HTML.find("/*CAIRN:DATA*/").unwrap();
        let js = HTML.find("/*CAIRN:JS*/").unwrap();
        assert!(css < data && data < js);
        for (name, asset) in [("css", CSS), ("js", JS)] {
            let lower = asset.to_ascii_lowercase();
            assert!(
                !lower.contains("</style") && !lower.contains("</script"),
                "{name}"
            );
            assert!(!lower.contains("<!--"), "{name}");
            assert!(!asset.contains("/*CAIRN:"), "{name}");
        }
        // Nothing names a place to fetch from: no URL, no import, no font.
        for asset in [HTML, CSS, JS] {
            for bad in [
                "http://",
                "https://",
                "//cdn",
                "@import",
                "@font-face",
                "url(",
            ] {
                assert!(!asset.contains(bad), "asset mentions {bad}");
            }
        }
        // And the page's policy forbids fetches anyway.
        assert!(HTML.contains("default-src 'none'"));
    }

    #[test]
    fn hostile_data_stays_data() {
        let hostile = "</script><script>alert(1)</script><!--<script>&amp;\u{2028}\u{2029}";
        let mut data = sample();
        data["sbom"]["packages"][0]["name"] = json!(hostile);
        data["sbom"]["source"]["name"] = json!(hostile);
        data["layers"][0]["created_by"] = json!(format!("RUN echo '{hostile}'"));
        let page = render(&data);
        // Only the template's own two script elements end; no data character is markup.
        assert_eq!(page.matches("</script").count(), 2);
        assert_eq!(page.matches("<script").count(), 2);
        assert!(!page.contains("alert(1)</"));
        assert!(!page.contains('\u{2028}') && !page.contains('\u{2029}'));
        // The page reads back exactly the data it was given.
        assert_eq!(embedded(&page), data);
    }

    /// The page's own markup, style and script are a fixed ~40 KB: the data is never copied
    /// into the markup (the page builds its DOM from the JSON), so a page's size is its data's
    /// plus that. (1,000 packages of the sample's size make ~8 MB, nearly all of it the owned
    /// files' paths and digests; bench/report.sh measures it.)
    #[test]
    fn the_markup_does_not_grow_with_the_data() {
        let small = sample();
        let mut big = sample();
        let base = big["sbom"]["packages"].as_array().unwrap().clone();
        let mut packages = Vec::new();
        for i in 0..(1000 / base.len() + 1) {
            for p in &base {
                let mut p = p.clone();
                p["id"] = json!(format!("{}-copy{i}", p["id"].as_str().unwrap()));
                packages.push(p);
            }
        }
        big["sbom"]["packages"] = Value::Array(packages);
        let overhead = |d: &Value| render(d).len() - script_safe_json(d).len();
        assert_eq!(overhead(&small), overhead(&big));
        assert!(overhead(&small) < 64_000, "{} bytes", overhead(&small));
    }
}
