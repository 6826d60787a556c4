//! Build stages and `ARG`/`ENV` scoping, then substitution where BuildKit substitutes.
//!
//! BuildKit's rules: `ARG`s before the first `FROM` are global and only visible in `FROM`
//! lines; a stage sees a global only after re-declaring it (`ARG NAME`). Inside a stage,
//! `ARG` and `ENV` are visible to later instructions of that stage, `ENV` winning over an
//! `ARG` of the same name. Caller build args override `ARG` defaults. All pairs of one
//! `ENV`/`ARG` line are expanded against the variables as they were before the line.
//! A stage built `FROM` an earlier stage starts with that stage's `ENV` (it is in the image
//! config) but none of its `ARG`s.

use std::collections::BTreeMap;

use crate::expand::Lexer;
use crate::model::{Args, Base, Instruction, KeyValue, Stage};
use crate::Error;

/// Total bytes all expansions of one Dockerfile may produce; `ENV A=$A$A` doubling
/// instruction after instruction would otherwise exhaust memory.
const EXPANSION_BUDGET: usize = 64 * crate::MAX_DOCKERFILE_BYTES;

/// Variables visible at one point.
#[derive(Default, Clone)]
struct Scope {
    env: BTreeMap<String, String>,
    /// Declared `ARG`s; `None` when declared without a value.
    args: BTreeMap<String, Option<String>>,
    /// Declared `ARG` names in order, for the `RUN |N K=V` history prefix.
    arg_order: Vec<String>,
}

impl Scope {
    fn get(&self, name: &str) -> Option<String> {
        self.env
            .get(name)
            .cloned()
            .or_else(|| self.args.get(name).cloned().flatten())
    }

    fn declare_arg(&mut self, key: &str, value: Option<String>) {
        if !self.args.contains_key(key) {
            self.arg_order.push(key.to_string());
        }
        self.args.insert(key.to_string(), value);
    }
}

/// Walks the instructions once, assigning stages and filling the expanded fields.
pub(crate) struct Resolver<'a> {
    build_args: &'a BTreeMap<String, String>,
    lexer: Lexer,
    global: Scope,
    stage: Scope,
    pub stages: Vec<Stage>,
    pub global_args: Vec<KeyValue>,
    /// The `ENV` each finished stage ends with: a stage built `FROM` it starts with it.
    stage_envs: Vec<BTreeMap<String, String>>,
    spent: usize,
}

impl<'a> Resolver<'a> {
    pub fn new(build_args: &'a BTreeMap<String, String>, escape: char) -> Self {
        Resolver {
            build_args,
            lexer: Lexer::new(escape),
            global: Scope::default(),
            stage: Scope::default(),
            stages: Vec::new(),
            global_args: Vec::new(),
            stage_envs: Vec::new(),
            spent: 0,
        }
    }

    pub fn finish(mut self, total: usize) -> (Vec<Stage>, Vec<KeyValue>) {
        if let Some(last) = self.stages.last_mut() {
            last.end_instruction = total;
        }
        (self.stages, self.global_args)
    }

    /// Resolves instruction number `index`.
    pub fn resolve(&mut self, index: usize, ins: &mut Instruction) -> Result<(), Error> {
        let line = ins.start_line;
        let sub = |message: String| Error::Substitution { line, message };
        if ins.keyword == "FROM" {
            return self
                .from(index, ins)
                .map_err(|message| match message.starts_with("FROM ") {
                    true => Error::Syntax { line, message },
                    false => sub(message),
                });
        }
        if self.stages.is_empty() {
            if ins.keyword != "ARG" {
                return Err(Error::NoStage {
                    line,
                    keyword: ins.keyword.clone(),
                });
            }
            return self.global_arg(ins).map_err(sub);
        }
        ins.stage = Some(self.stages.len() - 1);
        self.in_stage(ins).map_err(sub)
    }

    fn expand_with(&mut self, scope: &Scope, word: &str) -> Result<String, String> {
        let out = self.lexer.word(word, &|n| scope.get(n))?;
        self.spent += out.len();
        if self.spent > EXPANSION_BUDGET {
            return Err(format!("expansions exceed {EXPANSION_BUDGET} bytes"));
        }
        Ok(out)
    }

    fn expand(&mut self, word: &str) -> Result<String, String> {
        let scope = std::mem::take(&mut self.stage);
        let out = self.expand_with(&scope, word);
        self.stage = scope;
        out
    }

    fn global_arg(&mut self, ins: &mut Instruction) -> Result<(), String> {
        let pairs = key_values(&ins.args);
        let global = self.global.clone();
        let mut values = Vec::new();
        for kv in &pairs {
            let value = match (self.build_args.get(&kv.key), &kv.value) {
                (Some(v), _) => Some(v.clone()),
                (None, Some(d)) => Some(self.expand_with(&global, d)?),
                (None, None) => None,
            };
            ins.expanded.push(pair(&kv.key, value.as_deref()));
            values.push((kv.key.clone(), value));
        }
        for (key, value) in values {
            self.global.declare_arg(&key, value.clone());
            self.global_args.retain(|g| g.key != key);
            self.global_args.push(KeyValue { key, value });
        }
        Ok(())
    }

