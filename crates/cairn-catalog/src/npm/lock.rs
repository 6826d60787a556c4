//! What every Node lock file reader produces: the locked packages with their resolved
//! dependency edges, and the problems met, with lines where the format has them. Also the
//! two rules the readers share: Node's `node_modules` lookup (for package-lock and bun
//! keys, and for installed trees) and dev-ness by reachability from a project's roots.

use std::collections::{HashMap, VecDeque};

/// Most packages read from one lock file: the largest real monorepos lock a few tens of
/// thousands. Past it the rest is left out with a warning.
pub(crate) const MAX_LOCK_ENTRIES: usize = 200_000;

/// Most `node_modules` levels a dependency lookup climbs (Node climbs to the root; real
/// trees nest a few dozen levels at most, and paths are bounded by `PATH_MAX` anyway).
pub(crate) const MAX_ANCESTORS: usize = 256;

/// One locked package.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Entry {
    pub name: String,
    pub version: String,
    /// Needed only for development (the lock file says so, or only dev roots reach it).
    pub dev: bool,
    pub optional: bool,
    /// Indexes of the entries it depends on, as the lock file resolves them.
    pub deps: Vec<usize>,
    /// Lines of its entry, where the reader knows them (YAML and yarn formats).
    pub lines: Option<(usize, usize)>,
    pub resolved: Option<String>,
    pub integrity: Option<String>,
    /// The license the lock file records (package-lock v3 does).
    pub license: Option<String>,
}

/// Something in a lock file that could not be used.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Problem {
    pub message: String,
    pub lines: Option<(usize, usize)>,
    /// A bound was reached (rather than damage).
    pub limit: bool,
}

/// A parsed lock file.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Lock {
    /// The format and its version, for messages (`package-lock.json v3`).
    pub format: String,
    pub entries: Vec<Entry>,
    pub problems: Vec<Problem>,
    /// Whether `dev` is known from the lock alone. yarn.lock does not record it: the
    /// cataloger works it out from the `package.json` beside it, through `specs`.
    pub dev_known: bool,
    /// yarn: each descriptor (`name@range`) → entry.
    pub specs: HashMap<String, usize>,
}

/// Builds a [`Lock`]: one entry per name and version (the same package locked at several
/// places — nested copies, pnpm's peer variants — is one package with every edge), at
/// most [`MAX_LOCK_ENTRIES`].
pub(crate) struct Builder {
    pub lock: Lock,
    index: HashMap<(String, String), usize>,
    full: bool,
}

impl Builder {
    pub fn new(format: impl Into<String>, dev_known: bool) -> Builder {
        Builder {
            lock: Lock {
                format: format.into(),
                dev_known,
                ..Lock::default()
            },
            index: HashMap::new(),
            full: false,
        }
    }

    /// Add an entry (or fold it into the one of the same name and version); `None` past
    /// the bound.
    pub fn add(&mut self, e: Entry) -> Option<usize> {
        if let Some(&i) = self.index.get(&(e.name.clone(), e.version.clone())) {
            let have = &mut self.lock.entries[i];
            have.dev &= e.dev;
            have.optional &= e.optional;
            have.deps.extend(e.deps);
            have.resolved = have.resolved.take().or(e.resolved);
            have.integrity = have.integrity.take().or(e.integrity);
            have.license = have.license.take().or(e.license);
            return Some(i);
        }
        if self.lock.entries.len() >= MAX_LOCK_ENTRIES {
            if !self.full {
                self.full = true;
                self.problem(
                    format!("more than {MAX_LOCK_ENTRIES} packages; the rest are left out"),
                    None,
                    true,
                );
            }
            return None;
        }
        let i = self.lock.entries.len();
        self.index.insert((e.name.clone(), e.version.clone()), i);
        self.lock.entries.push(e);
        Some(i)
    }

    pub fn problem(&mut self, message: String, lines: Option<(usize, usize)>, limit: bool) {
        // One file's problems are bounded like its entries.
        if self.lock.problems.len() < 1000 {
            self.lock.problems.push(Problem {
                message,
                lines,
                limit,
            });
        }
    }

