//! Berkeley DB hash pages: metadata, hash items, overflow chains (cycles, bounds), and the
//! headers they yield. Seed with the `Packages` fixtures.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(scan) = cairn_rpmdb::bdb::read(data) {
        for record in scan.records {
            let _ = cairn_rpmdb::parse_package(&record.blob);
        }
    }
});
