//! Compares the parser with BuildKit's own parser test corpus, read from a local BuildKit
//! checkout (nothing from it is part of this crate):
//!
//! ```text
//! git clone /path/to/buildkit /tmp/buildkit
//! BUILDKIT_PARSER_TESTFILES=/tmp/buildkit/frontend/dockerfile/parser/testfiles \
//!     cargo test -p cairn-dockerfile --test buildkit_testfiles -- --ignored --nocapture
//! ```
//!
//! Each `testfiles/<case>/Dockerfile` has a `result` holding BuildKit's `Node.Dump()`; this
//! test renders the same dump from the public API.

use cairn_dockerfile::{Args, Instruction};

/// Go's `strconv.Quote`, for the characters Dockerfiles hold.
fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || c == '\x7f' => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn args_dump(ins: &Instruction) -> Vec<String> {
    match &ins.args {
        Args::None => vec![],
        Args::Shell(s) | Args::Text(s) => vec![quote(s)],
        Args::Json(v) | Args::Words(v) => v.iter().map(|s| quote(s)).collect(),
        Args::KeyValues(kv) if ins.keyword == "ARG" => kv
            .iter()
            .map(|p| {
                quote(&match &p.value {
                    Some(v) => format!("{}={v}", p.key),
                    None => p.key.clone(),
                })
            })
            .collect(),
        Args::KeyValues(kv) => {
            let first = ins.raw_args.split_whitespace().next().unwrap_or("");
            let sep = if first.contains('=') { "=" } else { "" };
            kv.iter()
                .flat_map(|p| {
                    [
                        quote(&p.key),
                        quote(p.value.as_deref().unwrap_or("")),
                        quote(sep),
                    ]
                })
                .collect()
        }
        Args::Healthcheck { kind, command } => {
            let mut inner = ins.clone();
            inner.args = (**command).clone();
            std::iter::once(quote(kind))
                .chain(args_dump(&inner))
                .collect()
        }
        Args::Onbuild(inner) => vec![format!("({})", dump(inner))],
    }
}

fn dump(ins: &Instruction) -> String {
    let mut s = ins.keyword.to_lowercase();
    if !ins.flags.is_empty() {
        let flags: Vec<String> = ins
            .flags
            .iter()
            .map(|f| {
                quote(&match &f.value {
                    Some(v) => format!("--{}={v}", f.name),
                    None => format!("--{}", f.name),
                })
            })
            .collect();
        s.push_str(&format!(" [{}]", flags.join(" ")));
    }
    for a in args_dump(ins) {
        s.push(' ');
        s.push_str(&a);
    }
    s
}

#[test]
#[ignore = "needs a BuildKit checkout: set BUILDKIT_PARSER_TESTFILES"]
fn matches_buildkit_parser_testfiles() {
    let Ok(dir) = std::env::var("BUILDKIT_PARSER_TESTFILES") else {
        return;
    };
    let mut failures = 0;
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    for case in cases {
        let text = std::fs::read_to_string(case.join("Dockerfile")).unwrap();
        let want = std::fs::read_to_string(case.join("result")).unwrap();
        let got = match cairn_dockerfile::parse_instructions(&text) {
            Ok(ins) => ins
                .iter()
                .map(|i| format!("({})\n", dump(i)))
                .collect::<String>(),
            Err(e) => format!("error: {e}\n"),
        };
        if got.trim() != want.trim() {
            failures += 1;
            println!("=== {}\n--- want\n{want}\n--- got\n{got}", case.display());
        }
    }
    let negative = std::path::Path::new(&dir).with_file_name("testfiles-negative");
    for case in std::fs::read_dir(negative).unwrap() {
        let path = case.unwrap().path().join("Dockerfile");
        let text = std::fs::read_to_string(&path).unwrap();
        if let Ok(ins) = cairn_dockerfile::parse_instructions(&text) {
            failures += 1;
            println!(
                "=== {} parsed, BuildKit rejects it: {ins:?}",
                path.display()
            );
        }
    }
    assert_eq!(failures, 0);
}
