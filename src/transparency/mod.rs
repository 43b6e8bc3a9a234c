//! Transparency: an embedded SCITT log (durable, append-only, RFC 9162 receipts) that works
//! in-process (`--ts local:DIR`). The SCRAPI server and client over HTTP build on the same log.
//!
//! The SCRAPI client and the registration policy are always built; the log needs the `log`
//! feature (redb), the server the `server` feature (axum, hyper).
#![deny(missing_docs)]

pub mod client;
#[cfg(feature = "log")]
pub mod log;
pub mod registration;
#[cfg(feature = "server")]
pub mod server;

#[cfg(feature = "log")]
pub use log::{LogError, TransparencyLog};
