//! Transparency: an embedded SCITT log (durable, append-only, RFC 9162 receipts) that works
//! in-process (`--ts local:DIR`). The SCRAPI server and client over HTTP build on the same log.
#![deny(missing_docs)]

pub mod client;
pub mod log;
pub mod registration;
pub mod server;

pub use log::{LogError, TransparencyLog};
