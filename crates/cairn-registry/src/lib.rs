//! A small blocking client for the OCI Distribution API (container
//! registries), with no cairn types in its interface.
//!
//! - [`Reference`] parses image references the way docker and skopeo users
//!   write them (`nginx`, `ghcr.io/org/app@sha256:…`, `localhost:5000/a:b`);
//! - [`digest`] checks and computes `sha256:`/`sha512:` digests.
#![forbid(unsafe_code)]

pub mod digest;
mod error;
mod reference;

pub use error::{Error, Result};
pub use reference::{Reference, DOCKER_HUB, DOCKER_HUB_API};
