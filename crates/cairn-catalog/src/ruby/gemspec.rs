//! An installed gem's specification (`specifications/NAME-VERSION.gemspec`), as RubyGems
//! writes it (`Gem::Specification#to_ruby`): Ruby source, but of a fixed shape, one
//! `s.field = value` per line. It is read as data, never run: string literals and arrays of
//! them are understood, anything else is left out.

/// A gem specification's fields.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Gemspec {
    pub name: String,
    pub version: String,
    pub licenses: Vec<String>,
    pub authors: Vec<String>,
    pub homepage: Option<String>,
    pub summary: Option<String>,
    /// Runtime dependencies by name (development ones left out).
    pub dependencies: Vec<String>,
}

impl Gemspec {
    pub(crate) fn parse(bytes: &[u8]) -> Result<Gemspec, String> {
        let text = String::from_utf8_lossy(bytes);
        let mut var = None::<String>;
        let mut g = Gemspec::default();
        let mut seen = std::collections::HashSet::new();
        for line in text.lines() {
            let line = line.trim();
            if var.is_none() {
                // `Gem::Specification.new do |s|`
                if let Some(rest) = line.strip_prefix("Gem::Specification.new") {
                    if let Some(v) = rest.split('|').nth(1) {
                        var = Some(v.trim().to_owned());
                    }
                }
                continue;
            }
            let v = var.as_deref().unwrap_or("s");
            let Some(rest) = line.strip_prefix(v).and_then(|r| r.strip_prefix('.')) else {
                continue;
            };
            if let Some(args) = rest
                .strip_prefix("add_runtime_dependency")
                .or_else(|| rest.strip_prefix("add_dependency"))
            {
                if let Some(name) = first_argument(args) {
                    if seen.insert(name.clone()) {
                        g.dependencies.push(name);
                    }
                }
                continue;
            }
            let Some((field, value)) = rest.split_once('=') else {
                continue;
            };
            let (field, value) = (field.trim(), value.trim());
            match field {
                "name" => g.name = string(value).unwrap_or_default(),
                "version" => {
                    g.version = string(value)
                        .or_else(|| value.strip_prefix("Gem::Version.new(").and_then(string))
                        .unwrap_or_default()
                }
                "licenses" => g.licenses = strings(value),
                "license" => g.licenses = string(value).into_iter().collect(),
                "authors" => g.authors = strings(value),
                "homepage" => g.homepage = string(value),
                "summary" => g.summary = string(value),
                _ => {}
            }
        }
        if var.is_none() {
            return Err("is not a gem specification (no Gem::Specification.new block)".into());
        }
        if g.name.is_empty() || g.version.is_empty() {
            return Err("has no name or no version".into());
        }
        Ok(g)
    }
}

/// The first argument of `(%q<rack>.freeze, [...])` or `("rack", ...)`.
fn first_argument(args: &str) -> Option<String> {
    let a = args
        .trim()
        .strip_prefix('(')
        .unwrap_or(args.trim())
        .trim_start();
    if let Some(rest) = a.strip_prefix("%q<") {
        return rest.split_once('>').map(|(n, _)| n.to_owned());
    }
    string(a)
}

/// A Ruby string literal at the start of `v` (`"x".freeze`, `'x'`, `%q<x>`).
fn string(v: &str) -> Option<String> {
    literal(v).map(|(s, _)| s)
}

/// A string literal after any leading whitespace, and the bytes of `v` it took (whitespace
/// and closing quote included): the caller goes on at that byte, always a char boundary.
fn literal(v: &str) -> Option<(String, usize)> {
    let start = v.len() - v.trim_start().len();
    let body = &v[start..];
    if let Some(rest) = body.strip_prefix("%q<") {
        let end = rest.find('>')?;
        return Some((rest[..end].to_owned(), start + 3 + end + 1));
    }
    let quote = body.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let mut out = String::new();
    let mut chars = body[1..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => match chars.next()?.1 {
                'n' if quote == '"' => out.push('\n'),
                't' if quote == '"' => out.push('\t'),
                c => out.push(c),
            },
            c if c == quote => return Some((out, start + 1 + i + 1)),
            c => out.push(c),
        }
    }
    None
}

/// An array of string literals: `["MIT".freeze, "Ruby".freeze]`.
fn strings(v: &str) -> Vec<String> {
    let Some(inner) = v.trim().strip_prefix('[') else {
        return string(v).into_iter().collect();
    };
    let mut out = Vec::new();
    let mut rest = inner;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
        if rest.starts_with(']') || rest.is_empty() {
            break;
        }
        let Some((s, used)) = literal(rest) else {
            break;
        };
        rest = &rest[used..];
        rest = rest.strip_prefix(".freeze").unwrap_or(rest);
        out.push(s);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const RAKE: &str = r#"# -*- encoding: utf-8 -*-
# stub: rack-protection 3.0.5 ruby lib

Gem::Specification.new do |s|
  s.name = "rack-protection".freeze
  s.version = "3.0.5"
  s.authors = ["https://github.com/sinatra/sinatra/graphs/contributors".freeze]
  s.homepage = "http://sinatrarb.com/protection/".freeze
  s.licenses = ["MIT".freeze, "Ruby \"x\"".freeze]
  s.summary = "Protect against typical web attacks".freeze

  if s.respond_to? :add_runtime_dependency then
    s.add_runtime_dependency(%q<rack>.freeze, [">= 0"])
    s.add_development_dependency(%q<rack-test>.freeze, ["~> 2"])
  else
    s.add_dependency(%q<rack>.freeze, [">= 0"])
  end
end
"#;

    #[test]
    fn an_installed_gemspec() {
        let g = Gemspec::parse(RAKE.as_bytes()).unwrap();
        assert_eq!(g.name, "rack-protection");
        assert_eq!(g.version, "3.0.5");
        assert_eq!(g.licenses, ["MIT", "Ruby \"x\""]);
        assert_eq!(g.dependencies, ["rack"]);
        assert_eq!(
            g.homepage.as_deref(),
            Some("http://sinatrarb.com/protection/")
        );
    }

    #[test]
    fn broken_gemspecs_are_refused() {
        assert!(Gemspec::parse(b"puts 1")
            .unwrap_err()
            .contains("not a gem specification"));
        assert!(
            Gemspec::parse(b"Gem::Specification.new do |s|\n  s.name = \"x\n")
                .unwrap_err()
                .contains("no name or no version")
        );
        // Whitespace that is not ASCII around a literal, and an unterminated array.
        let nbsp = "Gem::Specification.new do |s|\n s.name = \"x\"\n s.version = \"1\"\n s.licenses = [\u{a0}\"MIT\"\u{a0}, \"é\"\n";
        assert_eq!(
            Gemspec::parse(nbsp.as_bytes()).unwrap().licenses,
            ["MIT", "é"]
        );
        assert!(Gemspec::parse(b"Gem::Specification.new do |spec|\n spec.name = 'x'\n spec.version = Gem::Version.new(\"1\")\nend").is_ok());
    }
}
