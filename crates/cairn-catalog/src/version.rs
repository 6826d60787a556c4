//! Version ordering per ecosystem, the way each ecosystem's own tool orders versions.
//!
//! [`compare`] takes the package URL type cairn writes (`deb`, `rpm`, `apk`, `pypi`, `npm`,
//! `cargo`, `golang`, `maven`) and two version strings; [`sort_key`] turns one version into
//! bytes whose byte order is that order, for database indexes (`key.rs`). The deb, rpm and apk orders are total over any
//! string (their tools compare whatever they are given), and so is Maven's, so they only refuse
//! input longer than [`MAX_LEN`]. PEP 440 and SemVer have a grammar: a version outside it gives `None`.
//!
//! The ground truth is in `crates/cairn-catalog/tests/data/versions/`, produced by
//! `fixtures/versions/generate.sh` from dpkg, rpm, apk-tools, Python's `packaging` and
//! node's `semver`, and Maven's `ComparableVersion`. Every comparison is a single pass over both strings: no allocation beyond
//! the parsed parts, no backtracking.

use std::cmp::Ordering;

mod key;
mod maven;

pub use key::sort_key;

/// Longer versions are refused (`None`): no real version is this long, and it bounds the work.
pub const MAX_LEN: usize = 256;

/// Orders two versions of the ecosystem named by `purl_type`. `None` when the ecosystem is not
/// one of those above, when either version is longer than [`MAX_LEN`] bytes, or (pypi, npm,
/// cargo, golang) when either is not a version of that ecosystem's grammar.
pub fn compare(purl_type: &str, a: &str, b: &str) -> Option<Ordering> {
    if a.len() > MAX_LEN || b.len() > MAX_LEN {
        return None;
    }
    match purl_type {
        "deb" => Some(deb(a, b)),
        "rpm" => Some(rpm(a, b)),
        "apk" => Some(apk(a, b)),
        "pypi" => Some(Pep440::parse(a)?.cmp(&Pep440::parse(b)?)),
        "npm" | "cargo" => Some(SemVer::parse(a, false)?.cmp(&SemVer::parse(b, false)?)),
        "golang" => Some(SemVer::parse(a, true)?.cmp(&SemVer::parse(b, true)?)),
        "maven" => Some(maven::parse(a).cmp_item(&maven::parse(b))),
        _ => None,
    }
}

/// Two runs of ASCII digits as numbers, of any length: leading zeros do not count.
fn cmp_digits(a: &[u8], b: &[u8]) -> Ordering {
    fn strip(s: &[u8]) -> &[u8] {
        let n = s.iter().take_while(|&&c| c == b'0').count();
        &s[n..]
    }
    let (a, b) = (strip(a), strip(b));
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// The length of the run of bytes at the start of `s` that `f` accepts.
fn span(s: &[u8], f: impl Fn(u8) -> bool) -> usize {
    s.iter().take_while(|&&c| f(c)).count()
}

// ---------------------------------------------------------------------------------------
// deb: dpkg's `[epoch:]upstream[-revision]`, compared by verrevcmp (lib/dpkg/version.c).

fn deb(a: &str, b: &str) -> Ordering {
    let (ea, ua, ra) = deb_split(a);
    let (eb, ub, rb) = deb_split(b);
    cmp_digits(ea, eb)
        .then_with(|| verrevcmp(ua, ub))
        .then_with(|| verrevcmp(ra, rb))
}

/// Epoch (digits before the first `:`, empty for none), upstream, revision (after the last
/// `-`). A part before `:` that is not all digits is no epoch (dpkg refuses such a version;
/// here it is compared as upstream, so every string still has a place).
fn deb_split(v: &str) -> (&[u8], &[u8], &[u8]) {
    let v = v.trim().as_bytes();
    let (epoch, rest) = match v.iter().position(|&c| c == b':') {
        Some(i) if v[..i].iter().all(u8::is_ascii_digit) => (&v[..i], &v[i + 1..]),
        _ => (&v[..0], v),
    };
    match rest.iter().rposition(|&c| c == b'-') {
        Some(i) => (epoch, &rest[..i], &rest[i + 1..]),
        None => (epoch, rest, &rest[..0]),
    }
}

/// dpkg's weight of a non-digit: `~` before the end of the string, the end before letters,
/// letters before every other character.
fn deb_order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(b'~') => -1,
        Some(c) => i32::from(c) + 256,
    }
}

