//! `go.mod` and `go.sum`, as the go command reads them: directives one per line or in
//! parenthesised blocks, `//` comments (`// indirect` marks an indirect requirement).

/// Most requirements, replacements or checksums read from one file.
pub(crate) const MAX_ENTRIES: usize = 100_000;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Require {
    pub path: String,
    pub version: String,
    pub indirect: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ModVersion {
    pub path: String,
    /// Empty for a replacement by a local directory, or a replacement of every version.
    pub version: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct GoMod {
    pub module: String,
    pub go: Option<String>,
    pub requires: Vec<Require>,
    pub replaces: Vec<(ModVersion, ModVersion)>,
}

/// `go.sum`: the `h1:` checksum of each module version's tree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct GoSum {
    pub sums: Vec<(String, String, String)>,
}

fn unquote(s: &str) -> String {
    s.trim_matches('"').to_owned()
}

impl GoMod {
    pub fn parse(text: &str) -> Result<GoMod, String> {
        let mut m = GoMod::default();
        let mut block: Option<String> = None;
        for (n, raw) in text.lines().enumerate() {
            let n = n + 1;
            let (code, comment) = match raw.find("//") {
                Some(i) => (&raw[..i], raw[i + 2..].trim()),
                None => (raw, ""),
            };
            let words: Vec<&str> = code.split_whitespace().collect();
            if words.is_empty() {
                continue;
            }
            let (verb, args): (String, &[&str]) = match &block {
                Some(b) if words == [")"] => {
                    let _ = b;
                    block = None;
                    continue;
                }
                Some(b) => (b.clone(), &words[..]),
                None if words.len() == 2 && words[1] == "(" => {
                    block = Some(words[0].to_owned());
                    continue;
                }
                None => (words[0].to_owned(), &words[1..]),
            };
            if m.requires.len() + m.replaces.len() >= MAX_ENTRIES {
                return Err(format!("more than {MAX_ENTRIES} directives (the limit)"));
            }
            let bad = |what: &str| format!("line {n}: malformed {what} directive");
            match verb.as_str() {
                "module" => m.module = unquote(args.first().ok_or_else(|| bad("module"))?),
                "go" => m.go = args.first().map(|s| (*s).to_owned()),
                "require" => match args {
                    [path, version] => m.requires.push(Require {
                        path: unquote(path),
                        version: unquote(version),
                        indirect: comment.split(';').any(|c| c.trim() == "indirect"),
                    }),
                    _ => return Err(bad("require")),
                },
                "replace" => {
                    let arrow = args
                        .iter()
                        .position(|w| *w == "=>")
                        .ok_or_else(|| bad("replace"))?;
                    let side = |s: &[&str]| match s {
                        [p] => Some(ModVersion {
                            path: unquote(p),
                            version: String::new(),
                        }),
                        [p, v] => Some(ModVersion {
                            path: unquote(p),
                            version: unquote(v),
                        }),
                        _ => None,
                    };
                    match (side(&args[..arrow]), side(&args[arrow + 1..])) {
                        (Some(a), Some(b)) => m.replaces.push((a, b)),
                        _ => return Err(bad("replace")),
                    }
                }
                _ => {} // exclude, retract, toolchain, godebug, tool: no packages
            }
        }
        if block.is_some() {
            return Err("a directive block is not closed".into());
        }
        if m.module.is_empty() {
            return Err("no module directive".into());
        }
        Ok(m)
    }
}

impl GoSum {
    pub fn parse(text: &str) -> GoSum {
        let sums = text
            .lines()
            .filter_map(|l| {
                let mut w = l.split_whitespace();
                let (path, version, sum) = (w.next()?, w.next()?, w.next()?);
                // The `/go.mod` lines checksum only the go.mod file.
                (!version.ends_with("/go.mod"))
                    .then(|| (path.to_owned(), version.to_owned(), sum.to_owned()))
            })
            .take(MAX_ENTRIES)
            .collect();
        GoSum { sums }
    }

    pub fn get(&self, path: &str, version: &str) -> Option<&str> {
        self.sums
            .iter()
            .find(|(p, v, _)| p == path && v == version)
            .map(|(_, _, s)| s.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_single_and_in_blocks() {
        let m = GoMod::parse(
            "module example.com/app // the app\n\ngo 1.21\ntoolchain go1.22.1\n\
             require (\n\tgithub.com/google/uuid v1.3.0\n\tgolang.org/x/sys v0.1.0 // indirect\n)\n\
             require github.com/pkg/errors v0.9.1\nreplace github.com/pkg/errors => ../errors\n\
             replace (\n\tgolang.org/x/sys v0.1.0 => golang.org/x/sys v0.2.0\n)\n",
        )
        .unwrap();
        assert_eq!(m.module, "example.com/app");
        assert_eq!(m.go.as_deref(), Some("1.21"));
        assert_eq!(m.requires.len(), 3);
        assert!(m.requires[1].indirect && !m.requires[0].indirect);
        assert_eq!(m.replaces.len(), 2);
        assert_eq!(m.replaces[1].1.version, "v0.2.0");
    }

    #[test]
    fn a_truncated_go_mod_is_an_error() {
        assert!(GoMod::parse("module a\nrequire (\n\tb v1\n").is_err());
        assert!(GoMod::parse("require b\n").is_err());
        assert!(GoMod::parse("go 1.21\n").is_err());
    }

    #[test]
    fn go_sum_keeps_tree_checksums() {
        let s = GoSum::parse(
            "github.com/google/uuid v1.3.0 h1:t6JiXgmwXMjEs8VusXIJk2BXHsn+wx8BZdTaoZ5fu7I=\n\
             github.com/google/uuid v1.3.0/go.mod h1:TIyPZe4MgqvfeYDBFedMoGGpEw/LqOeaOT+nhxU+yHo=\n",
        );
        assert_eq!(s.sums.len(), 1);
        assert!(s
            .get("github.com/google/uuid", "v1.3.0")
            .unwrap()
            .starts_with("h1:t6"));
    }
}
