//! Core metadata of an installed distribution: `*.dist-info/METADATA`, `PKG-INFO` of an
//! egg-info directory or an egg's `EGG-INFO`, and an `*.egg-info` file. All are the same
//! format (the core metadata specification): RFC 822 style header fields, continuation
//! lines indented, then an optional body (the long description), which is not read.
//!
//! Only what the cataloger uses is kept: a few strings, the license classifiers, and the
//! names of the requirements that are not behind an extra.

use super::normalize;

/// Longest `License` field kept as a license text for full-text matching; longer ones are
/// not matched (a license text is a few KiB; the field's size is already bounded by the
/// file's, [`crate::lang::MAX_MANIFEST`]).
pub(crate) const MAX_LICENSE_TEXT: usize = 64 << 10;

/// Requirements, license classifiers and project URLs kept from one file (real
/// distributions have a few dozen at most); past it the rest are left out, with a problem.
pub(crate) const MAX_LIST: usize = 1024;

/// Longest `License` field taken as a license's name (rather than its text).
const MAX_LICENSE_NAME: usize = 120;

/// What one METADATA / PKG-INFO file says.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Metadata {
    /// As written.
    pub name: String,
    pub version: String,
    /// PEP 639 `License-Expression`.
    pub license_expression: Option<String>,
    pub license: Option<LicenseField>,
    /// `License ::` classifiers, without the `License :: ` prefix.
    pub license_classifiers: Vec<String>,
    /// Normalized names of the `Requires-Dist` requirements not behind an extra.
    pub requires: Vec<String>,
    pub summary: Option<String>,
    pub home_page: Option<String>,
    /// `Project-URL` labels and URLs.
    pub project_urls: Vec<(String, String)>,
    pub author: Option<String>,
    pub author_email: Option<String>,
    pub maintainer: Option<String>,
    pub requires_python: Option<String>,
    /// Problems that did not stop the reading (say, bytes that are not UTF-8).
    pub problems: Vec<String>,
}

/// The `License` field: a short name, or a whole license text (setuptools writes the
/// contents of `license = {file = ...}` there).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum LicenseField {
    Name(String),
    /// The text (cut at [`MAX_LICENSE_TEXT`]), for full-text matching.
    Text(String),
}

/// Parse core metadata. An error says why the file describes no distribution: no `Name`
/// or `Version`, or not a header block at all.
pub(crate) fn parse(bytes: &[u8]) -> Result<Metadata, String> {
    let mut out = Metadata::default();
    if bytes.contains(&0) {
        return Err("binary data (NUL bytes), not core metadata".into());
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => std::borrow::Cow::Borrowed(t),
        Err(e) => {
            out.problems.push(format!(
                "not valid UTF-8 (first bad byte at offset {}); read with replacement characters",
                e.valid_up_to()
            ));
            String::from_utf8_lossy(bytes)
        }
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut fields: Vec<(String, String, usize)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        // Only an empty line ends the header block: a line of blanks continues a field
        // (as in Python's email parser), as in a License text with empty paragraphs.
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            break; // the body: the long description
        }
        if line.starts_with([' ', '\t']) {
            match fields.last_mut() {
                Some((_, v, _)) => {
                    v.push('\n');
                    v.push_str(line);
                }
                None => return Err(format!("line {n} continues no header field")),
            }
            continue;
        }
        let Some((k, v)) = line.split_once(':') else {
            return Err(format!("line {n} is not a header field"));
        };
        if k.is_empty() || !k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(format!("line {n} is not a header field"));
        }
        fields.push((k.to_ascii_lowercase(), v.trim().to_owned(), n));
    }
    let mut dropped = 0usize;
    for (k, v, _) in fields {
        let one = |slot: &mut Option<String>, v: String| {
            if slot.is_none() && !v.is_empty() {
                *slot = Some(v);
            }
        };
        match k.as_str() {
            "name" if out.name.is_empty() => out.name = v,
            "version" if out.version.is_empty() => out.version = v,
            "license-expression" => one(&mut out.license_expression, v),
            "license" if out.license.is_none() => out.license = license_field(&v),
            "classifier" => {
                if let Some(l) = v.strip_prefix("License ::") {
                    if out.license_classifiers.len() < MAX_LIST {
                        out.license_classifiers.push(l.trim().to_owned());
                    } else {
                        dropped += 1;
                    }
                }
            }
            "requires-dist" => match requirement(&v) {
                Some(name) if out.requires.contains(&name) => {}
                Some(_) if out.requires.len() >= MAX_LIST => dropped += 1,
                Some(name) => out.requires.push(name),
                None => {}
            },
            "summary" => one(&mut out.summary, v),
            "home-page" => one(&mut out.home_page, v),
            "project-url" if out.project_urls.len() >= MAX_LIST => dropped += 1,
            "project-url" => {
                if let Some((label, url)) = v.split_once(',') {
                    out.project_urls
                        .push((label.trim().to_owned(), url.trim().to_owned()));
                }
            }
            "author" => one(&mut out.author, v),
            "author-email" => one(&mut out.author_email, v),
            "maintainer" => one(&mut out.maintainer, v),
            "requires-python" => one(&mut out.requires_python, v),
            _ => {}
        }
    }
    if dropped > 0 {
        out.problems.push(format!(
            "{dropped} Requires-Dist, license Classifier or Project-URL fields past the first {MAX_LIST} of each left out"
        ));
    }
    let name = out.name.trim();
    let version = out.version.trim();
    if name.is_empty() {
        return Err("no Name field".into());
    }
    if version.is_empty() {
        return Err("no Version field".into());
    }
    if name.contains('\u{fffd}') || version.contains('\u{fffd}') {
        return Err("the Name or Version field is not valid UTF-8".into());
    }
    if !valid_name(name) {
        return Err(format!("{name:?} is not a valid distribution name"));
    }
    if version.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("{version:?} is not a valid version"));
    }
    Ok(out)
}

