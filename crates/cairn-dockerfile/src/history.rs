//! Which instruction produced each entry of an image config's `history`.
//!
//! A build appends history entries for the instructions of the target stage and of the
//! stages it is built `FROM`, in order, after the base image's own entries. So the history
//! is matched from the end backwards against that instruction list. `FROM` writes no entry,
//! and some builders write none for `ARG`; an entry that matches no remaining instruction is
//! left unmapped, which also covers the base image's entries.

use serde::{Deserialize, Serialize};

use crate::model::{Args, Dockerfile, Instruction};

/// One entry of an image config's `history` (OCI image spec), as stored in the config JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HistoryEntry {
    /// The command that created the layer, e.g. `RUN /bin/sh -c make # buildkit`.
    pub created_by: Option<String>,
    /// `true` when the entry added no layer.
    pub empty_layer: bool,
    /// Free-form comment (`buildkit.dockerfile.v0`).
    pub comment: Option<String>,
    /// RFC 3339 creation time.
    pub created: Option<String>,
}

const KEYWORDS: &[&str] = &[
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

/// For each history entry, the index (into [`Dockerfile::instructions`]) of the instruction
/// that produced it in a build of `target` (a stage name, or `None` for the last stage), or
/// `None` for entries this Dockerfile did not produce (such as the base image's).
pub fn map_history(
    df: &Dockerfile,
    target: Option<&str>,
    history: &[HistoryEntry],
) -> Vec<Option<usize>> {
    let mut out = vec![None; history.len()];
    let Some(stage) = df.target_stage(target) else {
        return out;
    };
    let chain: Vec<usize> = df
        .ancestry(stage)
        .into_iter()
        .filter_map(|s| df.stages.get(s))
        .flat_map(|s| s.from_instruction + 1..s.end_instruction)
        .collect();
    let mut remaining = chain.len();
    for (h, entry) in history.iter().enumerate().rev() {
        if remaining == 0 {
            break;
        }
        let (keyword, text) = normalize_created_by(entry.created_by.as_deref().unwrap_or(""));
        let hit = (0..remaining)
            .rev()
            .find(|&k| matches(&df.instructions[chain[k]], &keyword, &text));
        if let Some(k) = hit {
            out[h] = Some(chain[k]);
            remaining = k;
        }
    }
    out
}

/// Splits a `created_by` into an uppercase keyword and its text with whitespace collapsed,
/// removing what builders add around the instruction: BuildKit's ` # buildkit` suffix, the
/// `|N K=V …` build-arg prefix of `RUN`, the shell (`/bin/sh -c `) and the legacy builder's
/// `#(nop) ` marker. A legacy entry without `#(nop)` is a `RUN`.
pub fn normalize_created_by(created_by: &str) -> (String, String) {
    let s = created_by.trim();
    let s = s.strip_suffix("# buildkit").map_or(s, str::trim_end);
    if let Some((kw, rest)) = split_keyword(s) {
        let rest = if kw == "RUN" {
            strip_shell(strip_build_args(rest))
        } else {
            rest
        };
        return (kw, collapse(rest));
    }
    let s = strip_shell(strip_build_args(s));
    if let Some(nop) = s.strip_prefix("#(nop)") {
        let nop = nop.trim_start();
        return match split_keyword(nop) {
            Some((kw, rest)) => (kw, collapse(rest)),
            None => (String::new(), collapse(nop)),
        };
    }
    ("RUN".to_string(), collapse(s))
}

fn split_keyword(s: &str) -> Option<(String, &str)> {
    let (kw, rest) = s.split_once(char::is_whitespace).unwrap_or((s, ""));
    KEYWORDS
        .contains(&kw)
        .then(|| (kw.to_string(), rest.trim_start()))
}

/// `|2 A=1 B=2 cmd` → `cmd`.
fn strip_build_args(s: &str) -> &str {
    let Some(after) = s.strip_prefix('|').map(str::trim_start) else {
        return s;
    };
    let Some(count) = after.split_whitespace().next() else {
        return s;
    };
    let Ok(n) = count.parse::<usize>() else {
        return s;
    };
    // `count` is a prefix of `after` (it starts right after the trimmed whitespace).
    let mut rest = after[count.len()..].trim_start();
    for _ in 0..n {
        rest = rest
            .split_once(char::is_whitespace)
            .map_or("", |(_, r)| r.trim_start());
    }
    rest
}

/// `/bin/sh -c cmd`, `/bin/bash -o pipefail -c cmd`, `cmd /S /C cmd` → `cmd`.
fn strip_shell(s: &str) -> &str {
    let s = s.trim_start();
    if let Some(rest) = s.strip_prefix("cmd /S /C ") {
        return rest;
    }
    let mut words = s.split_whitespace();
    let first = words.next().unwrap_or("");
    let shell = first.rsplit('/').next().unwrap_or(first);
    if !matches!(shell, "sh" | "bash" | "ash" | "dash" | "zsh" | "ksh") {
        return s;
    }
    let mut rest = &s[first.len()..];
    for _ in 0..6 {
        rest = rest.trim_start();
        let w = rest.split_whitespace().next().unwrap_or("");
        if w.is_empty() {
            return s;
        }
        rest = &rest[w.len()..];
        if w.starts_with('-') && w.ends_with('c') && !w.starts_with("--") {
            return rest.trim_start();
        }
    }
    s
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Tokens with JSON/Go-list punctuation and quotes removed, for lenient comparison.
fn loose(s: &str) -> Vec<String> {
    s.replace(['[', ']', ',', '"', '\''], " ")
        .split_whitespace()
        .map(String::from)
        .collect()
}

fn matches(ins: &Instruction, keyword: &str, text: &str) -> bool {
    if ins.keyword != keyword {
        return false;
    }
    let expanded = ins.expanded.join(" ");
    match keyword {
        "RUN" => run_matches(ins, text),
        "COPY" | "ADD" => copy_matches(ins, text),
        "CMD" | "ENTRYPOINT" | "SHELL" => exec_matches(&ins.args, text),
        "EXPOSE" => {
            sorted(ports(text)) == sorted(ins.expanded.iter().map(|p| with_proto(p)).collect())
        }
        "VOLUME" => sorted(loose(text)) == sorted(ins.expanded.clone()),
        "WORKDIR" => ins
            .expanded
            .first()
            .is_some_and(|w| text == w || text.ends_with(w.trim_end_matches('/'))),
        "ARG" => keys(&loose(text)) == keys(&ins.expanded),
        "HEALTHCHECK" => true,
        "ONBUILD" | "MAINTAINER" => text == collapse(&ins.raw_args),
        _ => loose(text) == loose(&expanded),
    }
}

fn run_matches(ins: &Instruction, text: &str) -> bool {
    let candidates = match &ins.args {
        Args::Json(v) => vec![v.join(" ")],
        _ => vec![
            ins.raw_args.clone(),
            ins.expanded_run.clone().unwrap_or_default(),
        ],
    };
    candidates
        .iter()
        .map(|c| collapse(c))
        .any(|c| !c.is_empty() && (c == text || (!ins.heredocs.is_empty() && text.starts_with(&c))))
}

/// Legacy builders write `COPY file:<hash> in /dst`, so the destination alone must do.
fn copy_matches(ins: &Instruction, text: &str) -> bool {
    let words: Vec<&str> = text
        .split_whitespace()
        .skip_while(|w| w.starts_with("--"))
        .collect();
    if words.join(" ") == collapse(&ins.expanded.join(" ")) {
        return true;
    }
    let dest = ins.expanded.last().map(String::as_str).unwrap_or("");
    let last = words.last().copied().unwrap_or("");
    !dest.is_empty()
        && (last == dest
            || (!dest.starts_with('/') && last.ends_with(dest.trim_start_matches("./"))))
}

/// History lists exec forms as Go `%q` (`["a" "b"]`) or JSON; a shell form runs as the last
/// argument of the shell.
fn exec_matches(args: &Args, text: &str) -> bool {
    let list = go_list(text);
    match args {
        Args::Json(v) => *v == list || loose(&v.join(" ")) == loose(text),
        Args::Shell(s) => list.last().is_some_and(|l| collapse(l) == collapse(s)),
        Args::None => list.is_empty(),
        _ => false,
    }
}

/// Parses `["a" "b\"c"]`, `["a","b"]` or `[a b]` into its strings.
fn go_list(text: &str) -> Vec<String> {
    let inner = text.trim().trim_start_matches('[').trim_end_matches(']');
    let mut out = Vec::new();
    let mut chars = inner.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() || c == ',' {
            chars.next();
        } else if c == '"' {
            chars.next();
            let mut s = String::new();
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => s.push(unescape(chars.next().unwrap_or('\\'))),
                    c => s.push(c),
                }
            }
            out.push(s);
        } else {
            let mut s = String::new();
            while let Some(&c) = chars.peek().filter(|c| !c.is_whitespace()) {
                s.push(c);
                chars.next();
            }
            out.push(s);
        }
    }
    out
}

