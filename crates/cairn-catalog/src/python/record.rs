//! The files an installed distribution lists: `*.dist-info/RECORD` (PEP 376 / the
//! recording-installed-packages specification: CSV rows of path, `algorithm=digest`, size,
//! paths relative to the site-packages directory) and an egg-info directory's
//! `installed-files.txt` (one path a line, relative to the egg-info directory, written by
//! pip for legacy `setup.py install`s).

/// One listed file, its path as written (relative, or absolute).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Listed {
    pub path: String,
    /// Algorithm and lowercase hex value.
    pub digest: Option<(String, String)>,
}

/// A file list, with the problems of the rows that were left out.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct FileList {
    pub files: Vec<Listed>,
    /// `(line, problem)`, the first few only ([`MAX_PROBLEMS`]) and a count.
    pub problems: Vec<(usize, String)>,
    pub bad_rows: usize,
}

/// Problems remembered per file; the rest are only counted.
pub(crate) const MAX_PROBLEMS: usize = 8;

impl FileList {
    fn problem(&mut self, line: usize, p: String) {
        self.bad_rows += 1;
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push((line, p));
        }
    }
}

/// Parse a RECORD file. A row that is not `path,hash,size` (a truncated last line
/// included) is left out and reported; the others are kept.
pub(crate) fn parse_record(bytes: &[u8]) -> Result<FileList, String> {
    if bytes.contains(&0) {
        return Err("binary data (NUL bytes), not a RECORD file".into());
    }
    let text = String::from_utf8_lossy(bytes);
    let mut out = FileList::default();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let row = match csv_row(line) {
            Ok(r) => r,
            Err(e) => {
                out.problem(n, e);
                continue;
            }
        };
        let [path, hash, _size] = &row[..] else {
            out.problem(n, format!("{} fields, not path,hash,size", row.len()));
            continue;
        };
        if path.is_empty() {
            out.problem(n, "an empty path".into());
            continue;
        }
        let digest = if hash.is_empty() {
            None
        } else {
            match digest(hash) {
                Some(d) => Some(d),
                None => {
                    out.problem(n, format!("{hash:?} is not an algorithm=digest pair"));
                    None
                }
            }
        };
        out.files.push(Listed {
            path: path.clone(),
            digest,
        });
    }
    if out.files.is_empty() && out.bad_rows > 0 {
        return Err(format!(
            "no valid row ({} malformed, the first at line {}: {})",
            out.bad_rows, out.problems[0].0, out.problems[0].1
        ));
    }
    Ok(out)
}

/// Parse `installed-files.txt`: a path a line.
pub(crate) fn parse_installed_files(bytes: &[u8]) -> Result<FileList, String> {
    if bytes.contains(&0) {
        return Err("binary data (NUL bytes), not a file list".into());
    }
    let text = String::from_utf8_lossy(bytes);
    Ok(FileList {
        files: text
            .lines()
            .map(str::trim_end)
            .filter(|l| !l.is_empty())
            .map(|l| Listed {
                path: l.to_owned(),
                digest: None,
            })
            .collect(),
        ..FileList::default()
    })
}

/// One CSV row as Python's `csv` module writes it (`,` separated, `"` quoted with `""`
/// escapes).
fn csv_row(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted => {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    cur.push('"');
                } else {
                    quoted = false;
                }
            }
            '"' if at_start => quoted = true,
            ',' if !quoted => {
                fields.push(std::mem::take(&mut cur));
                at_start = true;
                continue;
            }
            c => cur.push(c),
        }
        at_start = false;
    }
    if quoted {
        return Err("an unterminated quoted field".into());
    }
    fields.push(cur);
    Ok(fields)
}

/// `sha256=<urlsafe base64, no padding>` as the algorithm and hex.
fn digest(s: &str) -> Option<(String, String)> {
    let (alg, b64) = s.split_once('=')?;
    let alg = alg.trim().to_ascii_lowercase();
    if alg.is_empty() || !alg.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return None;
    }
    let raw = urlsafe_b64(b64.trim())?;
    Some((alg, hex::encode(raw)))
}

/// Decode URL-safe base64 (`-` and `_`), padding optional. `None` if not base64.
fn urlsafe_b64(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for b in s.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // One leftover base64 character cannot end a valid encoding.
    (bits < 6 && !out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::python::tests::testdata;

    #[test]
    fn requests_record_as_pip_wrote_it() {
        let r = parse_record(&testdata("site-packages/requests-2.32.3.dist-info/RECORD")).unwrap();
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        let first = &r.files[0];
        assert_eq!(first.path, "requests-2.32.3.dist-info/INSTALLER");
        // base64url "zuuue4knoyJ-UwPPXg8fezS7VCrXJQrAP7zeNuwvFQg" is sha256("pip\n").
        assert_eq!(
            first.digest,
            Some((
                "sha256".into(),
                "ceebae7b8927a3227e5303cf5e0f1f7b34bb542ad7250ac03fbcde36ec2f1508".into()
            ))
        );
        let rec = r
            .files
            .iter()
            .find(|f| f.path == "requests-2.32.3.dist-info/RECORD")
            .unwrap();
        assert_eq!(rec.digest, None);
        assert!(r.files.iter().any(|f| f.path == "requests/__init__.py"));
    }

    #[test]
    fn scripts_outside_site_packages_are_listed_relative() {
        let r = parse_record(&testdata(
            "site-packages/charset_normalizer-3.4.0.dist-info/RECORD",
        ))
        .unwrap();
        assert!(r.files.iter().any(|f| f.path == "../../../bin/normalizer"));
    }

    #[test]
    fn installed_files_of_a_legacy_install() {
        let r = parse_installed_files(&testdata(
            "egg/six-1.16.0-py3.11.egg-info/installed-files.txt",
        ))
        .unwrap();
        let paths: Vec<&str> = r.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            vec![
                "../__pycache__/six.cpython-311.pyc",
                "../six.py",
                "PKG-INFO",
                "SOURCES.txt",
                "dependency_links.txt",
                "top_level.txt"
            ]
        );
    }

    #[test]
    fn truncated_record_keeps_the_intact_rows() {
        let real = testdata("site-packages/requests-2.32.3.dist-info/RECORD");
        // Cut in the middle of a quoted path of the last row.
        let mut cut = real[..real.len() - 30].to_vec();
        cut.extend_from_slice(b"\n\"requests/unterminated.py,sha256=abc");
        let r = parse_record(&cut).unwrap();
        assert_eq!(r.bad_rows, 2, "{:?}", r.problems);
        assert!(r.files.len() > 20);
        assert!(parse_record(b"only one field\n").is_err());
        assert!(parse_record(b"a,b\x00,c").is_err());
    }

    #[test]
    fn csv_quoting_and_base64() {
        assert_eq!(
            csv_row(r#""a,b ""c"".py",sha256=AA,1"#).unwrap(),
            vec!["a,b \"c\".py", "sha256=AA", "1"]
        );
        assert_eq!(urlsafe_b64("AAEC"), Some(vec![0, 1, 2]));
        assert_eq!(urlsafe_b64("_-8"), Some(vec![0xff, 0xef]));
        assert_eq!(urlsafe_b64("A"), None);
        assert_eq!(urlsafe_b64("A*"), None);
        assert_eq!(digest("sha256"), None);
    }
}
