//! `lock`: pins base images to digests and packages to versions by inserting text right
//! after the tokens that name them. Only insertions are made, so every other byte of the
//! Dockerfile stays as it was, and a locked file locks to itself.

use serde::Serialize;

use crate::model::{Args, Base, Dockerfile, Heredoc, Instruction};
use crate::shell::{commands, Word};
use crate::{fingerprint, Error};

/// A package ecosystem whose installs `lock` pins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Ecosystem {
    /// Debian/Ubuntu packages (`apt-get install`, `apt install`): `name=VERSION`.
    Deb,
    /// Alpine packages (`apk add`): `name=VERSION`.
    Apk,
    /// Python packages (`pip install`): `name==VERSION`.
    Pypi,
    /// npm packages (`npm install -g`): `name@VERSION`.
    Npm,
}

/// What the caller knows about versions; `lock` asks, the caller answers.
pub trait Pins {
    /// The digest (`sha256:…`) `image_ref` (as written after `FROM`, e.g. `debian:bookworm`)
    /// resolves to, or `None` if unknown.
    fn base_digest(&self, image_ref: &str) -> Option<String>;
    /// The version to pin package `name` to. Python names are PEP 503-normalized.
    fn version(&self, ecosystem: Ecosystem, name: &str) -> Option<String>;
}

/// What a pin is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "ecosystem", rename_all = "snake_case")]
pub enum PinTarget {
    /// The image of a `FROM`.
    BaseImage,
    /// A package installed in a `RUN`.
    Package(Ecosystem),
}

/// One pin written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pinned {
    /// 1-based line of the token.
    pub line: usize,
    /// Image or package.
    pub target: PinTarget,
    /// The image reference or package name as written (quotes removed).
    pub name: String,
    /// The digest or version pinned to.
    pub pin: String,
}

/// Why a token was left alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnpinnedReason {
    /// [`Pins`] had no version or digest for it.
    Unknown,
    /// It depends on a variable or command substitution, so its value is not known here.
    Variable,
    /// It is a glob pattern matching several packages.
    Glob,
    /// It is a path, URL, archive or otherwise not a package name.
    NotAName,
    /// A form this crate does not rewrite (e.g. an apk `name@repository` tag).
    Unsupported,
    /// What [`Pins`] gave is not a digest or a version of the ecosystem (it came from the
    /// image, which may be hostile): writing it could add an instruction or a command.
    InvalidPin,
}

/// Whether `d` is a digest that can be written after `@`: `sha256:` and 64 hex digits, or
/// `sha512:` and 128.
fn valid_digest(d: &str) -> bool {
    let hex = |h: &str, n: usize| {
        h.len() == n && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    match d.split_once(':') {
        Some(("sha256", h)) => hex(h, 64),
        Some(("sha512", h)) => hex(h, 128),
        _ => false,
    }
}

/// Whether `v` is made only of the characters the ecosystem's versions use (dpkg's
/// `[A-Za-z0-9.+~:-]`, apk's, PEP 440's and SemVer's), and not too long: nothing that a
/// shell or the Dockerfile parser would read as more than one word.
fn valid_version(eco: Ecosystem, v: &str) -> bool {
    let extra: &[u8] = match eco {
        Ecosystem::Deb => b".+~:-",
        Ecosystem::Apk => b"._-",
        Ecosystem::Pypi => b".+!_-",
        Ecosystem::Npm => b".+-",
    };
    !v.is_empty()
        && v.len() <= 256
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || extra.contains(&b))
}

/// One token that could not be pinned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unpinned {
    /// 1-based line of the token.
    pub line: usize,
    /// Image or package.
    pub target: PinTarget,
    /// The token as the command sees it.
    pub token: String,
    /// Why.
    pub reason: UnpinnedReason,
}

/// The result of [`lock`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Locked {
    /// The rewritten Dockerfile.
    pub text: String,
    /// Pins written, in file order.
    pub pinned: Vec<Pinned>,
    /// Tokens left alone and why, in file order. Already pinned tokens are not listed.
    pub unpinned: Vec<Unpinned>,
}