fn verrevcmp(a: &[u8], b: &[u8]) -> Ordering {
    let (mut i, mut j) = (0, 0);
    let digit = |s: &[u8], k: usize| s.get(k).is_some_and(u8::is_ascii_digit);
    while i < a.len() || j < b.len() {
        // The non-digit prefixes, character by character.
        while (i < a.len() && !digit(a, i)) || (j < b.len() && !digit(b, j)) {
            let ac = deb_order(a.get(i).copied());
            let bc = deb_order(b.get(j).copied());
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        // Then the digit runs, as numbers.
        let da = span(a.get(i..).unwrap_or_default(), |c| c.is_ascii_digit());
        let db = span(b.get(j..).unwrap_or_default(), |c| c.is_ascii_digit());
        let r = cmp_digits(&a[i..i + da], &b[j..j + db]);
        if r != Ordering::Equal {
            return r;
        }
        i += da;
        j += db;
    }
    Ordering::Equal
}

// ---------------------------------------------------------------------------------------
// rpm: `[epoch:]version[-release]`, each part compared by rpmvercmp (rpmio/rpmvercmp.c),
// as rpm's Python `labelCompare` does: a missing epoch is 0, a missing release sorts before
// any release.

fn rpm(a: &str, b: &str) -> Ordering {
    let (ea, va, ra) = rpm_split(a);
    let (eb, vb, rb) = rpm_split(b);
    rpmvercmp(ea.unwrap_or(b"0"), eb.unwrap_or(b"0"))
        .then_with(|| rpmvercmp(va, vb))
        .then_with(|| match (ra, rb) {
            (Some(x), Some(y)) => rpmvercmp(x, y),
            (x, y) => x.is_some().cmp(&y.is_some()),
        })
}

/// rpm's parseEVR: an epoch is the leading digits when a `:` follows them (empty means 0);
/// the release is what follows the last `-` after the epoch.
fn rpm_split(v: &str) -> (Option<&[u8]>, &[u8], Option<&[u8]>) {
    let v = v.as_bytes();
    let d = span(v, |c| c.is_ascii_digit());
    let (epoch, rest) = if v.get(d) == Some(&b':') {
        (Some(if d == 0 { &b"0"[..] } else { &v[..d] }), &v[d + 1..])
    } else {
        (None, v)
    };
    match rest.iter().rposition(|&c| c == b'-') {
        Some(i) => (epoch, &rest[..i], Some(&rest[i + 1..])),
        None => (epoch, rest, None),
    }
}

fn rpmvercmp(a: &[u8], b: &[u8]) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (mut a, mut b) = (a, b);
    let sep = |c: u8| !c.is_ascii_alphanumeric() && c != b'~' && c != b'^';
    loop {
        a = &a[span(a, sep)..];
        b = &b[span(b, sep)..];
        // `~` sorts before everything, even the end.
        match (a.first() == Some(&b'~'), b.first() == Some(&b'~')) {
            (true, true) => {
                a = &a[1..];
                b = &b[1..];
                continue;
            }
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            _ => {}
        }
        // `^` sorts after the end but before anything else.
        if a.first() == Some(&b'^') || b.first() == Some(&b'^') {
            if a.is_empty() {
                return Ordering::Less;
            }
            if b.is_empty() {
                return Ordering::Greater;
            }
            if a[0] != b'^' {
                return Ordering::Greater;
            }
            if b[0] != b'^' {
                return Ordering::Less;
            }
            a = &a[1..];
            b = &b[1..];
            continue;
        }
        if a.is_empty() || b.is_empty() {
            break;
        }
        let numeric = a[0].is_ascii_digit();
        let kind = |c: u8| {
            if numeric {
                c.is_ascii_digit()
            } else {
                c.is_ascii_alphabetic()
            }
        };
        let (na, nb) = (span(a, kind), span(b, kind));
        // Segments of different kinds: a number is newer than letters.
        if nb == 0 {
            return if numeric {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let r = if numeric {
            cmp_digits(&a[..na], &b[..nb])
        } else {
            a[..na].cmp(&b[..nb])
        };
        if r != Ordering::Equal {
            return r;
        }
        a = &a[na..];
        b = &b[nb..];
    }
    // Whichever still has a segment left is newer.
    (!a.is_empty()).cmp(&!b.is_empty())
}

// ---------------------------------------------------------------------------------------
// apk: apk-tools' `digit{.digit}...{letter}{_suffix{digits}}...{~hash}{-rN}` (src/version.c).
// Versions outside that grammar still compare: the first token that breaks it is "invalid",
// and tokens are compared until the two strings' kinds of token differ.

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Tok {
    InitialDigit,
    Digit,
    Letter,
    Suffix,
    SuffixNo,
    CommitHash,
    RevisionNo,
    End,
    Invalid,
}

/// The suffixes in apk's order; `NONE` (no suffix) sits between `rc` and `cvs`.
const APK_PRE: [&[u8]; 4] = [b"alpha", b"beta", b"pre", b"rc"];
const APK_POST: [&[u8]; 5] = [b"cvs", b"svn", b"git", b"hg", b"p"];
const APK_NONE: usize = APK_PRE.len();

fn apk_suffix(s: &[u8]) -> Option<usize> {
    if let Some(i) = APK_PRE.iter().position(|&p| p == s) {
        return Some(i);
    }
    APK_POST
        .iter()
        .position(|&p| p == s)
        .map(|i| APK_NONE + 1 + i)
}

struct ApkTokens<'a> {
    rest: &'a [u8],
    tok: Tok,
    value: &'a [u8],
    suffix: usize,
}

impl<'a> ApkTokens<'a> {
    fn new(v: &'a str) -> Self {
        let mut t = ApkTokens {
            rest: v.as_bytes(),
            tok: Tok::InitialDigit,
            value: b"",
            suffix: 0,
        };
        t.digits();
        t
    }

    fn digits(&mut self) {
        let n = span(self.rest, |c| c.is_ascii_digit());
        self.value = &self.rest[..n];
        self.rest = &self.rest[n..];
        if n == 0 {
            self.tok = Tok::Invalid;
        }
    }

    fn next(&mut self) {
        let Some(&c) = self.rest.first() else {
            self.tok = Tok::End;
            return;
        };
        let prev = self.tok;
        match c {
            b'a'..=b'z' if prev <= Tok::Digit => {
                self.value = &self.rest[..1];
                self.rest = &self.rest[1..];
                self.tok = Tok::Letter;
            }
            b'.' | b'0'..=b'9' if c.is_ascii_digit() || prev <= Tok::Digit => {
                if c == b'.' {
                    self.rest = &self.rest[1..];
                }
                match prev {
                    Tok::InitialDigit | Tok::Digit => self.tok = Tok::Digit,
                    Tok::Suffix => self.tok = Tok::SuffixNo,
                    _ => {
                        self.tok = Tok::Invalid;
                        return;
                    }
                }
                self.digits();
            }
            b'_' if prev <= Tok::SuffixNo => {
                let n = span(&self.rest[1..], |c| c.is_ascii_lowercase());
                self.value = &self.rest[1..1 + n];
                self.rest = &self.rest[1 + n..];
                match apk_suffix(self.value) {
                    Some(s) => {
                        self.suffix = s;
                        self.tok = Tok::Suffix;
                    }
                    None => self.tok = Tok::Invalid,
                }
            }
            b'~' if prev < Tok::CommitHash => {
                let n = span(&self.rest[1..], |c| matches!(c, b'0'..=b'9' | b'a'..=b'f'));
                self.value = &self.rest[1..1 + n];
                self.rest = &self.rest[1 + n..];
                self.tok = if n == 0 {
                    Tok::Invalid
                } else {
                    Tok::CommitHash
                };
            }
            b'-' if prev < Tok::RevisionNo && self.rest.starts_with(b"-r") => {
                self.rest = &self.rest[2..];
                self.tok = Tok::RevisionNo;
                self.digits();
            }
            _ => self.tok = Tok::Invalid,
        }
    }

    /// Compares two tokens of the same kind.
    fn cmp_token(&self, o: &Self) -> Ordering {
        match self.tok {
            Tok::Digit if self.value[0] == b'0' || o.value[0] == b'0' => self.value.cmp(o.value),
            Tok::InitialDigit | Tok::Digit | Tok::SuffixNo | Tok::RevisionNo => {
                cmp_digits(self.value, o.value)
            }
            Tok::Letter => self.value[0].cmp(&o.value[0]),
            Tok::Suffix => self.suffix.cmp(&o.suffix),
            _ => self.value.cmp(o.value),
        }
    }
}

fn apk(a: &str, b: &str) -> Ordering {
    let (mut ta, mut tb) = (ApkTokens::new(a), ApkTokens::new(b));
    while ta.tok == tb.tok && ta.tok < Tok::End {
        let r = ta.cmp_token(&tb);
        if r != Ordering::Equal {
            return r;
        }
        ta.next();
        tb.next();
    }
    if ta.tok == tb.tok {
        return Ordering::Equal;
    }
    // Equal so far: the longer one is newer unless what it goes on with is a pre-release
    // suffix; otherwise the kinds of the differing tokens decide.
    if ta.tok == Tok::Suffix && ta.suffix < APK_NONE {
        return Ordering::Less;
    }
    if tb.tok == Tok::Suffix && tb.suffix < APK_NONE {
        return Ordering::Greater;
    }
    tb.tok.cmp(&ta.tok)
}

// ---------------------------------------------------------------------------------------
// pypi: PEP 440, as Python's `packaging.version.Version` parses and orders it.

/// A number written in decimal, of any length, without its leading zeros.
#[derive(Clone, PartialEq, Eq, Debug)]
struct Num(Vec<u8>);

impl Num {
    fn new(d: &[u8]) -> Self {
        let n = span(d, |c| c == b'0');
        Num(d[n..].to_vec())
    }
    fn zero() -> Self {
        Num(Vec::new())
    }
    fn is_zero(&self) -> bool {
        self.0.is_empty()
    }
}

impl Ord for Num {
    fn cmp(&self, o: &Self) -> Ordering {
        cmp_digits(&self.0, &o.0)
    }
}
impl PartialOrd for Num {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// A part of a local version label: numbers sort after words, words by their letters.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Local {
    Word(Vec<u8>),
    Number(Num),
}

/// A parsed PEP 440 version; its `Ord` is packaging's `_cmpkey`.
#[derive(PartialEq, Eq, Debug)]
struct Pep440 {
    epoch: Num,
    /// Without trailing zeros: 1.0 == 1.0.0.
    release: Vec<Num>,
    /// 0 = a, 1 = b, 2 = rc.
    pre: Option<(u8, Num)>,
    post: Option<Num>,
    dev: Option<Num>,
    local: Option<Vec<Local>>,
}

/// A cursor over a lowercased version.
struct Cursor<'a>(&'a [u8]);

