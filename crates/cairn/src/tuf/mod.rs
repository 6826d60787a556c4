//! `cairn tuf`: the TUF client (trust, refresh, fetch) in [`client`], the
//! repository tool (init, add, remove, delegate, rotate, bump, sign, status)
//! in [`repo`], and a small static server in [`serve`].

pub(crate) mod client;
pub mod repo;
mod serve;

pub use client::{run, TufArgs};
