//! Executables: probing any bytes for Go build info and cargo-auditable data must never
//! panic, never read past the file, and never return more than the limits allow. The
//! stated size may exceed the bytes (a file that ends early). Seed with the real programs:
//! `mkdir -p corpus/buildinfo && for f in ../fixtures/buildinfo/*.gz; do gunzip -c "$f"
//! > corpus/buildinfo/$(basename "$f" .gz); done` and run with `-max_len=2000000`.
#![no_main]

use cairn_buildinfo::{probe, Limits, Plain};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_headers: 4096,
        max_modinfo: 4096,
        max_audit_json: 4096,
        max_packages: 32,
    };
    for size in [data.len() as u64, data.len() as u64 + 1000] {
        if let Ok(found) = probe(&mut Plain(data), size, &limits) {
            if let Some(go) = &found.go {
                assert!(go.deps.len() <= limits.max_packages);
            }
            if let Some(r) = &found.rust {
                assert!(r.packages.len() <= limits.max_packages);
            }
        }
    }
});
