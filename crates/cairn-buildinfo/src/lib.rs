#![doc = include_str!("../README.md")]
//!
//! ```no_run
//! let f = std::fs::File::open("/usr/local/bin/app")?;
//! let size = f.metadata()?.len();
//! let found = cairn_buildinfo::probe(&mut cairn_buildinfo::Plain(f), size, &Default::default())?;
//! if let Some(go) = found.go {
//!     println!("{} built with {}", go.path, go.go_version);
//!     for m in go.deps {
//!         println!("  {} {}", m.path, m.version);
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

mod error;
mod exe;
pub mod go;
mod input;
pub mod rust;

pub use error::Error;
pub use exe::{is_executable, Format};
pub use go::{GoBuildInfo, Module};
pub use input::{Input, Plain};
pub use rust::{AuditData, AuditPackage};

/// Bounds on what a file can make the reader do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most header bytes read: program headers, section tables, load commands.
    pub max_headers: u64,
    /// Largest Go module info string (the dependency list).
    pub max_modinfo: u64,
    /// Largest decompressed cargo-auditable JSON.
    pub max_audit_json: u64,
    /// Most packages in a cargo-auditable list, and most dependencies in Go build info.
    pub max_packages: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_headers: 4 << 20,
            max_modinfo: 8 << 20,
            max_audit_json: 16 << 20,
            max_packages: 100_000,
        }
    }
}

/// What an executable says about its build.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Found {
    pub format: Option<Format>,
    pub go: Option<GoBuildInfo>,
    pub rust: Option<AuditData>,
}

/// Read an executable of `size` bytes, forward only, for its build information. A file
/// that is no executable, or has none, gives an empty [`Found`]; a damaged one an error.
pub fn probe(r: &mut dyn Input, size: u64, limits: &Limits) -> Result<Found, Error> {
    let mut r = input::Fwd::new(r, size);
    // Headers this reader cannot make sense of say nothing about a build: such a file is
    // not reported (only a damaged blob, once found, is an error).
    let layout = match exe::layout(&mut r, limits) {
        Ok(Some(l)) => l,
        Ok(None) => return Ok(Found::default()),
        Err(Error::Io(e)) => return Err(Error::Io(e)),
        Err(_) => return Ok(Found::default()),
    };
    let mut found = Found {
        format: Some(layout.format),
        ..Found::default()
    };
    let mut regions = layout.regions;
    regions.sort_by_key(|g| g.start);
    for g in regions {
        let wanted = match g.target {
            exe::Target::Go { .. } => found.go.is_none(),
            exe::Target::Rust { .. } => found.rust.is_none(),
        };
        if !wanted || g.end() <= r.position() {
            continue;
        }
        match g.target {
            exe::Target::Go { exact } => found.go = go::find(&mut r, &g, exact, limits)?,
            exe::Target::Rust { exact } => found.rust = rust::find(&mut r, &g, exact, limits)?,
        }
        if found.go.is_some() && (found.rust.is_some() || layout.go_note) {
            break;
        }
    }
    Ok(found)
}
