//! rpm header blobs: parsing and reading every package field must never panic.
//! Seed with blobs from real databases: `cargo run -p cairn-rpmdb --example rpmdb-blobs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(header) = cairn_rpmdb::Header::parse(data) {
        let _ = cairn_rpmdb::RpmPackage::from_header(&header);
    }
});
