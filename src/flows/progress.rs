//! How a flow tells its caller what it is doing: a trait with do-nothing defaults, so a server
//! passes [`Silent`] and the CLI draws bars.

use super::register::Registration;
use crate::core::manifest::{NoProgress, Progress as HashProgress};
use crate::oci::target::{Quiet, TransferProgress};

/// The stages of [`publish`](super::publish()), in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Hashing the model into its manifest.
    Hashing,
    /// Signing the manifest as a SCITT statement.
    Signing,
    /// Pushing the manifest artifact (`files`: with the model's files as layers).
    Pushing {
        /// Whether the model's files go too.
        files: bool,
    },
    /// Registering the statement with transparency services (once the artifact is in place).
    Registering,
    /// Attaching the statement as a referrer.
    Attaching,
    /// A statement over the same manifest by the same key is attached already (an earlier
    /// run): it is used as it is, not signed (nor, with receipts, registered) again.
    Reused {
        /// The receipts it carries.
        receipts: usize,
    },
    /// The tag already names this very artifact (same layers): nothing to push.
    AlreadyPushed,
    /// The statement is attached to the artifact already.
    AlreadyAttached,
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = match self {
            Step::Hashing => "1/4 hashing the model",
            Step::Signing => "2/4 signing its manifest (SCITT signed statement)",
            Step::Reused { receipts } => {
                return write!(
                    f,
                    "2/4 reusing the statement an earlier run attached (same manifest, same key, {receipts} receipt(s)): not signed again"
                );
            }
            Step::Pushing { files: false } => "3/4 pushing the manifest",
            Step::Pushing { files: true } => "3/4 pushing the manifest and the model files",
            Step::AlreadyPushed => {
                "3/4 the tag already holds this artifact (same layers): nothing pushed"
            }
            Step::Registering => "3b registering with the transparency service(s)",
            Step::Attaching => "4/4 attaching the statement",
            Step::AlreadyAttached => "4/4 the statement is attached already",
        };
        f.write_str(text)
    }
}

/// What a flow reports while it runs. Every method has a default that does nothing.
pub trait Progress: Sync {
    /// A stage begins.
    fn step(&self, _step: Step) {}
    /// Progress of hashing a model (bytes), for as long as the returned value lives.
    fn hashing(&self) -> Box<dyn HashProgress + '_> {
        Box::new(NoProgress)
    }
    /// Progress of a transfer (`label`: "pushing", "pulling"), for as long as it lives.
    fn transfer(&self, _label: &'static str) -> Box<dyn TransferProgress + '_> {
        Box::new(Quiet)
    }
    /// A transparency service gave a receipt (and perhaps its key, to be pinned).
    fn registered(&self, _registration: &Registration) {}
}

/// Progress nobody watches.
pub struct Silent;

impl Progress for Silent {}
