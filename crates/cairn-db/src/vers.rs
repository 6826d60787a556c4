//! Version ranges: purl's `vers:` (`vers:deb/>=1.1|<3.0.13`, the VERS specification's
//! containment rules) and the short `NAME<3.0.13`, `NAME>=1.1,<3.0.13` form, both turned
//! into a [`Range`] over versions of one ecosystem.

use std::cmp::Ordering;

use crate::Error;

/// Comparators, as in `vers:`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    pub fn sql(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "<>",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }
}

/// Which versions a query wants: a predicate over one version.
#[derive(Clone, Debug, PartialEq)]
pub enum Range {
    Any,
    Cmp(Op, String),
    And(Vec<Range>),
    Or(Vec<Range>),
}

/// Constraints per query (a `vers:` with more is refused).
pub const MAX_CONSTRAINTS: usize = 64;

/// A parsed `vers:` range.
#[derive(Clone, Debug, PartialEq)]
pub struct Vers {
    pub ecosystem: String,
    pub range: Range,
}

fn split_op(c: &str) -> (Op, &str) {
    for (p, op) in [
        (">=", Op::Ge),
        ("<=", Op::Le),
        ("!=", Op::Ne),
        ("<", Op::Lt),
        (">", Op::Gt),
        ("=", Op::Eq),
    ] {
        if let Some(v) = c.strip_prefix(p) {
            return (op, v);
        }
    }
    (Op::Eq, c)
}

fn unescape(s: &str) -> Result<String, Error> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let h = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| Error::Invalid(format!("bad percent-encoding in {s:?}")))?;
            out.push(h);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| Error::Invalid(format!("{s:?} is not UTF-8")))
}

impl std::str::FromStr for Vers {
    type Err = Error;

    /// `vers:TYPE/CONSTRAINT|CONSTRAINT…` or `vers:TYPE/*`. Versions must be distinct and
    /// of the type's grammar; the constraints are sorted by the type's order.
    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = |why: &str| Error::Invalid(format!("{s:?}: {why}"));
        let rest = s
            .strip_prefix("vers:")
            .ok_or_else(|| bad("a vers range starts with vers:"))?;
        let (ty, cs) = rest
            .split_once('/')
            .ok_or_else(|| bad("expected vers:TYPE/CONSTRAINTS"))?;
        let ty = ty.to_ascii_lowercase();
        if ty.is_empty() {
            return Err(bad("no versioning scheme"));
        }
        let cs: String = cs.chars().filter(|c| !c.is_whitespace()).collect();
        if cs == "*" {
            return Ok(Vers {
                ecosystem: ty,
                range: Range::Any,
            });
        }
        let mut constraints = Vec::new();
        for c in cs.split('|') {
            if c.is_empty() {
                return Err(bad("an empty constraint"));
            }
            let (op, v) = split_op(c);
            if v.is_empty() {
                return Err(bad("a constraint with no version"));
            }
            constraints.push((op, unescape(v)?));
        }
        if constraints.len() > MAX_CONSTRAINTS {
            return Err(bad(&format!("more than {MAX_CONSTRAINTS} constraints")));
        }
        let mut err = None;
        constraints.sort_by(|a, b| {
            cairn_catalog::compare_versions(&ty, &a.1, &b.1).unwrap_or_else(|| {
                err = Some(format!("{:?} or {:?} is not a {ty} version", a.1, b.1));
                Ordering::Equal
            })
        });
        if let Some(e) = err {
            return Err(bad(&e));
        }
        if constraints.len() == 1 {
            if let Some(e) = sort_key_error(&ty, &constraints[0].1) {
                return Err(bad(&e));
            }
        }
        for w in constraints.windows(2) {
            if cairn_catalog::compare_versions(&ty, &w[0].1, &w[1].1) == Some(Ordering::Equal) {
                return Err(bad(&format!("version {:?} given twice", w[1].1)));
            }
        }
        Ok(Vers {
            range: vers_range(&constraints),
            ecosystem: ty,
        })
    }
}

fn sort_key_error(ty: &str, v: &str) -> Option<String> {
    cairn_catalog::version_sort_key(ty, v)
        .is_none()
        .then(|| format!("{v:?} is not a {ty} version cairn can order"))
}

