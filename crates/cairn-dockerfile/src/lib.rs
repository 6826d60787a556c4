#![doc = include_str!("../README.md")]
//!
//! ```
//! let df = cairn_dockerfile::parse("FROM debian:bookworm AS base\nRUN apt-get install -y curl\n")?;
//! assert_eq!(df.stages[0].name.as_deref(), Some("base"));
//! assert_eq!(df.instructions[1].raw_args, "apt-get install -y curl");
//! # Ok::<(), cairn_dockerfile::Error>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::collections::BTreeMap;

mod error;
mod expand;
mod heredoc;
mod history;
mod json;
mod lines;
mod lock;
mod model;
mod parser;
mod shell;
mod stages;

pub use error::Error;
pub use history::{map_history, normalize_created_by, HistoryEntry};
pub use lock::{lock, Ecosystem, Locked, PinTarget, Pinned, Pins, Unpinned, UnpinnedReason};
pub use model::{Args, Base, Directive, Dockerfile, Flag, Heredoc, Instruction, KeyValue, Stage};

/// Largest Dockerfile accepted, in bytes (1 MiB). Real Dockerfiles are a few KiB.
pub const MAX_DOCKERFILE_BYTES: usize = 1 << 20;

/// Most instructions accepted in one Dockerfile.
pub const MAX_INSTRUCTIONS: usize = 10_000;

/// Parses a Dockerfile with no build args given.
pub fn parse(text: &str) -> Result<Dockerfile, Error> {
    parse_with_args(text, &BTreeMap::new())
}

/// Parses raw bytes, refusing input that is not UTF-8.
pub fn parse_bytes(
    bytes: &[u8],
    build_args: &BTreeMap<String, String>,
) -> Result<Dockerfile, Error> {
    check_size(bytes.len())?;
    match std::str::from_utf8(bytes) {
        Ok(text) => parse_with_args(text, build_args),
        Err(e) => {
            let line = 1 + bytes[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            Err(Error::NotUtf8 { line })
        }
    }
}

fn check_size(size: usize) -> Result<(), Error> {
    if size > MAX_DOCKERFILE_BYTES {
        return Err(Error::TooLarge { size });
    }
    Ok(())
}

/// Parses a Dockerfile; `build_args` are the caller's `--build-arg` values, which override
/// `ARG` defaults.
pub fn parse_with_args(
    text: &str,
    build_args: &BTreeMap<String, String>,
) -> Result<Dockerfile, Error> {
    let (mut instructions, lines) = syntax(text)?;
    let mut resolver = stages::Resolver::new(build_args, lines.escape);
    for (i, ins) in instructions.iter_mut().enumerate() {
        resolver.resolve(i, ins)?;
    }
    let (stages, global_args) = resolver.finish(instructions.len());
    Ok(Dockerfile {
        directives: lines.directives,
        escape: lines.escape,
        global_args,
        instructions,
        stages,
        fingerprint: fingerprint(text),
    })
}

/// Only the syntax, like BuildKit's `parser.Parse`: instructions with their lines, flags,
/// arguments and heredocs, but no stages and no substitution (`stage` is `None`, `expanded`
/// empty). Accepts files a build would reject, such as a `CMD` before any `FROM` or a
/// `${VAR:?}` that fails.
pub fn parse_instructions(text: &str) -> Result<Vec<Instruction>, Error> {
    syntax(text).map(|(instructions, _)| instructions)
}

fn syntax(text: &str) -> Result<(Vec<Instruction>, lines::Lines<'_>), Error> {
    check_size(text.len())?;
    let mut lines = lines::Lines::new(text);
    let mut instructions = Vec::new();
    while let Some(logical) = lines.next_logical()? {
        if instructions.len() == MAX_INSTRUCTIONS {
            return Err(Error::TooManyInstructions {
                line: logical.start_line,
            });
        }
        let mut ins = parser::parse_instruction(&logical, lines.escape)?;
        heredoc::attach(&mut ins, &mut lines, text)?;
        instructions.push(ins);
    }
    if instructions.is_empty() {
        return Err(Error::Empty);
    }
    Ok((instructions, lines))
}

/// Length and FNV-1a hash of the text, so [`lock`] can tell it was given the parsed text.
pub(crate) fn fingerprint(text: &str) -> (usize, u64) {
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    (text.len(), hash)
}
