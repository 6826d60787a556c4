//! A distribution's declared license from its core metadata, in the order the packaging
//! specifications give them weight: PEP 639 `License-Expression` (an SPDX expression),
//! then the free-form `License` field when it names a license, then `License ::`
//! classifiers, then a license text in the `License` field (matched against the SPDX
//! texts). Every statement read is kept as evidence with what it maps to.
//!
//! Names are mapped only when they say which license they mean: "BSD License" (the
//! classifier) does not say which BSD license, so it stays a `LicenseRef-`, as any name
//! SPDX does not list. The `spdx` crate's "imprecise names" are not used, for the same
//! reason (it reads "BSD" as BSD-2-Clause and "GNU GPL v2" as GPL-3.0-only).

use super::metadata::{LicenseField, Metadata};
use crate::license::{self, Expr};
use cairn_sbom::{LicenseEvidence, Licenses, Location};

/// `License ::` classifiers (without that prefix) and their SPDX ids. `None`: the
/// classifier names no license (`OSI Approved` alone).
const CLASSIFIERS: &[(&str, Option<&str>)] = &[
    ("OSI Approved", None),
    ("DFSG approved", None),
    (
        "OSI Approved :: Academic Free License (AFL)",
        Some("AFL-3.0"),
    ),
    (
        "OSI Approved :: Apache Software License",
        Some("Apache-2.0"),
    ),
    (
        "OSI Approved :: Apple Public Source License",
        Some("APSL-2.0"),
    ),
    ("OSI Approved :: Artistic License", Some("Artistic-2.0")),
    (
        "OSI Approved :: Boost Software License 1.0 (BSL-1.0)",
        Some("BSL-1.0"),
    ),
    (
        "OSI Approved :: Common Development and Distribution License 1.0 (CDDL-1.0)",
        Some("CDDL-1.0"),
    ),
    ("OSI Approved :: Common Public License", Some("CPL-1.0")),
    (
        "OSI Approved :: Eclipse Public License 1.0 (EPL-1.0)",
        Some("EPL-1.0"),
    ),
    (
        "OSI Approved :: Eclipse Public License 2.0 (EPL-2.0)",
        Some("EPL-2.0"),
    ),
    (
        "OSI Approved :: European Union Public Licence 1.0 (EUPL 1.0)",
        Some("EUPL-1.0"),
    ),
    (
        "OSI Approved :: European Union Public Licence 1.1 (EUPL 1.1)",
        Some("EUPL-1.1"),
    ),
    (
        "OSI Approved :: European Union Public Licence 1.2 (EUPL 1.2)",
        Some("EUPL-1.2"),
    ),
    (
        "OSI Approved :: GNU Affero General Public License v3",
        Some("AGPL-3.0-only"),
    ),
    (
        "OSI Approved :: GNU Affero General Public License v3 or later (AGPLv3+)",
        Some("AGPL-3.0-or-later"),
    ),
    (
        "OSI Approved :: GNU Free Documentation License (FDL)",
        Some("GFDL-1.3-or-later"),
    ),
    // A GPL that names no version may be used under any version (GPL-2.0 §9, GPL-3.0 §14).
    (
        "OSI Approved :: GNU General Public License (GPL)",
        Some("GPL-1.0-or-later"),
    ),
    (
        "OSI Approved :: GNU General Public License v2 (GPLv2)",
        Some("GPL-2.0-only"),
    ),
    (
        "OSI Approved :: GNU General Public License v2 or later (GPLv2+)",
        Some("GPL-2.0-or-later"),
    ),
    (
        "OSI Approved :: GNU General Public License v3 (GPLv3)",
        Some("GPL-3.0-only"),
    ),
    (
        "OSI Approved :: GNU General Public License v3 or later (GPLv3+)",
        Some("GPL-3.0-or-later"),
    ),
    (
        "OSI Approved :: GNU Lesser General Public License v2 (LGPLv2)",
        Some("LGPL-2.0-only"),
    ),
    (
        "OSI Approved :: GNU Lesser General Public License v2 or later (LGPLv2+)",
        Some("LGPL-2.0-or-later"),
    ),
    (
        "OSI Approved :: GNU Lesser General Public License v3 (LGPLv3)",
        Some("LGPL-3.0-only"),
    ),
    (
        "OSI Approved :: GNU Lesser General Public License v3 or later (LGPLv3+)",
        Some("LGPL-3.0-or-later"),
    ),
    (
        "OSI Approved :: GNU Library or Lesser General Public License (LGPL)",
        Some("LGPL-2.0-or-later"),
    ),
    (
        "OSI Approved :: Historical Permission Notice and Disclaimer (HPND)",
        Some("HPND"),
    ),
    ("OSI Approved :: IBM Public License", Some("IPL-1.0")),
    ("OSI Approved :: ISC License (ISCL)", Some("ISC")),
    ("OSI Approved :: MIT License", Some("MIT")),
    (
        "OSI Approved :: MIT No Attribution License (MIT-0)",
        Some("MIT-0"),
    ),
    (
        "OSI Approved :: Mozilla Public License 1.0 (MPL)",
        Some("MPL-1.0"),
    ),
    (
        "OSI Approved :: Mozilla Public License 1.1 (MPL 1.1)",
        Some("MPL-1.1"),
    ),
    (
        "OSI Approved :: Mozilla Public License 2.0 (MPL 2.0)",
        Some("MPL-2.0"),
    ),
    (
        "OSI Approved :: Mulan Permissive Software License v2 (MulanPSL-2.0)",
        Some("MulanPSL-2.0"),
    ),
    (
        "OSI Approved :: Open Software License 3.0 (OSL-3.0)",
        Some("OSL-3.0"),
    ),
    ("OSI Approved :: PostgreSQL License", Some("PostgreSQL")),
    (
        "OSI Approved :: Python License (CNRI Python License)",
        Some("CNRI-Python"),
    ),
    (
        "OSI Approved :: Python Software Foundation License",
        Some("PSF-2.0"),
    ),
    ("OSI Approved :: Sun Public License", Some("SPL-1.0")),
    (
        "OSI Approved :: The Unlicense (Unlicense)",
        Some("Unlicense"),
    ),
    (
        "OSI Approved :: Universal Permissive License (UPL)",
        Some("UPL-1.0"),
    ),
    ("OSI Approved :: W3C License", Some("W3C")),
    ("OSI Approved :: Zope Public License", Some("ZPL-2.1")),
    ("OSI Approved :: zlib/libpng License", Some("Zlib")),
    (
        "CC0 1.0 Universal (CC0 1.0) Public Domain Dedication",
        Some("CC0-1.0"),
    ),
    ("Eiffel Forum License (EFL)", Some("EFL-2.0")),
    ("Netscape Public License (NPL)", Some("NPL-1.1")),
];

