//! Sort keys: a version turned into bytes whose plain byte order (`memcmp`, SQLite's BLOB
//! order, PostgreSQL's `bytea` order) is the ecosystem's version order, so a database can
//! answer `openssl < 3.0.13` from an index.
//!
//! Each key is a sequence of self-delimiting tokens, a tag byte first, so two keys that agree
//! so far are at the same point of both versions' structure. Numbers are written without
//! their leading zeros as a two-byte length and their digits (longer is larger, then digit
//! by digit), so `10` > `9` and `007` = `7`.
//!
//! The key agrees with [`super::compare`] on every pair of the ground-truth files
//! (`tests/data/versions`) and on every pair of versions taken from them. Where an
//! ecosystem's own order is not a total order (Maven compares a list with a word one way
//! and either with "nothing" another, so that `1.sp` < `1-alpha` < `1` < `1.sp`) no key can
//! agree with every pair; there the key follows the list's first item.

use super::{deb_split, maven, rpm_split, span, ApkTokens, Ident, Local, Num, Pep440, SemVer, Tok};
use super::{APK_NONE, MAX_LEN};

/// The sort key of `version` in the ecosystem named by `purl_type` (the types
/// [`super::compare`] knows, and `maven`). `None` when [`super::compare`] would refuse it:
/// an unknown ecosystem, a version over [`MAX_LEN`] bytes, or one outside the grammar.
pub fn sort_key(purl_type: &str, version: &str) -> Option<Vec<u8>> {
    if version.len() > MAX_LEN {
        return None;
    }
    let mut k = Vec::with_capacity(version.len() + 8);
    match purl_type {
        "deb" => deb(&mut k, version),
        "rpm" => rpm(&mut k, version),
        "apk" => apk(&mut k, version),
        "pypi" => pep440(&mut k, &Pep440::parse(version)?),
        "npm" | "cargo" => semver(&mut k, &SemVer::parse(version, false)?),
        "golang" => semver(&mut k, &SemVer::parse(version, true)?),
        "maven" => maven(&mut k, &maven::parse(version)),
        _ => return None,
    }
    Some(k)
}

fn digits(k: &mut Vec<u8>, d: &[u8]) {
    let d = &d[span(d, |c| c == b'0')..];
    // MAX_LEN bounds the length well below u16::MAX.
    k.extend_from_slice(&(d.len() as u16).to_be_bytes());
    k.extend_from_slice(d);
}

fn num(k: &mut Vec<u8>, n: &Num) {
    digits(k, &n.0);
}

// dpkg: per part, alternating non-digit runs (each byte by dpkg's weight, then 0x02 for the
// end of the run: `~` < end < letters < everything else) and digit runs (as numbers; an
// empty run is 0). The first run is always written, so "" = "0" as in dpkg.
fn deb_part(k: &mut Vec<u8>, s: &[u8]) {
    let mut i = 0;
    loop {
        while i < s.len() && !s[i].is_ascii_digit() {
            match s[i] {
                b'~' => k.push(0x01),
                c if c.is_ascii_alphabetic() => k.push(c),
                c => k.extend_from_slice(&[0x7f, c]),
            }
            i += 1;
        }
        k.push(0x02);
        let n = span(&s[i..], |c| c.is_ascii_digit());
        digits(k, &s[i..i + n]);
        i += n;
        if i >= s.len() {
            break;
        }
    }
    // The end of the part: an empty non-digit run.
    k.push(0x02);
}

fn deb(k: &mut Vec<u8>, v: &str) {
    let (epoch, upstream, revision) = deb_split(v);
    digits(k, epoch);
    deb_part(k, upstream);
    deb_part(k, revision);
}

// rpm: segments after separators are dropped: `~` 0x01, the end 0x02, `^` 0x03, letters
// 0x04 + letters + 0x00, digits 0x05 + number.
fn rpm_part(k: &mut Vec<u8>, mut s: &[u8]) {
    let sep = |c: u8| !c.is_ascii_alphanumeric() && c != b'~' && c != b'^';
    loop {
        s = &s[span(s, sep)..];
        match s.first() {
            None => break,
            Some(b'~') => {
                k.push(0x01);
                s = &s[1..];
            }
            Some(b'^') => {
                k.push(0x03);
                s = &s[1..];
            }
            Some(c) if c.is_ascii_digit() => {
                let n = span(s, |c| c.is_ascii_digit());
                k.push(0x05);
                digits(k, &s[..n]);
                s = &s[n..];
            }
            Some(_) => {
                let n = span(s, |c| c.is_ascii_alphabetic());
                k.push(0x04);
                k.extend_from_slice(&s[..n]);
                k.push(0x00);
                s = &s[n..];
            }
        }
    }
    k.push(0x02);
}

fn rpm(k: &mut Vec<u8>, v: &str) {
    let (epoch, version, release) = rpm_split(v);
    rpm_part(k, epoch.unwrap_or(b"0"));
    rpm_part(k, version);
    // No release sorts before any release.
    match release {
        None => k.push(0x00),
        Some(r) => {
            k.push(0x01);
            rpm_part(k, r);
        }
    }
}