/// A distribution name as the core metadata specification allows it: ASCII letters,
/// digits, `.`, `_` and `-`, beginning and ending with a letter or digit.
fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
        && b.first().is_some_and(u8::is_ascii_alphanumeric)
        && b.last().is_some_and(u8::is_ascii_alphanumeric)
}

/// A `License` value: a name when it is one short line, else a text. `UNKNOWN` (what
/// setuptools writes for none) and empty values are no statement.
fn license_field(v: &str) -> Option<LicenseField> {
    let v = v.trim();
    if v.is_empty() || v.eq_ignore_ascii_case("UNKNOWN") || v.eq_ignore_ascii_case("none") {
        return None;
    }
    if !v.contains('\n') && v.len() <= MAX_LICENSE_NAME && !v.starts_with("Copyright") {
        return Some(LicenseField::Name(v.to_owned()));
    }
    // Continuation lines carry the indentation the writer added (8 spaces, or `|`).
    let mut text = String::new();
    for line in v.lines() {
        let line = line.strip_prefix("        ").unwrap_or(line.trim_start());
        let line = line.strip_prefix('|').unwrap_or(line);
        if text.len() + line.len() + 1 > MAX_LICENSE_TEXT {
            break;
        }
        text.push_str(line);
        text.push('\n');
    }
    Some(LicenseField::Text(text))
}

/// The normalized name of a requirement (PEP 508: `name [extras] spec ; marker`), or
/// `None` when its marker puts it behind an extra (an optional feature, not installed
/// with the distribution) or it names nothing. Other markers are not evaluated: the
/// requirement is kept, and resolves only if that distribution is installed.
pub(crate) fn requirement(req: &str) -> Option<String> {
    let (spec, marker) = match req.split_once(';') {
        Some((s, m)) => (s, Some(m)),
        None => (req, None),
    };
    if marker.is_some_and(mentions_extra) {
        return None;
    }
    let spec = spec.trim_start();
    let end = spec
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        .unwrap_or(spec.len());
    let name = &spec[..end];
    valid_name(name).then(|| normalize(name))
}