/// The VERS containment rules as one predicate: a version equal to a constraint's is in
/// for `=`, `<=`, `>=` and out for `!=`; otherwise, with `=` and `!=` set aside, it is in
/// below a leading `<`/`<=`, above a trailing `>`/`>=`, and between a `>`/`>=` and the
/// `<`/`<=` after it.
fn vers_range(cs: &[(Op, String)]) -> Range {
    let mut eq = Vec::new();
    let mut ne = Vec::new();
    let mut rest: Vec<&(Op, String)> = Vec::new();
    for c in cs {
        match c.0 {
            Op::Eq | Op::Le | Op::Ge => eq.push(Range::Cmp(Op::Eq, c.1.clone())),
            Op::Ne => ne.push(Range::Cmp(Op::Ne, c.1.clone())),
            _ => {}
        }
        if !matches!(c.0, Op::Eq | Op::Ne) {
            rest.push(c);
        }
    }
    let mut spans = Vec::new();
    if let Some(first) = rest.first() {
        if matches!(first.0, Op::Lt | Op::Le) {
            spans.push(Range::Cmp(Op::Lt, first.1.clone()));
        }
    }
    if let Some(last) = rest.last() {
        if matches!(last.0, Op::Gt | Op::Ge) {
            spans.push(Range::Cmp(Op::Gt, last.1.clone()));
        }
    }
    for w in rest.windows(2) {
        if matches!(w[0].0, Op::Gt | Op::Ge) && matches!(w[1].0, Op::Lt | Op::Le) {
            spans.push(Range::And(vec![
                Range::Cmp(Op::Gt, w[0].1.clone()),
                Range::Cmp(Op::Lt, w[1].1.clone()),
            ]));
        }
    }
    // Versions equal to a `<`/`>` constraint fall through to the strict spans, which leave
    // them out; `!=` versions are left out of the spans explicitly.
    let mut inside = vec![Range::Or(spans)];
    inside.extend(ne);
    let mut any = eq;
    any.push(Range::And(inside));
    Range::Or(any)
}

/// The short form after a package name: `<3.0.13`, `>=1.1,<3.0.13`, `=1.2`, `!=1.2`.
pub(crate) fn short_range(s: &str) -> Result<Range, Error> {
    let mut all = Vec::new();
    for c in s.split(',') {
        let c = c.trim();
        let (op, v) = split_op(c);
        if v.trim().is_empty() || !c.starts_with(['<', '>', '=', '!']) {
            return Err(Error::Invalid(format!(
                "{c:?}: expected a comparison such as <3.0.13 or >=1.1"
            )));
        }
        all.push(Range::Cmp(op, v.trim().to_owned()));
    }
    if all.len() > MAX_CONSTRAINTS {
        return Err(Error::Invalid(format!(
            "more than {MAX_CONSTRAINTS} constraints"
        )));
    }
    Ok(Range::And(all))
}

impl Range {
    /// Whether `version` is in the range, by the ecosystem's order (`None` when it cannot
    /// be ordered). The database answers the same question from sort keys; this is the
    /// reference the tests hold it to.
    pub fn contains(&self, ecosystem: &str, version: &str) -> Option<bool> {
        Some(match self {
            Range::Any => true,
            Range::Cmp(op, v) => {
                let o = cairn_catalog::compare_versions(ecosystem, version, v)?;
                match op {
                    Op::Eq => o == Ordering::Equal,
                    Op::Ne => o != Ordering::Equal,
                    Op::Lt => o == Ordering::Less,
                    Op::Le => o != Ordering::Greater,
                    Op::Gt => o == Ordering::Greater,
                    Op::Ge => o != Ordering::Less,
                }
            }
            Range::And(rs) => {
                for r in rs {
                    if !r.contains(ecosystem, version)? {
                        return Some(false);
                    }
                }
                true
            }
            Range::Or(rs) => {
                for r in rs {
                    if r.contains(ecosystem, version)? {
                        return Some(true);
                    }
                }
                false
            }
        })
    }

    /// The predicate as SQL over `column` (a version sort key), with each version's key in
    /// `params`. `None` when some version has no key in `ecosystem`.
    pub(crate) fn sql(
        &self,
        ecosystem: &str,
        column: &str,
        params: &mut Vec<crate::Value>,
    ) -> Option<String> {
        Some(match self {
            Range::Any => "1 = 1".to_owned(),
            Range::Cmp(op, v) => {
                params.push(crate::Value::Blob(cairn_catalog::version_sort_key(
                    ecosystem, v,
                )?));
                format!("{column} {} ${}", op.sql(), params.len())
            }
            Range::And(rs) | Range::Or(rs) if rs.is_empty() => if matches!(self, Range::And(_)) {
                "1 = 1"
            } else {
                "1 = 0"
            }
            .to_owned(),
            Range::And(rs) | Range::Or(rs) => {
                let joiner = if matches!(self, Range::And(_)) {
                    " AND "
                } else {
                    " OR "
                };
                let parts: Option<Vec<String>> = rs
                    .iter()
                    .map(|r| r.sql(ecosystem, column, params))
                    .collect();
                format!("({})", parts?.join(joiner))
            }
        })
    }
}
