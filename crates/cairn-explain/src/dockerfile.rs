//! Build steps matched to the Dockerfile instructions that made them (`--dockerfile`),
//! through `cairn_dockerfile::map_history`: the target stage and the stages it is built
//! `FROM`, matched from the end of the history backwards; the base image's steps, which
//! come first, match none.

use crate::layers::Instruction;
use cairn_dockerfile::{Dockerfile, HistoryEntry};
use cairn_image::Step;

/// For each build step, the instruction that made it, if any.
pub fn instructions(
    df: &Dockerfile,
    target: Option<&str>,
    steps: &[Step],
) -> Vec<Option<Instruction>> {
    let history: Vec<HistoryEntry> = steps
        .iter()
        .map(|s| HistoryEntry {
            created_by: s.created_by.clone(),
            empty_layer: s.empty,
            comment: s.comment.clone(),
            created: s.created.clone(),
        })
        .collect();
    cairn_dockerfile::map_history(df, target, &history)
        .into_iter()
        .map(|i| {
            let ins = df.instructions.get(i?)?;
            let mut text = ins.keyword.clone();
            for f in &ins.flags {
                text.push_str(" --");
                text.push_str(&f.name);
                if let Some(v) = &f.value {
                    text.push('=');
                    text.push_str(v);
                }
            }
            if !ins.raw_args.is_empty() {
                text.push(' ');
                text.push_str(&ins.raw_args);
            }
            Some(Instruction {
                stage: ins.stage.unwrap_or(0),
                line: ins.start_line,
                end_line: ins.end_line,
                text,
            })
        })
        .collect()
}
