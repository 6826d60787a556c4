//! The indentation tree under `yarn.lock` (classic and berry) and `pnpm-lock.yaml`: lines
//! of `key: value` (or yarn classic's `key value`) nested by indentation, with line
//! numbers kept so that every lock entry can name its lines.
//!
//! Why not a YAML library: these files are machine-written in a narrow subset (block
//! mappings, quoted and plain scalars, one-line flow mappings such as `{integrity: …}`),
//! yarn classic's format is not YAML at all yet has the same shape, and the maintained
//! Rust YAML parsers either recurse on nesting or are deprecated (`serde_yaml`) or have
//! had soundness advisories (`serde_yml`). This reader is iterative (nodes live in one
//! flat arena, so neither building nor dropping a tree recurses), bounds nesting
//! ([`MAX_DEPTH`]) and lines ([`MAX_LINES`]), and reports the line of anything it cannot
//! read. What it does not support (anchors, multi-line flow collections, complex keys)
//! these lock files never contain; such a line is an error naming it.

/// Deepest nesting of keys read: lock files nest five or six levels.
pub(crate) const MAX_DEPTH: usize = 32;
/// Most non-blank lines read from one lock file (the largest real ones have a few hundred
/// thousand).
pub(crate) const MAX_LINES: usize = 4_000_000;

/// Which line syntax the file uses.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Syntax {
    /// `key: value` (pnpm-lock.yaml, yarn berry).
    Yaml,
    /// `key value` and `key:` (yarn classic).
    YarnClassic,
}

#[derive(Debug)]
struct Node {
    key: String,
    value: Option<String>,
    line: usize,
    end: usize,
    children: Vec<usize>,
}

/// A parsed file; node 0 is the document itself.
#[derive(Debug)]
pub(crate) struct Tree {
    nodes: Vec<Node>,
}

/// A node of a [`Tree`]: a key with a scalar value, or with children.
#[derive(Clone, Copy)]
pub(crate) struct NodeRef<'a> {
    tree: &'a Tree,
    i: usize,
}

impl<'a> NodeRef<'a> {
    pub fn key(&self) -> &'a str {
        &self.tree.nodes[self.i].key
    }
    pub fn value(&self) -> Option<&'a str> {
        self.tree.nodes[self.i].value.as_deref()
    }
    /// First and last line (1-based) of the node and everything under it.
    pub fn lines(&self) -> (usize, usize) {
        let n = &self.tree.nodes[self.i];
        (n.line, n.end)
    }
    pub fn children(&self) -> impl Iterator<Item = NodeRef<'a>> + 'a {
        let tree = self.tree;
        tree.nodes[self.i]
            .children
            .iter()
            .map(move |&i| NodeRef { tree, i })
    }
    /// The child with this key.
    pub fn get(&self, key: &str) -> Option<NodeRef<'a>> {
        self.children().find(|c| c.key() == key)
    }
    /// The scalar value of the child with this key.
    pub fn str(&self, key: &str) -> Option<&'a str> {
        self.get(key).and_then(|c| c.value())
    }
}

