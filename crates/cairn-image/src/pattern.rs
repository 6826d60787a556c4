//! Path patterns with which catalogers declare, before the scan, which files they need.

/// A glob over absolute image paths, matched segment by segment: `*` matches any run of
/// characters inside one path segment (never `/`), `**` as a whole segment matches any number
/// of segments. Patterns are written with a leading `/` (`/var/lib/dpkg/info/*.list`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathPattern {
    text: String,
    segments: Vec<String>,
}

impl PathPattern {
    pub fn new(pattern: &str) -> Self {
        let segments = pattern
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        PathPattern {
            text: pattern.to_owned(),
            segments,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Match a normalized image path (with or without its leading `/`).
    pub fn matches(&self, path: &str) -> bool {
        let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        match_segments(&self.segments, &parts)
    }

    /// Whether some path strictly below the directory `dir` could match: a directory that
    /// cannot be read may hold files a cataloger asked for.
    pub fn may_match_below(&self, dir: &str) -> bool {
        let parts: Vec<&str> = dir.split('/').filter(|s| !s.is_empty()).collect();
        prefix_matches(&self.segments, &parts)
    }

    /// An `--exclude` pattern as Syft takes it: it must start with `/`, `./`, `*/` or `**/`,
    /// and is relative to the scanned root (`./x` and `/x` are the same path). Returns
    /// `None` for a pattern of any other form.
    pub fn exclusion(pattern: &str) -> Option<PathPattern> {
        let anchored = if let Some(rest) = pattern.strip_prefix("./") {
            format!("/{rest}")
        } else if pattern.starts_with('/')
            || pattern.starts_with("*/")
            || pattern.starts_with("**/")
        {
            pattern.to_owned()
        } else {
            return None;
        };
        Some(PathPattern::new(&anchored))
    }
}

/// Parse `--exclude` patterns, naming every invalid one in one message, as Syft does.
/// Character classes (`[...]`) and braces (`{a,b}`) are refused rather than taken
/// literally: a pattern copied from Syft that uses them would silently exclude nothing.
pub fn exclusions(patterns: &[String]) -> Result<Vec<PathPattern>, String> {
    let (mut good, mut bad, mut unsupported) = (Vec::new(), Vec::new(), Vec::new());
    for p in patterns {
        if p.contains(['[', ']', '{', '}']) {
            unsupported.push(format!("'{p}'"));
        } else {
            match PathPattern::exclusion(p) {
                Some(pat) => good.push(pat),
                None => bad.push(format!("'{p}'")),
            }
        }
    }
    if !bad.is_empty() {
        return Err(format!(
            "invalid exclusion pattern(s): {} (must start with one of: '/', './', '*/', or '**/')",
            bad.join(", ")
        ));
    }
    if !unsupported.is_empty() {
        return Err(format!(
            "unsupported exclusion pattern(s): {} (only '*', '?' and '**' are supported, not '[...]' or '{{a,b}}')",
            unsupported.join(", ")
        ));
    }
    Ok(good)
}

/// Whether `parts` can be extended by at least one segment into a path `pat` matches.
fn prefix_matches(pat: &[String], parts: &[&str]) -> bool {
    match (pat.split_first(), parts.split_first()) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some((p, _)), Some(_)) if p == "**" => true,
        (Some((p, rest)), Some((part, more))) => {
            glob(p.as_bytes(), part.as_bytes()) && prefix_matches(rest, more)
        }
    }
}

fn match_segments(pat: &[String], parts: &[&str]) -> bool {
    match pat.split_first() {
        None => parts.is_empty(),
        Some((p, rest)) if p == "**" => {
            (0..=parts.len()).any(|skip| match_segments(rest, &parts[skip..]))
        }
        Some((p, rest)) => match parts.split_first() {
            Some((part, more)) => glob(p.as_bytes(), part.as_bytes()) && match_segments(rest, more),
            None => false,
        },
    }
}

/// `*` and `?` glob over one segment, iterative with single backtrack point.
fn glob(p: &[u8], s: &[u8]) -> bool {
    let (mut pi, mut si) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while si < s.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if let Some(st) = star {
            pi = st + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_stays_inside_one_segment() {
        let p = PathPattern::new("/var/lib/dpkg/info/*.list");
        assert!(p.matches("var/lib/dpkg/info/libc6:amd64.list"));
        assert!(p.matches("/var/lib/dpkg/info/dash.list"));
        assert!(!p.matches("var/lib/dpkg/info/sub/dash.list"));
        assert!(!p.matches("var/lib/dpkg/info/dash.md5sums"));
    }

    #[test]
    fn double_star_spans_segments() {
        let p = PathPattern::new("/usr/**/METADATA");
        assert!(p.matches("usr/lib/python3/dist-packages/x-1.0.dist-info/METADATA"));
        assert!(p.matches("usr/METADATA"));
        assert!(!p.matches("opt/METADATA"));
    }

    #[test]
    fn may_match_below_a_directory() {
        let p = PathPattern::new("/usr/share/doc/*/copyright");
        assert!(p.may_match_below(""));
        assert!(p.may_match_below("usr/share"));
        assert!(p.may_match_below("/usr/share/doc/bash"));
        assert!(!p.may_match_below("usr/share/doc/bash/copyright"));
        assert!(!p.may_match_below("usr/lib"));
        let p = PathPattern::new("/var/**/status");
        assert!(p.may_match_below("var/lib/dpkg/deep/er"));
        assert!(!p.may_match_below("etc"));
    }

    #[test]
    fn exclusions_take_syft_forms() {
        let ex = |s: &str| PathPattern::exclusion(s).map(|p| p.as_str().to_owned());
        assert_eq!(
            ex("./usr/share/doc/**").as_deref(),
            Some("/usr/share/doc/**")
        );
        assert_eq!(ex("/var/lib/dpkg/**").as_deref(), Some("/var/lib/dpkg/**"));
        assert!(PathPattern::exclusion("**/*.json")
            .unwrap()
            .matches("opt/a/b.json"));
        assert!(PathPattern::exclusion("*/x").unwrap().matches("etc/x"));
        assert!(!PathPattern::exclusion("*/x").unwrap().matches("etc/a/x"));
        assert_eq!(ex("foo/**"), None);
        assert_eq!(ex("x"), None);
        let err = exclusions(&["foo/**".into(), "./ok".into(), "bar".into()]).unwrap_err();
        assert_eq!(
            err,
            "invalid exclusion pattern(s): 'foo/**', 'bar' (must start with one of: '/', './', '*/', or '**/')"
        );
        assert!(exclusions(&["./*.{a,b}".into()])
            .unwrap_err()
            .contains("not '[...]'"));
        assert_eq!(exclusions(&["./a".into(), "/b".into()]).unwrap().len(), 2);
    }

    #[test]
    fn exact_paths() {
        let p = PathPattern::new("/etc/os-release");
        assert!(p.matches("etc/os-release"));
        assert!(!p.matches("etc/os-release.d"));
        assert!(!p.matches("etc"));
    }
}
