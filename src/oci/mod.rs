//! OCI artifacts the ORAS way: push a model manifest as an artifact, attach statements to it as
//! referrers, discover the referrer tree, pull — against a registry or an OCI image layout.

#![deny(missing_docs)]

pub mod archive;
pub mod backup;
mod blob_writer;
pub mod challenge;
pub mod cosign;
pub mod documents;
pub mod error;
pub mod layout;
pub mod login;
pub mod manifest;
pub mod media;
pub mod modelpack;
pub mod open;
pub mod ops;
pub mod reference;
pub mod registry;
pub mod sigstore_bundle;
pub mod stage;
pub mod target;
mod writeback;

pub use error::OciError;
pub use target::{ReadTarget, Target};
