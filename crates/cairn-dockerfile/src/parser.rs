//! One logical line to one [`Instruction`]: BuildKit's `splitCommand`, `extractBuilderFlags`
//! and the per-keyword line parsers of `line_parsers.go`.

use crate::json::{parse_array, JsonArray};
use crate::lines::Logical;
use crate::model::{Args, Flag, Instruction, KeyValue, Source};
use crate::Error;

/// BuildKit's `reWhitespace`, `[\t\v\f\r ]+`: narrower than Unicode whitespace.
fn is_re_ws(c: char) -> bool {
    matches!(c, '\t' | '\x0b' | '\x0c' | '\r' | ' ')
}

/// Parses the instruction held by `line`; heredocs and expansion are filled in later.
pub(crate) fn parse_instruction(line: &Logical, escape: char) -> Result<Instruction, Error> {
    let source = Source {
        line: line.text.clone(),
        map: line.map.clone(),
        ..Source::default()
    };
    let lead = line.text.len() - line.text.trim_start().len();
    parse_at(
        &line.text,
        lead,
        escape,
        line.start_line,
        line.end_line,
        source,
    )
}

/// Parses the instruction starting at byte `start` of `text` (also used for ONBUILD triggers).
fn parse_at(
    text: &str,
    start: usize,
    escape: char,
    start_line: usize,
    end_line: usize,
    mut source: Source,
) -> Result<Instruction, Error> {
    let body = text[start..].trim_end();
    let kw_len = body.find(is_re_ws).unwrap_or(body.len());
    let keyword = body[..kw_len].to_string();
    let rest_at =
        start + kw_len + (body[kw_len..].len() - body[kw_len..].trim_start_matches(is_re_ws).len());
    let rest = &text[rest_at..start + body.len()];
    let (args_off, raw_flags) = extract_flags(rest, escape);
    let args_text = &rest[args_off..];
    let args_start = rest_at + args_off + (args_text.len() - args_text.trim_start().len());
    let raw_args = args_text.trim().to_string();
    source.args_start = args_start;
    let lower = keyword.to_ascii_lowercase();
    let args = if lower == "onbuild" && !raw_args.is_empty() {
        let inner = parse_at(
            text,
            args_start,
            escape,
            start_line,
            end_line,
            source.clone(),
        )?;
        Args::Onbuild(Box::new(inner))
    } else {
        parse_args(&lower, &raw_args, escape).map_err(|message| Error::Syntax {
            line: start_line,
            message,
        })?
    };
    Ok(Instruction {
        keyword: keyword.to_ascii_uppercase(),
        start_line,
        end_line,
        stage: None,
        flags: raw_flags.into_iter().map(split_flag).collect(),
        raw_args,
        args,
        heredocs: Vec::new(),
        expanded: Vec::new(),
        expanded_run: None,
        run_args: Vec::new(),
        copy_from: None,
        source,
    })
}

fn split_flag(word: String) -> Flag {
    let word = word.strip_prefix("--").unwrap_or(&word);
    let (name, value) = match word.split_once('=') {
        Some((n, v)) => (n.to_string(), Some(v.to_string())),
        None => (word.to_string(), None),
    };
    Flag {
        name,
        value,
        expanded: None,
    }
}

/// BuildKit's `extractBuilderFlags`: leading words starting with `--`, quotes and escapes
/// removed; a lone `--` ends them. Returns where the arguments start and the flag words.
fn extract_flags(line: &str, escape: char) -> (usize, Vec<String>) {
    let b = line.as_bytes();
    let esc = escape as u8;
    let mut words = Vec::new();
    let mut pos = 0;
    loop {
        while pos < b.len() && b[pos].is_ascii_whitespace() {
            pos += 1;
        }
        if pos >= b.len() {
            return (b.len(), words);
        }
        if !(b[pos] == b'-' && b.get(pos + 1) == Some(&b'-')) {
            return (pos, words);
        }
        let mut word = Vec::new();
        let mut quote = None;
        while pos < b.len() && (quote.is_some() || !b[pos].is_ascii_whitespace()) {
            let c = b[pos];
            pos += 1;
            match quote {
                Some(q) if c == q => quote = None,
                None if c == b'\'' || c == b'"' => quote = Some(c),
                _ if c == esc => {
                    if let Some(&n) = b.get(pos) {
                        word.push(n);
                        pos += 1;
                    } else {
                        quote = None;
                    }
                }
                _ => word.push(c),
            }
        }
        let word = String::from_utf8_lossy(&word).into_owned();
        if word == "--" {
            return (pos.min(b.len()), words);
        }
        words.push(word);
    }
}

/// The per-keyword line parsers (`dispatch` in BuildKit's parser.go).
fn parse_args(keyword: &str, args: &str, escape: char) -> Result<Args, String> {
    match keyword {
        "add" | "copy" | "volume" => maybe_json_to_list(args),
        "arg" => Ok(name_or_name_val(args, escape)),
        "cmd" | "entrypoint" | "run" | "shell" => maybe_json(args),
        "env" | "label" => name_val(args, &keyword.to_ascii_uppercase(), escape),
        "expose" | "from" => Ok(whitespace_words(args)),
        "healthcheck" => healthcheck(args),
        "maintainer" | "stopsignal" | "user" | "workdir" | "onbuild" => Ok(if args.is_empty() {
            Args::None
        } else {
            Args::Text(args.to_string())
        }),
        _ => Err(format!(
            "unknown instruction: {}",
            keyword.to_ascii_uppercase()
        )),
    }
}

