//! The parsed Dockerfile: instructions with their lines, flags, raw and expanded arguments,
//! and the build stages they belong to.

use serde::Serialize;

use crate::lines::SourceMap;

/// A parsed Dockerfile. Build it with [`crate::parse`] or [`crate::parse_with_args`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dockerfile {
    /// Parser directives from the top of the file (`syntax`, `escape`, `check`), in order.
    pub directives: Vec<Directive>,
    /// The escape character: `\` unless `# escape=` changed it to `` ` ``.
    pub escape: char,
    /// `ARG`s before the first `FROM`, with the value they ended up with (caller build args
    /// override defaults). Only `FROM` lines and stages that re-declare them see them.
    pub global_args: Vec<KeyValue>,
    /// Every instruction in file order, global `ARG`s included.
    pub instructions: Vec<Instruction>,
    /// Build stages in file order; `stages[i].index == i`.
    pub stages: Vec<Stage>,
    #[serde(skip)]
    pub(crate) fingerprint: (usize, u64),
}

/// A parser directive such as `# syntax=docker/dockerfile:1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Directive {
    /// Lowercase name.
    pub name: String,
    /// Value as written, surrounding blanks removed.
    pub value: String,
    /// 1-based line.
    pub line: usize,
}

/// One instruction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Instruction {
    /// Keyword in uppercase (`RUN`), whatever case the file used.
    pub keyword: String,
    /// 1-based first line.
    pub start_line: usize,
    /// 1-based last line, heredoc bodies included.
    pub end_line: usize,
    /// Index into [`Dockerfile::stages`]; `None` for global `ARG`s before the first `FROM`.
    pub stage: Option<usize>,
    /// Builder flags before the arguments (`--mount=…`, `--from=…`), in order.
    pub flags: Vec<Flag>,
    /// Arguments after the flags, continuation lines joined, as BuildKit sees them.
    pub raw_args: String,
    /// The arguments split the way this keyword's BuildKit line parser splits them.
    pub args: Args,
    /// Heredocs opened on this instruction's line (`RUN`, `COPY`, `ADD` shell form).
    pub heredocs: Vec<Heredoc>,
    /// Arguments after `ARG`/`ENV` substitution and quote removal, for the keywords BuildKit
    /// expands (`FROM`, `ENV`, `ARG`, `LABEL`, `COPY`, `ADD`, `WORKDIR`, `USER`, `EXPOSE`,
    /// `STOPSIGNAL`, `VOLUME`): one entry per word, `KEY=value` for `ENV`/`ARG`/`LABEL`.
    /// Empty for the other keywords.
    pub expanded: Vec<String>,
    /// For a shell-form `RUN`: the command with the stage's variables substituted and quotes
    /// kept. The shell does this substitution at build time (BuildKit leaves `RUN` alone), but
    /// image history records the command next to the build args, so matching needs it.
    pub expanded_run: Option<String>,
    /// For `RUN`: the build args in scope, as the `|N K=V …` prefix of its history entry.
    pub run_args: Vec<(String, String)>,
    /// For `COPY`/`ADD --from=…`: the stage or image copied from.
    pub copy_from: Option<Base>,
    #[serde(skip)]
    pub(crate) source: Source,
}

impl Instruction {
    /// The value of flag `--name` (without the dashes), if given; the last one wins.
    pub fn flag(&self, name: &str) -> Option<&Flag> {
        self.flags.iter().rev().find(|f| f.name == name)
    }
}

/// Where an instruction's text came from, for rewriting it in place.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Source {
    /// The joined logical line (keyword, flags and arguments).
    pub line: String,
    pub map: SourceMap,
    /// Byte offset of [`Instruction::raw_args`] in `line`.
    pub args_start: usize,
    /// Original byte range of each heredoc body, parallel to [`Instruction::heredocs`].
    pub bodies: Vec<(usize, usize)>,
}

/// A builder flag: `--name=value`, or `--name` alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flag {
    /// Name without the leading `--`.
    pub name: String,
    /// Value after the first `=`, quotes removed as BuildKit removes them.
    pub value: Option<String>,
    /// The value after variable substitution (instructions that expand, and `RUN`).
    pub expanded: Option<String>,
}

/// A `KEY=value` pair of `ENV`, `LABEL` or `ARG` (whose value is optional).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyValue {
    /// The key as written.
    pub key: String,
    /// The value as written (quotes kept, as BuildKit's parser keeps them), or expanded in
    /// [`Dockerfile::global_args`].
    pub value: Option<String>,
}

