//! A small POSIX-shell tokenizer, enough to find package-manager commands in `RUN` text and
//! heredoc scripts: words with quotes and escapes removed, split into simple commands at
//! `;`, `&&`, `||`, `|`, `&`, parentheses and newlines. Redirection targets are dropped, and
//! heredoc bodies inside a script are skipped. Every word remembers where it is in the text,
//! so a pin can be inserted exactly after (or, when quoted, just inside the end of) it.

/// One shell word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Word {
    /// The value the command sees: quotes, escapes and `\<newline>` removed.
    pub value: String,
    /// Byte offset of the word's first character.
    pub start: usize,
    /// Where text must be inserted to extend the value: before the closing quote if the word
    /// ends with a quoted part, else just after the last character.
    pub insert_at: usize,
    /// The value depends on `$…` or backquote substitution.
    pub dynamic: bool,
    /// Holds an unquoted `*`, `?` or `[`.
    pub glob: bool,
}

#[derive(Default)]
struct Builder {
    word: Option<Word>,
    commands: Vec<Vec<Word>>,
    current: Vec<Word>,
    /// The next finished word is a redirection target, not an argument.
    redirect: bool,
    /// The redirection is `<<` (or `<<-` when `true`): the target names a heredoc.
    heredoc: Option<bool>,
    pending: Vec<(String, bool)>,
}

impl Builder {
    fn word(&mut self, at: usize) -> &mut Word {
        self.word.get_or_insert_with(|| Word {
            value: String::new(),
            start: at,
            insert_at: at,
            dynamic: false,
            glob: false,
        })
    }

    fn push(&mut self, c: char, at: usize) {
        let w = self.word(at);
        w.value.push(c);
        w.insert_at = at + c.len_utf8();
    }

    fn finish_word(&mut self) {
        let Some(w) = self.word.take() else { return };
        if self.redirect {
            if let Some(chomp) = self.heredoc.take() {
                self.pending.push((w.value, chomp));
            }
            self.redirect = false;
        } else {
            self.current.push(w);
        }
    }

    fn end_command(&mut self) {
        self.finish_word();
        if !self.current.is_empty() {
            self.commands.push(std::mem::take(&mut self.current));
        }
    }
}

/// Splits `text` into simple commands, each a list of words.
pub(crate) fn commands(text: &str) -> Vec<Vec<Word>> {
    let b = text.as_bytes();
    let mut st = Builder::default();
    let mut i = 0;
    while i < b.len() {
        i = match b[i] {
            b' ' | b'\t' | b'\r' => {
                st.finish_word();
                i + 1
            }
            b'\n' => {
                st.end_command();
                skip_heredoc_bodies(text, i + 1, std::mem::take(&mut st.pending))
            }
            b'\\' => escape(text, i, &mut st),
            b'\'' => single_quoted(text, i, &mut st),
            b'"' => double_quoted(text, i, &mut st),
            b'$' | b'`' => substitution(text, i, &mut st),
            b'#' if st.word.is_none() => text[i..].find('\n').map_or(b.len(), |n| i + n),
            b';' | b'&' | b'|' | b'(' | b')' => {
                st.end_command();
                i + 1
            }
            b'<' | b'>' => redirect(text, i, &mut st),
            c => {
                let ch = text[i..].chars().next().unwrap_or(c as char);
                if matches!(ch, '*' | '?' | '[') {
                    st.word(i).glob = true;
                }
                st.push(ch, i);
                i + ch.len_utf8()
            }
        };
    }
    st.end_command();
    st.commands
}

fn escape(text: &str, i: usize, st: &mut Builder) -> usize {
    match text[i + 1..].chars().next() {
        Some('\n') => i + 2,
        Some(c) => {
            st.push(c, i + 1);
            i + 1 + c.len_utf8()
        }
        None => {
            st.push('\\', i);
            i + 1
        }
    }
}

fn single_quoted(text: &str, i: usize, st: &mut Builder) -> usize {
    let end = text[i + 1..].find('\'').map_or(text.len(), |n| i + 1 + n);
    let w = st.word(i);
    w.value.push_str(&text[i + 1..end]);
    w.insert_at = end;
    (end + 1).min(text.len())
}