const NOT_STRINGS: &str = "when using JSON array syntax, arrays must be comprised of strings only";

fn maybe_json(args: &str) -> Result<Args, String> {
    if args.is_empty() {
        return Ok(Args::None);
    }
    match parse_array(args) {
        JsonArray::Strings(v) => Ok(Args::Json(v)),
        JsonArray::NotStrings => Err(NOT_STRINGS.into()),
        JsonArray::Invalid => Ok(Args::Shell(args.to_string())),
    }
}

fn maybe_json_to_list(args: &str) -> Result<Args, String> {
    match parse_array(args) {
        JsonArray::Strings(v) => Ok(Args::Json(v)),
        JsonArray::NotStrings => Err(NOT_STRINGS.into()),
        JsonArray::Invalid => Ok(whitespace_words(args)),
    }
}

fn whitespace_words(args: &str) -> Args {
    let words: Vec<String> = args
        .split(is_re_ws)
        .filter(|w| !w.is_empty())
        .map(String::from)
        .collect();
    if words.is_empty() {
        Args::None
    } else {
        Args::Words(words)
    }
}

/// `HEALTHCHECK NONE` or `HEALTHCHECK CMD …` (options are flags, already taken off).
fn healthcheck(args: &str) -> Result<Args, String> {
    let sep = args.find(|c: char| c.is_whitespace()).unwrap_or(args.len());
    if sep == 0 {
        return Ok(Args::None);
    }
    let command = maybe_json(args[sep..].trim_start())?;
    Ok(Args::Healthcheck {
        kind: args[..sep].to_string(),
        command: Box::new(command),
    })
}

/// `ARG name1 name2=value`: words, each optionally `=value`.
fn name_or_name_val(args: &str, escape: char) -> Args {
    let pairs: Vec<KeyValue> = parse_words(args, escape)
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) => KeyValue {
                key: k.into(),
                value: Some(v.into()),
            },
            None => KeyValue {
                key: w,
                value: None,
            },
        })
        .collect();
    if pairs.is_empty() {
        Args::None
    } else {
        Args::KeyValues(pairs)
    }
}

/// `ENV`/`LABEL`: `key=value …`, or the legacy `key value with spaces`.
fn name_val(args: &str, keyword: &str, escape: char) -> Result<Args, String> {
    let words = parse_words(args, escape);
    let Some(first) = words.first() else {
        return Ok(Args::None);
    };
    if !first.contains('=') {
        let (key, value) = args
            .split_once(is_re_ws)
            .ok_or(format!("{keyword} must have two arguments"))?;
        let value = value.trim_start_matches(is_re_ws);
        return Ok(Args::KeyValues(vec![KeyValue {
            key: key.into(),
            value: Some(value.into()),
        }]));
    }
    let mut pairs = Vec::new();
    for w in words {
        let Some((k, v)) = w.split_once('=') else {
            return Err(format!(
                "Syntax error - can't find = in {w:?}. Must be of the form: name=value"
            ));
        };
        pairs.push(KeyValue {
            key: k.into(),
            value: Some(v.into()),
        });
    }
    Ok(Args::KeyValues(pairs))
}

/// BuildKit's `parseWords`: splits on whitespace outside quotes, keeping quotes and escapes.
pub(crate) fn parse_words(rest: &str, escape: char) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut blank_ok = false;
    let mut quote: Option<char> = None;
    let mut chars = rest.chars().peekable();
    while let Some(ch) = chars.next() {
        match quote {
            None if ch.is_whitespace() => {
                if blank_ok || !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                blank_ok = false;
                continue;
            }
            None if ch == '\'' || ch == '"' => {
                quote = Some(ch);
                blank_ok = true;
            }
            Some(q) if ch == q => quote = None,
            _ => {}
        }
        word.push(ch);
        if ch == escape && quote != Some('\'') {
            match chars.next() {
                Some(n) => word.push(n),
                None => {
                    word.pop();
                    quote = None;
                }
            }
        }
    }
    if blank_ok || !word.is_empty() {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_words_keeps_quotes_and_escapes() {
        assert_eq!(
            parse_words(r#"abc="123 456" def"#, '\\'),
            [r#"abc="123 456""#, "def"]
        );
        assert_eq!(parse_words(r"a\ b c", '\\'), [r"a\ b", "c"]);
        // Single quotes do not escape: the quote closes after `\`, and `' c` opens an unterminated one.
        assert_eq!(parse_words(r"'a\'b' c", '\\'), [r"'a\'b' c"]);
        assert_eq!(parse_words(r#""" x"#, '\\'), ["\"\"", "x"]);
    }

    #[test]
    fn flags_stop_at_first_non_flag_word() {
        let (at, f) = extract_flags(r#"--a=1 --b="x y" -- [ "a" ]"#, '\\');
        assert_eq!(f, ["--a=1", "--b=x y"]);
        assert_eq!(at, 18);
        let (at, f) = extract_flags("--link", '\\');
        assert_eq!((at, f), (6, vec!["--link".to_string()]));
    }
}
