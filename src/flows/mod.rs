//! The workflows a release job, a model server or an admission controller runs, as library
//! calls: each takes a typed request, returns a typed report (or a [`FlowError`] when it could
//! not run), reports progress through [`Progress`], and never prints.
//!
//! | flow | what it does |
//! |---|---|
//! | [`publish()`] | hash a model, sign its manifest, register it, push it, attach the statement |
//! | [`seal()`] | seal a ModelPack artifact another tool pushed, hashed from its layers' descriptors |
//! | [`register()`] | make a signed statement transparent: receipts from `local:DIR` logs and SCRAPI services |
//! | [`verify_artifact()`] | an artifact's referrers against the trust policy (`discover --verify`) |
//! | [`pull_verified()`] | pull an artifact so that nothing unverified reaches the output directory |
//! | [`verify_model()`] | a model on disk against a verified manifest (verify before load) |
//!
//! What the trust policy decides from the checked statements (what counts, level, enforced, the
//! reasons) is in [`decide`].

#![deny(missing_docs)]

pub mod decide;
mod error;
mod open;
mod progress;
pub mod publish;
pub mod pull_verified;
pub mod register;
pub mod seal;
mod sigstore_bundle;
pub mod verify_artifact;
pub mod verify_model;

pub use decide::{TreeVerdict, VerifiedReferrer};
pub use error::FlowError;
pub use open::Artifact;
pub use progress::{Progress, Silent, Step};
pub use publish::{Attached, PublishReport, PublishRequest, publish};
pub use pull_verified::{PullVerifiedRequest, VerifiedPull, VerifiedPullOptions, pull_verified};
pub use register::{RegisterReport, RegisterRequest, Registration, Service, register};
pub use seal::{ModelArtifact, SealReport, SealRequest, hash_from_oci, seal};
pub use verify_artifact::verify_artifact;
pub use verify_model::{ModelCheck, ModelVerdict, verify_model, verify_model_async};
