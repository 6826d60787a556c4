//! Maven: `org.apache.maven.artifact.versioning.ComparableVersion` (maven-artifact 3.8),
//! parsed into the same tree of items and compared the same way.
//!
//! A version is lowercased and split at `.` and `-` and at every change between digits and
//! letters; a `-`, a change between digits and letters, and a word that is not the first
//! item of its list open a nested list, so `1-rc-2` and `1.0.0.rc2` are `[1, [rc, [2]]]`. Items are numbers, qualifiers (`alpha` < `beta` < `milestone` < `rc` =
//! `cr` < `snapshot` < `` = `ga` = `final` = `release` < `sp` < any other word, those by
//! their letters) and lists. A number is newer than a list, a list newer than a qualifier;
//! a shorter list is padded with "nothing", which equals `0`, the empty qualifier and an
//! empty list. Trailing items equal to nothing are dropped (`1.0.0` = `1`).

use std::cmp::Ordering;

use super::{cmp_digits, Num};

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Item {
    Number(Num),
    /// The comparable qualifier: `"0"`..`"6"` for the known ones, `"7-"` + the word else.
    Word(Vec<u8>),
    List(Vec<Item>),
}

const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
/// The index of the empty qualifier (a release), as a comparable qualifier.
pub(super) const RELEASE: &[u8] = b"5";

fn word(w: &str, followed_by_digit: bool) -> Item {
    let w = match (followed_by_digit, w) {
        (true, "a") => "alpha",
        (true, "b") => "beta",
        (true, "m") => "milestone",
        (_, "ga" | "final" | "release") => "",
        (_, "cr") => "rc",
        (_, w) => w,
    };
    Item::Word(match QUALIFIERS.iter().position(|&q| q == w) {
        Some(i) => i.to_string().into_bytes(),
        None => format!("{}-{w}", QUALIFIERS.len()).into_bytes(),
    })
}

impl Item {
    fn is_null(&self) -> bool {
        match self {
            Item::Number(n) => n.is_zero(),
            Item::Word(q) => q == RELEASE,
            Item::List(l) => l.is_empty(),
        }
    }

    /// `compareTo(null)`: this item against nothing.
    fn cmp_null(&self) -> Ordering {
        match self {
            Item::Number(n) => (!n.is_zero()).cmp(&false),
            Item::Word(q) => q.as_slice().cmp(RELEASE),
            Item::List(l) => l.first().map_or(Ordering::Equal, Item::cmp_null),
        }
    }

    pub(super) fn cmp_item(&self, o: &Item) -> Ordering {
        use Item::*;
        match (self, o) {
            (Number(a), Number(b)) => cmp_digits(&a.0, &b.0),
            (Word(a), Word(b)) => a.cmp(b),
            (List(a), List(b)) => {
                for i in 0..a.len().max(b.len()) {
                    let r = match (a.get(i), b.get(i)) {
                        (Some(x), Some(y)) => x.cmp_item(y),
                        (Some(x), None) => x.cmp_null(),
                        (None, Some(y)) => y.cmp_null().reverse(),
                        (None, None) => Ordering::Equal,
                    };
                    if r != Ordering::Equal {
                        return r;
                    }
                }
                Ordering::Equal
            }
            (Number(_), _) => Ordering::Greater,
            (_, Number(_)) => Ordering::Less,
            (List(_), Word(_)) => Ordering::Greater,
            (Word(_), List(_)) => Ordering::Less,
        }
    }
}

/// Drops trailing items equal to nothing, looking past (non-null) lists as Maven does.
fn normalize(list: &mut Vec<Item>) {
    let mut i = list.len();
    while i > 0 {
        i -= 1;
        if list[i].is_null() {
            list.remove(i);
        } else if !matches!(list[i], Item::List(_)) {
            break;
        }
    }
}

fn token(digits: bool, s: &str, followed_by_digit: bool) -> Item {
    if digits {
        Item::Number(Num::new(s.as_bytes()))
    } else {
        word(s, followed_by_digit)
    }
}

/// The item tree of `v`, as `ComparableVersion.parseVersion` builds it.
pub(super) fn parse(v: &str) -> Item {
    let v = v.to_lowercase();
    // The lists from the outermost in; each new list is the last item of the one before.
    let mut stack: Vec<Vec<Item>> = vec![Vec::new()];
    let mut digits = false;
    let mut start = 0;
    let b = v.as_bytes();
    fn open(stack: &mut Vec<Vec<Item>>) {
        stack.push(Vec::new());
    }
    for (i, &c) in b.iter().enumerate() {
        let top = stack.last_mut().expect("never empty");
        if c == b'.' || c == b'-' {
            if i == start {
                top.push(Item::Number(Num::zero()));
            } else {
                top.push(token(digits, &v[start..i], false));
            }
            start = i + 1;
            if c == b'-' {
                open(&mut stack);
            }
        } else if c.is_ascii_digit() {
            if !digits && i > start {
                // A word starts a list of its own unless it is the first item of one.
                if !top.is_empty() {
                    open(&mut stack);
                }
                stack
                    .last_mut()
                    .expect("never empty")
                    .push(word(&v[start..i], true));
                start = i;
                open(&mut stack);
            }
            digits = true;
        } else {
            if digits && i > start {
                top.push(token(true, &v[start..i], false));
                start = i;
                open(&mut stack);
            }
            digits = false;
        }
    }
    if v.len() > start {
        if !digits && !stack.last().expect("never empty").is_empty() {
            open(&mut stack);
        }
        let top = stack.last_mut().expect("never empty");
        top.push(token(digits, &v[start..], false));
    }
    // Close the lists from the innermost out, normalizing each.
    let mut inner: Option<Vec<Item>> = None;
    while let Some(mut list) = stack.pop() {
        if let Some(child) = inner.take() {
            list.push(Item::List(child));
        }
        normalize(&mut list);
        inner = Some(list);
    }
    Item::List(inner.unwrap_or_default())
}
