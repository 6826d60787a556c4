//! Mapping license names as packages write them to SPDX license expressions.
//!
//! Debian's machine-readable copyright format uses its own short names (`GPL-2+`, `Expat`,
//! `BSD-3-clause`, `public-domain`) joined by `or`, `and` and `with … exception`. Names SPDX
//! lists map to their SPDX ids; any other name becomes a `LicenseRef-` that keeps the name
//! (never a guess at what it might mean).

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// Debian (and common) short names whose SPDX id differs from a case-insensitive match.
const DEBIAN_NAMES: &[(&str, &str)] = &[
    ("Apache-1.0", "Apache-1.0"),
    ("Apache-1.1", "Apache-1.1"),
    ("Apache-2.0", "Apache-2.0"),
    ("Artistic", "Artistic-1.0"),
    ("Artistic-1.0", "Artistic-1.0"),
    ("Artistic-2.0", "Artistic-2.0"),
    ("BSD-2-clause", "BSD-2-Clause"),
    ("BSD-3-clause", "BSD-3-Clause"),
    ("BSD-4-clause", "BSD-4-Clause"),
    ("Expat", "MIT"),
    ("GPL", "GPL-1.0-or-later"),
    ("GPL-1", "GPL-1.0-only"),
    ("GPL-1+", "GPL-1.0-or-later"),
    ("GPL-2", "GPL-2.0-only"),
    ("GPL-2+", "GPL-2.0-or-later"),
    ("GPL-2.0", "GPL-2.0-only"),
    ("GPL-2.0+", "GPL-2.0-or-later"),
    ("GPL-3", "GPL-3.0-only"),
    ("GPL-3+", "GPL-3.0-or-later"),
    ("GPL-3.0", "GPL-3.0-only"),
    ("GPL-3.0+", "GPL-3.0-or-later"),
    ("LGPL", "LGPL-2.0-or-later"),
    ("LGPL-2", "LGPL-2.0-only"),
    ("LGPL-2+", "LGPL-2.0-or-later"),
    ("LGPL-2.0", "LGPL-2.0-only"),
    ("LGPL-2.0+", "LGPL-2.0-or-later"),
    ("LGPL-2.1", "LGPL-2.1-only"),
    ("LGPL-2.1+", "LGPL-2.1-or-later"),
    ("LGPL-3", "LGPL-3.0-only"),
    ("LGPL-3+", "LGPL-3.0-or-later"),
    ("LGPL-3.0", "LGPL-3.0-only"),
    ("LGPL-3.0+", "LGPL-3.0-or-later"),
    ("AGPL-3", "AGPL-3.0-only"),
    ("AGPL-3+", "AGPL-3.0-or-later"),
    ("GFDL-1.2", "GFDL-1.2-only"),
    ("GFDL-1.2+", "GFDL-1.2-or-later"),
    ("GFDL-1.3", "GFDL-1.3-only"),
    ("GFDL-1.3+", "GFDL-1.3-or-later"),
    ("GFDL-NIV-1.2", "GFDL-1.2-no-invariants-only"),
    ("GFDL-NIV-1.3", "GFDL-1.3-no-invariants-only"),
    ("GFDL-NIV-1.2+", "GFDL-1.2-no-invariants-or-later"),
    ("GFDL-NIV-1.3+", "GFDL-1.3-no-invariants-or-later"),
    ("MPL-1.1", "MPL-1.1"),
    ("MPL-2.0", "MPL-2.0"),
    ("PSF-2", "PSF-2.0"),
    ("Python-2.0", "Python-2.0"),
    ("zlib", "Zlib"),
    ("ZLIB", "Zlib"),
    ("CC0", "CC0-1.0"),
    ("CC0-1.0", "CC0-1.0"),
    ("ISC", "ISC"),
    ("MIT", "MIT"),
    ("X11", "X11"),
    ("curl", "curl"),
    ("OpenSSL", "OpenSSL"),
    ("FSFAP", "FSFAP"),
    ("FSFUL", "FSFUL"),
    ("FSFULLR", "FSFULLR"),
    ("Unicode-DFS-2016", "Unicode-DFS-2016"),
    ("BSL-1.0", "BSL-1.0"),
    ("WTFPL", "WTFPL"),
];

