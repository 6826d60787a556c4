//! `cairn tuf`: the TUF client (trust, refresh, fetch) in [`client`].

// pub(crate): other commands that fetch through TUF flatten `client::ClientTls`
// (the `--ca-file` and `--allow-http` flags) into their own arguments.
pub(crate) mod client;

pub use client::{run, TufArgs};
