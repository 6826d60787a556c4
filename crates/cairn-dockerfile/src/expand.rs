//! BuildKit's shell-word lexer (`frontend/dockerfile/shell/lex.go`): quote removal, escapes and
//! `$VAR` / `${VAR…}` substitution, as BuildKit applies them to the arguments of `FROM`, `ENV`,
//! `ARG`, `COPY` and the other expanding instructions. The same lexer, with quotes and escapes
//! kept raw, finds heredoc words on an instruction line.

/// Longest result one word may expand to; `$A$A$A…` could otherwise grow without bound.
pub(crate) const MAX_WORD_BYTES: usize = crate::MAX_DOCKERFILE_BYTES;

/// Longest variable value the `#`, `%` and `/` pattern modifiers work on: their matching is
/// quadratic, and real values are short.
const MAX_PATTERN_VALUE: usize = 4096;
/// Steps (characters compared, roughly) one `${VAR/pattern/replacement}` may take: the
/// leftmost-longest search tries every start and end, so a long value and pattern that
/// never match would otherwise cost the cube of the value's length.
const MAX_PATTERN_WORK: u64 = 20_000_000;

/// Looks a variable up; `None` means unset (which `${X-…}` and `${X+…}` tell from empty).
pub(crate) type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The lexer's switches, named as in BuildKit's `shell.Lex`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lexer {
    pub escape: char,
    /// Keep quote characters in the output.
    pub raw_quotes: bool,
    /// Keep escape characters in the output.
    pub raw_escapes: bool,
    /// Leave unset variables as written instead of expanding them to "".
    pub skip_unset: bool,
}

impl Lexer {
    /// The lexer BuildKit uses for instruction arguments.
    pub fn new(escape: char) -> Self {
        Lexer {
            escape,
            raw_quotes: false,
            raw_escapes: false,
            skip_unset: false,
        }
    }

    /// Expands `src` as one word (BuildKit `ProcessWord`): whitespace is kept.
    pub fn word(&self, src: &str, env: Lookup) -> Result<String, String> {
        Ok(self.run(src, env)?.0)
    }

    /// Expands `src` and splits it into words (BuildKit `ProcessWords`).
    pub fn words(&self, src: &str, env: Lookup) -> Result<Vec<String>, String> {
        Ok(self.run(src, env)?.1)
    }

    fn run(&self, src: &str, env: Lookup) -> Result<(String, Vec<String>), String> {
        let mut scan = Scan {
            lx: *self,
            chars: src.chars().collect(),
            pos: 0,
            env,
        };
        let raw = self.raw_escapes;
        scan.stop_on(None, raw)
    }
}

/// Accumulates the word list alongside the single-word result, as `wordsStruct` does.
#[derive(Default)]
struct Words {
    buf: String,
    words: Vec<String>,
    in_word: bool,
}

impl Words {
    fn add_char(&mut self, ch: char) {
        if ch.is_whitespace() {
            if self.in_word && !self.buf.is_empty() {
                self.words.push(std::mem::take(&mut self.buf));
                self.in_word = false;
            }
        } else {
            self.add_raw(ch);
        }
    }
    fn add_raw(&mut self, ch: char) {
        self.buf.push(ch);
        self.in_word = true;
    }
    fn add_string(&mut self, s: &str) {
        s.chars().for_each(|c| self.add_char(c));
    }
    fn add_raw_string(&mut self, s: &str) {
        self.buf.push_str(s);
        self.in_word = true;
    }
    fn finish(mut self) -> Vec<String> {
        if !self.buf.is_empty() {
            self.words.push(self.buf);
        }
        self.words
    }
}

struct Scan<'a> {
    lx: Lexer,
    chars: Vec<char>,
    pos: usize,
    env: Lookup<'a>,
}

fn too_long<T>(s: &str) -> Result<T, String> {
    Err(format!(
        "expansion longer than {} bytes (at {:.20}…)",
        MAX_WORD_BYTES, s
    ))
}