impl Cursor<'_> {
    fn digits(&mut self) -> Option<Num> {
        let n = span(self.0, |c| c.is_ascii_digit());
        if n == 0 {
            return None;
        }
        let d = Num::new(&self.0[..n]);
        self.0 = &self.0[n..];
        Some(d)
    }
    /// One of `words` (tried in order), after an optional `-`, `_` or `.`.
    fn word(&mut self, words: &[&str]) -> Option<usize> {
        let s = self.0;
        let start = usize::from(matches!(s.first(), Some(b'-' | b'_' | b'.')));
        let i = words
            .iter()
            .position(|w| s[start..].starts_with(w.as_bytes()))?;
        self.0 = &s[start + words[i].len()..];
        Some(i)
    }
    /// The number after a pre, post or dev word: an optional separator (taken even with no
    /// number after it, as packaging's pattern does) and digits, 0 when there are none.
    fn number(&mut self) -> Num {
        if matches!(self.0.first(), Some(b'-' | b'_' | b'.')) {
            self.0 = &self.0[1..];
        }
        self.digits().unwrap_or_else(Num::zero)
    }
}

impl Pep440 {
    fn parse(v: &str) -> Option<Self> {
        let lower = v.trim().to_ascii_lowercase();
        let mut c = Cursor(lower.as_bytes());
        if c.0.first() == Some(&b'v') {
            c.0 = &c.0[1..];
        }
        let mut first = c.digits()?;
        let mut epoch = Num::zero();
        if c.0.first() == Some(&b'!') {
            c.0 = &c.0[1..];
            epoch = first;
            first = c.digits()?;
        }
        let mut release = vec![first];
        while c.0.first() == Some(&b'.') && c.0.get(1).is_some_and(u8::is_ascii_digit) {
            c.0 = &c.0[1..];
            release.push(c.digits()?);
        }
        while release.last().is_some_and(Num::is_zero) {
            release.pop();
        }
        let pre_words = ["alpha", "a", "beta", "b", "preview", "pre", "c", "rc"];
        let pre = c.word(&pre_words).map(|i| {
            let kind = match pre_words[i] {
                "alpha" | "a" => 0,
                "beta" | "b" => 1,
                _ => 2,
            };
            (kind, c.number())
        });
        let post = if c.0.first() == Some(&b'-') && c.0.get(1).is_some_and(u8::is_ascii_digit) {
            c.0 = &c.0[1..];
            c.digits()
        } else {
            c.word(&["post", "rev", "r"]).map(|_| c.number())
        };
        let dev = c.word(&["dev"]).map(|_| c.number());
        let mut local = None;
        if c.0.first() == Some(&b'+') {
            let mut parts = Vec::new();
            for part in c.0[1..].split(|&b| matches!(b, b'-' | b'_' | b'.')) {
                if part.is_empty() || !part.iter().all(u8::is_ascii_alphanumeric) {
                    return None;
                }
                parts.push(if part.iter().all(u8::is_ascii_digit) {
                    Local::Number(Num::new(part))
                } else {
                    Local::Word(part.to_vec())
                });
            }
            c.0 = b"";
            local = Some(parts);
        }
        if !c.0.is_empty() {
            return None;
        }
        Some(Pep440 {
            epoch,
            release,
            pre,
            post,
            dev,
            local,
        })
    }
}

