//! `cairn tuf`: the TUF client (trust, refresh, fetch) in [`client`].

mod client;

pub use client::{run, TufArgs};
