//! modelseal: a verifiable supply chain for ML models.
//!
//! The library is what the `modelseal` binary is made of, and what a model server calls before it
//! loads a model. Where to start:
//!
//! - [`flows`]: the workflows, each a typed request and report — [`flows::publish()`],
//!   [`flows::seal()`], [`flows::register()`], [`flows::verify_artifact()`], [`flows::pull_verified()`]
//!   and [`flows::verify_model()`] (verify before load).
//! - [`core`]: synchronous, no network — model manifests ([`hash_model`]), COSE signed
//!   statements, receipts, x509 / did:x509, Sigstore bundles, cosign payloads, the trust policy.
//! - [`oci`]: registries and OCI image layouts as targets; push, attach, discover, pull, copy,
//!   backup; ModelPack.
//! - [`transparency`]: the SCRAPI client, and (features `log`, `server`) the embedded log and its
//!   HTTP service.
//! - [`compat`]: formats of other systems teams run today (HMAC-signed model folders).
//! - [`net`]: what every HTTP client shares (timeouts, bounded reads, redaction).
//!
//! `docs/architecture.md` says what each part may import, and the features.
#![deny(missing_docs)]

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
