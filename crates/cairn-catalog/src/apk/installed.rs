//! Alpine's package database, `/lib/apk/db/installed`: one record per installed package,
//! records separated by a blank line, each line `K:value` with a one-letter key, as apk-tools
//! writes it (`apk_pkg_write_index_entry` and the `F`/`R`/`Z` file lines of
//! `apk_db_write_fdb`).
//!
//! This module only turns text into [`ApkPackage`] values; it knows nothing of images, layers
//! or SBOMs. Unknown keys are skipped (apk-tools adds keys over time); a record without a
//! name or version is reported with its line number and left out; a bad checksum is reported
//! and the file is kept without a digest. It never panics on any input.
//!
//! Syft's `syft/pkg/cataloger/alpine` reads the same fields; field meanings follow apk-tools'
//! documentation of the index format (`apk-package(5)`).

use crate::FileBudget;
use std::fmt;

/// One installed apk package.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApkPackage {
    /// `P:`
    pub name: String,
    /// `V:`, e.g. `1.2.4-r2`
    pub version: String,
    /// `A:`
    pub arch: Option<String>,
    /// `L:`, an SPDX expression on current Alpine, free text on old releases.
    pub license: Option<String>,
    /// `o:` the source package (aport) this binary package was built from.
    pub origin: Option<String>,
    /// `m:`
    pub maintainer: Option<String>,
    /// `T:`
    pub description: Option<String>,
    /// `U:`
    pub url: Option<String>,
    /// `c:` the aports git commit the package was built from.
    pub commit: Option<String>,
    /// `C:` the package's identity checksum (`Q1` + base64 SHA-1 of its control segment).
    pub checksum: Option<String>,
    /// `S:` size of the .apk file.
    pub size: Option<u64>,
    /// `I:` installed size.
    pub installed_size: Option<u64>,
    /// `t:` build time, seconds since the epoch.
    pub build_time: Option<u64>,
    /// `D:` dependencies as written (`so:libc.musl-x86_64.so.1`, `musl>=1.2`, `!conflict`).
    pub depends: Vec<String>,
    /// `p:` provided names as written (`cmd:sh`, `so:libz.so.1=1.2.13`).
    pub provides: Vec<String>,
    /// `i:` install-if conditions.
    pub install_if: Vec<String>,
    /// Directories (`F:`) and files (`R:`) the package owns, in database order.
    pub files: Vec<ApkFile>,
    /// The record lists more paths than the [`FileBudget`] allowed to build: `files` holds
    /// the first ones only.
    pub files_truncated: bool,
    /// Lines (1-based) where the record starts and ends, for evidence and warnings.
    pub line: usize,
    pub end_line: usize,
}

/// A path the package owns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApkFile {
    /// Absolute path (`/etc/motd`); the database stores it without the leading slash.
    pub path: String,
    pub kind: ApkFileKind,
    /// `Z:` content digest; directories and some files have none.
    pub digest: Option<ApkDigest>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApkFileKind {
    Directory,
    File,
}

/// A file digest, decoded from apk's `Q1`/`Q2` base64 or plain hex form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApkDigest {
    pub algorithm: ApkDigestAlgorithm,
    /// Lower-case hex.
    pub hex: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApkDigestAlgorithm {
    Md5,
    Sha1,
    Sha256,
}

impl ApkDigestAlgorithm {
    pub fn name(self) -> &'static str {
        match self {
            Self::Md5 => "md5",
            Self::Sha1 => "sha1",
            Self::Sha256 => "sha256",
        }
    }
}

/// What was wrong with one record or line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApkProblem {
    /// 1-based line number.
    pub line: usize,
    pub kind: ApkProblemKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApkProblemKind {
    /// A record without `P:` or `V:`; it is left out.
    MissingField(&'static str),
    /// A line that is not `K:value`.
    Malformed(String),
    /// A `Z:` value that is neither `Q1`/`Q2` base64 nor MD5 hex.
    BadDigest(String),
    /// `R:` or `Z:` with no preceding `F:`/`R:` to attach to.
    Orphan(char),
}

impl fmt::Display for ApkProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.kind)
    }
}

impl fmt::Display for ApkProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApkProblemKind::MissingField(field) => {
                write!(f, "package record has no {field} line; skipped")
            }
            ApkProblemKind::Malformed(l) => write!(f, "not a `K:value` line: {l:?}"),
            ApkProblemKind::BadDigest(d) => write!(f, "unrecognised file digest {d:?}"),
            ApkProblemKind::Orphan(k) => write!(f, "`{k}:` line with nothing to attach it to"),
        }
    }
}

/// The packages of an `installed` file and the problems met.
#[derive(Debug, Default)]
pub struct Installed {
    pub packages: Vec<ApkPackage>,
    pub problems: Vec<ApkProblem>,
}