/// Whether a marker uses the `extra` variable (`extra == "socks"`, `(...) and extra ==
/// 'brotli'`): the requirement then holds only when that extra was asked for.
fn mentions_extra(marker: &str) -> bool {
    let b = marker.as_bytes();
    marker.match_indices("extra").any(|(i, _)| {
        let before = i.checked_sub(1).and_then(|j| b.get(j)).copied();
        let after = b.get(i + 5).copied();
        let word = |c: Option<u8>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_');
        !word(before) && !word(after) && !matches!(before, Some(b'"' | b'\''))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::python::tests::testdata;

    #[test]
    fn requests_wheel_metadata() {
        let m = parse(&testdata(
            "site-packages/requests-2.32.3.dist-info/METADATA",
        ))
        .unwrap();
        assert_eq!(
            (m.name.as_str(), m.version.as_str()),
            ("requests", "2.32.3")
        );
        assert_eq!(m.license, Some(LicenseField::Name("Apache-2.0".into())));
        assert_eq!(
            m.license_classifiers,
            vec!["OSI Approved :: Apache Software License"]
        );
        assert_eq!(
            m.requires,
            vec!["charset-normalizer", "idna", "urllib3", "certifi"]
        );
        assert_eq!(m.summary.as_deref(), Some("Python HTTP for Humans."));
        assert_eq!(
            m.home_page.as_deref(),
            Some("https://requests.readthedocs.io")
        );
        assert_eq!(m.project_urls.len(), 2);
        assert!(m.problems.is_empty());
    }

    #[test]
    fn license_expression_and_extras_behind_markers() {
        let m = parse(&testdata("site-packages/attrs-25.3.0.dist-info/METADATA")).unwrap();
        assert_eq!(m.license_expression.as_deref(), Some("MIT"));
        // Every attrs requirement is behind an extra.
        assert!(m.requires.is_empty(), "{:?}", m.requires);
        let u = parse(&testdata("site-packages/urllib3-2.2.3.dist-info/METADATA")).unwrap();
        // `brotli>=1.0.9; (platform_python_implementation == 'CPython') and extra == 'brotli'`
        assert!(u.requires.is_empty(), "{:?}", u.requires);
        let c = parse(&testdata(
            "site-packages/cryptography-45.0.5.dist-info/METADATA",
        ))
        .unwrap();
        // `cffi>=1.14 ; platform_python_implementation != 'PyPy'` is kept, unevaluated.
        assert_eq!(c.requires, vec!["cffi"]);
        // The License field comes after the Project-URLs.
        assert_eq!(
            c.license,
            Some(LicenseField::Name("Apache-2.0 OR BSD-3-Clause".into()))
        );
    }

    #[test]
    fn a_license_text_in_the_license_field_is_a_text() {
        let m = parse(&testdata(
            "site-packages/MarkupSafe-3.0.2.dist-info/METADATA",
        ))
        .unwrap();
        match m.license {
            Some(LicenseField::Text(t)) => {
                assert!(
                    t.starts_with("Copyright 2010 Pallets\n\nRedistribution"),
                    "{t}"
                );
                assert!(t.contains("\n1.  Redistributions of source code"), "{t}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(m.name, "MarkupSafe");
    }

    #[test]
    fn pkg_info_of_egg_info_and_distutils() {
        let m = parse(&testdata("egg/Python-2.7.18-py2.7.egg-info")).unwrap();
        assert_eq!((m.name.as_str(), m.version.as_str()), ("Python", "2.7.18"));
        assert_eq!(m.license, Some(LicenseField::Name("PSF license".into())));
        let g = parse(&testdata("debian/PyGObject-3.42.2.egg-info/PKG-INFO")).unwrap();
        assert_eq!(g.license, Some(LicenseField::Name("GNU LGPL".into())));
        assert_eq!(
            g.license_classifiers,
            vec!["OSI Approved :: GNU Lesser General Public License v2 or later (LGPLv2+)"]
        );
    }

    #[test]
    fn requirements_and_markers() {
        assert_eq!(requirement("idna <4,>=2.5").as_deref(), Some("idna"));
        assert_eq!(
            requirement("Foo.Bar_baz[x]>=1").as_deref(),
            Some("foo-bar-baz")
        );
        assert_eq!(requirement("pysocks; extra == 'socks'"), None);
        assert_eq!(requirement("a; extra==\"b\""), None);
        assert_eq!(
            requirement("tomli; python_version < '3.11'").as_deref(),
            Some("tomli")
        );
        // A marker that only mentions "extra" inside a string is not an extra clause.
        assert_eq!(
            requirement("x; platform_release == 'extra'").as_deref(),
            Some("x")
        );
        assert_eq!(requirement("; extra"), None);
        assert_eq!(requirement(""), None);
    }

    #[test]
    fn a_flood_of_requirements_is_bounded() {
        let mut text = String::from("Name: x\nVersion: 1\n");
        for i in 0..200_000 {
            text.push_str(&format!("Requires-Dist: dep{i}\n"));
        }
        let started = std::time::Instant::now();
        let m = parse(text.as_bytes()).unwrap();
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
        assert_eq!(m.requires.len(), MAX_LIST);
        assert_eq!(m.problems.len(), 1);
    }

    #[test]
    fn broken_metadata_is_an_error_not_a_package() {
        assert_eq!(
            parse(b"Metadata-Version: 2.1\nVersion: 1.0\n"),
            Err("no Name field".into())
        );
        assert_eq!(
            parse(b"Metadata-Version: 2.1\nName: x\n"),
            Err("no Version field".into())
        );
        assert!(parse(b"\x7fELF\x02\x01\x01\x00\x00").is_err());
        assert!(parse(b"PK\x03\x04garbage\xff\xfe").is_err());
        assert!(parse(b"   indented first line\nName: x\n").is_err());
        assert!(parse(b"Name: \xff\xfe\nVersion: 1\n").is_err());
        assert!(parse(b"Name: a b\nVersion: 1\n").is_err());
        assert!(parse(b"").is_err());
        // Non-UTF-8 elsewhere (a Latin-1 author name in an old PKG-INFO) is read, with a
        // problem reported.
        let m = parse(b"Name: x\nVersion: 1\nAuthor: Ren\xe9\n").unwrap();
        assert_eq!(m.author.as_deref(), Some("Ren\u{fffd}"));
        assert_eq!(m.problems.len(), 1);
    }
}