fn double_quoted(text: &str, i: usize, st: &mut Builder) -> usize {
    st.word(i);
    let mut j = i + 1;
    while let Some(c) = text[j..].chars().next() {
        match c {
            '"' => {
                if let Some(w) = st.word.as_mut() {
                    w.insert_at = j;
                }
                return j + 1;
            }
            '\\' => match text[j + 1..].chars().next() {
                Some('\n') => j += 2,
                Some(n @ ('$' | '`' | '"' | '\\')) => {
                    st.push(n, j + 1);
                    j += 2;
                }
                _ => {
                    st.push('\\', j);
                    j += 1;
                }
            },
            '$' | '`' => {
                st.word(j).dynamic = true;
                st.push(c, j);
                j += 1;
            }
            _ => {
                st.push(c, j);
                j += c.len_utf8();
            }
        }
    }
    text.len()
}

/// `$name`, `${…}`, `$(…)` and backquotes: kept in the value, marking the word dynamic.
fn substitution(text: &str, i: usize, st: &mut Builder) -> usize {
    let b = text.as_bytes();
    let end = match (b[i], b.get(i + 1)) {
        (b'`', _) => text[i + 1..].find('`').map_or(text.len(), |n| i + n + 2),
        (_, Some(b'(')) => balanced(b, i + 1, b'(', b')'),
        (_, Some(b'{')) => balanced(b, i + 1, b'{', b'}'),
        _ => i + 1,
    };
    let w = st.word(i);
    w.dynamic = true;
    w.value.push_str(&text[i..end]);
    w.insert_at = end;
    end
}

fn balanced(b: &[u8], open_at: usize, open: u8, close: u8) -> usize {
    let mut depth = 0usize;
    for (k, &c) in b.iter().enumerate().skip(open_at) {
        if c == open {
            depth += 1;
        } else if c == close {
            depth -= 1;
            if depth == 0 {
                return k + 1;
            }
        }
    }
    b.len()
}

/// `<`, `>`, `>>`, `<<`, `<<-`, `<<<`, `>&`, `<&`, `>|`, `<>`; a file descriptor number
/// written right before the operator belongs to it, not to the arguments.
fn redirect(text: &str, i: usize, st: &mut Builder) -> usize {
    if st
        .word
        .as_ref()
        .is_some_and(|w| !w.value.is_empty() && w.value.bytes().all(|c| c.is_ascii_digit()))
    {
        st.word = None;
    }
    st.finish_word();
    let rest = &text[i..];
    let (len, heredoc) = if rest.starts_with("<<<") {
        (3, None)
    } else if rest.starts_with("<<-") {
        (3, Some(true))
    } else if rest.starts_with("<<") {
        (2, Some(false))
    } else if [">>", ">&", "<&", ">|", "<>"]
        .iter()
        .any(|op| rest.starts_with(op))
    {
        (2, None)
    } else {
        (1, None)
    };
    st.redirect = true;
    st.heredoc = heredoc;
    i + len
}

/// After a newline, skips the bodies of heredocs opened on the line just ended.
fn skip_heredoc_bodies(text: &str, mut at: usize, pending: Vec<(String, bool)>) -> usize {
    for (name, chomp) in pending {
        while at < text.len() {
            let end = text[at..].find('\n').map_or(text.len(), |n| at + n);
            let line = text[at..end].trim_end_matches('\r');
            let line = if chomp {
                line.trim_start_matches('\t')
            } else {
                line
            };
            at = (end + 1).min(text.len());
            if line == name {
                break;
            }
        }
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(text: &str) -> Vec<Vec<String>> {
        commands(text)
            .into_iter()
            .map(|c| c.into_iter().map(|w| w.value).collect())
            .collect()
    }

    #[test]
    fn splits_commands_and_removes_quotes() {
        assert_eq!(
            values("a 'b c' \"d\\\"e\" f\\ g && h; i || j | k 2>/dev/null # c && x\nl"),
            [
                vec!["a", "b c", "d\"e", "f g"],
                vec!["h"],
                vec!["i"],
                vec!["j"],
                vec!["k"],
                vec!["l"]
            ]
        );
        assert_eq!(
            values("cat <<EOF > /x\napt-get install a\nEOF\nnext"),
            [vec!["cat"], vec!["next"]]
        );
        assert_eq!(values("a $(b c) ${d}e"), [vec!["a", "$(b c)", "${d}e"]]);
    }

    #[test]
    fn insertion_points() {
        let text = "x 'pkg' \"q\"r s\\\nt";
        let ws = &commands(text)[0];
        assert_eq!(&text[..ws[1].insert_at], "x 'pkg");
        assert_eq!(&text[..ws[2].insert_at], "x 'pkg' \"q\"r");
        assert_eq!(ws[3].value, "st");
        assert_eq!(ws[3].insert_at, text.len());
    }
}
