//! Properties of the reference grammar on generated input: parsing any string never
//! panics, and what parses prints back to a reference that parses to itself.

use cairn_registry::Reference;
use proptest::prelude::*;

/// Strings built from the pieces references are made of, so that many of them parse.
fn reference_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[a-z0-9]{1,8}",
        Just("/".to_string()),
        Just(":".to_string()),
        Just("@".to_string()),
        Just(".".to_string()),
        Just("-".to_string()),
        Just("__".to_string()),
        Just("localhost".to_string()),
        Just("[::1]".to_string()),
        Just("docker.io".to_string()),
        Just("5000".to_string()),
        Just(format!("sha256:{}", "ab".repeat(32))),
        "[A-Z_.\\-]{1,3}",
    ];
    proptest::collection::vec(piece, 1..10).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn any_string_parses_or_is_refused_without_panicking(s in "\\PC{0,300}") {
        let _ = Reference::parse(&s);
    }

    #[test]
    fn a_parsed_reference_prints_back_to_itself(s in reference_like()) {
        if let Ok(r) = Reference::parse(&s) {
            let printed = r.to_string();
            let again = Reference::parse(&printed)
                .unwrap_or_else(|e| panic!("{s:?} printed as {printed:?}, which fails: {e}"));
            prop_assert_eq!(&again, &r, "{:?} -> {:?}", s, printed);
            prop_assert!(!r.repository.is_empty());
            prop_assert!(r.tag.is_some() || r.digest.is_some());
        }
    }
}