/// Names people write in the `License` field, lowercased, with the SPDX expression each
/// means. Names SPDX lists (ids, Debian's short names) are found by `license::spdx_id`.
const NAMES: &[(&str, &str)] = &[
    ("apache 2", "Apache-2.0"),
    ("apache 2.0", "Apache-2.0"),
    ("apache license 2.0", "Apache-2.0"),
    ("apache license version 2.0", "Apache-2.0"),
    ("apache license, version 2.0", "Apache-2.0"),
    ("apache software license 2.0", "Apache-2.0"),
    ("apache software license, version 2.0", "Apache-2.0"),
    ("apache-2.0 license", "Apache-2.0"),
    ("apache v2", "Apache-2.0"),
    ("apache2", "Apache-2.0"),
    ("asl 2.0", "Apache-2.0"),
    ("mit license", "MIT"),
    ("the mit license", "MIT"),
    ("mit/expat", "MIT"),
    ("expat license", "MIT"),
    ("bsd 3-clause", "BSD-3-Clause"),
    ("bsd 3-clause license", "BSD-3-Clause"),
    ("bsd-3-clause license", "BSD-3-Clause"),
    ("3-clause bsd", "BSD-3-Clause"),
    ("3-clause bsd license", "BSD-3-Clause"),
    ("new bsd", "BSD-3-Clause"),
    ("new bsd license", "BSD-3-Clause"),
    ("modified bsd", "BSD-3-Clause"),
    ("modified bsd license", "BSD-3-Clause"),
    ("revised bsd license", "BSD-3-Clause"),
    ("bsd 2-clause", "BSD-2-Clause"),
    ("bsd 2-clause license", "BSD-2-Clause"),
    ("2-clause bsd", "BSD-2-Clause"),
    ("simplified bsd", "BSD-2-Clause"),
    ("simplified bsd license", "BSD-2-Clause"),
    ("freebsd", "BSD-2-Clause"),
    ("psf", "PSF-2.0"),
    ("psf license", "PSF-2.0"),
    ("psfl", "PSF-2.0"),
    ("python software foundation license", "PSF-2.0"),
    ("mpl 2.0", "MPL-2.0"),
    ("mpl2", "MPL-2.0"),
    ("mozilla public license 2.0", "MPL-2.0"),
    ("mozilla public license 2.0 (mpl 2.0)", "MPL-2.0"),
    ("isc license", "ISC"),
    ("iscl", "ISC"),
    ("gplv2", "GPL-2.0-only"),
    ("gplv2+", "GPL-2.0-or-later"),
    ("gplv3", "GPL-3.0-only"),
    ("gplv3+", "GPL-3.0-or-later"),
    ("lgplv2", "LGPL-2.0-only"),
    ("lgplv2+", "LGPL-2.0-or-later"),
    ("lgplv3", "LGPL-3.0-only"),
    ("lgplv3+", "LGPL-3.0-or-later"),
    ("agplv3", "AGPL-3.0-only"),
    ("agplv3+", "AGPL-3.0-or-later"),
    ("unlicense", "Unlicense"),
    ("the unlicense", "Unlicense"),
    ("zpl 2.1", "ZPL-2.1"),
    ("zope public license", "ZPL-2.1"),
    ("boost software license 1.0", "BSL-1.0"),
];

