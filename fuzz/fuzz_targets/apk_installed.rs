//! Alpine's /lib/apk/db/installed: any bytes parse to packages and problems, never a panic,
//! and the owned paths built (an `F:` directory joined with each `R:` name) stay within the
//! budget they were read under, however the input is shaped to amplify them.
//! Seed with the real databases in fixtures/pkgdb/apk.
#![no_main]

use cairn_catalog::FileBudget;
use libfuzzer_sys::fuzz_target;

/// Small enough for the fuzzer to reach.
const BUDGET: FileBudget = FileBudget {
    files: 64,
    path_bytes: 4096,
};

fuzz_target!(|data: &[u8]| {
    let mut budget = BUDGET;
    let parsed = cairn_catalog::apk_installed::parse_within(data, &mut budget);
    let (mut files, mut bytes) = (0u64, 0u64);
    for p in &parsed.packages {
        assert!(!p.name.is_empty() && !p.version.is_empty());
        files += p.files.len() as u64;
        bytes += p.files.iter().map(|f| f.path.len() as u64).sum::<u64>();
    }
    // Records dropped for a missing name or version were charged too: at most, not exactly.
    assert!(files <= BUDGET.files - budget.files, "{files} files built");
    assert!(bytes <= BUDGET.path_bytes - budget.path_bytes, "{bytes} bytes of paths built");
});