/// One license name to an SPDX id, or `None` if SPDX does not list it.
pub fn spdx_id(name: &str) -> Option<String> {
    let name = name.trim();
    if let Some((_, id)) = DEBIAN_NAMES
        .iter()
        .find(|(d, _)| d.eq_ignore_ascii_case(name))
    {
        return Some((*id).to_owned());
    }
    // A "+" suffix means "or any later version": the id's -or-later form where SPDX has
    // one, else SPDX's own `+` operator on the id. (`spdx::license_id` trims a trailing
    // `+`, which would silently drop the "or later".)
    if let Some(base) = name.strip_suffix('+') {
        let base = base.trim_end();
        if let Some(id) = spdx::license_id(&format!("{base}-or-later")) {
            return Some(id.name.to_owned());
        }
        return spdx_id(base)
            .filter(|id| !id.ends_with("-only") && !id.ends_with("-or-later") && !id.ends_with('+'))
            .map(|id| format!("{id}+"));
    }
    if let Some(id) = spdx::license_id(name) {
        return Some(id.name.to_owned());
    }
    if let Some(id) = spdx::identifiers::LICENSES
        .iter()
        .find(|l| l.name.eq_ignore_ascii_case(name))
    {
        return Some(id.name.to_owned());
    }
    None
}

/// Whether `s` is, as written, an SPDX `{kind}ID` or `DocumentRef-DOC:{kind}ID` (`kind` is
/// `LicenseRef-` or `AdditionRef-`; ids are letters, digits, `.` and `-`): packages that
/// already write SPDX (Fedora's `LicenseRef-Fedora-*`, `LicenseRef-Callaway-*`) use them.
fn is_ref(s: &str, kind: &str) -> bool {
    let id = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'-')
    };
    let local = match s.split_once(':') {
        Some((doc, local)) => match doc.strip_prefix("DocumentRef-") {
            Some(d) if id(d) => local,
            _ => return false,
        },
        None => s,
    };
    local.strip_prefix(kind).is_some_and(id)
}

/// One license name as an SPDX term: its SPDX id, or a `LicenseRef-` it already is.
fn license_item(name: &str) -> Option<String> {
    let name = name.trim();
    if is_ref(name, "LicenseRef-") {
        return Some(name.to_owned());
    }
    spdx_id(name)
}

/// `LicenseRef-` ids allow letters, digits, `.` and `-`. A name that already is a valid
/// `LicenseRef-` (or `DocumentRef-…:LicenseRef-`) id is kept as it is; one that has the
/// prefix but other characters is cleaned, and keeps one prefix.
pub fn license_ref(name: &str) -> String {
    let name = name.trim();
    if is_ref(name, "LicenseRef-") {
        return name.to_owned();
    }
    let name = name.strip_prefix("LicenseRef-").unwrap_or(name);
    let mut clean = String::new();
    for c in name.chars() {
        match c {
            c if c.is_ascii_alphanumeric() || c == '.' || c == '-' => clean.push(c),
            '+' => clean.push_str("-plus"),
            _ => {
                if !clean.ends_with('-') {
                    clean.push('-')
                }
            }
        }
    }
    let clean = clean.trim_matches('-');
    format!(
        "LicenseRef-{}",
        if clean.is_empty() { "unknown" } else { clean }
    )
}

/// An SPDX license expression as a tree. A `Term` is one license: an SPDX id, a
/// `LicenseRef-`, or `ID WITH EXCEPTION` (WITH binds tighter than AND and OR, so a term
/// never needs parentheses). Built through [`Expr::and`] and [`Expr::or`], an operand is
/// never a node of its own operator (`A AND (B AND C)` is `A AND B AND C`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    Term(String),
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

impl Expr {
    /// `parts` joined by AND; `None` if there are none, the part itself if there is one.
    pub fn and(parts: impl IntoIterator<Item = Expr>) -> Option<Expr> {
        Self::join(parts, true)
    }

    /// `parts` joined by OR; `None` if there are none, the part itself if there is one.
    pub fn or(parts: impl IntoIterator<Item = Expr>) -> Option<Expr> {
        Self::join(parts, false)
    }

    fn join(parts: impl IntoIterator<Item = Expr>, and: bool) -> Option<Expr> {
        let mut flat = Vec::new();
        for p in parts {
            match p {
                Expr::And(ps) if and => flat.extend(ps),
                Expr::Or(ps) if !and => flat.extend(ps),
                p => flat.push(p),
            }
        }
        match flat.len() {
            0 => None,
            1 => flat.pop(),
            _ if and => Some(Expr::And(flat)),
            _ => Some(Expr::Or(flat)),
        }
    }

    /// Parses an SPDX expression with the `spdx` crate (lax: deprecated ids are accepted, as
    /// packages still write them). Terms are printed as that crate prints them, which for
    /// the ids this module writes is as written. `None` if `s` is not an SPDX expression.
    pub fn parse(s: &str) -> Option<Expr> {
        use spdx::expression::{ExprNode, Operator};
        let parsed = spdx::Expression::parse_mode(s, spdx::ParseMode::LAX).ok()?;
        let mut stack: Vec<Expr> = Vec::new();
        for node in parsed.iter() {
            match node {
                ExprNode::Req(r) => stack.push(Expr::Term(r.req.to_string())),
                ExprNode::Op(op) => {
                    let b = stack.pop()?;
                    let a = stack.pop()?;
                    stack.push(Self::join([a, b], *op == Operator::And)?);
                }
            }
        }
        let top = stack.pop()?;
        stack.is_empty().then_some(top)
    }