// apk: per token, a tag in the order in which apk-tools ranks tokens of different kinds (a
// pre-release suffix lowest, then an invalid token and the end, which stop the comparison,
// then the other kinds from the one that ends a version to the one that starts it), then
// the token's value.
fn apk(k: &mut Vec<u8>, v: &str) {
    let mut t = ApkTokens::new(v);
    loop {
        let tag = match t.tok {
            Tok::Suffix if t.suffix < APK_NONE => 0x01,
            Tok::Invalid => 0x02,
            Tok::End => 0x03,
            Tok::RevisionNo => 0x04,
            Tok::CommitHash => 0x05,
            Tok::SuffixNo => 0x06,
            Tok::Suffix => 0x07,
            Tok::Letter => 0x08,
            Tok::Digit => 0x09,
            Tok::InitialDigit => 0x0a,
        };
        k.push(tag);
        match t.tok {
            Tok::Invalid | Tok::End => break,
            // A digit token with a leading zero compares as text, and text that starts with
            // `0` sorts before any number that does not.
            Tok::Digit if t.value[0] == b'0' => {
                k.push(0x00);
                k.extend_from_slice(t.value);
                k.push(0x00);
            }
            Tok::Digit => {
                k.push(0x01);
                digits(k, t.value);
            }
            Tok::InitialDigit | Tok::SuffixNo | Tok::RevisionNo => digits(k, t.value),
            Tok::Letter => k.push(t.value[0]),
            Tok::Suffix => k.push(t.suffix as u8),
            Tok::CommitHash => {
                k.extend_from_slice(t.value);
                k.push(0x00);
            }
        }
        t.next();
    }
}

// PEP 440, in packaging's _cmpkey order: epoch, release (trailing zeros already dropped;
// 0x01 + number each, 0x00 after), pre (a dev release of a final version 0x00, a/b/rc
// 0x01 + kind + number, none 0x02), post (none 0x00, else 0x01 + number), dev (0x00 + number,
// none 0x01), local (none 0x00; else per part a word 0x01 + letters + 0x00 or a number 0x02 +
// number, 0x00 after: numbers sort after words, a longer label after its prefix).
fn pep440(k: &mut Vec<u8>, v: &Pep440) {
    num(k, &v.epoch);
    for n in &v.release {
        k.push(0x01);
        num(k, n);
    }
    k.push(0x00);
    match &v.pre {
        None if v.post.is_none() && v.dev.is_some() => k.push(0x00),
        None => k.push(0x02),
        Some((kind, n)) => {
            k.extend_from_slice(&[0x01, *kind]);
            num(k, n);
        }
    }
    match &v.post {
        None => k.push(0x00),
        Some(n) => {
            k.push(0x01);
            num(k, n);
        }
    }
    match &v.dev {
        Some(n) => {
            k.push(0x00);
            num(k, n);
        }
        None => k.push(0x01),
    }
    match &v.local {
        None => k.push(0x00),
        Some(parts) => {
            k.push(0x01);
            for p in parts {
                match p {
                    Local::Word(w) => {
                        k.push(0x01);
                        k.extend_from_slice(w);
                        k.push(0x00);
                    }
                    Local::Number(n) => {
                        k.push(0x02);
                        num(k, n);
                    }
                }
            }
            k.push(0x00);
        }
    }
}

// SemVer: the three numbers, then a release 0x02 or a pre-release 0x01 with its identifiers
// (a number 0x01 + number, a word 0x02 + bytes + 0x00) and 0x00 after them.
fn semver(k: &mut Vec<u8>, v: &SemVer) {
    for n in &v.core {
        num(k, n);
    }
    if v.pre.is_empty() {
        k.push(0x02);
        return;
    }
    k.push(0x01);
    for id in &v.pre {
        match id {
            Ident::Number(n) => {
                k.push(0x01);
                num(k, n);
            }
            Ident::Word(w) => {
                k.push(0x02);
                k.extend_from_slice(w);
                k.push(0x00);
            }
        }
    }
    k.push(0x00);
}

// Maven: the items in order, nested lists flattened (a list is always its parent's last
// item), with one "nothing" at the very end. Tags: a qualifier below a release 0x01, a list
// that starts with one 0x02, nothing 0x03, any other qualifier 0x04, any other list 0x05, a
// number 0x06.
fn maven(k: &mut Vec<u8>, item: &maven::Item) {
    fn first_below_release(items: &[maven::Item]) -> bool {
        match items.first() {
            Some(maven::Item::Word(q)) => q.as_slice() < maven::RELEASE,
            Some(maven::Item::List(l)) => first_below_release(l),
            _ => false,
        }
    }
    fn items(k: &mut Vec<u8>, list: &[maven::Item]) {
        for it in list {
            match it {
                maven::Item::Number(n) => {
                    k.push(0x06);
                    num(k, n);
                }
                maven::Item::Word(q) => {
                    k.push(if q.as_slice() < maven::RELEASE {
                        0x01
                    } else {
                        0x04
                    });
                    k.extend_from_slice(q);
                    k.push(0x00);
                }
                maven::Item::List(l) => {
                    k.push(if first_below_release(l) { 0x02 } else { 0x05 });
                    items(k, l);
                }
            }
        }
    }
    if let maven::Item::List(l) = item {
        items(k, l);
    }
    k.push(0x03);
}
