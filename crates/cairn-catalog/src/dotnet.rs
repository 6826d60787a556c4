//! .NET: an application's `*.deps.json` (the NuGet packages and projects of its runtime
//! target), and, in a directory with no `deps.json`, each managed assembly by the version
//! resource its build wrote (`ProductName`/`InternalName`, `ProductVersion`).

mod deps;
mod pe;

use crate::lang::{self, MAX_MANIFEST};
use crate::purl::purl;
use crate::{Cataloger, Context, Findings};
use cairn_image::{EntryReader, Extractor, Fact, FactError, FsView, PathPattern, Probe};
use deps::Deps;
use pe::{VersionInfo, MAX_ASSEMBLY};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::sync::Arc;

pub(crate) struct Dotnet;

const DEPS: &str = "deps.json";
const ASSEMBLY: &str = "dotnet-assembly";

impl Cataloger for Dotnet {
    fn name(&self) -> &'static str {
        "dotnet"
    }
    fn extractors(&self) -> Vec<Arc<dyn Extractor>> {
        vec![Arc::new(DepsFiles), Arc::new(Assemblies)]
    }
    fn catalog(&self, cx: &Context) -> Findings {
        catalog_view(cx.view)
    }
}

struct DepsFiles;

impl Extractor for DepsFiles {
    fn name(&self) -> &'static str {
        DEPS
    }
    fn patterns(&self) -> Vec<PathPattern> {
        vec![PathPattern::new("/**/*.deps.json")]
    }
    fn extract(&self, _: &Probe, r: &mut EntryReader) -> Result<Option<Fact>, FactError> {
        let bytes = r.read_rest(MAX_MANIFEST)?;
        Deps::parse(&bytes)
            .map(|d| Some(Arc::new(d) as Fact))
            .map_err(FactError::from)
    }
}

struct Assemblies;

impl Extractor for Assemblies {
    fn name(&self) -> &'static str {
        ASSEMBLY
    }
    fn patterns(&self) -> Vec<PathPattern> {
        vec![PathPattern::new("/**/*.dll"), PathPattern::new("/**/*.exe")]
    }
    fn extract(&self, p: &Probe, r: &mut EntryReader) -> Result<Option<Fact>, FactError> {
        if p.size > MAX_ASSEMBLY {
            return Err(FactError::limit(format!(
                "{} bytes, over the {MAX_ASSEMBLY}-byte limit for an assembly; not read",
                p.size
            )));
        }
        // The resource section may be anywhere: the file is read whole, not kept.
        let mut bytes = Vec::with_capacity(p.size as usize);
        r.uncharged()
            .take(MAX_ASSEMBLY)
            .read_to_end(&mut bytes)
            .map_err(|e| e.to_string())?;
        pe::version_info(&bytes)
            .map(|v| v.map(|v| Arc::new(v) as Fact))
            .map_err(FactError::from)
    }
}

fn dir_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

pub(crate) fn catalog_view(view: &FsView) -> Findings {
    let mut out = Findings::default();
    let mut with_deps = BTreeSet::new();
    for (f, d) in lang::visible::<Deps>(view, DEPS, &mut out.warnings) {
        with_deps.insert(dir_of(f.path));
        let introduced = lang::introduced::<Deps>(view, DEPS, &f, |e| e == d);
        let at = lang::location(&f);
        let mut ids: BTreeMap<&str, String> = BTreeMap::new();
        for l in &d.libraries {
            if l.kind != "package" && l.kind != "project" {
                continue; // a framework reference: part of the runtime, not of the application
            }
            let mut p = lang::package(
                "nuget",
                "dotnet",
                &l.name,
                &l.version,
                purl("nuget", None, &l.name, &l.version, &[]),
                at.clone(),
                introduced,
            );
            let md = &mut p.metadata;
            md.insert("library-type".into(), l.kind.clone());
            md.insert("runtime-target".into(), d.runtime_target.clone());
            if let Some(s) = &l.sha512 {
                md.insert("sha512".into(), s.clone());
            }
            if let Some(s) = &l.path {
                md.insert("path".into(), s.clone());
            }
            if !l.has_assets {
                md.insert("runtime-assets".into(), "none".into());
            }
            ids.insert(&l.name, p.id.clone());
            out.packages.push(p);
        }
        out.relationships.extend(lang::edges_by_name(
            &ids,
            d.libraries
                .iter()
                .map(|l| (l.name.as_str(), l.dependencies.as_slice())),
        ));
    }
    for (f, v) in lang::visible::<VersionInfo>(view, ASSEMBLY, &mut out.warnings) {
        if with_deps.contains(dir_of(f.path)) {
            continue; // its deps.json says what it is
        }
        let file = f.path.rsplit('/').next().unwrap_or(f.path);
        let stem = |s: &str| {
            let l = s.to_ascii_lowercase();
            if l.ends_with(".dll") || l.ends_with(".exe") {
                s[..s.len() - 4].to_owned()
            } else {
                s.to_owned()
            }
        };
        let name = v
            .get("InternalName")
            .or_else(|| v.get("OriginalFilename"))
            .map(stem)
            .unwrap_or_else(|| stem(file));
        // `1.2.3+commit`: the part before `+` is the package version.
        let Some(version) = v
            .get("ProductVersion")
            .or_else(|| v.get("FileVersion"))
            .map(|s| s.split('+').next().unwrap_or(s).trim().to_owned())
        else {
            continue;
        };
        let introduced = lang::introduced::<VersionInfo>(view, ASSEMBLY, &f, |w| w == v);
        let mut p = lang::package(
            "nuget",
            "dotnet",
            &name,
            &version,
            purl("nuget", None, &name, &version, &[]),
            lang::location(&f),
            introduced,
        );
        for (k, key) in [
            ("product-name", "ProductName"),
            ("product-version", "ProductVersion"),
            ("file-version", "FileVersion"),
            ("company", "CompanyName"),
            ("description", "FileDescription"),
            ("copyright", "LegalCopyright"),
        ] {
            if let Some(s) = v.get(key) {
                p.metadata.insert(k.into(), s.into());
            }
        }
        p.maintainer = v.get("CompanyName").map(str::to_owned);
        out.packages.push(p);
    }
    out
}
