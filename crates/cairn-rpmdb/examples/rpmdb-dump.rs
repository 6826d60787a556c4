//! Prints the packages of an rpm database file: `cargo run --example rpmdb-dump -- FILE [NAME]`.
//! With NAME, also prints that package's files and relationships.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: rpmdb-dump FILE [NAME]")?;
    let detail = args.next();
    let bytes = std::fs::read(&path)?;
    let db = cairn_rpmdb::read_database(&bytes)?;
    println!("{path}: {:?}, {} packages", db.format, db.packages.len());
    for p in &db.packages {
        let epoch = p.epoch.map(|e| format!("{e}:")).unwrap_or_default();
        let arch = p.arch.as_deref().unwrap_or("(none)");
        println!("{}-{epoch}{}-{}.{arch}", p.name, p.version, p.release);
        if detail.as_deref() == Some(p.name.as_str()) {
            println!("  {p:#?}");
        }
    }
    for problem in &db.problems {
        eprintln!("warning: {problem}");
    }
    Ok(())
}