impl Scan<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }
    fn next(&mut self) -> Option<char> {
        let c = self.peek();
        self.pos += usize::from(c.is_some());
        c
    }

    /// Processes until `stop` (consumed) or the end; BuildKit's `processStopOn`.
    fn stop_on(&mut self, stop: Option<char>, raw: bool) -> Result<(String, Vec<String>), String> {
        let saved = std::mem::replace(&mut self.lx.raw_escapes, raw);
        let r = self.stop_on_inner(stop);
        self.lx.raw_escapes = saved;
        r
    }

    fn special(&mut self, ch: char) -> Option<Result<String, String>> {
        match ch {
            '$' => Some(self.dollar()),
            '<' => Some(Ok(self.possible_heredoc())),
            '\'' => Some(self.single_quote()),
            '"' => Some(self.double_quote()),
            _ => None,
        }
    }

    fn stop_on_inner(&mut self, stop: Option<char>) -> Result<(String, Vec<String>), String> {
        let mut result = String::new();
        let mut words = Words::default();
        while let Some(ch) = self.peek() {
            if Some(ch) == stop {
                self.next();
                return Ok((result, words.finish()));
            }
            if let Some(tmp) = self.special(ch) {
                let tmp = tmp?;
                result.push_str(&tmp);
                if ch == '$' {
                    words.add_string(&tmp);
                } else {
                    words.add_raw_string(&tmp);
                }
                if result.len() > MAX_WORD_BYTES {
                    return too_long(&result);
                }
                continue;
            }
            let mut ch = self.next().unwrap_or_default();
            if ch == self.lx.escape {
                if self.lx.raw_escapes {
                    words.add_raw(ch);
                    result.push(ch);
                }
                match self.next() {
                    None => break,
                    Some(c) => ch = c,
                }
                words.add_raw(ch);
            } else {
                words.add_char(ch);
            }
            result.push(ch);
        }
        match stop {
            Some(c) => Err(format!(
                "unexpected end of statement while looking for matching {c}"
            )),
            None => Ok((result, words.finish())),
        }
    }

    fn single_quote(&mut self) -> Result<String, String> {
        let mut r = String::new();
        let open = self.next().unwrap_or('\'');
        if self.lx.raw_quotes {
            r.push(open);
        }
        loop {
            match self.next() {
                None => {
                    return Err(
                        "unexpected end of statement while looking for matching single-quote"
                            .into(),
                    )
                }
                Some('\'') => {
                    if self.lx.raw_quotes {
                        r.push('\'');
                    }
                    return Ok(r);
                }
                Some(c) => r.push(c),
            }
        }
    }

    fn double_quote(&mut self) -> Result<String, String> {
        let mut r = String::new();
        let open = self.next().unwrap_or('"');
        if self.lx.raw_quotes {
            r.push(open);
        }
        loop {
            match self.peek() {
                None => {
                    return Err(
                        "unexpected end of statement while looking for matching double-quote"
                            .into(),
                    )
                }
                Some('"') => {
                    self.next();
                    if self.lx.raw_quotes {
                        r.push('"');
                    }
                    return Ok(r);
                }
                Some('$') => r.push_str(&self.dollar()?),
                Some(_) => self.double_quoted_char(&mut r),
            }
            if r.len() > MAX_WORD_BYTES {
                return too_long(&r);
            }
        }
    }

    /// Inside double quotes the escape only escapes `"`, `$` and itself; otherwise it is literal.
    fn double_quoted_char(&mut self, r: &mut String) {
        let mut ch = self.next().unwrap_or_default();
        if ch == self.lx.escape {
            if self.lx.raw_escapes {
                r.push(ch);
            }
            match self.peek() {
                None => return,
                Some(c) if c == '"' || c == '$' || c == self.lx.escape => {
                    ch = self.next().unwrap_or(c);
                }
                Some(_) => {}
            }
        }
        r.push(ch);
    }

    fn get(&self, name: &str) -> Option<String> {
        (self.env)(name)
    }

    fn dollar(&mut self) -> Result<String, String> {
        self.next();
        if self.peek() != Some('{') {
            let name = self.name();
            if name.is_empty() {
                return Ok("$".into());
            }
            return Ok(match self.get(&name) {
                Some(v) => v,
                None if self.lx.skip_unset => format!("${name}"),
                None => String::new(),
            });
        }
        self.next();
        match self.peek() {
            None => return Err("syntax error: missing '}'".into()),
            Some('{' | '}' | ':') => return Err("syntax error: bad substitution".into()),
            Some(_) => {}
        }
        let name = self.name();
        match self.next() {
            None => Err("syntax error: missing '}'".into()),
            Some('}') => Ok(match self.get(&name) {
                Some(v) => v,
                None if self.lx.skip_unset => format!("${{{name}}}"),
                None => String::new(),
            }),
            Some(c @ (':' | '+' | '-' | '?' | '#' | '%')) => self.modifier(name, c),
            Some('/') => self.replace(name),
            Some(c) => Err(format!("unsupported modifier ({c}) in substitution")),
        }
    }

    /// `${NAME<op>word}` for the default/alternative/error/trim operators.
    fn modifier(&mut self, name: String, first: char) -> Result<String, String> {
        let mut chs = first.to_string();
        let mut op = first;
        let null_is_unset = first == ':';
        if null_is_unset {
            op = self.next().ok_or("syntax error: missing '}'")?;
            chs.push(op);
        }
        let raw = op == '#' || op == '%';
        if null_is_unset && raw {
            return Err(format!("unsupported modifier ({chs}) in substitution"));
        }
        let word = self.word_until_brace(raw)?;
        let value = self.get(&name);
        if self.lx.skip_unset && value.is_none() {
            return Ok(format!("${{{name}{chs}{word}}}"));
        }
        let unset = value.is_none() || (null_is_unset && value.as_deref() == Some(""));
        match op {
            '-' if unset => Ok(word),
            '-' => Ok(value.unwrap_or_default()),
            '+' if unset => Ok(String::new()),
            '+' => Ok(word),
            '?' => match value {
                None => Err(format!(
                    "{name}: {}",
                    or(word, "is not allowed to be unset")
                )),
                Some(v) if null_is_unset && v.is_empty() => Err(format!(
                    "{name}: {}",
                    or(word, "is not allowed to be empty")
                )),
                Some(v) => Ok(v),
            },
            '#' | '%' => trim(op, &word, &value.unwrap_or_default()),
            _ => Err(format!("unsupported modifier ({chs}) in substitution")),
        }
    }

    fn word_until_brace(&mut self, raw: bool) -> Result<String, String> {
        self.stop_on(Some('}'), raw).map(|r| r.0).map_err(|e| {
            if self.peek().is_none() {
                "syntax error: missing '}'".to_string()
            } else {
                e
            }
        })
    }

    /// `${NAME/pattern/replacement}` and `${NAME//pattern/replacement}`.
    fn replace(&mut self, name: String) -> Result<String, String> {
        let all = self.peek() == Some('/');
        if all {
            self.next();
        }
        let pattern = self.stop_on(Some('/'), true).map(|r| r.0).map_err(|e| {
            if self.peek().is_none() {
                "syntax error: missing '/' in ${}".to_string()
            } else {
                e
            }
        })?;
        let replacement = self.word_until_brace(true)?;
        let value = self.get(&name);
        match value {
            None if self.lx.skip_unset => Ok(format!("${{{name}/{pattern}/{replacement}}}")),
            v => replace(&v.unwrap_or_default(), &pattern, &replacement, all),
        }
    }

    /// A variable name: letters, digits and `_`, or a run of digits, or one special parameter.
    fn name(&mut self) -> String {
        let mut name = String::new();
        while let Some(ch) = self.peek() {
            if name.is_empty() && ch.is_ascii_digit() {
                while let Some(d) = self.peek().filter(char::is_ascii_digit) {
                    self.next();
                    name.push(d);
                }
                return name;
            }
            if name.is_empty() && matches!(ch, '@' | '*' | '#' | '?' | '-' | '$' | '!') {
                self.next();
                return ch.to_string();
            }
            if !(ch.is_alphanumeric() || ch == '_') {
                break;
            }
            self.next();
            name.push(ch);
        }
        name
    }

    /// `<<` keeps the whitespace after it in the same word, so `<< EOF` is one heredoc word.
    fn possible_heredoc(&mut self) -> String {
        self.next();
        if self.peek() != Some('<') {
            return "<".into();
        }
        self.next();
        let mut out = String::from("<<");
        while let Some(c) = self
            .peek()
            .filter(|c| matches!(c, ' ' | '\t' | '\r' | '\n'))
        {
            out.push(c);
            self.next();
        }
        out
    }
}