/// Pins the `FROM` images and the `apt-get`/`apt`, `apk`, `pip` and global `npm` installs of
/// `RUN` instructions (shell form, including heredoc scripts). `text` must be the text `df`
/// was parsed from.
pub fn lock(text: &str, df: &Dockerfile, pins: &dyn Pins) -> Result<Locked, Error> {
    if fingerprint(text) != df.fingerprint {
        return Err(Error::TextMismatch);
    }
    let line_starts = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let mut cx = Locker {
        text,
        line_starts,
        pins,
        edits: Vec::new(),
        pinned: Vec::new(),
        unpinned: Vec::new(),
    };
    for ins in &df.instructions {
        match ins.keyword.as_str() {
            "FROM" => cx.from(df, ins),
            "RUN" => cx.run(ins),
            _ => {}
        }
    }
    cx.edits.sort_by_key(|e| e.0);
    let mut out =
        String::with_capacity(text.len() + cx.edits.iter().map(|e| e.1.len()).sum::<usize>());
    let mut at = 0;
    for (offset, insert) in &cx.edits {
        out.push_str(&text[at..*offset]);
        out.push_str(insert);
        at = *offset;
    }
    out.push_str(&text[at..]);
    let by_line = |a: &Pinned| a.line;
    cx.pinned.sort_by_key(by_line);
    cx.unpinned.sort_by_key(|u| u.line);
    Ok(Locked {
        text: out,
        pinned: cx.pinned,
        unpinned: cx.unpinned,
    })
}

struct Locker<'a> {
    text: &'a str,
    /// Offset of each line's first byte, for line numbers.
    line_starts: Vec<usize>,
    pins: &'a dyn Pins,
    edits: Vec<(usize, String)>,
    pinned: Vec<Pinned>,
    unpinned: Vec<Unpinned>,
}

/// Maps a byte offset of the tokenized text to the original text.
type Map<'a> = &'a dyn Fn(usize) -> usize;