    /// The operands of a top-level AND; any other expression is its one operand.
    pub fn and_operands(self) -> Vec<Expr> {
        match self {
            Expr::And(ps) => ps,
            e => vec![e],
        }
    }

    /// How the expression reads as an operand of AND or OR: parenthesised unless a term.
    /// An OR under AND needs them (AND binds tighter); an AND under OR gets them too, as
    /// `(A AND B) OR C` is easier to read than `A AND B OR C`.
    fn operand(&self) -> String {
        match self {
            Expr::Term(t) => t.clone(),
            e => format!("({e})"),
        }
    }
}

impl std::fmt::Display for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (parts, op) = match self {
            Expr::Term(t) => return f.write_str(t),
            Expr::And(ps) => (ps, " AND "),
            Expr::Or(ps) => (ps, " OR "),
        };
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                f.write_str(op)?;
            }
            f.write_str(&p.operand())?;
        }
        Ok(())
    }
}

/// Map a license statement such as `GPL-2+ or Artistic`, `LGPL-2.1+ with GCC exception` or
/// `BSD-3-clause and Expat` to an SPDX expression.
pub fn expression(statement: &str) -> String {
    expression_tree(statement)
        .map(|e| e.to_string())
        .unwrap_or_default()
}

/// [`expression`] as a tree; `None` for a statement without any license name.
pub(crate) fn expression_tree(statement: &str) -> Option<Expr> {
    let s = statement.trim().replace(',', " ");
    // `or` binds looser than `and`, as in the copyright format.
    Expr::or(split_word(&s, "or").into_iter().filter_map(|alt| {
        Expr::and(
            split_word(&alt, "and")
                .into_iter()
                .map(|t| Expr::Term(term(&t))),
        )
    }))
}

/// One license, possibly `NAME with EXCEPTION exception`.
fn term(t: &str) -> String {
    let words: Vec<&str> = t.split_whitespace().collect();
    if let Some(pos) = words.iter().position(|w| w.eq_ignore_ascii_case("with")) {
        let name = words[..pos].join(" ");
        let mut exc: Vec<&str> = words[pos + 1..].to_vec();
        if exc
            .last()
            .is_some_and(|w| w.eq_ignore_ascii_case("exception"))
        {
            exc.pop();
        }
        let exc = exc.join("-");
        let exception = spdx::exception_id(&exc)
            .or_else(|| spdx::exception_id(&format!("{exc}-exception")))
            .map(|e| e.name.to_owned())
            .or_else(|| is_ref(&exc, "AdditionRef-").then_some(exc));
        return match (license_item(&name), exception) {
            (Some(id), Some(e)) => format!("{id} WITH {e}"),
            _ => license_ref(t),
        };
    }
    let name = words.join(" ");
    license_item(&name).unwrap_or_else(|| license_ref(&name))
}

fn split_word(s: &str, word: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    for w in s.split_whitespace() {
        if w.eq_ignore_ascii_case(word) {
            out.push(String::new());
        } else {
            let last = out.last_mut().expect("non-empty");
            if !last.is_empty() {
                last.push(' ');
            }
            last.push_str(w);
        }
    }
    out.into_iter().filter(|s| !s.is_empty()).collect()
}

/// Join several expressions into one that holds them all: the AND of every distinct
/// top-level AND operand of each (an OR expression is one operand), sorted as written.
pub fn all_of(exprs: &[String]) -> Option<String> {
    let mut terms: Vec<(String, Expr)> = exprs
        .iter()
        .map(|e| e.trim())
        .filter(|e| !e.is_empty())
        .flat_map(|e| {
            // Not SPDX (never the case for this module's own output): kept whole, and
            // parenthesised when it has operators, so no AND around it can split it.
            Expr::parse(e)
                .unwrap_or_else(|| {
                    Expr::Term(if e.contains(char::is_whitespace) {
                        format!("({e})")
                    } else {
                        e.to_owned()
                    })
                })
                .and_operands()
        })
        .map(|t| (t.operand(), t))
        .collect();
    terms.sort_by(|a, b| a.0.cmp(&b.0));
    terms.dedup_by(|a, b| a.0 == b.0);
    Expr::and(terms.into_iter().map(|(_, t)| t)).map(|e| e.to_string())
}

