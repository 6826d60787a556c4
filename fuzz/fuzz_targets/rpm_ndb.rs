//! NDB slot pages and blobs (bounds, checksums), and the headers they yield. Seed with the
//! `Packages.db` fixture.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(scan) = cairn_rpmdb::ndb::read(data) {
        for record in scan.records {
            let _ = cairn_rpmdb::parse_package(&record.blob);
        }
    }
});