/// The SPDX expression a `License` field or `License-Expression` that names licenses
/// means, if every name in it is known; `None` otherwise.
pub(crate) fn name_spdx(name: &str) -> Option<String> {
    let name = name.trim();
    let lower = name
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if let Some((_, id)) = NAMES.iter().find(|(n, _)| *n == lower) {
        return Some((*id).to_owned());
    }
    if let Some(id) = license::spdx_id(name) {
        return Some(id);
    }
    if let Some(e) = strict_expression(name) {
        return Some(e.to_string());
    }
    // Names joined by words (`MIT or Apache-2.0`, `GPL-2+ and BSD`), every one known.
    let e = license::expression(name);
    (!e.is_empty() && !e.contains("LicenseRef-")).then_some(e)
}

/// An SPDX expression as written, with SPDX's deprecated ids and a `+` on GPL ids allowed
/// (packages still write `GPL-2.0+`) but no guessing at names SPDX does not list.
fn strict_expression(s: &str) -> Option<Expr> {
    let mode = spdx::ParseMode {
        allow_slash_as_or_operator: false,
        allow_imprecise_license_names: false,
        allow_postfix_plus_on_gpl: true,
        allow_deprecated: true,
        allow_unknown: false,
    };
    spdx::Expression::parse_mode(s, mode).ok()?;
    Expr::parse(s)
}

/// What a classifier maps to: `None` when it names no license, else its SPDX id or a
/// `LicenseRef-` made from its last part.
pub(crate) fn classifier_spdx(c: &str) -> Option<String> {
    match CLASSIFIERS.iter().find(|(k, _)| *k == c) {
        Some((_, id)) => id.map(str::to_owned),
        None => {
            let last = c.rsplit("::").next().unwrap_or(c).trim();
            Some(license::spdx_id(last).unwrap_or_else(|| license::license_ref(last)))
        }
    }
}