/// A license text found inside a larger text.
#[derive(Debug, Clone, PartialEq)]
pub struct TextMatch {
    pub id: String,
    pub score: f32,
    /// 1-based first and last line of the license text.
    pub lines: (usize, usize),
}

/// Confidence below which a text is not taken to be a license.
const TEXT_THRESHOLD: f32 = 0.9;

/// Load the license text store (a few hundred ms) ahead of need, e.g. on another thread
/// while layers are being read.
pub fn preload() {
    store();
}

fn store() -> Option<&'static spdx::detection::Store> {
    static STORE: std::sync::OnceLock<Option<spdx::detection::Store>> = std::sync::OnceLock::new();
    STORE
        .get_or_init(|| spdx::detection::Store::load_inline().ok())
        .as_ref()
}

/// Full-text matches ([`full_texts`]) of one scan, each distinct text (by SHA-256) matched
/// once. Texts the layer pass meets are matched at once on the rayon pool, beside the
/// layers still being decoded ([`TextMatcher::start`]); a cataloger asking for a text that
/// is still being matched waits for it, and one asking for a text never started matches it
/// itself ([`TextMatcher::get`]). The answer is the same either way.
/// One text's matches, once they are known.
type Slot = Arc<OnceLock<Vec<TextMatch>>>;

#[derive(Default)]
pub struct TextMatcher {
    memo: std::sync::Mutex<HashMap<[u8; 32], Slot>>,
    started_bytes: std::sync::atomic::AtomicU64,
}

/// Bytes of text [`TextMatcher::start`] takes into matching per scan; past it, texts are
/// matched when the cataloger asks (they are then kept contents, under `max_kept_bytes`).
pub const MAX_STARTED_BYTES: u64 = 64 << 20;

impl TextMatcher {
    fn slot(&self, hash: [u8; 32]) -> (Slot, bool) {
        let mut memo = self.memo.lock().unwrap_or_else(|e| e.into_inner());
        let mut fresh = false;
        let slot = memo
            .entry(hash)
            .or_insert_with(|| {
                fresh = true;
                Arc::default()
            })
            .clone();
        (slot, fresh)
    }

    /// Start matching `text` (whose SHA-256 is `hash`) in the background, unless it has
    /// been started already or the scan's allowance is spent.
    pub fn start(&self, hash: [u8; 32], text: String) {
        use std::sync::atomic::Ordering::Relaxed;
        let len = text.len() as u64;
        if self
            .started_bytes
            .fetch_add(len, Relaxed)
            .saturating_add(len)
            > MAX_STARTED_BYTES
        {
            return;
        }
        let (slot, fresh) = self.slot(hash);
        if fresh {
            rayon::spawn(move || {
                slot.get_or_init(|| full_texts(&text));
            });
        }
    }

    /// The matches in `text` (whose SHA-256 is `hash`).
    pub fn get(&self, hash: [u8; 32], text: &str) -> Vec<TextMatch> {
        self.slot(hash).0.get_or_init(|| full_texts(text)).clone()
    }
}

/// Full license texts contained in `text`, matched against the SPDX list's canonical
/// texts (askalono's method). License headers and mentions are not matches: a notice that
/// says "see /usr/share/common-licenses/GPL-2" does not say which GPL terms apply.
pub fn full_texts(text: &str) -> Vec<TextMatch> {
    use spdx::detection::{scan::Scanner, LicenseType, TextData};
    let Some(store) = store() else {
        return Vec::new();
    };
    let data = TextData::new(text);
    let scanner = Scanner::new(store)
        .confidence_threshold(TEXT_THRESHOLD)
        .optimize(true)
        .max_passes(8);
    let result = scanner.scan(&data);
    let mut out = Vec::new();
    if let Some(l) = result
        .license
        .filter(|l| result.score >= TEXT_THRESHOLD && l.kind == LicenseType::Original)
    {
        out.push(TextMatch {
            id: l.name.to_owned(),
            score: result.score,
            lines: (1, text.lines().count().max(1)),
        });
    }
    for c in result.containing {
        if c.score >= TEXT_THRESHOLD
            && c.license.kind == LicenseType::Original
            && !out.iter().any(|m| m.id == c.license.name)
        {
            out.push(TextMatch {
                id: c.license.name.to_owned(),
                score: c.score,
                lines: (c.line_range.0 + 1, c.line_range.1.max(c.line_range.0 + 1)),
            });
        }
    }
    out.retain(|m| spdx::license_id(&m.id).is_some());
    out
}

/// Random expression trees and a structural comparison, for the property tests here and in
/// the rpm cataloger.
#[cfg(test)]
pub(crate) mod testing {
    use super::Expr;
    use proptest::prelude::*;