    pub fn edge(&mut self, from: usize, to: usize) {
        if from != to {
            if let Some(e) = self.lock.entries.get_mut(from) {
                e.deps.push(to);
            }
        }
    }

    pub fn finish(mut self) -> Lock {
        for e in &mut self.lock.entries {
            e.deps.sort_unstable();
            e.deps.dedup();
        }
        self.lock
    }
}

/// Node's lookup of package `name` required from directory `from` (a path without leading
/// `/`, `""` for the root): `from/node_modules/name`, then the same in each ancestor that
/// is not itself a `node_modules` directory, up to the root. `find` says whether a
/// candidate directory holds the package.
pub(crate) fn node_lookup<T>(
    from: &str,
    name: &str,
    mut find: impl FnMut(&str) -> Lookup<T>,
) -> Option<T> {
    let mut dir = from.trim_matches('/');
    for _ in 0..MAX_ANCESTORS {
        let last = dir.rsplit('/').next().unwrap_or(dir);
        if last != "node_modules" {
            let candidate = if dir.is_empty() {
                format!("node_modules/{name}")
            } else {
                format!("{dir}/node_modules/{name}")
            };
            match find(&candidate) {
                Lookup::Found(t) => return Some(t),
                Lookup::Stop => return None,
                Lookup::Next => {}
            }
        }
        if dir.is_empty() {
            break;
        }
        dir = dir.rsplit_once('/').map_or("", |(p, _)| p);
    }
    None
}

/// What a candidate directory of [`node_lookup`] holds.
pub(crate) enum Lookup<T> {
    Found(T),
    /// Something that is not a package we know: Node would stop here.
    Stop,
    Next,
}

/// Dev-ness by reachability: an entry is dev when the dev roots reach it and the
/// production roots (dependencies, optional dependencies) do not.
pub(crate) fn dev_by_reach(entries: &[Entry], prod: &[usize], dev: &[usize]) -> Vec<bool> {
    let reach = |roots: &[usize]| {
        let mut seen = vec![false; entries.len()];
        let mut queue: VecDeque<usize> = VecDeque::new();
        for &r in roots {
            if r < seen.len() && !seen[r] {
                seen[r] = true;
                queue.push_back(r);
            }
        }
        while let Some(i) = queue.pop_front() {
            for &d in &entries[i].deps {
                if d < seen.len() && !seen[d] {
                    seen[d] = true;
                    queue.push_back(d);
                }
            }
        }
        seen
    };
    let (p, d) = (reach(prod), reach(dev));
    p.iter().zip(&d).map(|(p, d)| *d && !*p).collect()
}

/// `name@range` (or `@scope/name@range`) → (name, range).
pub(crate) fn split_spec(spec: &str) -> Option<(&str, &str)> {
    let at = spec.get(1..)?.find('@')? + 1;
    Some((&spec[..at], &spec[at + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_lookup_climbs_past_node_modules_dirs() {
        let mut asked = Vec::new();
        let got: Option<()> = node_lookup("app/node_modules/a/node_modules/@s/b", "ms", |c| {
            asked.push(c.to_owned());
            Lookup::Next
        });
        assert!(got.is_none());
        assert_eq!(
            asked,
            [
                "app/node_modules/a/node_modules/@s/b/node_modules/ms",
                "app/node_modules/a/node_modules/@s/node_modules/ms",
                "app/node_modules/a/node_modules/ms",
                "app/node_modules/ms",
                "node_modules/ms",
            ]
        );
    }

    #[test]
    fn specs_split_after_the_scope() {
        assert_eq!(split_spec("@a/b@^1"), Some(("@a/b", "^1")));
        assert_eq!(split_spec("b@npm:1.0.0"), Some(("b", "npm:1.0.0")));
        assert_eq!(split_spec("b"), None);
        assert_eq!(split_spec(""), None);
    }
}
