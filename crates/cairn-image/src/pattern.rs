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
    fn exact_paths() {
        let p = PathPattern::new("/etc/os-release");
        assert!(p.matches("etc/os-release"));
        assert!(!p.matches("etc/os-release.d"));
        assert!(!p.matches("etc"));
    }
}
