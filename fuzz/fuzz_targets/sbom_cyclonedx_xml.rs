//! The CycloneDX XML SBOM reader: any bytes are read into the model or refused with an
//! error, never a panic; what it reads renders in every output format and reads back.
//! Seed with cairn's documents of the fixture images and fixtures/peers/.
#![no_main]

use cairn_sbom::{read, read_as, render, Detected, Format};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(r) = read_as(data, Detected::CycloneDxXml) else {
        return;
    };
    for (_, f) in Format::ALL {
        let out = render(&r.sbom, f);
        if f != Format::Table {
            read(out.as_bytes()).expect("what cairn writes, cairn reads");
        }
    }
});
