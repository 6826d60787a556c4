//! dpkg's status file (deb822 paragraphs): any text parses to paragraphs and malformed
//! ranges, never a panic. Seed with fixtures/images/demo's var/lib/dpkg/status.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = cairn_catalog::deb822::parse(&text);
});
