//! Packages a Python project declares, read in `dir:` scans: pinned `*requirements*.txt`,
//! `poetry.lock`, `Pipfile.lock`, `uv.lock`, `pdm.lock` and `pylock.toml` (PEP 751). What
//! a lock file lists is what a build resolved, not proof that it is installed.
//!
//! Each file is read on its own: a requirements file's `-r`/`-c` includes are not
//! followed (every `*requirements*.txt` of the tree is matched by the cataloger's patterns
//! anyway), and nothing outside the file is opened.

use super::normalize;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Packages kept from one lock file; past it the rest are left out and reported.
pub(crate) const MAX_LOCK_PACKAGES: usize = 100_000;

/// One declared package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DeclaredPkg {
    /// As written.
    pub name: String,
    pub version: String,
    pub dev: bool,
    /// 1-based line, where the format makes it cheap to know (requirements files).
    pub line: Option<usize>,
    /// Normalized names of what it depends on, as the lock file says.
    pub deps: Vec<String>,
}

/// What one lock file declares.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Declared {
    pub packages: Vec<DeclaredPkg>,
    /// More packages than [`MAX_LOCK_PACKAGES`]: the rest were left out.
    pub truncated: bool,
}

impl Declared {
    fn push(&mut self, p: DeclaredPkg) {
        if self.packages.len() >= MAX_LOCK_PACKAGES {
            self.truncated = true;
        } else {
            self.packages.push(p);
        }
    }
}

/// The lock formats, by file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// `dev`: the file's name says it is for development (`requirements-dev.txt`,
    /// `requirements/test.txt`).
    Requirements {
        dev: bool,
    },
    Poetry,
    Pipfile,
    Uv,
    Pdm,
    Pylock,
}

impl Format {
    /// The format of the file at `path` (no leading `/`), if it is one.
    pub(crate) fn of(path: &str) -> Option<Format> {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        let parent = dir.rsplit('/').next().unwrap_or(dir);
        Some(match name {
            "poetry.lock" => Format::Poetry,
            "Pipfile.lock" => Format::Pipfile,
            "uv.lock" => Format::Uv,
            "pdm.lock" => Format::Pdm,
            "pylock.toml" => Format::Pylock,
            n if n.starts_with("pylock.") && n.ends_with(".toml") => Format::Pylock,
            n if n.ends_with(".txt")
                && (n.contains("requirements") || parent == "requirements") =>
            {
                let stem = n.trim_end_matches(".txt").to_ascii_lowercase();
                Format::Requirements {
                    dev: ["dev", "test"].iter().any(|w| stem.contains(w)),
                }
            }
            _ => return None,
        })
    }
}

/// Parse a lock file of the given format. An error: the file is not in its format at all.
pub(crate) fn parse(format: Format, bytes: &[u8]) -> Result<Declared, String> {
    if bytes.contains(&0) {
        return Err("binary data (NUL bytes), not a lock file".into());
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        format!(
            "not valid UTF-8 (first bad byte at offset {})",
            e.valid_up_to()
        )
    })?;
    match format {
        Format::Requirements { dev } => Ok(requirements(text, dev)),
        Format::Poetry => poetry(text),
        Format::Pipfile => pipfile(text),
        Format::Uv => uv(text),
        Format::Pdm => pdm(text),
        Format::Pylock => pylock(text),
    }
}

/// `name==version` pins of a requirements file; everything else (unpinned or ranged
/// requirements, URLs, options, includes) declares no version and is skipped.
fn requirements(text: &str, dev: bool) -> Declared {
    let mut out = Declared::default();
    let mut logical = String::new();
    let mut first_line = 0;
    for (i, raw) in text.lines().enumerate() {
        if logical.is_empty() {
            first_line = i + 1;
        }
        // A comment starts at `#` at the line's start or after whitespace.
        let line = match raw.find(" #").or_else(|| raw.find("\t#")) {
            Some(p) => &raw[..p],
            None if raw.trim_start().starts_with('#') => "",
            None => raw,
        };
        if let Some(cont) = line.strip_suffix('\\') {
            logical.push_str(cont);
            logical.push(' ');
            continue;
        }
        logical.push_str(line);
        let entry = std::mem::take(&mut logical);
        if let Some((name, version)) = pin(&entry) {
            out.push(DeclaredPkg {
                name,
                version,
                dev,
                line: Some(first_line),
                deps: Vec::new(),
            });
        }
    }
    out
}

