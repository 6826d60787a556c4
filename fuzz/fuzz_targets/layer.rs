//! The layer reader: up to four layers (cut at `LAYER_SEPARATOR`), each tar, gzip or zstd,
//! through the digest tap, decompressor, bomb guard and tar reader (GNU and PAX headers,
//! sparse files, whiteouts, opaque directories, hard and symbolic links), applied in order
//! to a view that keeps every file's contents, under `small_limits()`. Nothing may panic,
//! and a view that comes out must hold no more than the limits allow and resolve every
//! path (`assert_within_limits`). Tar header checksums are fixed before decoding, so
//! mutations reach past them. Seed: `cargo run -p cairn-image --features fuzzing
//! --example fuzz-seeds -- fuzz/corpus`.
#![no_main]

use cairn_image::fuzzing;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = fuzzing::small_limits();
    let layers: Vec<Vec<u8>> = fuzzing::split_layers(data)
        .into_iter()
        .map(|layer| {
            let mut layer = layer.to_vec();
            fuzzing::fix_tar_checksums(&mut layer);
            layer
        })
        .collect();
    let layers: Vec<&[u8]> = layers.iter().map(Vec::as_slice).collect();
    if let Ok(view) = fuzzing::scan_layers(&layers, &fuzzing::keep_everything(&limits)) {
        assert!(view.layer_count() == layers.len());
        fuzzing::assert_within_limits(&view, &limits);
    }
});
