//! Version ordering against the ecosystems' own tools: every line of
//! tests/data/versions/*.tsv (made by fixtures/versions/generate.sh from dpkg, rpm, apk-tools,
//! Python's packaging, node's semver and Maven's ComparableVersion) must come out the same,
//! both ways round, and so must the versions' sort keys.

use cairn_catalog::{compare_versions, version_sort_key};
use std::cmp::Ordering;
use std::path::Path;

fn data(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/versions")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Checks every pair of `file` under each purl type in `types`; returns how many it checked.
fn check(file: &str, types: &[&str]) -> usize {
    check_except(file, types, &[])
}

/// As `check`, but the sort keys of the pairs in `key_exceptions` (where the ecosystem's
/// order is not transitive) may disagree.
fn check_except(file: &str, types: &[&str], key_exceptions: &[(&str, &str)]) -> usize {
    let text = data(file);
    let mut failures = Vec::new();
    let mut n = 0;
    for (i, line) in text.lines().enumerate() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 3, "{file}:{}: not A<TAB>B<TAB>result", i + 1);
        let want = match f[2] {
            "-1" => Ordering::Less,
            "0" => Ordering::Equal,
            "1" => Ordering::Greater,
            r => panic!("{file}:{}: result {r:?}", i + 1),
        };
        for ty in types {
            let got = compare_versions(ty, f[0], f[1]);
            let back = compare_versions(ty, f[1], f[0]);
            if got != Some(want) || back != Some(want.reverse()) {
                failures.push(format!(
                    "{file}:{} {ty}: {:?} vs {:?}: want {want:?}, got {got:?} (reversed {back:?})",
                    i + 1,
                    f[0],
                    f[1]
                ));
            }
            let (ka, kb) = (version_sort_key(ty, f[0]), version_sort_key(ty, f[1]));
            match (ka, kb) {
                (Some(ka), Some(kb)) if ka.cmp(&kb) == want => {}
                (Some(_), Some(_)) if key_exceptions.contains(&(f[0], f[1])) => {}
                (ka, kb) => failures.push(format!(
                    "{file}:{} {ty}: sort keys of {:?} and {:?}: want {want:?}, got {ka:?} {kb:?}",
                    i + 1,
                    f[0],
                    f[1]
                )),
            }
            // Every version equals itself.
            for v in &f[..2] {
                if compare_versions(ty, v, v) != Some(Ordering::Equal) {
                    failures.push(format!("{file}:{} {ty}: {v:?} != itself", i + 1));
                }
            }
            n += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(n >= 40, "{file}: only {n} pairs");
    n
}

/// Every version the real tool refuses is refused here too.
fn check_invalid(file: &str, types: &[&str], valid: &str) {
    let text = data(file);
    let mut failures = Vec::new();
    for v in text.lines().filter(|l| !l.starts_with('#')) {
        for ty in types {
            assert!(compare_versions(ty, valid, valid).is_some());
            if compare_versions(ty, v, valid).is_some() || compare_versions(ty, valid, v).is_some()
            {
                failures.push(format!("{file} {ty}: {v:?} was accepted"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn deb_matches_dpkg() {
    check("deb.tsv", &["deb"]);
}

#[test]
fn rpm_matches_rpm_label_compare() {
    check("rpm.tsv", &["rpm"]);
}

#[test]
fn apk_matches_apk_tools() {
    check("apk.tsv", &["apk"]);
}

#[test]
fn pypi_matches_packaging() {
    check("pypi.tsv", &["pypi"]);
    check_invalid("pypi-invalid.txt", &["pypi"], "1.0");
}

#[test]
fn npm_and_cargo_match_node_semver() {
    check("semver.tsv", &["npm", "cargo"]);
    check_invalid("semver-invalid.txt", &["npm", "cargo"], "1.0.0");
}

#[test]
fn maven_matches_comparable_version() {
    // [1, [[alpha]]] against [1, [sp, [2]]]: see maven_is_not_transitive.
    check_except("maven.tsv", &["maven"], &[("1-0.alpha", "1.0.0.sp2")]);
}

#[test]
fn golang_matches_node_semver_under_go_rules() {
    check("golang.tsv", &["golang"]);
    check_invalid("golang-invalid.txt", &["golang"], "v1.0.0");
}

/// The files whose ecosystem's order is a total order (Maven's is not), and the purl type.
const TOTAL_ORDERS: [(&str, &str); 6] = [
    ("deb.tsv", "deb"),
    ("rpm.tsv", "rpm"),
    ("apk.tsv", "apk"),
    ("pypi.tsv", "pypi"),
    ("semver.tsv", "npm"),
    ("golang.tsv", "golang"),
];

/// Every version a ground-truth file names, once each.
fn versions_in(text: &str) -> Vec<&str> {
    let mut vs: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .flat_map(|l| l.split('\t').take(2))
        .collect();
    vs.sort_unstable();
    vs.dedup();
    vs
}

/// Orders are transitive over everything in the files: sorting every version seen with the
/// comparison and checking each adjacent pair and the ends catches a cycle.
#[test]
fn orders_are_consistent_over_all_versions() {
    for (file, ty) in TOTAL_ORDERS {
        let text = data(file);
        let mut vs = versions_in(&text);
        vs.sort_by(|a, b| compare_versions(ty, a, b).unwrap());
        for (i, a) in vs.iter().enumerate() {
            for b in &vs[i..] {
                let r = compare_versions(ty, a, b).unwrap();
                assert_ne!(r, Ordering::Greater, "{ty}: {a:?} sorted before {b:?}");
            }
        }
    }
}

/// The sort keys order every pair of versions in the files as the comparison does (Maven
/// aside: its order is not transitive, see `maven_is_not_transitive`).
#[test]
fn sort_keys_agree_with_the_comparison_on_all_pairs() {
    for (file, ty) in TOTAL_ORDERS {
        let text = data(file);
        let vs = versions_in(&text);
        let keys: Vec<Vec<u8>> = vs
            .iter()
            .map(|v| version_sort_key(ty, v).unwrap())
            .collect();
        let mut bad = Vec::new();
        for (i, a) in vs.iter().enumerate() {
            for (j, b) in vs.iter().enumerate() {
                if compare_versions(ty, a, b) != Some(keys[i].cmp(&keys[j])) {
                    bad.push(format!("{ty}: {a:?} vs {b:?}"));
                }
            }
        }
        assert!(
            bad.is_empty(),
            "{} pairs, e.g. {:?}",
            bad.len(),
            &bad[..bad.len().min(10)]
        );
    }
}

/// Maven's order is not a total order: a list is newer than a word, but against "nothing"
/// each is compared by what it starts with, so `1.sp.1` ([1, sp, 1]) < `1-0.alpha`
/// ([1, [[alpha]]]) < `1` < `1.sp.1` (ComparableVersion itself says so: maven-artifact
/// 3.8.7). No sort key can agree with all three; it follows the list's first item.
#[test]
fn maven_is_not_transitive() {
    use Ordering::*;
    assert_eq!(compare_versions("maven", "1.sp.1", "1-0.alpha"), Some(Less));
    assert_eq!(compare_versions("maven", "1-0.alpha", "1"), Some(Less));
    assert_eq!(compare_versions("maven", "1", "1.sp.1"), Some(Less));
    let k = |v| version_sort_key("maven", v).unwrap();
    assert!(k("1-0.alpha") < k("1") && k("1") < k("1.sp.1"));
}

#[test]
fn hostile_inputs_are_bounded() {
    let long = "1.".repeat(128); // 256 bytes: compared
    let longer = format!("{long}1"); // 257: refused
    for ty in [
        "deb", "rpm", "apk", "pypi", "npm", "cargo", "golang", "maven",
    ] {
        assert_eq!(compare_versions(ty, &longer, "1"), None, "{ty}");
        assert_eq!(version_sort_key(ty, &longer), None, "{ty}");
        let _ = version_sort_key(ty, &long);
        let _ = compare_versions(ty, &long, &long);
        for junk in [
            "", "~", "^", "-", ":", "\u{2028}", "é.é", "1:", "-r", "_p", "+",
        ] {
            let _ = compare_versions(ty, junk, "1.0");
            let _ = compare_versions(ty, junk, junk);
            let _ = version_sort_key(ty, junk);
        }
    }
}