    /// SPDX ids, Fedora-style `LicenseRef-`s, a `DocumentRef-` and `X WITH Y` terms.
    const TERMS: &[&str] = &[
        "MIT",
        "Apache-2.0",
        "GPL-2.0-or-later",
        "BSD-3-Clause",
        "LicenseRef-Fedora-Public-Domain",
        "LicenseRef-Callaway-BSD",
        "DocumentRef-spdx-tool-1.2:LicenseRef-MIT-Style-2",
        "GPL-3.0-or-later WITH GCC-exception-3.1",
        "Apache-2.0 WITH LLVM-exception",
    ];

    /// Trees built directly (not through `Expr::and`/`or`), so an AND may hold an AND:
    /// the printer must get those right too.
    pub fn tree() -> impl Strategy<Value = Expr> {
        prop::sample::select(TERMS)
            .prop_map(|t| Expr::Term(t.to_owned()))
            .prop_recursive(4, 32, 4, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 2..4).prop_map(Expr::And),
                    prop::collection::vec(inner, 2..4).prop_map(Expr::Or),
                ]
            })
    }

    /// A tree with nested same-operator nodes flattened: `A AND (B AND C)` is
    /// `A AND B AND C`, which is what parsing either prints back gives.
    #[derive(Debug, Clone, PartialEq)]
    pub enum Norm {
        Term(String),
        And(Vec<Norm>),
        Or(Vec<Norm>),
    }

    fn join(and: bool, parts: Vec<Norm>) -> Norm {
        let mut flat = Vec::new();
        for p in parts {
            match p {
                Norm::And(ps) if and => flat.extend(ps),
                Norm::Or(ps) if !and => flat.extend(ps),
                p => flat.push(p),
            }
        }
        if and {
            Norm::And(flat)
        } else {
            Norm::Or(flat)
        }
    }

    pub fn norm(e: &Expr) -> Norm {
        match e {
            Expr::Term(t) => Norm::Term(t.clone()),
            Expr::And(ps) => join(true, ps.iter().map(norm).collect()),
            Expr::Or(ps) => join(false, ps.iter().map(norm).collect()),
        }
    }

    /// The `spdx` crate's own reading of `s`, strictly (`s` must be valid SPDX as it stands),
    /// from its postfix nodes, independently of [`Expr::parse`].
    pub fn spdx_norm(s: &str) -> Norm {
        use spdx::expression::{ExprNode, Operator};
        let parsed = spdx::Expression::parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}"));
        let mut stack = Vec::new();
        for node in parsed.iter() {
            match node {
                ExprNode::Req(r) => stack.push(Norm::Term(r.req.to_string())),
                ExprNode::Op(op) => {
                    let b = stack.pop().expect("operand");
                    let a = stack.pop().expect("operand");
                    stack.push(join(*op == Operator::And, vec![a, b]));
                }
            }
        }
        assert_eq!(stack.len(), 1, "{s:?}");
        stack.pop().expect("one tree")
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{norm, spdx_norm, tree, Norm};
    use super::*;
    use proptest::prelude::*;

    /// `(A AND B) OR C` joined with other terms must stay one operand of the AND: printed
    /// as `(A AND B) OR C AND D` it reads `(A AND B) OR (C AND D)`, another license.
    #[test]
    fn all_of_gpl_and_mit_or_apache_keeps_the_or_whole() {
        let e = all_of(&["(GPL-2.0-only AND MIT) OR Apache-2.0".into(), "ISC".into()]);
        assert_eq!(
            e.as_deref(),
            Some("((GPL-2.0-only AND MIT) OR Apache-2.0) AND ISC")
        );
        // An AND with an OR operand contributes its operands, each once.
        let e = all_of(&[
            "(MIT OR ISC) AND Zlib".into(),
            "Zlib AND (MIT OR ISC)".into(),
        ]);
        assert_eq!(e.as_deref(), Some("(MIT OR ISC) AND Zlib"));
        // An OR alone needs no parentheses.
        assert_eq!(
            all_of(&["MIT OR ISC".into()]).as_deref(),
            Some("MIT OR ISC")
        );
        assert_eq!(all_of(&[]), None);
    }

    proptest! {
        /// The printer puts in the parentheses precedence needs: the spdx crate reads the
        /// printed text back as the same tree.
        #[test]
        fn printed_trees_parse_back_to_the_same_tree(e in tree()) {
            let printed = e.to_string();
            prop_assert_eq!(spdx_norm(&printed), norm(&e), "{}", printed);
            let reparsed = Expr::parse(&printed).expect("parses");
            prop_assert_eq!(norm(&reparsed), norm(&e));
            prop_assert_eq!(reparsed.to_string(), Expr::parse(&reparsed.to_string()).unwrap().to_string());
        }

        /// `all_of` is the AND of exactly the distinct top-level AND operands of its inputs.
        #[test]
        fn all_of_is_the_and_of_the_distinct_top_level_terms(
            es in prop::collection::vec(tree(), 1..5)
        ) {
            let mut want: Vec<Norm> = Vec::new();
            for e in &es {
                let ops = match norm(e) {
                    Norm::And(ps) => ps,
                    n => vec![n],
                };
                for o in ops {
                    if !want.contains(&o) {
                        want.push(o);
                    }
                }
            }
            let inputs: Vec<String> = es.iter().map(Expr::to_string).collect();
            let joined = all_of(&inputs).expect("non-empty");
            let got = match spdx_norm(&joined) {
                Norm::And(ps) if want.len() > 1 => ps,
                n => vec![n],
            };
            prop_assert_eq!(got.len(), want.len(), "{}", joined);
            for w in &want {
                prop_assert!(got.contains(w), "{:?} missing from {}", w, joined);
            }
        }
    }

    /// `Apache-2.0+` became `Apache-2.0`: the spdx crate trims a trailing `+`, so "or any
    /// later version" was lost for names without an -or-later id.
    #[test]
    fn apache_2_0_plus_keeps_its_or_later() {
        assert_eq!(spdx_id("Apache-2.0+").as_deref(), Some("Apache-2.0+"));
        assert_eq!(spdx_id("GFDL-1.1+").as_deref(), Some("GFDL-1.1-or-later"));
        assert_eq!(spdx_id("GPL-2.0+").as_deref(), Some("GPL-2.0-or-later"));
        assert_eq!(spdx_id("MPL-1.1+").as_deref(), Some("MPL-1.1+"));
        assert_eq!(expression("Apache-2.0+ or MIT"), "Apache-2.0+ OR MIT");
        assert!(spdx::Expression::parse("Apache-2.0+ OR MIT").is_ok());
    }

    #[test]
    fn debian_short_names() {
        assert_eq!(expression("GPL-2+"), "GPL-2.0-or-later");
        assert_eq!(expression("Expat"), "MIT");
        assert_eq!(expression("BSD-3-clause"), "BSD-3-Clause");
        assert_eq!(expression("LGPL-2.1+"), "LGPL-2.1-or-later");
        assert_eq!(expression("public-domain"), "LicenseRef-public-domain");
        assert_eq!(expression("Apache-2.0"), "Apache-2.0");
    }

    #[test]
    fn operators() {
        assert_eq!(
            expression("GPL-2+ or Artistic"),
            "GPL-2.0-or-later OR Artistic-1.0"
        );
        assert_eq!(expression("BSD-3-clause and Expat"), "BSD-3-Clause AND MIT");
        assert_eq!(
            expression("GPL-3+ with GCC-exception-3.1 exception"),
            "GPL-3.0-or-later WITH GCC-exception-3.1"
        );
        assert_eq!(
            expression("GPL-2 with OpenSSL exception"),
            "LicenseRef-GPL-2-with-OpenSSL-exception"
        );
    }

    /// Fedora and RHEL write SPDX with their own `LicenseRef-Fedora-*` and
    /// `LicenseRef-Callaway-*` terms: already ids, they must not be prefixed again.
    #[test]
    fn licenseref_fedora_public_domain_is_not_prefixed_again() {
        assert_eq!(
            expression("LicenseRef-Fedora-Public-Domain"),
            "LicenseRef-Fedora-Public-Domain"
        );
        assert_eq!(
            expression("LicenseRef-Callaway-BSD or Expat"),
            "LicenseRef-Callaway-BSD OR MIT"
        );
        assert_eq!(
            expression("GPL-2+ and LicenseRef-Fedora-Public-Domain"),
            "GPL-2.0-or-later AND LicenseRef-Fedora-Public-Domain"
        );
        assert_eq!(
            expression("DocumentRef-spdx-tool-1.2:LicenseRef-MIT-Style-2"),
            "DocumentRef-spdx-tool-1.2:LicenseRef-MIT-Style-2"
        );
        assert_eq!(
            expression("LicenseRef-Callaway-GPLv2-plus with GCC-exception-3.1 exception"),
            "LicenseRef-Callaway-GPLv2-plus WITH GCC-exception-3.1"
        );
        assert_eq!(
            license_ref("LicenseRef-Fedora-Public-Domain"),
            "LicenseRef-Fedora-Public-Domain"
        );
        assert_eq!(
            expression("LicenseRef-Foo with AdditionRef-Bar"),
            "LicenseRef-Foo WITH AdditionRef-Bar"
        );
        // Not a valid id as written: cleaned, but still prefixed once.
        assert_eq!(license_ref("LicenseRef-foo_bar"), "LicenseRef-foo-bar");
        assert_eq!(expression("LicenseRef-Foo Bar"), "LicenseRef-Foo-Bar");
        for e in [
            "LicenseRef-Fedora-Public-Domain",
            "DocumentRef-spdx-tool-1.2:LicenseRef-MIT-Style-2",
            "LicenseRef-Callaway-GPLv2-plus WITH GCC-exception-3.1",
        ] {
            assert!(spdx::Expression::parse(&expression(e)).is_ok(), "{e}");
        }
    }

    #[test]
    fn full_license_texts_are_matched_and_mentions_are_not() {
        let mit = "Copyright (c) 2020 Someone\n\nPermission is hereby granted, free of charge, to any person obtaining a copy of this software and associated documentation files (the \"Software\"), to deal in the Software without restriction, including without limitation the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is furnished to do so, subject to the following conditions:\n\nThe above copyright notice and this permission notice shall be included in all copies or substantial portions of the Software.\n\nTHE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.\n";
        let text = format!(
            "This is the Debian package of foo.\nIt was downloaded from example.org.\n\n{mit}"
        );
        let found = full_texts(&text);
        assert_eq!(
            found.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
            ["MIT"],
            "{found:?}"
        );
        let mention = "This package is free software; you can redistribute it under the terms of the GNU GPL.\nOn Debian systems see /usr/share/common-licenses/GPL-2.\n";
        assert!(full_texts(mention).is_empty());
    }

    #[test]
    fn combining() {
        let e = all_of(&[
            "MIT".into(),
            "GPL-2.0-or-later OR Artistic-1.0".into(),
            "MIT".into(),
        ]);
        assert_eq!(
            e.as_deref(),
            Some("(GPL-2.0-or-later OR Artistic-1.0) AND MIT")
        );
        let e = all_of(&["GPL-3.0-or-later AND ISC".into(), "GPL-3.0-or-later".into()]);
        assert_eq!(e.as_deref(), Some("GPL-3.0-or-later AND ISC"));
        assert_eq!(
            spdx_id("BSD-4-clause-UC").as_deref(),
            Some("BSD-4-Clause-UC")
        );
    }
}