impl Locker<'_> {
    fn line_of(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&s| s <= offset)
    }

    fn skip(&mut self, at: usize, target: PinTarget, token: &str, reason: UnpinnedReason) {
        let line = self.line_of(at);
        self.unpinned.push(Unpinned {
            line,
            target,
            token: token.to_string(),
            reason,
        });
    }

    fn pin(&mut self, at: usize, target: PinTarget, name: &str, pin: String, insert: String) {
        // Two `FROM ${BASE}` pin the one `ARG BASE=…`: it is pinned once.
        if self.edits.iter().any(|(o, _)| *o == at) {
            return;
        }
        let line = self.line_of(at);
        self.edits.push((at, insert));
        self.pinned.push(Pinned {
            line,
            target,
            name: name.to_string(),
            pin,
        });
    }

    /// `FROM image` becomes `FROM image@sha256:…`; stages, `scratch` and digests stay.
    fn from(&mut self, df: &Dockerfile, ins: &Instruction) {
        let Args::Words(words) = &ins.args else {
            return;
        };
        let Some(image) = words.first() else { return };
        let stage = ins.stage.and_then(|s| df.stages.get(s));
        let Some(Base::Image(reference)) = stage.map(|s| &s.base) else {
            return;
        };
        let end = ins
            .source
            .map
            .original(ins.source.args_start + image.len() - 1)
            + 1;
        if image.contains('$') {
            // `FROM ${BASE}` with `ARG BASE=image` before the first FROM: pin the ARG's
            // default, when that is what the build used (no build arg overrode it).
            return match self.global_arg_default(df, image, reference) {
                Some(at) => self.pin_base(at, reference),
                None => self.skip(end, PinTarget::BaseImage, image, UnpinnedReason::Variable),
            };
        }
        self.pin_base(end, reference);
    }

    /// Insert `@digest` at `at` for the base image `reference`, unless it is pinned
    /// already; a digest [`Pins`] does not know, or one that is not a digest, is reported.
    fn pin_base(&mut self, at: usize, reference: &str) {
        if reference.contains('@') {
            return;
        }
        match self.pins.base_digest(reference) {
            Some(d) if !valid_digest(d.trim_start_matches('@')) => self.skip(
                at,
                PinTarget::BaseImage,
                reference,
                UnpinnedReason::InvalidPin,
            ),
            Some(d) => {
                let d = d.trim_start_matches('@').to_string();
                self.pin(
                    at,
                    PinTarget::BaseImage,
                    reference,
                    d.clone(),
                    format!("@{d}"),
                )
            }
            None => self.skip(at, PinTarget::BaseImage, reference, UnpinnedReason::Unknown),
        }
    }

    /// Where to pin a `FROM $NAME` / `FROM ${NAME}`: the end of the default value of the
    /// global `ARG NAME=value` (unquoted, with no variable in it) when the stage's base
    /// reference is that value, so no build arg overrode it; `None` otherwise.
    fn global_arg_default(&self, df: &Dockerfile, image: &str, reference: &str) -> Option<usize> {
        let name = image
            .strip_prefix("${")
            .and_then(|n| n.strip_suffix('}'))
            .or_else(|| image.strip_prefix('$'))?;
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return None;
        }
        let arg = df.instructions.iter().rev().find(|i| {
            i.stage.is_none()
                && i.keyword == "ARG"
                && i.raw_args
                    .split_whitespace()
                    .any(|t| t.split('=').next() == Some(name))
        })?;
        let start = arg.source.args_start;
        let raw = &arg.source.line[start..start + arg.raw_args.len()];
        let mut offset = 0;
        for token in raw.split(' ') {
            if let Some(value) = token.strip_prefix(name).and_then(|t| t.strip_prefix('=')) {
                let plain = !value.is_empty()
                    && !value.contains(['$', '"', '\'', '\\'])
                    && value == reference;
                if !plain {
                    return None;
                }
                return Some(arg.source.map.original(start + offset + token.len() - 1) + 1);
            }
            offset += token.len() + 1;
        }
        None
    }

    fn run(&mut self, ins: &Instruction) {
        if !matches!(ins.args, Args::Shell(_)) {
            return;
        }
        let start = ins.source.args_start;
        let args = &ins.source.line[start..start + ins.raw_args.len()];
        self.script(args, &|p| ins.source.map.original(start + p));
        if !runs_heredoc_as_script(args) {
            return;
        }
        for (doc, &(s, e)) in ins.heredocs.iter().zip(&ins.source.bodies) {
            if is_shell_script(doc) {
                self.script(&self.text[s..e], &|p| s + p);
            }
        }
    }

    fn script(&mut self, script: &str, map: Map) {
        for command in commands(script) {
            let words = strip_prefix_words(&command);
            let Some((eco, packages)) = installs(words) else {
                continue;
            };
            for w in packages {
                self.package(eco, w, map);
            }
        }
    }

    fn package(&mut self, eco: Ecosystem, w: &Word, map: Map) {
        let at = map(w.insert_at.saturating_sub(1)) + 1;
        let target = PinTarget::Package(eco);
        let verdict = if w.dynamic {
            Err(UnpinnedReason::Variable)
        } else {
            classify(eco, w)
        };
        match verdict {
            Ok(None) => {}
            Ok(Some(name)) => match self.pins.version(eco, &name) {
                Some(v) if !valid_version(eco, &v) => {
                    self.skip(at, target, &w.value, UnpinnedReason::InvalidPin)
                }
                Some(v) => {
                    let insert = format!("{}{v}", separator(eco));
                    self.pin(at, target, &w.value, v, insert);
                }
                None => self.skip(at, target, &w.value, UnpinnedReason::Unknown),
            },
            Err(reason) => self.skip(at, target, &w.value, reason),
        }
    }
}

fn separator(eco: Ecosystem) -> &'static str {
    match eco {
        Ecosystem::Deb | Ecosystem::Apk => "=",
        Ecosystem::Pypi => "==",
        Ecosystem::Npm => "@",
    }
}

