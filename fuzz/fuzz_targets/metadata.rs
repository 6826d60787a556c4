//! Metadata parsing and verification on arbitrary bytes: strict JSON,
//! schema, canonicalization, signature checks and the trust state machine.
//! Run: `cargo +nightly fuzz run metadata` (or `RUSTC_BOOTSTRAP=1 cargo fuzz run metadata`).
#![no_main]

use cairn_tuf::metadata::{Envelope, Root, Snapshot, Targets, Timestamp};
use cairn_tuf::TrustedSet;
use libfuzzer_sys::fuzz_target;

/// A real root (python-tuf fixture) to verify fuzzed successors against.
const ROOT: &[u8] = include_bytes!("../../crates/cairn-tuf/tests/data/python-tuf/metadata/1.root.json");
/// 2030-01-01: the fixture is valid then.
const NOW: i64 = 1_893_456_000;

fuzz_target!(|data: &[u8]| {
    let _ = Envelope::<Root>::from_bytes("root", data);
    let _ = Envelope::<Timestamp>::from_bytes("timestamp", data);
    let _ = Envelope::<Snapshot>::from_bytes("snapshot", data);
    let _ = Envelope::<Targets>::from_bytes("targets", data);
    let _ = TrustedSet::new(data, NOW);

    let mut set = TrustedSet::new(ROOT, NOW).expect("fixture root verifies");
    let _ = set.update_root(data);
    let mut set = TrustedSet::new(ROOT, NOW).expect("fixture root verifies");
    let _ = set.update_timestamp(data);
});
