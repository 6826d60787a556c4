//! Heredocs (`RUN <<EOF`, `COPY <<-"EOF" /dst`): which words of an instruction line open one
//! (BuildKit's `heredocsFromLine` and `ParseHeredoc`), and reading their bodies.

use crate::expand::Lexer;
use crate::lines::Lines;
use crate::model::{Args, Heredoc, Instruction};
use crate::Error;

/// A heredoc word found on the line, before its body is read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Opener {
    pub name: String,
    pub expand: bool,
    pub chomp: bool,
    pub fd: u32,
}

fn unset(_: &str) -> Option<String> {
    None
}

/// Only `RUN`, `COPY` and `ADD` in shell form take heredocs, also as an `ONBUILD` trigger.
pub(crate) fn can_contain_heredoc(ins: &Instruction) -> bool {
    let ins = match &ins.args {
        Args::Onbuild(inner) => inner,
        _ => ins,
    };
    matches!(ins.keyword.as_str(), "RUN" | "COPY" | "ADD") && !matches!(ins.args, Args::Json(_))
}

/// The heredoc words of `line`, in order. The whole line is lexed with quotes and escapes kept
/// raw and unset variables left alone; an unlexable line has none (BuildKit ignores the error).
pub(crate) fn openers(line: &str) -> Vec<Opener> {
    let lx = Lexer {
        escape: '\\',
        raw_quotes: true,
        raw_escapes: true,
        skip_unset: true,
    };
    let words = lx.words(line, &unset).unwrap_or_default();
    words.iter().filter_map(|w| opener(w)).collect()
}

/// Matches `^(\d*)<<(-?)\s*([^<]*)$` and checks the rest is a single word.
fn opener(word: &str) -> Option<Opener> {
    let digits = word.len() - word.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let after = word[digits..].strip_prefix("<<")?;
    let (chomp, after) = match after.strip_prefix('-') {
        Some(a) => (true, a),
        None => (false, after),
    };
    let rest = after.trim_start_matches([' ', '\t', '\n', '\x0c', '\r']);
    if rest.is_empty() || rest.contains('<') {
        return None;
    }
    let lx = Lexer {
        escape: '\\',
        raw_quotes: false,
        raw_escapes: false,
        skip_unset: true,
    };
    let words = lx.words(rest, &unset).ok()?;
    let [name] = words.as_slice() else {
        return None;
    };
    let raw = Lexer {
        raw_quotes: true,
        ..lx
    }
    .words(rest, &unset)
    .ok()?;
    let quotes = |s: &str| s.matches(['\'', '"']).count();
    let expand = raw.first().map(|r| quotes(r)) == Some(quotes(name));
    let fd = word[..digits].parse().unwrap_or(0);
    Some(Opener {
        name: name.clone(),
        expand,
        chomp,
        fd,
    })
}

/// Reads the bodies of the heredocs opened on `ins`'s line from the following lines.
pub(crate) fn attach(ins: &mut Instruction, lines: &mut Lines, src: &str) -> Result<(), Error> {
    if !can_contain_heredoc(ins) || !ins.source.line.contains("<<") {
        return Ok(());
    }
    for o in openers(&ins.source.line) {
        let start_line = lines.line() + 1;
        let body = lines
            .heredoc(&o.name, o.chomp)
            .ok_or_else(|| Error::UnterminatedHeredoc {
                line: ins.start_line,
                name: o.name.clone(),
            })?;
        let raw = &src[body.start..body.end];
        let content = if o.chomp { chomp(raw) } else { raw.to_string() };
        ins.heredocs.push(Heredoc {
            name: o.name,
            expand: o.expand,
            chomp: o.chomp,
            fd: o.fd,
            content,
            start_line,
            end_line: body.end_line,
        });
        ins.source.bodies.push((body.start, body.end));
        ins.end_line = body.end_line;
    }
    Ok(())
}

/// Strips leading tabs from every line (`ChompHeredocContent`).
fn chomp(body: &str) -> String {
    body.split_inclusive('\n')
        .map(|l| l.trim_start_matches('\t'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heredoc_words() {
        let names: Vec<_> = openers("RUN <<EOF <<-'END' 3<<\"x\" cat")
            .into_iter()
            .collect();
        assert_eq!(
            names,
            [
                Opener {
                    name: "EOF".into(),
                    expand: true,
                    chomp: false,
                    fd: 0
                },
                Opener {
                    name: "END".into(),
                    expand: false,
                    chomp: true,
                    fd: 0
                },
                Opener {
                    name: "x".into(),
                    expand: false,
                    chomp: false,
                    fd: 3
                },
            ]
        );
        assert_eq!(openers("RUN << EOF")[0].name, "EOF");
        assert!(openers("RUN echo a<<b").is_empty());
        assert!(openers("RUN echo '<<EOF'").is_empty());
        assert!(openers("RUN echo \"unterminated <<EOF").is_empty());
    }
}