fn unescape(c: char) -> char {
    match c {
        'n' => '\n',
        't' => '\t',
        'r' => '\r',
        c => c,
    }
}

/// `map[80/tcp:{} 443/tcp:{}]` → `80/tcp`, `443/tcp`.
fn ports(text: &str) -> Vec<String> {
    let inner = text.trim().trim_start_matches("map[").trim_end_matches(']');
    inner
        .split_whitespace()
        .map(|p| with_proto(p.trim_end_matches(":{}")))
        .collect()
}

fn with_proto(port: &str) -> String {
    if port.contains('/') {
        port.to_ascii_lowercase()
    } else {
        format!("{port}/tcp")
    }
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn keys(words: &[String]) -> Vec<String> {
    words
        .iter()
        .map(|w| w.split('=').next().unwrap_or("").to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> (String, String) {
        normalize_created_by(s)
    }

    #[test]
    fn normalizes_buildkit_and_legacy_forms() {
        let run = ("RUN".to_string(), "apt-get install -y curl".to_string());
        assert_eq!(n("RUN /bin/sh -c apt-get install -y curl # buildkit"), run);
        assert_eq!(
            n("RUN |2 A=1 B=2 /bin/sh -c apt-get   install -y curl # buildkit"),
            run
        );
        assert_eq!(n("/bin/sh -c apt-get install -y curl"), run);
        assert_eq!(n("|1 A=1 /bin/sh -c apt-get install -y curl"), run);
        assert_eq!(
            n("RUN /bin/bash -o pipefail -c apt-get install -y curl # buildkit"),
            run
        );
        assert_eq!(
            n("/bin/sh -c #(nop)  CMD [\"bash\"]"),
            ("CMD".into(), "[\"bash\"]".into())
        );
        assert_eq!(
            n("/bin/sh -c #(nop) COPY file:abc in /x "),
            ("COPY".into(), "file:abc in /x".into())
        );
        assert_eq!(
            n("EXPOSE map[80/tcp:{}]"),
            ("EXPOSE".into(), "map[80/tcp:{}]".into())
        );
        assert_eq!(n("WORKDIR /app"), ("WORKDIR".into(), "/app".into()));
    }

    #[test]
    fn go_lists() {
        assert_eq!(
            go_list(r#"["sh" "-c" "echo \"hi\""]"#),
            ["sh", "-c", "echo \"hi\""]
        );
        assert_eq!(go_list(r#"["a","b"]"#), ["a", "b"]);
        assert_eq!(go_list("[/bin/sh -c]"), ["/bin/sh", "-c"]);
    }
}
