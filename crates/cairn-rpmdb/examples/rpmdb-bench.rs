//! Times `read_database` (file bytes already in memory → packages with file lists) on each
//! database given: `cargo run --release --example rpmdb-bench -- FILE...`. Used by
//! `bench/rpmdb.sh`; prints the fastest and median of the runs, which is what a scan pays.

use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(30);
    for path in std::env::args().skip(1) {
        let bytes = std::fs::read(&path)?;
        let mut times: Vec<Duration> = Vec::with_capacity(runs);
        let mut packages = 0;
        let mut files = 0;
        for _ in 0..runs {
            let start = Instant::now();
            let db = cairn_rpmdb::read_database(&bytes)?;
            times.push(start.elapsed());
            packages = db.packages.len();
            files = db.packages.iter().map(|p| p.files.len()).sum();
        }
        times.sort();
        println!(
            "{path}: {} bytes, {packages} packages, {files} files: min {:.2} ms, median {:.2} ms ({runs} runs)",
            bytes.len(),
            times[0].as_secs_f64() * 1e3,
            times[runs / 2].as_secs_f64() * 1e3,
        );
    }
    Ok(())
}
