//! The small files beside a distribution's metadata: `INSTALLER` (which tool installed
//! it), `direct_url.json` (PEP 610: installed from a URL, a VCS or a local directory,
//! perhaps editable), `top_level.txt` (its top-level modules) and an egg-info's
//! `requires.txt` (its requirements, by extra).

use super::metadata::requirement;

/// What one of those files says.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Beside {
    Installer(String),
    DirectUrl(DirectUrl),
    TopLevel(Vec<String>),
    /// Normalized names of the requirements outside `[extra]` sections.
    Requires(Vec<String>),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct DirectUrl {
    pub url: String,
    pub editable: bool,
    /// `git`, `hg`, ... and the commit, for a VCS checkout.
    pub vcs: Option<(String, String)>,
}

/// The largest of these files read (they are a few bytes to a few KiB).
pub(crate) const MAX_BESIDE: u64 = 1 << 20;

/// Top-level module names kept from `top_level.txt`.
const MAX_TOP_LEVEL: usize = 64;

pub(crate) fn parse(file_name: &str, bytes: &[u8]) -> Result<Beside, String> {
    if bytes.contains(&0) {
        return Err("binary data (NUL bytes)".into());
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        format!(
            "not valid UTF-8 (first bad byte at offset {})",
            e.valid_up_to()
        )
    })?;
    match file_name {
        "INSTALLER" => {
            let tool = text.lines().next().unwrap_or("").trim();
            if tool.is_empty() || tool.len() > 128 {
                return Err("no installer name on its first line".into());
            }
            Ok(Beside::Installer(tool.to_owned()))
        }
        "direct_url.json" => direct_url(text).map(Beside::DirectUrl),
        "top_level.txt" => Ok(Beside::TopLevel(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .take(MAX_TOP_LEVEL)
                .map(str::to_owned)
                .collect(),
        )),
        "requires.txt" => Ok(Beside::Requires(requires_txt(text))),
        other => Err(format!("{other} is not a file this cataloger reads")),
    }
}

fn direct_url(text: &str) -> Result<DirectUrl, String> {
    #[derive(serde::Deserialize)]
    struct Raw {
        url: String,
        #[serde(default)]
        dir_info: Option<DirInfo>,
        #[serde(default)]
        vcs_info: Option<VcsInfo>,
    }
    #[derive(serde::Deserialize)]
    struct DirInfo {
        #[serde(default)]
        editable: bool,
    }
    #[derive(serde::Deserialize)]
    struct VcsInfo {
        vcs: String,
        commit_id: String,
    }
    // serde_json's recursion limit (128) bounds the nesting of hostile input.
    let raw: Raw = serde_json::from_str(text).map_err(|e| format!("not PEP 610 JSON: {e}"))?;
    Ok(DirectUrl {
        url: raw.url,
        editable: raw.dir_info.is_some_and(|d| d.editable),
        vcs: raw.vcs_info.map(|v| (v.vcs, v.commit_id)),
    })
}

/// setuptools' `requires.txt`: requirement lines, then `[extra]`, `[extra:marker]` or
/// `[:marker]` sections. Sections of an extra are left out; a `[:marker]` section holds
/// requirements under an environment marker only, which is not evaluated: they are kept.
fn requires_txt(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_extra = false;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            in_extra = !section.trim_start().starts_with(':');
            continue;
        }
        if in_extra {
            continue;
        }
        if let Some(name) = requirement(line) {
            if out.len() >= super::metadata::MAX_LIST {
                break;
            }
            if !out.contains(&name) {
                out.push(name);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::python::tests::testdata;

    #[test]
    fn files_pip_wrote_beside_requests() {
        let d = "site-packages/requests-2.32.3.dist-info";
        assert_eq!(
            parse("INSTALLER", &testdata(&format!("{d}/INSTALLER"))),
            Ok(Beside::Installer("pip".into()))
        );
        assert_eq!(
            parse(
                "direct_url.json",
                &testdata(&format!("{d}/direct_url.json"))
            ),
            Ok(Beside::DirectUrl(DirectUrl {
                url: "file:///tmp/pyt/dl/requests-2.32.3-py3-none-any.whl".into(),
                editable: false,
                vcs: None
            }))
        );
        assert_eq!(
            parse("top_level.txt", &testdata(&format!("{d}/top_level.txt"))),
            Ok(Beside::TopLevel(vec!["requests".into()]))
        );
    }

    #[test]
    fn requires_txt_skips_extras() {
        let r = parse(
            "requires.txt",
            &testdata("egg/requests-2.32.3-py3.11.egg-info/requires.txt"),
        );
        assert_eq!(
            r,
            Ok(Beside::Requires(vec![
                "charset-normalizer".into(),
                "idna".into(),
                "urllib3".into(),
                "certifi".into()
            ]))
        );
        let g = parse(
            "requires.txt",
            &testdata("debian/PyGObject-3.42.2.egg-info/requires.txt"),
        );
        assert_eq!(g, Ok(Beside::Requires(vec!["pycairo".into()])));
        assert_eq!(
            requires_txt(
                "a\n[:python_version < \"3.8\"]\nb\n[test]\nc\n[x:sys_platform=='win32']\nd\n"
            ),
            vec!["a", "b"]
        );
    }

    #[test]
    fn editable_and_vcs_direct_urls() {
        let e = direct_url(r#"{"url": "file:///src/app", "dir_info": {"editable": true}}"#);
        assert_eq!(
            e,
            Ok(DirectUrl {
                url: "file:///src/app".into(),
                editable: true,
                vcs: None
            })
        );
        let v = direct_url(
            r#"{"url": "https://github.com/a/b", "vcs_info": {"vcs": "git", "commit_id": "abc"}}"#,
        )
        .unwrap();
        assert_eq!(v.vcs, Some(("git".into(), "abc".into())));
        assert!(direct_url("{").is_err());
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(direct_url(&deep).is_err());
        assert!(parse("INSTALLER", b"\xff").is_err());
    }
}
