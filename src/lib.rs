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
//! The crate root re-exports what most callers need (verify before load, pull verified,
//! publish, register, verify a statement, the policy and keys, targets); the modules hold the
//! details. `docs/architecture.md` says what each part may import, and the features.
#![deny(missing_docs)]

pub mod compat;
pub mod core;
pub mod flows;
pub mod net;
pub mod oci;
pub mod transparency;
pub mod verify;

// The facade: what a model server, a release job or a binding reaches for, at the crate root.
// Each item is also where it lives; the modules stay public for the CLI and for callers that
// need a part's details.

/// Model manifests: hash a model (`model-signing`'s statement) and check one on disk.
pub use crate::core::manifest::{
    CheckReport, HashAlgorithm, HashConfig, ManifestError, ModelManifest, Serialization,
    SymlinkPolicy, hash_model,
};

/// Verify before load: the model on disk against the verified manifest in a registry or layout.
pub use crate::flows::{ModelCheck, ModelVerdict, verify_model, verify_model_async};

/// Pull only what verifies; check an artifact's statements against the policy.
pub use crate::flows::{
    Artifact, PullVerifiedRequest, TreeVerdict, VerifiedPull, pull_verified, verify_artifact,
};

/// Publish (hash, sign, push, register, attach), register with a transparency service, seal a
/// ModelPack artifact in place.
pub use crate::flows::{
    Attached, PublishReport, PublishRequest, RegisterReport, RegisterRequest, SealReport,
    SealRequest, Service, publish, register, seal,
};

/// What the workflows share: their error, and progress reporting.
pub use crate::flows::{FlowError, Progress, Silent};

/// A statement on its own: verify a COSE_Sign1 (signature, receipts, claims) offline.
pub use crate::core::verify::{Report, VerifyError, VerifyRequest, verify};

/// The trust policy, and keys.
pub use crate::core::crypto::{PrivateKey, PublicKey};
pub use crate::core::policy::{PolicyError, TrustPolicy};

/// Where OCI content lives: a registry or an OCI image layout, opened from a reference.
pub use crate::oci::open::{AnyTarget, open};
pub use crate::oci::{OciError, ReadTarget, Target};