/// `name[extras]==version [; marker] [--hash=...]` as name and version.
fn pin(entry: &str) -> Option<(String, String)> {
    let e = entry.trim();
    if e.is_empty() || e.starts_with('-') {
        return None; // -r, -c, -e, --index-url, ...
    }
    // Options after the requirement (`--hash=...`) and the marker are not the pin.
    let e = e.split(" --").next().unwrap_or(e);
    let e = e.split(';').next().unwrap_or(e).trim();
    if e.contains('@') {
        return None; // `name @ url`
    }
    let end = e
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        .unwrap_or(e.len());
    let name = &e[..end];
    let mut rest = e[end..].trim_start();
    if rest.starts_with('[') {
        rest = rest[rest.find(']')? + 1..].trim_start();
    }
    let version = rest
        .strip_prefix("===")
        .or_else(|| rest.strip_prefix("=="))?
        .trim();
    let ok = !name.is_empty()
        && !version.is_empty()
        && !version.contains(['*', ',', ' ', '<', '>', '=', '!', '~']);
    ok.then(|| (name.to_owned(), version.to_owned()))
}

/// A TOML document into `T`. toml's parser stops nesting at 80 levels (its recursion
/// limit), so a hostile document cannot exhaust the stack.
fn toml_doc<'de, T: Deserialize<'de>>(text: &'de str, what: &str) -> Result<T, String> {
    toml::from_str(text).map_err(|e| {
        let msg = e.message().to_owned();
        match e.span() {
            Some(s) => format!(
                "not a {what} (line {}): {msg}",
                text[..s.start.min(text.len())].lines().count().max(1)
            ),
            None => format!("not a {what}: {msg}"),
        }
    })
}

fn poetry(text: &str) -> Result<Declared, String> {
    #[derive(Deserialize)]
    struct Doc {
        #[serde(default)]
        package: Vec<Pkg>,
    }
    #[derive(Deserialize)]
    struct Pkg {
        name: String,
        version: String,
        /// Poetry before 1.5 (lock format 1.x): `main` or `dev`.
        #[serde(default)]
        category: Option<String>,
        /// Poetry 2 (lock format 2.1): the groups that require it.
        #[serde(default)]
        groups: Vec<String>,
        #[serde(default)]
        dependencies: BTreeMap<String, toml::Value>,
    }
    let doc: Doc = toml_doc(text, "poetry.lock")?;
    let mut out = Declared::default();
    for p in doc.package {
        let dev = p.category.as_deref() == Some("dev")
            || (!p.groups.is_empty() && !p.groups.iter().any(|g| g == "main"));
        out.push(DeclaredPkg {
            name: p.name,
            version: p.version,
            dev,
            line: None,
            deps: p.dependencies.keys().map(|k| normalize(k)).collect(),
        });
    }
    Ok(out)
}

fn pipfile(text: &str) -> Result<Declared, String> {
    #[derive(Deserialize)]
    struct Doc {
        #[serde(default)]
        default: BTreeMap<String, Entry>,
        #[serde(default)]
        develop: BTreeMap<String, Entry>,
    }
    #[derive(Deserialize)]
    struct Entry {
        #[serde(default)]
        version: Option<String>,
    }
    // serde_json stops nesting at 128 levels (its recursion limit).
    let doc: Doc = serde_json::from_str(text).map_err(|e| format!("not a Pipfile.lock: {e}"))?;
    let mut out = Declared::default();
    for (section, dev) in [(doc.default, false), (doc.develop, true)] {
        for (name, e) in section {
            // A VCS or path entry has no version.
            let Some(v) = e.version.as_deref().and_then(|v| v.strip_prefix("==")) else {
                continue;
            };
            out.push(DeclaredPkg {
                name,
                version: v.to_owned(),
                dev,
                line: None,
                deps: Vec::new(),
            });
        }
    }
    Ok(out)
}

