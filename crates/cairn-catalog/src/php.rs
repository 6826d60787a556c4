//! PHP: Composer's record of what it installed (`vendor/composer/installed.json`, in
//! Composer 1's layout, an array, and Composer 2's, `{"packages": [...]}`), and in
//! directory scans `composer.lock` as declared packages.

use crate::lang::{self, MAX_MANIFEST};
use crate::license;
use crate::purl::purl;
use crate::{Cataloger, Context, Findings};
use cairn_image::{
    EntryReader, Extractor, Fact, FactError, FactRef, FsView, PathPattern, Probe, SourceKind,
};
use cairn_sbom::Origin;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

pub(crate) struct Php;

const INSTALLED: &str = "composer-installed";
const LOCK: &str = "composer.lock";

impl Cataloger for Php {
    fn name(&self) -> &'static str {
        "php"
    }
    fn extractors(&self) -> Vec<Arc<dyn Extractor>> {
        vec![Arc::new(Files(INSTALLED)), Arc::new(Files(LOCK))]
    }
    fn catalog(&self, cx: &Context) -> Findings {
        catalog_view(cx.view, cx.image.kind)
    }
}

struct Files(&'static str);

impl Extractor for Files {
    fn name(&self) -> &'static str {
        self.0
    }
    fn patterns(&self) -> Vec<PathPattern> {
        vec![PathPattern::new(if self.0 == INSTALLED {
            "/**/vendor/composer/installed.json"
        } else {
            "/**/composer.lock"
        })]
    }
    fn extract(&self, _: &Probe, r: &mut EntryReader) -> Result<Option<Fact>, FactError> {
        let bytes = r.read_rest(MAX_MANIFEST)?;
        Composer::parse(&bytes, self.0 == LOCK)
            .map(|c| Some(Arc::new(c) as Fact))
            .map_err(FactError::from)
    }
}

/// A Composer package record.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ComposerPackage {
    pub name: String,
    pub version: String,
    pub licenses: Vec<String>,
    pub dev: bool,
    pub requires: Vec<String>,
    pub metadata: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Composer {
    pub packages: Vec<ComposerPackage>,
    /// Composer 1's layout (an array) rather than 2's.
    pub v1: bool,
}

impl Composer {
    /// `lock`: a `composer.lock` (`packages` and `packages-dev`), else an `installed.json`.
    pub(crate) fn parse(bytes: &[u8], lock: bool) -> Result<Composer, String> {
        // serde_json keeps its default recursion limit (128).
        let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
        let mut out = Composer::default();
        let (main, dev, dev_names): (&[Value], &[Value], std::collections::BTreeSet<&str>) =
            match &v {
                Value::Array(a) if !lock => {
                    out.v1 = true;
                    (a, &[], Default::default())
                }
                Value::Object(o) => {
                    let list = |k: &str| {
                        o.get(k)
                            .and_then(Value::as_array)
                            .map_or(&[][..], |a| a.as_slice())
                    };
                    let Some(Value::Array(_)) = o.get("packages") else {
                        return Err("has no \"packages\" array".into());
                    };
                    let names = o
                        .get("dev-package-names")
                        .and_then(Value::as_array)
                        .map(|a| a.iter().filter_map(Value::as_str).collect())
                        .unwrap_or_default();
                    (
                        list("packages"),
                        if lock { list("packages-dev") } else { &[] },
                        names,
                    )
                }
                _ => return Err("is neither a Composer 2 object nor a Composer 1 array".into()),
            };
        for (p, is_dev) in main
            .iter()
            .map(|p| (p, false))
            .chain(dev.iter().map(|p| (p, true)))
        {
            let Some(o) = p.as_object() else { continue };
            let s = |k: &str| {
                o.get(k)
                    .and_then(Value::as_str)
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
            };
            let (Some(name), Some(version)) = (s("name"), s("version")) else {
                continue;
            };
            let licenses = match o.get("license") {
                Some(Value::String(l)) => vec![l.clone()],
                Some(Value::Array(a)) => a
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
                _ => Vec::new(),
            };
            let requires = o
                .get("require")
                .and_then(Value::as_object)
                .map(|r| r.keys().filter(|k| k.contains('/')).cloned().collect())
                .unwrap_or_default();
            let mut metadata = BTreeMap::new();
            for k in ["description", "homepage", "type", "install-path"] {
                if let Some(v) = s(k) {
                    metadata.insert(k.to_owned(), v.to_owned());
                }
            }
            for (k, field) in [("source", "source"), ("dist", "dist")] {
                if let Some(src) = o.get(field).and_then(Value::as_object) {
                    if let Some(u) = src.get("url").and_then(Value::as_str) {
                        metadata.insert(format!("{k}-url"), u.to_owned());
                    }
                    if let Some(r) = src.get("reference").and_then(Value::as_str) {
                        metadata.insert(format!("{k}-reference"), r.to_owned());
                    }
                }
            }
            out.packages.push(ComposerPackage {
                name: name.to_owned(),
                version: version.to_owned(),
                licenses,
                dev: is_dev || dev_names.contains(&name),
                requires,
                metadata,
            });
        }
        Ok(out)
    }
}