/// License names and URLs that Java, Ruby, PHP and .NET metadata write (pom `<license>`
/// names and URLs, `Bundle-License`, nuspec `<licenseUrl>`), normalised as
/// [`normal_statement`] does, with the SPDX id each means. Only unambiguous ones: "BSD
/// License" or "GNU Lesser General Public License" without a version stay `LicenseRef-`s.
const STATEMENTS: &[(&str, &str)] = &[
    ("apache license version 2.0", "Apache-2.0"),
    ("the apache software license version 2.0", "Apache-2.0"),
    ("the apache license version 2.0", "Apache-2.0"),
    ("apache software license version 2.0", "Apache-2.0"),
    ("apache license 2.0", "Apache-2.0"),
    ("apache 2.0", "Apache-2.0"),
    ("apache 2", "Apache-2.0"),
    ("asl 2.0", "Apache-2.0"),
    ("apache.org/licenses/license-2.0", "Apache-2.0"),
    ("mit license", "MIT"),
    ("the mit license", "MIT"),
    ("the mit license mit", "MIT"),
    ("opensource.org/licenses/mit-license", "MIT"),
    ("eclipse public license v 1.0", "EPL-1.0"),
    ("eclipse public license 1.0", "EPL-1.0"),
    ("eclipse public license v1.0", "EPL-1.0"),
    ("eclipse.org/legal/epl-v10", "EPL-1.0"),
    ("eclipse public license v 2.0", "EPL-2.0"),
    ("eclipse public license v2.0", "EPL-2.0"),
    ("eclipse public license 2.0", "EPL-2.0"),
    ("eclipse.org/legal/epl-2.0", "EPL-2.0"),
    ("eclipse.org/legal/epl-v20", "EPL-2.0"),
    ("eclipse distribution license v 1.0", "BSD-3-Clause"),
    ("new bsd license", "BSD-3-Clause"),
    ("revised bsd license", "BSD-3-Clause"),
    ("the bsd 3-clause license", "BSD-3-Clause"),
    ("bsd 3-clause license", "BSD-3-Clause"),
    ("bsd 2-clause license", "BSD-2-Clause"),
    ("the bsd 2-clause license", "BSD-2-Clause"),
    (
        "gnu lesser general public license version 2.1",
        "LGPL-2.1-only",
    ),
    ("gnu.org/licenses/old-licenses/lgpl-2.1", "LGPL-2.1-only"),
    ("gnu.org/licenses/lgpl-2.1", "LGPL-2.1-only"),
    ("gnu general public license version 2", "GPL-2.0-only"),
    ("gnu.org/licenses/old-licenses/gpl-2.0", "GPL-2.0-only"),
    ("gpl2 w/ cpe", "GPL-2.0-only WITH Classpath-exception-2.0"),
    (
        "gnu general public license version 2 with the gnu classpath exception",
        "GPL-2.0-only WITH Classpath-exception-2.0",
    ),
    ("mozilla public license version 2.0", "MPL-2.0"),
    ("mozilla public license 2.0", "MPL-2.0"),
    ("mozilla.org/mpl/2.0", "MPL-2.0"),
    ("cddl 1.0", "CDDL-1.0"),
    (
        "common development and distribution license cddl v1.0",
        "CDDL-1.0",
    ),
    ("cc0 1.0 universal", "CC0-1.0"),
    ("ruby license", "Ruby"),
];