/// uv.lock names no group on a package: a package is a development one when only the
/// project's `dev-dependencies` (its dependency groups) reach it, not its dependencies or
/// extras. The projects themselves (`virtual` and `editable` sources) are not reported.
fn uv(text: &str) -> Result<Declared, String> {
    #[derive(Deserialize)]
    struct Doc {
        #[serde(default)]
        package: Vec<Pkg>,
    }
    #[derive(Deserialize)]
    struct Pkg {
        name: String,
        #[serde(default)]
        version: Option<String>,
        #[serde(default)]
        source: BTreeMap<String, toml::Value>,
        #[serde(default)]
        dependencies: Vec<Dep>,
        #[serde(default, rename = "optional-dependencies")]
        optional: BTreeMap<String, Vec<Dep>>,
        #[serde(default, rename = "dev-dependencies")]
        dev: BTreeMap<String, Vec<Dep>>,
    }
    #[derive(Deserialize)]
    struct Dep {
        name: String,
    }
    let doc: Doc = toml_doc(text, "uv.lock")?;
    let is_project =
        |p: &Pkg| p.source.contains_key("virtual") || p.source.contains_key("editable");
    let runtime = |p: &Pkg| -> Vec<String> {
        p.dependencies
            .iter()
            .chain(p.optional.values().flatten())
            .map(|d| normalize(&d.name))
            .collect()
    };
    let by_name: BTreeMap<String, &Pkg> = doc
        .package
        .iter()
        .map(|p| (normalize(&p.name), p))
        .collect();
    let reach = |starts: Vec<String>| {
        let mut seen = BTreeSet::new();
        let mut queue: VecDeque<String> = starts.into();
        while let Some(n) = queue.pop_front() {
            if !seen.insert(n.clone()) {
                continue;
            }
            if let Some(p) = by_name.get(&n) {
                queue.extend(runtime(p));
            }
        }
        seen
    };
    let projects: Vec<&Pkg> = doc.package.iter().filter(|p| is_project(p)).collect();
    let main = reach(projects.iter().flat_map(|p| runtime(p)).collect());
    let dev_reach = reach(
        projects
            .iter()
            .flat_map(|p| p.dev.values().flatten().map(|d| normalize(&d.name)))
            .collect(),
    );
    let mut out = Declared::default();
    for p in &doc.package {
        if is_project(p) {
            continue;
        }
        let Some(version) = &p.version else { continue };
        let n = normalize(&p.name);
        out.push(DeclaredPkg {
            name: p.name.clone(),
            version: version.clone(),
            dev: !main.contains(&n) && dev_reach.contains(&n),
            line: None,
            deps: runtime(p),
        });
    }
    Ok(out)
}

fn pdm(text: &str) -> Result<Declared, String> {
    #[derive(Deserialize)]
    struct Doc {
        #[serde(default)]
        package: Vec<Pkg>,
    }
    #[derive(Deserialize)]
    struct Pkg {
        name: String,
        version: String,
        #[serde(default)]
        groups: Vec<String>,
        #[serde(default)]
        dependencies: Vec<String>,
    }
    let doc: Doc = toml_doc(text, "pdm.lock")?;
    let mut out = Declared::default();
    for p in doc.package {
        let dev = !p.groups.is_empty() && !p.groups.iter().any(|g| g == "default");
        out.push(DeclaredPkg {
            name: p.name,
            version: p.version,
            dev,
            line: None,
            deps: p
                .dependencies
                .iter()
                .filter_map(|d| super::metadata::requirement(d))
                .collect(),
        });
    }
    Ok(out)
}