impl Ord for Pep440 {
    fn cmp(&self, o: &Self) -> Ordering {
        // A dev release of a final version (1.0.dev1) sorts before its pre-releases (1.0a1);
        // a final version after them. `None` is the lowest value of each Option below.
        fn pre_key(v: &Pep440) -> (u8, Option<&(u8, Num)>) {
            match &v.pre {
                None if v.post.is_none() && v.dev.is_some() => (0, None),
                None => (2, None),
                Some(p) => (1, Some(p)),
            }
        }
        self.epoch
            .cmp(&o.epoch)
            .then_with(|| self.release.cmp(&o.release))
            .then_with(|| pre_key(self).cmp(&pre_key(o)))
            .then_with(|| self.post.cmp(&o.post))
            // No dev part sorts after every dev release.
            .then_with(|| match (&self.dev, &o.dev) {
                (Some(x), Some(y)) => x.cmp(y),
                (x, y) => x.is_none().cmp(&y.is_none()),
            })
            .then_with(|| self.local.cmp(&o.local))
    }
}
impl PartialOrd for Pep440 {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

// ---------------------------------------------------------------------------------------
// npm, cargo, golang: SemVer 2.0.0 precedence. Build metadata (`+...`, Go's `+incompatible`)
// is ignored. Go's versions start with `v`, may be shortened (`v1`, `v1.2` = `v1.0.0`,
// `v1.2.0`, as golang.org/x/mod/semver reads them), and its pseudo-versions
// (`v0.0.0-20230101000000-abcdef123456`) are ordinary pre-releases.

#[derive(PartialEq, Eq, Debug)]
enum Ident {
    Number(Num),
    Word(Vec<u8>),
}

impl Ord for Ident {
    fn cmp(&self, o: &Self) -> Ordering {
        match (self, o) {
            (Ident::Number(a), Ident::Number(b)) => a.cmp(b),
            (Ident::Number(_), Ident::Word(_)) => Ordering::Less,
            (Ident::Word(_), Ident::Number(_)) => Ordering::Greater,
            (Ident::Word(a), Ident::Word(b)) => a.cmp(b),
        }
    }
}
impl PartialOrd for Ident {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

#[derive(PartialEq, Eq, Debug)]
struct SemVer {
    core: [Num; 3],
    pre: Vec<Ident>,
}

/// A numeric identifier: `0` or digits without a leading zero.
fn semver_number(s: &[u8]) -> Option<Num> {
    let ok = !s.is_empty() && s.iter().all(u8::is_ascii_digit) && (s == b"0" || s[0] != b'0');
    ok.then(|| Num::new(s))
}

fn semver_ident_ok(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'-')
}

impl SemVer {
    fn parse(v: &str, go: bool) -> Option<Self> {
        let mut s = v.as_bytes();
        if go {
            s = s.strip_prefix(b"v")?;
        } else {
            // node-semver trims and accepts a leading `v`.
            s = v.trim().as_bytes();
            s = s.strip_prefix(b"v").unwrap_or(s);
        }
        let (s, build) = match s.iter().position(|&c| c == b'+') {
            Some(i) => (&s[..i], Some(&s[i + 1..])),
            None => (s, None),
        };
        if let Some(build) = build {
            if !build.split(|&c| c == b'.').all(semver_ident_ok) {
                return None;
            }
        }
        let (core, pre) = match s.iter().position(|&c| c == b'-') {
            Some(i) => (&s[..i], Some(&s[i + 1..])),
            None => (s, None),
        };
        let mut nums = core.split(|&c| c == b'.');
        let mut parts = [Num::zero(), Num::zero(), Num::zero()];
        let mut n = 0;
        for p in nums.by_ref().take(3) {
            parts[n] = semver_number(p)?;
            n += 1;
        }
        if nums.next().is_some() {
            return None;
        }
        // Go's shorthands v1 and v1.2 take no pre-release or build.
        let short_ok = go && pre.is_none() && build.is_none();
        if n < 3 && !short_ok {
            return None;
        }
        let mut ids = Vec::new();
        if let Some(pre) = pre {
            for id in pre.split(|&c| c == b'.') {
                if !semver_ident_ok(id) {
                    return None;
                }
                if id.iter().all(u8::is_ascii_digit) {
                    ids.push(Ident::Number(semver_number(id)?));
                } else {
                    ids.push(Ident::Word(id.to_vec()));
                }
            }
        }
        Some(SemVer {
            core: parts,
            pre: ids,
        })
    }
}

impl Ord for SemVer {
    fn cmp(&self, o: &Self) -> Ordering {
        self.core
            .cmp(&o.core)
            // A release is newer than its pre-releases.
            .then_with(|| self.pre.is_empty().cmp(&o.pre.is_empty()))
            .then_with(|| self.pre.cmp(&o.pre))
    }
}
impl PartialOrd for SemVer {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

#[cfg(test)]
mod tests {
    use super::compare;
    use std::cmp::Ordering::*;

