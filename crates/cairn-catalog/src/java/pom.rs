//! Maven's own metadata inside an archive: `META-INF/maven/GROUP/ARTIFACT/pom.properties`
//! (what the build wrote: groupId, artifactId, version) and the `pom.xml` beside it (name,
//! description, URL and licenses; coordinates where the properties are missing).

use std::collections::BTreeMap;

/// A Java `.properties` file's keys and values (`key=value`, `key: value` or `key value`;
/// `#` and `!` comments; a trailing `\` continues the line; `\uXXXX` and the usual escapes).
pub(crate) fn properties(bytes: &[u8]) -> BTreeMap<String, String> {
    let text = String::from_utf8_lossy(bytes);
    let mut out = BTreeMap::new();
    let mut logical = String::new();
    for line in text.lines() {
        let line = line.trim_start();
        if logical.is_empty() && (line.starts_with('#') || line.starts_with('!')) {
            continue;
        }
        // An odd number of trailing backslashes continues the line.
        let trailing = line.bytes().rev().take_while(|&b| b == b'\\').count();
        if trailing % 2 == 1 {
            logical.push_str(&line[..line.len() - 1]);
            continue;
        }
        logical.push_str(line);
        let entry = std::mem::take(&mut logical);
        if entry.trim().is_empty() {
            continue;
        }
        let (k, v) = split_entry(&entry);
        out.insert(unescape(k), unescape(v.trim_start()));
    }
    out
}

fn split_entry(entry: &str) -> (&str, &str) {
    let mut escaped = false;
    for (i, c) in entry.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '=' | ':' => return (&entry[..i], &entry[i + 1..]),
            ' ' | '\t' => {
                let rest = entry[i..].trim_start();
                let rest = rest
                    .strip_prefix('=')
                    .or_else(|| rest.strip_prefix(':'))
                    .unwrap_or(rest);
                return (&entry[..i], rest);
            }
            _ => {}
        }
    }
    (entry, "")
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\x0c'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(c) => out.push(c),
                    None => out.push_str(&hex),
                }
            }
            Some(c) => out.push(c),
            None => {}
        }
    }
    out
}

/// What a `pom.xml` says about the project it builds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Pom {
    pub group: Option<String>,
    pub artifact: Option<String>,
    pub version: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub url: Option<String>,
    /// Each `<license>`: its name, else its URL.
    pub licenses: Vec<String>,
}

/// Deepest element nesting accepted in a pom (real ones nest fewer than ten levels).
const MAX_POM_DEPTH: u32 = 64;

