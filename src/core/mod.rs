//! The synchronous, network-free heart of modelseal. Everything else (OCI, transparency services,
//! the CLI) calls into here.
#![deny(missing_docs)]

pub mod atomic_file;
pub mod clock;
pub mod cose;
pub mod cosign;
pub mod crypto;
pub mod input;
pub mod manifest;
pub mod policy;
pub mod receipt;
pub mod signed_statement;
pub mod sigstore;
pub mod verdict;
pub mod verify;
pub mod x509;
