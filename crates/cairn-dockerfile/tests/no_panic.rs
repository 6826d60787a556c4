//! No input makes the crate panic: random bytes, and the fixtures mutated byte by byte,
//! go through parsing, history mapping and locking.

use std::collections::BTreeMap;

use cairn_dockerfile::{
    lock, map_history, normalize_created_by, parse_bytes, parse_instructions, Ecosystem,
    HistoryEntry, Pins,
};
use proptest::prelude::*;

struct Everything;

impl Pins for Everything {
    fn base_digest(&self, _: &str) -> Option<String> {
        Some("sha256:00".into())
    }
    fn version(&self, _: Ecosystem, name: &str) -> Option<String> {
        (name.len() % 2 == 0).then(|| "1.0".into())
    }
}

fn exercise(bytes: &[u8]) {
    let args = BTreeMap::from([("A".to_string(), "x y".to_string())]);
    let text = String::from_utf8_lossy(bytes);
    let _ = parse_instructions(&text);
    let _ = normalize_created_by(&text);
    if let Ok(df) = parse_bytes(text.as_bytes(), &args) {
        let history: Vec<HistoryEntry> = text
            .lines()
            .map(|l| HistoryEntry {
                created_by: Some(l.to_string()),
                ..Default::default()
            })
            .collect();
        let _ = map_history(&df, None, &history);
        let _ = map_history(&df, Some("0"), &history);
        let locked = lock(&text, &df, &Everything).expect("lock accepts the parsed text");
        assert!(locked.text.len() >= text.len());
    }
}

/// Bytes that matter to the grammar, so random input reaches deep states.
const ALPHABET: &[u8] = b"FROM RUN COPY ENV ARG <<EOF\n\\`$:{}-+=\"' []#\t,aAz09/@&|;";

fn fixtures() -> Vec<Vec<u8>> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    out.sort();
    out
}

#[test]
fn mutated_fixtures_do_not_panic() {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    // More rounds locally: CAIRN_DOCKERFILE_MUTATIONS=20000 cargo test --test no_panic
    let rounds = std::env::var("CAIRN_DOCKERFILE_MUTATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    for base in fixtures() {
        for _ in 0..rounds {
            let mut m = base.clone();
            for _ in 0..1 + next() % 8 {
                let at = (next() as usize) % (m.len() + 1);
                let byte = ALPHABET[(next() as usize) % ALPHABET.len()];
                match next() % 3 {
                    0 if at < m.len() => m[at] = byte,
                    1 if at < m.len() => {
                        m.remove(at);
                    }
                    _ => m.insert(at, byte),
                }
            }
            exercise(&m);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_do_not_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        exercise(&bytes);
    }

    #[test]
    fn random_grammar_soup_does_not_panic(
        picks in proptest::collection::vec(0..ALPHABET.len(), 0..400)
    ) {
        let bytes: Vec<u8> = picks.into_iter().map(|i| ALPHABET[i]).collect();
        exercise(&bytes);
    }
}

/// Regressions: a multi-byte character whose UTF-8 bytes include 0x85 or 0xA0 (which
/// read as NEL and NBSP byte by byte) inside a builder flag, and a history entry whose
/// build-arg count follows non-ASCII whitespace.
#[test]
fn multi_byte_characters_in_flags_and_history_do_not_panic() {
    for text in [
        "FROM scratch\nRUN --mount=type=cache,id=入 true\n",
        "FROM scratch\nRUN --mount=type=cache,id=全公⅓\u{800} true\n",
        "FROM scratch\nCOPY --chown=入 a b\n",
    ] {
        exercise(text.as_bytes());
    }
    let df = cairn_dockerfile::parse("FROM scratch\nRUN true\n").unwrap();
    let history = [cairn_dockerfile::HistoryEntry {
        created_by: Some("|\u{a0}1 x".into()),
        empty_layer: false,
        comment: None,
        created: None,
    }];
    let _ = cairn_dockerfile::map_history(&df, None, &history);
}
