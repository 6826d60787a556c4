//! `META-INF/MANIFEST.MF`: the main section's attributes (JAR File Specification: lines of
//! at most 72 bytes, a line starting with one space continues the previous one, a blank
//! line ends a section).

use std::collections::BTreeMap;

/// The main section's attributes, names as written (they are case-insensitive: look them
/// up with [`Manifest::get`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Manifest {
    main: BTreeMap<String, String>,
    /// The per-entry sections (`Name: org/apache/tools/ant/`), in order: some builds write
    /// the version there only (Ant's own jar).
    sections: Vec<BTreeMap<String, String>>,
}

/// Most per-entry sections kept (a signed jar has one per file).
const MAX_SECTIONS: usize = 64;

impl Manifest {
    pub(crate) fn parse(bytes: &[u8]) -> Manifest {
        let text = String::from_utf8_lossy(bytes);
        let mut sections: Vec<BTreeMap<String, String>> = vec![BTreeMap::new()];
        let mut last: Option<String> = None;
        for line in text.split('\n') {
            let line = line.strip_suffix('\r').unwrap_or(line);
            let current = sections.last_mut().expect("one at least");
            if line.is_empty() {
                if !current.is_empty() {
                    if sections.len() > MAX_SECTIONS {
                        break;
                    }
                    sections.push(BTreeMap::new());
                }
                last = None;
                continue;
            }
            if let Some(more) = line.strip_prefix(' ') {
                if let Some(v) = last.as_ref().and_then(|k| current.get_mut(k)) {
                    v.push_str(more);
                }
                continue;
            }
            match line.split_once(':') {
                Some((k, v)) => {
                    let k = k.trim().to_ascii_lowercase();
                    current.insert(k.clone(), v.trim_start().to_owned());
                    last = Some(k);
                }
                None => last = None,
            }
        }
        let main = sections.remove(0);
        sections.retain(|s| !s.is_empty());
        Manifest { main, sections }
    }

    /// A main attribute's value, by case-insensitive name; empty values are none.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        value(&self.main, name)
    }

    /// A main attribute, else the first per-entry section's that has it.
    pub(crate) fn get_any(&self, name: &str) -> Option<&str> {
        self.get(name)
            .or_else(|| self.sections.iter().find_map(|s| value(s, name)))
    }
}

fn value<'a>(section: &'a BTreeMap<String, String>, name: &str) -> Option<&'a str> {
    section
        .get(&name.to_ascii_lowercase())
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuation_lines_join_and_sections_end() {
        let m = Manifest::parse(
            b"Manifest-Version: 1.0\r\nBundle-Description: Apache Commons Lang, a package of Java utility class\r\n es for the  classes\r\nBundle-SymbolicName: org.apache.commons.lang3;singleton:=true\r\nImplementation-Version: 3.12.0\r\n\r\nName: x/\r\nImplementation-Version: 9\r\n",
        );
        assert_eq!(m.get("implementation-version"), Some("3.12.0"));
        assert_eq!(
            m.get("Bundle-Description"),
            Some("Apache Commons Lang, a package of Java utility classes for the  classes")
        );
        assert_eq!(
            m.get("bundle-symbolicname"),
            Some("org.apache.commons.lang3;singleton:=true")
        );
        assert_eq!(m.get("Name"), None);
        let ant = Manifest::parse(b"Manifest-Version: 1.0\nAnt-Version: Apache Ant 1.10.13\n\nName: org/apache/tools/ant/\nImplementation-Version: 1.10.13\n");
        assert_eq!(ant.get("Implementation-Version"), None);
        assert_eq!(ant.get_any("Implementation-Version"), Some("1.10.13"));
    }
}
