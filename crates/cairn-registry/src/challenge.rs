//! `WWW-Authenticate` challenges (RFC 7235 §4.1): several challenges per
//! header, parameters as tokens or quoted strings with `\` escapes, and a
//! token68 right after the scheme.

/// One challenge: `Bearer realm="…",service="…"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Challenge {
    /// The auth scheme, lowercased (`bearer`, `basic`).
    pub scheme: String,
    /// Parameters in order, names lowercased. A token68 is stored with an
    /// empty name.
    pub params: Vec<(String, String)>,
}

impl Challenge {
    /// The first parameter named `name` (case-insensitive).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn is_tchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)
}

fn is_token68(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"-._~+/".contains(&c)
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }
    fn skip_ws_commas(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b',')) {
            self.i += 1;
        }
    }
    fn token(&mut self) -> &str {
        let start = self.i;
        while self.peek().is_some_and(is_tchar) {
            self.i += 1;
        }
        // tchars are ASCII, so this slice is valid UTF-8.
        std::str::from_utf8(&self.b[start..self.i]).unwrap_or("")
    }
    /// A quoted string starting at the opening quote; `None` if unterminated.
    fn quoted(&mut self) -> Option<String> {
        debug_assert_eq!(self.peek(), Some(b'"'));
        self.i += 1;
        let mut out = Vec::new();
        loop {
            match self.peek()? {
                b'"' => {
                    self.i += 1;
                    return Some(String::from_utf8_lossy(&out).into_owned());
                }
                b'\\' => {
                    self.i += 1;
                    out.push(self.peek()?);
                    self.i += 1;
                }
                c => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
    }
    /// A token68 followed by the end or a comma, at the cursor; restores the
    /// cursor when there is none.
    fn token68(&mut self) -> Option<String> {
        let start = self.i;
        while self.peek().is_some_and(is_token68) {
            self.i += 1;
        }
        if self.i == start {
            return None;
        }
        while self.peek() == Some(b'=') {
            self.i += 1;
        }
        let end = self.i;
        self.skip_ws();
        if matches!(self.peek(), None | Some(b',')) {
            return Some(String::from_utf8_lossy(&self.b[start..end]).into_owned());
        }
        self.i = start;
        None
    }
}

/// All challenges of one or more `WWW-Authenticate` header values. Parsing
/// is lenient: it stops at the first malformed part and keeps what came
/// before.
pub(crate) fn parse_challenges<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<Challenge> {
    let mut out = Vec::new();
    for value in values {
        parse_one(value, &mut out);
    }
    out
}

fn parse_one(value: &str, out: &mut Vec<Challenge>) {
    let mut c = Cursor {
        b: value.as_bytes(),
        i: 0,
    };
    loop {
        c.skip_ws_commas();
        if c.peek().is_none() {
            return;
        }
        let scheme = c.token().to_ascii_lowercase();
        if scheme.is_empty() {
            return;
        }
        let mut challenge = Challenge {
            scheme,
            params: Vec::new(),
        };
        // A token68 may only follow the scheme after whitespace.
        let had_space = matches!(c.peek(), Some(b' ' | b'\t'));
        c.skip_ws();
        if had_space {
            if let Some(t) = c.token68() {
                challenge.params.push((String::new(), t));
                out.push(challenge);
                continue;
            }
        } else if !matches!(c.peek(), None | Some(b',')) {
            return; // garbage glued to the scheme
        }
        let malformed = loop {
            let before = c.i;
            c.skip_ws_commas();
            if c.peek().is_none() {
                break false;
            }
            let name_start = c.i;
            let name = c.token().to_ascii_lowercase();
            if name.is_empty() {
                break true;
            }
            c.skip_ws();
            if c.peek() != Some(b'=') {
                // Not a parameter: the next challenge's scheme. It must be
                // separated from this challenge by a comma.
                if !c.b[before..name_start].contains(&b',') && !challenge.params.is_empty() {
                    break true;
                }
                c.i = name_start;
                break false;
            }
            c.i += 1;
            c.skip_ws();
            let value = match c.peek() {
                Some(b'"') => match c.quoted() {
                    Some(v) => v,
                    None => break true,
                },
                _ => c.token().to_string(),
            };
            challenge.params.push((name, value));
        };
        out.push(challenge);
        if malformed {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]

        /// Whatever a server sends, parsing it neither panics nor invents a challenge
        /// without a scheme.
        #[test]
        fn any_header_parses_without_panicking(
            a in "\\PC{0,200}",
            b in "[A-Za-z =,\"\\\\]{0,80}",
        ) {
            for c in parse_challenges([a.as_str(), b.as_str()]) {
                proptest::prop_assert!(!c.scheme.is_empty());
            }
        }
    }

    fn params(c: &Challenge) -> Vec<(&str, &str)> {
        c.params
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect()
    }

    #[test]
    fn bearer_as_registries_send_it() {
        let cs = parse_challenges([
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull""#,
        ]);
        assert_eq!(cs.len(), 1);
        assert_eq!(cs[0].scheme, "bearer");
        assert_eq!(cs[0].param("realm"), Some("https://auth.docker.io/token"));
        assert_eq!(cs[0].param("SERVICE"), Some("registry.docker.io"));
        assert_eq!(cs[0].param("scope"), Some("repository:library/nginx:pull"));
    }

    #[test]
    fn several_challenges_escapes_and_tokens() {
        let cs = parse_challenges([
            r#"Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple""#,
            "basic realm=x",
        ]);
        assert_eq!(cs.len(), 3);
        assert_eq!(cs[0].scheme, "newauth");
        assert_eq!(
            params(&cs[0]),
            vec![
                ("realm", "apps"),
                ("type", "1"),
                ("title", r#"Login to "apps""#)
            ]
        );
        assert_eq!(cs[1].scheme, "basic");
        assert_eq!(cs[1].param("realm"), Some("simple"));
        assert_eq!(cs[2].param("realm"), Some("x"));
    }

    #[test]
    fn token68_and_bare_schemes() {
        let cs = parse_challenges(["Negotiate abc+/==, Bearer, Basic realm = \"r\" "]);
        assert_eq!(cs.len(), 3);
        assert_eq!(params(&cs[0]), vec![("", "abc+/==")]);
        assert_eq!(cs[1].scheme, "bearer");
        assert!(cs[1].params.is_empty());
        assert_eq!(cs[2].param("realm"), Some("r"));
        let cs = parse_challenges(["Bearer"]);
        assert_eq!(cs.len(), 1);
        assert!(cs[0].params.is_empty());
    }

    #[test]
    fn malformed_input_keeps_what_parsed() {
        // Unterminated quoted string: the challenge is kept with the
        // parameters before it.
        let cs = parse_challenges([r#"Bearer realm="https://a/token",service="unterminated"#]);
        assert_eq!(cs.len(), 1);
        assert_eq!(cs[0].param("realm"), Some("https://a/token"));
        assert_eq!(cs[0].param("service"), None);
        for garbage in [
            "",
            "   ,, ",
            "\"quoted\"",
            "=x",
            "Bearer\"x\"",
            "Bearer realm=\"a\" junk",
        ] {
            let cs = parse_challenges([garbage]);
            assert!(cs.len() <= 1, "{garbage}: {cs:?}");
        }
        // Non-ASCII and lone escapes do not panic.
        let _ = parse_challenges(["Bearer realm=\"\u{e9}\\", "Bearer realm=\u{e9}"]);
    }
}
