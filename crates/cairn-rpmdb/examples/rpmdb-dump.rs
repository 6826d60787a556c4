//! Prints the packages of an rpm database file: `cargo run --example rpmdb-dump -- FILE [NAME]`.
//! With NAME, also prints that package's files and relationships.

use std::io::Write;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: rpmdb-dump FILE [NAME]")?;
    let detail = args.next();
    let bytes = std::fs::read(&path)?;
    let db = cairn_rpmdb::read_database(&bytes)?;
    // Write through a handle so that a closed pipe (`| head`) ends the listing quietly.
    let mut out = std::io::stdout().lock();
    let mut listing = || -> std::io::Result<()> {
        writeln!(
            out,
            "{path}: {:?}, {} packages",
            db.format,
            db.packages.len()
        )?;
        for p in &db.packages {
            let epoch = p.epoch.map(|e| format!("{e}:")).unwrap_or_default();
            let arch = p.arch.as_deref().unwrap_or("(none)");
            writeln!(out, "{}-{epoch}{}-{}.{arch}", p.name, p.version, p.release)?;
            if detail.as_deref() == Some(p.name.as_str()) {
                writeln!(out, "  {p:#?}")?;
            }
        }
        Ok(())
    };
    if let Err(e) = listing() {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(e.into());
        }
    }
    for problem in &db.problems {
        eprintln!("warning: {problem}");
    }
    Ok(())
}
