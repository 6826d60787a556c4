//! Debian copyright files. Machine-readable ones (DEP-5, `Format: …copyright-format…`)
//! state their licenses in `License:` fields, which map to SPDX. Free-form ones are not
//! read for licenses: guessing from prose would be wrong as often as right.

use crate::deb822;
use std::collections::BTreeMap;

#[derive(Debug, Default)]
pub struct Statements {
    /// True when the file is in the machine-readable format.
    pub machine_readable: bool,
    /// Distinct license statements in use (header and `Files` paragraphs), with the lines of
    /// the paragraph that first states each.
    pub uses: Vec<(String, (usize, usize))>,
    /// License texts given in standalone `License` paragraphs (or inline), by name.
    pub texts: BTreeMap<String, String>,
    /// The copyright notices of the header and `Files` paragraphs (`Copyright:`), each
    /// distinct line once, in the order the file gives them.
    pub copyrights: Vec<String>,
}

pub fn parse(text: &str) -> Statements {
    let (paras, _malformed) = deb822::parse(text);
    let Some(first) = paras.first() else {
        return Statements::default();
    };
    let format = first.get("Format").unwrap_or("");
    if !(format.contains("copyright-format")
        || format.to_lowercase().contains("dep5")
        || format.to_lowercase().contains("dep-5"))
    {
        return Statements::default();
    }
    let mut out = Statements {
        machine_readable: true,
        ..Default::default()
    };
    let mut seen = std::collections::BTreeSet::new();
    for (i, p) in paras.iter().enumerate() {
        if i == 0 || p.get("Files").is_some() {
            for line in p.get("Copyright").unwrap_or("").lines() {
                // A continuation line may be a lone `.` (an empty line in deb822).
                let line = line.trim();
                if !line.is_empty() && line != "." && seen.insert(line.to_owned()) {
                    out.copyrights.push(line.to_owned());
                }
            }
        }
        let Some(lic) = p.get("License") else {
            continue;
        };
        let mut lines = lic.splitn(2, '\n');
        let name = lines.next().unwrap_or("").trim().to_owned();
        let body = lines
            .next()
            .map(|b| b.trim().to_owned())
            .filter(|b| !b.is_empty());
        if name.is_empty() {
            continue;
        }
        if let Some(b) = body {
            out.texts.entry(name.clone()).or_insert(b);
        }
        let is_use = i == 0 || p.get("Files").is_some();
        if is_use && !out.uses.iter().any(|(n, _)| *n == name) {
            out.uses.push((name, p.lines));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn dep5_statements_and_texts() {
        let text = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\
Upstream-Name: x\n\nFiles: *\nCopyright: 2020 A\nLicense: GPL-2+\n\n\
Files: lib/*\nCopyright: 2020 B\nLicense: Expat\n\n\
Files: doc/*\nLicense: GPL-2+\n\n\
License: Expat\n Permission is hereby granted...\n";
        let s = parse(text);
        assert!(s.machine_readable);
        assert_eq!(
            s.uses.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
            ["GPL-2+", "Expat"]
        );
        assert_eq!(s.uses[0].1, (4, 6));
        assert!(s.texts["Expat"].starts_with("Permission"));
        assert_eq!(s.copyrights, ["2020 A", "2020 B"]);
    }

    /// Every line of a multi-line `Copyright:` field is a notice; a notice repeated in
    /// several paragraphs is kept once, and the standalone `License` paragraphs state none.
    #[test]
    fn copyright_notices_are_each_distinct_line() {
        let text = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n\
Files: *\nCopyright: 1995-2023 Jean-loup Gailly\n 1995-2023 Mark Adler\nLicense: Zlib\n\n\
Files: contrib/*\nCopyright: 1995-2023 Mark Adler\nLicense: Zlib\n";
        assert_eq!(
            parse(text).copyrights,
            ["1995-2023 Jean-loup Gailly", "1995-2023 Mark Adler"]
        );
    }

    #[test]
    fn free_form_files_state_nothing() {
        let s = parse("This is the Debian packaging of foo.\n\nIt is licensed under the GPL, see /usr/share/common-licenses/GPL-2.\n");
        assert!(!s.machine_readable);
        assert!(s.uses.is_empty());
    }
}
