//! A small blocking client for the OCI Distribution API (container
//! registries), with no cairn types in its interface.
//!
//! - [`Reference`] parses image references the way docker and skopeo users
//!   write them (`nginx`, `ghcr.io/org/app@sha256:…`, `localhost:5000/a:b`);
//! - [`Client`] fetches a manifest by tag or digest ([`Client::manifest`]),
//!   small blobs whole ([`Client::blob_bytes`]) and large ones as resumable
//!   streams ([`Client::blob`]);
//! - authentication follows the registry's `WWW-Authenticate` challenge
//!   (Bearer token flow, OAuth2 refresh tokens, Basic), with credentials
//!   from [`Options::credentials`] or the docker `config.json` and its
//!   credential helpers;
//! - [`digest`] checks and computes `sha256:`/`sha512:` digests.
//!
//! Every size read from the network is bounded, and errors say what the
//! user can do (log in, pass `--insecure`, wait for a rate limit).
//!
//! ```no_run
//! use cairn_registry::{Client, Options, Reference};
//! let reference = Reference::parse("alpine:3.20")?;
//! let client = Client::new(&reference, &Options::default())?;
//! let manifest = client.manifest(reference.manifest_ref(), 4 << 20)?;
//! println!("{:?} {} bytes", manifest.media_type, manifest.bytes.len());
//! # Ok::<(), cairn_registry::Error>(())
//! ```
#![forbid(unsafe_code)]

mod challenge;
mod client;
mod credentials;
pub mod digest;
mod error;
mod list;
mod push;
mod reference;
mod resume;

pub use client::{BlobReader, Client, Manifest, Options, Requests, MANIFEST_MEDIA_TYPES};
pub use credentials::Credentials;
pub use error::{Error, Result};
pub use list::MAX_LIST_PAGE;
pub use push::{
    fallback_tag, referrers_index, Descriptor, Pushed, Referrers, ReferrersVia, INDEX_MEDIA_TYPE,
    MANIFEST_MEDIA_TYPE, MAX_REFERRERS, MAX_REFERRERS_BYTES,
};
pub use reference::{Reference, DOCKER_HUB, DOCKER_HUB_API};