/// Instruction arguments, as each keyword's BuildKit line parser splits them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "form", content = "value", rename_all = "snake_case")]
pub enum Args {
    /// No arguments.
    None,
    /// Shell form of `RUN`/`CMD`/`ENTRYPOINT`/`SHELL`: the text, for the shell to parse.
    Shell(String),
    /// JSON (exec) form: `["executable", "arg"]`; also JSON `COPY`/`ADD`/`VOLUME`.
    Json(Vec<String>),
    /// Whitespace-separated words (`FROM`, `EXPOSE`, `COPY`/`ADD`/`VOLUME` non-JSON).
    Words(Vec<String>),
    /// `ENV`, `LABEL`, `ARG` pairs.
    KeyValues(Vec<KeyValue>),
    /// One string (`WORKDIR`, `USER`, `STOPSIGNAL`, `MAINTAINER`).
    Text(String),
    /// `HEALTHCHECK [options] CMD …` or `HEALTHCHECK NONE`.
    Healthcheck {
        /// `CMD` or `NONE` as written.
        kind: String,
        /// The command after `CMD`.
        command: Box<Args>,
    },
    /// `ONBUILD`: the trigger instruction, stored but not run in this build.
    Onbuild(Box<Instruction>),
}

/// A heredoc attached to an instruction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Heredoc {
    /// The delimiter word, quotes removed.
    pub name: String,
    /// `false` if the delimiter was quoted (`<<"EOF"`): the body is not expanded.
    pub expand: bool,
    /// `<<-`: leading tabs are stripped from the body lines and the terminator.
    pub chomp: bool,
    /// File descriptor before `<<` (`3<<EOF`), 0 if none.
    pub fd: u32,
    /// The body, tabs already stripped when `chomp`; ends with the line break before the
    /// terminator.
    pub content: String,
    /// 1-based line of the first body line.
    pub start_line: usize,
    /// 1-based line of the terminator.
    pub end_line: usize,
}

/// A build stage, opened by `FROM`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stage {
    /// Position among the stages.
    pub index: usize,
    /// `AS name`, lowercased as BuildKit does.
    pub name: Option<String>,
    /// What the stage starts from.
    pub base: Base,
    /// Expanded `--platform` of the `FROM`.
    pub platform: Option<String>,
    /// Index of the `FROM` in [`Dockerfile::instructions`].
    pub from_instruction: usize,
    /// One past the stage's last instruction.
    pub end_instruction: usize,
}

/// What a stage is built from, or what `COPY --from` copies from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Base {
    /// An image reference, expanded.
    Image(String),
    /// An earlier stage, by index.
    Stage(usize),
    /// `scratch`: no base image.
    Scratch,
}

impl Dockerfile {
    /// The `# syntax=` directive's value, if any.
    pub fn syntax(&self) -> Option<&str> {
        self.directives
            .iter()
            .find(|d| d.name == "syntax")
            .map(|d| d.value.as_str())
    }

    /// The stage a build of `target` produces: the named stage (case-insensitive, or its
    /// index as a number), or the last stage when `target` is `None`.
    pub fn target_stage(&self, target: Option<&str>) -> Option<usize> {
        let Some(t) = target else {
            return self.stages.len().checked_sub(1);
        };
        let t = t.to_ascii_lowercase();
        self.stages
            .iter()
            .position(|s| s.name.as_deref() == Some(t.as_str()))
            .or_else(|| t.parse::<usize>().ok().filter(|&i| i < self.stages.len()))
    }

    /// The stages whose instructions end up in `stage`'s image: `stage` and the stages it is
    /// built `FROM`, root first. Stages only used by `COPY --from` are not in it.
    pub fn ancestry(&self, stage: usize) -> Vec<usize> {
        let mut chain = Vec::new();
        let mut cur = Some(stage);
        while let Some(i) = cur.filter(|&i| i < self.stages.len() && !chain.contains(&i)) {
            chain.push(i);
            cur = match self.stages[i].base {
                Base::Stage(b) => Some(b),
                _ => None,
            };
        }
        chain.reverse();
        chain
    }

    /// The instructions of one stage, its `FROM` first.
    pub fn stage_instructions(&self, stage: usize) -> &[Instruction] {
        self.stages
            .get(stage)
            .and_then(|s| self.instructions.get(s.from_instruction..s.end_instruction))
            .unwrap_or(&[])
    }
}