impl Tree {
    pub fn root(&self) -> NodeRef<'_> {
        NodeRef { tree: self, i: 0 }
    }

    /// Read `text`; an error names the line it could not read.
    pub fn parse(text: &str, syntax: Syntax) -> Result<Tree, String> {
        let mut nodes = vec![Node {
            key: String::new(),
            value: None,
            line: 1,
            end: 1,
            children: Vec::new(),
        }];
        // Open mappings: (indentation, node).
        let mut stack: Vec<(usize, usize)> = Vec::new();
        // The last node that got a scalar value, for continuation lines.
        let mut last_scalar: Option<(usize, usize)> = None;
        // A block scalar (`|`, `>`) being read: (indentation of its key, node).
        let mut block: Option<(usize, usize)> = None;
        let mut count = 0usize;
        for (n, raw) in text.lines().enumerate() {
            let line = n + 1;
            let raw = raw.strip_suffix('\r').unwrap_or(raw);
            let content = raw.trim_start_matches(' ');
            let indent = raw.len() - content.len();
            if content.trim().is_empty() {
                continue;
            }
            if let Some((at, node)) = block {
                if indent > at {
                    let v = nodes[node].value.get_or_insert_with(String::new);
                    if !v.is_empty() {
                        v.push('\n');
                    }
                    v.push_str(content.trim_end());
                    nodes[node].end = line;
                    continue;
                }
                block = None;
            }
            if content.starts_with('#') {
                continue;
            }
            count += 1;
            if count > MAX_LINES {
                return Err(format!(
                    "line {line}: more than {MAX_LINES} lines; not read"
                ));
            }
            if content.starts_with('\t') {
                return Err(format!("line {line}: tab indentation"));
            }
            while stack.last().is_some_and(|&(i, _)| i >= indent) {
                stack.pop();
            }
            if let Some((at, node)) = last_scalar {
                // A plain scalar continued on a more indented line.
                if indent > at && stack.last().is_none_or(|&(i, _)| i < at) {
                    if syntax == Syntax::Yaml && !looks_like_entry(content) {
                        let v = nodes[node].value.get_or_insert_with(String::new);
                        v.push(' ');
                        v.push_str(content.trim());
                        nodes[node].end = line;
                        continue;
                    }
                    return Err(format!("line {line}: unexpected indentation"));
                }
            }
            last_scalar = None;
            let parent = stack.last().map_or(0, |&(_, p)| p);
            let (key, value) = match syntax {
                Syntax::Yaml => yaml_line(content),
                Syntax::YarnClassic => classic_line(content),
            }
            .map_err(|e| format!("line {line}: {e}"))?;
            let idx = nodes.len();
            nodes.push(Node {
                key,
                value: None,
                line,
                end: line,
                children: Vec::new(),
            });
            nodes[parent].children.push(idx);
            match value {
                Value::Open => {
                    if stack.len() >= MAX_DEPTH {
                        return Err(format!(
                            "line {line}: nested more than {MAX_DEPTH} levels deep"
                        ));
                    }
                    stack.push((indent, idx));
                }
                Value::Scalar(s) => {
                    nodes[idx].value = Some(s);
                    last_scalar = Some((indent, idx));
                }
                Value::Block => {
                    nodes[idx].value = Some(String::new());
                    block = Some((indent, idx));
                }
                Value::Flow(pairs) => {
                    for (k, v) in pairs {
                        let c = nodes.len();
                        nodes.push(Node {
                            key: k,
                            value: Some(v),
                            line,
                            end: line,
                            children: Vec::new(),
                        });
                        nodes[idx].children.push(c);
                    }
                }
            }
        }
        // Children come after their parent in the arena: one backward sweep gives every
        // node the last line under it.
        let mut parent_of = vec![0usize; nodes.len()];
        for (i, n) in nodes.iter().enumerate() {
            for &c in &n.children {
                parent_of[c] = i;
            }
        }
        for i in (1..nodes.len()).rev() {
            let end = nodes[i].end;
            let p = parent_of[i];
            if nodes[p].end < end {
                nodes[p].end = end;
            }
        }
        Ok(Tree { nodes })
    }
}

enum Value {
    /// `key:` with nothing after it: a mapping follows (or is empty).
    Open,
    Scalar(String),
    /// `key: |` or `key: >`: the more indented lines that follow.
    Block,
    /// `key: {a: b, c: d}` (and `{}`).
    Flow(Vec<(String, String)>),
}

/// Whether a line that is more indented than a scalar reads as `key: value`.
fn looks_like_entry(content: &str) -> bool {
    yaml_line(content).is_ok_and(|(_, v)| !matches!(v, Value::Scalar(_)))
        || content.contains(": ")
        || content.ends_with(':')
}