/// A statement lower-cased, its URL scheme, `www.`, trailing `/` and `.txt`/`.html`/`.php`
/// removed, punctuation other than `.`, `-`, `/` and `+` made spaces, spaces collapsed.
fn normal_statement(s: &str) -> String {
    let mut s = s.trim().to_ascii_lowercase();
    for p in ["https://", "http://"] {
        if let Some(r) = s.strip_prefix(p) {
            s = r.to_owned();
        }
    }
    if let Some(r) = s.strip_prefix("www.") {
        s = r.to_owned();
    }
    let mut s = s.trim_end_matches('/').to_owned();
    for ext in [".txt", ".html", ".php"] {
        if let Some(r) = s.strip_suffix(ext) {
            s = r.to_owned();
        }
    }
    let cleaned: String = s
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '.' | '-' | '/' | '+') {
                c
            } else {
                ' '
            }
        })
        .collect();
    cleaned
        .split_whitespace()
        .filter(|t| *t != "-")
        .collect::<Vec<_>>()
        .join(" ")
}

/// One license statement from a language ecosystem's metadata as an SPDX expression: a
/// known name or URL ([`STATEMENTS`], `opensource.org/licenses/ID`, `spdx.org/licenses/ID`),
/// an SPDX expression as written, an SPDX id or full name, else the statement as a
/// `LicenseRef-`. `None` for an empty statement.
pub(crate) fn statement(s: &str) -> Option<Expr> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    // Real statements are a few words; a long one is kept as a reference to its start, and
    // never handed to the expression parser (whose trees are as deep as the parentheses).
    if s.len() > MAX_STATEMENT {
        let mut end = MAX_STATEMENT;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        return Some(Expr::Term(license_ref(&s[..end])));
    }
    let n = normal_statement(s);
    if let Some((_, id)) = STATEMENTS.iter().find(|(k, _)| *k == n) {
        return Expr::parse(id);
    }
    for site in ["opensource.org/licenses/", "spdx.org/licenses/"] {
        if let Some(id) = n.strip_prefix(site).and_then(spdx_id_case_insensitive) {
            return Some(Expr::Term(id));
        }
    }
    if let Some(e) = Expr::parse(s) {
        return Some(e);
    }
    Some(Expr::Term(
        license_item(s).unwrap_or_else(|| license_ref(s)),
    ))
}

