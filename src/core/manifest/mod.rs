//! Model manifests: hashing a model into the in-toto statement that sigstore's model-signing
//! signs, reading such statements back, and checking a model against one.

mod algorithm;
mod check;
mod engine;
mod error;
mod signed;
mod statement;
mod walk;

pub use algorithm::{HashAlgorithm, StreamHasher, hash_stream, sha256};
pub use check::{CheckReport, check_model, compare};
pub use engine::{
    DEFAULT_SHARD_SIZE, GIT_PATHS, HashConfig, NoProgress, Progress, Serialization, hash_model,
};
pub use error::ManifestError;
pub use signed::{check_signed_model, is_manifest_copy, is_manifest_copy_entry, manifest_copies};
pub use statement::{
    IN_TOTO_PAYLOAD_TYPE, LEGACY_PREDICATE_TYPE, ManifestFormat, ModelManifest, PREDICATE_TYPE,
    Resource, STATEMENT_TYPE, SerializationInfo,
};
pub use walk::{Components, SymlinkPolicy, components_of};

use std::io::Read;
use std::path::Path;

/// A manifest is a list of digests; anything larger than this is not one (a 1 TB model in 1 MB
/// shards needs about 200 MB, which no one signs).
pub const MAX_MANIFEST_BYTES: u64 = 256 << 20;

/// Reads a manifest (statement or Sigstore bundle) from a file, refusing oversized input.
pub fn read_manifest(path: &Path) -> Result<ModelManifest, ManifestError> {
    let file = std::fs::File::open(path).map_err(|e| ManifestError::io(path, e))?;
    let mut bytes = Vec::new();
    file.take(MAX_MANIFEST_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ManifestError::io(path, e))?;
    let invalid = |reason: String| ManifestError::InvalidManifest {
        path: path.to_path_buf(),
        reason,
    };
    if bytes.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(invalid(format!("larger than {MAX_MANIFEST_BYTES} bytes")));
    }
    ModelManifest::from_json(&bytes).map_err(invalid)
}
