//! The outer archive readers: the input (tar header checksums fixed) is written to a file
//! and opened as a source would be (`open_with`, which tells a docker-archive, a legacy
//! docker-archive and an OCI archive apart, and decompresses a gzip or zstd one to a
//! temporary copy), then scanned keeping every file's contents, under `small_limits()`.
//! Nothing may panic; an opened image has at most `max_layers` layers; a view that comes
//! out must hold no more than the limits allow (`assert_within_limits`); and nothing is
//! left on disk: the run's temporary directory (TMPDIR for the whole process) must be
//! empty when the image is dropped. Seed: `cargo run -p cairn-image --features fuzzing
//! --example fuzz-seeds -- fuzz/corpus`.
#![no_main]

use cairn_image::{fuzzing, open_with, FsView, OpenOptions, SourceSpec};
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;

/// This process's temporary directory: made at the start of each run, removed at its end.
static TMP: OnceLock<PathBuf> = OnceLock::new();

fuzz_target!(
    init: {
        let tmp = std::env::temp_dir().join(format!("cairn-fuzz-{}", std::process::id()));
        // Before any thread runs: where a compressed archive's temporary copy goes.
        std::env::set_var("TMPDIR", &tmp);
        TMP.set(tmp).expect("init runs once");
    },
    |data: &[u8]| {
        let limits = fuzzing::small_limits();
        let tmp = TMP.get().expect("set by init");
        std::fs::create_dir(tmp).expect("the last run removed it");
        let path = tmp.join("image");
        let mut data = data.to_vec();
        fuzzing::fix_tar_checksums(&mut data);
        std::fs::write(&path, &data).expect("write the input");
        let spec = SourceSpec { kind: None, location: path.display().to_string() };
        let options = OpenOptions { limits: limits.clone(), ..Default::default() };
        if let Ok(image) = open_with(&spec, &options) {
            assert!(image.layers.len() <= limits.max_layers, "{} layers", image.layers.len());
            if let Ok(view) = FsView::scan(&image, &fuzzing::keep_everything(&limits)) {
                fuzzing::assert_within_limits(&view, &limits);
            }
        }
        std::fs::remove_file(&path).expect("remove the input");
        std::fs::remove_dir(tmp).expect("every temporary copy was removed with its image");
    }
);
