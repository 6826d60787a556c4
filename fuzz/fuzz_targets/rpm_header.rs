//! rpm header blobs: parsing and reading every package field must never panic, and the file
//! paths built from dirnames × basenames stay within the budget they were read under.
//! Seed with blobs from real databases: `cargo run -p cairn-rpmdb --example rpmdb-blobs`.
#![no_main]

use cairn_rpmdb::FileBudget;
use libfuzzer_sys::fuzz_target;

/// Small enough for the fuzzer to reach.
const BUDGET: FileBudget = FileBudget {
    files: 64,
    path_bytes: 4096,
};

fuzz_target!(|data: &[u8]| {
    if let Ok(header) = cairn_rpmdb::Header::parse(data) {
        let mut budget = BUDGET;
        if let Ok(p) = cairn_rpmdb::RpmPackage::from_header_within(&header, &mut budget) {
            let bytes: u64 = p.files.iter().map(|f| f.path.len() as u64).sum();
            assert!(p.files.len() as u64 <= BUDGET.files);
            assert!(bytes <= BUDGET.path_bytes, "{bytes} bytes of paths built");
            assert_eq!(budget.path_bytes, BUDGET.path_bytes - bytes);
        }
    }
});
