//! modelseal: a verifiable supply chain for ML models.
//!
//! The library is what the `modelseal` binary is made of, and what a model server calls before it
//! loads a model. `core` is synchronous and never touches the network: hashing, statements,
//! (later) COSE, receipts and trust policy.

pub mod compat;
pub mod core;
pub mod flows;
pub mod net;
pub mod oci;
pub mod transparency;
pub mod verify;

pub use crate::core::manifest::{
    CheckReport, HashAlgorithm, HashConfig, ManifestError, ModelManifest, Serialization,
    SymlinkPolicy, hash_model,
};