/// The declared license of a distribution and every statement read for it, each at `at`.
pub(crate) fn licenses(m: &Metadata, at: &Location) -> Licenses {
    let mut evidence = Vec::new();
    let mut push = |value: String, spdx: String, text: Option<String>| {
        evidence.push(LicenseEvidence {
            value,
            spdx,
            location: at.clone(),
            text,
        })
    };
    let mut declared: Option<String> = None;
    if let Some(e) = &m.license_expression {
        let spdx = strict_expression(e)
            .map(|x| x.to_string())
            .or_else(|| name_spdx(e))
            .unwrap_or_else(|| license::license_ref(e));
        push(e.clone(), spdx.clone(), None);
        declared = Some(spdx);
    }
    // The License field: a name that maps is the declaration (after License-Expression);
    // one that does not is kept as a LicenseRef unless a classifier says more.
    let mut unmapped_name = None;
    if let Some(LicenseField::Name(n)) = &m.license {
        match name_spdx(n) {
            Some(spdx) => {
                push(n.clone(), spdx.clone(), None);
                declared.get_or_insert(spdx);
            }
            None => {
                let r = license::license_ref(n);
                push(n.clone(), r.clone(), None);
                unmapped_name = Some(r);
            }
        }
    }
    let mut from_classifiers = Vec::new();
    for c in &m.license_classifiers {
        if let Some(spdx) = classifier_spdx(c) {
            push(format!("License :: {c}"), spdx.clone(), None);
            from_classifiers.push(spdx);
        }
    }
    if declared.is_none()
        && from_classifiers
            .iter()
            .any(|s| !s.starts_with("LicenseRef-"))
    {
        // Several classifiers: all of them hold (a dual-licensed project lists each
        // choice, but so does one that bundles code under another license; AND is the
        // statement that claims no choice the package did not give).
        declared = license::all_of(&from_classifiers);
    }
    if declared.is_none() {
        if let Some(LicenseField::Text(t)) = &m.license {
            let ids: Vec<String> = license::full_texts(t).into_iter().map(|x| x.id).collect();
            let first = t
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("")
                .trim();
            let value = format!("{first} … (a license text in the License field)");
            if ids.is_empty() {
                push(
                    value,
                    license::license_ref("License-field-text"),
                    Some(t.clone()),
                );
            } else {
                let spdx = license::all_of(&ids);
                if let Some(s) = &spdx {
                    push(value, s.clone(), None);
                }
                declared = spdx;
            }
        }
    }
    if declared.is_none() {
        declared = unmapped_name.or_else(|| license::all_of(&from_classifiers));
    }
    Licenses { declared, evidence }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::python::metadata;

    fn at() -> Location {
        Location {
            path: "/x/METADATA".into(),
            layer: 0,
            lines: None,
        }
    }

    fn declared(path: &str) -> Option<String> {
        let b = std::fs::read(format!(
            "{}/src/python/testdata/{path}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        licenses(&metadata::parse(&b).unwrap(), &at()).declared
    }

    #[test]
    fn real_metadata_licenses() {
        let sp = "site-packages";
        assert_eq!(
            declared(&format!("{sp}/attrs-25.3.0.dist-info/METADATA")).as_deref(),
            Some("MIT")
        );
        assert_eq!(
            declared(&format!("{sp}/requests-2.32.3.dist-info/METADATA")).as_deref(),
            Some("Apache-2.0")
        );
        assert_eq!(
            declared(&format!("{sp}/cryptography-45.0.5.dist-info/METADATA")).as_deref(),
            Some("Apache-2.0 OR BSD-3-Clause")
        );
        assert_eq!(
            declared(&format!("{sp}/certifi-2024.8.30.dist-info/METADATA")).as_deref(),
            Some("MPL-2.0")
        );
        // Two classifiers, one of them the unspecific "BSD License".
        assert_eq!(
            declared(&format!("{sp}/packaging-25.0.dist-info/METADATA")).as_deref(),
            Some("Apache-2.0 AND LicenseRef-BSD-License")
        );
        // The full BSD-3-Clause text in the License field, matched as a text.
        assert_eq!(
            declared(&format!("{sp}/MarkupSafe-3.0.2.dist-info/METADATA")).as_deref(),
            Some("BSD-3-Clause")
        );
        assert_eq!(
            declared("egg/Python-2.7.18-py2.7.egg-info").as_deref(),
            Some("PSF-2.0")
        );
        // "GNU LGPL" names no version: the classifier says which.
        assert_eq!(
            declared("debian/PyGObject-3.42.2.egg-info/PKG-INFO").as_deref(),
            Some("LGPL-2.0-or-later")
        );
        assert_eq!(
            declared("debian/python_debian-0.1.49.egg-info/PKG-INFO").as_deref(),
            Some("GPL-2.0-or-later")
        );
    }

    #[test]
    fn evidence_keeps_every_statement() {
        let b = std::fs::read(format!(
            "{}/src/python/testdata/site-packages/requests-2.32.3.dist-info/METADATA",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let l = licenses(&metadata::parse(&b).unwrap(), &at());
        let ev: Vec<(&str, &str)> = l
            .evidence
            .iter()
            .map(|e| (e.value.as_str(), e.spdx.as_str()))
            .collect();
        assert_eq!(
            ev,
            vec![
                ("Apache-2.0", "Apache-2.0"),
                (
                    "License :: OSI Approved :: Apache Software License",
                    "Apache-2.0"
                )
            ]
        );
    }

    #[test]
    fn names_and_expressions() {
        assert_eq!(name_spdx("Apache 2.0").as_deref(), Some("Apache-2.0"));
        assert_eq!(name_spdx("BSD-3-Clause").as_deref(), Some("BSD-3-Clause"));
        assert_eq!(name_spdx("MIT License").as_deref(), Some("MIT"));
        assert_eq!(name_spdx("mit").as_deref(), Some("MIT"));
        assert_eq!(
            name_spdx("MIT OR Apache-2.0").as_deref(),
            Some("MIT OR Apache-2.0")
        );
        assert_eq!(name_spdx("GPL-2.0+").as_deref(), Some("GPL-2.0-or-later"));
        assert_eq!(name_spdx("BSD"), None);
        assert_eq!(name_spdx("GNU GPL v2"), None);
        assert_eq!(name_spdx("Dual License"), None);
        assert_eq!(
            classifier_spdx("OSI Approved :: BSD License").as_deref(),
            Some("LicenseRef-BSD-License")
        );
        assert_eq!(classifier_spdx("OSI Approved"), None);
        assert_eq!(
            classifier_spdx("Other/Proprietary License").as_deref(),
            Some("LicenseRef-Other-Proprietary-License")
        );
        let m = Metadata {
            license_expression: Some("Apache-2.0 WITH LLVM-exception OR MIT".into()),
            ..Metadata::default()
        };
        assert_eq!(
            licenses(&m, &at()).declared.as_deref(),
            Some("Apache-2.0 WITH LLVM-exception OR MIT")
        );
        let bad = Metadata {
            license_expression: Some("not (an expression".into()),
            ..Metadata::default()
        };
        assert_eq!(
            licenses(&bad, &at()).declared.as_deref(),
            Some("LicenseRef-not-an-expression")
        );
    }
}