    fn from(&mut self, index: usize, ins: &mut Instruction) -> Result<(), String> {
        let global = self.global.clone();
        let words = words(&ins.args);
        for w in &words {
            let e = self.expand_with(&global, w)?;
            ins.expanded.push(e);
        }
        for f in &mut ins.flags {
            if let Some(v) = &f.value {
                f.expanded = Some(self.expand_with(&global, v)?);
            }
        }
        let (image, name) = match ins.expanded.as_slice() {
            [image] => (image.clone(), None),
            [image, as_, name] if as_.eq_ignore_ascii_case("as") => {
                (image.clone(), Some(name.to_ascii_lowercase()))
            }
            _ => return Err("FROM requires either one or three arguments".into()),
        };
        if let Some(last) = self.stages.last_mut() {
            last.end_instruction = index;
        }
        let base = self.base_of(&image, false);
        let platform = ins.flag("platform").and_then(|f| f.expanded.clone());
        let idx = self.stages.len();
        self.stages.push(Stage {
            index: idx,
            name,
            base,
            platform,
            from_instruction: index,
            end_instruction: index + 1,
        });
        ins.stage = Some(idx);
        let finished = std::mem::take(&mut self.stage);
        if idx > 0 {
            self.stage_envs.push(finished.env);
        }
        if let Base::Stage(parent) = self.stages[idx].base {
            self.stage.env = self.stage_envs.get(parent).cloned().unwrap_or_default();
        }
        Ok(())
    }

    /// An earlier stage's name (or, for `COPY --from`, its index) names that stage.
    fn base_of(&self, reference: &str, allow_index: bool) -> Base {
        let lower = reference.to_ascii_lowercase();
        if let Some(s) = self
            .stages
            .iter()
            .find(|s| s.name.as_deref() == Some(lower.as_str()))
        {
            return Base::Stage(s.index);
        }
        if allow_index {
            if let Some(i) = reference
                .parse::<usize>()
                .ok()
                .filter(|&i| i < self.stages.len())
            {
                return Base::Stage(i);
            }
        }
        if lower == "scratch" {
            Base::Scratch
        } else {
            Base::Image(reference.to_string())
        }
    }

    fn in_stage(&mut self, ins: &mut Instruction) -> Result<(), String> {
        match ins.keyword.as_str() {
            "ARG" => return self.stage_arg(ins),
            "ENV" => return self.env(ins),
            "RUN" => return self.run(ins),
            "LABEL" => {
                for kv in key_values(&ins.args) {
                    let k = self.expand(&kv.key)?;
                    let v = self.expand(kv.value.as_deref().unwrap_or(""))?;
                    ins.expanded.push(pair(&k, Some(&v)));
                }
            }
            "COPY" | "ADD" | "EXPOSE" | "VOLUME" => {
                for w in words(&ins.args) {
                    let e = self.expand(&w)?;
                    ins.expanded.push(e);
                }
            }
            "WORKDIR" | "USER" | "STOPSIGNAL" => {
                let e = self.expand(&ins.raw_args)?;
                ins.expanded.push(e);
            }
            _ => return Ok(()),
        }
        self.expand_flags(ins)?;
        if matches!(ins.keyword.as_str(), "COPY" | "ADD") {
            let from = ins.flag("from").and_then(|f| f.expanded.clone());
            ins.copy_from = from.map(|f| self.base_of(&f, true));
        }
        Ok(())
    }

    fn expand_flags(&mut self, ins: &mut Instruction) -> Result<(), String> {
        for f in &mut ins.flags {
            if let Some(v) = &f.value {
                let scope = std::mem::take(&mut self.stage);
                let e = self.expand_with(&scope, v);
                self.stage = scope;
                f.expanded = Some(e?);
            }
        }
        Ok(())
    }

    /// In a stage: caller value, else the default, else the global of the same name.
    fn stage_arg(&mut self, ins: &mut Instruction) -> Result<(), String> {
        let mut values = Vec::new();
        for kv in key_values(&ins.args) {
            let value = match (self.build_args.get(&kv.key), &kv.value) {
                (Some(v), _) => Some(v.clone()),
                (None, Some(d)) => Some(self.expand(d)?),
                (None, None) => self.global.args.get(&kv.key).cloned().flatten(),
            };
            ins.expanded.push(pair(&kv.key, value.as_deref()));
            values.push((kv.key, value));
        }
        for (k, v) in values {
            self.stage.declare_arg(&k, v);
        }
        Ok(())
    }

    fn env(&mut self, ins: &mut Instruction) -> Result<(), String> {
        let mut values = Vec::new();
        for kv in key_values(&ins.args) {
            let k = self.expand(&kv.key)?;
            let v = self.expand(kv.value.as_deref().unwrap_or(""))?;
            ins.expanded.push(pair(&k, Some(&v)));
            values.push((k, v));
        }
        self.stage.env.extend(values);
        Ok(())
    }

    /// `RUN` is left to the shell; record the substituted text and the build args for history.
    fn run(&mut self, ins: &mut Instruction) -> Result<(), String> {
        self.expand_flags(ins)?;
        let scope = &self.stage;
        ins.run_args = scope
            .arg_order
            .iter()
            .map(|k| (k.clone(), scope.get(k).unwrap_or_default()))
            .collect();
        if let Args::Shell(text) = &ins.args {
            let lx = Lexer {
                raw_quotes: true,
                raw_escapes: true,
                skip_unset: true,
                ..self.lexer
            };
            ins.expanded_run = lx.word(text, &|n| scope.get(n)).ok();
        }
        Ok(())
    }
}

fn pair(key: &str, value: Option<&str>) -> String {
    match value {
        Some(v) => format!("{key}={v}"),
        None => key.to_string(),
    }
}

fn key_values(args: &Args) -> Vec<KeyValue> {
    match args {
        Args::KeyValues(kv) => kv.clone(),
        _ => Vec::new(),
    }
}

fn words(args: &Args) -> Vec<String> {
    match args {
        Args::Words(w) | Args::Json(w) => w.clone(),
        _ => Vec::new(),
    }
}