/// `RUN <<EOF` and `RUN bash <<EOF` run the heredoc as a script; `RUN cat <<EOF >f` does not.
fn runs_heredoc_as_script(args: &str) -> bool {
    let cmds = commands(args);
    let first = cmds
        .first()
        .and_then(|c| c.iter().find(|w| !w.value.starts_with('-')));
    first.is_none_or(|w| is_shell(&w.value))
}

fn is_shell(program: &str) -> bool {
    matches!(
        basename(program),
        "sh" | "bash" | "ash" | "dash" | "zsh" | "ksh"
    )
}

/// A heredoc with a non-shell shebang (`#!/usr/bin/env python3`) is not a shell script.
fn is_shell_script(doc: &Heredoc) -> bool {
    match doc.content.strip_prefix("#!") {
        Some(rest) => rest
            .lines()
            .next()
            .is_some_and(|l| l.split_whitespace().any(is_shell)),
        None => true,
    }
}

fn basename(program: &str) -> &str {
    program.rsplit('/').next().unwrap_or(program)
}

/// Drops `VAR=value` assignments, reserved words and wrappers (`sudo -E`, `env`) before the
/// program name.
fn strip_prefix_words(words: &[Word]) -> &[Word] {
    let mut i = 0;
    while let Some(w) = words.get(i) {
        let v = w.value.as_str();
        let wrapper = matches!(
            v,
            "sudo" | "env" | "command" | "exec" | "time" | "nice" | "nohup"
        );
        let reserved = matches!(
            v,
            "then" | "do" | "else" | "elif" | "if" | "while" | "until" | "!" | "{"
        );
        let option_after_wrapper = v.starts_with('-') && i > 0;
        if wrapper || reserved || is_assignment(v) || option_after_wrapper {
            i += 1;
        } else {
            break;
        }
    }
    &words[i..]
}

fn is_assignment(v: &str) -> bool {
    v.split_once('=').is_some_and(|(name, _)| {
        name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// If `words` is a package install, its ecosystem and package arguments.
fn installs(words: &[Word]) -> Option<(Ecosystem, Vec<&Word>)> {
    let program = basename(&words.first()?.value);
    let rest = &words[1..];
    match program {
        "apt-get" | "apt" => Some((
            Ecosystem::Deb,
            operands(rest, &["install"], APT_VALUE_OPTS)?,
        )),
        "apk" => Some((Ecosystem::Apk, operands(rest, &["add"], APK_VALUE_OPTS)?)),
        "npm" => npm(rest).map(|p| (Ecosystem::Npm, p)),
        p if is_pip(p) => Some((
            Ecosystem::Pypi,
            operands(rest, &["install"], PIP_VALUE_OPTS)?,
        )),
        p if is_python(p) => {
            let at = python_m_pip(rest)?;
            Some((
                Ecosystem::Pypi,
                operands(&rest[at..], &["install"], PIP_VALUE_OPTS)?,
            ))
        }
        _ => None,
    }
}

const APT_VALUE_OPTS: &[&str] = &[
    "-o",
    "-c",
    "-t",
    "--option",
    "--config-file",
    "--target-release",
    "--default-release",
];
const APK_VALUE_OPTS: &[&str] = &[
    "-t",
    "--virtual",
    "-X",
    "--repository",
    "-p",
    "--root",
    "--arch",
    "--cache-dir",
    "--keys-dir",
    "--repositories-file",
    "--cache-max-age",
];
const PIP_VALUE_OPTS: &[&str] = &[
    "-r",
    "--requirement",
    "-c",
    "--constraint",
    "-e",
    "--editable",
    "-i",
    "--index-url",
    "--extra-index-url",
    "-f",
    "--find-links",
    "-t",
    "--target",
    "--prefix",
    "--root",
    "--platform",
    "--python-version",
    "--implementation",
    "--abi",
    "--trusted-host",
    "--src",
    "--upgrade-strategy",
    "--progress-bar",
    "--cache-dir",
    "--log",
    "--proxy",
    "--retries",
    "--timeout",
    "--exists-action",
    "--cert",
    "--client-cert",
    "--no-binary",
    "--only-binary",
    "-C",
    "--config-settings",
    "--global-option",
    "--install-option",
    "--report",
    "--python",
];
const NPM_VALUE_OPTS: &[&str] = &[
    "--registry",
    "--prefix",
    "--cache",
    "--tag",
    "--userconfig",
    "--loglevel",
    "--location",
];

/// Finds the subcommand (skipping options, and the values of `value_opts`) and, if it is one
/// of `subcommands`, returns the non-option words after it.
fn operands<'w>(
    words: &'w [Word],
    subcommands: &[&str],
    value_opts: &[&str],
) -> Option<Vec<&'w Word>> {
    let mut it = non_options(words, value_opts).into_iter();
    let sub = it.next()?;
    subcommands
        .contains(&sub.value.as_str())
        .then(|| it.collect())
}

fn non_options<'w>(words: &'w [Word], value_opts: &[&str]) -> Vec<&'w Word> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(w) = words.get(i) {
        i += 1;
        if w.value.starts_with('-') && w.value.len() > 1 {
            i += usize::from(value_opts.contains(&w.value.as_str()));
        } else {
            out.push(w);
        }
    }
    out
}