impl Pom {
    pub(crate) fn parse(bytes: &[u8]) -> Result<Pom, String> {
        let text = std::str::from_utf8(bytes).map_err(|_| "is not UTF-8".to_owned())?;
        let opts = roxmltree::ParsingOptions {
            allow_dtd: false,
            nodes_limit: 1 << 18,
            ..roxmltree::ParsingOptions::default()
        };
        let doc = roxmltree::Document::parse_with_options(text, opts)
            .map_err(|e| format!("is not well-formed XML: {e}"))?;
        let project = doc.root_element();
        if project.tag_name().name() != "project" {
            return Err(format!(
                "has <{}> at its root, not <project>",
                project.tag_name().name()
            ));
        }
        // Document order visits a parent before its children: one pass gives every depth.
        let mut depth = vec![0u32; doc.descendants().count()];
        for n in project.descendants() {
            let d = n.parent().map_or(0, |p| depth[p.id().get_usize()]) + 1;
            if d > MAX_POM_DEPTH {
                return Err(format!("nests elements more than {MAX_POM_DEPTH} deep"));
            }
            depth[n.id().get_usize()] = d;
        }
        let text_of = |parent: roxmltree::Node, tag: &str| {
            child(parent, tag)
                .and_then(|n| n.text())
                .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
                .filter(|t| !t.is_empty())
        };
        let parent = child(project, "parent");
        let mut props: BTreeMap<String, String> = child(project, "properties")
            .map(|p| {
                p.children()
                    .filter(|n| n.is_element())
                    .filter_map(|n| {
                        Some((n.tag_name().name().to_owned(), n.text()?.trim().to_owned()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let group =
            text_of(project, "groupId").or_else(|| parent.and_then(|p| text_of(p, "groupId")));
        let version =
            text_of(project, "version").or_else(|| parent.and_then(|p| text_of(p, "version")));
        if let Some(v) = parent.and_then(|p| text_of(p, "version")) {
            props.insert("project.parent.version".into(), v.clone());
            props.insert("parent.version".into(), v);
        }
        if let Some(g) = &group {
            props.insert("project.groupId".into(), g.clone());
        }
        if let Some(v) = &version {
            if !v.contains("${project.version}") {
                props.insert("project.version".into(), v.clone());
            }
        }
        let resolve = |v: Option<String>| v.map(|v| substitute(&v, &props));
        let licenses = child(project, "licenses")
            .map(|ls| {
                ls.children()
                    .filter(|n| n.is_element() && n.tag_name().name() == "license")
                    .filter_map(|l| text_of(l, "name").or_else(|| text_of(l, "url")))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Pom {
            group: resolve(group),
            artifact: resolve(text_of(project, "artifactId")),
            version: resolve(version),
            name: resolve(text_of(project, "name")),
            description: text_of(project, "description"),
            url: resolve(text_of(project, "url")),
            licenses,
        })
    }
}

/// `${name}` references replaced from the pom's properties (one pass, so a property that
/// refers to itself cannot loop); unknown ones are left as written.
/// Bytes a value may grow by through `${...}` references.
const MAX_EXPANSION: usize = 4096;

fn child<'a, 'i>(parent: roxmltree::Node<'a, 'i>, tag: &str) -> Option<roxmltree::Node<'a, 'i>> {
    parent
        .children()
        .find(|n| n.is_element() && n.tag_name().name() == tag)
}

/// (The result is at most [`MAX_EXPANSION`] bytes longer than `v`: past that, the rest is
/// left as written.)
fn substitute(v: &str, props: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = v;
    while let Some(i) = rest.find("${") {
        if out.len() > v.len() + MAX_EXPANSION {
            break;
        }
        out.push_str(&rest[..i]);
        match rest[i + 2..].find('}') {
            Some(j) => {
                let key = &rest[i + 2..i + 2 + j];
                match props.get(key) {
                    Some(val) if !val.contains("${") => out.push_str(val),
                    _ => out.push_str(&rest[i..i + 3 + j]),
                }
                rest = &rest[i + 3 + j..];
            }
            None => {
                out.push_str(&rest[i..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pom_properties_as_maven_writes_them() {
        let p = properties(
            b"#Created by Apache Maven 3.8.7\r\nartifactId=commons-lang3\r\ngroupId=org.apache.commons\r\nversion=3.12.0\r\nname = a\\\n  b\nescaped\\=key: v\\u00e9\n",
        );
        assert_eq!(p["artifactId"], "commons-lang3");
        assert_eq!(p["groupId"], "org.apache.commons");
        assert_eq!(p["version"], "3.12.0");
        assert_eq!(p["name"], "ab");
        assert_eq!(p["escaped=key"], "vé");
    }

    #[test]
    fn pom_inherits_from_its_parent_and_resolves_properties() {
        let pom = Pom::parse(
            br#"<?xml version="1.0"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <parent><groupId>org.example</groupId><artifactId>parent</artifactId><version>2.1</version></parent>
  <artifactId>child</artifactId>
  <name>Child ${project.version}</name>
  <properties><x>y</x></properties>
  <licenses><license><name>Apache License, Version 2.0</name></license><license><url>https://opensource.org/licenses/MIT</url></license></licenses>
</project>"#,
        )
        .unwrap();
        assert_eq!(pom.group.as_deref(), Some("org.example"));
        assert_eq!(pom.version.as_deref(), Some("2.1"));
        assert_eq!(pom.name.as_deref(), Some("Child 2.1"));
        assert_eq!(
            pom.licenses,
            [
                "Apache License, Version 2.0",
                "https://opensource.org/licenses/MIT"
            ]
        );
    }

    #[test]
    fn malformed_poms_are_refused_with_a_reason() {
        assert!(Pom::parse(b"<project><groupId>x</project>")
            .unwrap_err()
            .contains("well-formed"));
        assert!(Pom::parse(b"<settings/>")
            .unwrap_err()
            .contains("<settings>"));
        let deep = format!(
            "<project>{}{}</project>",
            "<a>".repeat(100),
            "</a>".repeat(100)
        );
        assert!(Pom::parse(deep.as_bytes()).unwrap_err().contains("deep"));
        let entity =
            br#"<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaa">]><project>&a;</project>"#;
        assert!(Pom::parse(entity).is_err());
    }
}
