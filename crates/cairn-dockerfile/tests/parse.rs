//! Parser behaviour on the fixtures in `tests/data`, each expectation worked out from
//! BuildKit's rules (frontend/dockerfile/parser and dockerfile2llb); the BuildKit rule each
//! assertion pins is named next to it.

use std::collections::BTreeMap;

use cairn_dockerfile::{parse, parse_with_args, Args, Base, Error, Flag, KeyValue};

fn data(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn flag(name: &str, value: Option<&str>) -> (String, Option<String>) {
    (name.to_string(), value.map(String::from))
}

fn flags(f: &[Flag]) -> Vec<(String, Option<String>)> {
    f.iter()
        .map(|f| (f.name.clone(), f.value.clone()))
        .collect()
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn continuations_comments_and_directives() {
    let df = parse(&data("continuations.Dockerfile")).unwrap();
    // DirectiveParser: `# key=value` lines at the very top, known keys only.
    let d: Vec<_> = df
        .directives
        .iter()
        .map(|d| (d.name.as_str(), d.value.as_str(), d.line))
        .collect();
    assert_eq!(
        d,
        [
            ("syntax", "docker/dockerfile:1.7", 1),
            ("check", "skip=all", 2)
        ]
    );
    assert_eq!(df.syntax(), Some("docker/dockerfile:1.7"));
    let ins = &df.instructions;
    let summary: Vec<_> = ins
        .iter()
        .map(|i| (i.keyword.as_str(), i.start_line, i.end_line))
        .collect();
    // Keywords are case-insensitive; lines are 1-based and span the continuation.
    assert_eq!(
        summary,
        [
            ("FROM", 4, 4),
            ("RUN", 6, 11),
            ("RUN", 12, 13),
            ("ENV", 14, 14),
            ("ENV", 15, 15),
            ("RUN", 16, 17),
            ("CMD", 18, 18)
        ]
    );
    // trimContinuationCharacter removes only the escape (and blanks after it); comment and
    // blank lines inside a continuation are skipped; continuation lines keep their indent.
    assert_eq!(ins[1].raw_args, "echo hello     world \tagain");
    assert_eq!(ins[2].raw_args, "echo trailing-blanks   after");
    // An escaped escape at the end of a line is no continuation.
    assert_eq!(ins[3].expanded, ["WIN_PATH=C:\\"]);
    assert_eq!(ins[4].expanded, ["NEXT=separate"]);
    assert_eq!(ins[5].raw_args, "echo only-continuation");
    assert_eq!(ins[6].args, Args::Json(strings(&["echo", "done"])));
}

#[test]
fn backtick_escape_directive() {
    let df = parse(&data("escape-backtick.Dockerfile")).unwrap();
    assert_eq!(df.escape, '`');
    let ins = &df.instructions;
    // With `# escape=`` ` a trailing backslash is literal, so Windows paths survive; CRLF
    // line ends are trimmed (trimNewline).
    assert_eq!(ins[1].expanded, ["testfile.txt", "c:\\"]);
    assert_eq!(ins[2].raw_args, "dir c:\\     && echo ok");
    assert_eq!((ins[2].start_line, ins[2].end_line), (4, 5));
}

#[test]
fn heredocs() {
    let df = parse(&data("heredocs.Dockerfile")).unwrap();
    let ins = &df.instructions;
    let docs = |i: usize| -> Vec<(&str, bool, bool, &str)> {
        ins[i]
            .heredocs
            .iter()
            .map(|h| (h.name.as_str(), h.expand, h.chomp, h.content.as_str()))
            .collect()
    };
    // The body runs to the line equal to the delimiter; the instruction ends there.
    assert_eq!(
        docs(1),
        [(
            "EOF",
            true,
            false,
            "apt-get update\napt-get install -y curl\n"
        )]
    );
    assert_eq!((ins[1].start_line, ins[1].end_line), (2, 5));
    assert_eq!(
        (ins[1].heredocs[0].start_line, ins[1].heredocs[0].end_line),
        (3, 5)
    );
    assert_eq!(ins[1].raw_args, "<<EOF");
    // `<<-` strips leading tabs from the body and the terminator (ChompHeredocContent).
    assert_eq!(
        docs(2),
        [("INDENTED", true, true, "echo tabs are stripped\n")]
    );
    // A quoted delimiter means no expansion of the body.
    assert_eq!(
        docs(3),
        [("QUOTED", false, false, "echo $HOME stays unexpanded\n")]
    );
    // Several heredocs on one line are read one after the other.
    assert_eq!(
        docs(4),
        [
            ("A", true, false, "first\n"),
            ("B", false, false, "second\n")
        ]
    );
    assert_eq!((ins[4].start_line, ins[4].end_line), (12, 16));
    // COPY takes heredocs as sources.
    assert_eq!(docs(5), [("CONF", true, false, "key=value\n")]);
    assert_eq!(
        ins[5].args,
        Args::Words(strings(&["<<CONF", "/etc/app.conf"]))
    );
    // The JSON form never has heredocs (canContainHeredoc).
    assert!(ins[6].heredocs.is_empty());
    assert_eq!(ins.len(), 7);
}

#[test]
fn forms_and_flags() {
    let df = parse(&data("forms-flags.Dockerfile")).unwrap();
    let ins = &df.instructions;
    // Flags are leading `--` words (extractBuilderFlags), split at the first `=`.
    assert_eq!(
        flags(&ins[0].flags),
        [flag("platform", Some("$BUILDPLATFORM"))]
    );
    assert_eq!(df.stages[0].name.as_deref(), Some("build"));
    assert_eq!(
        flags(&ins[1].flags),
        [
            flag("mount", Some("type=cache,target=/root/.cache")),
            flag("network", Some("none"))
        ]
    );
    assert_eq!(ins[1].args, Args::Shell("go build ./...".into()));
    // parseMaybeJSON: a JSON array of strings is the exec form, anything else shell form.
    assert_eq!(ins[2].args, Args::Json(strings(&["go", "test", "./..."])));
    assert_eq!(
        ins[3].args,
        Args::Shell("['single', 'quotes', 'are', 'not', 'json']".into())
    );
    assert_eq!(ins[4].args, Args::Shell("[\"unterminated\"".into()));
    assert_eq!(ins[5].args, Args::Shell("exec /app \"$@\"".into()));
    assert_eq!(
        ins[6].args,
        Args::Json(strings(&["/bin/bash", "-o", "pipefail", "-c"]))
    );
    assert_eq!(
        flags(&ins[7].flags),
        [
            flag("link", None),
            flag("chown", Some("1000:1000")),
            flag("chmod", Some("0755"))
        ]
    );
    assert_eq!(ins[7].expanded, ["a b.txt", "/dst/"]);
    assert_eq!(
        ins[8].args,
        Args::Words(strings(&["https://example.com/x.tgz", "/x.tgz"]))
    );
    assert_eq!(flags(&ins[9].flags), [flag("interval", Some("5s"))]);
    assert_eq!(
        ins[9].args,
        Args::Healthcheck {
            kind: "CMD".into(),
            command: Box::new(Args::Shell("curl -f http://localhost/".into()))
        }
    );
    // ONBUILD holds a parsed trigger and is not expanded.
    match &ins[10].args {
        Args::Onbuild(t) => assert_eq!(
            (t.keyword.as_str(), &t.args),
            ("RUN", &Args::Shell("echo later".into()))
        ),
        other => panic!("{other:?}"),
    }
    assert!(ins[10].expanded.is_empty());
    // A lone `--` ends the flags.
    assert!(ins[11].flags.is_empty());
    assert_eq!(
        ins[11].args,
        Args::Words(strings(&["--not-a-flag", "/dst"]))
    );
}

#[test]
fn stages_and_substitution_scoping() {
    let args = BTreeMap::from([("TAG".to_string(), "trixie".to_string())]);
    let df = parse_with_args(&data("multistage.Dockerfile"), &args).unwrap();
    let ins = &df.instructions;
    // Global ARGs: caller build args override defaults; they are not in any stage.
    assert_eq!(
        df.global_args,
        [
            KeyValue {
                key: "BASE".into(),
                value: Some("debian".into())
            },
            KeyValue {
                key: "TAG".into(),
                value: Some("trixie".into())
            },
            KeyValue {
                key: "VERSION".into(),
                value: Some("1.0".into())
            },
            KeyValue {
                key: "UNUSED".into(),
                value: None
            },
        ]
    );
    assert!(ins[..4].iter().all(|i| i.stage.is_none()));
    // FROM lines see the global ARGs.
    assert_eq!(ins[4].expanded, ["debian:trixie-slim", "AS", "base"]);
    assert_eq!(df.stages[0].base, Base::Image("debian:trixie-slim".into()));
    // RUN is not expanded; a global not re-declared in the stage is invisible there, so the
    // shell-side text keeps `$VERSION`.
    assert_eq!(ins[5].expanded, Vec::<String>::new());
    assert_eq!(
        ins[5].expanded_run.as_deref(),
        Some("echo \"VERSION=$VERSION\"")
    );
    // `ARG NAME` in a stage imports the global value (build args still win).
    assert_eq!(ins[6].expanded, ["VERSION=1.0"]);
    assert_eq!(ins[7].expanded, ["TAG=trixie"]);
    assert_eq!(ins[8].expanded, ["APP_HOME=/opt/app", "VERSION_COPY=1.0"]);
    // Unset variables expand to nothing; earlier ENV lines are visible.
    assert_eq!(ins[9].expanded, ["PATH=/opt/app/bin:"]);
    assert_eq!(ins[10].expanded, ["/opt/app"]);
    // `:-`, `-`, `:+`, `+` follow POSIX sh.
    assert_eq!(ins[11].expanded, ["LEVEL=1.0-dflt-set-unset-plus"]);
    assert_eq!(ins[12].expanded_run.as_deref(), Some("make VERSION=1.0"));
    // runCommandString: the stage's ARGs, in declaration order, make the `|N` prefix.
    let run_args: Vec<_> = ins[12]
        .run_args
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    assert_eq!(
        run_args,
        ["VERSION=1.0", "TAG=trixie", "LEVEL=1.0-dflt-set-unset-plus"]
    );

    // FROM an earlier stage: its ENV carries over (image config), its ARGs do not.
    assert_eq!(df.stages[1].base, Base::Stage(0));
    assert_eq!(ins[14].expanded, ["VERSION=1.0"]);
    // ENV wins over an ARG of the same name, whatever the order.
    assert_eq!(
        ins[17].expanded,
        ["version=from-env", "escaped=$VERSION", "quoted=$VERSION"]
    );
    assert_eq!(
        ins[18].run_args,
        [("VERSION".to_string(), "from-env".to_string())]
    );

    // Stage names are case-insensitive; COPY --from takes names, indexes or images.
    assert_eq!(df.stages[3].base, Base::Stage(1));
    assert_eq!(df.stages[3].name, None);
    assert_eq!(ins[22].copy_from, Some(Base::Stage(2)));
    assert_eq!(ins[23].copy_from, Some(Base::Stage(0)));
    assert_eq!(ins[24].copy_from, Some(Base::Image("nginx:latest".into())));
    assert_eq!(ins[25].expanded, ["80", "443/udp"]);
    assert_eq!(ins[26].expanded, ["1000"]);
    // The ancestry chain leaves out the stage only used by COPY --from.
    assert_eq!(df.target_stage(None), Some(3));
    assert_eq!(df.ancestry(3), [0, 1, 3]);
    assert_eq!(df.target_stage(Some("TOOLS")), Some(2));
    assert_eq!(df.stage_instructions(2).len(), 2);
    assert!(ins[13..19].iter().all(|i| i.stage == Some(1)));
}

#[test]
fn same_line_env_pairs_see_the_values_from_before_the_line() {
    let df = parse("FROM a\nENV A=1\nENV A=2 B=$A\n").unwrap();
    assert_eq!(df.instructions[2].expanded, ["A=2", "B=1"]);
}

#[test]
fn typed_errors_carry_lines() {
    let cases: Vec<(&str, Error)> = vec![
        ("", Error::Empty),
        ("# only a comment\n", Error::Empty),
        (
            "FROM a\nRUN <<EOF\nno end\n",
            Error::UnterminatedHeredoc {
                line: 2,
                name: "EOF".into(),
            },
        ),
        (
            "# escape=x\nFROM a\n",
            Error::InvalidEscape {
                line: 1,
                value: "x".into(),
            },
        ),
        (
            "# escape=`\n# escape=\\\nFROM a",
            Error::DuplicateDirective {
                line: 2,
                name: "escape".into(),
            },
        ),
        (
            "RUN x\n",
            Error::NoStage {
                line: 1,
                keyword: "RUN".into(),
            },
        ),
        (
            "FROM a\nCMD [1]\n",
            Error::Syntax {
                line: 2,
                message: "when using JSON array syntax, arrays must be comprised of strings only"
                    .into(),
            },
        ),
        (
            "FROM a\nENV X\n",
            Error::Syntax {
                line: 2,
                message: "ENV must have two arguments".into(),
            },
        ),
        (
            "FROM a\nFOO bar\n",
            Error::Syntax {
                line: 2,
                message: "unknown instruction: FOO".into(),
            },
        ),
        (
            "FROM a b\n",
            Error::Syntax {
                line: 1,
                message: "FROM requires either one or three arguments".into(),
            },
        ),
    ];
    for (text, want) in cases {
        assert_eq!(parse(text).unwrap_err(), want, "{text:?}");
    }
    let err = parse("FROM a\n\nWORKDIR ${X\n").unwrap_err();
    assert_eq!(err.line(), Some(3));
    assert!(matches!(err, Error::Substitution { .. }));
}

#[test]
fn limits_are_enforced() {
    let big = "#".repeat(cairn_dockerfile::MAX_DOCKERFILE_BYTES + 1);
    assert!(matches!(parse(&big), Err(Error::TooLarge { .. })));
    let many = "FROM a\n".to_string() + &"USER x\n".repeat(cairn_dockerfile::MAX_INSTRUCTIONS);
    assert_eq!(
        parse(&many).unwrap_err(),
        Error::TooManyInstructions { line: 10_001 }
    );
    assert!(matches!(
        cairn_dockerfile::parse_bytes(b"FROM a\nRUN \xff\n", &BTreeMap::new()),
        Err(Error::NotUtf8 { line: 2 })
    ));
    // A BOM before the first line is skipped.
    assert_eq!(
        parse("\u{feff}FROM a\n").unwrap().instructions[0].keyword,
        "FROM"
    );
}