fn or(word: String, default: &str) -> String {
    if word.is_empty() {
        default.to_string()
    } else {
        word
    }
}

/// `#`/`##` remove the shortest/longest matching prefix, `%`/`%%` the matching suffix.
fn trim(op: char, word: &str, value: &str) -> Result<String, String> {
    let (greedy, pattern) = match word.strip_prefix(op) {
        Some(rest) => (true, rest),
        None => (false, word),
    };
    let v: Vec<char> = value.chars().collect();
    if v.len() > MAX_PATTERN_VALUE {
        return Err(format!(
            "value longer than {MAX_PATTERN_VALUE} characters for pattern modifier"
        ));
    }
    let p: Vec<char> = pattern.chars().collect();
    let cuts: Vec<usize> = if (op == '#') != greedy {
        (0..=v.len()).collect()
    } else {
        (0..=v.len()).rev().collect()
    };
    for i in cuts {
        let (head, tail) = v.split_at(i);
        if op == '#' && glob(&p, head) {
            return Ok(tail.iter().collect());
        }
        if op == '%' && glob(&p, tail) {
            return Ok(head.iter().collect());
        }
    }
    Ok(value.to_string())
}

/// Replaces the first (or every) leftmost-longest match of a shell pattern.
fn replace(value: &str, pattern: &str, replacement: &str, all: bool) -> Result<String, String> {
    let v: Vec<char> = value.chars().collect();
    if v.len() > MAX_PATTERN_VALUE {
        return Err(format!(
            "value longer than {MAX_PATTERN_VALUE} characters for pattern modifier"
        ));
    }
    let p: Vec<char> = pattern.chars().collect();
    let mut out = String::new();
    let mut start = 0;
    let mut replaced = false;
    let mut work: u64 = 0;
    while start <= v.len() {
        let mut found = None;
        'search: for s in start..=v.len() {
            for e in (s..=v.len()).rev() {
                // Each try costs up to its length times the pattern's: bounded in all.
                work += ((e - s + 1) * (p.len() + 1)) as u64;
                if work > MAX_PATTERN_WORK {
                    return Err(format!(
                        "pattern substitution over the work limit ({MAX_PATTERN_WORK} steps)"
                    ));
                }
                if glob(&p, &v[s..e]) {
                    found = Some((s, e));
                    break 'search;
                }
            }
        }
        let Some((s, e)) = found.filter(|_| all || !replaced) else {
            break;
        };
        out.extend(&v[start..s]);
        out.push_str(replacement);
        replaced = true;
        if e == s {
            out.extend(v.get(s));
            start = s + 1;
        } else {
            start = e;
        }
    }
    if start <= v.len() {
        out.extend(&v[start..]);
    }
    Ok(out)
}

