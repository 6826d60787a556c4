//! Which distribution an image is: `/etc/os-release`, then `/usr/lib/os-release`, then
//! the older release files: `/etc/alpine-release`, `/etc/redhat-release`,
//! `/etc/system-release` (Amazon Linux), `/etc/debian_version`.

use crate::Warnings;
use cairn_image::{FsView, PathPattern};
use cairn_sbom::{Distro, Location};
use cairn_sbom::{Warning, WarningKind};

pub(crate) fn patterns() -> Vec<PathPattern> {
    [
        "/etc/os-release",
        "/usr/lib/os-release",
        "/etc/debian_version",
        "/etc/alpine-release",
        "/etc/redhat-release",
        "/etc/system-release",
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
                warnings.push(
                    Warning::new(WarningKind::Link, format!("{e}; distribution unknown"))
                        .at(path, None)
                        .incomplete(),
                );
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
            vendor: get("VENDOR_NAME").or_else(|| get("NAME")),
            url: get("VENDOR_URL").or_else(|| get("HOME_URL")),
            evidence: Location {
                path: format!("/{real}"),
                layer: node.layer(),
                lines: None,
            },
        });
    }
    // Old Alpine, Red Hat family and Amazon Linux images without os-release.
    for path in [
        "/etc/alpine-release",
        "/etc/redhat-release",
        "/etc/system-release",
    ] {
        let Ok(Some((real, node))) = view.resolve(path) else {
            continue;
        };
        let Some(c) = node.content() else { continue };
        let text = String::from_utf8_lossy(c);
        let parsed = if path == "/etc/alpine-release" {
            let v = text.trim();
            (!v.is_empty()).then(|| ReleaseFile {
                id: "alpine".into(),
                version_id: Some(v.to_owned()),
                pretty_name: format!("Alpine Linux v{v}"),
            })
        } else {
            parse_redhat_release(&text)
        };
        if let Some(r) = parsed {
            return Some(Distro {
                id: r.id,
                version_id: r.version_id,
                version_codename: None,
                pretty_name: Some(r.pretty_name),
                id_like: vec![],
                vendor: None,
                url: None,
                evidence: Location {
                    path: format!("/{real}"),
                    layer: node.layer(),
                    lines: None,
                },
            });
        }
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
                vendor: None,
                url: None,
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

/// What a one-line release file says.
#[derive(Debug, PartialEq, Eq)]
pub struct ReleaseFile {
    pub id: String,
    pub version_id: Option<String>,
    pub pretty_name: String,
}

/// `/etc/redhat-release` or `/etc/system-release`: `NAME release VERSION (CODENAME)`, e.g.
/// `CentOS Linux release 7.9.2009 (Core)`. The id is the one the same release's os-release
/// uses, so purls are the same whichever file was read.
pub fn parse_redhat_release(text: &str) -> Option<ReleaseFile> {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    let (name, rest) = line.split_once(" release ")?;
    // A release file names a version; a line without one is not a release file.
    let version = rest
        .split_whitespace()
        .next()
        .filter(|v| v.starts_with(|c: char| c.is_ascii_digit()));
    version?;
    let id = match name.trim() {
        n if n.starts_with("Red Hat Enterprise Linux") => "rhel",
        n if n.starts_with("CentOS") => "centos",
        n if n.starts_with("Fedora") => "fedora",
        n if n.starts_with("Amazon Linux") => "amzn",
        n if n.starts_with("Rocky Linux") => "rocky",
        n if n.starts_with("AlmaLinux") => "almalinux",
        n if n.starts_with("Oracle Linux") => "ol",
        n if n.starts_with("Scientific Linux") => "scientific",
        n if n.starts_with("CBL-Mariner") => "mariner",
        n => {
            return Some(ReleaseFile {
                id: n.split_whitespace().next()?.to_lowercase(),
                version_id: version.map(str::to_owned),
                pretty_name: line.to_owned(),
            })
        }
    };
    Some(ReleaseFile {
        id: id.to_owned(),
        version_id: version.map(str::to_owned),
        pretty_name: line.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::{parse_os_release, parse_redhat_release};

    #[test]
    fn redhat_release_files() {
        let r = |t: &str| parse_redhat_release(t).map(|r| (r.id, r.version_id.unwrap_or_default()));
        assert_eq!(
            r("CentOS Linux release 7.9.2009 (Core)\n"),
            Some(("centos".into(), "7.9.2009".into()))
        );
        assert_eq!(
            r("Red Hat Enterprise Linux release 8.8 (Ootpa)"),
            Some(("rhel".into(), "8.8".into()))
        );
        assert_eq!(
            r("Amazon Linux release 2 (Karoo)"),
            Some(("amzn".into(), "2".into()))
        );
        assert_eq!(
            r("Fedora release 36 (Thirty Six)"),
            Some(("fedora".into(), "36".into()))
        );
        assert_eq!(r("no release here"), None);
    }

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