    #[test]
    fn unknown_ecosystems_and_huge_inputs_are_refused() {
        assert_eq!(compare("gem", "1", "2"), None);
        let long = "1".repeat(257);
        for ty in [
            "deb", "rpm", "apk", "pypi", "npm", "cargo", "golang", "maven",
        ] {
            assert_eq!(compare(ty, &long, "1"), None, "{ty}");
        }
        // Long numbers compare by value where the ecosystem allows them; SemVer's numeric
        // identifiers are bounded (node-semver refuses those past 2^53), so no order there.
        for ty in ["deb", "rpm", "apk", "pypi"] {
            assert!(
                compare(ty, &"9".repeat(256), &"9".repeat(255)).is_some(),
                "{ty}"
            );
        }
        assert_eq!(compare("npm", &"9".repeat(256), "1"), None);
    }

    #[test]
    fn spot_checks() {
        assert_eq!(compare("deb", "1.0~rc1", "1.0"), Some(Less));
        assert_eq!(compare("deb", "1:0.1", "9.9"), Some(Greater));
        assert_eq!(compare("rpm", "1.0^git1", "1.0"), Some(Greater));
        assert_eq!(compare("rpm", "1.0~rc1", "1.0"), Some(Less));
        assert_eq!(compare("apk", "1.0_rc1", "1.0"), Some(Less));
        assert_eq!(compare("apk", "1.0_p1", "1.0"), Some(Greater));
        assert_eq!(compare("apk", "1.0-r1", "1.0"), Some(Greater));
        assert_eq!(compare("pypi", "1.0RC1", "1.0rc1"), Some(Equal));
        assert_eq!(compare("pypi", "1.0.dev1", "1.0a1"), Some(Less));
        assert_eq!(compare("pypi", "1.0+local", "1.0"), Some(Greater));
        assert_eq!(compare("pypi", "not a version", "1.0"), None);
        assert_eq!(compare("npm", "1.0.0-alpha", "1.0.0"), Some(Less));
        assert_eq!(compare("cargo", "1.0.0+a", "1.0.0+b"), Some(Equal));
        assert_eq!(compare("npm", "01.0.0", "1.0.0"), None);
        assert_eq!(
            compare("golang", "v0.0.0-20230101000000-abcdef123456", "v0.0.0"),
            Some(Less)
        );
        assert_eq!(
            compare("golang", "v2.0.0+incompatible", "v2.0.0"),
            Some(Equal)
        );
        assert_eq!(compare("golang", "v1.2", "v1.2.0"), Some(Equal));
        assert_eq!(compare("golang", "1.2.0", "v1.2.0"), None);
    }
}
