//! Alpine's /lib/apk/db/installed: any bytes parse to packages and problems, never a panic.
//! Seed with the real databases in fixtures/pkgdb/apk.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parsed = cairn_catalog::apk_installed::parse(data);
    for p in &parsed.packages {
        assert!(!p.name.is_empty() && !p.version.is_empty());
    }
});
