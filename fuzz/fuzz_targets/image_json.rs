//! An image's JSON documents: any bytes go to the index, manifest, config and docker-archive
//! manifest.json readers (`cairn_image::fuzzing::parse_*`, the parsers and checks a source
//! runs). Nothing may panic, input over `max_json` is refused before it is parsed, and what
//! is accepted lists no more than `max_layers` layers. Seed: `cargo run -p cairn-image
//! --features fuzzing --example fuzz-seeds -- fuzz/corpus`.
#![no_main]

use cairn_image::{fuzzing, Error};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = fuzzing::small_limits();
    let index = fuzzing::parse_index(data, &limits);
    let manifest = fuzzing::parse_manifest(data, &limits);
    let config = fuzzing::parse_config(data, &limits);
    let docker = fuzzing::parse_docker_manifest(data, &limits);
    if data.len() as u64 > limits.max_json {
        for e in [index.err(), manifest.err(), config.err(), docker.err()] {
            assert!(matches!(e, Some(Error::TooLarge { .. })), "{e:?}");
        }
        return;
    }
    if let Ok(m) = manifest {
        assert!(m.layers.map_or(0, |l| l.len()) <= limits.max_layers);
    }
    if let Ok(entries) = docker {
        assert!(entries[0].layers.len() <= limits.max_layers);
    }
});