/// Parses the whole `installed` file with [`FileBudget::DEFAULT`]. Invalid UTF-8 is
/// replaced, not rejected.
pub fn parse(bytes: &[u8]) -> Installed {
    let mut budget = FileBudget::DEFAULT;
    parse_within(bytes, &mut budget)
}

/// [`parse`], building owned paths (an `F:` directory joined with each `R:` name, where a
/// small file can name gigabytes) only while `budget` lasts; a package whose paths did not
/// all fit has `files_truncated` set.
pub fn parse_within(bytes: &[u8], budget: &mut FileBudget) -> Installed {
    let text = String::from_utf8_lossy(bytes);
    let mut out = Installed::default();
    let mut current: Option<ApkPackage> = None;
    // Directory of the last `F:` line, and whether the last path can take a `Z:`.
    let mut dir: Option<String> = None;
    let mut last_file: Option<usize> = None;

    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.is_empty() {
            finish(&mut current, &mut out);
            dir = None;
            last_file = None;
            continue;
        }
        let mut chars = line.chars();
        let (Some(key), Some(':')) = (chars.next(), chars.next()) else {
            out.problems.push(ApkProblem {
                line: line_no,
                kind: ApkProblemKind::Malformed(line.to_owned()),
            });
            continue;
        };
        let value = chars.as_str();
        let pkg = current.get_or_insert_with(|| ApkPackage {
            line: line_no,
            ..ApkPackage::default()
        });
        pkg.end_line = line_no;
        let text = || Some(value.to_owned()).filter(|v| !v.is_empty());
        let list = || {
            value
                .split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        match key {
            'P' => pkg.name = value.to_owned(),
            'V' => pkg.version = value.to_owned(),
            'A' => pkg.arch = text(),
            'L' => pkg.license = text(),
            'o' => pkg.origin = text(),
            'm' => pkg.maintainer = text(),
            'T' => pkg.description = text(),
            'U' => pkg.url = text(),
            'c' => pkg.commit = text(),
            'C' => pkg.checksum = text(),
            'S' => pkg.size = value.parse().ok(),
            'I' => pkg.installed_size = value.parse().ok(),
            't' => pkg.build_time = value.parse().ok(),
            'D' => pkg.depends = list(),
            'p' => pkg.provides = list(),
            'i' => pkg.install_if = list(),
            'F' => {
                last_file = None;
                let path = format!("/{}", value.trim_matches('/'));
                if pkg.files_truncated || !budget.take(path.len()) {
                    pkg.files_truncated = true;
                    continue;
                }
                pkg.files.push(ApkFile {
                    path: path.clone(),
                    kind: ApkFileKind::Directory,
                    digest: None,
                });
                dir = Some(path);
            }
            'R' => {
                last_file = None;
                if pkg.files_truncated {
                    continue;
                }
                let Some(dir) = &dir else {
                    out.problems.push(ApkProblem {
                        line: line_no,
                        kind: ApkProblemKind::Orphan('R'),
                    });
                    continue;
                };
                if !budget.take(dir.len() + 1 + value.len()) {
                    pkg.files_truncated = true;
                    continue;
                }
                let path = match dir.as_str() {
                    "/" => format!("/{value}"),
                    d => format!("{d}/{value}"),
                };
                pkg.files.push(ApkFile {
                    path,
                    kind: ApkFileKind::File,
                    digest: None,
                });
                last_file = Some(pkg.files.len() - 1);
            }
            'Z' if pkg.files_truncated => {}
            'Z' => match last_file {
                Some(index) => match decode_digest(value) {
                    Some(d) => pkg.files[index].digest = Some(d),
                    None => out.problems.push(ApkProblem {
                        line: line_no,
                        kind: ApkProblemKind::BadDigest(value.to_owned()),
                    }),
                },
                None => out.problems.push(ApkProblem {
                    line: line_no,
                    kind: ApkProblemKind::Orphan('Z'),
                }),
            },
            // Ownership/mode (M, a), replaces (r, q), provider priority (k) and keys added
            // by newer apk-tools carry nothing an SBOM needs.
            _ => {}
        }
    }
    finish(&mut current, &mut out);
    out
}

fn finish(current: &mut Option<ApkPackage>, out: &mut Installed) {
    let Some(pkg) = current.take() else { return };
    let missing = if pkg.name.is_empty() {
        Some("P:")
    } else if pkg.version.is_empty() {
        Some("V:")
    } else {
        None
    };
    match missing {
        Some(field) => out.problems.push(ApkProblem {
            line: pkg.line,
            kind: ApkProblemKind::MissingField(field),
        }),
        None => out.packages.push(pkg),
    }
}

