//! Physical lines to logical lines, as BuildKit's `parser.Parse` loop does: parser directives
//! at the top, comment lines dropped, the escape character joining a line to the next, and
//! comment or blank lines inside such a continuation skipped. Every byte of a logical line
//! remembers where it came from ([`SourceMap`]) so `lock` can edit the original text.

use crate::{Directive, Error};

/// Maps byte positions of a logical line back to byte offsets in the original text.
/// A logical line is a concatenation of pieces of physical lines; each piece is one segment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SourceMap {
    /// `(logical start, original start)` of each piece, in order.
    segments: Vec<(usize, usize)>,
}

impl SourceMap {
    fn push(&mut self, logical: usize, original: usize) {
        self.segments.push((logical, original));
    }

    /// The original offset of logical byte `pos`.
    pub fn original(&self, pos: usize) -> usize {
        let i = self.segments.partition_point(|&(l, _)| l <= pos);
        match i.checked_sub(1).and_then(|i| self.segments.get(i)) {
            Some(&(l, o)) => o + (pos - l),
            None => pos,
        }
    }
}

/// One instruction's worth of text after joining continuation lines.
#[derive(Debug, Clone)]
pub(crate) struct Logical {
    pub text: String,
    pub map: SourceMap,
    pub start_line: usize,
    pub end_line: usize,
}

/// A heredoc body read from the lines after its instruction.
#[derive(Debug, Clone)]
pub(crate) struct Body {
    /// Original offsets of the body, terminator line excluded.
    pub start: usize,
    pub end: usize,
    /// Line of the terminator.
    pub end_line: usize,
}

/// Walks the text; BuildKit's scanner plus its directive parser.
pub(crate) struct Lines<'a> {
    src: &'a str,
    /// `(start, end without the line break, end with it)` of every physical line.
    lines: Vec<(usize, usize, usize)>,
    next: usize,
    pub escape: char,
    directives_done: bool,
    pub directives: Vec<Directive>,
}

impl<'a> Lines<'a> {
    pub fn new(src: &'a str) -> Self {
        let mut lines = Vec::new();
        let mut start = usize::from(src.starts_with('\u{feff}')) * 3;
        while start < src.len() {
            let full = src[start..].find('\n').map_or(src.len(), |i| start + i + 1);
            let end = start + src[start..full].trim_end_matches(['\r', '\n']).len();
            lines.push((start, end, full));
            start = full;
        }
        Lines {
            src,
            lines,
            next: 0,
            escape: '\\',
            directives_done: false,
            directives: Vec::new(),
        }
    }

    fn content(&self, i: usize) -> (usize, &'a str) {
        let (s, e, _) = self.lines[i];
        (s, &self.src[s..e])
    }

    /// The next logical line, or `None` at the end of the text.
    pub fn next_logical(&mut self) -> Result<Option<Logical>, Error> {
        while self.next < self.lines.len() {
            let (start, raw) = self.content(self.next);
            let line = raw.trim_start();
            self.directive(line, self.next + 1)?;
            self.next += 1;
            let body = if is_comment(line) { "" } else { line };
            let (keep, mut eol) = trim_continuation(body, self.escape);
            if eol && keep == 0 {
                continue;
            }
            let mut text = body[..keep].to_string();
            let mut map = SourceMap::default();
            map.push(0, start + (raw.len() - line.len()));
            let start_line = self.next;
            while !eol && self.next < self.lines.len() {
                let (start, raw) = self.content(self.next);
                self.directive(raw, self.next + 1)?;
                self.next += 1;
                if is_comment(raw) || raw.trim_start().is_empty() {
                    continue;
                }
                let (keep, end) = trim_continuation(raw, self.escape);
                eol = end;
                map.push(text.len(), start);
                text.push_str(&raw[..keep]);
            }
            return Ok(Some(Logical {
                text,
                map,
                start_line,
                end_line: self.next,
            }));
        }
        Ok(None)
    }

    /// Reads lines up to the heredoc terminator `name`; `chomp` (`<<-`) ignores leading tabs
    /// on the terminator line. `None` if the text ends first.
    pub fn heredoc(&mut self, name: &str, chomp: bool) -> Option<Body> {
        let start = self.lines.get(self.next).map_or(self.src.len(), |l| l.0);
        while self.next < self.lines.len() {
            let (s, line) = self.content(self.next);
            self.next += 1;
            let candidate = if chomp {
                line.trim_start_matches('\t')
            } else {
                line
            };
            if candidate == name {
                return Some(Body {
                    start,
                    end: s,
                    end_line: self.next,
                });
            }
        }
        None
    }

    /// The current line number (1-based) of the last line consumed.
    pub fn line(&self) -> usize {
        self.next
    }

    /// BuildKit's `DirectiveParser.ParseLine`: directives only count before anything else.
    fn directive(&mut self, line: &str, number: usize) -> Result<(), Error> {
        if self.directives_done {
            return Ok(());
        }
        let Some((name, value)) = line.strip_prefix('#').and_then(parse_directive) else {
            self.directives_done = true;
            return Ok(());
        };
        if self.directives.iter().any(|d| d.name == name) {
            return Err(Error::DuplicateDirective { line: number, name });
        }
        if name == "escape" {
            self.escape = match value.as_str() {
                "\\" => '\\',
                "`" => '`',
                _ => {
                    return Err(Error::InvalidEscape {
                        line: number,
                        value,
                    })
                }
            };
        }
        self.directives.push(Directive {
            name,
            value,
            line: number,
        });
        Ok(())
    }
}

/// `^\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$` for the known directive names.
fn parse_directive(rest: &str) -> Option<(String, String)> {
    let rest = rest.trim_start();
    let name_len = rest
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(rest.len());
    let name = &rest[..name_len];
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    let value = rest[name_len..]
        .trim_start_matches(is_re_space)
        .strip_prefix('=')?;
    let value = value.trim_matches(is_re_space);
    let name = name.to_ascii_lowercase();
    let known = matches!(name.as_str(), "syntax" | "escape" | "check");
    (known && !value.is_empty()).then(|| (name, value.to_string()))
}

/// RE2's `\s`.
fn is_re_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0c' | '\r')
}

pub(crate) fn is_comment(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

/// BuildKit's line-continuation regex `([^E])E[ \t]*$|^E[ \t]*$`: the escape character as the
/// last non-blank, not itself escaped. Returns how many bytes to keep and whether the logical
/// line ends here.
fn trim_continuation(line: &str, escape: char) -> (usize, bool) {
    let t = line.trim_end_matches([' ', '\t']);
    if let Some(before) = t.strip_suffix(escape) {
        if !before.ends_with(escape) {
            return (before.len(), false);
        }
    }
    (line.len(), true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_map_points_into_each_piece() {
        let src = "RUN a \\\n  b\n";
        let mut lines = Lines::new(src);
        let l = lines.next_logical().unwrap().unwrap();
        assert_eq!(l.text, "RUN a   b");
        let b = l.text.find('b').unwrap();
        assert_eq!(&src[l.map.original(b)..l.map.original(b) + 1], "b");
        assert_eq!((l.start_line, l.end_line), (1, 2));
    }

    #[test]
    fn escaped_escape_is_not_a_continuation() {
        assert_eq!(trim_continuation(r"a\\", '\\'), (3, true));
        assert_eq!(trim_continuation("a\\ \t", '\\'), (1, false));
        assert_eq!(trim_continuation("\\", '\\'), (0, false));
    }
}