fn is_pip(p: &str) -> bool {
    p.strip_prefix("pip")
        .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

fn is_python(p: &str) -> bool {
    p.strip_prefix("python")
        .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

/// `python3 [-opts] -m pip …`: the index of the first word after `pip`.
fn python_m_pip(words: &[Word]) -> Option<usize> {
    let mut i = 0;
    while let Some(w) = words.get(i) {
        match w.value.as_str() {
            "-m" => {
                return matches!(words.get(i + 1)?.value.as_str(), "pip" | "pip3").then_some(i + 2)
            }
            "-mpip" => return Some(i + 1),
            v if v.starts_with('-') => i += 1,
            _ => return None,
        }
    }
    None
}

/// Only global installs are pinned: a project's local installs belong to its lockfile.
fn npm(words: &[Word]) -> Option<Vec<&Word>> {
    let global = words.iter().enumerate().any(|(i, w)| {
        matches!(
            w.value.as_str(),
            "-g" | "--global" | "--location=global" | "--global=true"
        ) || (w.value == "--location" && words.get(i + 1).is_some_and(|n| n.value == "global"))
    });
    if !global {
        return None;
    }
    let subs = [
        "install", "i", "add", "in", "ins", "inst", "insta", "instal", "isntall",
    ];
    operands(words, &subs, NPM_VALUE_OPTS)
}

/// `Ok(Some(name to ask Pins))`, `Ok(None)` when already pinned, or why it cannot be pinned.
fn classify(eco: Ecosystem, w: &Word) -> Result<Option<String>, UnpinnedReason> {
    let v = w.value.as_str();
    if v.is_empty() {
        return Err(UnpinnedReason::NotAName);
    }
    match eco {
        Ecosystem::Deb => deb(v, w.glob),
        Ecosystem::Apk => apk(v, w.glob),
        Ecosystem::Pypi => pypi(v),
        Ecosystem::Npm => npm_name(v),
    }
}

fn is_path_or_url(v: &str) -> bool {
    v.starts_with(['.', '/', '~']) || v.contains("://")
}

fn deb(v: &str, glob: bool) -> Result<Option<String>, UnpinnedReason> {
    if is_path_or_url(v) || v.ends_with(".deb") {
        return Err(UnpinnedReason::NotAName);
    }
    if glob {
        return Err(UnpinnedReason::Glob);
    }
    if v.contains(['=', '/']) {
        return Ok(None);
    }
    let name = v.split_once(':').map_or(v, |(n, _)| n);
    let ok = name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.:".contains(c));
    if ok {
        Ok(Some(v.to_string()))
    } else {
        Err(UnpinnedReason::NotAName)
    }
}

fn apk(v: &str, glob: bool) -> Result<Option<String>, UnpinnedReason> {
    if is_path_or_url(v) || v.ends_with(".apk") {
        return Err(UnpinnedReason::NotAName);
    }
    if glob {
        return Err(UnpinnedReason::Glob);
    }
    if v.contains(['=', '~', '<', '>']) {
        return Ok(None);
    }
    if v.contains('@') {
        return Err(UnpinnedReason::Unsupported);
    }
    let ok = v.starts_with(|c: char| c.is_ascii_alphanumeric())
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-._:".contains(c));
    if ok {
        Ok(Some(v.to_string()))
    } else {
        Err(UnpinnedReason::NotAName)
    }
}

fn pypi(v: &str) -> Result<Option<String>, UnpinnedReason> {
    if is_path_or_url(v)
        || v.contains('/')
        || [".whl", ".tar.gz", ".zip"].iter().any(|s| v.ends_with(s))
    {
        return Err(UnpinnedReason::NotAName);
    }
    if v.contains(['=', '<', '>', '!', '~', ';', '@', ' ']) {
        return Ok(None);
    }
    if v.contains(['*', '?']) {
        return Err(UnpinnedReason::Glob);
    }
    let name = match v.split_once('[') {
        Some((n, extras))
            if extras.ends_with(']') && !extras[..extras.len() - 1].contains(['[', ']']) =>
        {
            n
        }
        Some(_) => return Err(UnpinnedReason::NotAName),
        None => v,
    };
    let ok = name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if ok {
        Ok(Some(pep503(name)))
    } else {
        Err(UnpinnedReason::NotAName)
    }
}

/// PEP 503: lowercase, runs of `-`, `_`, `.` become one `-`.
pub(crate) fn pep503(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if "-_.".contains(c) {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

fn npm_name(v: &str) -> Result<Option<String>, UnpinnedReason> {
    if is_path_or_url(v) || v.contains(':') || v.ends_with(".tgz") || v.ends_with(".tar.gz") {
        return Err(UnpinnedReason::NotAName);
    }
    if v.contains(['*', '?']) {
        return Err(UnpinnedReason::Glob);
    }
    let (scope, bare) = match v.strip_prefix('@') {
        Some(s) => match s.split_once('/') {
            Some((scope, name)) => (Some(scope), name),
            None => return Err(UnpinnedReason::NotAName),
        },
        None => (None, v),
    };
    if bare.contains('@') {
        return Ok(None);
    }
    let valid = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-._~".contains(c))
    };
    if valid(bare) && scope.is_none_or(valid) {
        Ok(Some(v.to_string()))
    } else {
        Err(UnpinnedReason::NotAName)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep503_normalizes() {
        assert_eq!(pep503("Foo__Bar.baz-Qux"), "foo-bar-baz-qux");
    }

    #[test]
    fn names_and_pinned_forms() {
        assert_eq!(deb("curl", false), Ok(Some("curl".into())));
        assert_eq!(deb("curl=1", false), Ok(None));
        assert_eq!(deb("curl/bookworm", false), Ok(None));
        assert_eq!(deb("lib*", true), Err(UnpinnedReason::Glob));
        assert_eq!(deb("./x.deb", false), Err(UnpinnedReason::NotAName));
        assert_eq!(apk("curl~8", false), Ok(None));
        assert_eq!(apk("curl@edge", false), Err(UnpinnedReason::Unsupported));
        assert_eq!(pypi("Flask[async]"), Ok(Some("flask".into())));
        assert_eq!(pypi("flask>=2"), Ok(None));
        assert_eq!(pypi("."), Err(UnpinnedReason::NotAName));
        assert_eq!(npm_name("@scope/x"), Ok(Some("@scope/x".into())));
        assert_eq!(npm_name("@scope/x@1"), Ok(None));
        assert_eq!(npm_name("user/repo"), Err(UnpinnedReason::NotAName));
    }
}
