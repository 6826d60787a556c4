//! Which distribution an image is: `/etc/os-release`, then `/usr/lib/os-release`, then
//! `/etc/debian_version`.

use crate::Warnings;
use cairn_image::{FsView, PathPattern};
use cairn_sbom::{Distro, Location};

pub(crate) fn patterns() -> Vec<PathPattern> {
    [
        "/etc/os-release",
        "/usr/lib/os-release",
        "/etc/debian_version",
    ]
    .iter()
    .map(|p| PathPattern::new(p))
    .collect()
}

/// Parse os-release's `KEY=value` lines, with shell-style quoting.
pub fn parse_os_release(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let v = v.trim();
        let v = if v.len() >= 2
            && ((v.starts_with('"') && v.ends_with('"'))
                || (v.starts_with('\'') && v.ends_with('\'')))
        {
            v[1..v.len() - 1]
                .replace("\\\"", "\"")
                .replace("\\$", "$")
                .replace("\\\\", "\\")
        } else {
            v.to_owned()
        };
        out.push((k.trim().to_owned(), v));
    }
    out
}

pub(crate) fn detect(view: &FsView, warnings: &mut Warnings) -> Option<Distro> {
    for path in ["/etc/os-release", "/usr/lib/os-release"] {
        let resolved = match view.resolve(path) {
            Ok(r) => r,
            Err(e) => {
                warnings.missing(format!("{path}: {e}; distribution unknown"));
                continue;
            }
        };
        let Some((real, node)) = resolved else {
            continue;
        };
        let Some(content) = node.content() else {
            continue;
        };
        let fields = parse_os_release(&String::from_utf8_lossy(content));
        let get = |k: &str| {
            fields
                .iter()
                .rev()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
        };
        let Some(id) = get("ID") else { continue };
        return Some(Distro {
            id,
            version_id: get("VERSION_ID"),
            version_codename: get("VERSION_CODENAME"),
            pretty_name: get("PRETTY_NAME"),
            id_like: get("ID_LIKE")
                .map(|s| s.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default(),
            evidence: Location {
                path: format!("/{real}"),
                layer: node.layer(),
                lines: None,
            },
        });
    }
    // Old Debian images without os-release.
    if let Ok(Some((real, node))) = view.resolve("/etc/debian_version") {
        if let Some(c) = node.content() {
            let v = String::from_utf8_lossy(c).trim().to_owned();
            let major = v.split('.').next().unwrap_or("").to_owned();
            return Some(Distro {
                id: "debian".into(),
                version_id: major
                    .chars()
                    .all(|c| c.is_ascii_digit())
                    .then_some(major)
                    .filter(|m| !m.is_empty()),
                version_codename: None,
                pretty_name: Some(format!("Debian GNU/Linux {v}")),
                id_like: vec![],
                evidence: Location {
                    path: format!("/{real}"),
                    layer: node.layer(),
                    lines: None,
                },
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::parse_os_release;

    #[test]
    fn quoting() {
        let f = parse_os_release(
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID='12'\n# c\n",
        );
        assert_eq!(f[0].1, "Debian GNU/Linux 12 (bookworm)");
        assert_eq!(f[1], ("ID".into(), "debian".into()));
        assert_eq!(f[2].1, "12");
    }
}
