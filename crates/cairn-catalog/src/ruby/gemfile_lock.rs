//! Bundler's `Gemfile.lock`: the `specs:` of its `GEM`, `GIT` and `PATH` sections, each
//! gem at four spaces (`    rack (3.0.8)`) with its dependencies at six.

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct LockedGem {
    pub name: String,
    pub version: String,
    /// The section it came from: `GEM` (a gem server), `GIT` or `PATH`.
    pub source: String,
    pub remote: Option<String>,
    pub dependencies: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct GemfileLock {
    pub gems: Vec<LockedGem>,
}

impl GemfileLock {
    pub(crate) fn parse(bytes: &[u8]) -> Result<GemfileLock, String> {
        let text = std::str::from_utf8(bytes).map_err(|_| "is not UTF-8".to_owned())?;
        let mut out = GemfileLock::default();
        let (mut section, mut remote, mut in_specs) = (String::new(), None, false);
        let mut saw_section = false;
        for line in text.lines() {
            if !line.starts_with(' ') {
                section = line.trim().to_owned();
                remote = None;
                in_specs = false;
                saw_section |= !section.is_empty();
                continue;
            }
            if !matches!(section.as_str(), "GEM" | "GIT" | "PATH") {
                continue;
            }
            let indent = line.len() - line.trim_start().len();
            let body = line.trim();
            match indent {
                2 => {
                    in_specs = body == "specs:";
                    if let Some(r) = body.strip_prefix("remote:") {
                        remote = Some(r.trim().to_owned());
                    }
                }
                4 if in_specs => {
                    let (name, version) = name_version(body).ok_or_else(|| {
                        format!("has a spec line that is not `NAME (VERSION)`: {body:?}")
                    })?;
                    out.gems.push(LockedGem {
                        name,
                        version,
                        source: section.clone(),
                        remote: remote.clone(),
                        dependencies: Vec::new(),
                    });
                }
                6 if in_specs => {
                    if let Some(g) = out.gems.last_mut() {
                        let dep = body.split_whitespace().next().unwrap_or(body).to_owned();
                        g.dependencies.push(dep);
                    }
                }
                _ => {}
            }
        }
        if !saw_section {
            return Err("has no sections (GEM, PLATFORMS, DEPENDENCIES)".into());
        }
        Ok(out)
    }
}

/// `rack (3.0.8)` or `nokogiri (1.15.4-x86_64-linux)`.
fn name_version(s: &str) -> Option<(String, String)> {
    let (name, rest) = s.split_once(" (")?;
    let version = rest.strip_suffix(')')?;
    (!name.is_empty() && !version.is_empty()).then(|| (name.to_owned(), version.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundler_lock() {
        let l = GemfileLock::parse(b"GEM\n  remote: https://rubygems.org/\n  specs:\n    mustermann (3.0.0)\n      ruby2_keywords (~> 0.0.1)\n    nokogiri (1.15.4-x86_64-linux)\n    ruby2_keywords (0.0.5)\n\nPLATFORMS\n  x86_64-linux\n\nDEPENDENCIES\n  mustermann\n\nBUNDLED WITH\n   2.4.10\n").unwrap();
        assert_eq!(l.gems.len(), 3);
        assert_eq!(l.gems[0].dependencies, ["ruby2_keywords"]);
        assert_eq!(l.gems[1].version, "1.15.4-x86_64-linux");
        assert_eq!(l.gems[0].remote.as_deref(), Some("https://rubygems.org/"));
        assert!(GemfileLock::parse(b"GEM\n  specs:\n    broken\n").is_err());
    }
}
