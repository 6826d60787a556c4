//! Package URLs and CPEs.

use crate::Context;
use packageurl::PackageUrl;

/// Build a purl; qualifiers with empty values are left out.
pub fn purl(
    ty: &str,
    namespace: Option<&str>,
    name: &str,
    version: &str,
    qualifiers: &[(&str, &str)],
) -> String {
    let mut p = match PackageUrl::new(ty.to_owned(), name.to_owned()) {
        Ok(p) => p,
        Err(_) => return format!("pkg:{ty}/{name}@{version}"),
    };
    if let Some(ns) = namespace {
        p.with_namespace(ns.to_owned()).ok();
    }
    p.with_version(version.to_owned()).ok();
    let mut qs: Vec<&(&str, &str)> = qualifiers.iter().filter(|(_, v)| !v.is_empty()).collect();
    qs.sort();
    for (k, v) in qs {
        let _ = p.add_qualifier(k.to_string(), v.to_string());
    }
    p.to_string()
}

/// Escape a CPE 2.3 formatted-string component.
fn cpe_escape(s: &str) -> String {
    let mut o = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-' {
            o.push(c);
        } else {
            o.push('\\');
            o.push(c);
        }
    }
    o
}

/// `cpe:2.3:a:VENDOR:PRODUCT:VERSION:*:*:*:*:*:*:*`
pub fn cpe(vendor: &str, product: &str, version: &str) -> String {
    format!(
        "cpe:2.3:a:{}:{}:{}:*:*:*:*:*:*:*",
        cpe_escape(&vendor.to_lowercase()),
        cpe_escape(&product.to_lowercase()),
        cpe_escape(version)
    )
}

/// The `distro` purl qualifier: `ID-VERSION_ID` from os-release (`debian-12`, `fedora-38`),
/// empty when the distribution is unknown.
pub(crate) fn distro_qualifier(cx: &Context) -> String {
    cx.distro
        .map(|d| {
            format!("{}-{}", d.id, d.version_id.as_deref().unwrap_or(""))
                .trim_end_matches('-')
                .to_owned()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn deb_purl_matches_the_issue_example() {
        let p = super::purl(
            "deb",
            Some("debian"),
            "openssl",
            "3.0.11-1~deb12u2",
            &[("arch", "amd64"), ("distro", "debian-12")],
        );
        assert_eq!(
            p,
            "pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12"
        );
    }

    #[test]
    fn epochs_and_plus_are_encoded() {
        let p = super::purl(
            "deb",
            Some("debian"),
            "zlib1g",
            "1:1.2.13.dfsg-1",
            &[("arch", "amd64")],
        );
        assert_eq!(p, "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64");
        assert_eq!(
            super::cpe("a", "libc6", "2.36-9+deb12u4"),
            "cpe:2.3:a:a:libc6:2.36-9\\+deb12u4:*:*:*:*:*:*:*"
        );
    }
}