/// Longest license statement mapped (longer ones become a `LicenseRef-` of their start).
pub(crate) const MAX_STATEMENT: usize = 512;
/// Most statements kept from one package's metadata.
pub(crate) const MAX_STATEMENTS: usize = 64;

/// Several statements, each one license the package may be used under (a pom's
/// `<licenses>`, a gemspec's `licenses`, composer's `license` array): their SPDX
/// expressions joined by OR, and each as evidence at `at`.
pub(crate) fn any_of(statements: &[String], at: &cairn_sbom::Location) -> cairn_sbom::Licenses {
    let mut exprs = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut evidence = Vec::new();
    for s in statements.iter().take(MAX_STATEMENTS) {
        if let Some(e) = statement(s) {
            let text = e.to_string();
            evidence.push(cairn_sbom::LicenseEvidence {
                value: s.clone(),
                spdx: text.clone(),
                location: at.clone(),
                text: None,
            });
            if seen.insert(text) {
                exprs.push(e);
            }
        }
    }
    cairn_sbom::Licenses {
        declared: Expr::or(exprs).map(|e| e.to_string()),
        evidence,
    }
}

/// The SPDX id written `id` in any case (`mit` in a URL path is `MIT`).
fn spdx_id_case_insensitive(id: &str) -> Option<String> {
    spdx::identifiers::LICENSES
        .iter()
        .find(|l| l.name.eq_ignore_ascii_case(id))
        .map(|l| l.name.to_owned())
}