fn yaml_line(content: &str) -> Result<(String, Value), String> {
    let content = content.trim_end();
    if content == "-" || content.starts_with("- ") {
        let rest = content[1..].trim();
        return Ok((String::new(), yaml_value(rest)?));
    }
    let (key, rest) = if content.starts_with('"') || content.starts_with('\'') {
        let (k, used) = quoted(content)?;
        (k, &content[used..])
    } else {
        match content.find(": ") {
            Some(i) => (content[..i].to_owned(), &content[i..]),
            None => match content.strip_suffix(':') {
                Some(k) => (k.to_owned(), ":"),
                None => return Err(format!("no `key:` in {:?}", clip(content))),
            },
        }
    };
    let rest = rest
        .strip_prefix(':')
        .ok_or_else(|| format!("no `:` after the key in {:?}", clip(content)))?;
    if !rest.is_empty() && !rest.starts_with(' ') {
        return Err(format!("no space after `:` in {:?}", clip(content)));
    }
    Ok((key, yaml_value(rest.trim())?))
}

fn yaml_value(v: &str) -> Result<Value, String> {
    if v.is_empty() || v.starts_with('#') {
        return Ok(Value::Open);
    }
    if v.starts_with('"') || v.starts_with('\'') {
        let (s, used) = quoted(v)?;
        let tail = v[used..].trim();
        if !tail.is_empty() && !tail.starts_with('#') {
            return Err(format!("text after a quoted value: {:?}", clip(v)));
        }
        return Ok(Value::Scalar(s));
    }
    if v.starts_with('{') {
        return flow_map(v).map(Value::Flow);
    }
    if matches!(v.chars().next(), Some('|' | '>'))
        && v[1..].chars().all(|c| matches!(c, '-' | '+' | '0'..='9'))
    {
        return Ok(Value::Block);
    }
    if matches!(v.chars().next(), Some('&' | '*' | '!')) {
        return Err(format!(
            "anchors, aliases and tags are not supported: {:?}",
            clip(v)
        ));
    }
    let v = match v.find(" #") {
        Some(i) => &v[..i],
        None => v,
    };
    Ok(Value::Scalar(v.trim().to_owned()))
}

/// `{a: b, 'c': "d"}` on one line; a nested flow collection is kept as its text.
fn flow_map(v: &str) -> Result<Vec<(String, String)>, String> {
    let inner = v
        .strip_prefix('{')
        .and_then(|s| s.trim_end().strip_suffix('}'))
        .ok_or_else(|| {
            format!(
                "a flow mapping that does not end on its line: {:?}",
                clip(v)
            )
        })?;
    let mut out = Vec::new();
    for part in split_top(inner) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (k, rest) = if part.starts_with('"') || part.starts_with('\'') {
            let (k, used) = quoted(part)?;
            (k, part[used..].trim_start())
        } else {
            match part.find(':') {
                Some(i) => (part[..i].trim().to_owned(), &part[i..]),
                None => (part.to_owned(), ":"),
            }
        };
        let val = rest
            .strip_prefix(':')
            .ok_or_else(|| format!("no `:` in flow entry {:?}", clip(part)))?
            .trim();
        let val = if val.starts_with('"') || val.starts_with('\'') {
            quoted(val)?.0
        } else {
            val.to_owned()
        };
        out.push((k, val));
    }
    Ok(out)
}

/// Split at commas outside quotes and brackets.
fn split_top(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut quote, mut start) = (0i32, None::<char>, 0);
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '{' | '[') => depth += 1,
            (None, '}' | ']') => depth -= 1,
            (None, ',') if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

/// A quoted scalar at the start of `s`: its value and the bytes it took.
fn quoted(s: &str) -> Result<(String, usize), String> {
    let q = s.chars().next().ok_or("empty")?;
    let mut out = String::new();
    let mut chars = s.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        if q == '\'' && c == '\'' {
            if s[i + 1..].starts_with('\'') {
                out.push('\'');
                chars.next();
                continue;
            }
            return Ok((out, i + 1));
        }
        if q == '"' && c == '\\' {
            match chars.next() {
                Some((_, 'n')) => out.push('\n'),
                Some((_, 't')) => out.push('\t'),
                Some((_, e)) => out.push(e),
                None => break,
            }
            continue;
        }
        if q == '"' && c == '"' {
            return Ok((out, i + 1));
        }
        out.push(c);
    }
    Err(format!("an unterminated quoted string: {:?}", clip(s)))
}

