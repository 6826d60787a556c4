//! Debian control-file syntax (deb822): paragraphs of `Field: value` lines separated by blank
//! lines, continuation lines starting with a space or tab. Used by the dpkg database and
//! by machine-readable copyright files. Each paragraph keeps its line range, which becomes
//! the evidence of what was read; a malformed paragraph is reported with its lines rather
//! than guessed at.

#[derive(Debug, Clone)]
pub struct Paragraph {
    fields: Vec<(String, String)>,
    /// 1-based first and last line.
    pub lines: (usize, usize),
}

impl Paragraph {
    /// A field's value (case-insensitive name); continuation lines joined with `\n`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    pub lines: (usize, usize),
    pub reason: String,
}

/// Parse deb822 text into its paragraphs and the malformed paragraphs it skipped.
pub fn parse(text: &str) -> (Vec<Paragraph>, Vec<Malformed>) {
    let mut good = Vec::new();
    let mut bad = Vec::new();
    let mut cur: Option<(Paragraph, Option<String>)> = None;
    let finish = |cur: &mut Option<(Paragraph, Option<String>)>,
                  good: &mut Vec<Paragraph>,
                  bad: &mut Vec<Malformed>| {
        if let Some((p, err)) = cur.take() {
            match err {
                Some(reason) => bad.push(Malformed {
                    lines: p.lines,
                    reason,
                }),
                None => good.push(p),
            }
        }
    };
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.trim().is_empty() {
            finish(&mut cur, &mut good, &mut bad);
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let (p, err) = cur.get_or_insert_with(|| {
            (
                Paragraph {
                    fields: Vec::new(),
                    lines: (n, n),
                },
                None,
            )
        });
        p.lines.1 = n;
        if err.is_some() {
            continue;
        }
        if line.starts_with(' ') || line.starts_with('\t') {
            match p.fields.last_mut() {
                Some((_, v)) => {
                    let t = line.trim();
                    v.push('\n');
                    if t != "." {
                        v.push_str(t);
                    }
                }
                None => *err = Some(format!("line {n}: continuation line before any field")),
            }
            continue;
        }
        match line.split_once(':') {
            Some((k, v)) if !k.is_empty() && !k.contains(char::is_whitespace) => {
                p.fields.push((k.to_owned(), v.trim().to_owned()));
            }
            _ => {
                *err = Some(format!(
                    "line {n}: expected 'Field: value', found {:?}",
                    truncate(line)
                ))
            }
        }
    }
    finish(&mut cur, &mut good, &mut bad);
    (good, bad)
}

fn truncate(s: &str) -> String {
    s.chars().take(60).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_fields_and_line_ranges() {
        let text = "Package: a\nVersion: 1\nDescription: short\n long line\n .\n more\n\n\nPackage: b\nVersion: 2\n";
        let (ps, bad) = parse(text);
        assert!(bad.is_empty());
        assert_eq!(ps.len(), 2);
        assert_eq!(ps[0].lines, (1, 6));
        assert_eq!(ps[0].get("description"), Some("short\nlong line\n\nmore"));
        assert_eq!(ps[1].lines, (9, 10));
        assert_eq!(ps[1].get("Version"), Some("2"));
    }

    #[test]
    fn broken_stanza_is_reported_not_guessed() {
        let text = "Package: a\nVersion: 1\n\nPackage: b\nthis is not a field\nVersion: 2\n\nPackage: c\nVersion: 3\n";
        let (ps, bad) = parse(text);
        assert_eq!(
            ps.iter()
                .map(|p| p.get("Package").unwrap())
                .collect::<Vec<_>>(),
            ["a", "c"]
        );
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].lines, (4, 6));
        assert!(bad[0].reason.contains("line 5"));
    }

    #[test]
    fn continuation_without_field_is_malformed() {
        let (ps, bad) = parse(" orphan\nPackage: x\n");
        assert!(ps.is_empty());
        assert_eq!(bad.len(), 1);
    }
}