/// `Q1` + base64 is SHA-1 and `Q2` + base64 SHA-256 (apk-tools `apk_blob_pull_csum`);
/// 32 hex digits is the MD5 that very old databases stored.
fn decode_digest(value: &str) -> Option<ApkDigest> {
    let (algorithm, raw) = if let Some(b64) = value.strip_prefix("Q1") {
        (ApkDigestAlgorithm::Sha1, base64_decode(b64)?)
    } else if let Some(b64) = value.strip_prefix("Q2") {
        (ApkDigestAlgorithm::Sha256, base64_decode(b64)?)
    } else if value.len() == 32 && value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Some(ApkDigest {
            algorithm: ApkDigestAlgorithm::Md5,
            hex: value.to_ascii_lowercase(),
        });
    } else {
        return None;
    };
    let want = match algorithm {
        ApkDigestAlgorithm::Sha1 => 20,
        _ => 32,
    };
    (raw.len() == want).then(|| ApkDigest {
        algorithm,
        hex: raw.iter().map(|b| format!("{b:02x}")).collect(),
    })
}

/// Standard-alphabet base64 with `=` padding, as apk writes it.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
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
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "C:Q1zwvKMnYs1b6ZdPTBJ0Z7D5P3jyA=\nP:musl\nV:1.2.4-r2\nA:x86_64\nL:MIT\no:musl\nm:Timo Teräs <timo.teras@iki.fi>\nD:so:libc.musl-x86_64.so.1 /bin/sh\np:so:libc.musl-x86_64.so.1=1\nF:lib\nR:ld-musl-x86_64.so.1\nZ:Q1SLkS9hBidUbPwwrw+XR0Whv3ww8=\nR:libc.musl-x86_64.so.1\n\nP:nameless-version\n\n";

    #[test]
    fn parses_fields_files_and_digests() {
        let db = parse(SAMPLE.as_bytes());
        assert_eq!(db.packages.len(), 1);
        let musl = &db.packages[0];
        assert_eq!(musl.name, "musl");
        assert_eq!(musl.version, "1.2.4-r2");
        assert_eq!(musl.origin.as_deref(), Some("musl"));
        assert_eq!(musl.depends, ["so:libc.musl-x86_64.so.1", "/bin/sh"]);
        assert_eq!(musl.provides, ["so:libc.musl-x86_64.so.1=1"]);
        assert_eq!(musl.line, 1);
        let paths: Vec<_> = musl.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/lib",
                "/lib/ld-musl-x86_64.so.1",
                "/lib/libc.musl-x86_64.so.1"
            ]
        );
        let digest = musl.files[1].digest.as_ref().unwrap();
        assert_eq!(digest.algorithm, ApkDigestAlgorithm::Sha1);
        assert_eq!(digest.hex, "48b912f610627546cfc30af0f974745a1bf7c30f");
        assert_eq!(musl.files[2].digest, None);
        // The second record has no version: reported at its first line, left out.
        assert_eq!(
            db.problems,
            [ApkProblem {
                line: 15,
                kind: ApkProblemKind::MissingField("V:")
            }]
        );
    }

    #[test]
    fn bad_digests_and_orphans_are_reported() {
        let db = parse(b"P:x\nV:1\nZ:Q1AAAA\nF:usr\nR:a\nZ:Q1!!!!\nR:b\nZ:0123456789abcdef0123456789ABCDEF\nnonsense\n");
        assert_eq!(db.packages.len(), 1);
        let kinds: Vec<_> = db
            .problems
            .iter()
            .map(|p| (p.line, p.kind.clone()))
            .collect();
        assert_eq!(
            kinds,
            [
                (3, ApkProblemKind::Orphan('Z')),
                (6, ApkProblemKind::BadDigest("Q1!!!!".into())),
                (9, ApkProblemKind::Malformed("nonsense".into())),
            ]
        );
        let md5 = db.packages[0].files[2].digest.as_ref().unwrap();
        assert_eq!(md5.algorithm, ApkDigestAlgorithm::Md5);
        assert_eq!(md5.hex, "0123456789abcdef0123456789abcdef");
    }

    #[test]
    fn no_trailing_blank_line_and_crlf() {
        let db = parse(b"P:a\r\nV:1\r\n\r\nP:b\nV:2");
        let names: Vec<_> = db.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(db.packages[0].version, "1");
    }

    #[test]
    fn arbitrary_bytes_do_not_panic() {
        let mut state = 7u32;
        for len in 0..2000 {
            let bytes: Vec<u8> = (0..len % 97)
                .map(|_| {
                    state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    b"PVFRZ:\n\n=Q1x/+ \xff"[(state >> 16) as usize % 16]
                })
                .collect();
            let _ = parse(&bytes);
        }
    }
}