/// Shell pattern match of the whole `text`: `*`, `?`, `[…]` classes and escapes.
/// The classic single-backtrack algorithm keeps it O(len(p)·len(text)).
fn glob(p: &[char], text: &[char]) -> bool {
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < text.len() {
        if let Some(step) = single(p, pi, text[ti]) {
            pi += step;
            ti += 1;
        } else if p.get(pi) == Some(&'*') {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi.min(p.len())..].iter().all(|&c| c == '*')
}

/// If pattern element at `pi` matches `c` alone, how many pattern chars it spans.
fn single(p: &[char], pi: usize, c: char) -> Option<usize> {
    match *p.get(pi)? {
        '*' => None,
        '?' => Some(1),
        '\\' => (p.get(pi + 1) == Some(&c)).then_some(2),
        '[' => class(p, pi, c),
        lit => (lit == c).then_some(1),
    }
}

fn class(p: &[char], pi: usize, c: char) -> Option<usize> {
    let end = (pi + 2..p.len()).find(|&i| p[i] == ']');
    let Some(end) = end else {
        return (c == '[').then_some(1);
    };
    let mut body = &p[pi + 1..end];
    let negate = matches!(body.first(), Some('!' | '^'));
    if negate {
        body = &body[1..];
    }
    let mut hit = false;
    let mut i = 0;
    while i < body.len() {
        if i + 2 < body.len() && body[i + 1] == '-' {
            hit |= body[i] <= c && c <= body[i + 2];
            i += 3;
        } else {
            hit |= body[i] == c;
            i += 1;
        }
    }
    (hit != negate).then_some(end - pi + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "A" => Some("apple".into()),
            "E" => Some(String::new()),
            "P" => Some("/usr/local/bin".into()),
            _ => None,
        }
    }

    fn w(src: &str) -> String {
        Lexer::new('\\').word(src, &env).unwrap()
    }

    #[test]
    fn substitution_operators_follow_posix_sh() {
        assert_eq!(w("$A ${A}"), "apple apple");
        assert_eq!(w("${U:-d} ${E:-d} ${E-d} ${U-d}"), "d d  d");
        assert_eq!(w("${A:+x} ${E:+x} ${E+x} ${U+x}."), "x  x .");
        assert_eq!(w(r"\$A '$A' "), "$A $A ");
        assert_eq!(w(r#""$A \$A \q""#), r"apple $A \q");
        assert_eq!(
            w("${P#*/} ${P##*/} ${P%/*} ${P%%/*}x"),
            "usr/local/bin bin /usr/local x"
        );
        assert_eq!(w("${P/l/L} ${P//l/L}"), "/usr/Local/bin /usr/LocaL/bin");
        assert_eq!(w("$ $1 ${U}"), "$  ");
    }

    /// A long value and a pattern that never matches: the search is cut off at its work
    /// limit instead of taking the cube of the value's length.
    #[test]
    fn a_costly_pattern_substitution_is_refused() {
        let long = "a".repeat(4000);
        let env = |n: &str| (n == "L").then(|| long.clone());
        let r = Lexer::new('\\').word("${L/*b*/x}", &env);
        assert!(r.unwrap_err().contains("work limit"));
        // An ordinary one still works.
        assert_eq!(w("${A/p*l/P}"), "aPe");
    }

    #[test]
    fn bad_substitutions_are_errors() {
        let lx = Lexer::new('\\');
        for bad in [
            "${", "${}", "${:x}", "${A", "${A:-x", "'open", "\"open", "${U?}", "${A:#x}",
        ] {
            assert!(lx.word(bad, &env).is_err(), "{bad}");
        }
    }

    #[test]
    fn words_split_on_unquoted_whitespace_only() {
        let lx = Lexer::new('\\');
        assert_eq!(
            lx.words(r#"a "b c" d\ e"#, &env).unwrap(),
            ["a", "b c", "d e"]
        );
    }
}
