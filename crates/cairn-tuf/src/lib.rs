//! The Update Framework (TUF specification 1.0.x) for cairn.
//!
//! The crate is split the way python-tuf's ngclient is, so that it can be read
//! side by side with the specification's "detailed client workflow" (§5):
//!
//! - [`canonical`]: strict JSON parsing (duplicate keys and deep nesting refused)
//!   and the OLPC canonical form that signatures cover;
//! - [`metadata`]: the typed schema of root, timestamp, snapshot, targets and
//!   delegations; unknown fields are kept because they are signed bytes;
//! - [`keys`]: key ids and signature verification (ed25519, ECDSA P-256/P-384,
//!   RSA-PSS), plus [`sign`] for ed25519 signing;
//! - [`trusted`]: the pure trust state machine (no I/O, no clock);
//! - [`updater`]: the I/O around it: fetching through a [`fetcher::Fetcher`],
//!   the local metadata cache, delegation search and target downloads;
//! - [`config`]: every limit in one place.
#![forbid(unsafe_code)]

pub mod canonical;
pub mod config;
pub mod error;
pub mod fetcher;
pub mod keyfile;
pub mod keys;
pub mod metadata;
pub mod repo;
pub mod sign;
pub mod time;
pub mod trusted;
pub mod updater;

pub use config::Config;
pub use error::{Error, Result};
pub use trusted::TrustedSet;
pub use updater::Updater;
