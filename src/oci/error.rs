//! The one error type of `oci`: what went wrong with a registry, a layout or an OCI document.

use std::path::PathBuf;

/// Why an `oci` operation failed, against a registry or an OCI image layout.
#[derive(Debug, thiserror::Error)]
pub enum OciError {
    /// Reading or writing a local file failed: a layout's blobs or `index.json`, a pulled file,
    /// a model file being pushed, a tar archive.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A tag, manifest or blob is not in the target (a registry's 404, a tag missing from a
    /// layout's `index.json`, a blob file missing under `blobs/sha256/`). Holds the name as
    /// `ReadTarget::name_of` spells it.
    #[error("{0}: not found")]
    NotFound(String),
    /// Not found, and the registry said why: no such repository (`NAME_UNKNOWN`), or no such
    /// tag or manifest in one that exists (`MANIFEST_UNKNOWN`).
    #[error("{name}: not found: {reason}")]
    NotFoundBecause {
        /// The reference, `host/repo:tag` or `host/repo@digest`.
        name: String,
        /// Which part is missing.
        reason: String,
    },
    /// Fetched or pushed bytes do not hash to the descriptor's digest.
    #[error("{what}: digest mismatch, expected {expected}, got {actual}")]
    DigestMismatch {
        /// The blob or manifest, as named in output.
        what: String,
        /// The digest the descriptor or reference names (`sha256:<64 hex>`).
        expected: String,
        /// The digest of the bytes received.
        actual: String,
    },
    /// A reference (`host/repo[:tag][@sha256:…]`, `dir[:tag]`) or a digest does not parse:
    /// an empty repository, a bad tag, a digest that is not `sha256:` and 64 lowercase hex.
    #[error("invalid reference '{reference}': {reason}")]
    BadReference {
        /// The reference as given.
        reference: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A manifest, index, config or layout `index.json` is not what image-spec 1.1 says it is:
    /// not JSON, a missing field, an unexpected media type, a ModelPack config that breaks its
    /// spec.
    #[error("{what} is not a valid OCI document: {reason}")]
    BadDocument {
        /// The document, as named in output.
        what: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A manifest or index (the name, then the limit in bytes) is bigger than
    /// [`MAX_MANIFEST_BYTES`](super::target::MAX_MANIFEST_BYTES): refused before it is parsed.
    #[error("{0} is larger than the {1}-byte limit for a manifest")]
    ManifestTooLarge(String, usize),
    /// The registry refused or cannot be reached and a retry would not help: 4xx answers other
    /// than 404, authentication failures, a token realm that breaks the realm rule, a connect
    /// error or timeout.
    #[error("registry: {0}")]
    Registry(String),
    /// A failure worth retrying: 5xx, a reset or dropped connection.
    #[error("registry: {0}")]
    Transient(String),
    /// On a registry without the referrers API, the tag-schema index (`sha256-<hex>` tag) for a
    /// subject was rewritten by another client on every read-modify-write attempt.
    #[error("the referrers index for {subject} kept changing under us after {attempts} attempts")]
    ReferrersContention {
        /// The subject's digest.
        subject: String,
        /// How many read-modify-write attempts were made.
        attempts: usize,
    },
}

impl OciError {
    /// An [`OciError::Io`] about `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        OciError::Io {
            path: path.into(),
            source,
        }
    }
}

/// The result of every fallible `oci` function.
pub type Result<T> = std::result::Result<T, OciError>;