/// yarn classic: `key:` opens a mapping; `key value` is a scalar. Keys of entries may be
/// several comma-separated specs, each quoted or not: they are kept as written (quotes
/// included) unless the key is one quoted token.
fn classic_line(content: &str) -> Result<(String, Value), String> {
    let content = content.trim_end();
    if let Some(k) = content.strip_suffix(':') {
        let k = if k.starts_with('"') {
            match quoted(k) {
                Ok((s, used)) if used == k.len() => s,
                _ => k.to_owned(),
            }
        } else {
            k.to_owned()
        };
        return Ok((k, Value::Open));
    }
    let (key, used) = if content.starts_with('"') {
        quoted(content)?
    } else {
        let end = content.find(' ').unwrap_or(content.len());
        (content[..end].to_owned(), end)
    };
    let rest = content[used..].trim();
    if rest.is_empty() {
        return Err(format!("a key without a value: {:?}", clip(content)));
    }
    let value = if rest.starts_with('"') {
        quoted(rest)?.0
    } else {
        rest.to_owned()
    };
    Ok((key, Value::Scalar(value)))
}

/// At most 80 characters of a line, for messages.
fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(80).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_subset_with_lines() {
        let t = Tree::parse(
            "lockfileVersion: '9.0'\n\npackages:\n\n  '@a/b@1.0.0':\n    resolution: {integrity: sha512-x==, tarball: 'u'}\n    engines: {node: '>=10'}\n  c@2.0.0: {}\n  d@1:\n    deprecated: a long\n      text\n",
            Syntax::Yaml,
        )
        .unwrap();
        let r = t.root();
        assert_eq!(r.str("lockfileVersion"), Some("9.0"));
        let p = r.get("packages").unwrap();
        let keys: Vec<_> = p.children().map(|c| c.key()).collect();
        assert_eq!(keys, ["@a/b@1.0.0", "c@2.0.0", "d@1"]);
        let ab = p.get("@a/b@1.0.0").unwrap();
        assert_eq!(ab.lines(), (5, 7));
        assert_eq!(
            ab.get("resolution").unwrap().str("integrity"),
            Some("sha512-x==")
        );
        assert_eq!(ab.get("engines").unwrap().str("node"), Some(">=10"));
        assert_eq!(p.get("d@1").unwrap().str("deprecated"), Some("a long text"));
        assert_eq!(p.lines(), (3, 11));
    }

    #[test]
    fn classic_keys_and_values() {
        let t = Tree::parse(
            "# yarn lockfile v1\n\n\"@a/b@^1\", \"@a/b@^1.1\":\n  version \"1.2.0\"\n  dependencies:\n    \"@c/d\" \"*\"\n    e \"^2\"\n",
            Syntax::YarnClassic,
        )
        .unwrap();
        let e = t.root().children().next().unwrap();
        assert_eq!(e.key(), "\"@a/b@^1\", \"@a/b@^1.1\"");
        assert_eq!(e.str("version"), Some("1.2.0"));
        let d: Vec<_> = e
            .get("dependencies")
            .unwrap()
            .children()
            .map(|c| (c.key(), c.value().unwrap()))
            .collect();
        assert_eq!(d, [("@c/d", "*"), ("e", "^2")]);
        assert_eq!(e.lines(), (3, 7));
    }

    #[test]
    fn deep_nesting_is_refused_not_recursed() {
        let mut s = String::new();
        for i in 0..10_000 {
            s.push_str(&" ".repeat(i));
            s.push_str("k:\n");
        }
        let e = Tree::parse(&s, Syntax::Yaml).unwrap_err();
        assert!(e.contains("nested more than 32 levels"), "{e}");
    }

    #[test]
    fn bad_lines_name_their_number() {
        let e = Tree::parse("a: 1\nb: 'open\n", Syntax::Yaml).unwrap_err();
        assert!(e.starts_with("line 2:"), "{e}");
        let e = Tree::parse("a: &x 1\n", Syntax::Yaml).unwrap_err();
        assert!(e.contains("anchors"), "{e}");
    }
}
