//! Why a flow could not run at all (a "no" from verification is a report, not an error).

use crate::core::cose::CoseError;
use crate::core::manifest::ManifestError;
use crate::core::policy::PolicyError;
use crate::core::receipt::ReceiptError;
use crate::oci::OciError;
use crate::oci::stage::PullError;
use crate::transparency::client::ClientError;
#[cfg(feature = "log")]
use crate::transparency::log::LogError;
use std::path::PathBuf;

/// A flow could not run: no policy, an unreachable registry or service, unreadable input.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    /// No trust policy was given or found.
    #[error("{0}")]
    NoPolicy(String),
    /// The trust policy is invalid, or has no scope for the reference.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// A registry or OCI layout failed.
    #[error(transparent)]
    Oci(#[from] OciError),
    /// Pulling into the output directory could not go ahead (nothing was written).
    #[error(transparent)]
    Pull(#[from] PullError),
    /// The model could not be hashed.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// The reference names no manifest.
    #[error("{0}: add a tag (:v1) or a digest (@sha256:…)")]
    NoSelector(String),
    /// Publishing needs a tag to publish to.
    #[error("{0}: publish to a tag (…:v1)")]
    NeedTag(String),
    /// What the statements sign is not a model manifest.
    #[error("the signed payload is not a model manifest: {0}")]
    NotAManifest(String),
    /// The model to publish is not a directory.
    #[error("{0}: not a model directory")]
    NotAModel(PathBuf),
    /// The model's files cannot be published as they are (titles `pull` would refuse).
    #[error("{0}")]
    Titles(String),
    /// The statement to register is not a COSE_Sign1.
    #[error("the statement is not a COSE_Sign1: {0}")]
    Statement(#[from] CoseError),
    /// A transparency service is named neither `local:DIR` nor by an http(s) URL.
    #[error("{0}: a transparency service is `local:DIR` or an http(s) URL")]
    Service(String),
    /// An embedded log refused or failed a registration.
    #[cfg(feature = "log")]
    #[error("registering with {service}")]
    Log {
        /// The service as named.
        service: String,
        /// What the log said.
        source: LogError,
    },
    /// An embedded log (`local:DIR`) was named, but modelseal was built without its `log`
    /// feature.
    #[cfg(not(feature = "log"))]
    #[error("{0}: an embedded log needs modelseal's `log` feature")]
    LogUnavailable(String),
    /// A receipt does not verify with its service's key.
    #[error("the receipt from {service} does not verify: {source}")]
    Receipt {
        /// The service as named.
        service: String,
        /// Why the receipt is refused.
        source: ReceiptError,
    },
    /// A SCRAPI service failed or refused the registration.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// A Sigstore bundle could not be made (a key model-signing and cosign cannot verify).
    #[error("the Sigstore bundle: {0}")]
    Sigstore(#[from] crate::core::sigstore::SigstoreError),
    /// A scratch file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The async runtime could not start (the synchronous entry points).
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
}