/// PEP 751. A package is a development one when its marker limits it to dependency
/// groups none of which is a default group.
fn pylock(text: &str) -> Result<Declared, String> {
    #[derive(Deserialize)]
    struct Doc {
        #[serde(rename = "lock-version")]
        lock_version: String,
        #[serde(default, rename = "default-groups")]
        default_groups: Vec<String>,
        #[serde(default)]
        packages: Vec<Pkg>,
    }
    #[derive(Deserialize)]
    struct Pkg {
        name: String,
        #[serde(default)]
        version: Option<String>,
        #[serde(default)]
        marker: Option<String>,
    }
    let doc: Doc = toml_doc(text, "pylock.toml")?;
    if !doc.lock_version.starts_with("1.") {
        return Err(format!(
            "lock-version {} is not one this reader knows (1.x)",
            doc.lock_version
        ));
    }
    // Markers are matched against each default group: a few are real, more are hostile.
    let defaults = &doc.default_groups[..doc.default_groups.len().min(64)];
    let mut out = Declared::default();
    for p in doc.packages {
        let Some(version) = p.version else { continue };
        let dev = p.marker.as_deref().is_some_and(|m| {
            m.contains("dependency_groups")
                && !defaults
                    .iter()
                    .any(|g| m.contains(&format!("'{g}'")) || m.contains(&format!("\"{g}\"")))
        });
        out.push(DeclaredPkg {
            name: p.name,
            version,
            dev,
            line: None,
            deps: Vec::new(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock(name: &str) -> Declared {
        let b = std::fs::read(format!(
            "{}/src/python/testdata/locks/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        parse(Format::of(name).unwrap(), &b).unwrap()
    }

    fn summary(d: &Declared) -> Vec<(String, String, bool)> {
        let mut v: Vec<_> = d
            .packages
            .iter()
            .map(|p| (p.name.clone(), p.version.clone(), p.dev))
            .collect();
        v.sort();
        v
    }

    fn expected(dev_known: bool) -> Vec<(String, String, bool)> {
        [
            ("idna", "3.10", false),
            ("iniconfig", "2.0.0", dev_known),
            ("python-dateutil", "2.9.0.post0", false),
            ("six", "1.17.0", false),
        ]
        .iter()
        .map(|(n, v, d)| (n.to_string(), v.to_string(), *d))
        .collect()
    }

    #[test]
    fn the_same_project_locked_by_each_tool() {
        assert_eq!(summary(&lock("poetry.lock")), expected(true));
        assert_eq!(summary(&lock("uv.lock")), expected(true));
        assert_eq!(summary(&lock("Pipfile.lock")), expected(true));
        // uv's pylock.toml export of every group marks none of them.
        assert_eq!(summary(&lock("pylock.toml")), expected(false));
        // A requirements export has no groups either.
        assert_eq!(summary(&lock("requirements.txt")), expected(false));
        assert_eq!(summary(&lock("requirements-hashes.txt")), expected(false));
        let dateutil = |d: &Declared| {
            d.packages
                .iter()
                .find(|p| p.name == "python-dateutil")
                .unwrap()
                .deps
                .clone()
        };
        assert_eq!(dateutil(&lock("poetry.lock")), vec!["six"]);
        assert_eq!(dateutil(&lock("uv.lock")), vec!["six"]);
    }

    #[test]
    fn requirements_lines_and_what_is_not_a_pin() {
        let r = lock("requirements-hashes.txt");
        let idna = r.packages.iter().find(|p| p.name == "idna").unwrap();
        assert_eq!(idna.line, Some(3));
        let text = "\
-r base.txt\n\
-c constraints.txt\n\
--index-url https://example.org/simple\n\
# a comment\n\
Django==4.2.1  # pinned\n\
requests>=2\n\
flask\n\
numpy==1.*\n\
attrs==23.1.0,<24\n\
pkg @ https://example.org/pkg.whl\n\
-e git+https://example.org/x.git#egg=x\n\
Foo_Bar[extra1,extra2]==1.0 ; python_version > \"3.8\" \\\n    --hash=sha256:00\n\
arbitrary===1.0-weird\n";
        let d = requirements(text, true);
        let got: Vec<(&str, &str, Option<usize>)> = d
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.line))
            .collect();
        assert_eq!(
            got,
            vec![
                ("Django", "4.2.1", Some(5)),
                ("Foo_Bar", "1.0", Some(12)),
                ("arbitrary", "1.0-weird", Some(14))
            ]
        );
        assert!(d.packages.iter().all(|p| p.dev));
    }

    /// `name==version` lines of a tool's listing (requirements exports, `pip freeze`) or,
    /// for `poetry show`, its first two columns.
    fn listed(path: &std::path::Path) -> BTreeSet<(String, String)> {
        let text = std::fs::read_to_string(path).unwrap();
        text.lines()
            .filter_map(|l| {
                let l = l.split(';').next().unwrap().trim();
                if let Some((n, v)) = l.split_once("==") {
                    return Some((normalize(n), v.trim().to_owned()));
                }
                let f: Vec<&str> = l.split_whitespace().filter(|w| *w != "(!)").collect();
                (f.len() >= 2 && !l.starts_with(['#', '-']))
                    .then(|| (normalize(f[0]), f[1].to_owned()))
            })
            .collect()
    }

    /// The lock files of fixtures/lang/dir (written there by each real tool, see its
    /// README) against what the same tool lists: every package, and the development ones
    /// (all of them less what the tool lists for production).
    #[test]
    fn lock_fixtures_match_their_tools_listings() {
        let dir = crate::require::workspace_root().join("fixtures/lang/dir");
        if !crate::require::require(&format!("fixture {}", dir.display()), dir.exists()) {
            return;
        }
        let read = |rel: &str| {
            let path = dir.join(rel);
            let b = std::fs::read(&path).unwrap();
            let d = parse(Format::of(rel).unwrap(), &b).unwrap();
            let all: BTreeSet<(String, String)> = d
                .packages
                .iter()
                .map(|p| (normalize(&p.name), p.version.clone()))
                .collect();
            let dev: BTreeSet<(String, String)> = d
                .packages
                .iter()
                .filter(|p| p.dev)
                .map(|p| (normalize(&p.name), p.version.clone()))
                .collect();
            (all, dev)
        };
        let t = |rel: &str| listed(&dir.join(rel));
        let cases = [
            (
                "python-poetry/poetry.lock",
                "python-poetry/truth.poetry-show.txt",
                "python-poetry/truth.poetry-show-main.txt",
            ),
            (
                "python-uv/uv.lock",
                "python-uv/truth.uv-export-requirements.txt",
                "python-uv/truth.uv-export-requirements-main.txt",
            ),
            (
                "python-pdm/pdm.lock",
                "python-pdm/truth.pdm-export-requirements.txt",
                "python-pdm/truth.pdm-export-requirements-main.txt",
            ),
        ];
        for (lock, all, main) in cases {
            let (got_all, got_dev) = read(lock);
            let mut want_all = t(all);
            if lock.ends_with("poetry.lock") {
                // click's Windows-only colorama: locked, but `poetry show` on Linux hides
                // it (uv's and pdm's exports list it with its marker).
                want_all.insert(("colorama".into(), "0.4.6".into()));
            }
            assert_eq!(got_all, want_all, "{lock}");
            let want_dev: BTreeSet<_> = t(all).difference(&t(main)).cloned().collect();
            assert!(!want_dev.is_empty());
            assert_eq!(got_dev, want_dev, "{lock}");
        }
        // Pipfile.lock: `pipenv requirements` lists the default section, `--dev` the
        // develop one.
        let (all, dev) = read("python-pipenv/Pipfile.lock");
        let (main, devs) = (
            t("python-pipenv/truth.pipenv-requirements.txt"),
            t("python-pipenv/truth.pipenv-requirements-dev.txt"),
        );
        assert_eq!(all, main.union(&devs).cloned().collect());
        assert_eq!(dev, devs.difference(&main).cloned().collect());
        // uv's pylock.toml export of the same project has every package, none marked.
        let (all, dev) = read("python-pylock/pylock.toml");
        assert_eq!(all, t("python-uv/truth.uv-export-requirements.txt"));
        assert!(dev.is_empty());
        // pip-compile's two files hold what pip installed from them.
        let (main, none) = read("python-requirements/requirements.txt");
        let (devs, dev_all) = read("python-requirements/requirements-dev.txt");
        assert!(none.is_empty());
        assert_eq!(devs, dev_all);
        assert_eq!(
            main.union(&devs).cloned().collect::<BTreeSet<_>>(),
            t("python-requirements/truth.pip-freeze.txt")
        );
    }

    /// The pdm.lock shape (lock_version 4.x: `groups` on each package, requirements as PEP
    /// 508 strings) with what fixtures/lang's real one lacks: a requirement behind an extra.
    #[test]
    fn pdm_groups() {
        let text = r#"
[metadata]
groups = ["default", "dev"]
strategy = ["inherit_metadata"]
lock_version = "4.5.0"

[[package]]
name = "python-dateutil"
version = "2.9.0.post0"
groups = ["default"]
dependencies = [
    "six>=1.5",
    'colorama; platform_system == "Windows"',
    'pytest; extra == "test"',
]

[[package]]
name = "six"
version = "1.17.0"
groups = ["default"]

[[package]]
name = "iniconfig"
version = "2.0.0"
groups = ["dev"]
"#;
        let d = parse(Format::Pdm, text.as_bytes()).unwrap();
        let got: Vec<(&str, bool, Vec<String>)> = d
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.dev, p.deps.clone()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "python-dateutil",
                    false,
                    vec!["six".into(), "colorama".into()]
                ),
                ("six", false, vec![]),
                ("iniconfig", true, vec![]),
            ]
        );
    }

    #[test]
    fn formats_by_name() {
        assert_eq!(
            Format::of("app/requirements-dev.txt"),
            Some(Format::Requirements { dev: true })
        );
        assert_eq!(
            Format::of("app/requirements/prod.txt"),
            Some(Format::Requirements { dev: false })
        );
        assert_eq!(
            Format::of("app/dev-requirements.txt"),
            Some(Format::Requirements { dev: true })
        );
        assert_eq!(Format::of("app/pylock.dev.toml"), Some(Format::Pylock));
        assert_eq!(Format::of("app/notes.txt"), None);
    }

    #[test]
    fn hostile_lock_files_are_errors_not_crashes() {
        let deep_toml = format!("a = {}1{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse(Format::Poetry, deep_toml.as_bytes()).is_err());
        let deep_inline = format!("a = {}{}", "{b=".repeat(50_000), "}".repeat(50_000));
        assert!(parse(Format::Uv, deep_inline.as_bytes()).is_err());
        let dotted = format!("{} = 1", vec!["a"; 50_000].join("."));
        assert!(parse(Format::Pdm, dotted.as_bytes()).is_err());
        let deep_json = format!(
            "{{\"default\": {{\"x\": {}{}}}}}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert!(parse(Format::Pipfile, deep_json.as_bytes()).is_err());
        assert!(parse(Format::Poetry, b"[[package]]\nname = 1\n").is_err());
        assert!(parse(Format::Pylock, b"lock-version = \"2.0\"\n").is_err());
        assert!(parse(Format::Uv, b"\xff\xfe").is_err());
        // Many packages: the first MAX_LOCK_PACKAGES are kept and the file is truncated.
        let many: String = (0..MAX_LOCK_PACKAGES + 5)
            .map(|i| format!("p{i}==1.0\n"))
            .collect();
        let d = parse(Format::Requirements { dev: false }, many.as_bytes()).unwrap();
        assert_eq!(d.packages.len(), MAX_LOCK_PACKAGES);
        assert!(d.truncated);
    }
}
