//! Writes each header blob of an rpm database to DIR/record-N, e.g. to seed the
//! `rpm_header` fuzz target: `cargo run --example rpmdb-blobs -- FILE DIR`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(file), Some(dir)) = (args.next(), args.next()) else {
        return Err("usage: rpmdb-blobs FILE DIR".into());
    };
    let bytes = std::fs::read(&file)?;
    let (_, records, problems) = cairn_rpmdb::read_records(&bytes)?;
    std::fs::create_dir_all(&dir)?;
    for r in &records {
        std::fs::write(format!("{dir}/record-{}", r.record), &r.blob)?;
    }
    for p in problems {
        eprintln!("warning: {file}: {p}");
    }
    println!("{} blobs written to {dir}", records.len());
    Ok(())
}