fn composer_purl(name: &str, version: &str) -> String {
    match name.split_once('/') {
        Some((vendor, n)) => purl("composer", Some(vendor), n, version, &[]),
        None => purl("composer", None, name, version, &[]),
    }
}

fn packages(f: &FactRef, c: &Composer, introduced: usize, origin: Origin, out: &mut Findings) {
    let at = lang::location(f);
    let mut ids: BTreeMap<&str, String> = BTreeMap::new();
    for cp in &c.packages {
        let mut p = lang::package(
            "composer",
            "php",
            &cp.name,
            &cp.version,
            composer_purl(&cp.name, &cp.version),
            at.clone(),
            introduced,
        );
        p.origin = origin;
        p.dev = cp.dev;
        p.licenses = license::any_of(&cp.licenses, &at);
        p.metadata.extend(cp.metadata.clone());
        ids.insert(&cp.name, p.id.clone());
        out.packages.push(p);
    }
    out.relationships.extend(lang::edges_by_name(
        &ids,
        c.packages
            .iter()
            .map(|cp| (cp.name.as_str(), cp.requires.as_slice())),
    ));
}

pub(crate) fn catalog_view(view: &FsView, kind: SourceKind) -> Findings {
    let mut out = Findings::default();
    for (f, c) in lang::visible::<Composer>(view, INSTALLED, &mut out.warnings) {
        let introduced = lang::introduced::<Composer>(view, INSTALLED, &f, |d| d == c);
        packages(&f, c, introduced, Origin::Installed, &mut out);
    }
    if lang::is_dir_scan(kind) {
        for (f, c) in lang::visible::<Composer>(view, LOCK, &mut out.warnings) {
            let introduced = lang::introduced::<Composer>(view, LOCK, &f, |d| d == c);
            packages(&f, c, introduced, Origin::Declared, &mut out);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_installed_layouts_and_the_lock() {
        let v2 = br#"{"packages":[{"name":"psr/log","version":"3.0.0","license":["MIT"],"require":{"php":">=8.0"}},{"name":"a/b","version":"v1.0","require":{"psr/log":"^3"}}],"dev":true,"dev-package-names":["a/b"]}"#;
        let c = Composer::parse(v2, false).unwrap();
        assert!(!c.v1);
        assert_eq!(c.packages.len(), 2);
        assert!(c.packages[1].dev && !c.packages[0].dev);
        assert_eq!(c.packages[1].requires, ["psr/log"]);
        let v1 = br#"[{"name":"psr/log","version":"3.0.0","license":"MIT"}]"#;
        let c = Composer::parse(v1, false).unwrap();
        assert!(c.v1 && c.packages[0].licenses == ["MIT"]);
        let lock = br#"{"packages":[{"name":"psr/log","version":"3.0.0"}],"packages-dev":[{"name":"x/y","version":"1"}]}"#;
        let c = Composer::parse(lock, true).unwrap();
        assert!(c.packages[1].dev);
        assert!(Composer::parse(b"{}", false)
            .unwrap_err()
            .contains("packages"));
        assert!(Composer::parse(b"[1", false)
            .unwrap_err()
            .contains("not JSON"));
        assert_eq!(
            composer_purl("psr/log", "3.0.0"),
            "pkg:composer/psr/log@3.0.0"
        );
    }
}
